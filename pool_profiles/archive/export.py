"""Export: the zip produced as a stream of chunks, bounded memory."""

from __future__ import annotations

import json
import logging
import os
import stat
import time
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from .. import ids, partfiles, pools, registry
from ..errors import PoolProfilesError
from ..store import Store
from .layout import (
    CHUNK,
    DEFLATE_EXTS,
    MANIFEST_MEMBER,
    META_NAME,
    POOL_DIR,
    Progress,
    prune_manifest,
    referenced_blobs,
)

log = logging.getLogger("pool_profiles.archive")


class _Sink:
    """A write-only, non-seekable file for zipfile; chunks are drained as produced."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pos = 0

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        if self._parts:
            data = b"".join(self._parts)
            self._parts.clear()
            yield data


def _zip_info(arcname: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, time.localtime()[:6])
    info.compress_type = (
        zipfile.ZIP_DEFLATED if arcname.lower().endswith(DEFLATE_EXTS) else zipfile.ZIP_STORED
    )
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def iter_export(store: Store, pid: str, *, progress: Progress | None = None) -> Iterator[bytes]:
    """The zip as a stream of chunks, bounded memory. NotFoundError before the first chunk
    for an unknown profile."""
    ids.check_id(pid, "profile id")
    entry = registry.get_profile(store, pid)  # raises now, not at the first next()
    manifest = pools.read_manifest(store, pid)
    return _export_chunks(store, pid, str(entry.get("name") or pid), manifest, progress)


def _export_chunks(
    store: Store,
    pid: str,
    name: str,
    manifest: dict[str, Any],
    progress: Progress | None,
) -> Iterator[bytes]:
    sink = _Sink()
    names = referenced_blobs(manifest)
    total = len(names)
    with zipfile.ZipFile(sink, "w", allowZip64=True) as zf:  # type: ignore[arg-type]
        zf.writestr(_zip_info(META_NAME), json.dumps({"name": name}, ensure_ascii=False))
        yield from sink.drain()
        present: list[str] = []
        for done, blob in enumerate(names, 1):
            key = pools.blob_key(pid, blob)
            try:
                f = store.open_read(key)
                first = f.read(CHUNK)  # s3fs may only notice a missing object here
            except FileNotFoundError:
                log.warning("export %s: blob %s is missing; its slot is left out", pid, blob)
                continue
            with f, zf.open(_zip_info(POOL_DIR + blob), "w") as out:
                chunk = first
                while chunk:
                    out.write(chunk)
                    yield from sink.drain()
                    chunk = f.read(CHUNK)
            present.append(blob)
            yield from sink.drain()
            if progress:
                progress(done, total)
        # The manifest goes last so that it names only the blobs actually exported.
        manifest, _ = prune_manifest(manifest, present)
        doc = json.dumps(manifest, indent=2, ensure_ascii=False)
        zf.writestr(_zip_info(MANIFEST_MEMBER), doc)
    yield from sink.drain()


def export_to_file(
    store: Store, pid: str, out: IO[bytes], *, progress: Progress | None = None
) -> int:
    written = 0
    for chunk in iter_export(store, pid, progress=progress):
        out.write(chunk)
        written += len(chunk)
    return written


def export_to_path(store: Store, pid: str, path: str, *, progress: Progress | None = None) -> int:
    """Export to the file `path`: written beside it as a part file and renamed, so a
    failed export leaves no half zip; part files earlier runs left when killed are
    removed (and said so). An unknown profile fails before any file is touched."""
    return write_to_path(iter_export(store, pid, progress=progress), path)


def write_to_path(chunks: Iterator[bytes], path: str) -> int:
    """Write `chunks` to the file `path` through a part file beside it (see
    export_to_path); returns the bytes written."""
    folder = os.path.dirname(os.path.abspath(path))
    stale = partfiles.remove_stale(folder)
    if stale:
        log.warning(
            "pool-profiles: removed %d partial export(s) interrupted runs left in %s: %s",
            len(stale),
            folder,
            ", ".join(stale),
        )
    part = os.path.join(folder, "." + partfiles.part_name(os.path.basename(path)))
    try:
        with open(part, "wb") as f:
            size = sum(f.write(chunk) for chunk in chunks)
        os.replace(part, path)
    except BaseException as exc:
        partfiles.discard(part)
        if isinstance(exc, OSError):  # name the file the user asked for
            raise PoolProfilesError(
                f"cannot write {path}: {exc.strerror or exc}", code="os_error"
            ) from exc
        raise
    return size


# -- import: validation ----------------------------------------------------------
