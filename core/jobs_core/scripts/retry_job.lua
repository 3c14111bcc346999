--[[ retry_job: run a failed or cancelled job again from its first attempt (POST /jobs/:id/retry).
  Its dependencies are checked again: it waits (blocked) for unfinished ones and is refused while one
  of them is failed or cancelled.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] job id.
  Returns {1, new state}, {-1} unknown job, {-2, state} not failed/cancelled,
          {-5, dependencyId, its state} a dependency is failed or cancelled.
  Events: failed|cancelled -> waiting|delayed|blocked.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua

local id = ARGV[3]
local f = redis.call('HMGET', k_job(P, id), 'status', 'queue', 'priority', 'dependsOn')
local status, queue, priority = f[1], f[2], f[3]
if not status then return {-1} end
if status ~= 'failed' and status ~= 'cancelled' then return {-2, status} end
local deps = cjson.decode(f[4] or '[]')
local pending = {}
for _, dep in ipairs(deps) do
  local st = redis.call('HGET', k_job(P, dep), 'status')
  if st == 'failed' or st == 'cancelled' then return {-5, dep, st} end
  if st and st ~= 'completed' then pending[#pending + 1] = dep end
end
redis.call('HSET', k_job(P, id), 'attempt', 0, 'progress', 0, 'stalls', 0, 'runAt', 0)
redis.call('HDEL', k_job(P, id), 'finishedAt', 'startedAt', 'result', 'error', 'stack', 'token')
local state
if #pending > 0 then
  for _, dep in ipairs(pending) do
    redis.call('SADD', k_deps(P, id), dep)
    redis.call('SADD', k_dependents(P, dep), id)
  end
  set_state(P, id, queue, status, 'blocked', NOW)
  state = 'blocked'
else
  make_ready(P, id, queue, priority, status, NOW)
  state = 'waiting'
end
emit(P, queue, id, status, state, NOW)
return {1, state}
