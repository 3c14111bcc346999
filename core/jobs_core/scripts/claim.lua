#!lua
--[[ claim: promote due delayed jobs, re-run stalled tries, then take up to `count` ready jobs for one
  worker. A claimed job leaves the ready set (which holds waiting jobs only) for the active set, scored
  by its lease deadline; the worker pushes the deadline forward (extend_leases). A try whose deadline
  passed (worker killed or cut off) is stalled: the next claim re-runs it at the same attempt, counted
  against max stalls. A lease key of the previous design (arq's in-progress key, set by a worker of an
  older version during a rolling upgrade) still protects its try.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] worker id, ARGV[4] lease ms, ARGV[5] count,
  ARGV[6] max stalls, ARGV[7..] queues to serve, in the order to try them.
  Returns {nextDueMs (the next delayed job due or lease deadline; -1: none), more (0/1), n, then n × 12
           fields: id, queue, type, payload, attempt, maxAttempts, timeout, priority, token, backoff,
           backoffDelay, createdAt}.
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
local deadline = NOW + lease_ms

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
  set_state(P, id, queue, 'active', 'failed', NOW)
  count(P, queue, 'failed', 1, NOW)
  count(P, queue, 'failed:' .. f[2], 1, NOW)
  emit(P, queue, id, 'active', 'failed', NOW, {'attempt', f[4], 'error', msg})
  fail_dependents(P, id, 'failed', NOW)
  return true
end

-- f: the FIELDS of a job that is waiting (taken from the ready set) or active (its lease ran out).
local function claim_one(id, queue, f, ready_score)
  local status, attempt = f[1], tonumber(f[4])
  if status == 'active' then
    if too_many_stalls(id, queue, f) then return end
  else
    attempt = attempt + 1
  end
  local claims = tonumber(f[8]) + 1
  local token = worker .. ':' .. claims
  -- readyScore: the place in the ready set, given back if the try is handed back untouched (requeue).
  set_state(P, id, queue, status, 'active', deadline,
            {'attempt', attempt, 'claims', claims, 'token', token, 'worker', worker, 'startedAt', NOW,
             'readyScore', ready_score or ''})
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

-- Active tries whose lease deadline passed, oldest first; re-run unless an old-style lease key holds.
local function claim_stalled(queue)
  local ak = k_state(P, queue, 'active')
  local ids = redis.call('ZRANGEBYSCORE', ak, '-inf', NOW - 1, 'LIMIT', 0, want - claimed)
  for _, id in ipairs(ids) do
    if redis.call('EXISTS', k_lease(P, id)) == 0 then
      local f = redis.call('HMGET', k_job(P, id), unpack(FIELDS))
      if f[1] == 'active' then claim_one(id, queue, f, nil) else redis.call('ZREM', ak, id) end
    end
  end
end

-- Ready jobs in priority order; every id looked at leaves the ready set: claimed, or stale (a member
-- whose job is no longer waiting: cancelled, removed, or active under a worker of an older version).
local function claim_ready(queue)
  local rk = k_ready(P, queue)
  while claimed < want do
    local entries = redis.call('ZRANGE', rk, 0, want - claimed - 1, 'WITHSCORES')
    if #entries == 0 then return end
    local seen = {}
    for i = 1, #entries, 2 do
      local id = entries[i]
      seen[#seen + 1] = id
      local f = redis.call('HMGET', k_job(P, id), unpack(FIELDS))
      if f[1] == 'waiting' then claim_one(id, queue, f, entries[i + 1]) end
    end
    redis.call('ZREM', rk, unpack(seen))
  end
  if redis.call('ZCARD', rk) > 0 then more = 1 end
end

-- The earliest future score of a set (a delayed job's due time, an active try's lease deadline): the
-- worker sleeps until then at most, so that a due job starts, or a stalled try re-runs, on time.
local next_due = -1
-- A past lease deadline that could not be taken (an old-style lease key holds it) must not make the
-- worker spin, hence `from`; delayed jobs still due after promote_due's 500 do wake it at once.
local function due_in(key, from)
  local first = redis.call('ZRANGEBYSCORE', key, from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first > 0 and (next_due < 0 or tonumber(first[2]) < next_due) then next_due = tonumber(first[2]) end
end

for i = 7, #ARGV do
  local queue = ARGV[i]
  promote_due(queue)
  if redis.call('EXISTS', k_paused(P, queue)) == 0 then
    if claimed < want then claim_stalled(queue) end
    if claimed < want then claim_ready(queue) else more = 1 end
    due_in(k_state(P, queue, 'active'), '(' .. NOW)
  end
  due_in(k_state(P, queue, 'delayed'), '-inf')
end
for queue, w in pairs(waits) do count_many(P, queue, w, NOW) end
out[1], out[2], out[3] = next_due, more, claimed
return out
