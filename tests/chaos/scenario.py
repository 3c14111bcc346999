"""The size and settings of a chaos run. ``FULL`` is ``make chaos``; ``SHORT`` runs inside ``make test``.

Both inject every fault kind; the short one does each once on a few thousand jobs. Service settings are
chosen so that recovery is quick but honest: a worker lease of 3 s (a killed worker's jobs run again
after about that), a leader lease of 2 s, a misfire grace (60 s) longer than any outage the run causes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

# Share of each job kind among the jobs pushed (dependency groups count every member).
DEFAULT_MIX = {
    "instant": 0.45,
    "slow": 0.12,
    "flaky": 0.10,
    "delayed": 0.10,
    "dependent": 0.21,
    "cancel": 0.02,
}


@dataclass(frozen=True)
class Scenario:
    name: str
    jobs: int  # jobs pushed through the api (cron fires, probes and the everysec burst come on top)
    load_s: float  # seconds over which they are pushed; the faults fall inside this window
    seed: int = 12
    worker_kills: int = 5
    worker_terms: int = 2
    leader_kills: int = 3
    redis_restarts: int = 1  # graceful (SIGTERM: Redis flushes its AOF and exits)
    redis_kills: int = 1  # SIGKILL with appendfsync always
    pauses: int = 1
    pause_s: float = 2.0
    everysec_jobs: int = 4000  # burst during which Redis is SIGKILLed with appendfsync everysec
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    single_share: float = 0.05  # jobs sent one per POST /schedule; the rest in bulks
    bulk_size: int = 50
    senders: int = 6  # concurrent HTTP requests of the load generator
    slow_ms: tuple[int, int] = (100, 1500)
    delay_ms: tuple[int, int] = (300, 5000)
    cancel_ms: int = 8000  # how long a job of the cancelled kind would run if nobody cancelled it
    quiet_timeout_s: float = 60.0  # no progress for this long while jobs remain = stuck
    apis: int = 2
    workers: int = 4
    schedulers: int = 3
    concurrency: int = 50
    lease_ms: int = 3000
    max_stalls: int = 3
    shutdown_grace_s: int = 3
    leader_lease_ms: int = 2000
    misfire_grace_s: int = 60
    events_maxlen: int = 50_000

    def with_seed(self, seed: int) -> Scenario:
        return replace(self, seed=seed)

    def fault_kinds(self) -> list[str]:
        return (
            ["worker_kill"] * self.worker_kills
            + ["worker_term"] * self.worker_terms
            + ["leader_kill"] * self.leader_kills
            + ["redis_restart"] * self.redis_restarts
            + ["redis_kill"] * self.redis_kills
            + ["pause"] * self.pauses
        )


FULL = Scenario("full", jobs=50_000, load_s=150)
SHORT = Scenario(
    "short",
    jobs=3_000,
    load_s=26,
    worker_kills=1,
    worker_terms=1,
    leader_kills=1,
    everysec_jobs=800,
    cancel_ms=5000,
    senders=4,
    quiet_timeout_s=40.0,
)
SCENARIOS = {"full": FULL, "short": SHORT}
