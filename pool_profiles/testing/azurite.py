"""Azurite (the Azure Blob Storage emulator, npm `azurite`, run by Node.js) on
127.0.0.1 for tests. Install it with `npm install --prefix DIR azurite` and pass DIR
(or put `azurite-blob` on PATH).

Measured: a create with `If-None-Match: *` on an existing blob is refused (409
BlobAlreadyExists), a stale `If-Match` is refused (412), the current ETag accepted."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .emulator import EmulatorProcess

#: Azurite's public development account (documented by Microsoft; not a secret).
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def find_binary(search: Iterable[Path | str] = ()) -> Path | None:
    """`azurite-blob` under DIR/node_modules/.bin for each DIR in `search`, else on PATH."""
    name = "azurite-blob.cmd" if os.name == "nt" else "azurite-blob"
    for folder in search:
        path = Path(folder) / "node_modules" / ".bin" / name
        if path.is_file():
            return path
    found = shutil.which("azurite-blob")
    return Path(found) if found else None


class AzuriteServer(EmulatorProcess):
    """`with AzuriteServer(binary) as az: az.create_container("c")`, then open
    `az://c/prefix` with `azure_options(az.endpoint)`. Data lives in a temp folder."""

    name = "azurite"

    def __init__(self, binary: Path | str) -> None:
        self.binary = str(Path(binary).resolve())
        super().__init__()

    def command(self) -> Sequence[str]:
        return [
            self.binary,
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(self.port),
            "--location",
            str(self.workdir / "data"),
            "--silent",
            "--skipApiVersionCheck",
        ]

    @property
    def connection_string(self) -> str:
        return connection_string(self.endpoint)

    def create_container(self, container: str) -> None:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        with BlobServiceClient.from_connection_string(self.connection_string) as client:
            try:
                client.create_container(container)
            except ResourceExistsError:
                pass


def connection_string(endpoint: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"BlobEndpoint={endpoint}/{ACCOUNT};"
    )


def azure_options(endpoint: str) -> dict[str, Any]:
    """Store options for an Azurite endpoint (its development account, never real Azure)."""
    return {"connection_string": connection_string(endpoint)}
