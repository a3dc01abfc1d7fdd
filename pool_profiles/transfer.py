"""Copy profiles with their pools from one Store to another (local -> S3 and back).

Blobs are streamed in chunks, never held whole. The manifest is written after every
blob it names and the registry entry last, so readers of the destination never see
a profile whose images are not there yet; a failed copy deletes what it wrote. A new
profile is staged (staging.COPY: a marker first, removed once it is registered), so a
copy cut short where even that clean-up fails (kill -9, a store going away) is found
by `check` and removed by `--repair`, never taken for a node's own pool."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import history, pools, registry
from .archive import CHUNK, iter_file, prune_manifest, referenced_blobs
from .errors import ConflictError, NotFoundError
from .ids import check_id, new_id
from .manifest import check_manifest
from .registry import Profile
from .staging import COPY, Stage
from .store import Store

log = logging.getLogger("pool_profiles.transfer")

Progress = Callable[[int, int], None]  # (done, total) in blobs

THUMBS = "thumbs"
COPIED, UPDATED, UNCHANGED = "copied", "updated", "unchanged"


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
    if manifest is not None:  # the current state only: not thumbnails of kept versions
        wanted = {f"{THUMBS}/{b}.webp" for b in blobs}
        thumbs = [t for t in thumbs if t in wanted]
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


def _copy_blobs(
    src: Store, dst: Store, job: _Job, target: str, tick: Callable[[], None], *, missing_only: bool
) -> list[str]:
    """Copy the job's blobs (only those `dst` lacks, when `missing_only`: blob names are
    never reused, so a present name holds the same bytes). Returns the names present."""
    pid = job.entry["id"]
    present: list[str] = []
    for blob in job.blobs:
        key = pools.blob_key(target, blob)
        if missing_only and dst.exists(key):
            present.append(blob)
        elif _copy_object(src, pools.blob_key(pid, blob), dst, key):
            present.append(blob)
        else:
            log.warning("copy %s: blob %s is missing; its slot is left out", pid, blob)
        tick()
    for rel in job.thumbs:  # a cache: missing is fine
        if not (missing_only and dst.exists(f"{target}/{rel}")):
            _copy_object(src, f"{pid}/{rel}", dst, f"{target}/{rel}")
    return present


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")


def _copy_one(src: Store, dst: Store, job: _Job, target: str, tick: Callable[[], None]) -> Profile:
    present = _copy_blobs(src, dst, job, target, tick, missing_only=False)
    if job.manifest is not None:
        manifest, _ = prune_manifest(job.manifest, present)
        dst.write_if(f"{target}/{pools.MANIFEST}", _manifest_bytes(manifest), None)
    created = job.entry.get("created")
    ts = created if isinstance(created, (int, float)) and not isinstance(created, bool) else None
    entry = registry.register_profile(dst, target, job.entry["name"], ts=ts)  # keep its age
    return {**entry, "copy": COPIED}


def _update_one(src: Store, dst: Store, job: _Job, tick: Callable[[], None]) -> Profile:
    """The profile is in `dst` already (same id, from an earlier copy): bring its pool
    to the source's state, copying only the blobs it lacks."""
    pid = job.entry["id"]
    key = f"{pid}/{pools.MANIFEST}"
    present = _copy_blobs(src, dst, job, pid, tick, missing_only=True)
    wanted = prune_manifest(job.manifest, present)[0] if job.manifest is not None else None
    current = dst.read_versioned(key)
    old = check_manifest(dst, pid, current.data) if current.data is not None else None
    status = UNCHANGED
    if wanted is not None and wanted != old:
        data = _manifest_bytes(wanted)
        dst.write_if(key, data, current.version)  # lost a race: it says so
        status = UPDATED
        keep = set(referenced_blobs(wanted))
        dropped = [b for b in referenced_blobs(old or {}) if b not in keep]
        if history.keeps_removed():  # the replaced version is kept, with its blobs
            history.record_replaced(
                dst, pid, current.data, data, "updated by a copy from another store", dropped
            )
            dropped = []
        # Blobs only the replaced manifest used go, as when a slot is removed.
        for blob in dropped:
            with contextlib.suppress(FileNotFoundError):
                dst.delete(pools.blob_key(pid, blob))
    entry = registry.get_profile(dst, pid)
    if entry["name"] != job.entry["name"]:
        with contextlib.suppress(ConflictError):  # the source's name is taken there
            entry = registry.rename_profile(dst, pid, job.entry["name"])
            status = UPDATED
    return {**entry, "copy": status}


def copy_profiles(
    src: Store,
    dst: Store,
    ids: list[str] | None = None,
    progress: Progress | None = None,
) -> list[Profile]:
    """Copy profiles (all, or those in `ids`) with their pools from `src` to `dst`.
    Each keeps its id when `dst` does not use it (else gets a fresh one) and its name
    (suffixed ' (2)' on a collision). A profile whose id `dst` already lists (an
    earlier copy) is updated in place instead: missing blobs copied, its manifest and
    name made the source's. Returns the entries as stored in `dst`, each with "copy":
    "copied", "updated" or "unchanged".
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

    there = {e["id"] for e in registry.list_profiles(dst)}
    taken = set(there)
    copied: list[Profile] = []
    for job in jobs:
        if job.entry["id"] in there:  # copied before: update it, never a "Name (2)"
            copied.append(_update_one(src, dst, job, tick))
            continue
        target = _target_id(dst, job.entry["id"], taken)
        try:
            stage = Stage.begin(dst, target, COPY)  # before any byte of the profile

            def beat(stage: Stage = stage) -> None:
                tick()
                stage.beat()  # a long copy's marker stays fresh: check leaves it alone

            copied.append(_copy_one(src, dst, job, target, beat))
        except BaseException:
            with contextlib.suppress(Exception):
                dst.delete_tree(target)  # nothing half-copied stays behind
            raise
        stage.commit()
        taken.add(target)
    if progress and total == 0:
        progress(0, 0)
    return copied
