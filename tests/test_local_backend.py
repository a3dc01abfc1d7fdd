"""Local-disk specifics the conformance suite cannot see."""

from __future__ import annotations

import os

import pytest

from pool_profiles.backends import local, open_store
from pool_profiles.errors import StorageError


def test_windows_replace_is_retried_while_a_reader_holds_the_file(tmp_path, monkeypatch):
    store = open_store(str(tmp_path / "s"))
    store.write_bytes("p/manifest.json", b"old")
    real_replace = os.replace
    refusals = []

    def busy_then_free(src, dst):
        if len(refusals) < 3:
            refusals.append(dst)
            raise PermissionError(13, "The process cannot access the file", dst)
        real_replace(src, dst)

    monkeypatch.setattr(local.os, "name", "nt")
    monkeypatch.setattr(local.os, "replace", busy_then_free)
    monkeypatch.setattr(local.time, "sleep", lambda s: None)
    store.write_bytes("p/manifest.json", b"new")
    assert len(refusals) == 3
    assert store.read_bytes("p/manifest.json") == b"new"
    assert [p.name for p in (tmp_path / "s" / "p").iterdir()] == ["manifest.json"]


def test_permission_errors_elsewhere_fail_at_once_and_leave_no_temp_file(tmp_path, monkeypatch):
    store = open_store(str(tmp_path / "s"))
    store.write_bytes("p/a.png", b"old")

    def refuse(src, dst):
        raise PermissionError(13, "Permission denied", dst)

    monkeypatch.setattr(local.os, "name", "posix")
    monkeypatch.setattr(local.os, "replace", refuse)
    with pytest.raises(StorageError, match="Permission denied"):
        store.write_bytes("p/a.png", b"new")
    assert store.read_bytes("p/a.png") == b"old"
    assert [p.name for p in (tmp_path / "s" / "p").iterdir()] == ["a.png"]


def test_leftover_temp_files_are_listed_on_request_and_only_they_can_be_deleted(tmp_path):
    from pool_profiles.errors import ValidationError

    store = open_store(str(tmp_path / "s"))
    store.write_bytes("p/a.png", b"x")
    (tmp_path / "s" / "p" / ".a.png.0123abcd.tmp").write_bytes(b"half")
    assert [e.name for e in store.listdir("p")] == ["a.png"]
    listed = {e.name: e for e in store.listdir("p", hidden=True)}
    assert set(listed) == {"a.png", ".a.png.0123abcd.tmp"}
    assert all(e.mtime is not None for e in listed.values())
    for bad in ["a.png", "../.x.tmp", ".lock"]:
        with pytest.raises(ValidationError):
            store.delete_temp("p", bad)
    store.delete_temp("p", ".a.png.0123abcd.tmp")
    assert [e.name for e in store.listdir("p", hidden=True)] == ["a.png"]
