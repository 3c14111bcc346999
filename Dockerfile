# syntax=docker/dockerfile:1
# One image, four commands: jobs-api (default), jobs-worker, jobs-scheduler, jobs-dashboard.
#   docker build -t nchat-jobs:1.0.0 .
#   docker run --rm nchat-jobs:1.0.0 jobs-worker
# Runs as uid 10001 with a read-only root file system; only /tmp needs to be writable
# (the chart mounts an emptyDir there, compose a tmpfs).

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---- builder: resolve and install the project into a self-contained venv --------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/venv
WORKDIR /src
# Metadata first, sources second: a source change does not invalidate the layers above.
# (README.md* matches nothing or the readme, in case pyproject ever names one.)
COPY pyproject.toml README.md* ./
COPY core ./core
COPY services ./services
# The "fast" extra brings uvloop. pip compiles the .pyc files here, at build time, so the read-only
# runtime never needs to write them. Then pip and setuptools leave the venv: nothing installs at run time.
RUN /opt/venv/bin/pip install ".[fast]" \
 && /opt/venv/bin/pip uninstall -y pip setuptools

# ---- runtime: the interpreter, the venv and an unprivileged user; no compiler, no sources ----------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="nchat-jobs" \
      org.opencontainers.image.description="nChat Jobs: api, worker, scheduler and dashboard"
# backup-database runs pg_dump and checks the dump with pg_restore: the distribution's PostgreSQL client
# (bookworm: 15; pg_dump must be at least the server's major version). Nothing else is installed here.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 jobs \
 && useradd --system --uid 10001 --gid jobs --no-create-home --home-dir /tmp --shell /usr/sbin/nologin jobs
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONFAULTHANDLER=1 \
    HOME=/tmp \
    TMPDIR=/tmp
WORKDIR /tmp
USER 10001:10001
# api, dashboard, worker probes, scheduler probes (documentation only; the commands pick their ports).
EXPOSE 3105 4200 8081 8082
# Every command drains on SIGTERM and exits 0.
STOPSIGNAL SIGTERM
CMD ["jobs-api"]
