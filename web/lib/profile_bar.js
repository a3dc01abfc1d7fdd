// The profile bar: a dropdown of the store's profiles (sorted by name, re-fetched
// conditionally when opened) and Create / Rename / Delete / Duplicate / Export /
// Import. Framework-free; mounted by the ComfyUI node and the standalone page.

import { createDeletedProfiles } from "./deleted_profiles.js";
import { createPageDialogs } from "./page_dialog.js";
import { el, ensureStyle, messageOf, onceNotifier } from "./dom.js";
import { tEn } from "./strings.js";

const CSS = `
.ppb { display: flex; flex-wrap: wrap; gap: 4px; align-items: center;
  font: 12px/1.3 system-ui, sans-serif; color: inherit; }
.ppb select { font: inherit; min-width: 10em; max-width: 100%; flex: 1 1 12em;
  padding: 2px 4px; border: 1px solid #8886; border-radius: 4px; color: inherit;
  background: var(--comfy-input-bg, #8882); }
/* The open list is drawn by the browser: give it the host's input colours. */
.ppb select option { background: var(--comfy-input-bg, Canvas);
  color: var(--input-text, CanvasText); }
.ppb select.ppb-format { min-width: 0; flex: 0 0 auto; }
.ppb button { font: inherit; cursor: pointer; padding: 2px 8px; border-radius: 4px;
  border: 1px solid #8886; background: #8882; color: inherit; }
.ppb button:disabled { opacity: 0.45; cursor: default; }
.ppb button:focus-visible, .ppb select:focus-visible { outline: 2px solid #3a8ee6;
  outline-offset: 1px; }
.ppb-progress { display: inline-flex; gap: 4px; align-items: center; }
.ppb-progress[hidden] { display: none; }
.ppb-progress progress { width: 80px; }
`;

const NONE = "";

export function sortProfiles(profiles) {
  const byName = (a, b) =>
    a.name.localeCompare(b.name, undefined, { sensitivity: "base", numeric: true }) ||
    a.name.localeCompare(b.name) ||
    a.id.localeCompare(b.id);
  return [...profiles].filter((p) => p && p.id && typeof p.name === "string").sort(byName);
}

// A dataset import's skipped files, for a toast: the first few with their reasons.
// The reasons are the server's own words.
export function skippedMessage(skipped, shown = 5, t = tEn) {
  let files = skipped.slice(0, shown).map((s) => `${s.name}: ${s.reason}`).join("; ");
  if (skipped.length > shown) files = t("skippedMore", { files, count: skipped.length - shown });
  return t("skippedFiles", { count: skipped.length, files });
}

export function createProfileBar({
  api,
  notify = () => {},
  // Questions come from the host (ComfyUI's dialogs, the page's own): ask({title,
  // message, value}) -> Promise<string|null>; confirm({title, message, destructive})
  // -> Promise<boolean>. Without them: the page's own modal dialog (page_dialog.js).
  confirm = null,
  ask = null,
  t = tEn,
  selectedId = null,
  onSelect = null,
  noneLabel = null,
}) {
  noneLabel ??= t("noProfile");
  const dialogs = ask && confirm ? null : createPageDialogs({ t });
  const askText = ask || dialogs.ask;
  confirm ??= dialogs.confirm;
  ensureStyle("ppb-style", CSS);
  const errors = onceNotifier(notify);
  let profiles = [];
  let etag = null;
  let selected = selectedId;
  let destroyed = false;
  let loaded = false;

  const dropdown = el("select", { "aria-label": t("profile") });
  const button = (text, title, onClick) => {
    const b = el("button", { type: "button", text, title });
    b.addEventListener("click", onClick);
    return b;
  };
  // What Export downloads: the profile zip, or the dataset layout LoRA trainers read.
  const formatChoice = el(
    "select",
    { class: "ppb-format", "aria-label": t("exportFormat"), title: t("exportFormatTip") },
    el("option", { value: "zip", text: t("formatZip") }),
    el("option", { value: "dataset", text: t("formatDataset") }),
  );
  const zipInput = el("input", {
    type: "file",
    accept: ".zip,application/zip",
    hidden: true,
    tabindex: "-1",
    "aria-hidden": "true",
  });
  const bar = el("progress", { max: "100", value: "0", "aria-label": t("importProgress") });
  const barText = el("span");
  const progress = el("span", { class: "ppb-progress", hidden: true }, bar, barText);

  const byId = (id) => profiles.find((p) => p.id === id) || null;

  function render() {
    const options = [el("option", { value: NONE, text: noneLabel })];
    for (const p of profiles) options.push(el("option", { value: p.id, text: p.name }));
    if (selected && !byId(selected) && !loaded) {
      // Not listed yet: keep the choice visible until the first listing arrives.
      options.push(el("option", { value: selected, text: "…" }));
    }
    dropdown.replaceChildren(...options);
    dropdown.value = selected && (byId(selected) || !loaded) ? selected : NONE;
    const none = !byId(selected);
    for (const b of needsSelection) b.disabled = none;
  }

  function pick(id, { fire = true } = {}) {
    const before = selected;
    selected = id || null;
    render();
    if (fire && before !== selected) onSelect?.(byId(selected));
  }

  async function refresh({ force = false } = {}) {
    if (destroyed) return;
    try {
      const r = await api.listProfiles({ etag: force ? null : etag });
      errors.ok();
      if (r.notModified) return;
      etag = r.etag;
      profiles = sortProfiles(r.profiles || []);
      loaded = true;
      const lost = selected && !byId(selected);
      if (lost) {
        selected = null; // deleted elsewhere
        render();
        onSelect?.(null);
      } else render();
    } catch (err) {
      errors.error(messageOf(err, t));
    }
  }

  // Every action: run, show the server's message on failure, re-list.
  async function act(run, done) {
    try {
      const result = await run();
      await refresh({ force: true });
      done?.(result);
    } catch (err) {
      notify("error", messageOf(err, t));
      refresh({ force: true });
    }
  }

  const askName = async (title, message, value) => {
    const answer = await askText({ title, message, value });
    return answer === null || answer === undefined ? null : String(answer).trim() || null;
  };

  async function create() {
    const name = await askName(t("createTitle"), t("createMessage"), "");
    if (!name) return;
    act(() => api.createProfile(name), (p) => {
      pick(p.id);
      notify("success", t("created", { name: p.name }));
    });
  }

  async function rename() {
    const cur = byId(selected);
    if (!cur) return;
    const name = await askName(t("renameTitle"), t("renameMessage", { name: cur.name }), cur.name);
    if (!name || name === cur.name) return;
    act(() => api.renameProfile(cur.id, name), (p) => {
      render();
      onSelect?.(byId(p.id));
    });
  }

  async function remove() {
    const cur = byId(selected);
    if (!cur) return;
    const ok = await confirm({
      title: t("deleteProfileTitle"),
      message: t("deleteProfileMessage", { name: cur.name }),
      destructive: true,
    });
    if (!ok) return;
    act(() => api.deleteProfile(cur.id), () => {
      pick(null);
      notify("success", t("deleted", { name: cur.name }));
      deleted.refresh();
    });
  }

  async function duplicate() {
    const cur = byId(selected);
    if (!cur) return;
    const name = await askName(
      t("duplicateTitle"),
      t("duplicateMessage", { name: cur.name }),
      t("copySuffix", { name: cur.name }),
    );
    if (!name) return;
    act(() => api.duplicateProfile(cur.id, name), (p) => {
      pick(p.id);
      notify("success", t("duplicated", { name: p.name }));
    });
  }

  async function exportZip() {
    const cur = byId(selected);
    if (!cur) return;
    const format = formatChoice.value;
    try {
      await api.checkExport(cur.id, format);
    } catch (err) {
      notify("error", messageOf(err, t));
      refresh({ force: true });
      return;
    }
    const link = el("a", { href: api.exportUrl(cur.id, format), download: "", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  }

  function importZip(file) {
    progress.hidden = false;
    bar.value = 0;
    barText.textContent = t("importing");
    const onProgress = (loaded, total) => {
      if (!total) return;
      bar.value = Math.round((loaded / total) * 100);
      barText.textContent = bar.value >= 100 ? t("importChecking") : t("percent", { percent: bar.value });
    };
    return act(() => api.importProfile(file, { onProgress }), (p) => {
      pick(p.id);
      notify("success", t("imported", { name: p.name }));
      const skipped = Array.isArray(p.skipped) ? p.skipped : [];
      if (skipped.length) notify("info", skippedMessage(skipped, 5, t));
    }).finally(() => {
      progress.hidden = true;
    });
  }

  const renameBtn = button(t("rename"), t("renameTip"), rename);
  const deleteBtn = button(t("delete"), t("deleteTip"), remove);
  const duplicateBtn = button(t("duplicate"), t("duplicateTip"), duplicate);
  const exportBtn = button(t("export"), t("exportTip"), exportZip);
  const needsSelection = [renameBtn, deleteBtn, duplicateBtn, exportBtn, formatChoice];
  // History: deleted profiles listed with Restore (deleted_profiles.js).
  const deleted = createDeletedProfiles({
    api,
    notify,
    t,
    onRestored: (p) => act(async () => p, () => pick(p.id)),
  });

  dropdown.addEventListener("change", () => pick(dropdown.value || null));
  // Fresh when opened: a conditional re-list (a 304 costs next to nothing).
  dropdown.addEventListener("focus", () => refresh());
  dropdown.addEventListener("pointerdown", () => refresh());
  zipInput.addEventListener("change", () => {
    const file = zipInput.files?.[0];
    zipInput.value = "";
    if (file) importZip(file);
  });

  const element = el(
    "div",
    { class: "ppb", role: "group", "aria-label": t("profiles") },
    dropdown,
    button(t("create"), t("createTip"), create),
    renameBtn,
    deleteBtn,
    duplicateBtn,
    exportBtn,
    formatChoice,
    button(t("import"), t("importTip"), () => zipInput.click()),
    deleted.button,
    zipInput,
    progress,
    deleted.element,
  );
  render();
  refresh({ force: true });

  return {
    element,
    select(id) {
      pick(id, { fire: false });
    },
    getSelected: () => byId(selected),
    getProfiles: () => profiles.slice(),
    refresh,
    destroy() {
      destroyed = true;
      element.remove();
    },
  };
}
