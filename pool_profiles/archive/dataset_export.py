"""Dataset export: a pool as `NNNN.<ext>` + `NNNN.txt` + `masks/NNNN.png`, to a folder
(files copied from the store, several at once; on local disk by the kernel) or as a zip
stream (bounded memory, images stored, not deflated). Either appears whole or not at
all: a folder is written beside its target under a part name and renamed at the end."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .. import ids, imaging, partfiles, pools, registry
from ..errors import PoolProfilesError, ValidationError
from ..imaging import ImageLimits
from ..store import Store
from .dataset import CAPTION_EXT, MASK_EXT, MASKS, DatasetExport, stem_of, stem_width
from .export import _Sink, _zip_info, write_to_path
from .layout import CHUNK, Progress

log = logging.getLogger("pool_profiles.archive")

#: Slots copied at once into a folder: enough to overlap a remote store's latency;
#: from local disk two, so one slot's Python work (caption, mask check) runs while the
#: kernel copies another's bytes (measured on 2 cores: 0.7x `cp -r`, 1.1x with one).
WORKERS, LOCAL_WORKERS = 4, 2


@dataclass(frozen=True)
class _Slot:
    stem: str
    image: str  # blob name
    mask: str | None
    label: str

    @property
    def image_file(self) -> str:
        return self.stem + os.path.splitext(self.image)[1].lower()

    @property
    def caption_file(self) -> str:
        return self.stem + CAPTION_EXT

    @property
    def mask_file(self) -> str:
        return f"{MASKS}/{self.stem}{MASK_EXT}"


def _slots(manifest: dict[str, Any]) -> list[_Slot]:
    slots = manifest.get("slots") or []
    width = stem_width(len(slots))
    return [
        _Slot(stem_of(i, width), s["image"], s.get("mask") or None, s.get("label") or "")
        for i, s in enumerate(slots)
    ]


def _manifest(store: Store, pool_id: str) -> dict[str, Any]:
    ids.check_id(pool_id, "pool id")
    return pools.read_manifest(store, pool_id)


def _mask_bytes(store: Store, pool_id: str, slot: _Slot, image: bytes, lim: ImageLimits) -> bytes:
    """The slot's mask as a dataset mask (the image's upright size, white = painted)."""
    data = pools.read_blob(store, pool_id, slot.mask or "")
    return imaging.mask_for_dataset(data, imaging.upright_size(image, lim), lim)


# -- zip -----------------------------------------------------------------------------


def iter_dataset_zip(
    store: Store,
    pool_id: str,
    *,
    progress: Progress | None = None,
    limits: ImageLimits | None = None,
    summary: DatasetExport | None = None,
) -> Iterator[bytes]:
    """The pool's dataset as a zip, a stream of chunks. The manifest is read now (a bad
    id fails before the first chunk); `summary`, when given, is filled in as it goes."""
    manifest = _manifest(store, pool_id)
    lim = limits or ImageLimits.from_env()
    return _zip_chunks(store, pool_id, _slots(manifest), progress, lim, summary or DatasetExport())


def iter_profile_dataset_zip(
    store: Store, pid: str, *, progress: Progress | None = None
) -> Iterator[bytes]:
    """iter_dataset_zip of a profile: NotFoundError now for an unknown profile."""
    registry.get_profile(store, ids.check_id(pid, "profile id"))
    return iter_dataset_zip(store, pid, progress=progress)


def _zip_chunks(
    store: Store,
    pool_id: str,
    slots: list[_Slot],
    progress: Progress | None,
    lim: ImageLimits,
    summary: DatasetExport,
) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", allowZip64=True) as zf:  # type: ignore[arg-type]
        for done, slot in enumerate(slots, 1):
            key = pools.blob_key(pool_id, slot.image)
            try:
                if slot.mask:  # the image's size is needed: read it whole (bounded)
                    image = store.read_bytes(key)
                    f = None
                else:
                    f = store.open_read(key)
                    image = f.read(CHUNK)  # s3fs may only notice a missing object here
            except FileNotFoundError:
                log.warning("export %s: image %s is missing; slot left out", pool_id, slot.image)
                summary.missing.append(slot.image)
                continue
            with zf.open(_zip_info(slot.image_file), "w") as out:
                chunk = image
                while chunk:
                    out.write(chunk)
                    summary.bytes += len(chunk)
                    yield from sink.drain()
                    chunk = f.read(CHUNK) if f is not None else b""
            if f is not None:
                f.close()
            zf.writestr(_zip_info(slot.caption_file), slot.label.encode("utf-8"))
            summary.images += 1
            summary.labels += bool(slot.label)
            if slot.mask:
                try:
                    zf.writestr(
                        _zip_info(slot.mask_file), _mask_bytes(store, pool_id, slot, image, lim)
                    )
                    summary.masks += 1
                except FileNotFoundError:
                    log.warning("export %s: mask %s is missing", pool_id, slot.mask)
                    summary.missing.append(slot.mask)
            del image
            yield from sink.drain()
            if progress:
                progress(done, len(slots))
    yield from sink.drain()


# -- folder --------------------------------------------------------------------------


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _write_new(path: str, data: bytes) -> None:
    """A new file with `data` (plain os calls: a dataset is hundreds of small files)."""
    fd = os.open(path, _NEW_FILE, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _copy_file(src: str, dst: str) -> int:
    """Copy by the kernel: copy_file_range (what cp uses; sendfile, shutil's way, is
    slower), else shutil.copyfile where the system has no such call."""
    fin = os.open(src, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        size = os.fstat(fin).st_size
        fout = os.open(dst, _NEW_FILE, 0o644)
        try:
            copied = 0
            while copied < size:
                n = os.copy_file_range(fin, fout, size - copied)
                if n == 0:
                    break
                copied += n
            return copied
        except (AttributeError, OSError):  # no such call, or not across these disks
            pass
        finally:
            os.close(fout)
    finally:
        os.close(fin)
    shutil.copyfile(src, dst)
    return os.path.getsize(dst)


def _copy_image(store: Store, key: str, dst: str) -> int:
    local = store.local_path(key)
    if local is not None:
        try:
            return _copy_file(local, dst)
        except FileNotFoundError as exc:
            raise FileNotFoundError(key) from exc
    written = 0
    with store.open_read(key) as f, open(dst, "wb") as out:
        while chunk := f.read(CHUNK):
            written += out.write(chunk)
    return written


#: Enough of an image for its header and EXIF (a JPEG's EXIF is at most 64 KB).
HEAD_BYTES = 256 * 1024


def _image_head(path: str, lim: ImageLimits) -> bytes:
    """The start of the copied image when its header says its upright size, else all
    of it (a WEBP keeps its EXIF at the end)."""
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
        try:
            imaging.upright_size(head, lim)
            return head
        except ValidationError:
            return head + f.read()


def _write_slot(
    store: Store, pool_id: str, slot: _Slot, folder: str, lim: ImageLimits
) -> DatasetExport:
    """Write one slot's files; what was written, as a one-slot summary."""
    key = pools.blob_key(pool_id, slot.image)
    dst = os.path.join(folder, slot.image_file)
    try:
        size = _copy_image(store, key, dst)
    except FileNotFoundError:
        log.warning("export %s: image %s is missing; slot left out", pool_id, slot.image)
        with contextlib.suppress(OSError):
            os.remove(dst)
        return DatasetExport(missing=[slot.image])
    image = _image_head(dst, lim) if slot.mask else b""
    _write_new(os.path.join(folder, slot.caption_file), slot.label.encode("utf-8"))
    done = DatasetExport(images=1, labels=int(bool(slot.label)), bytes=size)
    if not slot.mask:
        return done
    try:
        mask = _mask_bytes(store, pool_id, slot, image, lim)
    except FileNotFoundError:
        log.warning("export %s: mask %s is missing", pool_id, slot.mask)
        done.missing.append(slot.mask)
        return done
    _write_new(os.path.join(folder, slot.mask_file), mask)
    done.masks = 1
    return done


def _check_target(path: str) -> None:
    if os.path.lexists(path) and (
        os.path.islink(path) or not os.path.isdir(path) or os.listdir(path)
    ):
        raise ValidationError(
            f"{path} exists and is not an empty folder: a dataset goes into a new one",
            code="exists",
        )
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ValidationError(f"{parent}: no such folder", code="not_found")


def export_dataset_folder(
    store: Store,
    pool_id: str,
    path: str,
    *,
    progress: Progress | None = None,
    limits: ImageLimits | None = None,
) -> DatasetExport:
    """Write the pool's dataset into the folder `path` (new or empty). It is made
    beside `path` under a part name and renamed when complete: a failed export
    leaves nothing (a killed one's part folder goes with the next export there)."""
    manifest = _manifest(store, pool_id)
    lim = limits or ImageLimits.from_env()
    _check_target(path)
    slots = _slots(manifest)
    parent = os.path.dirname(os.path.abspath(path))
    partfiles.remove_stale(parent)
    part = os.path.join(parent, "." + partfiles.part_name(os.path.basename(os.path.abspath(path))))
    summary = DatasetExport()
    try:
        os.mkdir(part)
        if any(s.mask for s in slots):
            os.mkdir(os.path.join(part, MASKS))
        workers = LOCAL_WORKERS if store.backend == "local" else WORKERS
        with concurrent.futures.ThreadPoolExecutor(workers, "pool-dataset-export") as pool:
            futures = [pool.submit(_write_slot, store, pool_id, s, part, lim) for s in slots]
            try:
                for done, future in enumerate(futures, 1):
                    one = future.result()
                    summary.images += one.images
                    summary.labels += one.labels
                    summary.masks += one.masks
                    summary.bytes += one.bytes
                    summary.missing += one.missing
                    if progress:
                        progress(done, len(slots))
            finally:
                for future in futures:
                    future.cancel()
        if os.path.isdir(path):
            os.rmdir(path)  # empty (checked above); rename cannot replace a folder
        os.rename(part, path)
    except BaseException as exc:
        shutil.rmtree(part, ignore_errors=True)
        if isinstance(exc, OSError):
            raise PoolProfilesError(
                f"cannot write {path}: {exc.strerror or exc}", code="os_error"
            ) from exc
        raise
    return summary


def export_dataset(
    store: Store,
    pool_id: str,
    out: str,
    *,
    progress: Progress | None = None,
    limits: ImageLimits | None = None,
) -> DatasetExport:
    """To a zip file when `out` ends in .zip (written through a part file), else to a
    folder (see export_dataset_folder)."""
    if not out.lower().endswith(".zip"):
        return export_dataset_folder(store, pool_id, out, progress=progress, limits=limits)
    summary = DatasetExport()
    chunks = iter_dataset_zip(store, pool_id, progress=progress, limits=limits, summary=summary)
    write_to_path(chunks, out)
    return summary
