"""ETags and 304s for the list routes, so open grids and dropdowns can poll cheaply:
the tag is the stored document's version (S3 ETag, content hash), asked for without
reading the document where the backend can, and the view is only built on a miss."""

from __future__ import annotations

import hashlib
import json
import math
import threading
import weakref
from collections import OrderedDict
from json.encoder import encode_basestring_ascii as _str_json
from typing import Any

from aiohttp import web

from .. import pools, registry
from ..errors import NotFoundError
from ..manifest import stamped_manifest
from ..slot_pick import slot_key
from ..store import Store


def hits(if_none_match: str | None, etag: str) -> bool:
    """Does an If-None-Match header name `etag` (weak or strong, or "*")?"""
    if not if_none_match:
        return False
    bare = etag.removeprefix("W/")
    for tag in (t.strip() for t in if_none_match.split(",")):
        if tag == "*" or tag.removeprefix("W/") == bare:
            return True
    return False


def _tag(kind: str, version: str) -> str:
    # Weak: the JSON is the same document, not byte-identical output of one file.
    digest = hashlib.sha256(f"{kind}:{version}".encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def _tag_of(kind: str, doc: Any) -> str:
    return _tag(kind, json.dumps(doc, sort_keys=True))


def _profile_exists(store: Store, pool_id: str) -> bool:
    try:
        registry.get_profile(store, pool_id)
    except NotFoundError:
        return False
    return True


def encode_body(doc: Any) -> bytes:
    """A JSON answer, encoded off the event loop: compact (json's C encoder, no
    spaces) and ASCII-escaped, so any str a document holds (even a lone surrogate read
    from hand-edited JSON) encodes."""
    return json.dumps(doc, separators=(",", ":")).encode("ascii")


#: Encoded slots by what they show: a change re-encodes only the slots it changed (a
#: 10,000-slot pool's answer then costs ~7 ms, not ~12). Bounded; cleared when full.
_SLOT_JSON_MAX = 50_000
_slot_json_memo: dict[tuple[Any, ...], str] = {}


def _slot_json(s: dict[str, Any]) -> str:
    """One slot of pools.view_of after its "index", encoded as encode_body would (the
    same bytes): '"id":...,"image":...,"has_mask":...}'."""
    image, mask, label, added = s.get("image"), s.get("mask"), s.get("label", ""), s.get("added", 0)
    raw_id = s.get("id")
    kind = type(added)
    if not (
        type(image) is str
        and type(label) is str
        and (mask is None or type(mask) is str)
        and (raw_id is None or type(raw_id) is str)
        and (kind is int or (kind is float and math.isfinite(added)))
    ):
        view = {"id": slot_key(s), "image": image, "mask": mask, "label": label, "added": added}
        return encode_body({**view, "has_mask": bool(mask)}).decode("ascii")[1:]
    # The type is in the key (1 == 1.0 == True); -0.0 == 0.0 is not memoised.
    key = (raw_id, image, mask, label, kind, added)
    found = _slot_json_memo.get(key)
    if found is not None:
        return found
    # The C string escaper and repr are what json.dumps uses for these types.
    mask_json = "null" if mask is None else _str_json(mask)
    has = "true" if mask else "false"
    text = (
        f'"id":{_str_json(slot_key(s))},"image":{_str_json(image)},"mask":{mask_json},'
        f'"label":{_str_json(label)},"added":{added!r},"has_mask":{has}}}'
    )
    if not (kind is float and added == 0.0):
        if len(_slot_json_memo) >= _SLOT_JSON_MAX:
            _slot_json_memo.clear()
        _slot_json_memo[key] = text
    return text


def encode_view(pool_id: str, manifest: dict[str, Any], **extra: Any) -> bytes:
    """encode_body({**pools.view_of(pool_id, manifest), **extra}), the same bytes in a
    third of the time at 10,000 slots (no view dicts built and walked by the encoder,
    unchanged slots from the memo): every change answers with it."""
    slots = manifest["slots"]
    active = pools.resolve_index(manifest, -1)
    head = encode_body({"pool_id": pool_id, "active": 0 if active is None else active})
    tail = "".join(
        f",{encode_body(k).decode()}:{encode_body(v).decode()}" for k, v in extra.items()
    )
    body = ",".join([f'{{"index":{i},{_slot_json(s)}' for i, s in enumerate(slots)])
    text = f'{head[:-1].decode()},"count":{len(slots)},"slots":[{body}]{tail}}}'
    return text.encode("ascii")


def json_body(body: bytes, *, status: int = 200, headers: Any = None) -> web.Response:
    """A response for JSON already encoded (encode_body)."""
    return web.Response(body=body, status=status, headers=headers, content_type="application/json")


#: Encoded list answers kept per store, by what they list and the stamp they show: a
#: full GET of an unchanged pool or registry (a grid opened again, a second browser)
#: is then a stat and these bytes.
CACHED_BODIES = 8

_bodies_lock = threading.Lock()
_bodies: weakref.WeakKeyDictionary[Store, OrderedDict[str, tuple[str, bytes]]] = (
    weakref.WeakKeyDictionary()
)


def _cached_body(store: Store, what: str, etag: str) -> bytes | None:
    with _bodies_lock:
        known = _bodies.get(store, {}).get(what)
    return known[1] if known is not None and known[0] == etag else None


def _keep_body(store: Store, what: str, etag: str, body: bytes) -> bytes:
    with _bodies_lock:
        bodies = _bodies.setdefault(store, OrderedDict())
        bodies[what] = (etag, body)
        bodies.move_to_end(what)
        while len(bodies) > CACHED_BODIES:
            bodies.popitem(last=False)
    return body


def pool_listing(store: Store, pool_id: str, if_none_match: str | None) -> tuple[str, bytes | None]:
    """(etag, encoded view), or (etag, None) when the client's copy is current. The view
    gets `exists`: False only for an id no pool or profile has (an unknown id, not an
    empty pool)."""
    # The manifest's stamp (a stat, a conditional GET) tags it; unchanged, it is not
    # read again, and the view is built from the manifest already parsed.
    version, manifest = stamped_manifest(store, pool_id)
    if version is not None:
        etag = _tag("pool", version)
        if hits(if_none_match, etag):
            return etag, None
        body = _cached_body(store, "pool:" + pool_id, etag)
        if body is not None:
            return etag, body
        # A stored manifest: the id exists.
        return etag, _keep_body(
            store, "pool:" + pool_id, etag, encode_view(pool_id, manifest, exists=True)
        )
    view = pools.view_of(pool_id, manifest)
    # A pool without manifest is empty or an earlier-pack folder rebuilt from blobs.
    view["exists"] = version is not None or view["count"] > 0 or _profile_exists(store, pool_id)
    etag = _tag_of("pool-nomanifest", view)
    if hits(if_none_match, etag):
        return etag, None
    return etag, encode_body(view)


def profiles_listing(store: Store, if_none_match: str | None) -> tuple[str, bytes | None]:
    """(etag, encoded {"profiles": [...]}), or (etag, None) when the client's copy is
    current. One small request (a stat, a conditional GET) when the registry is
    unchanged since this process last read it; else one read."""
    with _bodies_lock:
        known = _bodies.get(store, {}).get("profiles")
    cur = store.read_if_changed(registry.REGISTRY_KEY, known[0] if known else None)
    if cur is None:
        assert known is not None
        stamp, body = known
        etag = _tag("profiles", stamp)
        return etag, None if hits(if_none_match, etag) else body
    if cur.data is None or cur.version is None:  # no registry (yet)
        listing: dict[str, Any] = {"profiles": []}
        etag = _tag_of("profiles-none", listing)
        return etag, None if hits(if_none_match, etag) else encode_body(listing)
    etag = _tag("profiles", cur.version)
    # Parsed and checked even for a 304: a damaged registry is reported, not hidden.
    body = encode_body({"profiles": registry.profiles_in(store, cur.data)})
    _keep_body(store, "profiles", cur.version, body)  # kept by stamp, not by tag
    return etag, None if hits(if_none_match, etag) else body


def conditional_json(body: bytes | None, etag: str) -> web.Response:
    """200 with the encoded document, or 304 (body None); never cached without
    revalidation."""
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if body is None:
        return web.Response(status=304, headers=headers)
    return json_body(body, headers=headers)
