#!lua
--[[ cancel: stop a job that has not finished. A running try is fenced at once (its lease is dropped,
  so its result, progress and logs are refused) and the workers are told to interrupt it.
  Blocked dependents fail, naming this job.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] job id, ARGV[4] control channel,
  ARGV[5] failed (and cancelled) jobs kept per queue, ARGV[6] their max age (ms, 0 = no limit).
  Returns {1, previous state}, {-1} unknown job, {-2, state} already finished.
  Retention: the queue's cancelled set, and the failed set of each queue where dependents failed, are
  trimmed to ARGV[5] jobs and ARGV[6] ms (cancelled jobs would otherwise pile up for ever).
  Events: waiting|delayed|blocked|active -> cancelled.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/cascade.lua
--!include lib/retention.lua

local id = ARGV[3]
local f = redis.call('HMGET', k_job(P, id), 'status', 'queue', 'attempt')
local status, queue = f[1], f[2]
if not status then return {-1} end
if status == 'completed' or status == 'failed' or status == 'cancelled' then return {-2, status} end
redis.call('ZREM', k_ready(P, queue), id)
if status == 'active' then
  redis.call('PUBLISH', ARGV[4], 'cancel ' .. id)
elseif status == 'blocked' then
  for _, dep in ipairs(redis.call('SMEMBERS', k_deps(P, id))) do
    redis.call('SREM', k_dependents(P, dep), id)
  end
end
redis.call('HSET', k_job(P, id), 'finishedAt', NOW, 'error', 'cancelled')
set_state(P, id, queue, status, 'cancelled', NOW)
count(P, queue, 'cancelled', 1, NOW)
emit(P, queue, id, status, 'cancelled', NOW, {'attempt', f[3]})
local keep, max_age = tonumber(ARGV[5]), tonumber(ARGV[6])
for q, _ in pairs(fail_dependents(P, id, 'cancelled', NOW)) do
  trim_state(P, q, 'failed', keep, max_age, NOW)
end
trim_state(P, queue, 'cancelled', keep, max_age, NOW)
return {1, status}
