#!lua flags=allow-oom
--[[ extend_leases: the worker's heartbeat for its running tries. A lease is renewed only while the
  registry still names this try's token as active; otherwise the try has been taken over or
  cancelled, and the worker must stop it.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen (unused), ARGV[3] lease ms, ARGV[4..] pairs: id, token.
  Returns, for each try that is no longer the owner, its id and the job's status now (a flat list
  id1, status1, id2, …; status '' when the record is gone): 'cancelled' tells a user's cancel from a
  try taken over by another worker, whose broadcast may reach the worker after this reply.
  Flags: allow-oom. It only rewrites existing lease keys (no growth); refusing it while Redis is full
  would expire the leases of running tries and have them run twice.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/finish.lua

local lease_ms, lost = tonumber(ARGV[3]), {}
for i = 4, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  if owns_try(P, id, token) then
    redis.call('SET', k_lease(P, id), token, 'PX', lease_ms)
  else
    lost[#lost + 1] = id
    lost[#lost + 1] = redis.call('HGET', k_job(P, id), 'status') or ''
  end
end
return lost
