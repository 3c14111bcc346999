-- Key builders; the Lua twin of jobs_core/keys.py (a test checks both agree).
local function k_job(P, id) return P .. ':job:' .. id end
local function k_logs(P, id) return P .. ':job:' .. id .. ':logs' end
local function k_errors(P, id) return P .. ':job:' .. id .. ':errors' end
local function k_deps(P, id) return P .. ':job:' .. id .. ':deps' end
local function k_dependents(P, id) return P .. ':job:' .. id .. ':dependents' end
local function k_lease(P, id) return 'arq:in-progress:' .. P .. ':' .. id end
local function k_ready(P, q) return P .. ':q:' .. q .. ':ready' end
local function k_state(P, q, s) return P .. ':q:' .. q .. ':' .. s end
local function k_type(P, q, t) return P .. ':q:' .. q .. ':type:' .. t end
local function k_seq(P, q) return P .. ':q:' .. q .. ':seq' end
local function k_paused(P, q) return P .. ':q:' .. q .. ':paused' end
local function k_wake(P, q) return P .. ':q:' .. q .. ':wake' end
local function k_events(P, q) return P .. ':q:' .. q .. ':events' end
local function k_stats(P, q) return P .. ':q:' .. q .. ':stats' end
local function k_minute(P, q, m) return P .. ':q:' .. q .. ':minute:' .. m end
local function k_queues(P) return P .. ':queues' end
