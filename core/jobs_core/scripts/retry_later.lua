#!lua
--[[ retry_later: a try failed and attempts remain: park the job until its back-off ends. It re-enters
  its priority band when due (FIFO behind jobs of the same priority), never arq's unbanded re-score.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3..] groups of 5: id, token, error message, stack,
  back-off before the next try (ms).
  Returns the earliest due time (ms) among the parked jobs, or -1 when none was parked.
  Events: active -> delayed (or -> waiting for a zero back-off), with the error.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/finish.lua

local earliest, t = -1, {}
for i = 3, #ARGV, 5 do
  local id, token, err = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if owns_try(P, id, token) then
    local f = redis.call('HMGET', k_job(P, id), 'queue', 'priority', 'attempt')
    local queue, due = f[1], NOW + tonumber(ARGV[i + 4])
    record_error(P, id, tonumber(f[3]), err, ARGV[i + 3], NOW)
    redis.call('HSET', k_job(P, id), 'runAt', due)
    local state = schedule(P, id, queue, f[2], 'active', due, NOW)
    emit(P, queue, id, 'active', state, NOW, {'attempt', f[3], 'error', err})
    tally(t, queue, 'retried', 1)
    if earliest < 0 or due < earliest then earliest = due end
  end
end
flush_tally(P, t, NOW)
return earliest
