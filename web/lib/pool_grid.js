// The pool grid: a framework-free component mounted by the ComfyUI node and by the
// standalone page alike. See WEB_CONTRACT.md for the interface.

import { createPageDialogs } from "./page_dialog.js";
import { el, ensureStyle, messageOf, onceNotifier } from "./dom.js";
import { createCell, slotName, updateCell } from "./grid_cell.js";
import { createGridHistory, isUndoKey } from "./grid_history.js";
import { GRID_CSS } from "./grid_style.js";
import { createStoreNotice } from "./store_notice.js";
import { tEn } from "./strings.js";
import { createTagFilter } from "./tag_filter.js";
import { createUploadQueue } from "./upload_queue.js";

const INTERNAL_TYPE = "application/x-pool-slot";

const isFileDrag = (e) => Array.from(e.dataTransfer?.types || []).includes("Files");

export function imageFilesOf(dataTransfer) {
  const files = [];
  for (const item of Array.from(dataTransfer?.items || [])) {
    if (item.kind === "file") {
      const f = item.getAsFile();
      if (f) files.push(f);
    }
  }
  if (!files.length) files.push(...Array.from(dataTransfer?.files || []));
  return files.filter((f) => !f.type || f.type.startsWith("image/"));
}

export function createPoolGrid({
  api,
  poolId = null,
  notify = () => {},
  // confirm({title, message, destructive}) -> boolean or Promise<boolean> (the host's
  // dialog); confirmDelete() says whether a slot's ✕ asks first (a host setting).
  confirm = null, // default: the page's own modal dialog (page_dialog.js)
  confirmDelete = () => true,
  t = tEn,
  onOpenMask = null,
  onChange = null,
  storeNotice = true, // a visible notice when the store runs single-writer
  offerUndo = null, // (message, undo) => void: the host's toast with an Undo action
  claimUndoKey = null, // (keydown event) => void: keep the host's own undo off this Ctrl+Z
}) {
  ensureStyle("ppg-style", GRID_CSS);
  confirm ??= createPageDialogs({ t }).confirm;
  const errors = onceNotifier(notify);
  let currentId = poolId;
  let view = null;
  let etag = null;
  let seq = 0; // requests in order of sending; only newer answers replace the view
  let shownSeq = 0;
  let dragFrom = null;
  let destroyed = false;
  const cells = [];

  const fileInput = el("input", {
    type: "file",
    accept: "image/*",
    multiple: true,
    hidden: true,
    tabindex: "-1",
    "aria-hidden": "true",
  });
  const uploadBtn = el("button", { type: "button", class: "ppg-upload", text: t("upload") });
  const count = el("span", { class: "ppg-count", role: "status" });
  const filter = createTagFilter({ onChange: () => render(), t });
  const list = el("ul", { class: "ppg-cells", "aria-label": t("imagesInPool") });
  const empty = el("p", { class: "ppg-empty", text: t("noPool") });
  // Undo after each change, Ctrl+Z, the History panel (grid_history.js).
  const hist = createGridHistory({
    api,
    notify,
    confirm,
    offerUndo,
    t,
    getPoolId: () => currentId,
    apply: (id, v) => {
      if (id !== currentId) return;
      etag = null;
      show(v, ++seq);
    },
  });
  const queue = createUploadQueue({
    upload: (file, onProgress) => {
      const id = currentId;
      return api.addImage(id, file, { onProgress }).then((v) => ({ id, v }));
    },
    onDone: ({ id, v }) => hist.took(id, v),
    onError: () => {}, // shown on the file's own row
    t,
  });
  const element = el(
    "div",
    { class: "ppg", tabindex: "0", role: "region", "aria-label": t("imagePool") },
    el("div", { class: "ppg-bar" }, uploadBtn, hist.historyButton, fileInput, count),
    // The filter, and beside it the Undo offer: a row that is always there, so neither
    // an offer nor upload progress ever moves the thumbnails.
    el("div", { class: "ppg-tools" }, filter.element, hist.strip),
    storeNotice ? createStoreNotice(api, { t }) : null,
    queue.element,
    hist.panel,
    empty,
    list,
  );

  // -- talking to the server -----------------------------------------------------

  function show(next, mySeq) {
    if (destroyed || mySeq < shownSeq) return;
    shownSeq = mySeq;
    const changed = JSON.stringify(next) !== JSON.stringify(view);
    view = next;
    render();
    if (changed) onChange?.(view);
    return changed;
  }

  // A slot edit answers with the change ({change, active, count, ...}): apply it to
  // the view held. False when the view and the answer disagree (another writer got
  // in between): then the caller fetches the view.
  function applyChange(ans, order) {
    if (!view || !ans || ans.pool_id !== currentId) return false;
    let next = view.slots.slice();
    const at = ans.index;
    if (ans.change === "label" || ans.change === "mask" || ans.change === "remove") {
      if (!next[at]) return false;
    }
    // The slot acted on is not where this view has it: another writer moved it.
    if (ans.image && at !== undefined && next[at]?.image !== ans.image) return false;
    if (ans.change === "label") next[at] = { ...next[at], label: ans.label };
    else if (ans.change === "mask") next[at] = { ...next[at], mask: ans.mask, has_mask: ans.has_mask };
    else if (ans.change === "remove") next.splice(at, 1);
    else if (ans.change === "reorder") {
      if (!order || order.length !== next.length) return false;
      next = order.map((i) => next[i]);
    } else if (ans.change !== "active") return false;
    if (next.length !== ans.count || next.some((s) => !s)) return false;
    next = next.map((s, i) => (s.index === i ? s : { ...s, index: i }));
    return { ...view, active: ans.active, count: ans.count, slots: next };
  }

  async function change(op, order = null) {
    if (!currentId) return;
    const mySeq = ++seq;
    const id = currentId;
    try {
      const ans = hist.took(id, await op(id), "own"); // offers Undo; the answer without it
      if (id === currentId) {
        etag = null; // a change's answer carries no tag: the next poll fetches once
        const next = ans?.slots ? ans : applyChange(ans, order);
        if (next) show(next, mySeq);
        else refresh({ force: true });
      }
    } catch (err) {
      notify("error", messageOf(err, t));
      refresh({ force: true }); // show what the store holds now
    }
  }

  async function refresh({ force = false } = {}) {
    if (destroyed) return;
    const id = currentId;
    if (!id) {
      show(null, ++seq);
      return;
    }
    const mySeq = ++seq;
    try {
      const r = await api.getPool(id, { etag: force ? null : etag });
      errors.ok();
      if (id !== currentId || r.notModified) return;
      etag = r.etag;
      if (show(r.view, mySeq) && view) hist.forget(); // changed elsewhere
    } catch (err) {
      if (id === currentId) errors.error(messageOf(err, t));
    }
  }

  // -- rendering -----------------------------------------------------------------

  const slots = () => view?.slots || [];

  function render() {
    const all = slots();
    empty.hidden = !!all.length;
    empty.textContent = currentId ? t("emptyPool") : t("noPool");
    count.textContent = currentId && view ? t("imageCount", { count: all.length }) : "";
    const fragment = document.createDocumentFragment();
    while (cells.length < all.length) {
      const cell = createCell(handlers, !!onOpenMask, t);
      cells.push(cell);
      fragment.append(cell.item);
    }
    list.append(fragment);
    while (cells.length > all.length) {
      const gone = cells.pop();
      if (gone.item.contains(document.activeElement)) element.focus();
      gone.item.remove();
    }
    const thumbUrl = (name) => api.thumbUrl(currentId, name);
    all.forEach((slot, i) => updateCell(cells[i], slot, { active: slot.index === view.active, thumbUrl, t }));
    applyFilter(all);
  }

  // Only the slots whose tags match the filter box show (tag_filter.js).
  function applyFilter(all) {
    let shown = 0;
    all.forEach((slot, i) => {
      const keep = !filter.active() || filter.matches(slot);
      cells[i].item.hidden = !keep;
      shown += keep ? 1 : 0;
    });
    filter.setCounts(shown, all.length);
  }

  function orderMoving(from, to) {
    const order = slots().map((s) => s.index);
    const [moved] = order.splice(from, 1);
    order.splice(to, 0, moved);
    return order;
  }

  async function move(from, to) {
    const n = slots().length;
    if (from === to || to < 0 || to >= n) return;
    const order = orderMoving(from, to);
    await change((id) => api.reorder(id, order), order);
    cells[to]?.thumb.focus();
  }

  const handlers = {
    select(index) {
      if (view && index === view.active) return;
      const image = slots()[index]?.image;
      change((id) => api.setActive(id, index, image));
    },
    label(index, text) {
      const image = slots()[index]?.image;
      change((id) => api.setLabel(id, index, text, image));
    },
    async remove(index) {
      const slot = slots()[index];
      if (!slot) return;
      if (confirmDelete()) {
        const question = {
          title: t("deleteSlotTitle"),
          message: t("deleteSlotMessage", { name: slotName(slot, t) }),
          destructive: true,
        };
        if (!(await confirm(question))) return;
      }
      await change((id) => api.removeSlot(id, index, slot.image));
      const next = cells[Math.min(index, cells.length - 1)];
      (next ? next.thumb : element).focus();
    },
    move: (index, delta) => move(index, index + delta),
    openMask(index) {
      const slot = slots()[index];
      if (slot && onOpenMask) onOpenMask(slot, currentId);
    },
    dragStart(e, index) {
      dragFrom = index;
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData(INTERNAL_TYPE, String(index));
      cells[index]?.item.classList.add("ppg-dragging");
    },
    dragEnd() {
      cells.forEach((c) => c.item.classList.remove("ppg-dragging", "ppg-drop-target"));
      dragFrom = null;
    },
    dragOver(e, cell) {
      if (dragFrom === null) return; // files: the grid's own handler takes them
      e.preventDefault();
      e.stopPropagation();
      e.dataTransfer.dropEffect = "move";
      cell.item.classList.add("ppg-drop-target");
    },
    drop(e, index) {
      if (dragFrom === null) return;
      e.preventDefault();
      e.stopPropagation();
      const from = dragFrom;
      handlers.dragEnd();
      move(from, index);
    },
  };

  // -- ingest: upload button, drop, paste ----------------------------------------

  function addFiles(files) {
    const list = Array.from(files || []);
    if (!list.length) return Promise.resolve([]);
    if (!currentId) {
      notify("error", t("pickPoolFirst"));
      return Promise.resolve([]);
    }
    return queue.add(list);
  }

  uploadBtn.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    addFiles(fileInput.files);
    fileInput.value = "";
  });
  element.addEventListener("dragover", (e) => {
    if (!isFileDrag(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    element.classList.add("ppg-dragover");
  });
  element.addEventListener("dragleave", (e) => {
    if (!element.contains(e.relatedTarget)) element.classList.remove("ppg-dragover");
  });
  element.addEventListener("drop", (e) => {
    element.classList.remove("ppg-dragover");
    if (!isFileDrag(e)) return;
    e.preventDefault();
    e.stopPropagation();
    addFiles(Array.from(e.dataTransfer.files || []));
  });
  element.addEventListener("keydown", (e) => {
    // Ctrl+Z in the grid undoes its pool's last change (not inside a text field: the
    // label editor keeps its own undo), never the host's graph undo.
    if (!isUndoKey(e) || e.target.closest?.("input,textarea,[contenteditable='true']")) return;
    e.preventDefault();
    e.stopPropagation();
    claimUndoKey?.(e);
    hist.undo();
  });
  element.addEventListener("paste", (e) => {
    const files = imageFilesOf(e.clipboardData);
    if (!files.length) return;
    e.preventDefault();
    e.stopPropagation();
    addFiles(files);
  });

  render();
  hist.setPoolId(currentId);
  if (currentId) refresh({ force: true });

  return {
    element,
    setPoolId(id) {
      const next = id || null;
      if (next === currentId) return refresh();
      currentId = next;
      view = null;
      etag = null;
      hist.setPoolId(next);
      shownSeq = ++seq; // answers about the previous pool are dropped
      render();
      return refresh({ force: true });
    },
    getPoolId: () => currentId,
    setFilter: (text) => filter.setText(text),
    refresh,
    addFiles,
    getView: () => view,
    // Thumbnail width in px (a host setting); the cells fill the row around it.
    setThumbSize(px) {
      const n = Number(px);
      if (Number.isFinite(n) && n >= 48 && n <= 512) element.style.setProperty("--ppg-cell", `${n}px`);
    },
    destroy() {
      destroyed = true;
      queue.destroy();
      hist.destroy();
      element.remove();
    },
  };
}
