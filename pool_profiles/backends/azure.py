"""az://container/prefix (also abfs://) on Azure Blob Storage through adlfs. Versioned
updates use the blob's ETag: a replace carries `If-Match: <ETag read>`, a create
`If-None-Match: *`, so several ComfyUI instances can share one container."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError, StorageError, VersionConflict
from ..secrets import public_url, scrub
from ..store import Capabilities, Store, Support, Versioned
from .base import Backend, copy_each
from .endpoint import is_custom, probe_endpoint

#: Blob metadata naming the conditional write that stored it (see _landed); Azure
#: metadata names are C# identifiers, hence the underscores.
WRITE_TOKEN = "pool_profiles_write"

#: Copy Blob requests in flight at once.
COPY_CONCURRENCY = 10
#: Seconds between looks at a copy the service runs in the background.
COPY_POLL = 0.2

#: Store options whose values are secrets: never shown, even inside an error text.
SECRET_OPTIONS = ("account_key", "connection_string", "sas_token", "client_secret", "credential")


def _redact(text: str, options: Mapping[str, Any]) -> str:
    text = scrub(text)
    for name in SECRET_OPTIONS:
        value = options.get(name)
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, "***")
    return text


class AzureStore(Store):
    cas_terms = {"create": "If-None-Match: *", "replace": "If-Match"}

    def service_endpoint(self) -> str | None:
        endpoint = getattr(self.fs, "endpoint_url", None)
        return str(endpoint) if endpoint else None

    def _container_blob(self, path: str) -> tuple[str, str]:
        container, _, blob = path.partition("/")
        return container, blob

    def _blob(self, path: str) -> Any:
        container, blob = self._container_blob(path)
        return self.fs.service_client.get_blob_client(container=container, blob=blob)

    def _run(self, coro_fn: Any, *args: Any) -> Any:
        from fsspec.asyn import sync

        return sync(self.fs.loop, coro_fn, *args)

    def _read_versioned(self, path: str) -> Versioned:
        from azure.core.exceptions import ResourceNotFoundError

        async def get() -> Versioned:
            try:
                # The SDK reads a large blob in ranges, each pinned to the first ETag.
                stream = await self._blob(path).download_blob()
                data = await stream.readall()
            except ResourceNotFoundError:
                return Versioned(None, None)
            return Versioned(data, stream.properties.etag)

        return self._run(get)

    def _version(self, path: str) -> str | None:
        from azure.core.exceptions import ResourceNotFoundError

        async def head() -> str | None:
            try:
                props = await self._blob(path).get_blob_properties()
            except ResourceNotFoundError:
                return None
            return props.etag

        return self._run(head)

    def _read_if_changed(self, path: str, stamp: str | None) -> Versioned | None:
        """One GET; with If-None-Match it is a 304 and no body when nothing changed."""
        if stamp is None:
            return self._read_versioned(path)
        from azure.core import MatchConditions
        from azure.core.exceptions import (
            ResourceModifiedError,
            ResourceNotFoundError,
            ResourceNotModifiedError,
        )

        async def get() -> Versioned:
            try:
                stream = await self._blob(path).download_blob(
                    etag=stamp, match_condition=MatchConditions.IfModified
                )
                data = await stream.readall()
            except (ResourceNotModifiedError, ResourceModifiedError):
                # Azure answers 304; Azurite 412 ConditionNotMet. Either: still at `stamp`.
                return Versioned(None, stamp)
            except ResourceNotFoundError:
                return Versioned(None, None)
            return Versioned(data, stream.properties.etag)

        return self._run(get)

    def _write_if(self, path: str, data: bytes, version: str | None) -> str:
        from azure.core import MatchConditions
        from azure.core.exceptions import (
            ResourceExistsError,
            ResourceModifiedError,
            ResourceNotFoundError,
        )

        container, blob = self._container_blob(path)
        # overwrite=False sends If-None-Match: * (refused with 409 BlobAlreadyExists).
        condition: dict[str, Any] = (
            {"overwrite": False}
            if version is None
            else {
                "overwrite": True,
                "etag": version,
                "match_condition": MatchConditions.IfNotModified,
            }
        )

        token = uuid.uuid4().hex  # names this write (see _landed)

        async def put() -> str:
            try:
                out = await self._blob(path).upload_blob(
                    data, metadata={"is_directory": "false", WRITE_TOKEN: token}, **condition
                )
            except (ResourceExistsError, ResourceModifiedError) as exc:
                landed = await self._landed(path, token)
                if landed is not None:
                    return landed
                raise VersionConflict(f"{blob} changed since it was read") from exc
            except ResourceNotFoundError as exc:
                if getattr(exc, "error_code", None) == "ContainerNotFound" or version is None:
                    raise StorageError(f"Azure container '{container}' does not exist") from exc
                raise VersionConflict(f"{blob} was deleted since it was read") from exc
            return str(out["etag"])

        return self._run(put)

    async def _landed(self, path: str, token: str) -> str | None:
        """The ETag of this very write when the refusal was of azure-core's retry of it
        (the first try landed, its answer lost): else the change would be applied again
        on top of itself. One properties request, on refusals only. None: a real conflict."""
        try:
            props = await self._blob(path).get_blob_properties()
        except Exception:
            return None
        return str(props.etag) if (props.metadata or {}).get(WRITE_TOKEN) == token else None

    def _copy(self, src: str, dst: str) -> None:
        self._copy_objects([(src, dst)], immutable=False)

    def _copy_objects(self, pairs: list[tuple[str, str]], immutable: bool) -> None:
        """One Copy Blob per object inside the account (no byte through this host),
        COPY_CONCURRENCY at a time; a copy the service finishes in the background is
        waited for, so the target is complete when this returns."""
        from azure.core.exceptions import ResourceNotFoundError

        async def one(src: str, dst: str) -> None:
            target = self._blob(dst)
            try:
                out = await target.start_copy_from_url(self._blob(src).url)
            except ResourceNotFoundError as exc:
                raise FileNotFoundError(src) from exc
            status = out.get("copy_status")
            while status == "pending":
                await asyncio.sleep(COPY_POLL)
                status = (await target.get_blob_properties()).copy.status
            if status != "success":
                raise StorageError(f"copying {self._rel(src)} ended as {status!r}")

        self._run(copy_each, pairs, one, COPY_CONCURRENCY)

    def check(self) -> None:
        from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError

        container, _ = self._container_blob(self.root)
        url = str(getattr(self.fs.service_client, "url", "") or "")
        where = f" at {public_url(url)}" if url else ""
        if url and is_custom(url, (".core.windows.net",)):
            probe_endpoint(url, "Azure Blob")

        async def probe() -> None:
            await self.fs.service_client.get_container_client(container).get_container_properties()

        try:
            self._run(probe)
        except ResourceNotFoundError as exc:
            raise StorageError(f"Azure container '{container}'{where} does not exist") from exc
        except ClientAuthenticationError as exc:
            raise StorageError(
                f"access to Azure container '{container}'{where} was denied: check the "
                "credentials (AZURE_STORAGE_CONNECTION_STRING, account_name + account_key, "
                "a SAS token, or DefaultAzureCredential: environment, managed identity, az login)"
            ) from exc
        except Exception as exc:
            why = scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            raise StorageError(
                f"Azure container '{container}'{where} is not reachable: {why}"
            ) from exc


class AzureBackend(Backend):
    description = "Azure Blob Storage (adlfs); ETag conditions; options go to AzureBlobFileSystem."
    capabilities = Capabilities(
        conditional_write=Support.NATIVE,
        atomic_replace=Support.NATIVE,
        server_side_copy=Support.NATIVE,
        consistent_listing=Support.NATIVE,
    )
    requires = ("adlfs", "adlfs", "azure")
    label = "Azure storage"

    def open(self, url: str, options: Mapping[str, Any]) -> Store:
        self.require_dependency()
        from adlfs import AzureBlobFileSystem

        scheme = url.split("://", 1)[0]
        opts = dict(options)
        try:
            # abfs://container@ACCOUNT.dfs.core.windows.net/prefix names the account.
            from_url = AzureBlobFileSystem._get_kwargs_from_urls(url)
            root = AzureBlobFileSystem._strip_protocol(url).split("?", 1)[0].strip("/")
        except Exception as exc:
            raise ConfigError(f"cannot use {public_url(url)!r} as an Azure store") from exc
        if not root:
            raise ConfigError(
                f"an Azure store URL needs a container: {scheme}://CONTAINER[/PREFIX]"
            )
        from_url.pop("version_aware", None)
        opts = {**from_url, **opts}
        # Never trust a cached listing: other instances write to the same container.
        opts["use_listings_cache"] = False
        opts.setdefault("skip_instance_cache", True)
        try:
            fs = AzureBlobFileSystem(**opts)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad Azure store options: {_redact(str(exc), opts)}") from exc
        # Names the account for the nodes' blob cache: az://c/x of two accounts differ.
        fs.endpoint_url = public_url(str(getattr(fs.service_client, "url", "") or ""))
        return AzureStore(
            fs, root, url=f"az://{root}", backend="azure", capabilities=self.capabilities
        )


backend = AzureBackend()
