"""Opening an S3 store at start-up: a refused or unknown endpoint fails at once (one
bounded connection attempt, no retry loop), and the message names the real cause."""

from __future__ import annotations

import socket

import pytest

from pool_profiles.config import StoreConfig, open_configured
from pool_profiles.errors import ConfigError

pytest.importorskip("s3fs")

CREDS = {"key": "testing", "secret": "testing", "client_kwargs": {"region_name": "us-east-1"}}


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def refused_endpoint() -> str:
    with socket.socket() as s:  # a port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def open_s3(options: dict):
    return open_configured(StoreConfig("s3://bucket/prefix", options, "test"))


def test_a_refused_endpoint_fails_without_retrying(refused_endpoint, monkeypatch):
    import s3fs

    calls = []
    real = s3fs.S3FileSystem.call_s3

    def counting(self, method, *args, **kwargs):
        calls.append(method)
        return real(self, method, *args, **kwargs)

    monkeypatch.setattr(s3fs.S3FileSystem, "call_s3", counting)
    with pytest.raises(ConfigError) as caught:
        open_s3({**CREDS, "endpoint_url": refused_endpoint})
    assert "refused the connection" in caught.value.message
    assert refused_endpoint in caught.value.message
    assert calls == []  # no S3 request (with its retries and back-off) was attempted


def test_an_unknown_endpoint_host_is_named():
    with pytest.raises(ConfigError) as caught:
        open_s3({**CREDS, "endpoint_url": "http://no.such.host.invalid:9000"})
    assert "unknown host 'no.such.host.invalid'" in caught.value.message


def test_missing_credentials_are_named(moto_endpoint, no_aws_credentials):
    options = {"endpoint_url": moto_endpoint, "client_kwargs": {"region_name": "us-east-1"}}
    with pytest.raises(ConfigError) as caught:
        open_s3(options)
    message = caught.value.message
    assert "no AWS credentials" in message and "AWS_ACCESS_KEY_ID" in message
    assert "not reachable" not in message


def test_a_missing_bucket_is_named(moto_endpoint):
    cfg = StoreConfig("s3://no-such-bucket-here/p", {**CREDS, "endpoint_url": moto_endpoint})
    with pytest.raises(ConfigError) as caught:
        open_configured(cfg)
    assert "does not exist" in caught.value.message
