// In-page questions for a host without dialogs of its own (the standalone page; a
// ComfyUI frontend without app.extensionManager.dialog): a modal <dialog> (role
// "dialog", focus kept inside, Escape cancels) instead of window.prompt/confirm.
//   ask({title, message, value}) -> Promise<string|null>
//   confirm({title, message, destructive}) -> Promise<boolean>

import { el, ensureStyle } from "./dom.js";
import { tEn } from "./strings.js";

const CSS = `
.ppd { border: 1px solid #8886; border-radius: 8px; padding: 16px; min-width: min(26rem, 90vw);
  max-width: 90vw; background: Canvas; color: CanvasText; font: 14px/1.4 system-ui, sans-serif;
  box-shadow: 0 8px 32px #0006; }
.ppd::backdrop { background: #0007; }
.ppd h2 { margin: 0 0 8px; font-size: 16px; }
.ppd p { margin: 0 0 12px; overflow-wrap: anywhere; }
.ppd input { width: 100%; box-sizing: border-box; font: inherit; padding: 4px 6px; margin-bottom: 12px; }
.ppd-buttons { display: flex; gap: 8px; justify-content: flex-end; }
.ppd button { font: inherit; padding: 4px 12px; border-radius: 4px; cursor: pointer;
  border: 1px solid #8886; background: #8882; color: inherit; }
.ppd button.ppd-danger { background: #c33; border-color: #c33; color: #fff; }
.ppd button:focus-visible, .ppd input:focus-visible { outline: 2px solid #3a8ee6; outline-offset: 1px; }
`;

let counter = 0;

export function createPageDialogs({ t = tEn } = {}) {
  function open({ title, message, value = null, destructive = false }) {
    ensureStyle("ppd-style", CSS);
    const id = `ppd-${++counter}`;
    const heading = el("h2", { id: `${id}-title`, text: title || t("appName") });
    const text = el("p", { id: `${id}-text`, text: message || "" });
    const input =
      value === null
        ? null
        : el("input", { type: "text", "aria-labelledby": `${id}-text`, autocomplete: "off", spellcheck: "false" });
    if (input) input.value = value;
    const cancel = el("button", { type: "button", value: "cancel", text: t("cancel") });
    const ok = el("button", {
      type: "submit",
      value: "ok",
      class: destructive ? "ppd-danger" : "",
      text: destructive ? t("delete") : t("ok"),
    });
    const form = el("form", { method: "dialog" }, heading, text, input, el("div", { class: "ppd-buttons" }, cancel, ok));
    const dialog = el(
      "dialog",
      { class: "ppd", "aria-labelledby": heading.id, "aria-describedby": input ? null : text.id },
      form,
    );
    document.body.append(dialog);
    return new Promise((resolve) => {
      let answer = null;
      form.addEventListener("submit", () => {
        answer = input ? input.value : true;
      });
      cancel.addEventListener("click", () => dialog.close());
      dialog.addEventListener("close", () => {
        dialog.remove();
        resolve(answer);
      });
      dialog.showModal();
      (input || (destructive ? cancel : ok)).focus();
      input?.select();
    });
  }

  // A bare string is a message (callers written for window.prompt/confirm).
  const plain = (q) => (typeof q === "string" ? { message: q } : q || {});
  return {
    ask: async (q, value) => {
      const question = plain(q);
      const answer = await open({ ...question, value: question.value ?? value ?? "" });
      return typeof answer === "string" ? answer : null;
    },
    confirm: async (q) => (await open({ ...plain(q), value: null })) === true,
  };
}
