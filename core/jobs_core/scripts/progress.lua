#!lua
--[[ progress: a running try reports 0..100. Ignored when the try no longer owns the job (fenced).
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] id, ARGV[4] token, ARGV[5] progress.
  Returns 1 when recorded, 0 when fenced.
  Events: active -> active with progress.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/finish.lua

local id, token = ARGV[3], ARGV[4]
if not owns_try(P, id, token) then return 0 end
local f = redis.call('HMGET', k_job(P, id), 'queue', 'attempt')
redis.call('HSET', k_job(P, id), 'progress', ARGV[5])
emit(P, f[1], id, 'active', 'active', NOW, {'progress', ARGV[5], 'attempt', f[2]})
return 1
