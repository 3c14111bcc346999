#!lua flags=no-writes
--[[ inspect_jobs: check job records against every index, atomically per call (jobs-admin check).
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen (unused), ARGV[3..] job ids.
  Returns {stalled, then groups of 4: id, kind, key, detail}, key being the index or key at fault:
  stalled counts active jobs whose lease deadline passed (normal after a worker crash: the next claim
  re-runs them). Kinds: record_corrupt, state_missing,
  state_extra, ready_missing, ready_extra, type_missing, lease_mismatch, blocked_on_dead,
  blocked_on_completed, blocked_without_deps, dependent_link_missing. A job deleted meanwhile is skipped.
  Flags: no-writes.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/inspect.lua

local out, stalled = {0}, 0
local function add(id, kind, key, detail)
  out[#out + 1], out[#out + 2], out[#out + 3], out[#out + 4] = id, kind, key, detail
end

local function check_blocked(id)
  local dead, done, pending = blocked_deps(P, id)
  local deps = k_deps(P, id)
  for _, d in ipairs(dead) do add(id, 'blocked_on_dead', deps, d[1] .. ' ' .. d[2]) end
  for _, dep in ipairs(done) do add(id, 'blocked_on_completed', deps, dep) end
  for _, dep in ipairs(pending) do
    if redis.call('SISMEMBER', k_dependents(P, dep), id) == 0 then
      add(id, 'dependent_link_missing', k_dependents(P, dep), dep)
    end
  end
  if #dead == 0 and #pending == 0 and #done == 0 then add(id, 'blocked_without_deps', deps, '') end
end

local function check(id, f)
  local status, queue, jtype, token = f[1], f[2], f[3], f[4]
  local lease_until
  for _, s in ipairs(STATES) do
    local member = redis.call('ZSCORE', k_state(P, queue, s), id)
    if s == 'active' then lease_until = tonumber(member) end
    if s == status and not member then add(id, 'state_missing', k_state(P, queue, s), status)
    elseif s ~= status and member then add(id, 'state_extra', k_state(P, queue, s), status) end
  end
  local in_ready = redis.call('ZSCORE', k_ready(P, queue), id)
  if runnable(status) and not in_ready then add(id, 'ready_missing', k_ready(P, queue), status) end
  if in_ready and not runnable(status) then add(id, 'ready_extra', k_ready(P, queue), status) end
  if not redis.call('ZSCORE', k_type(P, queue, jtype), id) then
    add(id, 'type_missing', k_type(P, queue, jtype), status)
  end
  local lease = redis.call('GET', k_lease(P, id))
  if lease and (status ~= 'active' or lease ~= token) then add(id, 'lease_mismatch', k_lease(P, id), status) end
  if status == 'active' and not lease and (lease_until or 0) < NOW then stalled = stalled + 1 end
  if status == 'blocked' then check_blocked(id) end
end

for i = 3, #ARGV do
  local id = ARGV[i]
  local f = redis.call('HMGET', k_job(P, id), 'status', 'queue', 'type', 'token')
  if redis.call('EXISTS', k_job(P, id)) == 1 then
    if corrupt(f) then
      add(id, 'record_corrupt', k_job(P, id), 'status=' .. tostring(f[1]) .. ' queue=' .. tostring(f[2]))
    else
      check(id, f)
    end
  end
end
out[1] = stalled
return out
