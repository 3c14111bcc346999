#!lua
--[[ pause: workers stop starting jobs of this queue (the claim script checks the flag atomically);
  running jobs finish, new jobs are still accepted and wait.
  KEYS[1] the queue's paused flag.
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] queue.
  Returns 1 when the queue was running, 0 when it was already paused.
  Events: a queue event (job '', from running, to paused).
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua

local was = redis.call('SET', KEYS[1], NOW, 'NX')
if not was then return 0 end
emit(P, ARGV[3], '', 'running', 'paused', NOW)
return 1
