--[[ append_log: keep a line written by job.log(), capped to the newest lines.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen (unused), ARGV[3] id, ARGV[4] token, ARGV[5] line (JSON text),
  ARGV[6] cap.
  Returns 1 when kept, 0 when the try is fenced.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/finish.lua

local id, token = ARGV[3], ARGV[4]
if not owns_try(P, id, token) then return 0 end
redis.call('RPUSH', k_logs(P, id), ARGV[5])
redis.call('LTRIM', k_logs(P, id), -tonumber(ARGV[6]), -1)
return 1
