// The standalone pool manager: the same components the ComfyUI nodes mount
// (/lib/ is the pack's web/lib), wired to this page. Text only via textContent; the
// user's language (zh* browsers: Simplified Chinese) from page_i18n.js.

import { createApi } from "/lib/api.js";
import { createPoller } from "/lib/poller.js";
import { createPageDialogs } from "/lib/page_dialog.js";
import { createPoolGrid } from "/lib/pool_grid.js";
import { createPoolsList } from "/lib/pools_list.js";
import { createProfileBar } from "/lib/profile_bar.js";
import { singleWriterText } from "/lib/store_notice.js";
import { translator } from "/lib/strings.js";
import { loadTable, localizePage, pageLang } from "/static/page_i18n.js";

const $ = (sel) => document.querySelector(sel);
const TOAST_MS = { error: 9000, info: 5000, success: 4000 };

// The strings first: every component reads its labels when it is made.
const lang = pageLang();
const table = await loadTable(lang);
localizePage(table, lang);
const t = translator(table);

function notify(kind, message) {
  const toast = document.createElement("div");
  toast.className = `toast toast-${kind}`;
  toast.setAttribute("role", kind === "error" ? "alert" : "status");
  const text = document.createElement("span");
  text.textContent = message;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "toast-close";
  close.textContent = "✕";
  close.setAttribute("aria-label", t("dismiss"));
  close.addEventListener("click", () => toast.remove());
  toast.append(text, close);
  $("#toasts").append(toast);
  setTimeout(() => toast.remove(), TOAST_MS[kind] || 5000);
}

const api = createApi({ t });
// Questions in the page itself, never the browser's prompt/confirm boxes.
const dialogs = createPageDialogs({ t });

async function showStore() {
  try {
    const info = await api.storeInfo();
    const where = { backend: info.backend, url: info.url };
    $("#store-info").textContent = t(info.single_writer ? "storeInfoSingleWriter" : "storeInfo", where);
    if (info.single_writer) {
      const notice = $("#store-notice"); // the page says it once, above both grids
      notice.textContent = singleWriterText(info, t);
      notice.hidden = false;
    }
  } catch (err) {
    $("#store-info").textContent = t("storeUnavailable", { error: err.message });
    notify("error", err.message);
  }
}

// -- the selected profile's pool ---------------------------------------------------

const profileGrid = createPoolGrid({ api, notify, confirm: dialogs.confirm, t, storeNotice: false });
$("#profile-pool").append(profileGrid.element);

function selectedFromHash() {
  const m = /(?:^|&)profile=([A-Za-z0-9_-]{1,64})/.exec(location.hash.slice(1));
  return m ? m[1] : null;
}

const bar = createProfileBar({
  api,
  notify,
  ask: dialogs.ask,
  confirm: dialogs.confirm,
  t,
  selectedId: selectedFromHash(),
  onSelect(profile) {
    history.replaceState(null, "", profile ? `#profile=${profile.id}` : location.pathname);
    profileGrid.setPoolId(profile ? profile.id : null);
  },
});
$("#profile-bar").append(bar.element);
if (selectedFromHash()) profileGrid.setPoolId(selectedFromHash());

// -- every pool of the store (profiles and node pools) --------------------------------

const poolsList = createPoolsList({ api, notify, confirm: dialogs.confirm, t });
$("#pools-list").append(poolsList.element);

const refreshAll = () =>
  Promise.all([bar.refresh(), profileGrid.refresh(), poolsList.refresh()]);

// -- live: this server's own changes at once (Server-Sent Events), other processes'
// (another ComfyUI, the CLI) at the next poll --------------------------------------------

if (typeof EventSource === "function") {
  let pending = null;
  const events = new EventSource("/grid_pool/events");
  events.addEventListener("pool_profiles.changed", () => {
    clearTimeout(pending);
    pending = setTimeout(refreshAll, 30); // one refresh for a burst of changes
  });
}
createPoller({ intervalMs: 3000, check: () => Promise.all([bar.refresh(), profileGrid.refresh()]) }).start();
// The overview lists the whole store (a request per pool on S3): less often.
createPoller({ intervalMs: 15000, check: () => poolsList.refresh() }).start();
poolsList.refresh();
showStore();
