"""A backend failing in the middle of a streamed read (an S3 connection dropping while
export reads a blob's chunks) is the one storage error on every path: the core, the
CLI, the export route and copy between stores; never a botocore traceback."""

from __future__ import annotations

import logging
import os

import pytest
from fsspec.spec import AbstractFileSystem
from images import png

from pool_profiles import archive, pools, registry, transfer
from pool_profiles.backends import open_store
from pool_profiles.cli import main
from pool_profiles.errors import StorageError
from pool_profiles.server.app import make_app

botocore_exceptions = pytest.importorskip("botocore.exceptions")


class _Dropping:
    """A read file whose reads fail the way s3fs does when the endpoint goes away."""

    def __init__(self, raw):
        self.raw = raw

    def read(self, size=-1):
        raise botocore_exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    def close(self):
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@pytest.fixture
def dropping_reads(monkeypatch):
    """Every blob opened for reading fails on its first read, on every backend."""
    real_open = AbstractFileSystem.open

    def open_(self, path, mode="rb", *args, **kwargs):
        f = real_open(self, path, mode, *args, **kwargs)
        if "r" in mode and str(path).endswith(".png"):
            return _Dropping(f)
        return f

    monkeypatch.setattr(AbstractFileSystem, "open", open_)


def profile_with_images(store) -> str:
    pid = registry.create_profile(store, "Dogs")["id"]
    for color in ((255, 0, 0), (0, 255, 0)):
        pools.add_image(store, pid, png(color))
    return pid


def test_export_turns_a_dropped_read_into_a_storage_error(store, dropping_reads):
    pid = profile_with_images(store)
    with pytest.raises(StorageError) as info:
        b"".join(archive.iter_export(store, pid))
    assert "EndpointConnectionError" not in info.value.message
    assert "Could not connect to the endpoint URL" in info.value.message
    assert store.url in info.value.message


def test_copy_turns_a_dropped_source_read_into_a_storage_error(store, tmp_path, dropping_reads):
    pid = profile_with_images(store)
    dst = open_store(str(tmp_path / "dst"))
    with pytest.raises(StorageError):
        transfer.copy_profiles(store, dst, [pid])
    assert registry.list_profiles(dst) == []  # a failed copy leaves nothing behind


def test_cli_export_prints_one_line_and_leaves_no_part_file(tmp_path, capsys, dropping_reads):
    root = str(tmp_path / "store")
    pid = profile_with_images(open_store(root))
    target = tmp_path / "out" / "dogs.zip"
    target.parent.mkdir()
    rc = main(["--store", root, "export", pid, str(target)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert rc == 1 and len(lines) == 1, err
    assert lines[0].startswith("pool-profiles: error: ") and "Traceback" not in err
    assert os.listdir(target.parent) == []


@pytest.mark.asyncio
async def test_export_route_cut_mid_stream_logs_one_line(
    aiohttp_client, store, dropping_reads, caplog
):
    pid = profile_with_images(store)
    client = await aiohttp_client(make_app(store))
    with caplog.at_level(logging.WARNING, logger="pool_profiles"):
        resp = await client.get("/grid_pool/profiles/export", params={"id": pid})
        assert resp.status == 200  # headers went out before the blobs were read
        with pytest.raises(Exception):  # noqa: B017 -- the download is cut, not short
            await resp.read()
    ours = [r for r in caplog.records if r.name.startswith("pool_profiles")]
    assert ours and all(r.exc_info is None for r in ours), [r.getMessage() for r in ours]
    assert any("Could not connect" in r.getMessage() for r in ours)
