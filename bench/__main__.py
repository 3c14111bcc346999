"""`make bench`: throughput and latency of the job system on this machine, with its own Redis.

Prints (a) enqueue rates through the core and through HTTP, single and bulk; (b) the throughput of one
worker process at concurrency 50 with no-op jobs; (c) enqueue-to-start latency with an idle worker;
(d) lateness of delayed jobs; (e) Redis commands and worker CPU per job. A benchmark, not a test: it
asserts nothing. Redis runs as in production (AOF everysec, noeviction). BENCH_JOBS sets N.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bench.measure import run_all  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402


def main() -> None:
    n = int(os.environ.get("BENCH_JOBS", "20000"))
    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            asyncio.run(run_all(server.url, n))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
