-- Creating jobs: shared by `enqueue` (API, bulk, dashboard) and `fire_schedule` (scheduler), so a job
-- is the same whoever made it. A spec is a table decoded from JSON by the caller:
--   id, type, queue, priority, payload (JSON text), options (JSON text), runAt (ms, 0 = none) or
--   delay (ms from Redis's now), maxAttempts,
--   backoff, backoffDelay, timeout (ms), dependsOn (array of ids), removeOnComplete, removeOnFail
--   (-1 = queue default, 0 = remove at once, N = keep newest N), scheduleId (optional).

-- Checks a whole batch before anything is written. Returns nil when it may be stored, else
-- {code, detail}: -3 unknown dependency, -4 queue full. `existing[i]` is set for ids already stored.
-- A dependency must exist already or come earlier in the batch, so no request can build a cycle.
-- The per-queue cap counts the jobs that will enter waiting or delayed: a job that will be blocked
-- (a dependency not completed yet) or failed at once (a dependency failed) is not held against it.
local function validate_batch(P, specs, max_per_queue)
  local existing, new_ids, per_queue = {}, {}, {}
  for i, s in ipairs(specs) do
    if redis.call('EXISTS', k_job(P, s.id)) == 1 then
      existing[i] = true
    else
      local ready = true
      for _, dep in ipairs(s.dependsOn or {}) do
        if new_ids[dep] then
          ready = false
        else
          local st = redis.call('HGET', k_job(P, dep), 'status')
          if not st then return nil, {-3, dep} end
          if st ~= 'completed' then ready = false end
        end
      end
      if ready then per_queue[s.queue] = (per_queue[s.queue] or 0) + 1 end
      new_ids[s.id] = true
    end
  end
  for queue, n in pairs(per_queue) do
    local held = redis.call('ZCARD', k_state(P, queue, 'waiting'))
               + redis.call('ZCARD', k_state(P, queue, 'delayed'))
    if held + n > max_per_queue then return nil, {-4, queue} end
  end
  return existing, nil
end

-- Registers dependencies; returns the number still pending, or the id of one that already failed.
local function link_dependencies(P, s)
  local pending = 0
  for _, dep in ipairs(s.dependsOn or {}) do
    local st = redis.call('HGET', k_job(P, dep), 'status')
    if st == 'failed' or st == 'cancelled' then return pending, dep, st end
    if st ~= 'completed' then
      redis.call('SADD', k_deps(P, s.id), dep)
      redis.call('SADD', k_dependents(P, dep), s.id)
      redis.call('HSET', k_job(P, dep), 'hasDependents', 1)
      pending = pending + 1
    end
  end
  return pending, nil, nil
end

-- Stores one validated spec; returns its first state.
local function create_job(P, s, now)
  local run_at = tonumber(s.runAt) or 0
  if (tonumber(s.delay) or 0) > 0 then run_at = now + tonumber(s.delay) end
  local deps_json = '[]'
  if s.dependsOn and #s.dependsOn > 0 then deps_json = cjson.encode(s.dependsOn) end
  redis.call('HSET', k_job(P, s.id),
    'id', s.id, 'type', s.type, 'queue', s.queue, 'priority', s.priority,
    'payload', s.payload, 'options', s.options or '{}', 'progress', 0, 'attempt', 0,
    'maxAttempts', s.maxAttempts, 'backoff', s.backoff, 'backoffDelay', s.backoffDelay,
    'timeout', s.timeout, 'createdAt', now, 'runAt', run_at, 'claims', 0, 'stalls', 0,
    'dependsOn', deps_json, 'removeOnComplete', s.removeOnComplete, 'removeOnFail', s.removeOnFail,
    'scheduleId', s.scheduleId or '')
  redis.call('ZADD', k_type(P, s.queue, s.type), now, s.id)
  redis.call('SADD', k_queues(P), s.queue)
  count(P, s.queue, 'created', 1, now)
  local pending, dead, dead_state = link_dependencies(P, s)
  local state
  if dead then
    local msg = 'dependency ' .. dead .. ' ' .. dead_state
    redis.call('HSET', k_job(P, s.id), 'error', msg, 'finishedAt', now)
    set_state(P, s.id, s.queue, nil, 'failed', now)
    count(P, s.queue, 'failed', 1, now)
    state = 'failed'
  elseif pending > 0 then
    set_state(P, s.id, s.queue, nil, 'blocked', now)
    state = 'blocked'
  else
    state = schedule(P, s.id, s.queue, s.priority, nil, run_at, now)
  end
  emit(P, s.queue, s.id, '', state, now, {'attempt', '0', 'type', s.type})
  return state
end
