#!lua flags=allow-oom
--[[ release_leader: give the lease up at once (SIGTERM), so a standby need not wait for it to expire.
  KEYS[1] leader key, KEYS[2] epoch counter
  ARGV[1] caller's token, ARGV[2] caller's epoch
  Returns 1  released
          0  not held by this term any more: nothing deleted (never removes another replica's lease)
  Flags: allow-oom. It only deletes.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
