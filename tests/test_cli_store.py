"""Which store the CLI opens: --store / --store-options / --config / --comfyui before
or after the command, and read-only commands that create nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pool_profiles import registry
from pool_profiles.backends import open_store
from pool_profiles.cli import main


@pytest.fixture(autouse=True)
def no_env_store(monkeypatch, tmp_path):
    monkeypatch.delenv("POOL_PROFILES_STORE", raising=False)
    monkeypatch.delenv("POOL_PROFILES_STORE_OPTIONS", raising=False)
    monkeypatch.chdir(tmp_path)  # the default ./grid_pool lands here, if anywhere


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def png(path: Path) -> str:
    Image.new("RGB", (4, 4), (9, 9, 9)).save(path)
    return str(path)


@pytest.mark.parametrize(
    "argv",
    [
        ["--store", "{root}", "profiles", "list", "--json"],
        ["profiles", "--store", "{root}", "list", "--json"],
        ["profiles", "list", "--store", "{root}", "--json"],
        ["profiles", "list", "--json", "--config", "{config}"],
        ["--config", "{config}", "profiles", "list", "--json"],
    ],
)
def test_store_options_before_or_after_the_command(capsys, tmp_path, argv):
    root = tmp_path / "elsewhere"
    registry.create_profile(open_store(str(root)), "Dogs")
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"store": str(root)}))
    argv = [a.format(root=root, config=config) for a in argv]
    rc, out, err = run(capsys, *argv)
    assert rc == 0, err
    assert [e["name"] for e in json.loads(out)] == ["Dogs"]
    assert not (tmp_path / "grid_pool").exists()


def test_store_options_after_the_command_reach_the_backend(capsys, tmp_path):
    # dir:// through the generic backend needs its options: given after the command.
    options = json.dumps(
        {
            "path": str(tmp_path / "d"),
            "target_protocol": "file",
            "target_options": {"auto_mkdir": True},
        }
    )
    rc, out, err = run(
        capsys, "profiles", "create", "Cats", "--store", "dir://", "--store-options", options
    )
    assert rc == 0, err
    assert (tmp_path / "d" / "profiles.json").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--store-options", "{}", "profiles", "list"], "--store-options needs --store"),
        (["profiles", "list", "--store-options", "{}"], "--store-options needs --store"),
        (["--store", "a", "--config", "c.json", "profiles", "list"], "use one of --store"),
    ],
)
def test_store_option_mistakes_are_one_line(capsys, tmp_path, argv, message):
    rc, out, err = run(capsys, *argv)
    assert rc == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pool-profiles: error: "), err
    assert message in lines[0]
    assert not (tmp_path / "grid_pool").exists() and not (tmp_path / "a").exists()


def fake_comfyui(folder: Path) -> Path:
    (folder / "comfy").mkdir(parents=True)
    (folder / "main.py").write_text("# ComfyUI\n")
    return folder


def test_comfyui_option_uses_its_input_grid_pool(capsys, tmp_path):
    comfy = fake_comfyui(tmp_path / "ComfyUI")
    rc, out, err = run(capsys, "--comfyui", str(comfy), "profiles", "create", "Dogs", "--json")
    assert rc == 0, err
    pid = json.loads(out)["id"]
    assert (comfy / "input" / "grid_pool" / "profiles.json").exists()
    rc, out, err = run(capsys, "pool", "add", pid, png(tmp_path / "a.png"), "--comfyui", str(comfy))
    assert rc == 0, err
    assert not (tmp_path / "grid_pool").exists()


def test_comfyui_option_follows_its_config_file(capsys, tmp_path):
    comfy = fake_comfyui(tmp_path / "ComfyUI")
    (comfy / "user").mkdir()
    (comfy / "user" / "pool_profiles.json").write_text(json.dumps({"store": "memory://cfy"}))
    rc, out, err = run(capsys, "profiles", "create", "Dogs", "--comfyui", str(comfy))
    assert rc == 0, err
    assert [e["name"] for e in registry.list_profiles(open_store("memory://cfy"))] == ["Dogs"]
    assert not (comfy / "input").exists()


def test_comfyui_option_refuses_a_folder_that_is_not_comfyui(capsys, tmp_path):
    rc, _, err = run(capsys, "--comfyui", str(tmp_path), "profiles", "list")
    assert rc == 1 and "not a ComfyUI folder" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["profiles", "list"],
        ["profiles", "list", "--json"],
        ["check"],
        ["pool", "list", "--pool", "p1"],
        ["export", "nosuch", "out.zip"],
    ],
)
def test_read_only_commands_create_nothing(capsys, tmp_path, argv):
    run(capsys, *argv)
    assert sorted(os.listdir(tmp_path)) == [], os.listdir(tmp_path)


def test_a_failed_copy_creates_no_destination(capsys, tmp_path):
    src = tmp_path / "src"
    registry.create_profile(open_store(str(src)), "Dogs")
    rc, _, err = run(capsys, "--store", str(src), "copy", "nosuch", "--to", str(tmp_path / "dst"))
    assert rc == 1 and "nosuch" in err
    assert not (tmp_path / "dst").exists()


def test_single_writer_warning_only_on_write_commands(tmp_path):
    options = json.dumps(
        {"path": str(tmp_path), "target_protocol": "file", "target_options": {"auto_mkdir": True}}
    )
    base = [sys.executable, "-m", "pool_profiles.cli", "--store", "dir://s"]
    env = {**os.environ, "POOL_PROFILES_STORE": ""}

    def stderr(*argv: str) -> str:
        proc = subprocess.run(
            [*base, "--store-options", options, *argv],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stderr

    assert "single writer" in stderr("profiles", "create", "Dogs")
    assert "single writer" not in stderr("profiles", "list")
    assert "single writer" not in stderr("check")


def test_copy_twice_is_idempotent_and_says_so(capsys, tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    registry.create_profile(open_store(str(src)), "Dogs")
    rc, out, err = run(capsys, "--store", str(src), "copy", "--to", str(dst))
    assert rc == 0, err
    assert out.startswith("copied ")
    rc, out, err = run(capsys, "copy", "--to", str(dst), "--store", str(src))
    assert rc == 0, err
    assert out.startswith("unchanged ") and "Dogs" in out
    assert [e["name"] for e in registry.list_profiles(open_store(str(dst)))] == ["Dogs"]


def test_copy_to_memory_warns_that_it_vanishes(capsys, tmp_path):
    src = tmp_path / "src"
    registry.create_profile(open_store(str(src)), "Dogs")
    rc, out, err = run(capsys, "--store", str(src), "copy", "--to", "memory://cli-vanish")
    assert rc == 0, err
    assert "vanishes when the command ends" in err
