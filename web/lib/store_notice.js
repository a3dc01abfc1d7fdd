// A visible notice on every pool grid when the store runs single-writer (its backend
// has no conditional writes, or its service was found to ignore them and the store
// options accepted that): two writers at once could lose changes. Does nothing on
// import; asks the server once per api object.

import { el } from "./dom.js";
import { tEn } from "./strings.js";

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

// The reason, when the server gives one, is the server's own words.
export function singleWriterText(info, t = tEn) {
  return t("singleWriter", { why: info.single_writer_reason || t("singleWriterNoCas") });
}

// An element (hidden until the store is known to be single-writer).
export function createStoreNotice(api, { className = "ppg-notice", t = tEn } = {}) {
  const notice = el("p", { class: className, role: "note", hidden: true });
  storeInfoOf(api).then((info) => {
    if (info?.single_writer) {
      notice.textContent = singleWriterText(info, t);
      notice.hidden = false;
    }
  });
  return notice;
}
