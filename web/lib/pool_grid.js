// The pool grid: a framework-free component mounted by the ComfyUI node and by the
// standalone page alike. See WEB_CONTRACT.md for the interface.

import { el, ensureStyle, messageOf, onceNotifier } from "./dom.js";
import { createCell, slotName, updateCell } from "./grid_cell.js";
import { GRID_CSS } from "./grid_style.js";
import { createTagFilter } from "./tag_filter.js";
import { createUploadQueue } from "./upload_queue.js";

const EMPTY_TEXT = "No images yet — drop image files here, paste one (Ctrl+V) or use Upload.";
const NO_POOL_TEXT = "No pool selected.";
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
  confirm = (m) => window.confirm(m),
  onOpenMask = null,
  onChange = null,
}) {
  ensureStyle("ppg-style", GRID_CSS);
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
  const uploadBtn = el("button", { type: "button", class: "ppg-upload", text: "Upload" });
  const count = el("span", { class: "ppg-count", role: "status" });
  const filter = createTagFilter({ onChange: () => render() });
  const list = el("ul", { class: "ppg-cells", "aria-label": "Images in this pool" });
  const empty = el("p", { class: "ppg-empty", text: NO_POOL_TEXT });
  const queue = createUploadQueue({
    upload: (file, onProgress) => {
      const id = currentId;
      return api.addImage(id, file, { onProgress }).then((v) => ({ id, v }));
    },
    onDone: ({ id, v }) => id === currentId && show(v, ++seq),
    onError: () => {}, // shown on the file's own row
  });
  const element = el(
    "div",
    { class: "ppg", tabindex: "0", role: "region", "aria-label": "Image pool" },
    el("div", { class: "ppg-bar" }, uploadBtn, fileInput, filter.element, count),
    queue.element,
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
  }

  async function change(op) {
    if (!currentId) return;
    const mySeq = ++seq;
    const id = currentId;
    try {
      const next = await op(id);
      if (id === currentId) {
        etag = null; // a change's answer carries no tag: the next poll fetches once
        show(next, mySeq);
      }
    } catch (err) {
      notify("error", messageOf(err));
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
      show(r.view, mySeq);
    } catch (err) {
      if (id === currentId) errors.error(messageOf(err));
    }
  }

  // -- rendering -----------------------------------------------------------------

  const slots = () => view?.slots || [];

  function render() {
    const all = slots();
    empty.hidden = !!all.length;
    empty.textContent = currentId ? EMPTY_TEXT : NO_POOL_TEXT;
    count.textContent = currentId && view ? `${all.length} image${all.length === 1 ? "" : "s"}` : "";
    const fragment = document.createDocumentFragment();
    while (cells.length < all.length) {
      const cell = createCell(handlers, !!onOpenMask);
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
    all.forEach((slot, i) => updateCell(cells[i], slot, { active: slot.index === view.active, thumbUrl }));
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
    await change((id) => api.reorder(id, orderMoving(from, to)));
    cells[to]?.thumb.focus();
  }

  const handlers = {
    select(index) {
      if (view && index === view.active) return;
      change((id) => api.setActive(id, index));
    },
    label(index, text) {
      change((id) => api.setLabel(id, index, text));
    },
    async remove(index) {
      const slot = slots()[index];
      if (!slot || !confirm(`Delete ${slotName(slot)} from this pool?`)) return;
      await change((id) => api.removeSlot(id, index));
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
      notify("error", "Pick a pool first, then add images.");
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
  element.addEventListener("paste", (e) => {
    const files = imageFilesOf(e.clipboardData);
    if (!files.length) return;
    e.preventDefault();
    e.stopPropagation();
    addFiles(files);
  });

  render();
  if (currentId) refresh({ force: true });

  return {
    element,
    setPoolId(id) {
      const next = id || null;
      if (next === currentId) return refresh();
      currentId = next;
      view = null;
      etag = null;
      shownSeq = ++seq; // answers about the previous pool are dropped
      render();
      return refresh({ force: true });
    },
    getPoolId: () => currentId,
    setFilter: (text) => filter.setText(text),
    refresh,
    addFiles,
    getView: () => view,
    destroy() {
      destroyed = true;
      queue.destroy();
      element.remove();
    },
  };
}
