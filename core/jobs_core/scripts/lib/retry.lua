-- Running a failed or cancelled job again from its first attempt (retry_job, retry_all_failed).
-- Needs keys.lua, events.lua and states.lua.
-- Returns the new state, or nil, dependencyId, its state when a dependency is failed or cancelled.
local function retry_one(P, id, queue, priority, status, deps_json, now)
  local pending = {}
  for _, dep in ipairs(cjson.decode(deps_json or '[]')) do
    local st = redis.call('HGET', k_job(P, dep), 'status')
    if st == 'failed' or st == 'cancelled' then return nil, dep, st end
    if st and st ~= 'completed' then pending[#pending + 1] = dep end
  end
  redis.call('HSET', k_job(P, id), 'attempt', 0, 'progress', 0, 'stalls', 0, 'runAt', 0)
  redis.call('HDEL', k_job(P, id), 'finishedAt', 'startedAt', 'result', 'error', 'stack', 'token')
  local state
  if #pending > 0 then
    for _, dep in ipairs(pending) do
      redis.call('SADD', k_deps(P, id), dep)
      redis.call('SADD', k_dependents(P, dep), id)
      redis.call('HSET', k_job(P, dep), 'hasDependents', 1)
    end
    set_state(P, id, queue, status, 'blocked', now)
    state = 'blocked'
  else
    make_ready(P, id, queue, priority, status, now)
    state = 'waiting'
  end
  emit(P, queue, id, status, state, now, {'attempt', '0'})
  return state
end
