"""Configuration: first match wins (env, config file, default); bad configuration is
one clear line naming the setting, exit status != 0, no traceback, no secrets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from pool_profiles.config import (
    ENV_OPTIONS,
    ENV_STORE,
    StoreConfig,
    open_configured,
    resolve,
)
from pool_profiles.errors import ConfigError


def test_env_wins(tmp_path):
    cfg_file = tmp_path / "pool_profiles.json"
    cfg_file.write_text(json.dumps({"store": "memory://from-file"}))
    env = {ENV_STORE: "memory://from-env", ENV_OPTIONS: "{}"}
    cfg = resolve(default_root=str(tmp_path / "d"), config_file=str(cfg_file), env=env)
    assert cfg.url == "memory://from-env" and cfg.source == f"${ENV_STORE}"


def test_config_file_then_default(tmp_path):
    cfg_file = tmp_path / "pool_profiles.json"
    cfg_file.write_text(json.dumps({"store": "s3://b/p", "options": {"anon": True}}))
    cfg = resolve(default_root=str(tmp_path / "d"), config_file=str(cfg_file), env={})
    assert (cfg.url, cfg.options) == ("s3://b/p", {"anon": True})
    cfg = resolve(default_root=str(tmp_path / "d"), config_file=str(tmp_path / "none"), env={})
    assert cfg.url == str(tmp_path / "d") and cfg.source == "default"


@pytest.mark.parametrize(
    "env, words",
    [
        ({ENV_STORE: "memory://x", ENV_OPTIONS: "{not json"}, [ENV_OPTIONS, "not valid JSON"]),
        ({ENV_STORE: "memory://x", ENV_OPTIONS: "[1, 2]"}, [ENV_OPTIONS, "JSON object"]),
        ({ENV_OPTIONS: '{"anon": true}'}, [ENV_OPTIONS, ENV_STORE]),
        ({ENV_STORE: "memory://x", ENV_OPTIONS: "[" * 100_000}, [ENV_OPTIONS, "not valid JSON"]),
    ],
)
def test_bad_env(env, words):
    with pytest.raises(ConfigError) as err:
        resolve(default_root="x", env=env)
    for word in words:
        assert word in str(err.value)


def test_bad_config_file(tmp_path):
    bad = tmp_path / "c.json"
    bad.write_text("{oops")
    with pytest.raises(ConfigError, match="not readable JSON"):
        resolve(default_root="x", config_file=str(bad), env={})
    bad.write_text(json.dumps({"options": {}}))
    with pytest.raises(ConfigError, match='needs a "store"'):
        resolve(default_root="x", config_file=str(bad), env={})
    with pytest.raises(ConfigError, match="does not exist"):
        resolve(
            default_root="x", config_file=str(tmp_path / "no"), env={}, require_config_file=True
        )


def test_unknown_scheme():
    with pytest.raises(ConfigError, match="unknown storage scheme 'nosuch://'"):
        open_configured(StoreConfig("nosuch://x", {}, "test"))


def test_urls_are_shown_without_credentials():
    cfg = StoreConfig("ftp://user:hunter2@host/pools?token=abc", {"password": "x"}, "test")
    assert "hunter2" not in cfg.describe() and "abc" not in cfg.describe()
    assert cfg.describe().startswith("ftp://host/pools")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("POOL_PROFILES_")}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "pool_profiles.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    "env, needle",
    [
        ({ENV_STORE: "nosuch://x"}, "unknown storage scheme"),
        ({ENV_STORE: "memory://x", ENV_OPTIONS: "{bad"}, ENV_OPTIONS),
    ],
)
def test_cli_bad_config_is_one_line(env, needle):
    pytest.importorskip("pool_profiles.cli.profiles_cmd")
    out = _cli(["profiles", "list"], env)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in out.stderr


def test_cli_unreachable_s3_is_one_line_without_secrets():
    pytest.importorskip("s3fs")
    pytest.importorskip("pool_profiles.cli.profiles_cmd")
    options = {
        "key": "AKIAFAKEKEY",
        "secret": "supersecretvalue",
        "endpoint_url": f"http://127.0.0.1:{_free_port()}",
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
    }
    out = _cli(["profiles", "list"], {ENV_STORE: "s3://bucket/p", ENV_OPTIONS: json.dumps(options)})
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert "refused the connection" in lines[0] and "Traceback" not in out.stderr
    assert "supersecretvalue" not in out.stderr + out.stdout
    assert "AKIAFAKEKEY" not in out.stderr + out.stdout


def test_missing_s3fs_is_reported(monkeypatch):
    from pool_profiles.backends import base, s3

    monkeypatch.setattr(base.importlib.util, "find_spec", lambda name: None)
    assert "s3" in s3.backend.missing_dependency()
    with pytest.raises(ConfigError, match="pip install"):
        s3.backend.open("s3://b", {})


@pytest.mark.parametrize(
    "options",
    [
        {"config_kwargs": "x"},
        {"client_kwargs": "x"},
        {"config_kwargs": ["retries"]},
    ],
)
def test_s3_options_of_the_wrong_type_are_config_errors(options):
    pytest.importorskip("s3fs")
    with pytest.raises(ConfigError, match="S3"):
        open_configured(StoreConfig("s3://bucket", options, "test"))


@pytest.mark.parametrize("url", ["blockcache://x", "dir://x"])
def test_generic_backend_that_cannot_start_is_a_config_error(url):
    # fsspec filesystems raise all kinds of errors from __init__ (ValueError, ...)
    with pytest.raises(ConfigError, match=url.split("://")[0]):
        open_configured(StoreConfig(url, {}, "test"))


def test_s3_endpoint_credentials_never_shown():
    pytest.importorskip("s3fs")
    options = {
        "key": "AKIAFAKEKEY",
        "secret": "supersecretvalue",
        "endpoint_url": f"http://userpart:hunter2@127.0.0.1:{_free_port()}",
        "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2},
    }
    with pytest.raises(ConfigError) as err:
        open_configured(StoreConfig("s3://bucket/p", options, "test"))
    text = str(err.value)
    assert "refused the connection" in text and "127.0.0.1" in text
    assert "hunter2" not in text and "userpart" not in text


def test_scrub_removes_user_info_from_any_url_in_a_message():
    from pool_profiles.secrets import scrub

    text = 'Could not connect to "http://AKIA:s3cr3t@host:9000/b" or s3://k:v@bucket/x'
    assert scrub(text) == 'Could not connect to "http://host:9000/b" or s3://bucket/x'


def test_local_store_on_a_file_is_a_config_error(tmp_path):
    afile = tmp_path / "not-a-folder"
    afile.write_text("x")
    with pytest.raises(ConfigError) as err:
        open_configured(StoreConfig(str(afile), {}, "test"))
    assert str(afile) in str(err.value) and "(from test)" in str(err.value)
