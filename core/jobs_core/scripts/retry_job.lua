#!lua
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
--!include lib/retry.lua

local id = ARGV[3]
local f = redis.call('HMGET', k_job(P, id), 'status', 'queue', 'priority', 'dependsOn')
local status = f[1]
if not status then return {-1} end
if status ~= 'failed' and status ~= 'cancelled' then return {-2, status} end
local state, dep, dep_state = retry_one(P, id, f[2], f[3], status, f[4], NOW)
if not state then return {-5, dep, dep_state} end
return {1, state}
