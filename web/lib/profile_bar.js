// The profile bar: a dropdown of the store's profiles (sorted by name, re-fetched
// conditionally when opened) and Create / Rename / Delete / Duplicate / Export /
// Import. Framework-free; mounted by the ComfyUI node and the standalone page.

import { createDeletedProfiles } from "./deleted_profiles.js";
import { el, ensureStyle, messageOf, onceNotifier } from "./dom.js";

const CSS = `
.ppb { display: flex; flex-wrap: wrap; gap: 4px; align-items: center;
  font: 12px/1.3 system-ui, sans-serif; color: inherit; }
.ppb select { font: inherit; min-width: 10em; max-width: 100%; flex: 1 1 12em;
  padding: 2px 4px; border: 1px solid #8886; border-radius: 4px; color: inherit;
  background: var(--comfy-input-bg, #8882); }
/* The open list is drawn by the browser: give it the host's input colours. */
.ppb select option { background: var(--comfy-input-bg, Canvas);
  color: var(--input-text, CanvasText); }
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

export function createProfileBar({
  api,
  notify = () => {},
  confirm = (m) => window.confirm(m),
  prompt = (m, d) => window.prompt(m, d),
  selectedId = null,
  onSelect = null,
  noneLabel = "(no profile)",
}) {
  ensureStyle("ppb-style", CSS);
  const errors = onceNotifier(notify);
  let profiles = [];
  let etag = null;
  let selected = selectedId;
  let destroyed = false;
  let loaded = false;

  const dropdown = el("select", { "aria-label": "Profile" });
  const button = (text, title, onClick) => {
    const b = el("button", { type: "button", text, title });
    b.addEventListener("click", onClick);
    return b;
  };
  const zipInput = el("input", {
    type: "file",
    accept: ".zip,application/zip",
    hidden: true,
    tabindex: "-1",
    "aria-hidden": "true",
  });
  const bar = el("progress", { max: "100", value: "0", "aria-label": "Import progress" });
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
      errors.error(messageOf(err));
    }
  }

  // Every action: run, show the server's message on failure, re-list.
  async function act(run, done) {
    try {
      const result = await run();
      await refresh({ force: true });
      done?.(result);
    } catch (err) {
      notify("error", messageOf(err));
      refresh({ force: true });
    }
  }

  const ask = (message, value) => {
    const answer = prompt(message, value);
    return answer === null || answer === undefined ? null : String(answer).trim() || null;
  };

  function create() {
    const name = ask("Name of the new profile:", "");
    if (!name) return;
    act(() => api.createProfile(name), (p) => {
      pick(p.id);
      notify("success", `Created profile “${p.name}”.`);
    });
  }

  function rename() {
    const cur = byId(selected);
    if (!cur) return;
    const name = ask(`New name for “${cur.name}”:`, cur.name);
    if (!name || name === cur.name) return;
    act(() => api.renameProfile(cur.id, name), (p) => {
      render();
      onSelect?.(byId(p.id));
    });
  }

  function remove() {
    const cur = byId(selected);
    if (!cur) return;
    if (!confirm(`Delete profile “${cur.name}”? You can restore it with its images from “Recently deleted”.`)) {
      return;
    }
    act(() => api.deleteProfile(cur.id), () => {
      pick(null);
      notify("success", `Deleted profile “${cur.name}”.`);
      deleted.refresh();
    });
  }

  function duplicate() {
    const cur = byId(selected);
    if (!cur) return;
    const name = ask(`Name of the copy of “${cur.name}”:`, `${cur.name} copy`);
    if (!name) return;
    act(() => api.duplicateProfile(cur.id, name), (p) => {
      pick(p.id);
      notify("success", `Duplicated as “${p.name}”.`);
    });
  }

  async function exportZip() {
    const cur = byId(selected);
    if (!cur) return;
    try {
      await api.checkExport(cur.id);
    } catch (err) {
      notify("error", messageOf(err));
      refresh({ force: true });
      return;
    }
    const link = el("a", { href: api.exportUrl(cur.id), download: "", hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  }

  function importZip(file) {
    progress.hidden = false;
    bar.value = 0;
    barText.textContent = "importing…";
    const onProgress = (loaded, total) => {
      if (!total) return;
      bar.value = Math.round((loaded / total) * 100);
      barText.textContent = bar.value >= 100 ? "checking…" : `${bar.value} %`;
    };
    return act(() => api.importProfile(file, { onProgress }), (p) => {
      pick(p.id);
      notify("success", `Imported profile “${p.name}”.`);
    }).finally(() => {
      progress.hidden = true;
    });
  }

  const renameBtn = button("Rename", "Rename the selected profile", rename);
  const deleteBtn = button("Delete", "Delete the selected profile and its pool", remove);
  const duplicateBtn = button("Duplicate", "Copy the selected profile under a new name", duplicate);
  const exportBtn = button("Export", "Download the selected profile as a zip", exportZip);
  const needsSelection = [renameBtn, deleteBtn, duplicateBtn, exportBtn];
  // History: deleted profiles listed with Restore (deleted_profiles.js).
  const deleted = createDeletedProfiles({
    api,
    notify,
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
    { class: "ppb", role: "group", "aria-label": "Profiles" },
    dropdown,
    button("Create", "Create a new, empty profile", create),
    renameBtn,
    deleteBtn,
    duplicateBtn,
    exportBtn,
    button("Import", "Import a profile from a zip", () => zipInput.click()),
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
