"""Copy profiles with their pools from one Store to another (local -> S3 and back).

Blobs are streamed in chunks, never held whole. The manifest is written after every
blob it names and the registry entry last, so readers of the destination never see
a profile whose images are not there yet; a failed copy deletes what it wrote."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import pools, registry
from .archive import CHUNK, iter_file, prune_manifest, referenced_blobs
from .errors import NotFoundError
from .ids import check_id, new_id
from .registry import Profile
from .store import Store

log = logging.getLogger("pool_profiles.transfer")

Progress = Callable[[int, int], None]  # (done, total) in blobs

THUMBS = "thumbs"


@dataclass
class _Job:
    entry: Profile
    manifest: dict[str, Any] | None  # None: the pool has no manifest (empty profile)
    blobs: list[str]
    thumbs: list[str]  # keys below <id>/thumbs/, relative to the pool


def _plan(src: Store, entry: Profile) -> _Job:
    pid = entry["id"]
    has_manifest = src.exists(f"{pid}/{pools.MANIFEST}")
    manifest = pools.read_manifest(src, pid)
    if not has_manifest and not manifest.get("slots"):
        manifest = None
    blobs = referenced_blobs(manifest) if manifest else []
    prefix = f"{pid}/{THUMBS}/"
    thumbs = [k[len(pid) + 1 :] for k in src.walk(f"{pid}/{THUMBS}") if k.startswith(prefix)]
    return _Job(entry, manifest, blobs, thumbs)


def _target_id(dst: Store, pid: str, taken: set[str]) -> str:
    # Keep the id (workflows reference it) unless the destination already uses it.
    if pid not in taken and not dst.walk(pid):
        return pid
    return new_id()


def _copy_object(src: Store, src_key: str, dst: Store, dst_key: str) -> bool:
    """Stream one object; False when the source object is missing."""
    try:
        f = src.open_read(src_key, block_size=CHUNK)
        first = f.read(CHUNK)  # s3fs may only notice a missing object here
    except FileNotFoundError:
        return False
    with f:

        def chunks():
            if first:
                yield first
            yield from iter_file(f)

        dst.write_stream(dst_key, chunks())
    return True


def _copy_one(src: Store, dst: Store, job: _Job, target: str, tick: Callable[[], None]) -> Profile:
    pid = job.entry["id"]
    present: list[str] = []
    for blob in job.blobs:
        if _copy_object(src, pools.blob_key(pid, blob), dst, pools.blob_key(target, blob)):
            present.append(blob)
        else:
            log.warning("copy %s: blob %s is missing; its slot is left out", pid, blob)
        tick()
    for rel in job.thumbs:
        _copy_object(src, f"{pid}/{rel}", dst, f"{target}/{rel}")  # a cache: missing is fine
    if job.manifest is not None:
        manifest, _ = prune_manifest(job.manifest, present)
        data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
        dst.write_if(f"{target}/{pools.MANIFEST}", data, None)
    created = job.entry.get("created")
    ts = created if isinstance(created, (int, float)) and not isinstance(created, bool) else None
    return registry.register_profile(dst, target, job.entry["name"], ts=ts)  # keep its age


def copy_profiles(
    src: Store,
    dst: Store,
    ids: list[str] | None = None,
    progress: Progress | None = None,
) -> list[Profile]:
    """Copy profiles (all, or those in `ids`) with their pools from `src` to `dst`.
    Each keeps its id when `dst` does not use it (else gets a fresh one) and its name
    (suffixed ' (2)' on a collision). Returns the new entries as stored in `dst`.
    Every id is checked and every manifest read before the first byte is copied."""
    entries = registry.list_profiles(src)
    if ids:
        by_id = {e["id"]: e for e in entries}
        selected = []
        for pid in dict.fromkeys(ids):
            check_id(pid, "profile id")
            if pid not in by_id:
                raise NotFoundError(f"no profile with id {pid!r} in {src.url}")
            selected.append(by_id[pid])
        entries = selected
    jobs = [_plan(src, e) for e in entries]
    total = sum(len(j.blobs) for j in jobs)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    taken = {e["id"] for e in registry.list_profiles(dst)}
    copied: list[Profile] = []
    for job in jobs:
        target = _target_id(dst, job.entry["id"], taken)
        try:
            copied.append(_copy_one(src, dst, job, target, tick))
        except BaseException:
            with contextlib.suppress(Exception):
                dst.delete_tree(target)  # nothing half-copied stays behind
            raise
        taken.add(target)
    if progress and total == 0:
        progress(0, 0)
    return copied
