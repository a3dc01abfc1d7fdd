"""One import for every kind the pack reads: a folder is a dataset; a zip is a profile
zip when it has the plan's `profile_meta.json` or `pool/manifest.json`, else a dataset."""

from __future__ import annotations

import contextlib
import os
import zipfile
from typing import IO

from .. import pools
from ..errors import ValidationError
from ..imaging import ImageLimits
from ..store import Store
from .dataset import FORMAT_DATASET, FORMAT_PROFILE, DatasetImport
from .dataset_import import import_dataset_folder, import_dataset_zip
from .importer import _open_source, import_zip
from .layout import MANIFEST_MEMBER, META_NAME, ZIP_ERRORS, ImportLimits, Progress


def zip_format(f: IO[bytes]) -> str:
    """FORMAT_PROFILE or FORMAT_DATASET for a seekable zip file (left at its start)."""
    try:
        with zipfile.ZipFile(f) as zf:
            names = set(zf.namelist())
    except ZIP_ERRORS as exc:
        raise ValidationError(f"not a valid zip file: {exc}", code="bad_zip") from exc
    finally:
        f.seek(0)
    return FORMAT_PROFILE if {META_NAME, MANIFEST_MEMBER} & names else FORMAT_DATASET


def import_any(
    store: Store,
    source: IO[bytes] | str,
    *,
    name: str | None = None,
    filename: str | None = None,
    limits: ImportLimits | None = None,
    image_limits: ImageLimits | None = None,
    progress: Progress | None = None,
) -> DatasetImport:
    """Import a dataset folder, a dataset zip or a profile zip (a path or a file) as a
    new profile; the answer says which it was and what was skipped."""
    limits = limits or ImportLimits()
    if isinstance(source, str) and os.path.isdir(source):
        return import_dataset_folder(
            store, source, name=name, limits=limits, image_limits=image_limits, progress=progress
        )
    if isinstance(source, str):
        filename = filename or source
    with contextlib.ExitStack() as stack:
        f = _open_source(source, stack, limits)  # a stream is spooled: zips need to seek
        if zip_format(f) == FORMAT_PROFILE:
            entry = import_zip(
                store, f, name=name, limits=limits, progress=progress, image_limits=image_limits
            )
            slots = pools.read_manifest(store, entry["id"])["slots"]
            return DatasetImport(
                profile=entry,
                format=FORMAT_PROFILE,
                images=len(slots),
                labels=sum(1 for s in slots if s.get("label")),
                masks=sum(1 for s in slots if s.get("mask")),
            )
        return import_dataset_zip(
            store,
            f,
            name=name,
            filename=filename,
            limits=limits,
            image_limits=image_limits,
            progress=progress,
        )
