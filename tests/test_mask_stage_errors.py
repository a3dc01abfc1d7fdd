"""Handing a slot to the MaskEditor writes into ComfyUI's input folder: a full disk or a
folder it may not write answers 503 `stage_failed` with one log line, and leaves no
half-written copy there."""

from __future__ import annotations

import errno
import functools
import io
import logging

import pytest
from aiohttp import FormData
from PIL import Image

from pool_profiles.backends import open_store
from pool_profiles.comfy import stage
from pool_profiles.server.app import make_app

pytestmark = pytest.mark.asyncio

POOL = "pool-1"


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 10, 10)).save(buf, "PNG")
    return buf.getvalue()


class _FullDisk:
    """A file that takes a few bytes, then fails like a full disk."""

    def __init__(self, raw):
        self.raw = raw

    def write(self, data):
        self.raw.write(data[:10])
        raise OSError(errno.ENOSPC, "No space left on device", self.raw.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.raw.close()


async def staged_client(aiohttp_client, tmp_path):
    store = open_store(str(tmp_path / "store"))
    folder = tmp_path / "input" / stage.STAGE_SUBFOLDER
    stager = functools.partial(stage.stage_image, directory=str(folder))
    client = await aiohttp_client(make_app(store, stage_image=stager))
    form = FormData()
    form.add_field("pool_id", POOL)
    form.add_field("image", png(), filename="x.png", content_type="image/png")
    assert (await client.post("/grid_pool/add", data=form)).status == 200
    return client, folder


async def assert_stage_failed(client, caplog, reason: str) -> None:
    with caplog.at_level(logging.WARNING, logger="pool_profiles"):
        resp = await client.post("/grid_pool/stage_for_mask", json={"pool_id": POOL, "index": 0})
    body = await resp.json()
    assert resp.status == 503, body
    assert body["code"] == "stage_failed"
    assert "MaskEditor" in body["error"] and reason in body["error"]
    assert "/" not in body["error"]  # no server path reaches the browser
    ours = [r for r in caplog.records if r.name.startswith("pool_profiles")]
    assert len(ours) == 1 and ours[0].exc_info is None, [r.getMessage() for r in ours]
    assert "MaskEditor" in ours[0].getMessage()


async def test_a_full_disk_answers_503_and_leaves_no_partial_file(
    aiohttp_client, tmp_path, monkeypatch, caplog
):
    client, folder = await staged_client(aiohttp_client, tmp_path)
    monkeypatch.setattr(
        stage, "open", lambda path, mode: _FullDisk(open(path, mode)), raising=False
    )
    await assert_stage_failed(client, caplog, "No space left on device")
    assert list(folder.iterdir()) == []  # neither the temp file nor a short copy


async def test_an_unwritable_folder_answers_503(aiohttp_client, tmp_path, monkeypatch, caplog):
    client, folder = await staged_client(aiohttp_client, tmp_path)

    real_makedirs = stage.os.makedirs

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(folder.parent)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_makedirs(path, *args, **kwargs)

    monkeypatch.setattr(stage.os, "makedirs", refuse)
    await assert_stage_failed(client, caplog, "Permission denied")
    assert not folder.exists()


async def test_staging_works_again_once_there_is_room(aiohttp_client, tmp_path, monkeypatch):
    client, folder = await staged_client(aiohttp_client, tmp_path)
    monkeypatch.setattr(
        stage, "open", lambda path, mode: _FullDisk(open(path, mode)), raising=False
    )
    resp = await client.post("/grid_pool/stage_for_mask", json={"pool_id": POOL, "index": 0})
    assert resp.status == 503
    monkeypatch.undo()
    resp = await client.post("/grid_pool/stage_for_mask", json={"pool_id": POOL, "index": 0})
    body = await resp.json()
    assert resp.status == 200, body
    assert [p.name for p in folder.iterdir()] == [body["name"]]
