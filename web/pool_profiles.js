// Pool Profiles — the ComfyUI extension entry. Only entry files import ComfyUI's
// scripts; the components under lib/ and the node glue under comfy/ never do.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { createApi } from "./lib/api.js";
import { createPoller } from "./lib/poller.js";
import { hideInputsInDef, menuItems, toaster } from "./comfy/compat.js";
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
import { hasForeignBar, patchProfileType, setupProfileNode } from "./comfy/profile_node.js";

const NAME = "PoolProfiles.Nodes";
const LIVE_MS = 5000;

function inlineNotify(kind, message) {
  // No toast service: a short-lived line at the bottom of the page, as text.
  const box = document.createElement("div");
  box.setAttribute("role", kind === "error" ? "alert" : "status");
  box.textContent = `Pool Profiles: ${message}`;
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
  const notify = (kind, message) => (toaster(app) || inlineNotify)(kind, message);
  const host = {
    app,
    comfyApi: api,
    // The pack's routes are also served under ComfyUI's API prefix (subpath installs).
    poolApi: createApi({ base: api.apiURL("") }),
    notify,
    live: {
      add: (ui) => {
        live.add(ui);
        poller.start();
      },
      remove: (ui) => live.delete(ui),
    },
  };

  app.registerExtension({
    name: NAME,
    setup() {
      installPasteHandler(app);
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
      return poolUi(node) ? menuItems(poolMenu(node, host)) : [];
    },
  });
}

// A second copy of the pack (or a reload of this module) registers nothing twice.
if (!app.extensions?.some((e) => e.name === NAME)) setup();
