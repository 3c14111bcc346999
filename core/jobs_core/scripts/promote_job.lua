#!lua
--[[ promote_job: run a delayed job now (dashboard "run now"): it joins the end of its priority band
  as if its delay had just ended. Back-off waits of a retry count as delays too.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] job id.
  Returns {1, 'waiting'}, {-1} unknown job, {-2, state} not delayed.
  Events: delayed -> waiting.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua

local id = ARGV[3]
local f = redis.call('HMGET', k_job(P, id), 'status', 'queue', 'priority', 'attempt')
local status, queue, priority = f[1], f[2], f[3]
if not status then return {-1} end
if status ~= 'delayed' then return {-2, status} end
redis.call('HSET', k_job(P, id), 'runAt', NOW)
make_ready(P, id, queue, priority, 'delayed', NOW)
emit(P, queue, id, 'delayed', 'waiting', NOW, {'attempt', f[4]})
return {1, 'waiting'}
