#!lua
--[[ delete_schedule: remove a schedule with its state and recent-jobs list. Jobs it created stay.
  KEYS[1] definitions, KEYS[2] this schedule's state, KEYS[3] its recent list, KEYS[4] version counter
  ARGV[1] schedule id, ARGV[2] channel
  Returns 1 deleted, -11 no such schedule.
  Events: PUBLISH ARGV[2] '{version} delete {id}'.
]]
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return -11 end
redis.call('DEL', KEYS[2], KEYS[3])
local version = redis.call('INCR', KEYS[4])
redis.call('PUBLISH', ARGV[2], version .. ' delete ' .. ARGV[1])
return 1
