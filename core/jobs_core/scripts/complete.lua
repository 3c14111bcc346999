#!lua
--[[ complete: finish a batch of successful tries (written by a worker in one round trip).
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] completed jobs kept per queue,
  ARGV[4] max age of completed jobs (ms, 0 = no limit), ARGV[5..] groups of 4:
  id, token, result (JSON text), duration (ms).
  Retention: a job's own removeOnComplete wins (0 deletes it, N trims the queue's completed set to
  the newest N, as in BullMQ); the queue default (ARGV[3], ARGV[4]) is applied when a job that set
  none completes.
  Returns the number of tries recorded; a fenced try (lease lost, cancelled) is skipped silently.
  Events: active -> completed (with the result when it is at most EVENT_VALUE_MAX bytes, so that an
  event-stream client needs no read after it), blocked -> waiting|delayed for released dependents.
  Counters (once per queue and field): completed, completed:<type>, duration_ms, run_ms:<le>, run_ms_sum.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/cascade.lua
--!include lib/retention.lua
--!include lib/finish.lua

local keep, max_age = tonumber(ARGV[3]), tonumber(ARGV[4])
local done, t, by_default = 0, {}, {}
for i = 5, #ARGV, 4 do
  local id, token = ARGV[i], ARGV[i + 1]
  local f = redis.call('HMGET', k_job(P, id), 'queue', 'type', 'attempt', 'removeOnComplete',
                      'status', 'token', 'hasDependents')
  if f[5] == 'active' and f[6] == token then
    local queue = f[1]
    set_state(P, id, queue, 'active', 'completed', NOW,
              {'result', ARGV[i + 2], 'finishedAt', NOW, 'progress', 100, 'duration', ARGV[i + 3]})
    local result = ARGV[i + 2]
    if #result <= EVENT_VALUE_MAX then
      emit(P, queue, id, 'active', 'completed', NOW, {'attempt', f[3], 'result', result})
    else
      emit(P, queue, id, 'active', 'completed', NOW, {'attempt', f[3]})
    end
    tally(t, queue, 'completed', 1)
    tally(t, queue, 'completed:' .. f[2], 1)
    tally(t, queue, 'duration_ms', tonumber(ARGV[i + 3]))
    tally(t, queue, 'run_ms:' .. bucket(tonumber(ARGV[i + 3])), 1)
    tally(t, queue, 'run_ms_sum', tonumber(ARGV[i + 3]))
    if f[7] then release_dependents(P, id, NOW) end
    if not apply_retention(P, id, queue, 'completed', f[2], tonumber(f[4]) or -1) then
      by_default[queue] = true
    end
    done = done + 1
  end
end
flush_tally(P, t, NOW)
for queue, _ in pairs(by_default) do trim_state(P, queue, 'completed', keep, max_age, NOW) end
return done
