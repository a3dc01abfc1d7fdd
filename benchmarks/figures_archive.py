"""Export vs `zip -0 -r`, import vs `unzip`, duplicate vs `cp -r` (local) and vs a
client-side GET+PUT copy of the same objects (S3 on moto)."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
from typing import Any

import aiohttp

from pool_profiles import archive, pools, registry
from pool_profiles.backends import open_store
from pool_profiles.store import Store

from .common import AppClient, dir_size, noise_png
from .figures_grid import max_stall
from .harness import Figure, Suite, child_peak_rss, run_cmd

_EXPORT_RSS = """
import json, os, sys
sys.path.insert(0, sys.argv[3])
from pool_profiles import archive
from pool_profiles.backends import open_store
store = open_store(sys.argv[1])
def rss(field="VmRSS"):
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith(field))
before = rss()
with open(os.devnull, "wb") as out:
    archive.export_to_file(store, sys.argv[2], out)
peak = rss("VmHWM")
print(json.dumps({"growth": max(0, peak - before)}))
"""


def make_profile(store: Store, name: str, images: int, side: int) -> str:
    pid = registry.create_profile(store, name)["id"]
    for i in range(images):
        pools.add_image(store, pid, noise_png(side, i))
    return pid


def run(suite: Suite, tmp: str, quick: bool, s3: Store | None, repo: str) -> None:
    images, side = (8, 200) if quick else (100, 815)  # 100 x 2 MB = 200 MB
    root = os.path.join(tmp, "archive-store")
    store = open_store(root)
    pid = make_profile(store, "big", images, side)
    pool_dir = store.local_path(pid)
    assert pool_dir is not None
    mb = dir_size(pool_dir) / 1e6
    zip_ours, zip_base = os.path.join(tmp, "ours.zip"), os.path.join(tmp, "base.zip")

    def export_ours() -> None:
        with open(zip_ours, "wb") as out:
            archive.export_to_file(store, pid, out)

    def export_base() -> None:
        if os.path.exists(zip_base):
            os.remove(zip_base)
        run_cmd("sh", "-c", f"cd '{pool_dir}' && zip -q -0 -r '{zip_base}' .")

    rss = child_peak_rss(_EXPORT_RSS, root, pid, repo)["growth"]
    suite.compare(
        f"export {mb:.0f} MB",
        export_ours,
        export_base,
        target=0.6,
        target_text="<= 0.6x zip -0 -r, RSS growth <= 64 MB",
        note=f"peak RSS growth {rss / 2**20:.0f} MiB",
        extra_ok=rss <= 64 * 2**20,
    )

    unzip_dir = os.path.join(tmp, "unzipped")
    imported: list[str] = []

    def import_ours() -> None:
        imported.append(archive.import_zip(store, zip_ours)["id"])

    def import_base() -> None:
        run_cmd("unzip", "-q", "-o", zip_ours, "-d", unzip_dir)

    def clean_import() -> None:
        shutil.rmtree(unzip_dir, ignore_errors=True)
        while imported:
            registry.delete_profile(store, imported.pop())

    suite.compare(
        f"import {mb:.0f} MB",
        import_ours,
        import_base,
        setup=clean_import,
        target=1.0,
        target_text="<= 1.0x unzip, every check kept",
    )
    clean_import()

    copies: list[str] = []
    cp_dir = os.path.join(tmp, "cp-copy")

    def dup_ours() -> None:
        copies.append(registry.duplicate_profile(store, pid, f"copy {len(copies)}")["id"])

    def dup_base() -> None:
        run_cmd("cp", "-r", pool_dir, cp_dir)

    def clean_dup() -> None:
        shutil.rmtree(cp_dir, ignore_errors=True)
        while copies:
            registry.delete_profile(store, copies.pop())

    suite.compare(
        f"duplicate {mb:.0f} MB, local",
        dup_ours,
        dup_base,
        setup=clean_dup,
        target=0.5,
        target_text="<= 0.5x cp -r",
    )
    clean_dup()
    _stalls(suite, store, pid, zip_ours)
    if s3 is not None:
        _s3_duplicate(suite, s3, quick)


def _s3_duplicate(suite: Suite, s3: Store, quick: bool) -> None:
    images, side = (6, 64) if quick else (100, 260)  # moto holds it all in memory: 20 MB
    pid = make_profile(s3, "s3-big", images, side)
    keys = s3.walk(pid)
    mb = sum(s3.size(k) for k in keys) / 1e6
    # The manifest is written from its snapshot (one PUT), every other object copied.
    objects = [k for k in keys if not k.endswith("/manifest.json")]
    requests: dict[str, int] = {}
    moved: list[int] = []

    def count(event_name: str, params: Any = None, **kw: Any) -> None:
        op = event_name.rsplit(".", 1)[-1]
        requests[op] = requests.get(op, 0) + 1
        body = (params or {}).get("body") if isinstance(params, dict) else None
        if isinstance(body, (bytes, bytearray)):
            moved.append(len(body))  # bytes this host sent

    def received(parsed: Any = None, **kw: Any) -> None:
        if isinstance(parsed, dict) and isinstance(parsed.get("ContentLength"), int):
            moved.append(parsed["ContentLength"])  # bytes this host downloaded

    copies: list[str] = []

    def dup_ours() -> None:
        copies.append(registry.duplicate_profile(s3, pid, f"s3 copy {len(copies)}")["id"])

    def dup_client() -> None:
        dst = f"client-copy-{len(copies)}"
        for key in keys:  # GET + PUT through this host, one object after another
            data = s3.read_bytes(key)
            s3.write_bytes(dst + key[len(pid) :], data)
        s3.delete_tree(dst)

    def clean() -> None:
        while copies:
            registry.delete_profile(s3, copies.pop())

    client = s3.fs.s3
    client.meta.events.register("before-call.s3", count)
    client.meta.events.register("after-call.s3.GetObject", received)
    dup_ours()
    through_host = sum(moved)
    moved.clear()
    per_object = dict(requests)
    client.meta.events.unregister("before-call.s3", count)
    client.meta.events.unregister("after-call.s3.GetObject", received)
    clean()
    copy_calls = per_object.get("CopyObject", 0)
    other = sum(v for k, v in per_object.items() if k != "CopyObject")
    figure = suite.compare(
        f"duplicate {mb:.0f} MB, S3 (moto), {len(objects)} objects",
        dup_ours,
        dup_client,
        setup=clean,
        target=0.2,
        target_text="<= 0.2x client GET+PUT, 1 request/object",
        note=f"{copy_calls} CopyObject + {other} other requests, {through_host} B through host",
        extra_ok=copy_calls == len(objects) and other <= 8 and through_host <= 64 * 1024,
    )
    # What bounds the ratio here: the test server answers one request at a time
    # (LockedMotoServer), so concurrent copies queue; per request it costs:
    figure.note += (
        f"; moto: {figure.ours / max(len(objects), 1) * 1e3:.1f} ms per CopyObject, "
        f"{figure.baseline / max(2 * len(keys), 1) * 1e3:.1f} ms per GET or PUT"
    )
    clean()
    print(json.dumps({"s3_requests": per_object}), file=sys.stderr)


def _stalls(suite: Suite, store: Store, pid: str, zip_path: str) -> None:
    """The longest the server's event loop was late while it exported and imported."""
    app = AppClient(store, port=0)  # any free port: another run may hold ours
    worst: dict[str, list[float]] = {"export": [], "import": []}

    async def export() -> None:
        resp = await app.client.get(f"/grid_pool/profiles/export?id={pid}")
        assert resp.status == 200, await resp.text()
        async for _chunk in resp.content.iter_chunked(1 << 16):
            pass

    async def import_() -> str:
        form = aiohttp.FormData()
        with open(zip_path, "rb") as f:
            form.add_field("file", f, filename="p.zip", content_type="application/zip")
            resp = await app.client.post("/grid_pool/profiles/import", data=form)
            body = await resp.json()
        assert resp.status == 200, body
        return body["profile"]["id"] if "profile" in body else body["id"]

    try:
        for _ in range(suite.rounds):
            worst["export"].append(app.run(max_stall(export()))[1])
            new_id, stall = app.run(max_stall(import_()))
            worst["import"].append(stall)
            registry.delete_profile(store, new_id)
    finally:
        app.close()
    for what, stalls in worst.items():
        med = statistics.median(stalls)
        suite.add(
            Figure(
                f"event-loop stall during {what}",
                med,
                0.05,
                med / 0.05,
                1.0,
                "<= 50 ms",
                note="budget 50 ms",
                runs=len(stalls),
            )
        )
