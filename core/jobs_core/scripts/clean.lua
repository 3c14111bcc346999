#!lua flags=allow-oom
--[[ clean: delete finished jobs of one state older than a grace period (POST /queues/:name/clean).
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] queue, ARGV[4] state (completed|failed|cancelled),
  ARGV[5] grace (ms), ARGV[6] limit.
  Returns the ids removed.
  Flags: allow-oom. It only deletes, which is how an operator frees a full Redis.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/retention.lua

local queue, state = ARGV[3], ARGV[4]
local ids = redis.call('ZRANGEBYSCORE', k_state(P, queue, state), '-inf', NOW - tonumber(ARGV[5]),
                       'LIMIT', 0, tonumber(ARGV[6]))
delete_jobs(P, queue, state, ids)
return ids
