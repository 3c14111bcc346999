-- The registry's invariants, read-only (inspect_* and repair_* scripts). A finding is three values:
-- job id, kind, detail. Kinds and their repairs are listed in jobs_core/consistency.py.
local STATES = {'waiting', 'delayed', 'blocked', 'active', 'completed', 'failed', 'cancelled'}
local VALID_STATE = {}
for _, s in ipairs(STATES) do VALID_STATE[s] = true end

-- The ready set holds the waiting jobs (a claim moves a job to the active set, scored by its lease).
local function runnable(status) return status == 'waiting' end

-- A record the transitions could not have written: no known state, no queue or no type.
local function corrupt(f)
  return not VALID_STATE[f[1]] or not f[2] or f[2] == '' or not f[3] or f[3] == ''
end

-- The dependencies of a blocked job, sorted by what they mean for it: the ones that failed, were
-- cancelled or are gone (dead), the ones that completed but were not released, and the pending ones.
local function blocked_deps(P, id)
  local dead, done, pending = {}, {}, {}
  for _, dep in ipairs(redis.call('SMEMBERS', k_deps(P, id))) do
    local st = redis.call('HGET', k_job(P, dep), 'status')
    if not st then dead[#dead + 1] = {dep, 'missing'}
    elseif st == 'failed' or st == 'cancelled' then dead[#dead + 1] = {dep, st}
    elseif st == 'completed' then done[#done + 1] = dep
    else pending[#pending + 1] = dep end
  end
  return dead, done, pending
end
