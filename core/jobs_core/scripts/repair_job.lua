#!lua
--[[ repair_job: rebuild one job's index entries from its record, which every transition writes in the
  same script as the indexes and so is taken as the truth (jobs-admin check --repair).
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] job id, ARGV[4] failed jobs kept per queue,
  ARGV[5] their max age (ms, 0 = no limit).
  Repairs: the job in exactly its state's set (scored like the transitions: due time for delayed,
  finish time for finished jobs, else now); in the ready set exactly while waiting or active (a
  missing one re-enters at the end of its priority band); in its type index; a lease only for the
  active try's token; a blocked job's dependencies: completed ones are dropped, missing links to pending
  ones restored, and then it is released if none is pending, or failed naming a dependency that failed,
  was cancelled or is gone (as the dependency transitions would have done).
  Returns {1, status after} repaired (or nothing to do), {0} record gone, {-1, detail} record corrupt.
  Events: blocked -> waiting|delayed|failed when a blocked job is released or failed here.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/cascade.lua
--!include lib/retention.lua
--!include lib/inspect.lua

local id = ARGV[3]
local F = {'status', 'queue', 'type', 'token', 'priority', 'runAt', 'createdAt', 'finishedAt', 'readyAt'}
local f = redis.call('HMGET', k_job(P, id), unpack(F))
if redis.call('EXISTS', k_job(P, id)) == 0 then return {0} end
if corrupt(f) then return {-1, 'status=' .. tostring(f[1]) .. ' queue=' .. tostring(f[2])} end
local status, queue, jtype, token = f[1], f[2], f[3], f[4]

local function entry_score()
  if status == 'delayed' then return tonumber(f[6]) or NOW end
  if status == 'completed' or status == 'failed' or status == 'cancelled' then return tonumber(f[8]) or NOW end
  return tonumber(f[9]) or NOW
end

local function fix_indexes()
  for _, s in ipairs(STATES) do
    if s ~= status then redis.call('ZREM', k_state(P, queue, s), id) end
  end
  redis.call('ZADD', k_state(P, queue, status), 'NX', entry_score(), id)
  local in_ready = redis.call('ZSCORE', k_ready(P, queue), id)
  if runnable(status) and not in_ready then
    local band = BANDS[f[5]] or BANDS.normal
    redis.call('ZADD', k_ready(P, queue), string.format('%.0f', band + redis.call('INCR', k_seq(P, queue))), id)
  elseif in_ready and not runnable(status) then
    redis.call('ZREM', k_ready(P, queue), id)
  end
  redis.call('ZADD', k_type(P, queue, jtype), 'NX', tonumber(f[7]) or NOW, id)
  local lease = redis.call('GET', k_lease(P, id))
  if lease and (status ~= 'active' or lease ~= token) then redis.call('DEL', k_lease(P, id)) end
end

local function fail_blocked(d)
  local msg = 'dependency ' .. d[1] .. ' ' .. d[2]
  for _, dep in ipairs(redis.call('SMEMBERS', k_deps(P, id))) do
    redis.call('SREM', k_dependents(P, dep), id)
  end
  redis.call('HSET', k_job(P, id), 'error', msg, 'finishedAt', NOW)
  set_state(P, id, queue, 'blocked', 'failed', NOW)
  count(P, queue, 'failed', 1, NOW)
  emit(P, queue, id, 'blocked', 'failed', NOW, {'attempt', '0', 'error', msg})
  for q, _ in pairs(fail_dependents(P, id, 'failed', NOW)) do
    trim_state(P, q, 'failed', tonumber(ARGV[4]), tonumber(ARGV[5]), NOW)
  end
  return 'failed'
end

local function fix_blocked()
  local dead, done, pending = blocked_deps(P, id)
  if #dead > 0 then return fail_blocked(dead[1]) end
  for _, dep in ipairs(done) do redis.call('SREM', k_deps(P, id), dep) end
  for _, dep in ipairs(pending) do
    redis.call('SADD', k_dependents(P, dep), id)
    redis.call('HSET', k_job(P, dep), 'hasDependents', 1)
  end
  if #pending > 0 then return 'blocked' end
  local state = schedule(P, id, queue, f[5], 'blocked', tonumber(f[6]) or 0, NOW)
  emit(P, queue, id, 'blocked', state, NOW, {'attempt', '0'})
  return state
end

fix_indexes()
if status == 'blocked' then status = fix_blocked() end
return {1, status}
