#!lua
--[[ append_log: keep a line written by job.log(), capped to the newest lines.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen (unused), ARGV[3] id, ARGV[4] token, ARGV[5] line (JSON text:
  at, attempt, message and the caller's fields), ARGV[6] cap (lines kept per job).
  A line longer than MAX_LINE bytes is kept as {at, attempt, message cut to MAX_MESSAGE bytes,
  truncated: true}, without the other fields, so that the cap bounds memory, not only the line count.
  Returns 1 when kept, 0 when the try is fenced.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/finish.lua

local MAX_LINE, MAX_MESSAGE = 16384, 8192

local id, token, line = ARGV[3], ARGV[4], ARGV[5]
if not owns_try(P, id, token) then return 0 end
if #line > MAX_LINE then
  local ok, parsed = pcall(cjson.decode, line)
  if not ok or type(parsed) ~= 'table' then parsed = {} end
  local message = parsed.message
  if type(message) ~= 'string' then message = line end
  line = cjson.encode({at = tonumber(parsed.at) or NOW, attempt = parsed.attempt,
                       message = cut(message, MAX_MESSAGE), truncated = true})
end
redis.call('RPUSH', k_logs(P, id), line)
redis.call('LTRIM', k_logs(P, id), -tonumber(ARGV[6]), -1)
return 1
