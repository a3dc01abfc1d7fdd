// The standalone pool manager: the same components the ComfyUI nodes mount
// (/lib/ is the pack's web/lib), wired to this page. Text only via textContent.

import { createApi } from "/lib/api.js";
import { createPoller } from "/lib/poller.js";
import { createPoolGrid } from "/lib/pool_grid.js";
import { createProfileBar } from "/lib/profile_bar.js";
import { singleWriterText } from "/lib/store_notice.js";

const $ = (sel) => document.querySelector(sel);
const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
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

const profileGrid = createPoolGrid({ api, notify, storeNotice: false });
$("#profile-pool").append(profileGrid.element);

function selectedFromHash() {
  const m = /(?:^|&)profile=([A-Za-z0-9_-]{1,64})/.exec(location.hash.slice(1));
  return m ? m[1] : null;
}

const bar = createProfileBar({
  api,
  notify,
  selectedId: selectedFromHash(),
  onSelect(profile) {
    history.replaceState(null, "", profile ? `#profile=${profile.id}` : location.pathname);
    profileGrid.setPoolId(profile ? profile.id : null);
  },
});
$("#profile-bar").append(bar.element);
if (selectedFromHash()) profileGrid.setPoolId(selectedFromHash());

// -- a node's own pool, by id (one at a time: Show again replaces it) ---------------

let nodeGrid = null;

function closeNodePool() {
  nodeGrid?.destroy();
  nodeGrid = null;
  $("#node-pool").hidden = true;
  $("#pool-close").hidden = true;
}

$("#pool-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const poolId = $("#pool-id").value.trim();
  if (!ID_PATTERN.test(poolId)) {
    notify("error", "A pool id is 1 to 64 letters, digits, '-' or '_'.");
    return;
  }
  try {
    const { view } = await api.getPool(poolId);
    if (view && view.exists === false) {
      notify("error", `No pool with id “${poolId}” in this store.`);
      return;
    }
  } catch (err) {
    notify("error", err.message);
    return;
  }
  if (nodeGrid?.getPoolId() === poolId) {
    nodeGrid.refresh({ force: true });
    return;
  }
  closeNodePool();
  nodeGrid = createPoolGrid({ api, notify, poolId, storeNotice: false });
  const box = $("#node-pool");
  const title = document.createElement("h3");
  title.textContent = `Pool ${poolId}`;
  box.replaceChildren(title, nodeGrid.element);
  box.hidden = false;
  $("#pool-close").hidden = false;
});
$("#pool-close").addEventListener("click", closeNodePool);

// -- live: another process's changes appear without reload --------------------------

const poller = createPoller({
  intervalMs: 3000,
  check: () => Promise.all([bar.refresh(), profileGrid.refresh(), nodeGrid?.refresh()]),
});
poller.start();
showStore();
