#!lua
--[[ fire_schedule: create the job of one fire time of one schedule, at most once, and only for the
  leader's current term. The job is made by lib/create_job.lua, like a job enqueued through the API.
  KEYS[1] leader key, KEYS[2] epoch counter, KEYS[3] definitions, KEYS[4] this schedule's state,
  KEYS[5] its recent-jobs list
  ARGV[1] prefix, ARGV[2] events maxlen (lib/prologue.lua), ARGV[3] max waiting+delayed jobs per queue,
  ARGV[4] caller's leader token, ARGV[5] caller's epoch, ARGV[6] schedule id, ARGV[7] definition rev the
  caller built the spec from, ARGV[8] nominal fire time (ms), ARGV[9] overlap policy 'allow' | 'skip',
  ARGV[10] job spec JSON (lib/create_job.lua; id and scheduleId are set here), ARGV[11] recent list cap
  Returns {1, jobId, state}  created; fire time recorded as the last fire and last run
          {0, 'duplicate'}   fire time not newer than the last recorded one (or before notBefore)
          {0, 'paused'}      the schedule is paused; nothing recorded
          {0, 'overlap', previousJobId}  policy 'skip' and the previous job is waiting/delayed/active;
                             fire time recorded, no job
          {0, 'exists', jobId}  a job with this id is already stored; fire time recorded
          {0, 'queue_full', queue}  JOBS_MAX_JOBS_PER_QUEUE reached; fire time recorded, no job
          {-10}              fenced: the caller's (token, epoch) no longer holds the leader lease
          {-11}              no such schedule (deleted)
          {-12, rev}         stale: the definition changed (now rev); the caller resyncs and retries
  Events: '' -> waiting | delayed for the created job (lib/create_job.lua).
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/create_job.lua

if redis.call('GET', KEYS[1]) ~= ARGV[4] or redis.call('GET', KEYS[2]) ~= ARGV[5] then return {-10} end
local sid, fire_ms = ARGV[6], tonumber(ARGV[8])
if redis.call('HEXISTS', KEYS[3], sid) == 0 then return {-11} end
local st = redis.call('HMGET', KEYS[4], 'rev', 'paused', 'lastFire', 'notBefore', 'lastJob')
if st[1] ~= ARGV[7] then return {-12, tonumber(st[1]) or 0} end
if fire_ms <= math.max(tonumber(st[3]) or 0, tonumber(st[4]) or 0) then return {0, 'duplicate'} end
if st[2] == '1' then return {0, 'paused'} end

-- The fire time is spent even when no job is made, so a later leader does not try it again.
local function spend(reason, detail)
  redis.call('HSET', KEYS[4], 'lastFire', fire_ms)
  if reason ~= 'exists' then redis.call('HINCRBY', KEYS[4], 'skipped', 1) end
  return {0, reason, detail}
end

if ARGV[9] == 'skip' and st[5] then
  local prev = redis.call('HGET', k_job(P, st[5]), 'status')
  if prev == 'waiting' or prev == 'delayed' or prev == 'active' or prev == 'blocked' then
    return spend('overlap', st[5])
  end
end
local spec = cjson.decode(ARGV[10])
spec.id = 'cron:' .. sid .. ':' .. ARGV[8]
spec.scheduleId = sid
local existing, err = validate_batch(P, {spec}, tonumber(ARGV[3]))
if err then return spend('queue_full', err[2]) end
if existing[1] then return spend('exists', spec.id) end

local state = create_job(P, spec, NOW)
redis.call('HSET', KEYS[4], 'lastFire', fire_ms, 'lastRun', fire_ms, 'lastJob', spec.id)
redis.call('HINCRBY', KEYS[4], 'fires', 1)
redis.call('LPUSH', KEYS[5], spec.id)
redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[11]) - 1)
return {1, spec.id, state}
