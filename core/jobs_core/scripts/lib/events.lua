-- Event stream and counters. EVENTS_MAXLEN is a global the loader prepends from settings via ARGV.
-- A job event has job, from ('' when created), to, at (Redis ms) and attempt (the try it concerns;
-- tries made so far outside a try), plus progress, error or type where they apply. A queue event
-- (pause, resume) has job ''. A value longer than EVENT_VALUE_MAX bytes (an error message) is cut,
-- so that the capped stream is bounded in bytes too; the job record keeps the longer text.
local EVENT_VALUE_MAX = 2048
local function emit(P, queue, id, from, to, now, extra)
  local args = {k_events(P, queue), 'MAXLEN', '~', EVENTS_MAXLEN, '*',
                'job', id, 'from', from, 'to', to, 'at', tostring(now)}
  if extra then
    for i = 1, #extra do
      local v = extra[i]
      if type(v) == 'string' and #v > EVENT_VALUE_MAX then v = cut(v, EVENT_VALUE_MAX) end
      args[#args + 1] = v
    end
  end
  redis.call('XADD', unpack(args))
end

-- Adds n to a monotonic per-queue counter and to the minute bucket used by the charts.
local function count(P, queue, field, n, now)
  redis.call('HINCRBY', k_stats(P, queue), field, n)
  local minute = math.floor(now / 60000)
  local mk = k_minute(P, queue, minute)
  redis.call('HINCRBY', mk, field, n)
  redis.call('EXPIRE', mk, 90000)
end

-- count() for several fields of one queue: the minute bucket's TTL is set once, not once per field.
local function count_many(P, queue, fields, now)
  local sk, mk = k_stats(P, queue), k_minute(P, queue, math.floor(now / 60000))
  for field, n in pairs(fields) do
    redis.call('HINCRBY', sk, field, n)
    redis.call('HINCRBY', mk, field, n)
  end
  redis.call('EXPIRE', mk, 90000)
end

-- Histogram buckets (ms) for wait and run times; counts per bucket are not cumulative.
local BUCKETS = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000}
local function bucket(ms)
  for _, le in ipairs(BUCKETS) do
    if ms <= le then return tostring(le) end
  end
  return 'inf'
end
