"""README, .ci/run, pyproject, LICENSE and the example workflow agree with each other
and with the code: the commands users copy are the ones CI runs."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from pool_profiles.cli import build_parser

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; CI runs 3.11

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.S | re.M)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def code_blocks(text: str) -> list[str]:
    return [m.strip() for m in re.findall(r"^ *```bash\n(.*?)^ *```", text, re.S | re.M)]


def quick_start_commands() -> list[str]:
    blocks = code_blocks(section("Quick start"))
    assert len(blocks) == 2, "README's Quick start has exactly two set-up commands"
    assert all("\n" not in b for b in blocks), "each set-up command is one line"
    return blocks


def ci_commands() -> list[str]:
    """.ci/run's lines that are commands (not comments, not blank)."""
    return [ln.strip() for ln in CI.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def test_ci_runs_readme_commands_verbatim_and_nothing_python_before_them():
    serve, tests = quick_start_commands()
    lines = ci_commands()
    assert tests in lines, ".ci/run must run README's test command exactly as written"
    assert f"bash -c '{serve}' &" in lines, ".ci/run must run README's first command"
    venv = lines.index("python3 -m venv .venv")
    first = next(i for i, ln in enumerate(lines) if serve in ln)
    before = lines[venv + 1 : first]
    # Between making the venv and README's commands: activating it and a port probe,
    # but no install step of CI's own (a user would not run one).
    assert not [ln for ln in before if re.search(r"\bpip\b|ensurepip|get-pip", ln)], before
    assert not re.search(r"pip install[^\n]*--upgrade pip|pip install -U pip", CI)
    assert lines.index(tests) > first


def test_the_test_command_installs_the_plugin_after_the_pack():
    # pip 23.2.1 cannot resolve the plugin's dependency on the pack in the same call.
    _, tests = quick_start_commands()
    steps = [s.strip() for s in tests.split("&&")]
    pack = next(i for i, s in enumerate(steps) if '".[test]"' in s)
    plugin = next(i for i, s in enumerate(steps) if "tests/example_plugin" in s)
    assert plugin > pack and "example_plugin" not in steps[pack]
    assert steps[-1] == "python -m pytest"


def test_readme_names_the_system_packages_ci_installs():
    for package in re.search(r"apt-get install -y -qq ([^>]+)>", CI).group(1).split():
        assert f"`{package}`" in section("Quick start") or package in section("Quick start")
    assert "chromium" in section("Quick start")


def test_s3_stack_is_pinned_for_tests_and_a_range_for_users():
    test_extra = PYPROJECT["project"]["optional-dependencies"]["test"]
    pinned = {re.split(r"[\[=<>]", r)[0]: r for r in test_extra}
    for name in ("s3fs", "aiobotocore", "botocore", "boto3", "moto"):
        assert name in pinned and "==" in pinned[name], f"{name} is pinned in the test extra"
    s3 = PYPROJECT["project"]["optional-dependencies"]["s3"]
    assert s3 and all("==" not in r and ">=" in r for r in s3)


def test_license_file_matches_pyproject():
    assert PYPROJECT["project"]["license"] == "MIT"
    assert "LICENSE" in PYPROJECT["project"].get("license-files", [])
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    assert re.search(r"^Copyright \(c\) \d{4} \S", text, re.M)


def readme_cli_lines() -> list[str]:
    lines = []
    for block in code_blocks(README):
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip()
            if line.startswith("pool-profiles "):
                lines.append(line)
            elif line.startswith("python -m pool_profiles.cli "):
                lines.append("pool-profiles " + line.split(" ", 3)[3])
    return lines


def test_readme_code_fences_open_and_close_cleanly():
    # A closing fence with text after it is no fence: the rest of the section would
    # render as code (and the regexes above would still "find" the block).
    lines = enumerate(README.splitlines(), 1)
    fences = [(n, ln.strip()) for n, ln in lines if ln.lstrip().startswith("```")]
    assert len(fences) % 2 == 0, fences
    for (n_open, opening), (n_close, closing) in zip(fences[::2], fences[1::2], strict=True):
        assert re.fullmatch(r"```[a-z]*", opening), f"line {n_open}: {opening!r}"
        assert closing == "```", f"line {n_close}: a closing fence holds only ```"


def test_every_cli_line_in_readme_parses():
    lines = readme_cli_lines()
    assert len(lines) >= 15
    for line in lines:
        argv = shlex.split(line)[1:]
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exc:
            pytest.fail(f"README's `{line}` does not parse (exit {exc.code})")
        assert callable(args.func), line


def test_readme_covers_what_a_comfyui_user_needs():
    text = section("Install in ComfyUI")
    for needle in (
        "ComfyUI-Manager",
        "comfy node install comfyui-pool-profiles",
        "git clone",
        "pip install -r comfyui-pool-profiles/requirements.txt",
        "Python 3.10",
        "example_workflows/pool_profile_grid_preview.json",
    ):
        assert needle in text, needle
    assert "--comfyui" in section("Command line")
    assert "python -m pool_profiles.cli" in section("Command line")
    assert "pip install pytest" in section("Writing a storage backend")
    requires = PYPROJECT["project"]["requires-python"]
    assert requires == ">=3.10"


# -- the example workflow ----------------------------------------------------------


def widget_names(node_class: type) -> list[str]:
    """The widgets ComfyUI makes from INPUT_TYPES, in order: every required or optional
    input of a widget type (INT, FLOAT, STRING, BOOLEAN, a list of choices)."""
    names = []
    spec = node_class.INPUT_TYPES()
    for group in ("required", "optional"):
        for name, (kind, *opts) in spec.get(group, {}).items():
            if isinstance(kind, list) or kind in ("INT", "FLOAT", "STRING", "BOOLEAN"):
                names.append(name)
                # The frontend adds the fixed/increment/... combo right after it, saved.
                control = (opts[0] if opts else {}).get("control_after_generate")
                if control or (control is None and name in ("seed", "noise_seed")):
                    names.append("control_after_generate")
    return names


def node_inputs(node_class: type) -> dict[str, str]:
    spec = node_class.INPUT_TYPES()
    out = {}
    for group in ("required", "optional"):
        for name, (kind, *_) in spec.get(group, {}).items():
            if isinstance(kind, str) and kind not in ("INT", "FLOAT", "STRING", "BOOLEAN"):
                out[name] = kind
    return out


def test_example_workflow_is_a_valid_ui_workflow_of_our_nodes():
    pytest.importorskip("torch")
    from pool_profiles.nodes.grid_image_pool import GridImagePool
    from pool_profiles.nodes.pool_all import GridImagePoolAll
    from pool_profiles.nodes.pool_profile import PoolProfile

    ours = {
        "PoolProfile": PoolProfile,
        "GridImagePool": GridImagePool,
        "GridImagePoolAll": GridImagePoolAll,
    }
    pool_types = {"GridImagePool", "GridImagePoolAll"}
    files = sorted((ROOT / "example_workflows").glob("*.json"))
    assert files
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        nodes = {n["id"]: n for n in doc["nodes"]}
        types = {n["type"] for n in nodes.values()}
        assert "PoolProfile" in types and types & pool_types, path.name
        assert doc["last_node_id"] >= max(nodes)
        for node in nodes.values():
            cls = ours.get(node["type"])
            if cls is None:
                continue
            names = widget_names(cls)
            # The web extension hides the STRING widgets and adds a combo that is not
            # serialised: the saved values are exactly the Python widgets.
            assert len(node["widgets_values"]) == len(names), (path.name, node["type"])
            outputs = [(o["name"], o["type"]) for o in node["outputs"]]
            assert outputs == list(zip(cls.RETURN_NAMES, cls.RETURN_TYPES, strict=True))
            for inp in node["inputs"]:
                assert node_inputs(cls).get(inp["name"]) == inp["type"], inp
        for pool in (n for n in nodes.values() if n["type"] == "GridImagePool"):
            index = widget_names(GridImagePool).index("index")
            assert pool["widgets_values"][index] in (-1, 0), path.name
            control = pool["widgets_values"][index + 1]
            assert control in ("fixed", "increment", "decrement", "randomize"), path.name
        links = {link[0]: link for link in doc["links"]}
        assert doc["last_link_id"] >= max(links)
        for link_id, origin, o_slot, target, t_slot, kind in links.values():
            assert nodes[origin]["outputs"][o_slot]["type"] == kind
            assert link_id in nodes[origin]["outputs"][o_slot]["links"]
            assert nodes[target]["inputs"][t_slot]["link"] == link_id
            assert nodes[target]["inputs"][t_slot]["type"] == kind
        chain = {(nodes[o]["type"], nodes[t]["type"]) for _, o, _, t, _, _ in links.values()}
        assert any(("PoolProfile", t) in chain for t in pool_types), path.name
        assert any((t, "PreviewImage") in chain for t in pool_types), path.name


def test_every_setting_the_code_reads_is_in_readmes_configuration():
    documented = set(re.findall(r"POOL_PROFILES_[A-Z_]+", section("Configuration")))
    read: set[str] = set()
    for path in (ROOT / "pool_profiles").rglob("*.py"):
        if "testing" in path.parts:
            continue  # test harness settings are documented with the tests
        read |= set(re.findall(r"POOL_PROFILES_[A-Z_]+", path.read_text(encoding="utf-8")))
    assert read, "no settings found: the scan is broken"
    assert sorted(read - documented) == []
