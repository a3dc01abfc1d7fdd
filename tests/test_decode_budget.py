"""Decoding is bounded and done once: concurrent decodes share one memory budget
(they wait, they do not fail), an upload and an import member are decoded once for
their checks, stored bytes and thumbnail."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest
from PIL import Image

from pool_profiles import archive, imaging, pools, registry
from pool_profiles.backends import open_store
from pool_profiles.decode_budget import BUDGET, DecodeBudget
from pool_profiles.imaging import ImageLimits

SIDE = 64


def png(color=(200, 10, 10), side=SIDE) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (side, side), color).save(buf, "PNG")
    return buf.getvalue()


def wait_until(predicate, timeout=10.0) -> bool:
    done = threading.Event()
    deadline = 0.0
    while not predicate():
        if deadline >= timeout:
            return False
        done.wait(0.01)
        deadline += 0.01
    return True


def test_a_decode_over_budget_waits_for_the_one_running():
    budget = DecodeBudget()
    release = threading.Event()
    order: list[str] = []

    def first():
        with budget.hold(60, 100):
            order.append("first in")
            release.wait(10)
            order.append("first out")

    def second():
        with budget.hold(60, 100):
            order.append("second in")

    a = threading.Thread(target=first)
    a.start()
    assert wait_until(lambda: budget.state().running == 1)
    b = threading.Thread(target=second)
    b.start()
    assert wait_until(lambda: budget.state().waiting == 1)  # queued, not refused
    assert order == ["first in"]
    release.set()
    a.join(10)
    b.join(10)
    assert order == ["first in", "first out", "second in"]
    assert budget.state().running == 0 and budget.state().in_use == 0


def test_a_decode_bigger_than_the_whole_budget_still_runs_alone():
    budget = DecodeBudget()
    with budget.hold(500, 100):
        assert budget.state().running == 1


def test_small_decodes_share_the_budget():
    budget = DecodeBudget()
    with budget.hold(30, 100), budget.hold(30, 100), budget.hold(30, 100):
        assert budget.state().running == 3


@pytest.fixture
def gated_decodes(monkeypatch):
    """Make every decode wait until `peers` decodes are running or queued, so that
    concurrent uploads really overlap; records how many ran at once."""
    real = imaging._decode
    gate = {"peers": 1}

    finished = [0]

    def started() -> int:
        state = BUDGET.state()
        return state.running + state.waiting + finished[0]

    def slow_decode(img, *args):
        # Every upload has reached the budget (running or queued) before any decodes;
        # then give the others a moment to run alongside, where the budget lets them.
        wait_until(lambda: started() >= gate["peers"], 5)
        wait_until(lambda: BUDGET.state().running >= gate["peers"] - finished[0], 0.3)
        real(img, *args)
        finished[0] += 1

    monkeypatch.setattr(imaging, "_decode", slow_decode)
    BUDGET.reset_peaks()
    return gate


@pytest.mark.parametrize("budget_images, most_at_once", [(1, 1), (4, 4)])
def test_concurrent_uploads_decode_within_the_budget(
    tmp_path, gated_decodes, budget_images, most_at_once
):
    store = open_store(str(tmp_path / "store"))
    one = SIDE * SIDE * 4 * 2  # an upload counts its pixels and one full-size copy
    limits = ImageLimits(decode_budget=one * budget_images)
    gated_decodes["peers"] = 4
    errors: list[BaseException] = []

    def upload(i):
        try:
            pools.add_image(store, f"pool{i}", png((i * 30, 0, 0)), limits=limits)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert all(pools.pool_view(store, f"pool{i}")["count"] == 1 for i in range(4))
    assert BUDGET.peak_running == most_at_once


def count_decodes(monkeypatch) -> list[str]:
    real = imaging._decode
    seen: list[str] = []

    def counting(img, *args):
        seen.append(img.format)
        real(img, *args)

    monkeypatch.setattr(imaging, "_decode", counting)
    return seen


def test_an_upload_is_decoded_once(tmp_path, monkeypatch):
    store = open_store(str(tmp_path / "store"))
    seen = count_decodes(monkeypatch)
    pools.add_image(store, "p", png())
    assert seen == ["PNG"]
    [slot] = pools.read_manifest(store, "p")["slots"]
    assert store.exists(pools.thumb_key("p", slot["image"]))


def exported_zip(n=3) -> bytes:
    mem = open_store("memory://decode-once-src")
    pid = registry.create_profile(mem, "Src")["id"]
    for i in range(n):
        pools.add_image(mem, pid, png((i * 50, 9, 9)))
    pools.set_mask(mem, pid, 0, png((255, 255, 255)))
    out = io.BytesIO()
    archive.export_to_file(mem, pid, out)
    registry.delete_profile(mem, pid)
    return out.getvalue()


def test_an_import_decodes_every_member_once_and_thumbnails_images(tmp_path, monkeypatch):
    data = exported_zip(3)
    store = open_store(str(tmp_path / "store"))
    seen = count_decodes(monkeypatch)
    pid = archive.import_zip(store, io.BytesIO(data))["id"]
    assert len(seen) == 4  # 3 images + 1 mask, each checked by one decode
    slots = pools.read_manifest(store, pid)["slots"]
    for slot in slots:
        assert store.exists(pools.thumb_key(pid, slot["image"]))
    assert not store.exists(pools.thumb_key(pid, slots[0]["mask"]))


def test_an_import_with_an_image_that_does_not_decode_leaves_nothing(tmp_path):
    src = zipfile.ZipFile(io.BytesIO(exported_zip(3)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        names = sorted(n for n in src.namelist() if n.endswith(".png") and ".mask-" not in n)
        for info in src.infolist():
            body = src.read(info)
            if info.filename == names[-1]:
                body = body[: len(body) // 2]  # truncated: the header reads, pixels do not
            zf.writestr(info, body)
    store = open_store(str(tmp_path / "store"))
    registry.create_profile(store, "Kept")
    with pytest.raises(Exception) as caught:
        archive.import_zip(store, io.BytesIO(out.getvalue()))
    assert names[-1] in str(caught.value)
    assert [e["name"] for e in registry.list_profiles(store)] == ["Kept"]
    kept = registry.list_profiles(store)[0]["id"]
    # the failed import leaves nothing: only the kept profile, the registry and its history
    assert {k.split("/")[0] for k in store.walk("")} <= {kept, "profiles.json", "profiles.history"}


def mask_png(side=SIDE) -> bytes:
    buf = io.BytesIO()
    Image.new("L", (side, side), 255).save(buf, "PNG")
    return buf.getvalue()


def test_the_mask_editor_image_decodes_once_each_inside_one_budget_hold(monkeypatch):
    seen = count_decodes(monkeypatch)
    holds: list[int] = []
    real_hold = BUDGET.hold

    def recording(cost, capacity):
        holds.append(cost)
        assert BUDGET.state().running == 0  # never a hold inside a hold (it could wait forever)
        return real_hold(cost, capacity)

    monkeypatch.setattr(BUDGET, "hold", recording)
    staged = imaging.image_for_mask_editor(png(), mask_png(SIDE // 2))
    assert seen == ["PNG", "PNG"]  # the image and the mask, once each
    assert len(holds) == 1 and holds[0] >= (SIDE * SIDE + (SIDE // 2) ** 2) * 4
    with Image.open(io.BytesIO(staged)) as out:
        assert out.mode == "RGBA" and out.size == (SIDE, SIDE)
        assert out.getchannel("A").getextrema() == (0, 0)  # all painted: alpha 0


def test_the_mask_editor_image_waits_for_the_budget_and_then_runs(monkeypatch):
    limits = ImageLimits(decode_budget=SIDE * SIDE * 4)  # less than the pair costs
    release = threading.Event()
    done: list[bytes] = []

    def other_decode():
        with BUDGET.hold(SIDE * SIDE * 4, limits.budget_bytes()):
            release.wait(10)

    holder = threading.Thread(target=other_decode)
    holder.start()
    assert wait_until(lambda: BUDGET.state().running == 1)
    stager = threading.Thread(
        target=lambda: done.append(imaging.image_for_mask_editor(png(), mask_png(), limits))
    )
    stager.start()
    assert wait_until(lambda: BUDGET.state().waiting == 1)
    assert not done  # it waits while the budget is spent
    release.set()
    holder.join(10)
    stager.join(10)
    assert len(done) == 1  # and runs alone afterwards, bigger than the whole budget


def test_the_mask_editor_image_checks_pixels_before_decoding(monkeypatch):
    seen = count_decodes(monkeypatch)
    with pytest.raises(Exception, match="pixels"):
        imaging.image_for_mask_editor(png(), mask_png(), ImageLimits(max_pixels=SIDE))
    assert seen == []
