"""Datasets out and in (issue 17, item 6): a pool exports as the layout LoRA trainers
read (`NNNN.<ext>` + `NNNN.txt` + `masks/NNNN.png`) to a folder or a zip, and such a
folder or zip imports as a new profile; what cannot be used is listed as skipped, and
hostile input is refused before anything is written."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from pool_profiles import archive, imaging, pools, registry
from pool_profiles.archive.layout import ImportLimits
from pool_profiles.backends import open_store
from pool_profiles.cli import main
from pool_profiles.errors import StorageError, TooLargeError, ValidationError
from pool_profiles.staging import MARKER


def encode(img: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png(color=(200, 0, 0), size=(40, 30)) -> bytes:
    return encode(Image.new("RGB", size, color))


def mask(size=(40, 30), left=True) -> bytes:
    img = Image.new("L", size, 0)
    img.paste(255, (0, 0, size[0] // 2, size[1]) if left else (size[0] // 2, 0, *size))
    return encode(img)


@pytest.fixture
def local(tmp_path):
    return open_store(str(tmp_path / "store"))


def make_profile(store, name="Dogs") -> str:
    """Three slots: a labelled PNG, a JPEG with a mask, an unlabelled PNG."""
    pid = registry.create_profile(store, name)["id"]
    pools.add_image(store, pid, png((255, 0, 0)), label="red dog, front")
    pools.add_image(store, pid, encode(Image.new("RGB", (40, 30), (0, 0, 250)), "JPEG"))
    pools.set_mask(store, pid, 1, mask())
    pools.add_image(store, pid, png((0, 250, 0), (20, 10)))
    return pid


def blobs(store, pid) -> list[tuple[bytes, str, bytes | None]]:
    """(image bytes, label, mask as 'L' pixels) per slot."""
    out = []
    for slot in pools.read_manifest(store, pid)["slots"]:
        layer = None
        if slot["mask"]:
            with Image.open(io.BytesIO(pools.read_blob(store, pid, slot["mask"]))) as img:
                layer = imaging.mask_layer(img).tobytes()
        out.append((pools.read_blob(store, pid, slot["image"]), slot["label"], layer))
    return out


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def store_keys(store) -> list[str]:
    return [k for k in store.walk("") if ".pool_profiles_locks" not in k]


# -- export --------------------------------------------------------------------------


def test_export_to_a_folder_writes_the_trainer_layout(store, tmp_path):
    pid = make_profile(store)
    out = tmp_path / "dogs"
    summary = archive.export_dataset(store, pid, str(out))
    assert (summary.images, summary.labels, summary.masks, summary.missing) == (3, 1, 1, [])
    assert tree(out) == [
        "0000.png",
        "0000.txt",
        "0001.jpg",
        "0001.txt",
        "0002.png",
        "0002.txt",
        "masks/0001.png",
    ]
    slots = pools.read_manifest(store, pid)["slots"]
    for i, slot in enumerate(slots):  # the original bytes
        ext = os.path.splitext(slot["image"])[1]
        assert (out / f"{i:04d}{ext}").read_bytes() == pools.read_blob(store, pid, slot["image"])
    assert (out / "0000.txt").read_text(encoding="utf-8") == "red dog, front"
    assert (out / "0002.txt").read_bytes() == b""  # no label: an empty caption
    with Image.open(out / "masks" / "0001.png") as m:
        assert m.mode == "L" and m.size == (40, 30)
        assert m.getpixel((5, 5)) == 255 and m.getpixel((35, 5)) == 0  # white = painted
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_export_to_a_zip_has_the_same_files(local, tmp_path):
    pid = make_profile(local)
    archive.export_dataset(local, pid, str(tmp_path / "folder"))
    archive.export_dataset(local, pid, str(tmp_path / "dogs.zip"))
    with zipfile.ZipFile(tmp_path / "dogs.zip") as zf:
        assert sorted(zf.namelist()) == tree(tmp_path / "folder")
        for info in zf.infolist():
            assert zf.read(info) == (tmp_path / "folder" / info.filename).read_bytes()
            if info.filename.endswith((".png", ".jpg")):
                assert info.compress_type == zipfile.ZIP_STORED  # images are not deflated


def test_a_mask_stored_another_way_is_exported_at_the_images_size(local, tmp_path):
    pid = registry.create_profile(local, "Old masks")["id"]
    pools.add_image(local, pid, png(size=(40, 30)))
    pools.set_mask(local, pid, 0, mask(size=(40, 30)))
    slot = pools.read_manifest(local, pid)["slots"][0]
    # As the earlier pack stores it: opaque RGBA, white = painted, and half the size.
    rgba = Image.new("RGBA", (20, 15), (0, 0, 0, 255))
    rgba.paste((255, 255, 255, 255), (0, 0, 10, 15))
    local.write_bytes(pools.blob_key(pid, slot["mask"]), encode(rgba))
    archive.export_dataset(local, pid, str(tmp_path / "out"))
    with Image.open(tmp_path / "out" / "masks" / "0000.png") as m:
        assert m.mode == "L" and m.size == (40, 30)
        assert m.getpixel((3, 15)) == 255 and m.getpixel((36, 15)) == 0


def test_a_turned_jpeg_gets_its_mask_at_the_upright_size(local, tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned by 90 degrees: 30 x 40 upright
    jpeg = encode(Image.new("RGB", (40, 30), (9, 9, 9)), "JPEG", exif=exif.tobytes())
    assert imaging.upright_size(jpeg) == (30, 40)
    pid = registry.create_profile(local, "Turned")["id"]
    pools.add_image(local, pid, jpeg)
    pools.set_mask(local, pid, 0, mask(size=(30, 40)))
    archive.export_dataset(local, pid, str(tmp_path / "out"))
    with Image.open(tmp_path / "out" / "masks" / "0000.png") as m:
        assert m.size == (30, 40)
    again = archive.import_any(local, str(tmp_path / "out"))
    assert again.masks == 1 and again.skipped == []


@pytest.mark.parametrize("target", ["file", "full"])
def test_export_never_writes_into_something_that_exists(local, tmp_path, target):
    pid = make_profile(local)
    out = tmp_path / "out"
    if target == "file":
        out.write_text("keep me")
    else:
        out.mkdir()
        (out / "mine.txt").write_text("keep me")
    with pytest.raises(ValidationError, match="not an empty folder"):
        archive.export_dataset(local, pid, str(out))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "store"]


def test_a_failed_folder_export_leaves_nothing(local, tmp_path, monkeypatch):
    from pool_profiles.archive import dataset_export

    pid = make_profile(local)
    real = dataset_export._copy_image

    def failing(store, key, dst):
        if key.endswith(".jpg"):
            raise StorageError("the store went away")
        return real(store, key, dst)

    monkeypatch.setattr(dataset_export, "_copy_image", failing)
    with pytest.raises(StorageError):
        archive.export_dataset(local, pid, str(tmp_path / "out"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


def test_an_empty_folder_target_is_used(local, tmp_path):
    pid = make_profile(local)
    (tmp_path / "out").mkdir()
    assert archive.export_dataset(local, pid, str(tmp_path / "out")).images == 3


# -- import --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["folder", "zip"])
def test_round_trip_keeps_images_labels_and_masks(store, tmp_path, kind):
    pid = make_profile(store)
    out = tmp_path / ("dogs.zip" if kind == "zip" else "dogs")
    archive.export_dataset(store, pid, str(out))
    result = archive.import_any(store, str(out))
    assert result.format == "dataset" and result.skipped == []
    assert (result.images, result.labels, result.masks) == (3, 1, 1)
    assert result.profile["name"] == "dogs (2)"  # names are unique ignoring case: "Dogs"
    assert blobs(store, result.profile["id"]) == blobs(store, pid)
    manifest = pools.read_manifest(store, result.profile["id"])
    assert manifest["active"] == 0
    # Thumbnails were made while importing, and the stage marker is gone.
    keys = store_keys(store)
    assert all(pools.thumb_key(result.profile["id"], s["image"]) in keys for s in manifest["slots"])
    assert f"{result.profile['id']}/{MARKER}" not in keys
    assert archive.import_any(store, str(out)).profile["name"] == "dogs (3)"


def write_dataset(folder: Path) -> None:
    """A user's dataset folder with everything a real one holds besides images."""
    folder.mkdir()
    (folder / "masks").mkdir()
    (folder / "2.png").write_bytes(png((0, 0, 200)))
    (folder / "10.png").write_bytes(png((0, 200, 0)))
    (folder / "10.txt").write_text("ten, green", encoding="utf-8")
    (folder / "1.webp").write_bytes(encode(Image.new("RGB", (8, 8), (1, 2, 3)), "WEBP"))
    (folder / "1.txt").write_bytes("\ufeffone\nline two".encode())
    (folder / "3.bmp").write_bytes(encode(Image.new("RGB", (6, 6), (4, 5, 6)), "BMP"))
    (folder / "masks" / "2.png").write_bytes(mask())
    (folder / "masks" / "10.png").write_bytes(mask(size=(20, 20)))  # wrong size
    (folder / "masks" / "1.jpg").write_bytes(b"not a png mask")
    (folder / "masks" / "99.png").write_bytes(mask())
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    (folder / "meta.json").write_text("{}")
    (folder / "orphan.txt").write_text("no image")
    (folder / "latin1.png").write_bytes(png((9, 9, 9)))
    (folder / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "sub").mkdir()
    (folder / "sub" / "4.png").write_bytes(png())


def test_what_cannot_be_used_is_skipped_with_the_reason(local, tmp_path):
    folder = tmp_path / "set"
    write_dataset(folder)
    outside = tmp_path / "secret.png"
    outside.write_bytes(png((7, 7, 7)))
    (folder / "link.png").symlink_to(outside)
    os.mkfifo(folder / "pipe.png")
    result = archive.import_any(local, str(folder), name="Mine")
    reasons = {s.name: s.reason for s in result.skipped}
    assert reasons["masks/10.png"] == "mask is 20x20, its image 40x30"
    assert "must be a .png" in reasons["masks/1.jpg"]
    assert reasons["masks/99.png"] == "no image named 99.*"
    assert reasons["orphan.txt"] == "no image named orphan.*"
    assert "not an image or a caption (.json)" == reasons["meta.json"]
    assert "not a readable image" in reasons["broken.png"] or "decode" in reasons["broken.png"]
    assert reasons["latin1.txt"] == "not UTF-8 text"
    assert reasons[".DS_Store"] == "a hidden file"
    assert reasons["sub/"].startswith("in a sub-folder")
    assert reasons["link.png"] == "a symbolic link (links are not followed)"
    assert reasons["pipe.png"] == "not a regular file"
    assert len(reasons) == len(result.skipped) == 11
    # Natural order, captions and the good mask kept; the BMP became a PNG.
    slots = pools.read_manifest(local, result.profile["id"])["slots"]
    assert [s["label"] for s in slots] == ["one line two", "", "", "ten, green", ""]
    assert [os.path.splitext(s["image"])[1] for s in slots] == [
        ".webp",
        ".png",
        ".png",
        ".png",
        ".png",
    ]
    assert [bool(s["mask"]) for s in slots] == [False, True, False, False, False]
    assert result.profile["name"] == "Mine"
    # The link's target was never read into the store.
    secret = outside.read_bytes()
    assert all(local.read_bytes(k) != secret for k in store_keys(local) if k.endswith(".png"))


def test_an_image_over_the_pixel_limit_is_skipped_naming_the_setting(local, tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "ok.png").write_bytes(png())
    (folder / "big.png").write_bytes(png(size=(100, 100)))
    (folder / "big.txt").write_text("big")
    (folder / "masks").mkdir()
    (folder / "masks" / "big.png").write_bytes(mask(size=(100, 100)))
    limits = imaging.ImageLimits(max_pixels=5000)
    result = archive.import_dataset_folder(local, str(folder), image_limits=limits)
    reasons = {s.name: s.reason for s in result.skipped}
    assert "POOL_PROFILES_MAX_PIXELS=5000" in reasons["big.png"]
    assert reasons["masks/big.png"] == "its image was skipped"
    assert result.images == 1


def test_a_long_caption_is_cut_and_says_so(local, tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "a.png").write_bytes(png())
    (folder / "a.txt").write_text("word " * 100)
    result = archive.import_any(local, str(folder))
    label = pools.read_manifest(local, result.profile["id"])["slots"][0]["label"]
    assert len(label) == 200 and label.startswith("word word")
    assert [s.reason for s in result.skipped] == [
        "text past 200 characters left out (a label's limit)"
    ]


def zip_of(members: list[tuple[str, bytes]], path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def test_a_zipped_folder_is_read_inside_its_folder_and_named_after_it(local, tmp_path):
    path = zip_of(
        [
            ("Cats/0001.png", png()),
            ("Cats/0001.txt", b"a cat"),
            ("Cats/masks/0001.png", mask()),
            ("__MACOSX/Cats/._0001.png", b"junk"),
        ],
        tmp_path / "upload.zip",
    )
    result = archive.import_any(local, str(path))
    assert result.profile["name"] == "Cats"
    assert (result.images, result.labels, result.masks) == (1, 1, 1)
    assert [(s.name, s.reason) for s in result.skipped] == [
        ("__MACOSX/Cats/._0001.png", "macOS metadata")
    ]


def test_a_zip_without_a_top_folder_is_named_after_the_file(local, tmp_path):
    path = zip_of([("a.png", png())], tmp_path / "Birds.zip")
    assert archive.import_any(local, str(path)).profile["name"] == "Birds"
    with open(path, "rb") as f:  # a stream (an upload) has the name it is given
        assert archive.import_any(local, f, filename="Owls.zip").profile["name"] == "Owls"


@pytest.mark.parametrize(
    "members",
    [
        [("a.png", png()), ("../escape.png", png())],
        [("a.png", png()), ("/abs.png", png())],
        [("a.png", png()), ("dir/../../x.png", png())],
        [("a.png", png()), ("C:/x.png", png())],
    ],
)
def test_a_zip_with_names_escaping_its_folder_is_refused_before_any_write(local, tmp_path, members):
    before = store_keys(local)
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name), data)
    with pytest.raises(ValidationError):
        archive.import_any(local, str(path))
    assert store_keys(local) == before
    assert not (tmp_path / "escape.png").exists()


def test_a_zip_bomb_is_refused(local, tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.png", png())
        zf.writestr("b.txt", b"\0" * (50 * 1024 * 1024))
    before = store_keys(local)
    with pytest.raises(TooLargeError, match="zip bomb"):
        archive.import_any(local, str(path))
    assert store_keys(local) == before


def test_too_many_files_are_refused(local, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(6):
        (folder / f"{i}.png").write_bytes(png())
    with pytest.raises(TooLargeError, match="more than 5 files"):
        archive.import_dataset_folder(local, str(folder), limits=ImportLimits(max_members=5))
    assert registry.list_profiles(local) == []


def test_a_zip_member_link_is_skipped_not_followed(local, tmp_path):
    path = tmp_path / "links.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.png", png())
        link = zipfile.ZipInfo("b.png")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    result = archive.import_any(local, str(path))
    assert [(s.name, s.reason) for s in result.skipped] == [
        ("b.png", "a symbolic link (links are not followed)")
    ]


def test_nothing_usable_fails_and_leaves_nothing(local, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.md").write_text("hi")
    (folder / "bad.png").write_bytes(b"nope")
    before = store_keys(local)
    with pytest.raises(ValidationError, match="no image that can be imported") as err:
        archive.import_any(local, str(folder))
    assert "notes.md" in err.value.message
    assert store_keys(local) == before


def test_a_store_failure_mid_import_leaves_nothing_behind(store, tmp_path, monkeypatch):
    folder = tmp_path / "set"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.png").write_bytes(png((i * 40, 0, 0)))
    before = store_keys(store)
    real, calls = store.write_bytes, []

    def flaky(key, data):
        calls.append(key)
        if len(calls) == 6:
            raise StorageError("the store went away")
        return real(key, data)

    monkeypatch.setattr(store, "write_bytes", flaky)
    with pytest.raises(StorageError):
        archive.import_any(store, str(folder))
    monkeypatch.undo()
    assert store_keys(store) == before
    assert registry.list_profiles(store) == []


def test_a_profile_zip_is_still_a_profile_zip(local, tmp_path):
    pid = make_profile(local)
    path = tmp_path / "p.zip"
    archive.export_to_path(local, pid, str(path))
    assert archive.zip_format(open(path, "rb")) == "profile"
    result = archive.import_any(local, str(path))
    assert result.format == "profile" and result.skipped == []
    assert (result.images, result.labels, result.masks) == (3, 1, 1)
    assert result.profile["name"] == "Dogs (2)"
    assert blobs(local, result.profile["id"]) == blobs(local, pid)


def test_not_a_zip_is_one_clear_error(local, tmp_path):
    path = tmp_path / "x.zip"
    path.write_text("hello")
    with pytest.raises(ValidationError, match="not a valid zip"):
        archive.import_any(local, str(path))


# -- the command line ----------------------------------------------------------------


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    root = str(tmp_path / "store")

    def run(*argv: str) -> tuple[int, str, str]:
        rc = main(["--store", root, *argv])
        out, err = capsys.readouterr()
        return rc, out, err

    run.root = root
    return run


def test_cli_export_and_import_a_dataset(cli, tmp_path):
    pid = make_profile(open_store(cli.root))
    rc, _, err = cli("export", "Dogs", str(tmp_path / "dogs"), "--format", "dataset")
    assert rc == 0, err
    assert "3 image(s), 1 caption(s), 1 mask(s)" in err
    rc, _, err = cli("export", pid, str(tmp_path / "dogs.zip"), "--format", "dataset")
    assert rc == 0 and zipfile.ZipFile(tmp_path / "dogs.zip").testzip() is None
    (tmp_path / "dogs" / "notes.json").write_text("{}")
    rc, out, err = cli("import", str(tmp_path / "dogs"))
    assert rc == 0, err
    assert "imported" in out and "3 image(s), 1 caption(s), 1 mask(s); 1 file(s) skipped" in out
    assert "skipped notes.json: not an image or a caption (.json)" in out
    rc, out, err = cli("import", str(tmp_path / "dogs.zip"), "--json", "--name", "Again")
    assert rc == 0, err
    doc = json.loads(out)
    assert doc["name"] == "Again" and doc["format"] == "dataset" and doc["skipped"] == []
    assert (doc["images"], doc["labels"], doc["masks"]) == (3, 1, 1)


def test_cli_dataset_to_stdout(tmp_path, capsysbinary, monkeypatch):
    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    root = str(tmp_path / "store")
    make_profile(open_store(root))
    assert main(["--store", root, "export", "Dogs", "-", "--format", "dataset"]) == 0
    data = capsysbinary.readouterr().out
    assert "masks/0001.png" in zipfile.ZipFile(io.BytesIO(data)).namelist()


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "Dogs", "{tmp}/taken", "--format", "dataset"],
        ["export", "Dogs", "{tmp}/no/such/dir", "--format", "dataset"],
        ["export", "Dogs", "{tmp}/x", "--format", "tar"],
        ["import", "{tmp}/nothing-here"],
        ["import", "{tmp}/empty"],
    ],
)
def test_cli_dataset_errors_are_one_line(cli, tmp_path, argv):
    make_profile(open_store(cli.root))
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    try:
        rc, _, err = cli(*[a.format(tmp=tmp_path) for a in argv])
    except SystemExit as exc:  # argparse refuses an unknown --format
        assert exc.code == 2
        return
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pool-profiles: error:"), err
    assert len(registry.list_profiles(open_store(cli.root))) == 1


def test_cli_imports_a_dataset_zip_from_stdin(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    root = str(tmp_path / "store")
    path = zip_of([("a.png", png()), ("a.txt", b"from a pipe")], tmp_path / "in.zip")
    with open(path, "rb") as f:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(f))
        assert main(["--store", root, "import", "-", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["format"] == "dataset" and doc["name"] == "Imported dataset"
    slots = pools.read_manifest(open_store(root), doc["id"])["slots"]
    assert [s["label"] for s in slots] == ["from a pipe"]


def test_a_killed_folder_exports_part_folder_goes_with_the_next_export(local, tmp_path):
    import subprocess
    import sys

    pid = make_profile(local)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # a pid no process has any more
    stale = tmp_path / f".old.pool-profiles-{proc.pid}-0123abcd.part"
    (stale / "masks").mkdir(parents=True)
    (stale / "0000.png").write_bytes(png())
    archive.export_dataset(local, pid, str(tmp_path / "new"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new", "store"]


def test_a_store_after_a_dataset_import_checks_clean(local, tmp_path):
    from pool_profiles import check

    pid = make_profile(local)
    archive.export_dataset(local, pid, str(tmp_path / "set"))
    archive.import_any(local, str(tmp_path / "set"))
    report = check.check_store(local)
    assert report.ok, [i.message for i in report.issues]


def test_cli_exports_a_node_pool_as_a_dataset(cli, tmp_path):
    store = open_store(cli.root)
    pools.add_image(store, "node-pool-7", png(), label="from a node")
    out = tmp_path / "node"
    rc, _, err = cli("export", "--pool", "node-pool-7", str(out), "--format", "dataset")
    assert rc == 0, err
    assert tree(out) == ["0000.png", "0000.txt"]
    assert (out / "0000.txt").read_text() == "from a node"
    for argv in (
        ["export", "--pool", "node-pool-7", str(tmp_path / "n.zip")],  # zip: profiles only
        ["export", "--pool", "no-such-pool", str(tmp_path / "x"), "--format", "dataset"],
        ["export", "--pool", "../up", str(tmp_path / "y"), "--format", "dataset"],
        ["export", "only-one-argument"],
    ):
        rc, _, err = cli(*argv)
        assert rc == 1 and len(err.strip().splitlines()) == 1, (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node", "store"]


def test_damaged_zips_fail_with_one_clear_error_and_leave_nothing(tmp_path):
    """Bytes flipped anywhere in a dataset zip or a profile zip: an import either
    works or fails with the pack's error (never zipfile's NotImplementedError or a
    negative seek), and no staged pool is left."""
    import random

    store = open_store(f"memory://damaged-{tmp_path.name}")
    members = [("set/a.png", png()), ("set/a.txt", b"cap"), ("set/masks/a.png", mask())]
    dataset = zip_of([*members, ("set/b.png", png((1, 2, 3)))], tmp_path / "d.zip")
    pid = make_profile(store)
    archive.export_to_path(store, pid, str(tmp_path / "p.zip"))
    rnd = random.Random(7)
    for base in (dataset.read_bytes(), (tmp_path / "p.zip").read_bytes()):
        for _ in range(120):
            data = bytearray(base)
            for _ in range(rnd.randint(1, 6)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
            try:
                archive.import_any(store, io.BytesIO(bytes(data)), filename="x.zip")
            except (ValidationError, TooLargeError):
                pass
    assert not [k for k in store.walk("") if k.endswith(MARKER)]
