#!lua flags=no-writes
--[[ inspect_keys: check index members and side keys against the job records (jobs-admin check).
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen (unused), ARGV[3..] groups of 4: what, key, id, expected,
  where what is
    state  key = P:q:{queue}:{state}, id a member, expected = queue .. ' ' .. state
    ready  key = P:q:{queue}:ready, id a member, expected = queue
    type   key = P:q:{queue}:type:{type}, id a member, expected = queue .. ' ' .. type
    aux    key = P:job:{id}:logs|errors|deps|dependents, id the job
    lease  key = arq:in-progress:P:{id}, id the job
    sched  key = P:sched:state|recent:{sid}, id the schedule id
  Returns groups of 4: id, kind, key, detail (the record's status where it has one). Kinds: index_orphan (member without record), index_wrong_queue,
  index_wrong_type, state_extra, ready_extra, aux_orphan, lease_orphan, lease_mismatch, schedule_orphan.
  A member or key that vanished meanwhile is skipped. Flags: no-writes.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/inspect.lua

local out = {}
local function add(id, kind, key, detail)
  out[#out + 1], out[#out + 2], out[#out + 3], out[#out + 4] = id, kind, key, detail or ''
end

local function member(key, id, what, expected)
  if not redis.call('ZSCORE', key, id) then return end
  if redis.call('EXISTS', k_job(P, id)) == 0 then return add(id, 'index_orphan', key) end
  local f = redis.call('HMGET', k_job(P, id), 'status', 'queue', 'type')
  if corrupt(f) then return end  -- inspect_jobs reports the record itself
  local queue, name = string.match(expected, '^(%S+) ?(.*)$')
  if f[2] ~= queue then return add(id, 'index_wrong_queue', key) end
  if what == 'state' and f[1] ~= name then add(id, 'state_extra', key, f[1]) end
  if what == 'ready' and not runnable(f[1]) then add(id, 'ready_extra', key, f[1]) end
  if what == 'type' and f[3] ~= name then add(id, 'index_wrong_type', key) end
end

local function side_key(key, id, what)
  if redis.call('EXISTS', key) == 0 then return end
  if what == 'sched' then
    if redis.call('HEXISTS', P .. ':sched:defs', id) == 0 then add(id, 'schedule_orphan', key) end
    return
  end
  local f = redis.call('HMGET', k_job(P, id), 'status', 'token')
  if redis.call('EXISTS', k_job(P, id)) == 0 then
    add(id, what == 'lease' and 'lease_orphan' or 'aux_orphan', key)
  elseif what == 'lease' and (f[1] ~= 'active' or redis.call('GET', key) ~= f[2]) then
    add(id, 'lease_mismatch', key, f[1])
  end
end

for i = 3, #ARGV, 4 do
  local what, key, id, expected = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if what == 'state' or what == 'ready' or what == 'type' then
    member(key, id, what, expected)
  else
    side_key(key, id, what)
  end
end
return out
