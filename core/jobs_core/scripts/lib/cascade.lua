-- Dependencies: release children when a parent completes; fail them (transitively) when it fails
-- for good or is cancelled. A stack instead of recursion keeps long chains inside Lua's C stack.
-- fail_dependents returns the set of queues it failed jobs in, so that the caller can apply retention
-- there too (a queue whose jobs only ever fail this way would otherwise keep them all).
local function release_dependents(P, parent, now)
  local children = redis.call('SMEMBERS', k_dependents(P, parent))
  for _, child in ipairs(children) do
    redis.call('SREM', k_deps(P, child), parent)
    if redis.call('SCARD', k_deps(P, child)) == 0 then
      local f = redis.call('HMGET', k_job(P, child), 'status', 'queue', 'priority', 'runAt')
      if f[1] == 'blocked' then
        local state = schedule(P, child, f[2], f[3], 'blocked', tonumber(f[4]) or 0, now)
        emit(P, f[2], child, 'blocked', state, now, {'attempt', '0'})
      end
    end
  end
end

local function fail_dependents(P, parent, reason, now)
  local stack, touched = {{parent, reason}}, {}
  while #stack > 0 do
    local top = table.remove(stack)
    local children = redis.call('SMEMBERS', k_dependents(P, top[1]))
    for _, child in ipairs(children) do
      local f = redis.call('HMGET', k_job(P, child), 'status', 'queue', 'type')
      if f[1] == 'blocked' then
        local msg = 'dependency ' .. top[1] .. ' ' .. top[2]
        redis.call('HSET', k_job(P, child), 'error', msg, 'finishedAt', now)
        set_state(P, child, f[2], 'blocked', 'failed', now)
        count(P, f[2], 'failed', 1, now)
        emit(P, f[2], child, 'blocked', 'failed', now, {'attempt', '0', 'error', msg})
        stack[#stack + 1] = {child, 'failed'}
        touched[f[2]] = true
      end
    end
  end
  return touched
end
