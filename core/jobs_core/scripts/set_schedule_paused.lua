#!lua
--[[ set_schedule_paused: pause a schedule (it creates no jobs) or resume it.
  KEYS[1] definitions, KEYS[2] this schedule's state, KEYS[3] version counter
  ARGV[1] schedule id, ARGV[2] '1' pause | '0' resume, ARGV[3] channel
  Returns 1 changed, 0 already in that state, -11 no such schedule.
  Resume sets notBefore = Redis now: fire times that passed while paused are not caught up.
  Events: PUBLISH ARGV[3] '{version} pause|resume {id}' when changed.
]]
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -11 end
if redis.call('HGET', KEYS[2], 'paused') == ARGV[2] then return 0 end
redis.call('HSET', KEYS[2], 'paused', ARGV[2])
local action = 'pause'
if ARGV[2] == '0' then
  local t = redis.call('TIME')
  redis.call('HSET', KEYS[2], 'notBefore', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  action = 'resume'
end
local version = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[3], version .. ' ' .. action .. ' ' .. ARGV[1])
return 1
