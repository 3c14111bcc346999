-- Deleting a job and bounding history. Retention runs inside the finishing transition, so memory stays
-- bounded under endless load without a sweeper.
local function delete_job(P, id, queue, status, job_type)
  redis.call('DEL', k_job(P, id), k_logs(P, id), k_errors(P, id), k_deps(P, id), k_dependents(P, id))
  if status then redis.call('ZREM', k_state(P, queue, status), id) end
  if job_type then redis.call('ZREM', k_type(P, queue, job_type), id) end
end

-- Keeps the newest `keep` jobs of `state` and none older than `max_age_ms`; returns how many went.
local function trim_state(P, queue, state, keep, max_age_ms, now)
  local zk = k_state(P, queue, state)
  local victims = {}
  if keep >= 0 then
    local excess = redis.call('ZCARD', zk) - keep
    if excess > 0 then victims = redis.call('ZRANGE', zk, 0, math.min(excess, 1000) - 1) end
  end
  if max_age_ms > 0 and #victims == 0 then
    victims = redis.call('ZRANGEBYSCORE', zk, '-inf', now - max_age_ms, 'LIMIT', 0, 1000)
  end
  for _, id in ipairs(victims) do
    local t = redis.call('HGET', k_job(P, id), 'type')
    delete_job(P, id, queue, state, t)
  end
  return #victims
end
