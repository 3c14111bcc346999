"""BullMQ for Node under the same workload as ours (bench/peers/bullmq/bench.mjs), on a Redis of its own
of the same build and configuration, so that `make bench` prints both side by side.

The pinned BullMQ is installed with ``npm ci`` on first use. Without Node.js or npm, or when the install
fails (no registry reachable), it says why and the bench goes on without the comparison.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from support.redis_server import RedisServer

FOLDER = Path(__file__).resolve().parent / "peers" / "bullmq"
STAMP = FOLDER / "node_modules" / ".installed"


def _installed() -> bool:
    lock = FOLDER / "package-lock.json"
    if STAMP.exists() and STAMP.stat().st_mtime >= lock.stat().st_mtime:
        return True
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("BullMQ comparison skipped: Node.js and npm are needed")
        return False
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], check=False, cwd=FOLDER, capture_output=True, text=True
    )
    if done.returncode != 0:
        print(f"BullMQ comparison skipped: npm ci failed\n{done.stderr[-2000:]}")
        return False
    STAMP.touch()
    return True


def _node(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        ["node", "bench.mjs", *args], cwd=FOLDER, capture_output=True, text=True, timeout=600, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def version() -> str:
    manifest = json.loads((FOLDER / "node_modules" / "bullmq" / "package.json").read_text())
    return str(manifest["version"])


def bullmq(n: int, concurrency: int = 50) -> dict[str, Any] | None:
    """Throughput of one BullMQ worker process over n no-op jobs, and enqueue-to-start latency."""
    if not _installed():
        return None
    with tempfile.TemporaryDirectory() as folder:
        server = RedisServer(Path(folder))
        server.start()
        try:
            return {
                "version": version(),
                "throughput": _node("throughput", server.url, str(n), str(concurrency)),
                "latency": _node("latency", server.url),
            }
        finally:
            server.stop()
