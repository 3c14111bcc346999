#!lua
--[[ enqueue: store new jobs (one, or a whole bulk request) atomically: all of them or none.
  KEYS: none; every key derives from the prefix (single Redis or Sentinel, not Cluster).
  ARGV[1] prefix, ARGV[2] events maxlen, ARGV[3] max waiting+delayed jobs per queue,
  ARGV[4] JSON array of job specs (see lib/create_job.lua).
  Returns {1, id1, state1, existed1, createdAt1, runAt1, queue1, id2, ...} on success,
          {-3, dependencyId} unknown dependency, {-4, queue} queue full. Nothing is written on error.
  Events: '' -> waiting | delayed | blocked | failed for each new job.
]]
--!include lib/prologue.lua
--!include lib/keys.lua
--!include lib/events.lua
--!include lib/states.lua
--!include lib/create_job.lua

local specs = cjson.decode(ARGV[4])
local existing, err = validate_batch(P, specs, tonumber(ARGV[3]))
if err then return err end
local out = {1}
for i, s in ipairs(specs) do
  local state, existed = nil, 0
  if existing[i] then
    state, existed = redis.call('HGET', k_job(P, s.id), 'status'), 1
  else
    state = create_job(P, s, NOW)
  end
  local f = redis.call('HMGET', k_job(P, s.id), 'createdAt', 'runAt', 'queue')
  out[#out + 1] = s.id
  out[#out + 1] = state
  out[#out + 1] = existed
  out[#out + 1] = f[1]
  out[#out + 1] = f[2]
  out[#out + 1] = f[3]
end
return out
