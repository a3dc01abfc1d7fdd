"""A document update_json wrote is kept parsed (doc_memo.py) and the next change starts
from a copy of it: nothing anyone holds ever changes under them, a change that
raises or loses a race leaves nothing behind, and the bytes a change reads again are
compared, not hashed. (That the memo is used, and only at its own version, on every
backend: the conformance suite's test_update_json_reuses_only_what_it_wrote.)"""

from __future__ import annotations

import json
import threading

import pytest
from images import png

from pool_profiles import pools
from pool_profiles.backends import open_store
from pool_profiles.errors import ValidationError
from pool_profiles.manifest import copy_manifest
from pool_profiles.store import content as content_mod
from pool_profiles.store import encode_json
from pool_profiles.store.doc_memo import DocMemo, MemoDiverged

P = "pool1"


@pytest.fixture
def store(tmp_path):
    s = open_store(str(tmp_path / "store"))
    for i in range(4):
        pools.add_image(s, P, png((i * 40, 0, 0)), label=f"s{i}")
    return s


def test_tests_run_with_verification_on():
    assert DocMemo.verify, "conftest turns it on: every test checks kept documents"


def test_a_manifest_a_change_returned_never_changes_after(store):
    """The route builds its answer from the manifest after the change returned, while
    other requests change the same pool: what it holds must stay as written."""
    held = []
    for i in range(6):
        doc = pools.set_label(store, P, i % 4, f"label {i}")
        held.append((doc, encode_json(doc)))
        pools.set_active(store, P, i % 4)
        pools.reorder(store, P, [1, 2, 3, 0])
    for doc, as_written in held:
        assert encode_json(doc) == as_written


def test_mutating_a_returned_manifest_is_caught(store):
    doc = pools.set_label(store, P, 0, "mine")
    doc["slots"][0]["label"] = "changed behind the store's back"
    with pytest.raises(MemoDiverged):
        pools.set_label(store, P, 1, "next")


def test_a_change_that_raises_leaves_the_kept_document_whole(store):
    pools.set_label(store, P, 0, "kept")

    def half_then_fail(doc):
        doc["slots"].clear()
        raise ValidationError("rejected")

    with pytest.raises(ValidationError):
        pools.update_manifest(store, P, half_then_fail)
    doc = pools.set_label(store, P, 1, "after")
    assert [s["label"] for s in doc["slots"]] == ["kept", "after", "s2", "s3"]
    assert json.loads(store.read_bytes(f"{P}/manifest.json")) == doc


def test_another_writer_is_never_hidden_by_the_memo(store, tmp_path):
    pools.set_label(store, P, 0, "ours")
    other = open_store(str(tmp_path / "store"))  # another instance on the same folder
    pools.set_label(other, P, 1, "theirs")
    doc = pools.set_label(store, P, 2, "ours again")
    assert [s["label"] for s in doc["slots"]][:3] == ["ours", "theirs", "ours again"]


def test_threads_changing_one_pool_keep_every_change(store):
    def work(tag):
        for i in range(10):
            pools.set_label(store, P, i % 4, f"{tag}{i}")
            pools.set_active(store, P, i % 4)

    threads = [threading.Thread(target=work, args=(t,)) for t in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = json.loads(store.read_bytes(f"{P}/manifest.json"))
    assert len(doc["slots"]) == 4
    assert {s["label"][0] for s in doc["slots"]} <= {"a", "b", "c"}
    assert all(s["label"][1:] in {"6", "7", "8", "9"} for s in doc["slots"])


def test_a_change_hashes_its_document_once(store, monkeypatch):
    """Local disk versions are content hashes: the bytes read at the start, read again
    under the lock and just written are compared, so a change hashes only its new bytes."""
    pools.set_label(store, P, 0, "warm")
    hashed = []
    real = content_mod.content_version
    monkeypatch.setattr(content_mod, "content_version", lambda d: hashed.append(len(d)) or real(d))
    pools.set_label(store, P, 1, "one hash")
    assert len(hashed) == 1
    hashed.clear()
    pools.set_active(store, P, 2)
    assert len(hashed) == 1


def test_copy_manifest_is_independent_slot_by_slot():
    doc = {"active": 0, "next_seq": 3, "slots": [{"image": "a.png", "label": "x"}], "extra": 1}
    copied = copy_manifest(doc)
    copied["slots"][0]["label"] = "y"
    copied["slots"].append({"image": "b.png"})
    copied["active"] = 1
    assert doc == {
        "active": 0,
        "next_seq": 3,
        "slots": [{"image": "a.png", "label": "x"}],
        "extra": 1,
    }


def test_the_memo_is_bounded():
    memo = DocMemo(size=2)
    for i in range(3):
        memo.keep(f"k{i}", "v", {"n": i}, b'{"n":%d}' % i)
    assert memo.take("k0", "v") is None
    assert memo.take("k2", "v") == {"n": 2}
    assert memo.take("k2", "other version") is None


def test_the_pool_view_right_after_a_change_parses_nothing(store, monkeypatch):
    """Every grid fetches the view after a change (the change event): the manifest this
    process just wrote is the view's, bytes compared, not parsed again."""
    parsed = []
    real = store.parse_json
    monkeypatch.setattr(store, "parse_json", lambda k, d: parsed.append(k) or real(k, d))
    written = pools.set_label(store, P, 2, "fresh")
    view = pools.current_manifest(store, P)
    assert parsed == [] and view is written
    pools.set_label(open_store(store.root), P, 3, "theirs")  # another instance
    assert pools.current_manifest(store, P)["slots"][3]["label"] == "theirs"
    assert parsed == [f"{P}/manifest.json"]
