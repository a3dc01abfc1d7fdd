"""The browser suite: Playwright for Python driving Debian's chromium (never
`playwright install`) against a real `pool-profiles serve` process, once on a local
store and once on S3 (moto). Controls are found by role and accessible name; every
test fails on console errors it did not expect."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from pool_profiles.testing.chromium import browser_missing, launched
from pool_profiles.testing.spec import StoreSpec

BUCKET = "pool-profiles-test"  # tests/conftest.py creates it


_missing = browser_missing()
if _missing and os.environ.get("CI"):
    pytest.fail(f"browser tests cannot run in CI: {_missing}", pytrace=False)


def pytest_collection_modifyitems(config, items):
    if not _missing:
        return
    skip = pytest.mark.skip(reason=_missing)
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(skip)


@dataclass
class Served:
    """A running `pool-profiles serve` and the same store opened in this process."""

    url: str
    spec: StoreSpec
    kind: str

    def store(self):
        return self.spec.open()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run the CLI as a second process on the same store (another writer)."""
        cmd = [sys.executable, "-m", "pool_profiles.cli", "--store", self.spec.url]
        if self.spec.options:
            cmd += ["--store-options", json.dumps(self.spec.options)]
        done = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done


def _start(spec: StoreSpec) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "pool_profiles.cli", "--store", spec.url]
    if spec.options:
        cmd += ["--store-options", json.dumps(spec.options)]
    proc = subprocess.Popen(
        [*cmd, "serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline()
    if "serving on" not in line:
        proc.kill()
        raise AssertionError(f"serve did not start: {line}{proc.stderr.read()}")
    return proc, line.split("serving on ", 1)[1].split()[0].rstrip("/")


@pytest.fixture(scope="module", params=["local", "s3"])
def served(request, tmp_path_factory):
    if request.param == "s3":
        from pool_profiles.testing.moto_server import s3_options

        endpoint = request.getfixturevalue("moto_endpoint")
        spec = StoreSpec(f"s3://{BUCKET}/browser-{uuid.uuid4().hex[:10]}", s3_options(endpoint))
    else:
        spec = StoreSpec(str(tmp_path_factory.mktemp("browser") / "store"))
    proc, url = _start(spec)
    try:
        yield Served(url, spec, request.param)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# Module scope, not session: sync Playwright runs an event loop in this thread until it
# exits, and every async test collected after the browser tests would then fail with
# "Runner.run() cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser():
    with launched() as b:
        yield b


@dataclass
class Dialogs:
    """Answers for confirm/prompt, in order; any other dialog is a failure."""

    answers: list[Any] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def expect(self, *answers: Any) -> None:
        self.answers.extend(answers)

    def handle(self, dialog) -> None:
        self.seen.append(dialog.message)
        if not self.answers or dialog.type == "alert":
            self.unexpected.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()
            return
        answer = self.answers.pop(0)
        if answer is False or answer is None:
            dialog.dismiss()
        elif dialog.type == "prompt":
            dialog.accept(str(answer))
        else:
            dialog.accept()


def answer_dialog(page, dialogs: Dialogs, answer: Any) -> None:
    """Answer the page's own question (a modal role=dialog): text for a prompt, True to
    confirm, False to cancel. The browser's prompt/confirm never appear (Dialogs)."""
    from playwright.sync_api import expect

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialogs.seen.append(dialog.inner_text())
    if answer is False or answer is None:
        dialog.get_by_role("button", name="Cancel").click()
    elif isinstance(answer, str):
        dialog.get_by_role("textbox").fill(answer)
        dialog.get_by_role("button", name="OK").click()
    else:
        dialog.get_by_role("button", name=re.compile(r"^(OK|Delete)$")).click()
    expect(dialog).to_have_count(0)


@dataclass
class Console:
    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """An error the test provokes on purpose (a failing request logs one)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def page(browser, served):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    dialogs, console = Dialogs(), Console()
    pg.on("dialog", dialogs.handle)
    pg.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: console.errors.append(f"page error: {e}"))
    pg.dialogs, pg.console = dialogs, console
    pg.answer = lambda answer: answer_dialog(pg, dialogs, answer)
    pg.goto(served.url + "/")
    yield pg
    context.close()
    assert console.unexpected() == [], "console errors"
    assert dialogs.unexpected == [], "unexpected dialogs"
    assert dialogs.answers == [], f"dialogs that never came: {dialogs.answers}"
