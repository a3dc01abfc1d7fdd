// A visible notice on every pool grid when the store runs single-writer (its backend
// has no conditional writes, or its service was found to ignore them and the store
// options accepted that): two writers at once could lose changes. Does nothing on
// import; asks the server once per api object.

import { el } from "./dom.js";

const infos = new WeakMap();

function storeInfoOf(api) {
  if (typeof api?.storeInfo !== "function") return Promise.resolve(null);
  let pending = infos.get(api);
  if (!pending) {
    pending = Promise.resolve()
      .then(() => api.storeInfo())
      .catch(() => {
        infos.delete(api); // ask again next time (the server may come back)
        return null;
      });
    infos.set(api, pending);
  }
  return pending;
}

export function singleWriterText(info) {
  const why = info.single_writer_reason || "this backend has no conditional writes";
  return (
    `Single-writer mode: ${why}. Changes made from two places at once can be lost: ` +
    "let only one ComfyUI or server write to this store."
  );
}

// An element (hidden until the store is known to be single-writer).
export function createStoreNotice(api, { className = "ppg-notice" } = {}) {
  const notice = el("p", { class: className, role: "note", hidden: true });
  storeInfoOf(api).then((info) => {
    if (info?.single_writer) {
      notice.textContent = singleWriterText(info);
      notice.hidden = false;
    }
  });
  return notice;
}
