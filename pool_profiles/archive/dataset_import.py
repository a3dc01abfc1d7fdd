"""Dataset import: a folder or zip of images + same-stem `.txt` captions + `masks/`
same-stem PNG masks becomes a new profile.

What makes the whole import fail, before anything is written: a zip member name that
is absolute or climbs out (`..`), a duplicate, more members or bytes than the import
limits, a member that expands like a zip bomb, a damaged zip. What is skipped, with
the reason, and listed: files that are not images or captions, images that do not
decode or exceed the image limits, links and special files (never followed), files in
other sub-folders, captions and masks without an image, masks whose size differs from
their image's. The profile is staged (its "importing" marker) until registered, and a
failure removes all it wrote."""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import json
import os
import time
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

from .. import ids, imaging, pools, registry
from ..blobs import manifest_key, new_image_name, new_mask_name
from ..errors import TooLargeError, ValidationError
from ..imaging import ImageLimits
from ..staging import IMPORT, Stage
from ..store import Store
from .dataset import (
    CAPTION_EXT,
    FALLBACK_NAME,
    IMAGE_FILE_EXTS,
    MASK_EXT,
    MASKS,
    MAX_CAPTION_BYTES,
    DatasetImport,
    Skipped,
    natural_key,
)
from .dataset_sources import SUBFOLDER, DatasetFile, Scan, scan_folder, scan_zip
from .layout import ZIP_ERRORS, ImportLimits, Progress

# -- what the files are ----------------------------------------------------------------


@dataclass
class _Item:
    """One image to import, with its caption and mask when it has them."""

    file: DatasetFile
    label: str = ""
    mask: DatasetFile | None = None


def _caption(file: DatasetFile, skipped: list[Skipped]) -> str | None:
    if file.size > MAX_CAPTION_BYTES:
        skipped.append(Skipped(file.name, f"larger than {MAX_CAPTION_BYTES} bytes: no caption"))
        return None
    data = file.read(MAX_CAPTION_BYTES)
    if len(data) > MAX_CAPTION_BYTES:
        skipped.append(Skipped(file.name, f"larger than {MAX_CAPTION_BYTES} bytes: no caption"))
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        skipped.append(Skipped(file.name, "not UTF-8 text"))
        return None
    label = ids.tidy_label(text)
    if len(label) == ids.LABEL_MAX and len(text.strip()) > ids.LABEL_MAX:
        skipped.append(
            Skipped(file.name, f"text past {ids.LABEL_MAX} characters left out (a label's limit)")
        )
    return label


def _classify(scan: Scan) -> list[_Item]:
    """Images in natural order with their captions and masks; the rest is skipped."""
    images: dict[str, list[_Item]] = collections.defaultdict(list)
    captions: dict[str, DatasetFile] = {}
    masks: dict[str, DatasetFile] = {}
    skipped = scan.skipped
    for file in scan.files:
        folder, _, base = file.name.rpartition("/")
        stem, ext = os.path.splitext(base)
        ext = ext.lower()
        if base.startswith("."):
            skipped.append(Skipped(file.name, "a hidden file"))
        elif folder == MASKS:
            if ext == MASK_EXT:
                masks[stem] = file
            else:
                skipped.append(Skipped(file.name, f"a mask must be a {MASK_EXT} file"))
        elif folder:
            skipped.append(Skipped(file.name, SUBFOLDER))
        elif ext in IMAGE_FILE_EXTS:
            images[stem].append(_Item(file))
        elif ext == CAPTION_EXT:
            captions[stem] = file
        else:
            shown = ext or "no extension"
            skipped.append(Skipped(file.name, f"not an image or a caption ({shown})"))
    for stem, file in captions.items():
        if stem not in images:
            skipped.append(Skipped(file.name, f"no image named {stem}.*"))
            continue
        label = _caption(file, skipped)
        for item in images[stem]:
            item.label = label or ""
    for stem, file in masks.items():
        if stem not in images:
            skipped.append(Skipped(file.name, f"no image named {stem}.*"))
            continue
        for item in images[stem]:
            item.mask = file
    items = [item for group in images.values() for item in group]
    return sorted(items, key=lambda item: natural_key(item.file.name))


# -- checking and writing (worker threads) ----------------------------------------------


@dataclass
class _Done:
    slot: dict[str, Any] | None  # None: the image was skipped
    skipped: list[Skipped] = field(default_factory=list)


def _too_big(file: DatasetFile, cap: int) -> Skipped:
    return Skipped(file.name, f"{file.size} bytes; the limit is {imaging.ENV_MAX_BYTES}={cap}")


def _process(
    store: Store,
    pool_id: str,
    seq: int,
    item: _Item,
    cap: int,
    lim: ImageLimits,
) -> _Done:
    """One image, in a worker: read (zipfile reads members concurrently), decoded
    (checked) once for the bytes to store and its thumbnail, its mask checked against
    its size, then all of it written under the staged pool. Bad files become skipped
    entries; storage failures propagate."""
    done = _Done(None)
    data, mask_data = _read(item, cap, done.skipped)
    if data is None:
        return done
    try:
        ingested = imaging.ingest_image(data, lim)
    except (ValidationError, TooLargeError) as exc:
        done.skipped.append(Skipped(item.file.name, exc.message))
        if item.mask:
            done.skipped.append(Skipped(item.mask.name, "its image was skipped"))
        return done
    mask = None
    if item.mask is not None and mask_data is not None:
        try:
            size = imaging.upright_size(data, lim)
            mask = imaging.mask_from_dataset(mask_data, size, lim)
        except (ValidationError, TooLargeError) as exc:
            done.skipped.append(Skipped(item.mask.name, exc.message))
    image = new_image_name(seq, ingested.info.ext)
    store.write_bytes(pools.blob_key(pool_id, image), ingested.stored)
    if ingested.thumb is not None:
        store.write_bytes(pools.thumb_key(pool_id, image), ingested.thumb)
    mask_name = None
    if mask is not None:
        mask_name = new_mask_name(image)
        store.write_bytes(pools.blob_key(pool_id, mask_name), mask)
    done.slot = {"image": image, "mask": mask_name, "label": item.label, "added": time.time()}
    return done


def _workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _read(item: _Item, cap: int, skipped: list[Skipped]) -> tuple[bytes | None, bytes | None]:
    """The image's and its mask's bytes (None: too large, and said so)."""
    data = item.file.read(cap)
    if len(data) > cap:
        skipped.append(_too_big(item.file, cap))
        if item.mask:
            skipped.append(Skipped(item.mask.name, "its image was skipped"))
        return None, None
    mask_data = item.mask.read(cap) if item.mask else None
    if item.mask and mask_data is not None and len(mask_data) > cap:
        skipped.append(_too_big(item.mask, cap))
        mask_data = None
    return data, mask_data


def _import_items(
    store: Store,
    items: list[_Item],
    skipped: list[Skipped],
    name: str,
    lim: ImageLimits,
    limits: ImportLimits,
    progress: Progress | None,
) -> DatasetImport:
    """Workers read, decode and write the images, in order; the marker goes first, the
    manifest and the registry entry last."""
    cap = min(limits.max_member_bytes, lim.max_bytes)
    pool_id = ids.new_id()
    stage: Stage | None = None
    slots: list[dict[str, Any]] = []
    pending: collections.deque[concurrent.futures.Future[_Done]] = collections.deque()
    workers = _workers()
    done = 0

    def collect(block: bool) -> None:
        nonlocal done
        while pending and (block or pending[0].done()):
            result = pending.popleft().result()  # a storage failure raises here
            skipped.extend(result.skipped)
            if result.slot is not None:
                slots.append(result.slot)
            done += 1
            if progress:
                progress(done, len(items))

    try:
        with concurrent.futures.ThreadPoolExecutor(workers, "pool-dataset-import") as pool:
            try:
                for seq, item in enumerate(items, 1):
                    if stage is None:  # the marker before the first byte of the pool
                        stage = Stage.begin(store, pool_id, IMPORT)
                    pending.append(pool.submit(_process, store, pool_id, seq, item, cap, lim))
                    stage.beat()
                    # Bounded: at most two images per worker in memory at once.
                    while len(pending) > 2 * workers:
                        collect(block=True)
                    collect(block=False)
                collect(block=True)
            finally:
                for future in pending:
                    future.cancel()
        if not slots:
            raise ValidationError(_nothing_usable(skipped), code="no_images")
        doc = {"active": 0, "next_seq": len(items) + 1, "slots": slots}
        data = json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8")
        store.write_bytes(manifest_key(pool_id), data)
        entry = registry.register_profile(store, pool_id, name)
    except BaseException:
        if stage is not None:
            with contextlib.suppress(Exception):
                store.delete_tree(pool_id)
        raise
    assert stage is not None
    stage.commit()
    return DatasetImport(
        profile=entry,
        images=len(slots),
        labels=sum(1 for s in slots if s["label"]),
        masks=sum(1 for s in slots if s["mask"]),
        skipped=skipped,
    )


def _nothing_usable(skipped: list[Skipped]) -> str:
    text = "the dataset has no image that can be imported"
    if skipped:
        first = "; ".join(f"{s.name}: {s.reason}" for s in skipped[:3])
        more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
        text += f" — skipped {first}{more}"
    return text


def _choose_name(name: str | None, *fallbacks: str | None) -> str:
    if name is not None:
        return ids.clean_name(name)
    for candidate in fallbacks:
        if candidate:
            with contextlib.suppress(ValidationError):
                return ids.clean_name(candidate)
    return FALLBACK_NAME


def _run(
    store: Store,
    scan: Scan,
    name: str,
    limits: ImportLimits,
    image_limits: ImageLimits | None,
    progress: Progress | None,
) -> DatasetImport:
    lim = image_limits or ImageLimits.from_env()
    items = _classify(scan)
    result = _import_items(store, items, scan.skipped, name, lim, limits, progress)
    result.skipped.sort(key=lambda s: natural_key(s.name))
    return result


def import_dataset_folder(
    store: Store,
    folder: str,
    *,
    name: str | None = None,
    limits: ImportLimits | None = None,
    image_limits: ImageLimits | None = None,
    progress: Progress | None = None,
) -> DatasetImport:
    """Import the dataset folder `folder` as a new profile (named `name`, else after
    the folder; a taken name gets " (2)"). ValidationError / TooLargeError."""
    limits = limits or ImportLimits()
    if name is not None:
        ids.clean_name(name)  # a bad name fails before any work
    if not os.path.isdir(folder):
        raise ValidationError(f"{folder}: not a folder", code="not_found")
    scan = scan_folder(folder, limits)
    base = os.path.basename(os.path.normpath(os.path.abspath(folder)))
    final = _choose_name(name, base)
    return _run(store, scan, final, limits, image_limits, progress)


def import_dataset_zip(
    store: Store,
    source: IO[bytes],
    *,
    name: str | None = None,
    filename: str | None = None,
    limits: ImportLimits | None = None,
    image_limits: ImageLimits | None = None,
    progress: Progress | None = None,
) -> DatasetImport:
    """Import a dataset zip (a seekable file) as a new profile, named `name`, else after
    its single top folder, else after `filename` (the zip's file name)."""
    limits = limits or ImportLimits()
    if name is not None:
        ids.clean_name(name)
    try:
        with zipfile.ZipFile(source) as zf:
            scan = scan_zip(zf, limits)
            stem = os.path.splitext(os.path.basename(filename or ""))[0]
            final = _choose_name(name, scan.top, stem)
            return _run(store, scan, final, limits, image_limits, progress)
    except ZIP_ERRORS as exc:  # opening it: reading members says so itself
        raise ValidationError(f"not a valid zip file: {exc}", code="bad_zip") from exc
