"""Import: every member checked before the profile is registered; a failure leaves nothing."""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import json
import logging
import os
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from .. import ids, imaging, pools, registry
from ..blobs import MASK_NAME
from ..errors import PoolProfilesError, TooLargeError, ValidationError
from ..imaging import ImageLimits
from ..registry import Profile
from ..staging import Stage
from ..store import Store
from .layout import (
    FALLBACK_NAME,
    MANIFEST_MEMBER,
    MAX_MANIFEST_BYTES,
    MAX_META_BYTES,
    META_NAME,
    POOL_DIR,
    RATIO_MIN_BYTES,
    THUMBS_DIR,
    ZIP_ERRORS,
    ImportLimits,
    Progress,
    iter_file,
    referenced_blobs,
)

log = logging.getLogger("pool_profiles.archive")
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass
class _Plan:
    meta_name: str | None
    manifest: dict[str, Any] | None
    blobs: dict[str, zipfile.ZipInfo]  # blob name -> member to write


def _check_member_name(name: str) -> None:
    shown = repr(name[:120])
    if not name:
        raise ValidationError("zip has a member with an empty name", code="bad_zip")
    if "\\" in name or _DRIVE.match(name) or ":" in name:
        raise ValidationError(f"zip member {shown} is a Windows path", code="bad_zip")
    if name.startswith("/"):
        raise ValidationError(f"zip member {shown} is an absolute path", code="bad_zip")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationError(f"zip member {shown} has control characters", code="bad_zip")
    segments = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if any(seg in ("", ".", "..") for seg in segments):
        raise ValidationError(f"zip member {shown} climbs out of its folder", code="bad_zip")


def _check_member_kind(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        raise ValidationError(f"zip member {info.filename!r} is a symbolic link", code="bad_zip")
    if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
        raise ValidationError(f"zip member {info.filename!r} is not a plain file", code="bad_zip")
    if info.flag_bits & 0x1:
        raise ValidationError(f"zip member {info.filename!r} is encrypted", code="bad_zip")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValidationError(
            f"zip member {info.filename!r} uses an unsupported compression method",
            code="bad_zip",
        )


def _check_sizes(infos: list[zipfile.ZipInfo], limits: ImportLimits) -> None:
    total = 0
    packed = 0
    for info in infos:
        if info.file_size > limits.max_member_bytes:
            raise TooLargeError(
                f"zip member {info.filename!r} is {info.file_size} bytes; "
                f"at most {limits.max_member_bytes}"
            )
        if info.file_size > RATIO_MIN_BYTES and (
            info.compress_size <= 0 or info.file_size / info.compress_size > limits.max_ratio
        ):
            raise TooLargeError(
                f"zip member {info.filename!r} expands more than {limits.max_ratio:g}x "
                "(a zip bomb?)"
            )
        total += info.file_size
        packed += info.compress_size
    if total > limits.max_total_bytes:
        raise TooLargeError(f"zip expands to {total} bytes; at most {limits.max_total_bytes}")
    if total > RATIO_MIN_BYTES and total / max(packed, 1) > limits.max_ratio:
        raise TooLargeError(f"zip expands more than {limits.max_ratio:g}x (a zip bomb?)")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    if info.file_size > cap:
        raise TooLargeError(
            f"zip member {info.filename!r} is {info.file_size} bytes; at most {cap}"
        )
    # zipfile stops at the declared size and checks the CRC, so a lying header cannot
    # make this read more than `cap` bytes.
    with zf.open(info) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise TooLargeError(f"zip member {info.filename!r} is larger than {cap} bytes")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _parse_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ValidationError(
            f"{what} in the zip is not valid JSON ({exc})", code="bad_zip"
        ) from exc


def _check_manifest(doc: Any, blobs: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ValidationError("pool/manifest.json is not a JSON object", code="bad_zip")
    slots = doc.get("slots", [])
    if not isinstance(slots, list):
        raise ValidationError("pool/manifest.json: 'slots' is not a list", code="bad_zip")
    for i, slot in enumerate(slots):
        if not isinstance(slot, dict):
            raise ValidationError(f"pool/manifest.json: slot {i} is not an object", code="bad_zip")
        for field in ("image", "mask"):
            value = slot.get(field)
            if field == "mask" and not value:
                continue
            try:
                pools.check_blob_name(value)
            except ValidationError as exc:
                raise ValidationError(
                    f"pool/manifest.json: slot {i} {field}: {exc.message}", code="bad_zip"
                ) from exc
            if value not in blobs:
                raise ValidationError(
                    f"pool/manifest.json: slot {i} names {value!r}, which is not in the zip",
                    code="bad_zip",
                )
        label = slot.get("label")
        if label is not None and not isinstance(label, str):
            raise ValidationError(f"pool/manifest.json: slot {i} label is not text", code="bad_zip")
        slot["label"] = ids.tidy_label(label)
    doc = dict(doc, slots=slots)
    active = doc.get("active")
    if not isinstance(active, int) or isinstance(active, bool) or not 0 <= active < len(slots):
        doc["active"] = 0
    return doc


def _plan(zf: zipfile.ZipFile, limits: ImportLimits) -> _Plan:
    """Every check that needs no decoding: names, kinds, sizes, the documents. The
    images are decoded (checked) while they are written, see _write."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise TooLargeError(f"zip has {len(infos)} members; at most {limits.max_members}")
    seen: set[str] = set()
    meta_info = manifest_info = None
    blobs: dict[str, zipfile.ZipInfo] = {}
    folded: dict[str, str] = {}  # case-insensitive disks (Windows, macOS) see one file
    for info in infos:
        name = info.filename
        _check_member_name(name)
        _check_member_kind(info)
        if name in seen:
            raise ValidationError(f"zip has {name!r} twice", code="bad_zip")
        seen.add(name)
        if info.is_dir():
            if name not in (POOL_DIR, THUMBS_DIR):
                raise ValidationError(f"zip has an unexpected folder {name!r}", code="bad_zip")
        elif name == META_NAME:
            meta_info = info
        elif name == MANIFEST_MEMBER:
            manifest_info = info
        elif name.startswith(THUMBS_DIR) and "/" not in name[len(THUMBS_DIR) :]:
            pass  # thumbnails are remade from the images, never taken from a zip
        elif name.startswith(POOL_DIR) and "/" not in name[len(POOL_DIR) :]:
            try:
                blob = pools.check_blob_name(name[len(POOL_DIR) :])
            except ValidationError as exc:
                raise ValidationError(
                    f"zip member {name!r} is not a pool file: {exc.message}", code="bad_zip"
                ) from exc
            twin = folded.setdefault(blob.casefold(), blob)
            if twin != blob:
                raise ValidationError(
                    f"zip has both {twin!r} and {blob!r}: names may differ only in case "
                    "on some disks",
                    code="bad_zip",
                )
            blobs[blob] = info
        else:
            raise ValidationError(f"zip has an unexpected member {name!r}", code="bad_zip")
    _check_sizes(infos, limits)

    meta_name = None
    if meta_info is not None:
        meta = _parse_json(_read_member(zf, meta_info, MAX_META_BYTES), META_NAME)
        if not isinstance(meta, dict):
            raise ValidationError(f"{META_NAME} is not a JSON object", code="bad_zip")
        if isinstance(meta.get("name"), str):
            meta_name = meta["name"]

    manifest = None
    if manifest_info is not None:
        doc = _parse_json(_read_member(zf, manifest_info, MAX_MANIFEST_BYTES), MANIFEST_MEMBER)
        manifest = _check_manifest(doc, blobs)
        # Blobs no slot uses are left out: importing them would only make orphans.
        wanted = set(referenced_blobs(manifest))
        blobs = {k: v for k, v in blobs.items() if k in wanted}

    return _Plan(meta_name, manifest, blobs)


# -- import: writing -------------------------------------------------------------


def _choose_name(name: str | None, meta_name: str | None) -> str:
    if name is not None:
        return ids.clean_name(name)
    if meta_name is not None:
        with contextlib.suppress(ValidationError):
            return ids.clean_name(meta_name)
    return FALLBACK_NAME


def _check(name: str, data: bytes, limits: ImageLimits, thumb: bool) -> bytes | None:
    """Decode (check) one member; its thumbnail from that decode when `thumb`."""
    try:
        if not thumb:
            imaging.inspect_image(data, limits)
            return None
        return imaging.ingest_image(data, limits, convert=False).thumb
    except PoolProfilesError as exc:
        raise type(exc)(f"zip member {name!r}: {exc.message}", code=exc.code) from exc


def _slot_images(plan: _Plan) -> set[str]:
    """The blobs that get a thumbnail: slot images (masks have none). Without a
    manifest the pool is rebuilt from its blobs, where mask names say what they are."""
    if plan.manifest is not None:
        return {slot["image"] for slot in plan.manifest.get("slots") or []}
    return {b for b in plan.blobs if not MASK_NAME.match(b)}


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _write(
    store: Store,
    zf: zipfile.ZipFile,
    plan: _Plan,
    new_id: str,
    name: str,
    progress: Progress | None,
    stage: Stage,
    image_limits: ImageLimits,
    limits: ImportLimits,
) -> Profile:
    """Write every blob under the staged id while worker threads decode (check) the
    images and make their thumbnails from that one decode (Pillow releases the GIL);
    the profile is registered only once every image has decoded. A bad image fails
    the import, whose caller then removes the staged id."""
    cap = min(limits.max_member_bytes, image_limits.max_bytes)
    total = 2 * len(plan.blobs)  # each blob is written and checked
    done = 0
    pending: collections.deque[tuple[str, concurrent.futures.Future[bytes | None]]]
    pending = collections.deque()
    workers = _workers()
    images = _slot_images(plan)

    def step() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    def collect(block: bool) -> None:
        while pending and (block or pending[0][1].done()):
            blob, future = pending.popleft()
            thumb = future.result()  # raises the image's ValidationError
            if thumb is not None:
                store.write_bytes(pools.thumb_key(new_id, blob), thumb)
            step()

    with concurrent.futures.ThreadPoolExecutor(workers, "pool-import") as pool:
        try:
            for blob, info in sorted(plan.blobs.items()):
                data = _read_member(zf, info, cap)
                pending.append(
                    (blob, pool.submit(_check, info.filename, data, image_limits, blob in images))
                )
                store.write_stream(pools.blob_key(new_id, blob), (data,))
                del data
                stage.beat()
                step()
                # Bounded: at most two members per worker in memory at once.
                while len(pending) > 2 * workers:
                    collect(block=True)
                collect(block=False)
            collect(block=True)
        finally:
            for _blob, future in pending:
                future.cancel()
    if plan.manifest is not None:
        data = json.dumps(plan.manifest, indent=2, ensure_ascii=False).encode("utf-8")
        store.write_bytes(f"{new_id}/{pools.MANIFEST}", data)
    stage.beat()
    return registry.register_profile(store, new_id, name)


def _open_source(source: IO[bytes] | str, stack: contextlib.ExitStack, limits: ImportLimits):
    if isinstance(source, (str, os.PathLike)):
        try:
            return stack.enter_context(open(source, "rb"))
        except OSError as exc:
            raise ValidationError(f"cannot read {source}: {exc.strerror or exc}") from exc
    seekable = getattr(source, "seekable", None)
    if seekable is not None and seekable():
        return source
    # zipfile needs to seek (the directory is at the end): spool a stream to disk.
    spool = stack.enter_context(tempfile.TemporaryFile())
    copied = 0
    for chunk in iter_file(source):
        copied += len(chunk)
        if copied > limits.max_total_bytes:
            raise TooLargeError(f"zip is larger than {limits.max_total_bytes} bytes")
        spool.write(chunk)
    spool.seek(0)
    return spool


def import_zip(
    store: Store,
    source: IO[bytes] | str,
    *,
    name: str | None = None,
    limits: ImportLimits | None = None,
    progress: Progress | None = None,
    image_limits: ImageLimits | None = None,
) -> Profile:
    """Validate every member first, write under a fresh id (staged: see staging.Stage),
    register (name suffixed on collision). On any failure nothing is left behind.
    ValidationError/TooLargeError."""
    limits = limits or ImportLimits()
    image_limits = image_limits or ImageLimits.from_env()
    if name is not None:
        ids.clean_name(name)  # a bad name fails before any work
    with contextlib.ExitStack() as stack:
        f = _open_source(source, stack, limits)
        try:
            zf = stack.enter_context(zipfile.ZipFile(f))
            plan = _plan(zf, limits)
        except ZIP_ERRORS as exc:
            raise ValidationError(f"not a valid zip file: {exc}", code="bad_zip") from exc
        final_name = _choose_name(name, plan.meta_name)
        new_id = ids.new_id()
        try:
            # The marker first: an import cut short (kill -9, a store failing even
            # the clean-up below) is recognisable as one, never taken for a pool.
            stage = Stage.begin(store, new_id, "import")
            entry = _write(
                store, zf, plan, new_id, final_name, progress, stage, image_limits, limits
            )
        except BaseException as exc:
            with contextlib.suppress(Exception):
                store.delete_tree(new_id)
            if isinstance(exc, ZIP_ERRORS):
                raise ValidationError(f"zip is damaged: {exc}", code="bad_zip") from exc
            raise
        stage.commit()
        return entry
