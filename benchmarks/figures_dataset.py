"""Datasets: export to a folder vs `cp -r` of the same files, import of a dataset zip vs
`unzip` of it (every check kept: each image decoded, thumbnailed, each mask checked
against its image's size)."""

from __future__ import annotations

import os
import resource
import shutil
from collections.abc import Callable
from typing import Any

from pool_profiles import archive, pools, registry
from pool_profiles.backends import open_store

from .common import dir_size, noise_png
from .harness import Suite, run_cmd


def _mask(side: int) -> bytes:
    import io

    from PIL import Image

    img = Image.new("L", (side, side), 0)
    img.paste(255, (0, 0, side // 2, side))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _settle() -> None:
    """Write back what the last round left dirty, so neither side's time includes the
    other's writeback (on a shared 2-core machine it dominates a 200 MB copy)."""
    if hasattr(os, "sync"):
        os.sync()


class _Cpu:
    """CPU seconds (user + system) each side used, summed over rounds: a measure the
    load of other processes on a shared machine does not move, noted beside the ratio."""

    def __init__(self) -> None:
        self.ours = self.base = 0.0

    @staticmethod
    def _now(who: int) -> float:
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def mine(self, fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            t = self._now(resource.RUSAGE_SELF)
            fn()
            self.ours += self._now(resource.RUSAGE_SELF) - t

        return run

    def child(self, fn: Callable[[], Any]) -> Callable[[], None]:
        def run() -> None:
            t = self._now(resource.RUSAGE_CHILDREN)
            fn()
            self.base += self._now(resource.RUSAGE_CHILDREN) - t

        return run

    def note(self) -> str:
        return f"CPU {self.ours:.2f} s vs {self.base:.2f} s in all rounds"


def run(suite: Suite, tmp: str, quick: bool) -> None:
    images, side = (8, 200) if quick else (100, 815)  # 100 x 2 MB = 200 MB
    store = open_store(os.path.join(tmp, "dataset-store"))
    pid = registry.create_profile(store, "dataset")["id"]
    mask = _mask(side)
    for i in range(images):
        pools.add_image(store, pid, noise_png(side, 1000 + i), label=f"a photo, number {i}")
        if i % 4 == 0:  # a quarter of the slots have a mask
            pools.set_mask(store, pid, i, mask)

    out = os.path.join(tmp, "dataset-out")
    files = os.path.join(tmp, "dataset-files")  # the same files, for cp -r to copy
    archive.export_dataset(store, pid, files)
    mb = dir_size(files) / 1e6
    copied = os.path.join(tmp, "dataset-cp")

    def clean_export() -> None:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(copied, ignore_errors=True)
        _settle()

    cpu = _Cpu()
    figure = suite.compare(
        f"dataset export {mb:.0f} MB, folder",
        cpu.mine(lambda: archive.export_dataset(store, pid, out)),
        cpu.child(lambda: run_cmd("cp", "-r", files, copied)),
        setup=clean_export,
        target=1.0,
        target_text="<= 1.0x cp -r of the files",
    )
    figure.note = cpu.note()
    clean_export()

    zip_path = os.path.join(tmp, "dataset.zip")
    archive.export_dataset(store, pid, zip_path)
    unzipped = os.path.join(tmp, "dataset-unzipped")
    imported: list[str] = []

    def import_ours() -> None:
        result = archive.import_any(store, zip_path)
        assert result.images == images and not result.skipped, result.skipped
        imported.append(result.profile["id"])

    def clean_import() -> None:
        shutil.rmtree(unzipped, ignore_errors=True)
        while imported:
            registry.delete_profile(store, imported.pop())
        _settle()

    cpu = _Cpu()
    figure = suite.compare(
        f"dataset import {mb:.0f} MB",
        cpu.mine(import_ours),
        cpu.child(lambda: run_cmd("unzip", "-q", "-o", zip_path, "-d", unzipped)),
        setup=clean_import,
        target=1.0,
        target_text="<= 1.0x unzip, every check kept",
    )
    figure.note = cpu.note()
    clean_import()
