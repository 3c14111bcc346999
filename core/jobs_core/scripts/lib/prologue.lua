-- Common ARGV head of every job script: ARGV[1] key prefix, ARGV[2] event stream MAXLEN.
-- NOW comes from Redis's clock so that every process agrees on what "due" means.
local P = ARGV[1]
local EVENTS_MAXLEN = ARGV[2]
local _now = redis.call('TIME')
local NOW = tonumber(_now[1]) * 1000 + math.floor(tonumber(_now[2]) / 1000)

-- The first n bytes of s, shortened to end on a whole UTF-8 character (readers decode strictly).
-- Texts that come from processors (errors, log lines) are bounded with it before they are stored.
local function cut(s, n)
  if #s <= n then return s end
  local b = string.byte(s, n + 1)
  while n > 0 and b >= 128 and b < 192 do
    n = n - 1
    b = string.byte(s, n + 1)
  end
  return string.sub(s, 1, n)
end
