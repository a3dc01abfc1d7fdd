"""The Comfy Registry package, built as `comfy node pack` / `comfy node publish` build it
(comfy-cli's `file_utils.zip_files`): the git-tracked files, minus what `.comfyignore`
matches (gitignore patterns, read with pathspec's "gitwildmatch" as comfy-cli reads
them), except under the `[tool.comfy] includes` folders, which are never ignored and are
added whole (untracked files too). Plus the checks for what the Registry refuses:
eval/exec (the publish action runs ruff's S102/S307), installing packages at run time,
and obfuscated code."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import warnings
import zipfile
from pathlib import Path

import pathspec


def git_files(root: Path) -> list[str]:
    done = subprocess.run(
        ["git", "-C", str(root), "ls-files"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"not a git checkout ({done.stderr.strip()}): the Registry packs git-tracked files"
        )
    return [line for line in done.stdout.splitlines() if line.strip()]


def ignore_spec(root: Path) -> pathspec.PathSpec | None:
    path = root / ".comfyignore"
    if not path.is_file():
        return None
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    patterns = [ln for ln in lines if ln and not ln.startswith("#")]
    with warnings.catch_warnings():  # newer pathspec renames the factory comfy-cli uses
        warnings.simplefilter("ignore", DeprecationWarning)
        return pathspec.PathSpec.from_lines("gitwildmatch", patterns) if patterns else None


def pack(root: Path, target: Path, includes: list[str]) -> list[str]:
    """Write the package zip to `target`; returns its member names."""
    spec = ignore_spec(root)
    prefixes = [os.path.normpath(i.lstrip("/")).replace("\\", "/") for i in includes]

    def forced(rel: str) -> bool:
        return any(rel == p or rel.startswith(p + "/") for p in prefixes)

    def ignored(rel: str) -> bool:
        return spec is not None and not forced(rel) and spec.match_file(rel)

    names: list[str] = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in git_files(root):
            if ignored(rel) or not (root / rel).exists():
                continue
            zf.write(root / rel, rel)
            names.append(rel)
        for include in prefixes:
            base = root / include
            for dirpath, dirs, files in os.walk(base):
                rel_dir = Path(dirpath).relative_to(root).as_posix()
                dirs[:] = [d for d in dirs if not ignored(f"{rel_dir}/{d}")]
                for name in files:
                    rel = f"{rel_dir}/{name}"
                    if rel in names or ignored(rel):
                        continue
                    zf.write(root / rel, rel)
                    names.append(rel)
    return names


# -- what the Registry refuses -------------------------------------------------------

_INSTALL_WORDS = re.compile(r"\b(pip|pip3|ensurepip|install|uv|conda|easy_install)\b")
_PROCESS_CALLS = {
    ("subprocess", "run"),
    ("subprocess", "call"),
    ("subprocess", "check_call"),
    ("subprocess", "check_output"),
    ("subprocess", "Popen"),
    ("subprocess", "getoutput"),
    ("subprocess", "getstatusoutput"),
    ("os", "system"),
    ("os", "popen"),
}
_JS_REFUSED = [
    (re.compile(r"(?<![\w.$])eval\s*\("), "eval()"),
    (re.compile(r"\bnew\s+Function\s*\("), "new Function()"),
    (re.compile(r"\bset(?:Timeout|Interval)\s*\(\s*['\"`]"), "a string run as code by a timer"),
]
#: longer lines than any hand-written source has: a sign of packed or obfuscated code
MAX_LINE = 300


def _strings(node: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _dotted(func: ast.expr) -> tuple[str, str] | None:
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id, func.attr
    return None


def python_findings(path: str, source: str) -> list[str]:
    found: list[str] = []
    tree = ast.parse(source, filename=path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("eval", "exec"):
                found.append(f"{path}:{node.lineno}: {func.id}()")
            dotted = _dotted(func)
            if dotted in _PROCESS_CALLS or (
                dotted and dotted[0] == "os" and dotted[1].startswith(("exec", "spawn"))
            ):
                words = [s for s in _strings(node) if _INSTALL_WORDS.search(s)]
                if words:
                    found.append(
                        f"{path}:{node.lineno}: {'.'.join(dotted)} installs packages ({words[0]!r})"
                    )
            if dotted in {("runpy", "run_module"), ("pip", "main")}:
                found.append(f"{path}:{node.lineno}: {'.'.join(dotted)}")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            if any(m == "pip" or m.startswith("pip.") for m in modules):
                found.append(f"{path}:{node.lineno}: imports pip")
    return found


def javascript_findings(path: str, source: str) -> list[str]:
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        code = re.sub(r"(^|\s)//.*$", "", line)  # a line comment (not the // of a URL)
        for pattern, what in _JS_REFUSED:
            if pattern.search(code):
                found.append(f"{path}:{number}: {what}")
    return found


def long_lines(path: str, source: str) -> list[str]:
    return [
        f"{path}:{n}: {len(line)} characters on one line"
        for n, line in enumerate(source.splitlines(), 1)
        if len(line) > MAX_LINE
    ]
