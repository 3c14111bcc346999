"""A private PostgreSQL server for tests, `make run` and the bench: initdb into a folder, start it on a
free port (TCP on 127.0.0.1 only, password authentication), stop it.

PostgreSQL refuses to run as root: when we are root, the folder is handed to the ``postgres`` system user
and every server binary runs as that user (``setpriv``). The binaries are the machine's (PATH, else
/usr/lib/postgresql/<newest>/bin), else those of the pgserver wheel. Readiness is the server's own
"ready to accept connections" log line.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from support.redis_server import free_port

READY = "database system is ready to accept connections"
FAST = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]


def wheel_bin_dir() -> Path | None:
    """The binaries of the pgserver wheel (`make install` adds it when the machine has no PostgreSQL)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return folder if folder.is_dir() else None


def pg_bin(name: str) -> str | None:
    """A PostgreSQL binary: PATH, else the newest /usr/lib/postgresql/*/bin, else the pgserver wheel's."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return candidates[-1]
    wheel = wheel_bin_dir()
    return str(wheel / name) if wheel is not None and (wheel / name).exists() else None


def _as_postgres(command: list[str]) -> list[str]:
    """setpriv execs the command itself (no parent in between), so signals reach PostgreSQL directly."""
    if os.geteuid() != 0:
        return command
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *command]


class PostgresServer:
    def __init__(
        self, folder: Path | None = None, port: int | None = None, password: str = "pg-test-Secr3t"
    ) -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="jobs-pg-"))
        self.port = port or free_port()
        self.password = password
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self, fast: bool = True) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            for path in (self.folder, *self.folder.rglob("*")):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        postgres = pg_bin("postgres")
        if postgres is None:
            raise RuntimeError("no PostgreSQL server binary (postgres) found: install PostgreSQL")
        log = self.folder / "server.log"
        command = [
            postgres, "-D", str(self.data), "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
            "-c", f"unix_socket_directories={self.folder}", "-c", "max_connections=200",
            *(FAST if fast else []),
        ]  # fmt: skip
        with open(log, "ab") as out:
            # Own session: a Ctrl-C of `make run` reaches it through run_local, after the services stopped.
            self.proc = subprocess.Popen(
                _as_postgres(command), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready(log)

    def _initdb(self) -> None:
        initdb = pg_bin("initdb")
        if initdb is None:
            raise RuntimeError("no initdb found: install PostgreSQL (server binaries)")
        pwfile = self.folder / "pwfile"
        pwfile.write_text(self.password + "\n")
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        command = [
            initdb, "-D", str(self.data), "-U", "postgres", f"--pwfile={pwfile}", "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        ]  # fmt: skip
        subprocess.run(_as_postgres(command), check=True, capture_output=True)
        pwfile.unlink()

    def _wait_ready(self, log: Path, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY in log.read_text(errors="replace"):
                return
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(
            f"PostgreSQL did not start on port {self.port}:\n{log.read_text(errors='replace')[-2000:]}"
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # "fast" shutdown: roll back, close, exit
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":  # `make install`: exit 1 when no PostgreSQL binaries can be found
    import sys

    sys.exit(0 if pg_bin("initdb") and pg_bin("postgres") else 1)
