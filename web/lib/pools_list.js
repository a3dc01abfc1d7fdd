// The Pools list: every profile and every node pool of the store with its image count,
// size, a few thumbnails and last change; which node of the open workflow uses a node
// pool (when the host knows); open any pool in the pool grid; delete a node pool no
// node of the workflow uses. Framework-free; the ComfyUI sidebar tab and the
// standalone page mount it. Nothing happens on import.

import { createPageDialogs } from "./page_dialog.js";
import { el, ensureStyle, messageOf, onceNotifier } from "./dom.js";
import { createPoolGrid } from "./pool_grid.js";
import { formatBytes, tEn } from "./strings.js";

const CSS = `
.ppl { display: flex; flex-direction: column; gap: 8px; min-height: 0; height: 100%;
  box-sizing: border-box; font: 12px/1.35 system-ui, sans-serif; color: inherit; }
.ppl-head { display: flex; gap: 6px; align-items: center; }
.ppl-head .ppl-total { margin-left: auto; opacity: 0.75; }
/* Only the list's own buttons: an opened pool's grid keeps its look. */
.ppl-head button, .ppl-actions button, .ppl-panel-head button { font: inherit;
  cursor: pointer; padding: 2px 8px; border-radius: 4px; border: 1px solid #8886;
  background: #8882; color: inherit; }
.ppl-head button:focus-visible, .ppl-actions button:focus-visible,
.ppl-panel-head button:focus-visible { outline: 2px solid #3a8ee6; outline-offset: 1px; }
.ppl-scroll { overflow-y: auto; min-height: 0; flex: 1 1 auto; }
.ppl-scroll > h3 { font-size: 12px; margin: 6px 0 4px; text-transform: uppercase; opacity: 0.7; }
.ppl-scroll > ul { list-style: none; margin: 0; padding: 0; display: flex;
  flex-direction: column; gap: 4px; }
.ppl-item { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 2px 6px;
  padding: 4px 6px; border-radius: 6px; background: #8881; }
.ppl-item.ppl-open { box-shadow: inset 0 0 0 2px #3a8ee6; }
.ppl-name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ppl-facts, .ppl-use { grid-column: 1 / -1; opacity: 0.8; }
.ppl-use.ppl-unused { font-style: italic; }
.ppl-error { grid-column: 1 / -1; color: #e55; overflow-wrap: anywhere; }
.ppl-thumbs { grid-column: 1 / -1; display: flex; gap: 3px; }
.ppl-thumbs img { width: 40px; height: 40px; object-fit: cover; border-radius: 3px;
  background: #0002; }
.ppl-actions { display: flex; gap: 4px; grid-row: 1; grid-column: 2; }
.ppl-panel { display: flex; flex-direction: column; gap: 4px; min-height: 260px;
  flex: 1 1 50%; border-top: 1px solid #8884; padding-top: 6px; }
.ppl-panel[hidden] { display: none; }
.ppl-panel-head { display: flex; gap: 6px; align-items: center; }
.ppl-panel-head h3 { margin: 0; flex: 1; text-transform: none; opacity: 1;
  overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ppl-panel .ppg { flex: 1 1 auto; min-height: 200px; }
`;

export function poolTitle(entry, t = tEn) {
  if (entry.kind === "profile") return entry.name;
  // A node's pool id is a UUID: its first 8 characters tell pools apart.
  const id = entry.id.length <= 16 ? entry.id : `${entry.id.slice(0, 8)}…`;
  return t("nodePoolName", { id });
}

export function createPoolsList({
  api,
  notify = () => {},
  confirm = null, // default: the page's own modal dialog (page_dialog.js)
  t = tEn,
  // (poolId) -> [node names] using it in the open workflow, or null when unknown.
  usedBy = () => null,
  // Options for the grid that opens a pool (confirm, confirmDelete, onOpenMask, ...).
  gridOptions = {},
}) {
  ensureStyle("ppl-style", CSS);
  confirm ??= createPageDialogs({ t }).confirm;
  const errors = onceNotifier(notify);
  let entries = [];
  let openId = null;
  let grid = null;
  let destroyed = false;

  const total = el("span", { class: "ppl-total", role: "status" });
  const refreshBtn = el("button", { type: "button", text: t("refresh") });
  const scroll = el("div", { class: "ppl-scroll" });
  const panelTitle = el("h3", { id: `ppl-panel-${Math.random().toString(36).slice(2)}` });
  const closeBtn = el("button", { type: "button", text: t("close") });
  const panelBody = el("div", { class: "ppl-panel-body", style: "display:contents" });
  const panel = el(
    "section",
    { class: "ppl-panel", hidden: true, "aria-labelledby": panelTitle.id },
    el("div", { class: "ppl-panel-head" }, panelTitle, closeBtn),
    panelBody,
  );
  const element = el(
    "div",
    { class: "ppl", role: "region", "aria-label": t("poolsList") },
    el("div", { class: "ppl-head" }, refreshBtn, total),
    scroll,
    panel,
  );

  function facts(entry) {
    const parts = [t("imageCount", { count: entry.count }), formatBytes(entry.bytes)];
    if (entry.changed) {
      parts.push(t("changedAt", { when: new Date(entry.changed * 1000).toLocaleString() }));
    }
    return parts.join(" · ");
  }

  function item(entry) {
    const name = poolTitle(entry, t);
    const open = el("button", { type: "button", text: t("open"), "aria-label": t("openPool", { name }) });
    open.addEventListener("click", () => openPool(entry.id));
    const actions = el("div", { class: "ppl-actions" }, open);
    const users = entry.kind === "pool" ? usedBy(entry.id) : null;
    if (entry.kind === "pool" && !(users && users.length)) {
      const del = el("button", {
        type: "button",
        text: t("delete"),
        "aria-label": t("deletePool", { name }),
      });
      del.addEventListener("click", () => removePool(entry));
      actions.append(del);
    }
    const thumbs = el("div", { class: "ppl-thumbs", "aria-hidden": "true" });
    for (const image of entry.preview || []) {
      thumbs.append(el("img", { src: api.thumbUrl(entry.id, image), alt: "", loading: "lazy" }));
    }
    const li = el(
      "li",
      { class: `ppl-item${entry.id === openId ? " ppl-open" : ""}`, "data-pool-id": entry.id },
      el("span", { class: "ppl-name", text: name, title: entry.id }),
      actions,
      el("span", { class: "ppl-facts", text: facts(entry) }),
      entry.preview?.length ? thumbs : null,
    );
    if (entry.error) li.append(el("span", { class: "ppl-error", text: t("poolError", { error: entry.error }) }));
    if (entry.kind === "pool" && users !== null) {
      const text = users.length ? t("usedBy", { nodes: users.join(", ") }) : t("unused");
      li.append(el("span", { class: `ppl-use${users.length ? "" : " ppl-unused"}`, text }));
    }
    return li;
  }

  function render() {
    const profiles = entries.filter((e) => e.kind === "profile");
    const nodes = entries.filter((e) => e.kind === "pool");
    total.textContent = `${entries.length} · ${formatBytes(entries.reduce((n, e) => n + (e.bytes || 0), 0))}`;
    const section = (title, list) => {
      if (!list.length) return [];
      const h = el("h3", { text: title });
      return [h, el("ul", { "aria-label": title }, ...list.map(item))];
    };
    const children = [...section(t("profilePools"), profiles), ...section(t("nodePools"), nodes)];
    if (!children.length) children.push(el("p", { text: t("noPools") }));
    // Keep the scroll position across refreshes.
    const top = scroll.scrollTop;
    scroll.replaceChildren(...children);
    scroll.scrollTop = top;
  }

  async function refresh() {
    if (destroyed) return;
    try {
      const answer = await api.listPools();
      errors.ok();
      entries = Array.isArray(answer?.pools) ? answer.pools : [];
      render();
      if (openId) {
        const still = entries.find((e) => e.id === openId);
        if (still) {
          panelTitle.textContent = poolTitle(still, t);
          grid?.refresh();
        } else closePool();
      }
    } catch (err) {
      errors.error(messageOf(err, t));
    }
  }

  function openPool(id) {
    const entry = entries.find((e) => e.id === id);
    if (!entry) return;
    openId = id;
    panelTitle.textContent = poolTitle(entry, t);
    if (!grid) {
      grid = createPoolGrid({ api, notify, confirm, t, ...gridOptions, poolId: id });
      panelBody.append(grid.element);
    } else grid.setPoolId(id);
    panel.hidden = false;
    render();
    grid.element.focus();
  }

  function closePool() {
    openId = null;
    grid?.destroy();
    grid = null;
    panel.hidden = true;
    render();
  }

  async function removePool(entry) {
    const name = poolTitle(entry, t);
    const ok = await confirm({
      title: t("deletePoolTitle"),
      message: t("deletePoolMessage", {
        name,
        images: t("imageCount", { count: entry.count }),
        size: formatBytes(entry.bytes),
      }),
      destructive: true,
    });
    if (!ok) return;
    try {
      await api.deletePool(entry.id);
      notify("success", t("poolDeleted", { name }));
      if (openId === entry.id) closePool();
    } catch (err) {
      notify("error", messageOf(err, t));
    }
    refresh();
  }

  refreshBtn.addEventListener("click", () => refresh());
  closeBtn.addEventListener("click", closePool);

  return {
    element,
    refresh,
    openPool,
    closePool,
    getEntries: () => entries.slice(),
    getGrid: () => grid,
    destroy() {
      destroyed = true;
      grid?.destroy();
      element.remove();
    },
  };
}
