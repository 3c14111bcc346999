#!lua flags=allow-oom
--[[ renew_leader: extend the leader lease, only while the caller's term still holds it.
  KEYS[1] leader key, KEYS[2] epoch counter
  ARGV[1] caller's token, ARGV[2] lease length in ms, ARGV[3] caller's epoch
  Returns 1  extended by ARGV[2] ms from now
          0  lost: the lease expired, or another term (any replica, or this one again) took it.
             The caller stops firing at once.
  Flags: allow-oom. PEXPIRE adds nothing; a full Redis must not cost the leader its lease.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
