-- Shared steps of the transitions that end a try. A try may write only while the registry still names
-- its token as the active one: a try that lost its lease to another worker (or was cancelled) is fenced.
local function owns_try(P, id, token)
  local f = redis.call('HMGET', k_job(P, id), 'status', 'token')
  return f[1] == 'active' and f[2] == token
end

-- The error text of a try is kept up to ERROR_MAX bytes (the worker bounds the stack itself).
local ERROR_MAX = 8192
local function record_error(P, id, attempt, err, stack, now)
  err = cut(err, ERROR_MAX)
  redis.call('HSET', k_job(P, id), 'error', err, 'stack', stack)
  local ek = k_errors(P, id)
  redis.call('LPUSH', ek, cjson.encode({attempt = attempt, error = err, stack = stack, at = now}))
  redis.call('LTRIM', ek, 0, 24)
end

-- Per-queue tallies of one batch, written once per queue instead of once per job.
local function tally(t, queue, field, n)
  t[queue] = t[queue] or {}
  t[queue][field] = (t[queue][field] or 0) + n
end

local function flush_tally(P, t, now)
  for queue, fields in pairs(t) do count_many(P, queue, fields, now) end
end

-- removeOnComplete / removeOnFail: 0 deletes at once, N keeps the newest N, -1 uses the queue default.
-- Returns false when the job set none, so that the caller applies the queue default instead.
local function apply_retention(P, id, queue, state, job_type, keep)
  if keep == 0 then
    delete_job(P, id, queue, state, job_type)
  elseif keep > 0 then
    trim_state(P, queue, state, keep, 0, 0)
  end
  return keep >= 0
end
