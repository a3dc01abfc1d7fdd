"""Driving ComfyUI's page as a user would, for the live UI tests: open it with a
renderer (classic canvas or the Vue "Nodes 2.0" one), add and connect nodes, find a
node's grid or profile bar, drop and paste files, and collect every console warning or
error the pack causes (attributed by the script URL in its stack)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfyui_live_support import Client

PACK_PATH = "/extensions/comfyui-pool-profiles/"

# Runs before any page script. console.warn/error whose call stack passes through the
# pack's files (a deprecated API we read, an error we log) is the pack's; so is the
# frontend's "Using a function for values" warning, which it prints later, from its
# own stack, about a widget we made.
CONSOLE_PROBE = """
(() => {
  Error.stackTraceLimit = 60;
  const PACK = __PACK__;
  const seen = (window.__packConsole = []);
  const text = (args) => args.map((a) => {
    if (a instanceof Error) return a.stack || String(a);
    if (typeof a === "string") return a;
    try { return JSON.stringify(a); } catch { return String(a); }
  }).join(" ");
  for (const level of ["warn", "error"]) {
    const original = console[level].bind(console);
    console[level] = (...args) => {
      const message = text(args);
      const stack = new Error().stack || "";
      if (stack.includes(PACK) || message.includes(PACK) ||
          /Using a function for values/.test(message)) {
        seen.push(level + ": " + message.slice(0, 600));
      }
      return original(...args);
    };
  }
  window.addEventListener("error", (e) => {
    const where = (e.error && e.error.stack) || e.filename || "";
    if (where.includes(PACK)) seen.push("uncaught: " + e.message);
  });
  window.addEventListener("unhandledrejection", (e) => {
    const where = (e.reason && e.reason.stack) || "";
    if (where.includes(PACK)) seen.push("unhandled rejection: " + where.slice(0, 600));
  });
})();
""".replace("__PACK__", json.dumps(PACK_PATH))

# The pack asks through ComfyUI's dialogs only: the browser's own boxes fail the test
# (recorded as console entries of the pack). Questions are answered in the page, as
# they appear, by the answers a test queued (matched by the dialog's text); a dialog
# no answer matches is left alone.
DIALOG_PROBE = r"""
(() => {
  const seen = (window.__nativeDialogs = []);
  for (const kind of ["prompt", "confirm", "alert"]) {
    window[kind] = (message) => {
      seen.push(`window.${kind}: ${message}`);
      return kind === "confirm" ? false : null;
    };
  }
  window.__answers = [];
  window.__dialogTexts = [];
  const handled = new WeakSet();
  const answerOne = (dialog, tries) => {
    const text = (dialog.innerText || "").replace(/\s+/g, " ").trim();
    const buttons = [...dialog.querySelectorAll("button")];
    if (!text || !buttons.length) {
      if (tries < 50) setTimeout(() => answerOne(dialog, tries + 1), 100);
      return;
    }
    handled.add(dialog);
    window.__dialogTexts.push(text);
    const i = window.__answers.findIndex((a) => new RegExp(a.match).test(text));
    const found = i >= 0 ? window.__answers.splice(i, 1)[0] : null;
    const name = (b) => (b.innerText || b.getAttribute("aria-label") || "").trim();
    const named = (re) => buttons.find((b) => re.test(name(b)));
    const input = dialog.querySelector("input[type=text], input:not([type])");
    if (found && typeof found.value === "string" && input) {
      input.value = found.value;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      setTimeout(() => named(/^(Confirm|OK)$/i)?.click(), 50);
    } else if (found && found.value === true) {
      named(/^(Confirm|Delete|OK|Yes)$/i)?.click();
    } else if (found) {
      (named(/^(Cancel|No)$/i) || named(/close/i))?.click();
    } // no answer queued: not ours to close (e.g. the MaskEditor's own dialog)
  };
  new MutationObserver(() => {
    for (const d of document.querySelectorAll('[role="dialog"], [role="alertdialog"]')) {
      if (!handled.has(d) && d.isConnected) {
        handled.add(d);
        setTimeout(() => answerOne(d, 0), 150);
      }
    }
  }).observe(document, { subtree: true, childList: true });
})();
"""

# A failed request of ours shows as a browser console error naming the route.
OWN_REQUEST = re.compile(r"/grid_pool/")


@dataclass
class Files:
    """Files handed to the page (drop / paste) as base64, name and type."""

    items: list[dict[str, str]]

    @classmethod
    def of(cls, named: dict[str, bytes], mime: str = "image/png") -> Files:
        return cls(
            [
                {"name": n, "type": mime, "b64": base64.b64encode(b).decode()}
                for n, b in named.items()
            ]
        )


DATA_TRANSFER = """
(items) => {
  const dt = new DataTransfer();
  for (const f of items) {
    const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], f.name, { type: f.type }));
  }
  return dt;
}
"""


class ComfyPage:
    def __init__(self, page, client: Client, shots: Path | None) -> None:
        self.page = page
        self.client = client
        self.shots = shots
        self.browser_errors: list[str] = []
        page.add_init_script(CONSOLE_PROBE)
        page.add_init_script(DIALOG_PROBE)
        page.on("console", self._console)
        page.on("dialog", self._dialog)

    def _console(self, msg) -> None:
        # Failed requests are logged by the browser itself (no JS stack).
        if msg.type == "error" and OWN_REQUEST.search(msg.text + str(msg.location)):
            self.browser_errors.append(msg.text)

    def _dialog(self, dialog) -> None:
        # The browser's own dialog: never expected (DIALOG_PROBE replaced the functions).
        self.browser_errors.append(f"browser dialog: {dialog.type}: {dialog.message}")
        dialog.dismiss()

    def answer(self, match: str, value: Any) -> None:
        """Answer the next ComfyUI dialog whose text matches `match` (a regex searched
        in its title and message): a string for a prompt, True/False for a confirm."""
        self.js("([m, v]) => window.__answers.push({ match: m, value: v })", [match, value])

    @property
    def dialogs(self) -> list[str]:
        """The text of every in-page dialog so far."""
        return self.js("() => window.__dialogTexts || []")

    # -- page ----------------------------------------------------------------------

    def open(self, renderer: str) -> None:
        for key, value in (
            ("Comfy.TutorialCompleted", True),
            ("Comfy.VueNodes.Enabled", renderer == "vue"),
        ):
            self.client.request(
                "POST",
                f"/api/settings/{key}",
                json.dumps(value).encode(),
                {"Content-Type": "application/json"},
            )
        self.page.goto(self.client.base + "/")
        self.page.wait_for_function(
            "() => window.app?.graph && window.LiteGraph &&"
            " window.app.extensions?.some((e) => e.name === 'PoolProfiles.Nodes')",
            timeout=120_000,
        )
        self.js(
            "() => { app.graph.clear(); app.canvas.ds.offset = [80, 80];"
            " app.canvas.ds.scale = 1; app.canvas.setDirty(true, true); }"
        )

    def js(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def pack_console(self) -> list[str]:
        native = self.js("() => window.__nativeDialogs || []")
        return self.js("() => window.__packConsole || []") + native + self.browser_errors

    def shot(self, name: str) -> None:
        if self.shots:
            self.shots.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.shots / f"{name}.png"))

    # -- graph ---------------------------------------------------------------------

    def add_node(self, node_type: str, pos: tuple[int, int]) -> int:
        return self.js(
            """([type, pos]) => {
              const n = LiteGraph.createNode(type);
              n.pos = pos;
              app.graph.add(n);
              app.canvas.setDirty(true, true);
              return n.id;
            }""",
            [node_type, list(pos)],
        )

    def connect(self, src: int, dst: int, input_name: str) -> None:
        self.js(
            """([src, dst, name]) => {
              const a = app.graph.getNodeById(src), b = app.graph.getNodeById(dst);
              a.connect(0, b, b.inputs.findIndex((i) => i.name === name));
            }""",
            [src, dst, input_name],
        )

    def disconnect(self, dst: int, input_name: str) -> None:
        self.js(
            """([dst, name]) => {
              const b = app.graph.getNodeById(dst);
              b.disconnectInput(b.inputs.findIndex((i) => i.name === name));
            }""",
            [dst, input_name],
        )

    def widget(self, node: int, name: str) -> Any:
        return self.js(
            "([id, name]) => app.graph.getNodeById(id).widgets.find((w) => w.name === name)?.value",
            [node, name],
        )

    def select(self, node: int) -> None:
        self.js(
            "(id) => { app.canvas.deselectAll?.();"
            " app.canvas.selectNode(app.graph.getNodeById(id)); }",
            node,
        )

    def menu_item(self, node: int, content: str) -> None:
        """Run one of the pack's entries of a node's context menu (getNodeMenuItems)."""
        found = self.js(
            """([id, content]) => {
              const ext = app.extensions.find((e) => e.name === 'PoolProfiles.Nodes');
              const item = ext.getNodeMenuItems(app.graph.getNodeById(id))
                .find((i) => i && i.content === content);
              if (!item) return false;
              item.callback();
              return true;
            }""",
            [node, content],
        )
        assert found, f"no menu item {content!r}"

    def run_command(self, command: str) -> None:
        self.js("(c) => app.extensionManager.command.execute(c)", command)

    def node_ids(self, node_type: str) -> list[int]:
        return self.js(
            "(t) => app.graph.nodes.filter((n) => n.type === t).map((n) => n.id)", node_type
        )

    # -- the pack's widgets --------------------------------------------------------

    def _tag(self, node: int, what: str) -> Any:
        # Mark the node's own widget element so locators stay inside that node.
        self.page.wait_for_function(
            "([id, what]) => { const n = app.graph.getNodeById(id);"
            " const ui = what === 'grid' ? n?.__poolProfilesPool : n?.__poolProfilesProfile;"
            " const el = what === 'grid' ? ui?.grid?.element : ui?.bar?.element;"
            " if (!el) return false; el.dataset.testNode = String(id); return el.isConnected; }",
            arg=[node, what],
        )
        return self.page.locator(f'[data-test-node="{node}"]')

    def grid(self, node: int):
        return self._tag(node, "grid")

    def bar(self, node: int):
        return self._tag(node, "bar")

    def drop(self, target, files: Files) -> None:
        dt = self.page.evaluate_handle(DATA_TRANSFER, files.items)
        for kind in ("dragenter", "dragover", "drop"):
            target.dispatch_event(kind, {"dataTransfer": dt})

    def paste(self, files: Files) -> None:
        """Ctrl+V with a node selected: a paste event on the document, as a keyboard
        paste of copied files delivers it."""
        dt = self.page.evaluate_handle(DATA_TRANSFER, files.items)
        self.page.evaluate(
            "(dt) => document.dispatchEvent(new ClipboardEvent('paste',"
            " { clipboardData: dt, bubbles: true, cancelable: true }))",
            dt,
        )
