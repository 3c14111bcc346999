-- State bookkeeping shared by every transition: the registry zsets and the ready band.
local BANDS = {critical = -4e15, high = -3e15, normal = -2e15, low = -1e15}

-- score: when the job entered `to` (ms); for 'delayed' it is the due time instead.
-- extra: more hash fields written in the same HSET (one command instead of two).
local function set_state(P, id, queue, from, to, score, extra)
  if from and from ~= '' then redis.call('ZREM', k_state(P, queue, from), id) end
  redis.call('ZADD', k_state(P, queue, to), score, id)
  if extra then
    redis.call('HSET', k_job(P, id), 'status', to, unpack(extra))
  else
    redis.call('HSET', k_job(P, id), 'status', to)
  end
end

-- Puts a job at the end of its priority band in arq's ready set and wakes one idle worker.
local function make_ready(P, id, queue, priority, from, now)
  local seq = redis.call('INCR', k_seq(P, queue))
  local score = (BANDS[priority] or BANDS.normal) + seq
  redis.call('ZADD', k_ready(P, queue), string.format('%.0f', score), id)
  set_state(P, id, queue, from, 'waiting', now, {'readyAt', now})
  local wk = k_wake(P, queue)
  if redis.call('LLEN', wk) < 16 then redis.call('LPUSH', wk, '1') end
end

-- Ready now, or parked in the delayed set until run_at (the claim script promotes it).
local function schedule(P, id, queue, priority, from, run_at, now)
  if run_at > now then
    set_state(P, id, queue, from, 'delayed', run_at)  -- scored by due time: the claim promotes by it
    local wk = k_wake(P, queue)
    if redis.call('LLEN', wk) < 16 then redis.call('LPUSH', wk, '1') end
    return 'delayed'
  end
  make_ready(P, id, queue, priority, from, now)
  return 'waiting'
end
