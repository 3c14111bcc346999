-- Common ARGV head of every job script: ARGV[1] key prefix, ARGV[2] event stream MAXLEN.
-- NOW comes from Redis's clock so that every process agrees on what "due" means.
local P = ARGV[1]
local EVENTS_MAXLEN = ARGV[2]
local _now = redis.call('TIME')
local NOW = tonumber(_now[1]) * 1000 + math.floor(tonumber(_now[2]) / 1000)
