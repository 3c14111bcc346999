"""Several api processes on one port (``JOBS_API_PROCESSES`` > 1): one Python process serves one core,
so an api container that should use more cores runs this supervisor, which starts N serving processes.

The supervisor binds N listening sockets to ``JOBS_HOST:JOBS_PORT`` with SO_REUSEPORT (the kernel
spreads new connections evenly across them) and hands one to each child (``python -m jobs_api.main
--listen-fd N``), then closes its own copies: it serves nothing itself. A port already in use is found
here, once, before any child starts (exit 2 with one line). Each child builds its own settings from the
same environment and logs ``service_ready`` with its pid.

How it stops: SIGTERM or SIGINT is passed to every child, which finishes its requests within
``JOBS_SHUTDOWN_GRACE`` as a single api does; the supervisor exits 0 once all have exited cleanly (a
child still running ``grace + 10`` s later is killed, exit 1). How it fails: when a child exits on its
own (a crash, SIGKILL, the OOM killer), the supervisor logs ``api_process_exited``, stops the others
and exits 1, so Kubernetes restarts the container. It does not restart the child in place: the restart
then shows in the pod's restart count and alerts, a crash loop backs off instead of spinning, and a
restarted child would need a new socket while the others keep theirs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from jobs_api.settings import ApiSettings
from jobs_core.logging import get_logger

log = get_logger("jobs_api")
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
EXTRA_STOP_S = 10.0  # beyond JOBS_SHUTDOWN_GRACE: the children's own shutdown after their requests
CLEAN_EXITS = (0, -signal.SIGTERM, -signal.SIGINT)  # a child stopped by the signal it was sent


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound with SO_REUSEPORT and listening, as aiohttp's own site would make it."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def supervise(settings: ApiSettings) -> int:
    """Starts the children, waits for a stop signal or a child's exit; the process's exit status."""
    try:
        sockets = [listening_socket(settings.host, settings.port) for _ in range(settings.api_processes)]
    except OSError as err:
        print(f"cannot listen on {settings.host}:{settings.port}: {err.strerror}", file=sys.stderr)
        return 2
    # Blocked before the first child starts, so that no SIGCHLD or SIGTERM is missed; sigtimedwait
    # takes them. The children get the default mask back (see _start).
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a blocked SIGCHLD must not be discarded
    signal.pthread_sigmask(signal.SIG_BLOCK, {*STOP_SIGNALS, signal.SIGCHLD})
    children = [_start(sock) for sock in sockets]
    for sock in sockets:
        sock.close()  # the children hold them; a child's socket closes with it
    log.info("api_processes_started", processes=len(children), pids=[c.pid for c in children])
    exited = _wait_for_stop_or_exit(children)
    if exited is not None:
        log.error("api_process_exited", pid=exited.pid, exit_code=exited.returncode, hint="stopping all")
    return _stop_all(children, settings.shutdown_grace + EXTRA_STOP_S, failed=exited is not None)


def _start(sock: socket.socket) -> subprocess.Popen[bytes]:
    fd = sock.fileno()
    return subprocess.Popen(
        [sys.executable, "-m", "jobs_api.main", "--listen-fd", str(fd)],
        pass_fds=[fd],
        preexec_fn=_unblock_signals,  # noqa: PLW1509 - only restores the signal mask before exec
    )


def _unblock_signals() -> None:
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _wait_for_stop_or_exit(children: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes] | None:
    """None after SIGTERM/SIGINT; the first child that exited on its own otherwise."""
    while True:
        received = signal.sigtimedwait({*STOP_SIGNALS, signal.SIGCHLD}, 1.0)
        if received is not None and received.si_signo in STOP_SIGNALS:
            log.info("service_stopping", signal=signal.Signals(received.si_signo).name)
            return None
        exited = next((child for child in children if child.poll() is not None), None)
        # Ctrl-C in a terminal signals the whole process group: children may exit before our SIGINT.
        if exited is not None and not STOP_SIGNALS & signal.sigpending():
            return exited


def _stop_all(children: list[subprocess.Popen[bytes]], within_s: float, *, failed: bool) -> int:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + within_s
    clean = not failed
    for child in children:
        try:
            code = child.wait(max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            log.error("api_process_killed", pid=child.pid, hint=f"running {within_s:.0f} s after SIGTERM")
            child.kill()
            code = child.wait()
        clean = clean and code in CLEAN_EXITS
    log.info("api_processes_stopped", clean=clean)
    return 0 if clean else 1


def adopt_socket(fd: int) -> socket.socket:
    """The listening socket the supervisor handed to this child."""
    sock = socket.socket(fileno=fd)
    os.set_inheritable(fd, False)
    return sock
