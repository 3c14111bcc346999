#!lua
--[[ retry_all_failed: run failed jobs of one queue again (dashboard "retry all failed"), one slice per
  call so that Redis is never blocked for long; the caller calls again while `left` > 0.
  Jobs with a failed or cancelled dependency are skipped and stay failed; they are counted in `skipped`
  and the caller passes the running total as the offset, so a slice never re-reads them.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] queue, ARGV[4] offset (skipped so far),
  ARGV[5] slice size.
  Returns {retried, skipped, left}: left = failed jobs past this slice still to look at.
  Events: failed -> waiting|blocked for each retried job.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/retry.lua

local queue, offset, size = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local zk = k_state(P, queue, 'failed')
local ids = redis.call('ZRANGE', zk, offset, offset + size - 1)
local retried, skipped = 0, 0
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', k_job(P, id), 'status', 'priority', 'dependsOn')
  if f[1] ~= 'failed' then
    redis.call('ZREM', zk, id)  -- stale member (record deleted or moved): drop it
  elseif retry_one(P, id, queue, f[2], 'failed', f[3], NOW) then
    retried = retried + 1
  else
    skipped = skipped + 1
  end
end
return {retried, skipped, math.max(redis.call('ZCARD', zk) - offset - skipped, 0)}
