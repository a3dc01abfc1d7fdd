"""/grid_pool/*: one pool's slots (list, add, remove, active, label, reorder, set_mask,
copy) and handing a slot to ComfyUI's MaskEditor. Adds and copies answer with the pool view
(pools.pool_view); the slot edits (remove, active, label, reorder, set_mask) answer
with the change only (`change_answer`): a 10,000-slot view per click is ~1 MB."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aiohttp import web

from .. import ids, imaging, pool_copy, pools
from ..errors import NotFoundError, StorageError
from ..store import Store
from .conditional import conditional_json, encode_body, encode_view, json_body, pool_listing
from .context import Context
from .errors import BadRequest, json_error, json_errors
from .history_routes import with_change
from .params import get_id, get_image, get_index, get_order, get_text, query_id, to_index
from .uploads import read_form, read_json

NO_STORE = {"Cache-Control": "no-store"}


def change_answer(pool_id: str, doc: dict[str, Any], change: str, **extra: Any) -> bytes:
    """What a slot edit answers: {"pool_id", "change", "active", "count", ...what changed}.
    A client applies it to the view it holds; "count" and "active" let it notice that
    another writer changed the pool meanwhile (then it fetches the view)."""
    active = pools.resolve_index(doc, -1)
    head = {"pool_id": pool_id, "change": change, "active": 0 if active is None else active}
    return encode_body({**head, "count": len(doc["slots"]), **extra})


def _slot_answer(change: str, edit: str) -> Callable[..., bytes]:
    """pools.<edit> (looked up per call), answered by change_answer. `image`: the
    slot's image in the client's view (pools._find_slot); the answer names the index
    and image acted on, so a client whose view has moved fetches it again."""

    def run(store: Store, pool_id: str, *args: Any, image: str | None = None) -> bytes:
        if change == "reorder":  # a permutation of the whole pool: no one slot
            return change_answer(pool_id, getattr(pools, edit)(store, pool_id, *args), change)
        found: dict[str, int] = {}
        doc = getattr(pools, edit)(store, pool_id, *args, expect=image, found=found)
        at = found["index"]
        extra: dict[str, Any] = {"index": at}
        if change == "label":
            extra["label"] = doc["slots"][at].get("label", "")
        if change != "remove":
            extra["image"] = doc["slots"][at]["image"]
        elif image is not None:
            extra["image"] = image
        return change_answer(pool_id, doc, change, **extra)

    return with_change(run)  # the answer names the history version it wrote


_REMOVE = _slot_answer("remove", "remove_slot")
_ACTIVE = _slot_answer("active", "set_active")
_LABEL = _slot_answer("label", "set_label")
_REORDER = _slot_answer("reorder", "reorder")


def _mask_answer(pool_id: str, doc: dict[str, Any], index: int) -> bytes:
    # `index`: where the slot is now (a concurrent reorder may have moved it, its mask
    # following its image); the answer's image tells a client whose view moved.
    slot = doc["slots"][index]
    mask = slot.get("mask")
    extra = {"index": index, "image": slot["image"], "mask": mask, "has_mask": bool(mask)}
    return change_answer(pool_id, doc, "mask", **extra)


def _add(store: Store, pool_id: str, data: bytes, label: str | None, limits: Any) -> bytes:
    written: dict[str, Any] = {}
    slot = pools.add_image(store, pool_id, data, label=label, limits=limits, written=written)
    return encode_view(pool_id, written["doc"], slot=slot)


def _set_mask(
    store: Store,
    pool_id: str,
    index: int,
    mask: bytes | None,
    limits: Any,
    image: str | None = None,
) -> bytes:
    found: dict[str, int] = {}
    written = pools.set_mask(store, pool_id, index, mask, limits=limits, expect=image, found=found)
    return _mask_answer(pool_id, written, found["index"])


def _stage(
    store: Store, pool_id: str, index: int, stage_image: Any, limits: Any = None
) -> dict[str, Any]:
    manifest = pools.read_manifest(store, pool_id)
    slots = manifest.get("slots") or []
    if not 0 <= index < len(slots):
        raise NotFoundError(f"pool {pool_id} has no slot {index}", code="no_slot")
    slot = slots[index]
    image = pools.check_blob_name(slot.get("image"))
    data = pools.read_blob(store, pool_id, image)
    mask = slot.get("mask")
    if mask:
        # The MaskEditor shows an image's alpha as the mask: start from the stored one.
        data = imaging.image_for_mask_editor(
            data, pools.read_blob(store, pool_id, pools.check_blob_name(mask)), limits
        )
        image = os.path.splitext(image)[0] + ".png"
    try:
        staged = stage_image(data, f"grid_pool_{pool_id}_{image}")
    except OSError as exc:  # ComfyUI's input folder: disk full, no permission
        # The reason, not the path: the browser needs no server paths.
        reason = exc.strerror or type(exc).__name__
        raise StorageError(
            f"could not stage slot {index} of pool {pool_id} for the MaskEditor: {reason}",
            code="stage_failed",
        ) from exc
    if not isinstance(staged, dict) or not isinstance(staged.get("name"), str):
        raise StorageError("the MaskEditor stager returned no file name", code="stage_failed")
    return {
        "name": staged["name"],
        "subfolder": str(staged.get("subfolder") or ""),
        "type": str(staged.get("type") or "input"),
        "pool_id": pool_id,
        "index": index,
        "image": slot.get("image"),
    }


def add_pool_routes(routes: web.RouteTableDef, ctx: Context) -> None:
    async def json_op(
        request: web.Request, change: Callable[..., Any], *fields: Any, **named: Any
    ) -> Any:
        return json_body(await ctx.run(change, *fields, **named))

    @routes.get("/grid_pool/list")
    @json_errors
    async def list_pool(request: web.Request) -> web.Response:
        pool_id = query_id(request.query, "pool_id")
        inm = request.headers.get("If-None-Match")
        etag, view = await ctx.run(pool_listing, pool_id, inm)
        return conditional_json(view, etag)

    @routes.post("/grid_pool/add")
    @json_errors
    async def add(request: web.Request) -> web.Response:
        form = await read_form(
            request, text=("pool_id", "label"), files={"image": ctx.limits.upload_bytes()}
        )
        pool_id = ids.check_id(form.text.get("pool_id"), "pool_id")
        if "image" not in form.files:
            raise BadRequest("missing file field 'image'")
        label = ids.clean_label(form.text.get("label")) or None
        view = await ctx.run(
            with_change(_add), pool_id, form.files["image"], label, ctx.limits.images()
        )
        return json_body(view)

    @routes.post("/grid_pool/remove")
    @json_errors
    async def remove(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        pool_id, index, image = get_id(body, "pool_id"), get_index(body), get_image(body)
        return await json_op(request, _REMOVE, pool_id, index, image=image)

    @routes.post("/grid_pool/active")
    @json_errors
    async def active(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        pool_id, index, image = get_id(body, "pool_id"), get_index(body), get_image(body)
        return await json_op(request, _ACTIVE, pool_id, index, image=image)

    @routes.post("/grid_pool/label")
    @json_errors
    async def label(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        pool_id, index = get_id(body, "pool_id"), get_index(body)
        text = ids.clean_label(get_text(body, "label", optional=True))
        return await json_op(request, _LABEL, pool_id, index, text, image=get_image(body))

    @routes.post("/grid_pool/reorder")
    @json_errors
    async def reorder(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        return await json_op(request, _REORDER, get_id(body, "pool_id"), get_order(body))

    @routes.post("/grid_pool/set_mask")
    @json_errors
    async def set_mask(request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            # {"pool_id", "index", "mask": null} clears the slot's mask.
            body = await read_json(request, ctx.limits.max_json_bytes)
            if body.get("mask", ...) is not None:
                raise BadRequest("send a mask image as multipart; JSON can only clear: mask=null")
            pool_id, index = get_id(body, "pool_id"), get_index(body)
            return await json_op(request, _set_mask, pool_id, index, None, None, get_image(body))
        form = await read_form(
            request,
            text=("pool_id", "index", "clear", "image"),
            files={"mask": ctx.limits.upload_bytes()},
        )
        pool_id = ids.check_id(form.text.get("pool_id"), "pool_id")
        index = to_index(form.text.get("index"))
        image = get_image(form.text)
        clear = (form.text.get("clear") or "").strip().lower() in ("1", "true", "yes")
        if clear == ("mask" in form.files):
            raise BadRequest("send either a 'mask' image or clear=true")
        mask = form.files.get("mask")
        view = await ctx.run(
            with_change(_set_mask), pool_id, index, mask, ctx.limits.images(), image
        )
        return json_body(view)

    @routes.post("/grid_pool/copy")
    @json_errors
    async def copy(request: web.Request) -> web.Response:
        # A copy-pasted pool node: its fresh pool id starts with the source's slots.
        body = await read_json(request, ctx.limits.max_json_bytes)
        source, target = get_id(body, "source"), get_id(body, "target")

        def run(store: Store) -> bytes:
            pool_copy.copy_pool(store, source, target)
            return encode_view(target, pools.current_manifest(store, target))

        return json_body(await ctx.run(run))

    @routes.post("/grid_pool/stage_for_mask")
    @json_errors
    async def stage_for_mask(request: web.Request) -> web.Response:
        body = await read_json(request, ctx.limits.max_json_bytes)
        pool_id, index = get_id(body, "pool_id"), get_index(body)
        if ctx.stage_image is None:
            return json_error(
                501, "this server cannot hand images to ComfyUI's MaskEditor", "no_stager"
            )
        return web.json_response(
            await ctx.run(_stage, pool_id, index, ctx.stage_image, ctx.limits.images())
        )
