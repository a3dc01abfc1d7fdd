// The grid's tag filter box: type `front` and only slots tagged front show, with a
// count "3 of 120". Same syntax as the list node and the CLI (tags.js). Does nothing
// on import; the grid mounts it.

import { el, ensureStyle } from "./dom.js";
import { tEn } from "./strings.js";
import { parseFilter } from "./tags.js";

const CSS = `
.ppg-filter-box { display: inline-flex; gap: 4px; align-items: center; }
.ppg-filter { font: inherit; width: 11em; min-width: 5em; flex: 0 1 auto; padding: 2px 6px; border-radius: 4px;
  border: 1px solid #8886; background: var(--comfy-input-bg, transparent); color: inherit; }
.ppg-filter[aria-invalid="true"] { border-color: #d55; }
.ppg-filter-count { opacity: 0.75; }
.ppg-cell[hidden] { display: none; }
`;

export function createTagFilter({ onChange = () => {}, t = tEn } = {}) {
  const tip = t("filterTip");
  ensureStyle("ppg-filter-style", CSS);
  let matcher = parseFilter("");
  const input = el("input", {
    type: "search",
    class: "ppg-filter",
    placeholder: t("filterPlaceholder"),
    "aria-label": t("filterByTag"),
    title: tip,
    spellcheck: "false",
    maxlength: "500",
  });
  const status = el("span", { class: "ppg-filter-count", role: "status", "aria-live": "polite" });
  const element = el("span", { class: "ppg-filter-box" }, input, status);

  input.addEventListener("input", () => {
    try {
      matcher = parseFilter(input.value);
      input.removeAttribute("aria-invalid");
      input.setCustomValidity("");
      input.title = tip;
    } catch (err) {
      const message = err.key ? t(err.key, err.vars) : err.message;
      input.setAttribute("aria-invalid", "true");
      input.setCustomValidity(message);
      input.title = message;
      return; // keep the last good filter
    }
    onChange();
  });
  // Keys typed here are the box's own (the canvas must not take Delete, Ctrl+A, ...).
  input.addEventListener("keydown", (e) => e.stopPropagation());

  return {
    element,
    input,
    active: () => !matcher.empty,
    matches: (slot) => matcher(slot?.label || ""),
    // "3 of 120" while a filter is on; empty otherwise.
    setCounts(shown, total) {
      status.textContent = matcher.empty ? "" : t("filterCount", { shown, total });
    },
    setText(text) {
      input.value = text || "";
      input.dispatchEvent(new Event("input"));
    },
  };
}
