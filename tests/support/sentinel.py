"""A real Redis Sentinel deployment for tests: one master, replicas and three sentinels (quorum 2), all
``redis-server`` processes on free ports (``redis-server --sentinel`` is the same binary as
redis-sentinel). Every node requires ``password``; the sentinels require ``sentinel_password``.

``kill_master`` SIGKILLs the current master; ``wait_new_master`` blocks until the sentinels promoted a
replica and report it. Fail-over takes about down-after (1 s) plus an election (a second or two).
"""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

from redis import Redis

from support.redis_server import RedisServer, free_port, redis_binary

MASTER_NAME = "jobsmaster"
DOWN_AFTER_MS = 1000


class SentinelDeployment:
    def __init__(
        self, folder: Path, replicas: int = 2, password: str = "node-pw", sentinel_password: str = "sent-pw"
    ):
        self.folder = folder
        self.password = password
        self.sentinel_password = sentinel_password
        # No 5 s wait for more replicas before a diskless full sync (Redis's default): replicas sync at once.
        auth = ["--requirepass", password, "--masterauth", password, "--repl-diskless-sync-delay", "0"]
        self.master = RedisServer(folder / "node0", extra_args=auth)
        self.nodes = [self.master]
        for i in range(replicas):
            follow = ["--replicaof", "127.0.0.1", str(self.master.port)]
            self.nodes.append(RedisServer(folder / f"node{i + 1}", extra_args=[*auth, *follow]))
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.sentinels: list[RedisServer] = []

    @property
    def addresses(self) -> str:
        """JOBS_REDIS_SENTINELS."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        self.wait_replicas_online(len(self.nodes) - 1)
        for i, port in enumerate(self.sentinel_ports):
            self.sentinels.append(self._sentinel(i, port))

    def _sentinel(self, i: int, port: int) -> RedisServer:
        folder = self.folder / f"sentinel{i}"
        folder.mkdir(parents=True, exist_ok=True)
        conf = folder / "sentinel.conf"
        conf.write_text(
            "\n".join(
                [
                    f"port {port}",
                    "bind 127.0.0.1",
                    f"dir {folder}",
                    f"requirepass {self.sentinel_password}",
                    f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master.port} 2",
                    f"sentinel auth-pass {MASTER_NAME} {self.password}",
                    f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}",
                    f"sentinel failover-timeout {MASTER_NAME} 10000",
                    f"sentinel parallel-syncs {MASTER_NAME} 1",
                    "",
                ]
            )
        )
        server = _Sentinel(folder, port, conf)
        server.start()
        return server

    def client(self, port: int) -> Redis:
        return Redis(host="127.0.0.1", port=port, password=self.password, decode_responses=True)

    def sentinel_master(self) -> int:
        """The master's port as the first sentinel reports it."""
        with Redis(port=self.sentinel_ports[0], password=self.sentinel_password, decode_responses=True) as s:
            return int(s.execute_command("SENTINEL", "get-master-addr-by-name", MASTER_NAME)[1])

    def wait_replicas_online(self, count: int, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        with self.client(self.current_master().port) as master:
            while _online(master.info("replication")) < count:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"fewer than {count} replicas online")
                time.sleep(0.05)

    def current_master(self) -> RedisServer:
        port = self.sentinel_master() if self.sentinels else self.master.port
        return next(node for node in self.nodes if node.port == port)

    def kill_master(self) -> RedisServer:
        victim = self.current_master()
        assert victim.proc is not None
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        return victim

    def wait_new_master(self, old_port: int, timeout: float = 30) -> RedisServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                port = self.sentinel_master()
            except OSError:
                port = old_port
            if port != old_port:
                with self.client(port) as node:
                    if node.info("replication")["role"] == "master":
                        return next(n for n in self.nodes if n.port == port)
            time.sleep(0.1)
        raise TimeoutError("the sentinels promoted no replica")

    def stop(self) -> None:
        for server in [*self.sentinels, *self.nodes]:
            server.stop()


def _online(info: dict[str, object]) -> int:
    """Replicas done with their initial sync (state=online), not merely connected."""
    return sum(
        1
        for k, v in info.items()
        if k.startswith("slave") and isinstance(v, dict) and v.get("state") == "online"
    )


class _Sentinel(RedisServer):
    """``redis-server <conf> --sentinel``: the config file must be writable (sentinels rewrite it)."""

    def __init__(self, folder: Path, port: int, conf: Path) -> None:
        super().__init__(folder, port)
        self.conf = conf

    def start(self) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [redis_binary(), str(self.conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"redis sentinel did not start on port {self.port}")
