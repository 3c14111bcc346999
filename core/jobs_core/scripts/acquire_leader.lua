#!lua
--[[ acquire_leader: take the scheduler's leader lease when it is free, and draw a new fencing epoch.
  KEYS[1] leader key (STRING: the holder's token, expires with the lease)
  KEYS[2] epoch counter (STRING: +1 per acquired lease, never expires)
  ARGV[1] caller's token ({host}:{pid}:{random}), ARGV[2] lease length in ms
  Returns {1, epoch}  acquired; the caller fires with this epoch until it loses the lease.
                      A caller that still holds the lease starts a new term too (new epoch), so writes
                      of its previous term are fenced.
          {0, pttl}   another replica holds the lease for pttl more ms.
]]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return {0, redis.call('PTTL', KEYS[1])}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1, redis.call('INCR', KEYS[2])}
