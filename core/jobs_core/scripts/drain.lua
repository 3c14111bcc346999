#!lua
--[[ drain: remove every waiting job of a queue (and the delayed ones on request), never an active one.
  Removed jobs are deleted; jobs blocked on them fail, naming them.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] queue, ARGV[4] include delayed (0/1),
  ARGV[5] failed jobs kept per queue, ARGV[6] their max age (ms, 0 = no limit).
  Returns the number of jobs removed.
  Retention: the failed set of each queue where dependents failed is trimmed to ARGV[5] / ARGV[6].
  Events: waiting|delayed -> removed.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/cascade.lua
--!include lib/retention.lua

local queue = ARGV[3]
local states = {'waiting'}
if ARGV[4] == '1' then states[2] = 'delayed' end
local removed, touched = 0, {}
for _, state in ipairs(states) do
  for _, id in ipairs(redis.call('ZRANGE', k_state(P, queue, state), 0, -1)) do
    local f = redis.call('HMGET', k_job(P, id), 'status', 'type', 'attempt')
    if f[1] == state then
      redis.call('ZREM', k_ready(P, queue), id)
      emit(P, queue, id, state, 'removed', NOW, {'attempt', f[3]})
      for q, _ in pairs(fail_dependents(P, id, 'removed', NOW)) do touched[q] = true end
      delete_job(P, id, queue, state, f[2])
      removed = removed + 1
    end
  end
end
for q, _ in pairs(touched) do trim_state(P, q, 'failed', tonumber(ARGV[5]), tonumber(ARGV[6]), NOW) end
return removed
