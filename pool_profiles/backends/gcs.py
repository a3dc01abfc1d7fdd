"""gs://bucket/prefix (also gcs://) through gcsfs. Versioned updates use the object's
generation as its version: a write carries `ifGenerationMatch=<generation read>`, a
create `ifGenerationMatch=0`, so several ComfyUI instances can share one bucket.

Conditional writes are sent as multipart uploads (one request, the body and its
metadata): Google Cloud Storage honours preconditions on every upload type, but the
fake-gcs-server emulator the tests use ignores them on `uploadType=media`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError, StorageError, VersionConflict
from ..secrets import public_url, scrub
from ..store import Capabilities, Store, Support, Versioned
from .base import Backend, copy_each
from .endpoint import is_custom, probe_endpoint

#: Rewrite (server-side copy) requests in flight at once.
COPY_CONCURRENCY = 10

_BOUNDARY = "==pool-profiles-part=="


#: Custom metadata naming the conditional write that stored an object (see _landed).
WRITE_TOKEN = "pool_profiles_write"


def _multipart(key: str, data: bytes, token: str) -> bytes:
    """The body of a multipart upload: the object's metadata, then its bytes."""
    meta = json.dumps(
        {"name": key, "contentType": "application/octet-stream", "metadata": {WRITE_TOKEN: token}}
    )
    head = (
        f"--{_BOUNDARY}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{meta}\r\n"
        f"--{_BOUNDARY}\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    return head.encode() + data + f"\r\n--{_BOUNDARY}--".encode()


class GcsStore(Store):
    cas_terms = {"create": "ifGenerationMatch=0", "replace": "ifGenerationMatch"}

    def service_endpoint(self) -> str | None:
        endpoint = getattr(self.fs, "endpoint_url", None)
        return str(endpoint) if endpoint else None

    def _bucket_key(self, path: str) -> tuple[str, str]:
        bucket, _, key = path.partition("/")
        return bucket, key

    def _run(self, coro_fn: Any, *args: Any, **kwargs: Any) -> Any:
        from fsspec.asyn import sync

        return sync(self.fs.loop, coro_fn, *args, **kwargs)

    def _read_versioned(self, path: str) -> Versioned:
        bucket, key = self._bucket_key(path)

        async def get() -> Versioned:
            try:
                headers, data = await self.fs._call("GET", "b/{}/o/{}", bucket, key, alt="media")
            except FileNotFoundError:
                return Versioned(None, None)
            # The generation of exactly the bytes returned (one request, no race).
            generation = headers.get("X-Goog-Generation")
            if generation is not None:
                return Versioned(data, str(generation))
            # A service that does not say which (gcp-storage-emulator): the generation
            # first, then the bytes of that generation. Read in this order, a version is
            # never newer than its bytes, so a write against it cannot skip a change.
            for _ in range(5):
                generation = await self._generation(bucket, key)
                if generation is None:
                    return Versioned(None, None)
                try:
                    _, data = await self.fs._call(
                        "GET", "b/{}/o/{}", bucket, key, alt="media", generation=generation
                    )
                except FileNotFoundError:
                    continue  # replaced in between: that generation is gone
                return Versioned(data, generation)
            raise StorageError(f"{key} kept changing while it was read")

        return self._run(get)

    async def _generation(self, bucket: str, key: str) -> str | None:
        try:
            meta = await self.fs._call(
                "GET", "b/{}/o/{}", bucket, key, json_out=True, fields="generation"
            )
        except FileNotFoundError:
            return None
        return str(meta["generation"])

    def _version(self, path: str) -> str | None:
        return self._run(self._generation, *self._bucket_key(path))

    def _read_if_changed(self, path: str, stamp: str | None) -> Versioned | None:
        # A metadata GET first (the emulator ignores ifGenerationNotMatch on reads).
        if stamp is not None:
            current = self._version(path)
            if current is None:
                return Versioned(None, None)
            if current == stamp:
                return Versioned(None, stamp)
        return self._read_versioned(path)

    def _write_if(self, path: str, data: bytes, version: str | None) -> str:
        bucket, key = self._bucket_key(path)
        token = uuid.uuid4().hex  # names this write (see _landed)

        async def upload() -> str:
            try:
                out = await self.fs._call(
                    "POST",
                    f"{self.fs._location}/upload/storage/v1/b/{{}}/o",
                    bucket,
                    uploadType="multipart",
                    ifGenerationMatch=version if version is not None else "0",
                    headers={"Content-Type": f'multipart/related; boundary="{_BOUNDARY}"'},
                    data=_multipart(key, data, token),
                    json_out=True,
                )
            except FileExistsError as exc:  # gcsfs's name for 412 Precondition Failed
                landed = await self._landed(bucket, key, token)
                if landed is not None:
                    return landed
                raise VersionConflict(f"{key} changed since it was read") from exc
            except FileNotFoundError as exc:
                raise StorageError(f"GCS bucket '{bucket}' does not exist") from exc
            return str(out["generation"])

        return self._run(upload)

    async def _landed(self, bucket: str, key: str, token: str) -> str | None:
        """The generation of this very write when the refusal was of gcsfs's retry of it
        (the first try landed, its answer lost): else the change would be applied again
        on top of itself. One metadata GET, on refusals only. None: a real conflict."""
        try:
            info = await self.fs._call("GET", "b/{}/o/{}", bucket, key, json_out=True)
        except Exception:
            return None
        if (info.get("metadata") or {}).get(WRITE_TOKEN) != token:
            return None
        return str(info["generation"])

    def _copy(self, src: str, dst: str) -> None:
        self._copy_objects([(src, dst)], immutable=False)

    def _copy_objects(self, pairs: list[tuple[str, str]], immutable: bool) -> None:
        """One rewrite request per object (gcsfs's cp_file: the bytes stay in GCS),
        COPY_CONCURRENCY at a time, no listing first."""

        self._run(copy_each, pairs, self.fs._cp_file, COPY_CONCURRENCY)

    def check(self) -> None:
        bucket, _ = self._bucket_key(self.root)
        endpoint = str(self.fs._location)
        custom = is_custom(endpoint, ("googleapis.com",))
        where = f" at {public_url(endpoint)}" if custom else ""
        if custom:
            probe_endpoint(endpoint, "GCS")
        try:
            self._run(self.fs._call, "GET", "b/{}", bucket, json_out=True, fields="name")
        except FileNotFoundError as exc:
            raise StorageError(f"GCS bucket '{bucket}'{where} does not exist") from exc
        except Exception as exc:
            text = scrub(str(exc))
            # gcsfs: 403 is an OSError "Forbidden: ...", 401 an HttpError with .code.
            if getattr(exc, "code", None) in (401, 403) or text.startswith("Forbidden"):
                raise StorageError(
                    f"access to GCS bucket '{bucket}'{where} was denied: check the credentials "
                    "(GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, "
                    'the instance\'s service account, or the store option "token")'
                ) from exc
            raise StorageError(f"GCS bucket '{bucket}'{where} is not reachable: {text}") from exc


class GcsBackend(Backend):
    description = (
        "Google Cloud Storage (gcsfs); generation preconditions; options go to GCSFileSystem."
    )
    capabilities = Capabilities(
        conditional_write=Support.NATIVE,
        atomic_replace=Support.NATIVE,
        server_side_copy=Support.NATIVE,
        consistent_listing=Support.NATIVE,
    )
    requires = ("gcsfs", "gcsfs", "gcs")
    label = "GCS storage"

    def open(self, url: str, options: Mapping[str, Any]) -> Store:
        self.require_dependency()
        # The JSON-API filesystem, not gcsfs's default experimental one: that one asks a
        # gRPC control API for every bucket's layout (a minute's wait on an emulator), and
        # the writes here go through the JSON API anyway.
        from gcsfs.core import GCSFileSystem

        scheme, _, rest = url.partition("://")
        root = rest.split("?", 1)[0].split("#", 1)[0].strip("/")
        if not root:
            raise ConfigError(f"a GCS store URL needs a bucket: {scheme}://BUCKET[/PREFIX]")
        opts = dict(options)
        # Never trust a cached listing: other instances write to the same bucket.
        opts["use_listings_cache"] = False
        opts.setdefault("skip_instance_cache", True)
        try:
            fs = GCSFileSystem(**opts)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad GCS store options: {scrub(str(exc))}") from exc
        # Names the service for the nodes' blob cache: gs://b/x on an emulator is other data.
        fs.endpoint_url = public_url(str(fs._location))
        return GcsStore(fs, root, url=f"gs://{root}", backend="gcs", capabilities=self.capabilities)


backend = GcsBackend()
