// Small DOM helpers shared by the components. Text only ever goes in via textContent.

import { tEn } from "./strings.js";

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child);
  }
  return node;
}

// One <style> per id per document: both hosts get the components' look without a
// separate stylesheet to load.
export function ensureStyle(id, css) {
  if (document.getElementById(id)) return;
  const style = document.createElement("style");
  style.id = id;
  style.textContent = css;
  document.head.append(style);
}

// The message of anything thrown, for notify().
export function messageOf(err, t = tEn) {
  if (!err) return t("unknownError");
  return err.message || String(err);
}

// notify() that reports each distinct failure once until the next success, so a
// poll against a server that went away does not toast every few seconds.
export function onceNotifier(notify) {
  let last = null;
  return {
    error(message) {
      if (message === last) return;
      last = message;
      notify("error", message);
    },
    ok() {
      last = null;
    },
  };
}
