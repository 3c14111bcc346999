"""`make bench`: throughput and latency of the job system on this machine, with its own Redis, beside
BullMQ for Node measured in the same run on a Redis of its own (bench/peers.py).

Prints (a) enqueue rates through the core and through HTTP, single and bulk; (b) the throughput of one
worker process at concurrency 50 with no-op jobs; (c) enqueue-to-start latency with an idle worker,
through the core and through HTTP; (d) lateness of delayed jobs; (e) Redis commands and CPU per job;
then the side-by-side table, then (f) scale-out with 1/2/4 workers and 1/2 api processes with the plot of
docs/performance.md and (g) memory (bench/scaleout.py; BENCH_SCALEOUT=0 skips them). A benchmark, not a
test: it asserts nothing. Redis runs as in production (AOF everysec, noeviction). BENCH_JOBS sets N
(default 20,000).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bench import measure, peers, scaleout  # noqa: E402
from bench.compare import Figures, table  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402


async def ours(url: str, n: int) -> dict[str, Figures]:
    print(f"Redis {url} (AOF everysec, noeviction); {os.cpu_count()} cores; N={n:,}")
    figures = {
        "enqueue_core": await measure.enqueue_core(url, n),
        "enqueue_http": await measure.enqueue_http(url, n),
        "throughput": await measure.throughput(url, n),
        "latency": await measure.latency(url, delayed=False),
        "latency_http": await measure.latency_http(url),
    }
    await measure.latency(url, delayed=True)
    return figures


def main() -> None:
    n = int(os.environ.get("BENCH_JOBS", "20000"))
    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            figures = asyncio.run(ours(server.url, n))
        finally:
            server.stop()
    print(table(figures, peers.bullmq(n)))
    if os.environ.get("BENCH_SCALEOUT", "1") != "0":
        with tempfile.TemporaryDirectory() as folder:
            server = RedisServer(Path(folder))
            server.start()
            try:
                asyncio.run(scaleout.run_all(server.url, n))
            finally:
                server.stop()


if __name__ == "__main__":
    main()
