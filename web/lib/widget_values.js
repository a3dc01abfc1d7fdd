// Saved widget values of workflows made before a node gained a widget. Litegraph
// restores widgets_values by position, so a workflow saved before `index` had its
// control_after_generate companion would hand the control the next widget's value
// (the hidden pool_id) and shift every later one: put "fixed" back in its place.

export const CONTROL_MODES = ["fixed", "increment", "decrement", "randomize", "increment-wrap"];

// `values` with a control value at position `at` (unchanged when one is there).
export function withControlValue(values, at) {
  if (!Array.isArray(values) || !(at >= 0) || at > values.length) return values;
  if (CONTROL_MODES.includes(values[at])) return values;
  const out = values.slice();
  out.splice(at, 0, "fixed");
  return out;
}
