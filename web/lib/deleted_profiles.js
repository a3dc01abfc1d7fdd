// "Recently deleted" for the profile bar: the profiles a kept history version deleted,
// each with Restore (its pool comes back as it was). Framework-free, injected notify.

import { el, ensureStyle, messageOf } from "./dom.js";
import { tEn } from "./strings.js";

const CSS = `
.ppd { flex: 1 1 100%; border: 1px solid #8886; border-radius: 6px; padding: 4px 6px; }
.ppd[hidden] { display: none; }
.ppd ul { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-direction: column;
  gap: 2px; }
.ppd li { display: flex; gap: 6px; align-items: center; }
.ppd li span { flex: 1 1 auto; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ppd time { opacity: 0.7; }
`;

export function createDeletedProfiles({ api, notify = () => {}, onRestored = null, t = tEn }) {
  ensureStyle("ppd-style", CSS);
  const status = el("p", { role: "status" });
  const list = el("ul", { "aria-label": t("deletedProfiles") });
  const element = el("section", { class: "ppd", hidden: true, "aria-label": t("recentlyDeletedProfiles") }, status, list);
  const button = el("button", {
    type: "button",
    text: t("recentlyDeleted"),
    "aria-expanded": "false",
    title: t("recentlyDeletedTip"),
  });

  function row(p) {
    const restore = el("button", {
      type: "button",
      text: t("restore"),
      "aria-label": t("restoreProfileAria", { name: p.name }),
    });
    restore.addEventListener("click", async () => {
      restore.disabled = true;
      try {
        const entry = await api.restoreProfile(p.id);
        notify("success", t("restoredProfile", { name: entry.name }));
        onRestored?.(entry);
      } catch (err) {
        notify("error", messageOf(err, t));
      }
      refresh();
    });
    const when = new Date(p.deleted * 1000);
    return el(
      "li",
      {},
      el("span", { text: p.name, title: p.name }),
      el("time", { text: t("deletedAt", { when: when.toLocaleString() }), datetime: when.toISOString() }),
      restore,
    );
  }

  async function refresh() {
    if (element.hidden) return;
    try {
      const { profiles } = await api.deletedProfiles();
      status.textContent = profiles.length ? "" : t("noDeletedProfiles");
      list.replaceChildren(...profiles.map(row));
    } catch (err) {
      status.textContent = messageOf(err, t);
    }
  }

  button.addEventListener("click", () => {
    element.hidden = !element.hidden;
    button.setAttribute("aria-expanded", String(!element.hidden));
    if (!element.hidden) {
      status.textContent = t("loading");
      refresh();
    }
  });

  return { button, element, refresh };
}
