"""archive: zip export/import on every backend, hostile zips, earlier-pack zips."""

from __future__ import annotations

import io
import json
import os
import stat
import struct
import uuid
import zipfile
import zlib

import pytest
from PIL import Image

from pool_profiles import archive, pools, registry
from pool_profiles.errors import NotFoundError, PoolProfilesError, TooLargeError, ValidationError
from pool_profiles.testing.spec import StoreSpec


def png(color=(255, 0, 0), size=(8, 6), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def mem():
    return StoreSpec(f"memory://arc-{uuid.uuid4().hex[:12]}").open()


def make_profile(store, name="Set A") -> str:
    pid = registry.create_profile(store, name)["id"]
    pools.add_image(store, pid, png((255, 0, 0)), label="red")
    pools.add_image(store, pid, png((0, 0, 255), (5, 9)), label="blue")
    pools.set_mask(store, pid, 0, png(200, mode="L"))
    pools.set_active(store, pid, 0)
    return pid


def pool_contents(store, pid):
    """Slots as (image bytes, mask bytes, label) plus the active index."""
    m = pools.read_manifest(store, pid)
    slots = [
        (
            pools.read_blob(store, pid, s["image"]),
            pools.read_blob(store, pid, s["mask"]) if s.get("mask") else None,
            s["label"],
        )
        for s in m["slots"]
    ]
    return slots, m["active"]


def export_bytes(store, pid) -> bytes:
    return b"".join(archive.iter_export(store, pid))


def snapshot(store):
    return registry.list_profiles(store), store.walk("")


# -- round trips ---------------------------------------------------------------------


def test_roundtrip_same_store_suffixes_name(store):
    pid = make_profile(store)
    data = export_bytes(store, pid)
    entry = archive.import_zip(store, io.BytesIO(data))
    assert entry["name"] == "Set A (2)"
    assert entry["id"] != pid
    assert pool_contents(store, entry["id"]) == pool_contents(store, pid)
    # Thumbnails are made at import, so the grid never fetches originals.
    for s in pools.read_manifest(store, entry["id"])["slots"]:
        assert store.exists(f"{entry['id']}/thumbs/{s['image']}.webp")
    again = archive.import_zip(store, io.BytesIO(data))
    assert again["name"] == "Set A (3)"


def test_roundtrip_to_another_store_keeps_name(store, mem, tmp_path):
    pid = make_profile(store)
    path = tmp_path / "a.zip"
    with open(path, "wb") as f:
        size = archive.export_to_file(store, pid, f)
    assert size == path.stat().st_size
    entry = archive.import_zip(mem, str(path))
    assert entry["name"] == "Set A"
    assert pool_contents(mem, entry["id"]) == pool_contents(store, pid)


def test_import_name_argument_and_its_collision(mem):
    pid = make_profile(mem)
    data = export_bytes(mem, pid)
    assert archive.import_zip(mem, io.BytesIO(data), name=" Other ")["name"] == "Other"
    assert archive.import_zip(mem, io.BytesIO(data), name="other")["name"] == "other (2)"
    with pytest.raises(ValidationError):
        archive.import_zip(mem, io.BytesIO(data), name="   ")


def test_import_from_non_seekable_stream(mem):
    pid = make_profile(mem)
    data = export_bytes(mem, pid)

    class Pipe(io.RawIOBase):
        def __init__(self):
            self.buf = io.BytesIO(data)

        def readable(self):
            return True

        def seekable(self):
            return False

        def readinto(self, b):
            chunk = self.buf.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    entry = archive.import_zip(mem, Pipe())
    assert pool_contents(mem, entry["id"]) == pool_contents(mem, pid)


def test_export_layout_and_compression(mem):
    pid = make_profile(mem)
    zf = zipfile.ZipFile(io.BytesIO(export_bytes(mem, pid)))
    names = zf.namelist()
    assert names[0] == "profile_meta.json"
    assert json.loads(zf.read("profile_meta.json")) == {"name": "Set A"}
    manifest = json.loads(zf.read("pool/manifest.json"))
    blobs = {n for s in manifest["slots"] for n in (s["image"], s["mask"]) if n}
    assert set(names) == {"profile_meta.json", "pool/manifest.json"} | {f"pool/{b}" for b in blobs}
    for info in zf.infolist():
        expected = zipfile.ZIP_DEFLATED if info.filename.endswith(".json") else zipfile.ZIP_STORED
        assert info.compress_type == expected, info.filename
        assert stat.S_ISREG(info.external_attr >> 16)
    assert zf.testzip() is None


def test_export_of_unknown_profile_fails_before_first_chunk(mem):
    with pytest.raises(NotFoundError):
        archive.iter_export(mem, "nope")
    with pytest.raises(ValidationError):
        archive.iter_export(mem, "../x")


def test_export_streams_in_bounded_chunks(mem):
    pid = registry.create_profile(mem, "Big")["id"]
    noise = Image.frombytes("RGB", (1100, 1000), os.urandom(1100 * 1000 * 3))
    buf = io.BytesIO()
    noise.save(buf, "PNG", compress_level=0)
    big = buf.getvalue()
    assert len(big) > 3 * archive.CHUNK
    pools.add_image(mem, pid, big)
    seen = []
    chunks = list(archive.iter_export(mem, pid, progress=lambda d, t: seen.append((d, t))))
    assert len(chunks) > 3
    assert max(len(c) for c in chunks) <= archive.CHUNK + 64 * 1024
    assert seen[-1] == (1, 1)
    entry = archive.import_zip(mem, io.BytesIO(b"".join(chunks)))
    assert pool_contents(mem, entry["id"]) == pool_contents(mem, pid)


def test_export_leaves_out_slots_whose_image_is_gone(mem):
    pid = make_profile(mem)
    m = pools.read_manifest(mem, pid)
    mem.delete(pools.blob_key(pid, m["slots"][1]["image"]))
    entry = archive.import_zip(mem, io.BytesIO(export_bytes(mem, pid)))
    slots, _ = pool_contents(mem, entry["id"])
    assert [label for _, _, label in slots] == ["red"]


def test_empty_profile_roundtrip(store):
    pid = registry.create_profile(store, "Empty")["id"]
    entry = archive.import_zip(store, io.BytesIO(export_bytes(store, pid)))
    assert entry["name"] == "Empty (2)"
    assert pools.pool_view(store, entry["id"])["count"] == 0


# -- the earlier local-only pack -----------------------------------------------------


def earlier_zip(with_manifest=True, name="Old set") -> bytes:
    """What the earlier pack's export_profile made: everything deflated, img_0001 names."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("profile_meta.json", json.dumps({"name": name}))
        if with_manifest:
            manifest = {
                "active": 1,
                "next_seq": 3,
                "slots": [
                    {
                        "image": "img_0001.png",
                        "mask": "img_0001.mask.png",
                        "label": "first",
                        "added": 1,
                    },
                    {"image": "img_0002.png", "mask": None, "label": "second", "added": 2},
                ],
            }
            z.writestr("pool/manifest.json", json.dumps(manifest, indent=2))
        z.writestr("pool/img_0001.png", png((10, 20, 30)))
        z.writestr("pool/img_0001.mask.png", png(255, mode="L"))
        z.writestr("pool/img_0002.png", png((40, 50, 60)))
    return buf.getvalue()


def test_earlier_pack_zip_imports(store):
    entry = archive.import_zip(store, io.BytesIO(earlier_zip()))
    assert entry["name"] == "Old set"
    slots, active = pool_contents(store, entry["id"])
    assert active == 1
    assert slots == [
        (png((10, 20, 30)), png(255, mode="L"), "first"),
        (png((40, 50, 60)), None, "second"),
    ]


def test_imported_labels_are_tidied_not_refused(mem):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("profile_meta.json", json.dumps({"name": "Captions"}))
        slots = [
            {"image": "img_0001.png", "label": "line one\nline\x00two\u202e"},
            {"image": "img_0002.png", "label": "x" * 5000},
            {"image": "img_0003.png"},
        ]
        z.writestr("pool/manifest.json", json.dumps({"active": 0, "slots": slots}))
        for i in (1, 2, 3):
            z.writestr(f"pool/img_000{i}.png", png())
    entry = archive.import_zip(mem, io.BytesIO(buf.getvalue()))
    labels = [s["label"] for s in pools.pool_view(mem, entry["id"])["slots"]]
    assert labels[0] == "line one line two"
    assert labels[1] == "x" * 200
    assert labels[2] == ""


def test_earlier_pack_zip_without_manifest_imports(mem):
    entry = archive.import_zip(mem, io.BytesIO(earlier_zip(with_manifest=False)))
    view = pools.pool_view(mem, entry["id"])
    assert [s["image"] for s in view["slots"]] == ["img_0001.png", "img_0002.png"]
    assert view["slots"][0]["mask"] == "img_0001.mask.png"


def earlier_pack_import(src_zip: bytes, dst) -> None:
    """The earlier pack's import_profile (from the plan): pool/* files into the pool dir."""
    with zipfile.ZipFile(io.BytesIO(src_zip)) as z:
        for n in z.namelist():
            if n.startswith("pool/") and not n.endswith("/"):
                target = dst / n[len("pool/") :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(z.read(n))


def test_our_zip_is_importable_by_the_earlier_pack(mem, tmp_path):
    pid = make_profile(mem)
    earlier_pack_import(export_bytes(mem, pid), tmp_path / "pool")
    manifest = json.loads((tmp_path / "pool" / "manifest.json").read_text())
    ours = pool_contents(mem, pid)[0]
    for slot, (image, mask, label) in zip(manifest["slots"], ours, strict=True):
        assert (tmp_path / "pool" / slot["image"]).read_bytes() == image
        if mask is not None:
            assert (tmp_path / "pool" / slot["mask"]).read_bytes() == mask
        assert slot["label"] == label


# -- hostile zips: refused, nothing written -------------------------------------------


def zip_with(members, meta=True, compression=zipfile.ZIP_STORED) -> bytes:
    """members: list of (ZipInfo or name, bytes)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        if meta:
            z.writestr("profile_meta.json", json.dumps({"name": "Evil"}))
        for info, data in members:
            z.writestr(info, data)
    return buf.getvalue()


def manifest_for(*names) -> bytes:
    return json.dumps({"active": 0, "slots": [{"image": n, "label": ""} for n in names]}).encode()


def symlink_member(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


@pytest.fixture(scope="module")
def image_bomb() -> bytes:
    """A real 12000x12000 grayscale PNG (~140 KB): 144 MP once decoded."""
    width = height = 12000
    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def hostile(kind: str, image_bomb: bytes) -> bytes:
    ok = png()
    if kind == "dotdot":
        return zip_with([("pool/manifest.json", manifest_for("a.png")), ("pool/../a.png", ok)])
    if kind == "dotdot_top":
        return zip_with([("../../evil.png", ok)])
    if kind == "absolute":
        return zip_with([("/tmp/evil.png", ok)])
    if kind == "backslash":
        return zip_with([("pool\\..\\evil.png", ok)])
    if kind == "drive":
        return zip_with([("C:/evil.png", ok)])
    if kind == "symlink":
        return zip_with(
            [("pool/manifest.json", manifest_for("a.png")), symlink_member("pool/a.png", "/etc")]
        )
    if kind == "zip_bomb":
        return zip_with(
            [("pool/manifest.json", manifest_for("a.png")), ("pool/a.png", bytes(40 << 20))],
            compression=zipfile.ZIP_DEFLATED,
        )
    if kind == "image_bomb":
        return zip_with([("pool/manifest.json", manifest_for("a.png")), ("pool/a.png", image_bomb)])
    if kind == "not_image":
        return zip_with([("pool/manifest.json", manifest_for("a.png")), ("pool/a.png", b"GIF8")])
    if kind == "missing_ref":
        return zip_with(
            [("pool/manifest.json", manifest_for("a.png", "b.png")), ("pool/a.png", ok)]
        )
    if kind == "bad_manifest_name":
        return zip_with([("pool/manifest.json", manifest_for("../x.png")), ("pool/a.png", ok)])
    if kind == "unexpected":
        return zip_with([("pool/run.sh", b"rm -rf /")])
    if kind == "nested":
        return zip_with([("pool/sub/a.png", ok)])
    if kind == "not_zip":
        return b"this is not a zip"
    if kind == "bad_json":
        return zip_with([("pool/manifest.json", b"{ not json")])
    if kind == "case_twins":  # one file on Windows/macOS disks: a slot loses its image
        return zip_with(
            [
                ("pool/manifest.json", manifest_for("a.png", "A.png")),
                ("pool/a.png", ok),
                ("pool/A.png", png((0, 255, 0))),
            ]
        )
    if kind == "device_name":  # CON, NUL, COM1...: devices, not files, on Windows
        return zip_with([("pool/manifest.json", manifest_for("CON.png")), ("pool/CON.png", ok)])
    if kind in ("size_lies_small", "size_lies_big"):
        # The central directory claims a size the member does not have.
        big = png((1, 2, 3), (300, 300))
        data = zip_with(
            [("pool/manifest.json", manifest_for("a.png")), ("pool/a.png", big)],
            compression=zipfile.ZIP_DEFLATED,
        )
        return patch_declared_size(data, "pool/a.png", 10 if kind.endswith("small") else 1 << 31)
    if kind == "nan":  # Python reads NaN; browsers' JSON.parse does not
        doc = b'{"active": 0, "slots": [{"image": "a.png", "added": NaN}]}'
        return zip_with([("pool/manifest.json", doc), ("pool/a.png", ok)])
    if kind == "deep_json":  # json.loads raises RecursionError
        deep = b"[" * 100_000 + b"]" * 100_000
        return zip_with([("pool/manifest.json", deep), ("pool/a.png", ok)])
    if kind == "deep_meta":
        return zip_with([("profile_meta.json", b"[" * 30_000 + b"]" * 30_000)], meta=False)
    raise ValueError(kind)


REQUIRED_HOSTILE = {
    "dotdot": "climbs out",
    "absolute": "absolute path",
    "symlink": "symbolic link",
    "zip_bomb": "zip bomb",
    "image_bomb": "pixels",
}
MORE_HOSTILE = [
    "dotdot_top",
    "backslash",
    "drive",
    "not_image",
    "missing_ref",
    "bad_manifest_name",
    "unexpected",
    "nested",
    "not_zip",
    "bad_json",
    "deep_json",
    "deep_meta",
    "case_twins",
    "device_name",
    "nan",
    "size_lies_small",
    "size_lies_big",
]


def patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    """Rewrite the uncompressed size of `name` in the central directory."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        if out[pos + 46 : pos + 46 + name_len] == name.encode():
            struct.pack_into("<I", out, pos + 24, size)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def test_zip64_and_data_descriptor_zips_import(mem):
    class Unseekable(io.RawIOBase):  # makes zipfile write data descriptors
        def __init__(self):
            self.buf = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.buf += b
            return len(b)

    for force_zip64 in (True, False):
        sink = Unseekable()
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in [
                ("pool/manifest.json", manifest_for("a.png")),
                ("pool/a.png", png()),
            ]:
                with z.open(name, "w", force_zip64=force_zip64) as f:
                    f.write(data)
        entry = archive.import_zip(mem, io.BytesIO(bytes(sink.buf)))
        assert pools.read_blob(mem, entry["id"], "a.png") == png()


def assert_refused(store, data: bytes, error=PoolProfilesError) -> PoolProfilesError:
    make_profile(store, "Existing")
    before = snapshot(store)
    with pytest.raises(error) as info:
        archive.import_zip(store, io.BytesIO(data))
    assert snapshot(store) == before
    return info.value


@pytest.mark.parametrize("kind", REQUIRED_HOSTILE)
def test_hostile_zip_refused_on_every_backend(store, kind, image_bomb):
    err = assert_refused(store, hostile(kind, image_bomb), (ValidationError, TooLargeError))
    assert REQUIRED_HOSTILE[kind] in err.message


@pytest.mark.parametrize("kind", MORE_HOSTILE)
def test_more_hostile_zips_refused(mem, kind, image_bomb):
    assert_refused(mem, hostile(kind, image_bomb), (ValidationError, TooLargeError))


def test_member_count_and_size_limits(mem):
    data = zip_with([(f"pool/img_{i}.png", png()) for i in range(5)])
    assert_refused(mem, b"", ValidationError)
    with pytest.raises(TooLargeError):
        archive.import_zip(mem, io.BytesIO(data), limits=archive.ImportLimits(max_members=3))
    with pytest.raises(TooLargeError):
        archive.import_zip(mem, io.BytesIO(data), limits=archive.ImportLimits(max_member_bytes=10))
    with pytest.raises(TooLargeError):
        archive.import_zip(mem, io.BytesIO(data), limits=archive.ImportLimits(max_total_bytes=100))


def test_failure_while_writing_leaves_nothing(store, monkeypatch):
    make_profile(store, "Existing")
    before = snapshot(store)
    data = earlier_zip()

    def boom(*a, **k):
        raise PoolProfilesError("registry unavailable")

    monkeypatch.setattr(registry, "register_profile", boom)
    with pytest.raises(PoolProfilesError, match="registry unavailable"):
        archive.import_zip(store, io.BytesIO(data))
    assert snapshot(store) == before


def test_missing_file_is_one_validation_error(mem, tmp_path):
    with pytest.raises(ValidationError, match="cannot read"):
        archive.import_zip(mem, str(tmp_path / "nope.zip"))
