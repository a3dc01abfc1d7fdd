// Pool Profiles — the ComfyUI extension entry. Only entry files import ComfyUI's
// scripts; the components under lib/ and the node glue under comfy/ never do.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { createApi } from "./lib/api.js";
import { createPoller } from "./lib/poller.js";
import { translator } from "./lib/strings.js";
import {
  dialogs,
  hideInputsInDef,
  menuItems,
  onServerEvent,
  packStrings,
  settingValue,
  toaster,
} from "./comfy/compat.js";
import {
  POOL_TYPES,
  PROFILE,
  hasForeignGrid,
  installPasteHandler,
  patchPoolType,
  poolMenu,
  poolUi,
  setupPoolNode,
} from "./comfy/pool_node.js";
import {
  hasForeignBar,
  patchProfileType,
  profileMenu,
  profileUi,
  setupProfileNode,
} from "./comfy/profile_node.js";
import { TAB_ID, registerPoolsTab } from "./comfy/pools_tab.js";

const NAME = "PoolProfiles.Nodes";
const LIVE_MS = 5000;
const EVENT = "pool_profiles.changed";
const SETTING_THUMB = "PoolProfiles.ThumbnailSize";
const SETTING_CONFIRM = "PoolProfiles.ConfirmDelete";
const THUMB_DEFAULT = 104;
const COMMAND_REFRESH = "PoolProfiles.RefreshAll";
const COMMAND_POOLS = "PoolProfiles.ShowPools";

function inlineNotify(kind, message, t) {
  // No toast service: a short-lived line at the bottom of the page, as text.
  const box = document.createElement("div");
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.textContent = t("notifyLine", { message });
  box.style.cssText =
    "position:fixed;left:50%;bottom:16px;transform:translateX(-50%);z-index:10000;" +
    "padding:6px 12px;border-radius:6px;font:13px system-ui,sans-serif;color:#fff;" +
    `background:${kind === "error" ? "#a33" : "#335"};`;
  document.body.append(box);
  setTimeout(() => box.remove(), kind === "error" ? 6000 : 3000);
}

function setup() {
  const live = new Set();
  const poller = createPoller({
    check: () => Promise.all([...live].map((ui) => ui.refresh().catch(() => {}))),
    intervalMs: LIVE_MS,
  });
  let translate = translator(null); // English until the user's locale is read (init)
  const t = (key, vars) => translate(key, vars);
  const notify = (kind, message) => (toaster(app, t) || inlineNotify)(kind, message, t);
  const host = {
    app,
    comfyApi: api,
    // The pack's routes are also served under ComfyUI's API prefix (subpath installs).
    poolApi: createApi({ base: api.apiURL(""), t }),
    notify,
    ask: dialogs(app, t),
    t,
    confirmDelete: () => settingValue(app, SETTING_CONFIRM, true) !== false,
    thumbSize: () => settingValue(app, SETTING_THUMB, THUMB_DEFAULT),
    live: {
      add: (ui) => {
        live.add(ui);
        poller.start();
      },
      remove: (ui) => live.delete(ui),
    },
  };
  let tab = null;

  // Every grid, dropdown and the Pools tab at once: a change made through this
  // ComfyUI (any tab) comes as a websocket event; others' at the next poll.
  let pending = null;
  const refreshAll = () => {
    for (const ui of live) ui.refresh().catch(() => {});
    tab?.refresh();
  };
  onServerEvent(api, EVENT, () => {
    clearTimeout(pending);
    pending = setTimeout(refreshAll, 30); // one refresh for a burst of changes
  });

  app.registerExtension({
    name: NAME,
    // Settings and commands are written in English here; the frontend shows them in
    // the user's language from locales/<lang>/settings.json and commands.json (keyed
    // by id with "." as "_") and main.json's settingsCategories (tests/test_locales.py).
    settings: [
      {
        id: SETTING_THUMB,
        category: ["Pool Profiles", "Grid", "Thumbnail size"],
        name: "Thumbnail size (px)",
        tooltip: "Width of the thumbnails in every pool grid",
        type: "slider",
        attrs: { min: 64, max: 256, step: 8 },
        defaultValue: THUMB_DEFAULT,
        onChange: (value) => {
          for (const ui of live) ui.grid?.setThumbSize(value);
          tab?.setThumbSize(value);
        },
      },
      {
        id: SETTING_CONFIRM,
        category: ["Pool Profiles", "Grid", "Confirm delete"],
        name: "Confirm before deleting an image",
        tooltip: "Ask before the ✕ of a thumbnail deletes its image",
        type: "boolean",
        defaultValue: true,
      },
    ],
    commands: [
      { id: COMMAND_REFRESH, label: "Pool Profiles: refresh every pool and profile list", icon: "pi pi-refresh", function: refreshAll },
      {
        id: COMMAND_POOLS,
        label: "Pool Profiles: show the Pools sidebar",
        icon: "pi pi-images",
        function: () => app.extensionManager?.command?.execute?.(`Workspace.ToggleSidebarTab.${TAB_ID}`),
      },
    ],
    keybindings: [{ combo: { key: "p", alt: true, shift: true }, commandId: COMMAND_POOLS }],
    async init() {
      // Before any node exists: components read their labels when they are made.
      const table = await packStrings(app, api);
      if (table) translate = translator(table);
    },
    setup() {
      installPasteHandler(app);
      tab = registerPoolsTab(app, host);
    },
    beforeRegisterNodeDef(nodeType, nodeData) {
      // Lifecycle only (configure/connect/remove); the menu uses getNodeMenuItems.
      if (POOL_TYPES.has(nodeData?.name)) {
        hideInputsInDef(nodeData, ["pool_id", "pin"]);
        patchPoolType(nodeType);
      }
      if (nodeData?.name === PROFILE) {
        hideInputsInDef(nodeData, ["profile", "profile_id"]);
        patchProfileType(nodeType);
      }
    },
    nodeCreated(node) {
      // After every other extension's own setup: another copy of this pack or the
      // earlier pack may already have given the node its widgets.
      if (node.__poolProfilesPool || node.__poolProfilesProfile) return;
      const type = node.comfyClass || node.type;
      if (POOL_TYPES.has(type) && !hasForeignGrid(node)) setupPoolNode(node, host);
      if (type === PROFILE && !hasForeignBar(node)) setupProfileNode(node, host);
    },
    getNodeMenuItems(node) {
      if (poolUi(node)) return menuItems(poolMenu(node, host));
      if (profileUi(node)) return menuItems(profileMenu(node, host));
      return [];
    },
  });
}

// A second copy of the pack (or a reload of this module) registers nothing twice.
if (!app.extensions?.some((e) => e.name === NAME)) setup();
