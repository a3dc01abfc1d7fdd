// The grid's history: after each change an Undo offer (a strip in the grid, or the
// host's own toast through `offerUndo`), Ctrl+Z, and the History panel. An undo names
// the version whose result the grid shows (`expect`), so the server refuses it when
// someone else changed the pool meanwhile: it never takes back a change nobody saw.

import { el, ensureStyle, messageOf } from "./dom.js";
import { createHistoryPanel } from "./history_panel.js";
import { tEn } from "./strings.js";

const CSS = `
.ppu { display: flex; gap: 6px; align-items: center; padding: 3px 6px; border-radius: 4px;
  background: #3a8ee622; flex: 0 0 auto; }
/* Inside the grid the offer sits in its bar row, which is there anyway: it never moves
   the thumbnails (a user about to click one must not see it jump). */
.ppg-tools > .ppu { flex: 1 1 0; min-width: 0; padding: 0 6px; }
.ppu[hidden] { display: none; }
.ppu span { flex: 1 1 auto; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ppu button, .ppg-history { font: inherit; cursor: pointer; padding: 1px 8px; border-radius: 4px;
  border: 1px solid #8886; background: #8882; color: inherit; }
`;
const OFFER_MS = 12000;

const capital = (text) => (text ? text[0].toUpperCase() + text.slice(1) : text);

export function isUndoKey(e) {
  return (e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && (e.key === "z" || e.key === "Z");
}

export function createGridHistory({
  api,
  notify,
  confirm,
  getPoolId,
  apply,
  offerUndo = null,
  t = tEn,
}) {
  ensureStyle("ppu-style", CSS);
  let shown = null; // {poolId, version, description}: the change whose result the grid shows
  let timer = null;
  let busy = false;

  const text = el("span");
  const undoBtn = el("button", { type: "button", text: t("undo") });
  const strip = el("div", { class: "ppu", role: "status", hidden: true }, text, undoBtn);
  const historyButton = el("button", {
    type: "button",
    class: "ppg-history",
    text: t("history"),
    "aria-expanded": "false",
    title: t("historyTip"),
  });
  const panel = createHistoryPanel({
    api,
    notify,
    confirm,
    t,
    onRestored: (id, view) => took(id, view, "restore"),
  });
  panel.onClose(() => historyButton.setAttribute("aria-expanded", "false"));

  function hideOffer() {
    clearTimeout(timer);
    strip.hidden = true;
  }

  function offer(change) {
    const said = t("undoOffer", { what: capital(change.description) });
    text.textContent = said;
    undoBtn.setAttribute("aria-label", t("undoAria", { what: change.description }));
    if (offerUndo) {
      offerUndo(said, () => undo());
      return;
    }
    strip.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(hideOffer, OFFER_MS);
  }

  // A change's answer: remember its version, offer Undo, give the grid the bare view.
  function took(poolId, view, kind = "change") {
    if (!view || typeof view !== "object") return view;
    // What a listing of the pool would answer (a later poll then finds it unchanged).
    const { history: change, undone, restored, slot, ...bare } = view;
    if (!("exists" in bare)) bare.exists = true;
    if (change && change.version) {
      shown = { poolId, version: change.version, description: change.description || "" };
      offer(shown);
    }
    if (panel.isOpen()) panel.refresh();
    if (kind !== "own") apply(poolId, bare); // "own": the grid shows it in request order
    return bare;
  }

  async function undo() {
    const poolId = getPoolId();
    if (!poolId || busy) return;
    busy = true;
    hideOffer();
    const expect = shown && shown.poolId === poolId ? shown.version : null;
    try {
      const view = await api.undo(poolId, expect);
      took(poolId, view, "undo");
    } catch (err) {
      notify("error", messageOf(err, t));
    } finally {
      busy = false;
    }
  }

  undoBtn.addEventListener("click", () => undo());
  historyButton.addEventListener("click", () => {
    if (panel.isOpen()) {
      panel.close();
      historyButton.setAttribute("aria-expanded", "false");
    } else {
      panel.open(getPoolId());
      historyButton.setAttribute("aria-expanded", "true");
    }
  });

  return {
    strip,
    historyButton,
    panel: panel.element,
    took,
    undo,
    // The grid showed a state made elsewhere (a poll). The offer for our change
    // stays: pressing it now is refused by the server with one sentence (the pool
    // changed since), which says more than an offer that silently vanished.
    forget() {
      if (panel.isOpen()) panel.refresh();
    },
    setPoolId(id) {
      shown = null;
      hideOffer();
      historyButton.disabled = !id;
      panel.setPoolId(id);
    },
    destroy() {
      clearTimeout(timer);
    },
  };
}
