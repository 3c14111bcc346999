#!lua
--[[ requeue: hand running tries back untouched (worker shutting down, or fencing itself after losing
  Redis). The job gets its place in the ready set back (the score its claim noted) and its attempt
  number: the try did not count.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3..] pairs: id, token.
  Returns the number of jobs handed back.
  Events: active -> waiting.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/finish.lua

local n = 0
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  if owns_try(P, id, token) then
    local f = redis.call('HMGET', k_job(P, id), 'queue', 'attempt', 'readyScore', 'priority')
    redis.call('HSET', k_job(P, id), 'attempt', math.max(tonumber(f[2]) - 1, 0))
    if f[3] and f[3] ~= '' then
      redis.call('ZADD', k_ready(P, f[1]), f[3], id)
      set_state(P, id, f[1], 'active', 'waiting', NOW)
    else
      make_ready(P, id, f[1], f[4], 'active', NOW)
    end
    emit(P, f[1], id, 'active', 'waiting', NOW, {'attempt', f[2]})
    local wk = k_wake(P, f[1])
    if redis.call('LLEN', wk) < 16 then redis.call('LPUSH', wk, '1') end
    n = n + 1
  end
end
return n
