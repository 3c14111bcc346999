#!lua
--[[ claim: promote due delayed jobs, then take up to `count` ready jobs for one worker.
  The claimed job stays in arq's ready set (as in arq) while its lease key lives; a lease that expires
  (worker killed) makes it claimable again at its old place: a stall, counted against max stalls.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] worker id, ARGV[4] lease ms, ARGV[5] count,
  ARGV[6] max stalls, ARGV[7..] queues to serve, in the order to try them.
  Returns {nextDueMs or -1, more (0/1), n, then n × 12 fields: id, queue, type, payload, attempt,
           maxAttempts, timeout, priority, token, backoff, backoffDelay, createdAt}.
  Events: delayed -> waiting (promotion), waiting -> active, active -> active (stall re-run),
          active -> failed (too many stalls).
  Counters (lib/events.lua count, once per queue and field): wait_ms:<le> and wait_ms_sum for every
  claimed try (time since it became ready); failed and failed:<type> for a job failed by stalls.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/cascade.lua

local worker, lease_ms = ARGV[3], tonumber(ARGV[4])
local want, max_stalls = tonumber(ARGV[5]), tonumber(ARGV[6])
local claimed, more = 0, 0
local waits = {}  -- queue -> counter field -> n (wait histogram and its sum), written once per queue
local out = {-1, 0, 0}  -- header filled in at the end; avoids unpack() limits on big batches
local FIELDS = {'status', 'type', 'payload', 'attempt', 'maxAttempts', 'timeout', 'priority',
                'claims', 'stalls', 'backoff', 'backoffDelay', 'createdAt', 'readyAt'}

local function promote_due(queue)
  local due = redis.call('ZRANGEBYSCORE', k_state(P, queue, 'delayed'), '-inf', NOW, 'LIMIT', 0, 500)
  for _, id in ipairs(due) do
    local f = redis.call('HMGET', k_job(P, id), 'status', 'priority', 'attempt')
    if f[1] == 'delayed' then
      make_ready(P, id, queue, f[2], 'delayed', NOW)
      emit(P, queue, id, 'delayed', 'waiting', NOW, {'attempt', f[3]})
    else
      redis.call('ZREM', k_state(P, queue, 'delayed'), id)
    end
  end
end

-- A stalled try (lease expired while active) is re-run at the same attempt, or failed past max stalls.
local function too_many_stalls(id, queue, f)
  local stalls = tonumber(f[9]) + 1
  redis.call('HSET', k_job(P, id), 'stalls', stalls)
  if stalls <= max_stalls then return false end
  local msg = 'job stalled ' .. stalls .. ' times: its worker was lost each time'
  redis.call('HSET', k_job(P, id), 'error', msg, 'finishedAt', NOW)
  redis.call('ZREM', k_ready(P, queue), id)
  set_state(P, id, queue, 'active', 'failed', NOW)
  count(P, queue, 'failed', 1, NOW)
  count(P, queue, 'failed:' .. f[2], 1, NOW)
  emit(P, queue, id, 'active', 'failed', NOW, {'attempt', f[4], 'error', msg})
  fail_dependents(P, id, 'failed', NOW)
  return true
end

local function claim_one(id, queue)
  local f = redis.call('HMGET', k_job(P, id), unpack(FIELDS))
  local status = f[1]
  if status ~= 'waiting' and status ~= 'active' then
    redis.call('ZREM', k_ready(P, queue), id)  -- stale member: cancelled, removed or finished
    return
  end
  local attempt = tonumber(f[4])
  if status == 'active' then
    if too_many_stalls(id, queue, f) then return end
  else
    attempt = attempt + 1
  end
  local claims = tonumber(f[8]) + 1
  local token = worker .. ':' .. claims
  redis.call('SET', k_lease(P, id), token, 'PX', lease_ms)
  set_state(P, id, queue, status, 'active', NOW,
            {'attempt', attempt, 'claims', claims, 'token', token, 'worker', worker, 'startedAt', NOW})
  emit(P, queue, id, status, 'active', NOW, {'attempt', tostring(attempt)})
  local waited = math.max(NOW - (tonumber(f[13]) or NOW), 0)
  local w = waits[queue] or {}
  waits[queue] = w
  local wb = 'wait_ms:' .. bucket(waited)
  w[wb] = (w[wb] or 0) + 1
  w.wait_ms_sum = (w.wait_ms_sum or 0) + waited
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4] = id, queue, f[2], f[3]
  out[n + 5], out[n + 6], out[n + 7], out[n + 8] = attempt, f[5], f[6], f[7]
  out[n + 9], out[n + 10], out[n + 11], out[n + 12] = token, f[10], f[11], f[12]
  claimed = claimed + 1
end

local function claim_from(queue)
  local rk, start, chunk = k_ready(P, queue), 0, want - claimed + 16
  while claimed < want do
    local ids = redis.call('ZRANGE', rk, start, start + chunk - 1)
    if #ids == 0 then return end
    for _, id in ipairs(ids) do
      if redis.call('EXISTS', k_lease(P, id)) == 0 then claim_one(id, queue) end
      if claimed >= want then more = 1; return end
    end
    start = start + chunk
  end
end

local next_due = -1
for i = 7, #ARGV do
  local queue = ARGV[i]
  promote_due(queue)
  if claimed < want and redis.call('EXISTS', k_paused(P, queue)) == 0 then claim_from(queue) end
  local first = redis.call('ZRANGE', k_state(P, queue, 'delayed'), 0, 0, 'WITHSCORES')
  if #first > 0 and (next_due < 0 or tonumber(first[2]) < next_due) then next_due = tonumber(first[2]) end
end
for queue, w in pairs(waits) do
  for field, n in pairs(w) do count(P, queue, field, n, NOW) end
end
out[1], out[2], out[3] = next_due, more, claimed
return out
