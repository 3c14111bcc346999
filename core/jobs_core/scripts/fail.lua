#!lua
--[[ fail: end a batch of tries that failed for good (attempts used up, timeout on the last try,
  UnrecoverableError, no processor). Dependents fail too, transitively, naming this job.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] failed jobs kept per queue,
  ARGV[4] max age of failed jobs (ms, 0 = no limit), ARGV[5..] groups of 5:
  id, token, error message, stack text, duration (ms).
  Returns the number of tries recorded; fenced tries are skipped.
  Retention: a job's own removeOnFail wins (0 deletes it, N trims the failed set to the newest N); the
  failed set of each queue where a job without its own setting failed, or where dependents failed in
  turn, is trimmed to ARGV[3] jobs and ARGV[4] ms.
  Events: active -> failed (with error), blocked -> failed for dependents.
  Counters (once per queue and field): failed, failed:<type>, run_ms:<le>, run_ms_sum.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/cascade.lua
--!include lib/retention.lua
--!include lib/finish.lua

local keep, max_age = tonumber(ARGV[3]), tonumber(ARGV[4])
local done, t, trim = 0, {}, {}
for i = 5, #ARGV, 5 do
  local id, token, err = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if owns_try(P, id, token) then
    local f = redis.call('HMGET', k_job(P, id), 'queue', 'type', 'attempt', 'removeOnFail')
    local queue = f[1]
    record_error(P, id, tonumber(f[3]), err, ARGV[i + 3], NOW)
    redis.call('HSET', k_job(P, id), 'finishedAt', NOW, 'duration', ARGV[i + 4])
    set_state(P, id, queue, 'active', 'failed', NOW)
    emit(P, queue, id, 'active', 'failed', NOW, {'attempt', f[3], 'error', err})
    tally(t, queue, 'failed', 1)
    tally(t, queue, 'failed:' .. f[2], 1)
    tally(t, queue, 'run_ms:' .. bucket(tonumber(ARGV[i + 4])), 1)
    tally(t, queue, 'run_ms_sum', tonumber(ARGV[i + 4]))
    for q, _ in pairs(fail_dependents(P, id, 'failed', NOW)) do trim[q] = true end
    if not apply_retention(P, id, queue, 'failed', f[2], tonumber(f[4]) or -1) then
      trim[queue] = true
    end
    done = done + 1
  end
end
flush_tally(P, t, NOW)
for queue, _ in pairs(trim) do trim_state(P, queue, 'failed', keep, max_age, NOW) end
return done
