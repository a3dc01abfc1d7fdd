"""Ready for the Comfy Registry: the package built as comfy-cli builds it (git-tracked
files, .comfyignore, [tool.comfy] includes) holds the pack and none of the tests,
benchmarks, screenshots or CI files, nothing the Registry refuses (eval/exec, installing
packages at run time, obfuscated code), and loads as a custom node from its own
files; [tool.comfy] names a square icon and the ComfyUI range README claims; the
publish workflow is manual."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from PIL import Image
from registry_pack import (
    MAX_LINE,
    git_files,
    javascript_findings,
    long_lines,
    pack,
    python_findings,
)

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; CI runs 3.11

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
COMFY = PYPROJECT["tool"]["comfy"]
LEFT_OUT = ("tests/", "benchmarks/", "tools/", ".ci/", ".github/")


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> tuple[Path, list[str]]:
    target = tmp_path_factory.mktemp("registry") / "node.zip"
    names = pack(ROOT, target, COMFY.get("includes", []))
    with zipfile.ZipFile(target) as zf:
        assert sorted(zf.namelist()) == sorted(names)
    return target, names


def test_the_package_holds_the_pack_and_nothing_else(package):
    _, names = package
    listed = set(names)
    for needed in (
        "__init__.py",
        "pyproject.toml",
        "requirements.txt",
        "LICENSE",
        "README.md",
        "icon.png",
        ".comfyignore",
        "web/pool_profiles.js",
        "web/comfy/compat.js",
        "pool_profiles/__init__.py",
        "pool_profiles/server/static/index.html",
        "pool_profiles/server/static/login.html",
        "locales/en/nodeDefs.json",
        "locales/zh/nodeDefs.json",
        "example_workflows/pool_profile_grid_preview.json",
    ):
        assert needed in listed, needed
    for js in (ROOT / "web" / "lib").glob("*.js"):
        assert f"web/lib/{js.name}" in listed
    assert {n for n in names if n.startswith("web/docs/")}, "the node help pages are shipped"
    shipped_wrongly = [n for n in names if n.startswith(LEFT_OUT)]
    shipped_wrongly += [n for n in names if re.fullmatch(r"docs/[^/]+\.png", n)]
    shipped_wrongly += [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".zip"))]
    assert shipped_wrongly == []


def test_every_tracked_file_not_ignored_is_shipped(package):
    # .comfyignore leaves out exactly the folders it means to: a pattern that caught a
    # file of the pack would make the published node break where the tests pass.
    _, names = package
    tracked = set(git_files(ROOT))
    missing = sorted(
        f
        for f in tracked - set(names)
        if not f.startswith(LEFT_OUT) and not re.fullmatch(r"docs/[^/]+\.png", f)
    )
    assert missing == []


def test_nothing_the_registry_refuses(package, tmp_path):
    target, names = package
    findings: list[str] = []
    with zipfile.ZipFile(target) as zf:
        for name in names:
            if name.endswith(".py"):
                text = zf.read(name).decode("utf-8")
                findings += python_findings(name, text) + long_lines(name, text)
            elif name.endswith(".js"):
                text = zf.read(name).decode("utf-8")
                findings += javascript_findings(name, text) + long_lines(name, text)
        zf.extractall(tmp_path / "pack")
    assert findings == [], f"refused patterns or lines over {MAX_LINE} characters"
    # The publish action's own scan: ruff's exec (S102) and eval (S307) rules.
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache"]
        + ["--select", "S102,S307", "--target-version", "py310", str(tmp_path / "pack")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_checks_catch_what_they_look_for():
    # The scan is only worth something if it finds the patterns it names.
    bad_py = (
        "import subprocess, sys\n"
        "subprocess.check_call([sys.executable, '-m', 'pip', 'install', 'x'])\n"
        "eval(user_text)\n"
        "import pip\n"
    )
    assert len(python_findings("bad.py", bad_py)) == 3
    fine_py = (
        "import subprocess\nsubprocess.run(['weed', 'server'])\nmessage = 'pip install s3fs'\n"
    )
    assert python_findings("fine.py", fine_py) == []
    bad_js = "const f = new Function('a', 'return a');\neval(code);\nsetTimeout('go()', 5);\n"
    assert len(javascript_findings("bad.js", bad_js)) == 3
    assert javascript_findings("fine.js", "api.evaluate(x); // eval( in a comment\n") == []
    assert long_lines("min.js", "x" * (MAX_LINE + 1)) != []


def test_the_package_loads_as_a_custom_node_from_its_own_files(package, tmp_path):
    pytest.importorskip("torch")
    target, _ = package
    pack_dir = tmp_path / "custom_nodes" / "comfyui-pool-profiles"
    with zipfile.ZipFile(target) as zf:
        zf.extractall(pack_dir)
    code = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('pack', {str(pack_dir / '__init__.py')!r},"
        f" submodule_search_locations=[{str(pack_dir)!r}])\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "import pool_profiles\n"
        "print(json.dumps([sorted(mod.NODE_CLASS_MAPPINGS), mod.WEB_DIRECTORY,"
        " pool_profiles.__file__]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    nodes, web, where = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"GridImagePool", "PoolProfile"} <= set(nodes)
    assert web == "./web"
    assert Path(where).resolve().is_relative_to(pack_dir.resolve())


def test_tool_comfy_names_a_square_icon_in_this_repo():
    assert COMFY["PublisherId"] and COMFY["DisplayName"] == "Pool Profiles"
    icon = urlsplit(COMFY["Icon"])  # the Registry takes a URL, not a path
    repo = urlsplit(PYPROJECT["project"]["urls"]["Repository"])
    assert icon.scheme == "https" and icon.netloc == "raw.githubusercontent.com"
    owner, name, branch, *rest = icon.path.strip("/").split("/")
    assert f"{owner}/{name}" == repo.path.strip("/") and branch == "main"
    path = "/".join(rest)
    assert path in git_files(ROOT), "the icon is committed where the URL points"
    with Image.open(ROOT / path) as image:
        assert image.format in ("PNG", "SVG", "JPEG", "GIF")
        assert image.width == image.height and 64 <= image.width <= 400  # Registry: ≤ 800×400


def test_requires_comfyui_is_the_range_readme_claims():
    requires = COMFY["requires-comfyui"]
    match = re.fullmatch(r">=(\d+\.\d+\.\d+)", requires)
    assert match, requires
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Supported: ComfyUI {match.group(1)} or newer" in readme


def test_the_publish_workflow_is_manual_and_uses_the_registry_action():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "publish.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]  # YAML 1.1: on == True
    assert set(triggers) == {"workflow_dispatch"}
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    publish = next(
        s for s in steps if s.get("uses", "").startswith("Comfy-Org/publish-node-action@")
    )
    assert publish["with"]["personal_access_token"] == "${{ secrets.REGISTRY_ACCESS_TOKEN }}"
