"""`pool-profiles pool history|undo|restore` and `profiles deleted|restore`: through the
same core as the routes, one-line errors that change nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from pool_profiles import pools, registry
from pool_profiles.backends import open_store


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    for name in ("POOL_PROFILES_STORE", "POOL_PROFILES_STORE_OPTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("POOL_PROFILES_HISTORY_VERSIONS", raising=False)
    monkeypatch.delenv("POOL_PROFILES_HISTORY_DAYS", raising=False)


@pytest.fixture
def cats(cli, tmp_path) -> str:
    rc, out, err = cli("profiles", "create", "Cats", "--json")
    assert rc == 0, err
    pid = json.loads(out)["id"]
    for i, color in enumerate([(255, 0, 0), (0, 255, 0)]):
        path = tmp_path / f"c{i}.png"
        Image.new("RGB", (8, 6), color).save(path)
        assert cli("pool", "add", "Cats", str(path), "--label", f"cat {i}")[0] == 0
    return pid


def labels(root: Path, pid: str) -> list[str]:
    return [s["label"] for s in pools.read_manifest(open_store(str(root)), pid)["slots"]]


def test_history_undo_restore(cli, root, cats):
    assert cli("pool", "remove", "Cats", "0")[0] == 0
    rc, out, err = cli("pool", "history", "Cats")
    assert rc == 0, err
    lines = out.splitlines()
    assert "removed slot 0 (“cat 0”)" in lines[1] and lines[1].lstrip().startswith("1 ")
    assert "added slot 1 (“cat 1”)" in lines[2]
    rc, out, err = cli("pool", "undo", "Cats")
    assert rc == 0, err
    assert out.startswith("undid: removed slot 0") and labels(root, cats) == ["cat 0", "cat 1"]
    rc, out, _ = cli("pool", "history", "Cats", "--json")
    versions = json.loads(out)["versions"]
    assert versions[0]["kind"] == "undo"
    # restore by number (3 = the version before the second add) and by id
    rc, out, err = cli("pool", "restore", "Cats", "3")
    assert rc == 0, err
    assert labels(root, cats) == ["cat 0"]
    rc, out, err = cli("pool", "restore", "Cats", versions[0]["version"])
    assert rc == 0, err
    assert labels(root, cats) == ["cat 1"]  # the version before the undo: slot 0 removed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("pool", "restore", "Cats", "99"), "there is no number 99"),
        (("pool", "restore", "Cats", "../x"), "is not a history version id"),
        (
            ("pool", "restore", "Cats", "1700000000000000-c-0123456789abcdef-abcdef"),
            "unknown, or pruned",
        ),
        (("pool", "undo", "--pool", "empty-pool"), "nothing to undo"),
        (("profiles", "restore", "Nope"), "no deleted profile 'Nope'"),
        (("pool", "history", "--pool", "x", "--limit", "0"), "--limit must be 1 or more"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(cli, root, cats, argv, message):
    store = open_store(str(root))
    before = store.read_bytes(f"{cats}/manifest.json")
    rc, out, err = cli(*argv)
    assert rc == 1 and out == ""
    assert err.startswith("pool-profiles: error: ") and message in err and err.count("\n") == 1
    assert store.read_bytes(f"{cats}/manifest.json") == before


def test_a_stale_undo_from_another_process_is_not_lost(cli, root, cats):
    # Undo takes back the change that made the current state, never one before it.
    store = open_store(str(root))
    pools.set_label(store, cats, 0, "theirs")
    rc, out, err = cli("pool", "undo", "Cats")
    assert rc == 0, err
    assert out.startswith("undid: labelled slot 0 “theirs”")
    assert labels(root, cats) == ["cat 0", "cat 1"]


def test_deleted_profiles_list_and_restore(cli, root, cats):
    assert cli("profiles", "delete", "Cats")[0] == 0
    rc, out, _ = cli("profiles", "deleted")
    assert rc == 0 and cats in out and "Cats" in out
    rc, out, _ = cli("profiles", "deleted", "--json")
    assert [d["id"] for d in json.loads(out)] == [cats]
    rc, out, err = cli("profiles", "restore", "cats")  # by name, any case
    assert rc == 0, err
    assert out.strip() == f"restored {cats}  Cats"
    assert [p["id"] for p in registry.list_profiles(open_store(str(root)))] == [cats]
    assert labels(root, cats) == ["cat 0", "cat 1"]
    rc, out, _ = cli("profiles", "deleted")
    assert out.strip() == "no deleted profiles to restore"
    # check agrees: nothing orphaned, nothing missing, after all of it
    rc, out, err = cli("check")
    assert rc == 0, out + err
