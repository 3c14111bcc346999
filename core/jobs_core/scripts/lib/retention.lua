-- Deleting a job and bounding history. Retention runs inside the finishing transition, so memory stays
-- bounded under endless load without a sweeper.
local function delete_job(P, id, queue, status, job_type)
  redis.call('DEL', k_job(P, id), k_logs(P, id), k_errors(P, id), k_deps(P, id), k_dependents(P, id))
  if status then redis.call('ZREM', k_state(P, queue, status), id) end
  if job_type then redis.call('ZREM', k_type(P, queue, job_type), id) end
end

-- Deletes many jobs of one state in a few commands: one HGET each (its type), then one DEL, one ZREM
-- of the state set and one ZREM per type for all of them (retention runs inside every finishing batch,
-- so its cost per job matters). Chunks keep unpack() far below Lua's stack limit.
local function delete_jobs(P, queue, state, ids)
  local CHUNK = 200
  for first = 1, #ids, CHUNK do
    local keys, members, by_type = {}, {}, {}
    for i = first, math.min(first + CHUNK - 1, #ids) do
      local id = ids[i]
      local t = redis.call('HGET', k_job(P, id), 'type')
      keys[#keys + 1], keys[#keys + 2], keys[#keys + 3] = k_job(P, id), k_logs(P, id), k_errors(P, id)
      keys[#keys + 1], keys[#keys + 2] = k_deps(P, id), k_dependents(P, id)
      members[#members + 1] = id
      if t then
        by_type[t] = by_type[t] or {}
        by_type[t][#by_type[t] + 1] = id
      end
    end
    redis.call('DEL', unpack(keys))
    redis.call('ZREM', k_state(P, queue, state), unpack(members))
    for t, of_type in pairs(by_type) do redis.call('ZREM', k_type(P, queue, t), unpack(of_type)) end
  end
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
  delete_jobs(P, queue, state, victims)
  return #victims
end
