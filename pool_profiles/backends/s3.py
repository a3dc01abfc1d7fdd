"""s3://bucket/prefix through s3fs. Versioned updates use the object's ETag with
If-Match / If-None-Match: *, so several ComfyUI instances can share one bucket."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError, StorageError, VersionConflict
from ..secrets import public_url, scrub
from ..store import Capabilities, Store, Support, Versioned
from .base import Backend, copy_each
from .endpoint import probe_endpoint

_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_MISSING_CODES = {"NoSuchKey", "404", "NotFound"}
_NOT_MODIFIED_CODES = {"304", "NotModified"}
# CopyObject refuses sources above 5 GB with these; a multipart copy does them.
_TOO_LARGE_CODES = {"InvalidRequest", "EntityTooLarge"}

#: User metadata naming the conditional write that stored an object (see _landed).
WRITE_TOKEN = "pool-profiles-write"

#: CopyObject requests in flight at once (botocore's pool holds 10 connections).
COPY_CONCURRENCY = 10


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3Store(Store):
    cas_terms = {"create": "If-None-Match: *", "replace": "If-Match"}

    def service_endpoint(self) -> str | None:
        endpoint = self.fs.client_kwargs.get("endpoint_url") or getattr(
            self.fs, "endpoint_url", None
        )
        return public_url(str(endpoint)) if endpoint else None

    def _bucket_key(self, path: str) -> tuple[str, str]:
        bucket, _, key = path.partition("/")
        return bucket, key

    async def _client(self, bucket: str) -> Any:
        await self.fs.set_session()  # no-op once the session exists
        return await self.fs.get_s3(bucket)

    def _run(self, coro_fn: Any, *args: Any) -> Any:
        from fsspec.asyn import sync

        return sync(self.fs.loop, coro_fn, *args)

    def _read_versioned(self, path: str) -> Versioned:
        bucket, key = self._bucket_key(path)

        async def get() -> Versioned:
            s3 = await self._client(bucket)
            try:
                resp = await s3.get_object(Bucket=bucket, Key=key)
            except Exception as exc:
                if _error_code(exc) in _MISSING_CODES:
                    return Versioned(None, None)
                raise
            async with resp["Body"] as body:
                data = await body.read()
            return Versioned(data, resp["ETag"])

        return self._run(get)

    def _version(self, path: str) -> str | None:
        bucket, key = self._bucket_key(path)

        async def head() -> str | None:
            s3 = await self._client(bucket)
            try:
                resp = await s3.head_object(Bucket=bucket, Key=key)
            except Exception as exc:
                if _error_code(exc) in _MISSING_CODES:
                    return None
                raise
            return resp["ETag"]

        return self._run(head)

    def _read_if_changed(self, path: str, stamp: str | None) -> Versioned | None:
        """One GET; with If-None-Match it is a 304 and no body when nothing changed."""
        if stamp is None:
            return self._read_versioned(path)
        bucket, key = self._bucket_key(path)

        async def get() -> Versioned:
            s3 = await self._client(bucket)
            try:
                resp = await s3.get_object(Bucket=bucket, Key=key, IfNoneMatch=stamp)
            except Exception as exc:
                code = _error_code(exc)
                if code in _NOT_MODIFIED_CODES:
                    return Versioned(None, stamp)
                if code in _MISSING_CODES:
                    return Versioned(None, None)
                raise
            async with resp["Body"] as body:
                data = await body.read()
            return Versioned(data, resp["ETag"])

        return self._run(get)

    def _write_if(self, path: str, data: bytes, version: str | None) -> str:
        bucket, key = self._bucket_key(path)
        condition = {"IfMatch": version} if version is not None else {"IfNoneMatch": "*"}
        # Names this write, so that a refusal of a retry of it can be told apart (below).
        token = uuid.uuid4().hex

        async def put() -> str:
            s3 = await self._client(bucket)
            try:
                resp = await s3.put_object(
                    Bucket=bucket, Key=key, Body=data, Metadata={WRITE_TOKEN: token}, **condition
                )
            except Exception as exc:
                code = _error_code(exc)
                if code in _CONFLICT_CODES:
                    landed = await self._landed(s3, bucket, key, token)
                    if landed is not None:
                        return landed
                    raise VersionConflict(f"{key} changed since it was read") from exc
                if code in _MISSING_CODES and version is not None:
                    raise VersionConflict(f"{key} was deleted since it was read") from exc
                raise
            return resp["ETag"]

        return self._run(put)

    async def _landed(self, s3: Any, bucket: str, key: str, token: str) -> str | None:
        """The ETag of this very write when a refusal was of a retry of it: the first
        try landed and its answer was lost (a dropped connection; the HTTP client
        retries a PUT on a reused connection by itself). Taken for a conflict, the
        change would be applied again on top of itself (a second slot removed). One
        HEAD, on conflicts only. None: someone else's write, a real conflict."""
        try:
            head = await s3.head_object(Bucket=bucket, Key=key)
        except Exception:
            return None
        metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
        return str(head["ETag"]) if metadata.get(WRITE_TOKEN) == token else None

    def delete_tree(self, prefix: str) -> None:
        super().delete_tree(prefix)
        path = self.path(prefix)
        with self._errors("delete", prefix):
            self._remove_folders(path)

    def _remove_folders(self, path: str) -> None:
        """Some S3 services (SeaweedFS) keep the folders of deleted objects and list
        them (CommonPrefixes), so a deleted profile would still show. Delete the empty
        ones, deepest first ("dir/" keys); one that holds an object stays. On AWS S3
        this is one listing that finds nothing."""
        folders: list[str] = []

        def collect(folder: str, depth: int) -> bool:
            """True when `folder` (and everything below) holds no object."""
            try:
                items = self.fs.ls(folder, detail=True, refresh=True)
            except FileNotFoundError:
                return depth > 0  # gone: nothing to remove (the top: nothing at all)
            empty = True
            for item in items:
                name = item["name"].rstrip("/")
                if name == folder:
                    continue
                if item.get("type") == "directory" and depth < 8:
                    empty = collect(name, depth + 1) and empty
                else:
                    empty = False
            if empty:
                folders.append(folder)
            return empty

        collect(path, 0)
        for folder in folders:  # children were appended before their parents
            bucket, key = self._bucket_key(folder)
            with contextlib.suppress(FileNotFoundError):
                self.fs.call_s3("delete_object", Bucket=bucket, Key=key + "/")

    def _copy(self, src: str, dst: str) -> None:
        self.fs.copy(src, dst)  # CopyObject: the bytes stay in S3

    def _copy_objects(self, pairs: list[tuple[str, str]], immutable: bool) -> None:
        """One CopyObject per object, COPY_CONCURRENCY at a time: no listing, no HEAD
        (s3fs's copy asks for the size first), no byte through this host. Objects above
        CopyObject's 5 GB limit go through s3fs's multipart copy."""

        async def one(src: str, dst: str) -> None:
            src_bucket, src_key = self._bucket_key(src)
            bucket, key = self._bucket_key(dst)
            s3 = await self._client(bucket)
            try:
                await s3.copy_object(
                    Bucket=bucket,
                    Key=key,
                    CopySource={"Bucket": src_bucket, "Key": src_key},
                )
            except Exception as exc:
                code = _error_code(exc)
                if code in _MISSING_CODES:
                    raise FileNotFoundError(src) from exc
                if code not in _TOO_LARGE_CODES:
                    raise
                await self.fs._copy(src, dst)

        self._run(copy_each, pairs, one, COPY_CONCURRENCY)

    def check(self) -> None:
        bucket, _ = self._bucket_key(self.root)
        endpoint = self.fs.client_kwargs.get("endpoint_url") or getattr(
            self.fs, "endpoint_url", None
        )
        where = f" at {public_url(str(endpoint))}" if endpoint else ""
        if endpoint:
            # A refused or silent endpoint fails here in at most PROBE_TIMEOUT seconds,
            # not after botocore's and s3fs's retries with back-off.
            probe_endpoint(str(endpoint), "S3")
        try:
            self.fs.call_s3("head_bucket", Bucket=bucket)
        except Exception as exc:
            raise StorageError(_why_unusable(exc, bucket, where)) from exc


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _why_unusable(exc: Exception, bucket: str, where: str) -> str:
    """The real cause of a failed start-up probe, in words an operator can act on."""
    names = {type(e).__name__ for e in _chain(exc)}
    codes = {_error_code(e) for e in _chain(exc) if isinstance(e, Exception)}
    if names & {"NoCredentialsError", "PartialCredentialsError"}:
        return (
            f"no AWS credentials for S3 bucket '{bucket}'{where}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an instance role (or the store options "
            '"key"/"secret"; "anon": true for a public bucket)'
        )
    if codes & {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"} or any(
        isinstance(e, PermissionError) for e in _chain(exc)
    ):
        return f"access to S3 bucket '{bucket}'{where} was denied: check the credentials"
    if codes & {"404", "NoSuchBucket", "NotFound"} or any(
        isinstance(e, FileNotFoundError) for e in _chain(exc)
    ):
        return f"S3 bucket '{bucket}'{where} does not exist"
    return f"S3 bucket '{bucket}'{where} is not reachable: {scrub(str(exc))}"


class S3Backend(Backend):
    description = "Amazon S3 or any S3-compatible service (s3fs); options go to S3FileSystem."
    capabilities = Capabilities(
        conditional_write=Support.NATIVE,
        atomic_replace=Support.NATIVE,
        server_side_copy=Support.NATIVE,
        consistent_listing=Support.NATIVE,
    )
    requires = ("s3fs", "s3fs", "s3")
    label = "S3 storage"

    def open(self, url: str, options: Mapping[str, Any]) -> Store:
        self.require_dependency()
        import s3fs

        root = url.split("://", 1)[1].strip("/")
        if not root:
            raise ConfigError("an S3 store URL needs a bucket: s3://BUCKET[/PREFIX]")
        opts = dict(options)
        for name in ("config_kwargs", "client_kwargs"):
            if opts.get(name) is not None and not isinstance(opts[name], Mapping):
                raise ConfigError(f'S3 store option "{name}" must be a JSON object')
        # Never trust a cached listing: other instances write to the same bucket.
        opts["use_listings_cache"] = False
        opts.setdefault("skip_instance_cache", True)
        config_kwargs = dict(opts.pop("config_kwargs", None) or {})
        config_kwargs.setdefault("connect_timeout", 10)
        config_kwargs.setdefault("retries", {"max_attempts": 3, "mode": "standard"})
        try:
            fs = s3fs.S3FileSystem(config_kwargs=config_kwargs, **opts)
        except TypeError as exc:
            raise ConfigError(f"bad S3 store options: {exc}") from exc
        return S3Store(fs, root, url=f"s3://{root}", backend="s3", capabilities=self.capabilities)


backend = S3Backend()
