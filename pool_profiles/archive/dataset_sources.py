"""Reading a dataset's files from a folder or a zip: what can be read (regular files at
the top level and in masks/, a zip's one top folder stripped) and what is skipped
because of what it is (links, special files, sub-folders, macOS metadata). A zip whose
names are absolute or climb out of it, repeat, or whose sizes break the import limits
is refused whole, as a profile zip is."""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import TooLargeError, ValidationError
from .dataset import MASKS, Skipped
from .importer import _check_member_name, _check_sizes
from .layout import ZIP_ERRORS, ImportLimits

MACOS_METADATA = "__MACOSX"
SUBFOLDER = "in a sub-folder: only the top level and masks/ are read"


@dataclass
class DatasetFile:
    """A usable regular file of the dataset: its name inside it and how to read it."""

    name: str  # "0001.png", "masks/0001.png" ("/"-separated, top folder stripped)
    size: int
    read: Callable[[int], bytes]  # read(cap): at most cap + 1 bytes


@dataclass
class Scan:
    files: list[DatasetFile] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    top: str | None = None  # a zip's single top folder (a name for the profile)


def _readable_name(name: str) -> bool:
    # Surrogates: bytes that are not UTF-8 in a folder listing; controls: hostile names.
    return not any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in name)


# -- reading a folder ------------------------------------------------------------------


def _read_path(path: str) -> Callable[[int], bytes]:
    def read(cap: int) -> bytes:
        # O_NOFOLLOW: a file swapped for a link after the scan is refused, not followed.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as f:
            return f.read(cap + 1)

    return read


def _scan_dir(folder: str, prefix: str, scan: Scan, limits: ImportLimits, depth: int) -> None:
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            shown = prefix + entry.name
            if len(scan.files) + len(scan.skipped) >= limits.max_members:
                raise TooLargeError(f"the dataset has more than {limits.max_members} files")
            if not _readable_name(entry.name):
                scan.skipped.append(Skipped(repr(shown)[1:-1], "the name is not readable text"))
            elif entry.is_symlink():
                scan.skipped.append(Skipped(shown, "a symbolic link (links are not followed)"))
            elif entry.is_dir(follow_symlinks=False):
                if depth == 0 and entry.name == MASKS:
                    _scan_dir(entry.path, prefix + MASKS + "/", scan, limits, depth + 1)
                else:
                    scan.skipped.append(Skipped(shown + "/", SUBFOLDER))
            elif entry.is_file(follow_symlinks=False):
                size = entry.stat(follow_symlinks=False).st_size
                scan.files.append(DatasetFile(shown, size, _read_path(entry.path)))
            else:
                scan.skipped.append(Skipped(shown, "not a regular file"))


def scan_folder(folder: str, limits: ImportLimits) -> Scan:
    scan = Scan()
    try:
        _scan_dir(folder, "", scan, limits, 0)
    except OSError as exc:
        raise ValidationError(f"cannot read {folder}: {exc.strerror or exc}") from exc
    total = sum(f.size for f in scan.files)
    if total > limits.max_total_bytes:
        raise TooLargeError(f"the dataset holds {total} bytes; at most {limits.max_total_bytes}")
    return scan


# -- reading a zip ---------------------------------------------------------------------


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[int], bytes]:
    def read(cap: int) -> bytes:
        # zipfile stops at the declared size and checks the CRC. A damaged member
        # fails the import (the caller removes what it wrote), as a damaged zip does.
        try:
            with zf.open(info) as f:
                return f.read(cap + 1)
        except ZIP_ERRORS as exc:
            raise ValidationError(
                f"zip member {info.filename!r} is damaged: {exc}", code="bad_zip"
            ) from exc

    return read


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        return "a symbolic link (links are not followed)"
    if kind and kind != stat.S_IFREG:
        return "not a regular file"
    if info.flag_bits & 0x1:
        return "encrypted"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return "an unsupported compression method"
    return None


def _single_top(names: list[str]) -> str | None:
    """The one folder every file is in (a zipped folder), if so."""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return next(iter(tops))
    return None


def scan_zip(zf: zipfile.ZipFile, limits: ImportLimits) -> Scan:
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise TooLargeError(f"zip has {len(infos)} members; at most {limits.max_members}")
    seen: set[str] = set()
    for info in infos:
        _check_member_name(info.filename)  # absolute, "..", drive letters: refused
        if info.filename in seen:
            raise ValidationError(f"zip has {info.filename!r} twice", code="bad_zip")
        seen.add(info.filename)
    _check_sizes(infos, limits)  # per member, in total, and the compression ratio
    scan = Scan()
    files = [i for i in infos if not i.is_dir()]
    ours = [i for i in files if i.filename.split("/", 1)[0] != MACOS_METADATA]
    top = _single_top([i.filename for i in ours])
    scan.top = top if top != MASKS else None
    cut = len(scan.top) + 1 if scan.top else 0
    for info in files:
        name = info.filename
        if name.split("/", 1)[0] == MACOS_METADATA:
            scan.skipped.append(Skipped(name, "macOS metadata"))
            continue
        problem = _member_problem(info)
        if problem:
            scan.skipped.append(Skipped(name, problem))
            continue
        scan.files.append(DatasetFile(name[cut:], info.file_size, _read_member(zf, info)))
    return scan
