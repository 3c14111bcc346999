#!lua flags=allow-oom
--[[ extend_leases: the worker's heartbeat for its running tries: each lease deadline (the try's score
  in its queue's active set) moves to now + lease. A lease is renewed only while the registry still
  names this try's token as active; otherwise the try has been taken over or cancelled, and the
  worker must stop it.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen (unused), ARGV[3] lease ms, ARGV[4..] pairs: id, token.
  Returns, for each try that is no longer the owner, its id and the job's status now (a flat list
  id1, status1, id2, …; status '' when the record is gone): 'cancelled' tells a user's cancel from a
  try taken over by another worker, whose broadcast may reach the worker after this reply.
  Flags: allow-oom. It only rewrites scores of existing members (no growth); refusing it while Redis
  is full would expire the leases of running tries and have them run twice.
]]
--!include lib/prologue.lua
--!include lib/keys.lua

local deadline, lost = NOW + tonumber(ARGV[3]), {}
for i = 4, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local f = redis.call('HMGET', k_job(P, id), 'status', 'token', 'queue')
  if f[1] == 'active' and f[2] == token then
    redis.call('ZADD', k_state(P, f[3], 'active'), 'XX', deadline, id)
  else
    lost[#lost + 1] = id
    lost[#lost + 1] = f[1] or ''
  end
end
return lost
