// The pin a pool node's prompt carries when it is queued with index -1: the identity of
// the slot active then (its `id`, or its image name for older slots) and, after "|",
// its label (only to name it if it is deleted before the run). Python reads it in
// pool_profiles/slot_pick.py.

export const PIN_LABEL_MAX = 80;

export function makePin(slot) {
  if (!slot) return "";
  const key = slot.id || slot.image || "";
  if (!key) return "";
  const label = String(slot.label || "").replaceAll("|", "/").slice(0, PIN_LABEL_MAX);
  return label ? `${key}|${label}` : key;
}

// What the prompt gets for a pool node: the active slot's pin when index is -1 and the
// grid shows the pool the run reads; "" otherwise (the run then reads the pool itself).
export function pinFor({ index, view, shownPoolId, runPoolId }) {
  if (index !== -1 || !view || !shownPoolId || shownPoolId !== runPoolId) return "";
  return makePin((view.slots || []).find((s) => s.index === view.active));
}
