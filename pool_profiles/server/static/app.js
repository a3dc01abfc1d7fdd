// The standalone pool manager: the same components the ComfyUI nodes mount
// (/lib/ is the pack's web/lib), wired to this page. Text only via textContent.

import { createApi } from "/lib/api.js";
import { createPoller } from "/lib/poller.js";
import { createPageDialogs } from "/lib/page_dialog.js";
import { createPoolGrid } from "/lib/pool_grid.js";
import { createPoolsList } from "/lib/pools_list.js";
import { createProfileBar } from "/lib/profile_bar.js";
import { singleWriterText } from "/lib/store_notice.js";

const $ = (sel) => document.querySelector(sel);
const TOAST_MS = { error: 9000, info: 5000, success: 4000 };

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
  close.setAttribute("aria-label", "Dismiss");
  close.addEventListener("click", () => toast.remove());
  toast.append(text, close);
  $("#toasts").append(toast);
  setTimeout(() => toast.remove(), TOAST_MS[kind] || 5000);
}

const api = createApi();
// Questions in the page itself, never the browser's prompt/confirm boxes.
const dialogs = createPageDialogs();

async function showStore() {
  try {
    const info = await api.storeInfo();
    const mode = info.single_writer ? " — single writer" : "";
    $("#store-info").textContent = `${info.backend} store ${info.url}${mode}`;
    if (info.single_writer) {
      const notice = $("#store-notice"); // the page says it once, above both grids
      notice.textContent = singleWriterText(info);
      notice.hidden = false;
    }
  } catch (err) {
    $("#store-info").textContent = `store unavailable: ${err.message}`;
    notify("error", err.message);
  }
}

// -- the selected profile's pool ---------------------------------------------------

const profileGrid = createPoolGrid({ api, notify, confirm: dialogs.confirm, storeNotice: false });
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
  selectedId: selectedFromHash(),
  onSelect(profile) {
    history.replaceState(null, "", profile ? `#profile=${profile.id}` : location.pathname);
    profileGrid.setPoolId(profile ? profile.id : null);
  },
});
$("#profile-bar").append(bar.element);
if (selectedFromHash()) profileGrid.setPoolId(selectedFromHash());

// -- every pool of the store (profiles and node pools) --------------------------------

const poolsList = createPoolsList({ api, notify, confirm: dialogs.confirm });
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
