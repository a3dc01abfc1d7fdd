"""Reading request bodies with bounds we count ourselves: aiohttp's client_max_size
does not bound a streamed multipart body, and ComfyUI's own limit is far larger than
a JSON command needs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from .. import partfiles
from ..errors import TooLargeError
from .errors import BadRequest, UnsupportedMediaType

log = logging.getLogger("pool_profiles.server")

CHUNK = 256 * 1024
SPOOL_FOLDER = "pool-profiles-uploads"
TEXT_FIELD_MAX = 16 * 1024
#: Room for multipart boundaries and part headers on top of the payload limits.
FORM_OVERHEAD = 64 * 1024


def _too_large(what: str, limit: int) -> TooLargeError:
    return TooLargeError(f"{what} is larger than the limit of {limit} bytes")


async def read_json(request: web.Request, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object, read at most `max_bytes` far."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")
    if request.content_length is not None and request.content_length > max_bytes:
        raise _too_large("the JSON body", max_bytes)
    buf = bytearray()
    while chunk := await request.content.read(CHUNK):
        buf += chunk
        if len(buf) > max_bytes:
            raise _too_large("the JSON body", max_bytes)
    try:
        doc = json.loads(bytes(buf).decode("utf-8"))
        # Valid JSON that is still unusable: a lone "\udXXX" escape parses into a
        # string that cannot be encoded (and so never stored).
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError) as exc:
        # ValueError covers bad UTF-8 and JSON, and ints past Python's digit limit;
        # RecursionError, nesting too deep for the parser.
        raise BadRequest(f"the body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(doc, dict):
        raise BadRequest("the JSON body must be an object")
    return doc


@dataclass
class Spooled:
    """A file part written to a temporary file (removed by Form.cleanup)."""

    path: str
    size: int
    filename: str | None


@dataclass
class Form:
    text: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    spooled: dict[str, Spooled] = field(default_factory=dict)

    def cleanup(self) -> None:
        for item in self.spooled.values():
            with contextlib.suppress(OSError):
                os.unlink(item.path)
        self.spooled.clear()


class _Budget:
    """Bytes left for the whole body, so many small parts cannot add up unbounded."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise _too_large("the upload", self.total)


async def _read_part(part: BodyPartReader, limit: int, budget: _Budget, what: str) -> bytes:
    buf = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        budget.take(len(chunk))
        buf += chunk
        if len(buf) > limit:
            raise _too_large(what, limit)
    return bytes(buf)


def spool_dir() -> str:
    """Our own folder in the temp dir: what a killed server leaves there is ours to
    find (see clean_stale_spools), and other users cannot read an upload."""
    uid = getattr(os, "getuid", lambda: None)()  # one folder per user on a shared /tmp
    name = SPOOL_FOLDER if uid is None else f"{SPOOL_FOLDER}-{uid}"
    path = os.path.join(tempfile.gettempdir(), name)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def clean_stale_spools() -> list[str]:
    """Remove upload spools a server that was killed mid-upload left (run at start-up);
    live servers' spools are kept. Returns the names removed, and logs them."""
    try:
        folder = spool_dir()
    except OSError:
        return []
    removed = partfiles.remove_stale(folder)
    if removed:
        log.warning(
            "pool-profiles: removed %d upload spool(s) an interrupted server left in %s",
            len(removed),
            folder,
        )
    return removed


def _new_spool() -> tuple[int, str]:
    path = os.path.join(spool_dir(), partfiles.part_name("upload"))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return os.open(path, flags, 0o600), path


async def _spool_part(part: BodyPartReader, limit: int, budget: _Budget, what: str) -> Spooled:
    fd, path = await asyncio.to_thread(_new_spool)
    spooled = Spooled(path, 0, part.filename)
    try:
        with os.fdopen(fd, "wb") as f:
            while chunk := await part.read_chunk(CHUNK):
                budget.take(len(chunk))
                spooled.size += len(chunk)
                if spooled.size > limit:
                    raise _too_large(what, limit)
                await asyncio.to_thread(f.write, chunk)  # disk writes stay off the loop
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    return spooled


async def read_form(
    request: web.Request,
    *,
    text: Collection[str] = (),
    files: Mapping[str, int] | None = None,
    spool: Mapping[str, int] | None = None,
) -> Form:
    """Parse multipart/form-data. `text` fields are short strings, `files` are read into
    memory and `spool` fields streamed to temporary files, each up to its byte limit.
    Unknown or repeated fields are refused. The caller must call `Form.cleanup()`."""
    files = dict(files or {})
    spool = dict(spool or {})
    if request.content_type != "multipart/form-data":
        raise UnsupportedMediaType("send the body as multipart/form-data")
    total = sum(files.values()) + sum(spool.values()) + TEXT_FIELD_MAX * len(text)
    budget = _Budget(total + FORM_OVERHEAD)
    if request.content_length is not None and request.content_length > budget.total:
        largest = max([*files.values(), *spool.values()], default=TEXT_FIELD_MAX)
        raise _too_large("the upload", largest)
    form = Form()
    seen: set[str] = set()
    try:
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    raise BadRequest("nested multipart bodies are not accepted")
                name = part.name or ""
                if name in seen:
                    raise BadRequest(f"field {name!r} is given more than once")
                seen.add(name)
                if name in spool:
                    form.spooled[name] = await _spool_part(part, spool[name], budget, name)
                elif name in files:
                    form.files[name] = await _read_part(part, files[name], budget, name)
                elif name in text:
                    raw = await _read_part(part, TEXT_FIELD_MAX, budget, name)
                    try:
                        form.text[name] = raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        raise BadRequest(f"field {name!r} is not UTF-8 text") from exc
                else:
                    raise BadRequest(f"unexpected field {name[:60]!r}")
        except (BadRequest, TooLargeError, UnsupportedMediaType):
            raise
        except (
            HttpProcessingError,
            ValueError,
            AssertionError,
            LookupError,
            RuntimeError,
        ) as exc:
            # aiohttp's multipart parser reports malformed bodies with these.
            raise BadRequest(f"malformed multipart body: {exc}") from exc
    except BaseException:
        form.cleanup()
        raise
    return form
