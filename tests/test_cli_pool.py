"""`pool-profiles pool ...` and the profile commands: profiles by id or name, node
pools only with --pool, and slot edits through the same core operations as the routes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from pool_profiles import pools, registry
from pool_profiles.backends import open_store


@pytest.fixture(autouse=True)
def no_env_store(monkeypatch):
    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    monkeypatch.delenv("POOL_PROFILES_STORE_OPTIONS", raising=False)


def png(path: Path, color=(200, 10, 10), mode="RGB") -> str:
    Image.new(mode, (8, 6), color).save(path)
    return str(path)


@pytest.fixture
def dogs(cli, tmp_path) -> str:
    """A profile "Dogs" with three labelled images; returns its id."""
    rc, out, err = cli("profiles", "create", "Dogs", "--json")
    assert rc == 0, err
    pid = json.loads(out)["id"]
    for i, color in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)]):
        path = png(tmp_path / f"{i}.png", color)
        assert cli("pool", "add", "Dogs", path, "--label", f"dog {i}")[0] == 0
    return pid


def files(root: Path) -> list[Path]:
    return sorted(
        p.relative_to(root) for p in root.rglob("*") if ".pool_profiles_locks" not in str(p)
    )


def view(root: Path, pool_id: str) -> dict:
    return pools.pool_view(open_store(str(root)), pool_id)


def test_profiles_are_named_by_id_or_name(cli, dogs, root, tmp_path):
    by_name = json.loads(cli("pool", "list", "Dogs", "--json")[1])
    by_id = json.loads(cli("pool", "list", dogs, "--json")[1])
    assert by_name == by_id and by_name["pool_id"] == dogs and by_name["count"] == 3
    rc, out, err = cli("profiles", "rename", "Dogs", "Hounds")
    assert rc == 0, err
    rc, out, err = cli("profiles", "duplicate", "Hounds", "Pups", "--json")
    assert rc == 0, err
    rc, _, err = cli("export", "Pups", str(tmp_path / "p.zip"))
    assert rc == 0, err
    assert cli("profiles", "delete", "Pups")[0] == 0
    names = [e["name"] for e in registry.list_profiles(open_store(str(root)))]
    assert names == ["Hounds"]


@pytest.mark.parametrize(
    "argv",
    [
        ["pool", "add", "nosuchprofile", "{img}"],
        ["pool", "list", "nosuchprofile"],
        ["pool", "active", "nosuchprofile", "0"],
        ["profiles", "rename", "nosuchprofile", "X"],
        ["profiles", "delete", "nosuchprofile"],
        ["export", "nosuchprofile", "{zip}"],
        ["copy", "nosuchprofile", "--to", "memory://cli-copy-none"],
    ],
)
def test_an_unknown_profile_is_an_error_and_changes_nothing(cli, dogs, root, tmp_path, argv):
    before = files(root)
    argv = [a.format(img=png(tmp_path / "x.png"), zip=tmp_path / "x.zip") for a in argv]
    rc, out, err = cli(*argv)
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "no such profile: 'nosuchprofile'" in lines[0], err
    assert files(root) == before
    assert not (tmp_path / "x.zip").exists()


def test_a_node_pool_is_named_with_pool(cli, root, tmp_path):
    rc, out, err = cli("pool", "add", "--pool", "node-1", png(tmp_path / "a.png"))
    assert rc == 0, err
    assert view(root, "node-1")["count"] == 1
    rc, out, _ = cli("pool", "list", "--pool", "node-1", "--json")
    assert json.loads(out)["count"] == 1
    assert registry.list_profiles(open_store(str(root))) == []  # not a profile
    rc, _, err = cli("pool", "list", "--pool", "../x")
    assert rc == 1 and "--pool" in err


def test_remove_active_label_reorder(cli, dogs, root):
    images = [s["image"] for s in view(root, dogs)["slots"]]
    rc, out, err = cli("pool", "active", "Dogs", "2")
    assert rc == 0, err
    assert view(root, dogs)["active"] == 2
    assert "*   2" in out  # the pool is shown as it is now

    assert cli("pool", "label", "Dogs", "1", "  green dog ")[0] == 0
    assert view(root, dogs)["slots"][1]["label"] == "green dog"
    assert cli("pool", "label", "Dogs", "1", "")[0] == 0
    assert view(root, dogs)["slots"][1]["label"] == ""

    rc, out, err = cli("pool", "reorder", "Dogs", "2", "0", "1", "--json")
    assert rc == 0, err
    now = json.loads(out)
    assert [s["image"] for s in now["slots"]] == [images[2], images[0], images[1]]
    assert now["active"] == 0  # the active image moved with the reorder

    assert cli("pool", "remove", "Dogs", "0")[0] == 0
    after = view(root, dogs)
    assert [s["image"] for s in after["slots"]] == [images[0], images[1]]
    store = open_store(str(root))
    # its blob stays while history keeps the version that used it (`pool undo`)
    assert store.exists(pools.blob_key(dogs, images[2]))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["pool", "active", "Dogs", "7"], "7"),
        (["pool", "remove", "Dogs", "x"], "not a whole number"),
        (["pool", "reorder", "Dogs", "0", "0", "1"], "exactly once"),
        (["pool", "label", "Dogs", "0"], "expected 2 value(s)"),
        (["pool", "mask", "clear", "Dogs", "9"], "9"),
    ],
)
def test_bad_slot_edits_are_one_line_and_change_nothing(cli, dogs, root, argv, message):
    before = view(root, dogs)
    rc, _, err = cli(*argv)
    lines = err.strip().splitlines()
    assert rc == 1 and len(lines) == 1 and lines[0].startswith("pool-profiles: error: "), err
    assert message in lines[0]
    assert view(root, dogs) == before


def test_mask_set_and_clear(cli, dogs, root, tmp_path):
    mask = Image.new("L", (8, 6), 0)
    mask.paste(255, (0, 0, 4, 6))  # left half painted
    mask.save(tmp_path / "m.png")
    rc, out, err = cli("pool", "mask", "set", "Dogs", "1", str(tmp_path / "m.png"))
    assert rc == 0, err
    slot = view(root, dogs)["slots"][1]
    assert slot["has_mask"] and "[mask]" in out
    stored = pools.read_blob(open_store(str(root)), dogs, slot["mask"])
    painted = Image.open(io.BytesIO(stored)).convert("L")
    assert painted.getpixel((1, 1)) == 255 and painted.getpixel((6, 1)) == 0
    rc, _, err = cli("pool", "mask", "clear", "Dogs", "1")
    assert rc == 0, err
    assert not view(root, dogs)["slots"][1]["has_mask"]
    rc, _, err = cli("pool", "mask", "set", "Dogs", "1", str(tmp_path / "none.png"))
    assert rc == 1 and "none.png" in err


def test_list_filters_by_tags(cli, tmp_path):
    assert cli("profiles", "create", "Cars")[0] == 0
    for i, label in enumerate(["front, red", "side, red", "front, blue", "plain label"]):
        assert cli("pool", "add", "Cars", png(tmp_path / f"t{i}.png"), "--label", label)[0] == 0

    def listed(*extra):
        rc, out, err = cli("pool", "list", "Cars", "--json", *extra)
        assert rc == 0, err
        return [s["label"] for s in json.loads(out)["slots"]]

    assert listed("--tag", "red") == ["front, red", "side, red"]
    assert listed("--tag", "RED", "--tag", "front") == ["front, red"]  # AND
    assert listed("--any-tag", "blue", "--any-tag", "side") == ["side, red", "front, blue"]
    assert listed("--tag", "plain label") == ["plain label"]  # no comma: one tag
    assert listed("--tag", "nothing") == []
    rc, out, _ = cli("pool", "list", "Cars", "--tag", "red")
    assert rc == 0 and "2 of 4 image(s)" in out
    rc, _, err = cli("pool", "list", "Cars", "--tag", "a|b")
    assert rc != 0 and len(err.strip().splitlines()) == 1
