"""Verify, don't trust: a store promising compare-and-swap probes its service once per
process when it opens, refuses a service that ignores the conditions (a proxy that
drops If-Match / If-None-Match stands for one) unless single-writer mode is accepted,
and then says single-writer wherever the store is shown."""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from pool_profiles import check, config, pools, registry
from pool_profiles.backends.s3 import S3Store
from pool_profiles.cli import main
from pool_profiles.errors import ConfigError
from pool_profiles.store import cas_probe
from pool_profiles.testing.moto_server import s3_options
from pool_profiles.testing.writers import kept, png, run_writers

BUCKET = "pool-profiles-test"


@pytest.fixture
def proxy(moto_endpoint):
    from pool_profiles.testing.stripping_proxy import StrippingProxy

    with StrippingProxy(moto_endpoint) as p:
        yield p


def url() -> str:
    return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}"


def open_cfg(url: str, options: dict, **kw):
    return config.open_configured(config.StoreConfig(url, options, "test"), **kw)


@pytest.fixture
def calls(monkeypatch):
    """Count the primitives the probe uses (each one request)."""
    seen: list[str] = []
    for name in ("_write_if", "_read_versioned"):
        original = getattr(S3Store, name)

        def counted(self, *a, _original=original, _name=name, **kw):
            seen.append(_name)
            return _original(self, *a, **kw)

        monkeypatch.setattr(S3Store, name, counted)
    return seen


def test_honest_service_is_probed_once_with_at_most_four_requests(moto_endpoint, calls):
    u, opts = url(), s3_options(moto_endpoint)
    store = open_cfg(u, opts)
    assert 1 <= len(calls) <= 4 and store.cas_problem is None
    assert not store.capabilities.single_writer
    calls.clear()
    again = open_cfg(u, opts)  # same URL and endpoint, same process: no second probe
    assert calls == [] and again.cas_problem is None
    registry.create_profile(again, "One")
    assert calls.count("_write_if") == 1  # a write costs what it did before: no probe


def test_existing_probe_object_from_another_process(moto_endpoint, calls):
    u, opts = url(), s3_options(moto_endpoint)
    assert cas_probe.probe(open_cfg(u, opts, check=False)) is None
    calls.clear()
    assert cas_probe.probe(open_cfg(u, opts, check=False)) is None  # the object exists now
    assert len(calls) <= 4


def test_probe_object_is_hidden_from_listings_check_and_copies(moto_endpoint):
    u, opts = url(), s3_options(moto_endpoint)
    store = open_cfg(u, opts)
    pools.add_image(store, "pool_a", png(1))
    assert cas_probe.PROBE_KEY in [e.name for e in store.listdir("", hidden=True)]
    assert [e.name for e in store.listdir("")] == ["pool_a"]
    assert all(not k.startswith(".") for k in store.walk(""))
    report = check.check_store(store)
    assert report.ok and report.issues == [] and report.pools == 1


def test_stripping_proxy_refuses_to_start(proxy):
    opts = s3_options(proxy.endpoint)
    with pytest.raises(ConfigError) as err:
        open_cfg(url(), opts)
    message = err.value.message
    assert proxy.endpoint in message and "If-None-Match: *" in message and "If-Match" in message
    assert "refusing to start" in message and '"single_writer": true' in message
    assert "\n" not in message and proxy.stripped >= 2


def test_stripping_proxy_refused_by_the_cli_in_one_line(proxy, capsys):
    opts = json.dumps(s3_options(proxy.endpoint))
    rc = main(["--store", url(), "--store-options", opts, "profiles", "create", "X"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and proxy.endpoint in err and "If-Match" in err


def test_accepted_single_writer_is_shown_everywhere(proxy, caplog, capsys):
    from pool_profiles.server.routes import store_info

    u = url()
    opts = {**s3_options(proxy.endpoint), "single_writer": True}
    with caplog.at_level(logging.WARNING, logger="pool_profiles.store"):
        store = open_cfg(u, opts)
    assert store.capabilities.single_writer and store.capabilities.conditional_write == "none"
    assert proxy.endpoint in store.cas_problem and "If-Match" in store.cas_problem
    assert "single-writer" in caplog.text and proxy.endpoint in caplog.text
    info = store_info(store)
    assert info["single_writer"] is True
    assert info["single_writer_reason"] == store.cas_problem
    assert "single writer" in store.writer_mode()
    # and it works, one writer at a time
    registry.create_profile(store, "Solo")
    assert [p["name"] for p in registry.list_profiles(store)] == ["Solo"]
    rc = main(["backends", "--store", u, "--store-options", json.dumps(opts)])
    out = capsys.readouterr().out
    assert rc == 0 and "single writer" in out and proxy.endpoint in out


def test_single_writer_option_must_be_a_boolean(moto_endpoint):
    with pytest.raises(ConfigError, match="single_writer"):
        open_cfg(url(), {**s3_options(moto_endpoint), "single_writer": "yes"})


def test_accepting_single_writer_changes_nothing_on_an_honest_service(moto_endpoint):
    store = open_cfg(url(), {**s3_options(moto_endpoint), "single_writer": True})
    assert store.cas_problem is None and not store.capabilities.single_writer


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_local_and_memory_stores_need_no_probe(kind, tmp_path, calls, monkeypatch):
    probed = []
    monkeypatch.setattr(cas_probe, "probe", lambda store: probed.append(store))
    target = str(tmp_path / "s") if kind == "local" else f"memory://{uuid.uuid4().hex}"
    store = open_cfg(target, {})
    assert probed == [] and store.cas_problem is None


def test_two_processes_behind_the_proxy_acknowledge_nothing(proxy):
    u, opts = url(), s3_options(proxy.endpoint)
    results = run_writers(u, opts, ["a", "b"], 3)
    assert [acked for _, acked, _ in results] == [[], []]
    assert all("refusing to start" in (error or "") for _, _, error in results)


@pytest.mark.parametrize("service", ["moto", "moto, single writer accepted", "seaweedfs"])
def test_two_multi_writer_processes_lose_no_acknowledged_write(service, request):
    # Every mode in which a store starts as multi-writer: an honest service, also with
    # single-writer mode accepted (the probe passes, so it stays multi-writer).
    if service.startswith("moto"):
        u, opts = url(), s3_options(request.getfixturevalue("moto_endpoint"))
        if "accepted" in service:
            opts["single_writer"] = True
    else:
        u, opts = url(), request.getfixturevalue("seaweed_server").options()
    assert not open_cfg(u, opts).capabilities.single_writer
    n = 5
    results = run_writers(u, opts, ["a", "b"], n)
    assert [error for _, _, error in results] == [None, None]
    acknowledged = sorted(w for _, acked, _ in results for w in acked)
    assert len(acknowledged) == 4 * n
    assert kept(open_cfg(u, opts)) == acknowledged


def test_copy_to_a_service_that_ignores_conditions_is_refused(proxy, tmp_path, capsys, caplog):
    src = str(tmp_path / "src")
    assert main(["--store", src, "profiles", "create", "Moved"]) == 0
    dst, opts = url(), s3_options(proxy.endpoint)
    rc = main(["--store", src, "copy", "--to", dst, "--to-options", json.dumps(opts)])
    err = capsys.readouterr().err
    assert rc == 1 and "refusing to start" in err and proxy.endpoint in err
    accepted = json.dumps({**opts, "single_writer": True})
    with caplog.at_level(logging.WARNING, logger="pool_profiles.store"):
        assert main(["--store", src, "copy", "--to", dst, "--to-options", accepted]) == 0
    assert "runs single-writer" in caplog.text and proxy.endpoint in caplog.text


def test_single_writer_mode_loses_nothing_between_its_own_threads(proxy):
    import threading

    store = open_cfg(url(), {**s3_options(proxy.endpoint), "single_writer": True})
    assert store.cas_problem

    def bump(tag: str) -> None:
        for _ in range(5):
            store.update_json("count.json", lambda d: d.update(n=d.get("n", 0) + 1))

    threads = [threading.Thread(target=bump, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert store.read_json("count.json") == {"n": 20}


@pytest.mark.parametrize("accept", [False, True])
def test_comfyui_start_log_says_how_the_store_runs(proxy, monkeypatch, caplog, accept):
    from pool_profiles.comfy import store as comfy_store

    opts = {**s3_options(proxy.endpoint), "single_writer": accept}
    cfg = config.StoreConfig(url(), opts, "test")
    monkeypatch.setattr(comfy_store, "resolve", lambda: cfg)
    comfy_store.reset()
    try:
        with caplog.at_level(logging.INFO, logger="pool_profiles"):
            comfy_store.open_at_startup()
    finally:
        comfy_store.reset()
    if accept:
        line = next(r.getMessage() for r in caplog.records if "using the" in r.getMessage())
        assert "single writer" in line and proxy.endpoint in line
    else:
        error = next(r.getMessage() for r in caplog.records if r.levelname == "ERROR")
        assert "storage is not usable" in error and "refusing to start" in error
        assert proxy.endpoint in error
