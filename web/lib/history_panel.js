// A pool's history: the kept versions, newest first, each with "Restore this version"
// (the state just before that change). Framework-free; the host injects notify and
// confirm. No ComfyUI import; nothing runs on import.

import { createPageDialogs } from "./page_dialog.js";
import { el, ensureStyle, messageOf } from "./dom.js";
import { tEn } from "./strings.js";

const CSS = `
.pph { border: 1px solid #8886; border-radius: 6px; padding: 4px 6px; max-height: 40%;
  overflow-y: auto; flex: 0 0 auto; font: 12px/1.3 system-ui, sans-serif; }
.pph[hidden] { display: none; }
.pph-head { display: flex; gap: 6px; align-items: center; justify-content: space-between; }
.pph-head h3 { font-size: 12px; margin: 0; font-weight: 600; }
.pph ol { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-direction: column;
  gap: 2px; }
.pph li { display: flex; gap: 6px; align-items: center; }
.pph time { opacity: 0.7; white-space: nowrap; }
.pph .pph-what { flex: 1 1 auto; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.pph button { font: inherit; cursor: pointer; padding: 1px 6px; border-radius: 4px;
  border: 1px solid #8886; background: #8882; color: inherit; }
`;

function when(seconds) {
  const d = new Date(seconds * 1000);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString() : d.toLocaleString();
}

export function createHistoryPanel({
  api,
  notify = () => {},
  confirm = null, // default: the page's own modal dialog (page_dialog.js)
  onRestored = null,
  t = tEn,
}) {
  ensureStyle("pph-style", CSS);
  confirm ??= createPageDialogs({ t }).confirm;
  let poolId = null;
  let loading = 0;

  const list = el("ol", { "aria-label": t("keptVersions") });
  const status = el("p", { class: "pph-status", role: "status" });
  const closeBtn = el("button", { type: "button", text: t("close"), "aria-label": t("closeHistory") });
  const element = el(
    "section",
    { class: "pph", hidden: true, "aria-label": t("poolHistory") },
    el("div", { class: "pph-head" }, el("h3", { text: t("history") }), closeBtn),
    status,
    list,
  );

  function row(version) {
    const what = version.description;
    const count = version.count === null || version.count === undefined ? "" : ` · ${t("imageCount", { count: version.count })}`;
    const restore = el("button", {
      type: "button",
      text: t("restoreVersion"),
      "aria-label": t("restoreVersionAria", { what }),
      title: t("restoreVersionTip", { what }) + count,
    });
    restore.addEventListener("click", () => restoreVersion(version));
    return el(
      "li",
      {},
      el("time", { text: when(version.time), datetime: new Date(version.time * 1000).toISOString() }),
      el("span", { class: "pph-what", text: t("versionBefore", { what }) + count, title: what }),
      restore,
    );
  }

  async function refresh() {
    const id = poolId;
    if (!id || element.hidden) return;
    const mine = ++loading;
    try {
      const out = await api.getHistory(id);
      if (mine !== loading || id !== poolId) return;
      const versions = out.versions || [];
      status.textContent = versions.length
        ? t("keptCount", { count: versions.length, max: out.max_versions })
        : t("noHistory");
      list.replaceChildren(...versions.map(row));
    } catch (err) {
      if (mine === loading) status.textContent = messageOf(err, t);
    }
  }

  async function restoreVersion(version) {
    const id = poolId;
    if (!id) return;
    // The host's dialog answers a Promise (ComfyUI's, the page's own): wait for it.
    const ok = await confirm({
      title: t("restoreVersionTitle"),
      message: t("restoreVersionConfirm", { what: version.description }),
    });
    if (!ok || id !== poolId) return;
    try {
      const view = await api.restoreVersion(id, version.version);
      notify("success", t("restoredVersion", { what: version.description }));
      onRestored?.(id, view);
    } catch (err) {
      notify("error", messageOf(err, t));
    }
    refresh();
  }

  function close() {
    element.hidden = true;
    list.replaceChildren();
  }
  closeBtn.addEventListener("click", () => {
    close();
    onClose?.();
  });
  let onClose = null;

  return {
    element,
    open(id) {
      poolId = id || null;
      element.hidden = false;
      status.textContent = t("loading");
      return refresh();
    },
    close,
    isOpen: () => !element.hidden,
    setPoolId(id) {
      poolId = id || null;
      if (!poolId) close();
      else refresh();
    },
    refresh,
    onClose(fn) {
      onClose = fn;
    },
  };
}
