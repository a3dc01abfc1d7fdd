// One slot of the pool grid: thumbnail button (click = make active), badges, label
// field, delete and (optionally) mask buttons. Cells are keyed by position and
// updated in place, so a poll never steals focus or an unfinished label edit.

import { el } from "./dom.js";
import { tEn } from "./strings.js";

// Longer than most systems' double-click interval (Windows' default is 500 ms, but
// most people click twice within 250).
const DOUBLE_CLICK_MS = 280;

export function slotName(slot, t = tEn) {
  const vars = { index: slot.index, label: slot.label };
  return slot.label ? t("slotNameLabel", vars) : t("slotName", vars);
}

export function createCell(handlers, withBrush, t = tEn) {
  const img = el("img", { loading: "lazy", decoding: "async", draggable: "false", alt: "" });
  const thumb = el("button", {
    type: "button",
    class: "ppg-thumb",
    "aria-keyshortcuts": "Alt+ArrowLeft Alt+ArrowRight",
  }, img);
  const badge = el("span", { class: "ppg-badge", "aria-hidden": "true" });
  // A badge screen readers announce too (the dot alone is only colour).
  const maskDot = el("span", {
    class: "ppg-maskdot",
    role: "img",
    "aria-label": t("hasMask"),
    title: t("hasMask"),
    hidden: true,
  });
  const del = el("button", { type: "button", class: "ppg-tool ppg-delete", text: "✕" });
  const brush = withBrush
    ? el("button", { type: "button", class: "ppg-tool ppg-brush", text: "🖌" })
    : null;
  const label = el("input", {
    type: "text",
    class: "ppg-label",
    placeholder: t("labelPlaceholder"),
    maxlength: "500",
    spellcheck: "false",
  });
  const item = el("li", { class: "ppg-cell", draggable: "true" }, thumb, badge, maskDot, del,
    brush, label);

  const cell = { item, thumb, img, badge, maskDot, del, brush, label, slot: null, image: null };
  const idx = () => cell.slot.index;

  // A double-click paints the mask and leaves the active slot alone: with a mask
  // editor, a mouse click selects only once no second click followed.
  let pending = null;
  thumb.addEventListener("click", (e) => {
    clearTimeout(pending);
    if (!withBrush || e.detail === 0) return handlers.select(idx()); // keyboard: at once
    if (e.detail > 1) return;
    pending = setTimeout(() => handlers.select(idx()), DOUBLE_CLICK_MS);
  });
  thumb.addEventListener("dblclick", () => {
    clearTimeout(pending);
    handlers.openMask?.(idx());
  });
  thumb.addEventListener("keydown", (e) => {
    if (!e.altKey || (e.key !== "ArrowLeft" && e.key !== "ArrowRight")) return;
    e.preventDefault();
    e.stopPropagation();
    handlers.move(idx(), e.key === "ArrowLeft" ? -1 : 1);
  });
  del.addEventListener("click", () => handlers.remove(idx()));
  brush?.addEventListener("click", () => handlers.openMask?.(idx()));

  // Label: saved on Enter or when leaving the field; Escape puts the stored text back.
  // Enter commits and blurs, and the blur fires "change" too: send each text once
  // (until the next render shows the stored label).
  const commit = () => {
    if (!cell.slot || label.value === (cell.slot.label || "") || label.value === cell.sent) return;
    cell.sent = label.value;
    handlers.label(idx(), label.value);
  };
  label.addEventListener("change", commit);
  label.addEventListener("keydown", (e) => {
    e.stopPropagation(); // typing must not trigger the host's shortcuts (ComfyUI's canvas)
    if (e.key === "Enter") {
      e.preventDefault();
      commit();
      label.blur();
    } else if (e.key === "Escape") {
      label.value = cell.slot?.label || "";
      label.blur();
    }
  });
  label.addEventListener("paste", (e) => e.stopPropagation()); // text, not an image
  label.addEventListener("dragstart", (e) => e.preventDefault());

  item.addEventListener("dragstart", (e) => handlers.dragStart(e, idx()));
  item.addEventListener("dragend", () => handlers.dragEnd());
  item.addEventListener("dragover", (e) => handlers.dragOver(e, cell));
  item.addEventListener("dragleave", () => item.classList.remove("ppg-drop-target"));
  item.addEventListener("drop", (e) => handlers.drop(e, idx()));
  return cell;
}

export function updateCell(cell, slot, { active, thumbUrl, t = tEn }) {
  cell.slot = slot;
  cell.sent = null;
  const name = slotName(slot, t);
  if (cell.image !== slot.image) {
    cell.image = slot.image;
    cell.img.src = thumbUrl(slot.image);
  }
  cell.img.alt = slot.label || t("imageAlt", { index: slot.index });
  cell.thumb.setAttribute("aria-label", t("selectSlot", { name }));
  cell.thumb.setAttribute("aria-pressed", String(active));
  cell.thumb.title = t(active ? "slotTipActive" : "slotTip", { name });
  cell.item.classList.toggle("ppg-active", active);
  cell.badge.textContent = String(slot.index);
  cell.maskDot.hidden = !slot.has_mask;
  cell.del.setAttribute("aria-label", t("deleteSlotAria", { name }));
  cell.del.title = t("deleteImageTip");
  if (cell.brush) {
    cell.brush.setAttribute("aria-label", t("editMaskAria", { name }));
    cell.brush.title = t("paintMaskTip");
  }
  cell.label.setAttribute("aria-label", t("labelAria", { index: slot.index }));
  // Never overwrite what someone is typing; a poll may arrive mid-edit.
  if (document.activeElement !== cell.label) cell.label.value = slot.label || "";
}
