#!lua
--[[ resume: clear the pause flag and wake every worker of the queue at once (broadcast, not a token,
  since all of them stand idle).
  KEYS[1] the queue's paused flag.
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] queue, ARGV[4] control channel.
  Returns 1 when the queue was paused, 0 when it was running.
  Events: a queue event (job '', from paused, to running).
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua

if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[4], 'wake ' .. ARGV[3])
emit(P, ARGV[3], '', 'paused', 'running', NOW)
return 1
