"""Where backups go: a local folder (``JOBS_BACKUP_DIR``) or an S3 bucket (``JOBS_BACKUP_S3_*``, multipart
upload, the next part filling while the last one uploads), each with the same small interface: ``begin``
an upload, ``write`` chunks, ``finish`` with the SHA-256 or ``abort``; ``prune`` old backups.

Names: ``backup-{database}-{YYYYmmddTHHMMSSZ}-{tag}.pgdump``; the timestamp in the name (not a file or
object date, which copies and restores change) decides the age. The SHA-256 is known only once the last
byte is streamed: the local store writes it to ``<name>.sha256`` (``sha256sum -c`` reads it), the S3 store
into the object's metadata (``x-amz-meta-sha256``) by a server-side copy onto itself, or to a
``<key>.sha256`` object beside it past the 5 GiB limit of a single copy. An aborted upload leaves nothing:
the partial file is removed, the multipart upload aborted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

NAME = re.compile(r"^backup-.+-(\d{8}T\d{6}Z)-[0-9a-f]{8}\.pgdump$")
STAMP = "%Y%m%dT%H%M%SZ"
PART_BYTES = 8 * 1024 * 1024  # S3 parts: at least 5 MiB except the last
COPY_LIMIT = 5 * 1024**3  # the largest object a single CopyObject may copy


def backup_name(database: str, moment: datetime, tag: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", database) or "db"
    return f"backup-{safe}-{moment.astimezone(UTC).strftime(STAMP)}-{tag}.pgdump"


def stamp_of(name: str) -> datetime | None:
    match = NAME.match(name)
    return datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC) if match else None


def expired(names: list[str], retention_days: int, keep: int, now: datetime) -> list[str]:
    """Backups older than the retention, never one of the ``keep`` newest."""
    dated = sorted(((stamp_of(n), n) for n in names if stamp_of(n)), reverse=True)
    cutoff = now - timedelta(days=retention_days)
    return [name for stamp, name in dated[keep:] if stamp is not None and stamp < cutoff]


class Upload(Protocol):
    async def write(self, chunk: bytes) -> None: ...
    async def finish(self, sha256: str, size: int) -> str: ...
    async def abort(self) -> None: ...


@dataclass
class LocalUpload:
    path: Path
    partial: Path
    handle: Any

    async def write(self, chunk: bytes) -> None:
        await asyncio.to_thread(self.handle.write, chunk)

    async def finish(self, sha256: str, size: int) -> str:
        def close_and_publish() -> None:
            self.handle.flush()
            os.fsync(self.handle.fileno())
            self.handle.close()
            self.partial.rename(self.path)
            checksum = self.path.with_name(self.path.name + ".sha256")
            checksum.write_text(f"{sha256}  {self.path.name}\n")

        await asyncio.to_thread(close_and_publish)
        return str(self.path)

    async def abort(self) -> None:
        self.handle.close()
        self.partial.unlink(missing_ok=True)


class LocalStore:
    destination = "local"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def begin(self, name: str, metadata: dict[str, str]) -> LocalUpload:
        await asyncio.to_thread(self.folder.mkdir, parents=True, exist_ok=True)
        path = self.folder / name
        partial = path.with_name(name + ".partial")
        handle = await asyncio.to_thread(partial.open, "wb")
        return LocalUpload(path, partial, handle)

    async def prune(self, retention_days: int, keep: int, now: datetime) -> list[str]:
        names = await asyncio.to_thread(lambda: [p.name for p in self.folder.iterdir() if p.is_file()])
        doomed = expired(names, retention_days, keep, now)
        for name in doomed:
            (self.folder / name).unlink(missing_ok=True)
            (self.folder / f"{name}.sha256").unlink(missing_ok=True)
        return doomed


@dataclass
class S3Upload:
    """Parts are uploaded while the next one fills: at most one part in flight and one filling."""

    client: Any
    bucket: str
    key: str
    upload_id: str
    metadata: dict[str, str]
    buffer: bytearray = field(default_factory=bytearray)
    parts: list[dict[str, Any]] = field(default_factory=list)
    in_flight: asyncio.Task[None] | None = None
    numbered: int = 0

    async def write(self, chunk: bytes) -> None:
        self.buffer += chunk
        if len(self.buffer) >= PART_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        await self._settle()
        self.numbered += 1
        body, self.buffer = bytes(self.buffer), bytearray()
        self.in_flight = asyncio.ensure_future(self._upload(self.numbered, body))

    async def _settle(self) -> None:
        if self.in_flight is not None:
            task, self.in_flight = self.in_flight, None
            await task

    async def _upload(self, number: int, body: bytes) -> None:
        answer = await self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=body
        )
        self.parts.append({"ETag": answer["ETag"], "PartNumber": number})

    async def finish(self, sha256: str, size: int) -> str:
        if self.buffer or not self.numbered:
            await self._flush()
        await self._settle()
        await self.client.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, MultipartUpload={"Parts": self.parts}
        )
        if size <= COPY_LIMIT:
            await self.client.copy_object(
                Bucket=self.bucket,
                Key=self.key,
                CopySource={"Bucket": self.bucket, "Key": self.key},
                Metadata={**self.metadata, "sha256": sha256, "bytes": str(size)},
                MetadataDirective="REPLACE",
            )
        else:
            name = self.key.rsplit("/", 1)[-1]
            body = f"{sha256}  {name}\n".encode()
            await self.client.put_object(Bucket=self.bucket, Key=self.key + ".sha256", Body=body)
        return f"s3://{self.bucket}/{self.key}"

    async def abort(self) -> None:
        if self.in_flight is not None:
            self.in_flight.cancel()
            with contextlib.suppress(BaseException):
                await self.in_flight
        with contextlib.suppress(Exception):
            await self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )


class S3Store:
    destination = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    async def begin(self, name: str, metadata: dict[str, str]) -> S3Upload:
        key = self.prefix + name
        answer = await self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, Metadata=metadata, ContentType="application/octet-stream"
        )
        return S3Upload(self.client, self.bucket, key, answer["UploadId"], metadata)

    async def prune(self, retention_days: int, keep: int, now: datetime) -> list[str]:
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            keys += [item["Key"] for item in page.get("Contents", [])]
        names = [key[len(self.prefix) :] for key in keys if "/" not in key[len(self.prefix) :]]
        doomed = expired(names, retention_days, keep, now)
        objects = [{"Key": self.prefix + n} for n in doomed] + [
            {"Key": f"{self.prefix}{n}.sha256"} for n in doomed
        ]
        for start in range(0, len(objects), 1000):
            await self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": objects[start : start + 1000]}
            )
        return doomed
