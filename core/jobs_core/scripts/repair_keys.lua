#!lua flags=allow-oom
--[[ repair_keys: delete index members and side keys that no job record backs any more (jobs-admin
  check --repair), after checking again, in this script, that they are still orphaned.
  KEYS: none (derived from the prefix).
  ARGV[1] prefix, ARGV[2] events maxlen (unused), ARGV[3..] groups of 3: kind, key, id, where kind is
    index_orphan, index_wrong_queue, index_wrong_type  ZREM id from the sorted set key
    aux_orphan, lease_orphan, schedule_orphan         DEL key
  Returns the number of members and keys removed.
  Flags: allow-oom. It only deletes, so it also runs while Redis is full.
]]
--!include lib/prologue.lua
--!include lib/keys.lua

local removed = 0
local function still_orphan(kind, key, id)
  if kind == 'schedule_orphan' then return redis.call('HEXISTS', P .. ':sched:defs', id) == 0 end
  if redis.call('EXISTS', k_job(P, id)) == 0 then return true end
  if kind == 'index_wrong_queue' or kind == 'index_wrong_type' then
    local f = redis.call('HMGET', k_job(P, id), 'queue', 'type')
    local prefix = k_state(P, f[1], '')
    if string.sub(key, 1, #prefix) ~= prefix then return true end
    return kind == 'index_wrong_type' and key ~= k_type(P, f[1], f[2])
  end
  return false
end

for i = 3, #ARGV, 3 do
  local kind, key, id = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if still_orphan(kind, key, id) then
    if string.sub(kind, 1, 6) == 'index_' then
      removed = removed + redis.call('ZREM', key, id)
    else
      removed = removed + redis.call('DEL', key)
    end
  end
end
return removed
