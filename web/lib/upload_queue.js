// A queue of file uploads with per-file progress and per-file errors: a bad file is
// reported on its own row and never stops the others. Finished rows fade out; failed
// rows stay until dismissed.

import { el, ensureStyle, messageOf } from "./dom.js";
import { tEn } from "./strings.js";

const CSS = `
.ppu-list { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column;
  gap: 2px; font-size: 12px; }
.ppu-list:empty { display: none; }
.ppu-row { display: grid; grid-template-columns: minmax(0, 1fr) auto auto; gap: 6px;
  align-items: center; padding: 2px 4px; border-radius: 4px; background: #8881; }
.ppu-row.ppu-failed { background: #c3333326; }
.ppu-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ppu-row progress { width: 90px; height: 8px; }
.ppu-error { grid-column: 1 / -1; color: #e55; overflow-wrap: anywhere; }
.ppu-dismiss { border: 0; background: transparent; color: inherit; cursor: pointer;
  padding: 0 4px; font: inherit; }
.ppu-dismiss:focus-visible { outline: 2px solid #3a8ee6; }
`;

const DONE_LINGER_MS = 1200;

export function isImageFile(file) {
  // Some systems give no type; let the server decide those.
  return !file.type || file.type.startsWith("image/");
}

export function createUploadQueue({
  upload, // (file, onProgress(loaded, total)) -> Promise<result>
  concurrency = 1, // 1 keeps slots in the order the files were given
  accept = isImageFile,
  onDone = null, // (result, file)
  onError = null, // (error, file)
  onIdle = null, // () after the last queued file finished
  t = tEn,
}) {
  ensureStyle("ppu-style", CSS);
  const element = el("ul", { class: "ppu-list", "aria-label": t("uploads"), "aria-live": "polite" });
  const waiting = [];
  let active = 0;
  let destroyed = false;

  function row(file) {
    const bar = el("progress", { max: "100", value: "0", "aria-label": t("uploadingAria", { name: file.name }) });
    const state = el("span", { class: "ppu-state", text: t("uploadWaiting") });
    const item = el("li", { class: "ppu-row" }, el("span", { class: "ppu-name", text: file.name }),
      bar, state);
    element.append(item);
    return { item, bar, state };
  }

  function fail(r, file, err) {
    r.item.classList.add("ppu-failed");
    r.bar.remove();
    r.state.textContent = t("uploadFailed");
    const dismiss = el("button", {
      type: "button",
      class: "ppu-dismiss",
      "aria-label": t("dismissUploadError", { name: file.name }),
      text: "✕",
    });
    dismiss.addEventListener("click", () => r.item.remove());
    r.item.append(dismiss, el("span", { class: "ppu-error", role: "alert", text: messageOf(err, t) }));
    onError?.(err, file);
  }

  async function run(job) {
    const { file, r, settle } = job;
    active += 1;
    r.state.textContent = t("percent", { percent: 0 });
    try {
      const result = await upload(file, (loaded, total) => {
        if (!total) return;
        const pct = Math.min(100, Math.round((loaded / total) * 100));
        r.bar.value = pct;
        r.state.textContent = pct >= 100 ? t("uploadSaving") : t("percent", { percent: pct });
      });
      r.bar.value = 100;
      r.state.textContent = t("uploadDone");
      setTimeout(() => r.item.remove(), DONE_LINGER_MS);
      onDone?.(result, file);
      settle(result);
    } catch (err) {
      fail(r, file, err);
      settle(null);
    } finally {
      active -= 1;
      pump();
    }
  }

  function pump() {
    if (destroyed) return;
    while (active < concurrency && waiting.length) run(waiting.shift());
    if (active === 0 && waiting.length === 0) onIdle?.();
  }

  return {
    element,
    // Resolves when these files are finished: their results, null for each failure.
    add(files) {
      const done = [];
      for (const file of Array.from(files || [])) {
        const r = row(file);
        if (!accept(file)) {
          const why = file.name ? t("notAnImage", { name: file.name }) : t("notAnImageUnnamed");
          fail(r, file, new Error(why));
          done.push(Promise.resolve(null));
          continue;
        }
        done.push(new Promise((settle) => waiting.push({ file, r, settle })));
      }
      pump();
      return Promise.all(done);
    },
    pending: () => active + waiting.length,
    destroy() {
      destroyed = true;
      waiting.length = 0;
      element.remove();
    },
  };
}
