#!lua
--[[ upsert_schedule: create a schedule, or replace its definition; a no-op when nothing changed.
  KEYS[1] definitions (HASH id -> JSON), KEYS[2] this schedule's state (HASH), KEYS[3] version counter
  ARGV[1] schedule id, ARGV[2] definition JSON (canonical: same definition, same text), ARGV[3] channel
  Returns {1, rev} created, {2, rev} updated, {0, rev} unchanged (the same definition was stored).
  State on create/update: rev +1, updatedAt = notBefore = Redis now (fire times up to now are not caught up
  for the new definition); createdAt and paused are set on create only, so re-declaring a schedule at
  start-up keeps it paused if an operator paused it. Last fire time and recent jobs are kept.
  Events: PUBLISH ARGV[3] '{version} upsert {id}' when created or updated.
]]
local id, def = ARGV[1], ARGV[2]
local old = redis.call('HGET', KEYS[1], id)
if old == def then
  return {0, tonumber(redis.call('HGET', KEYS[2], 'rev')) or 0}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], id, def)
if not old then
  redis.call('HSET', KEYS[2], 'createdAt', now, 'paused', 0)
end
local rev = redis.call('HINCRBY', KEYS[2], 'rev', 1)
redis.call('HSET', KEYS[2], 'updatedAt', now, 'notBefore', now)
local version = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[3], version .. ' upsert ' .. id)
if old then return {2, rev} end
return {1, rev}
