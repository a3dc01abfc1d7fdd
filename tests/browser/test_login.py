"""`pool-profiles serve --token-file` in chromium: the page asks for the token, a wrong
one is refused, the right one sets an HttpOnly SameSite=Strict cookie and the pool
manager then works (under its Content-Security-Policy: no violation is logged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from browser_pages import open_page
from playwright.sync_api import expect

from pool_profiles import registry
from pool_profiles.backends import open_store

TOKEN = "browser-Token_0123456789-abcdef"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def guarded_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("login")
    token_file = tmp / "token"
    token_file.write_text(TOKEN + "\n", encoding="utf-8")
    store = tmp / "store"
    registry.create_profile(open_store(str(store)), "Guarded")
    cmd = [sys.executable, "-m", "pool_profiles.cli", "--store", str(store), "serve"]
    proc = subprocess.Popen(
        [*cmd, "--port", "0", "--token-file", str(token_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if "serving on" not in line:
        proc.kill()
        raise AssertionError(f"serve did not start: {line}{proc.stderr.read()}")
    try:
        yield line.split("serving on ", 1)[1].split()[0].rstrip("/")
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
        assert TOKEN not in line + out + err


def test_sign_in_with_the_token_then_use_the_page(browser, guarded_url):
    context, page, errors = open_page(browser)
    try:
        page.goto(guarded_url + "/")
        expect(page.get_by_role("heading", name="Pool Profiles")).to_be_visible()
        token_box = page.get_by_label("Access token")
        expect(token_box).to_be_visible()

        token_box.fill("not-the-right-token-at-all")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("That token is not right.")
        assert context.cookies() == []

        page.get_by_label("Access token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        # the pool manager itself, its data fetched with the cookie
        dropdown = page.get_by_role("combobox", name="Profile")
        expect(dropdown.locator("option", has_text="Guarded")).to_have_count(1)
        expect(page.locator("#store-info")).to_contain_text("store")
        (cookie,) = context.cookies()
        assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
        assert cookie["value"] != TOKEN
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script sees it

        # the cookie keeps the session; the page's revalidation (a 304) keeps its policy
        page.reload()
        expect(dropdown.locator("option", has_text="Guarded")).to_have_count(1)
    finally:
        context.close()
    # The sign-in page itself is a 401 (chromium logs that); anything else, such as a
    # Content-Security-Policy violation, fails the test.
    assert [e for e in errors if "status of 401" not in e] == []


def test_the_sign_in_form_speaks_the_browsers_language(browser, guarded_url):
    # Its script and strings load before the token is given; the English of the HTML
    # is what a browser without scripts sees.
    zh = json.loads((REPO / "locales" / "zh" / "main.json").read_text("utf-8"))["poolProfiles"]
    context, page, errors = open_page(browser, locale="zh-CN")
    try:
        page.goto(guarded_url + "/")
        expect(page).to_have_title(zh["signInTitle"])
        expect(page.get_by_role("heading", name=zh["appName"])).to_be_visible()
        expect(page.get_by_text(zh["signInIntro"])).to_be_visible()
        page.get_by_label(zh["accessToken"]).fill("not-the-right-token-at-all")
        page.get_by_role("button", name=zh["signIn"]).click()
        expect(page.get_by_role("alert")).to_have_text(zh["wrongToken"])

        page.get_by_label(zh["accessToken"]).fill(TOKEN)
        page.get_by_role("button", name=zh["signIn"]).click()
        expect(page.get_by_role("combobox", name=zh["profile"], exact=True)).to_be_visible()
        expect(page).to_have_title(zh["appName"])
    finally:
        context.close()
    assert [e for e in errors if "status of 401" not in e] == []
