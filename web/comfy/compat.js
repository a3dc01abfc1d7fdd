// Every ComfyUI-frontend-version shim of the pack lives here (one place to delete
// later). Tested against frontend 1.42.x (ComfyUI 0.18.1) and 1.58.x, classic canvas
// and the Vue node renderer, and 1.27.x (ComfyUI 0.3.64, the oldest supported), classic
// canvas. No import of ComfyUI's scripts: the entry passes `app`.

import { tEn } from "../lib/strings.js";

export function widget(node, name) {
  return node.widgets?.find((w) => w.name === name);
}

// Hide a serialised widget. `hidden` is honoured by current frontends (both renderers);
// frontends that lay widgets out by computeSize alone also need a zero size.
export function hideWidget(node, w) {
  if (!w) return;
  w.hidden = true;
  w.options = { ...(w.options || {}), hidden: true };
  if (typeof node.getLayoutWidgets !== "function" && !("hidden" in (w.constructor?.prototype || {}))) {
    w.computeSize = () => [0, -4];
  }
}

// Hide serialised inputs from the start: the Vue node renderer takes a widget's
// visibility from its input spec when the node is made (1.42 copies the spec's
// `hidden` into widget.options, 1.58 into widget.hidden) and does not see a later
// change. Called from beforeRegisterNodeDef, before any node of the type exists.
export function hideInputsInDef(nodeData, names) {
  for (const group of ["required", "optional"]) {
    const inputs = nodeData?.input?.[group];
    for (const name of names) {
      const spec = inputs?.[name];
      if (!Array.isArray(spec)) continue;
      spec[1] = { ...(spec[1] || {}), hidden: true };
    }
  }
}

export function setWidgetValue(node, w, value) {
  if (!w || w.value === value) return;
  w.value = value;
  node.setDirtyCanvas?.(true, true);
}

// A DOM widget that fills the node's free height and follows resizing: frontends
// with computeLayoutSize (1.2x on, both 1.42 and 1.58) give a widget without
// computeSize a share of the free space between getMinHeight and getMaxHeight (none:
// all of it); a computeSize would pin it to one height (the classic renderer then
// left the grid at its minimum under a tall node). Only a frontend without
// computeLayoutSize gets a computeSize.
export function addDomWidget(node, name, element, { minHeight = 120 } = {}) {
  const w = node.addDOMWidget(name, name, element, {
    serialize: false,
    hideOnZoom: false,
    getMinHeight: () => minHeight,
    margin: 4,
  });
  if (w && typeof w.computeSize !== "function" && typeof w.computeLayoutSize !== "function") {
    w.computeSize = (width) => [width, minHeight];
  }
  if (w) w.serialize = false;
  return w;
}

// Toasts where the frontend has them (app.extensionManager.toast), else inline.
export function toaster(app, t = tEn) {
  const toast = app?.extensionManager?.toast;
  if (!toast?.add) return null;
  const severity = { error: "error", info: "info", success: "success" };
  return (kind, message) =>
    toast.add({
      severity: severity[kind] || "info",
      summary: t("appName"),
      detail: String(message),
      life: kind === "error" ? 6000 : 3000,
    });
}

// Copy / clone recognition in node.onConfigure(info). Litegraph pastes a node by
// configuring it with id -1 after adding it to the graph; LGraphNode.clone()
// configures a not-yet-added node with id undefined (copy to clipboard does that too,
// for a throwaway clone, so a clone only counts once it is added to a graph).
// Workflow loads, undo (a graph reload) and subgraph conversion keep real ids.
export function copyKindOf(info) {
  if (!info || typeof info !== "object") return null;
  if (info.id === -1) return "paste";
  if (!("id" in info) || info.id === undefined || info.id === null) return "clone";
  return null;
}

// Whether an input slot has a link. 1.58 warns on reading input.link directly;
// isInputConnected exists in both 1.42 and 1.58.
function inputConnected(node, slot) {
  if (typeof node.isInputConnected === "function") return node.isInputConnected(slot);
  return node.inputs?.[slot]?.link != null;
}

// The nodes an output slot feeds. getOutputNodes (1.42 and 1.58) reads the links for
// us; older frontends only have output.links, which 1.58 deprecates.
function outputTargets(node, slot) {
  if (typeof node.getOutputNodes === "function") return node.getOutputNodes(slot) || [];
  const out = [];
  for (const linkId of node.outputs?.[slot]?.links || []) {
    const link = node.graph?.links?.get?.(linkId) ?? node.graph?.links?.[linkId];
    const target = link && node.graph.getNodeById(link.target_id);
    if (target) out.push(target);
  }
  return out;
}

// The node a given input is fed by, through legacy Reroute nodes.
export function upstreamNode(node, inputName) {
  const slot = node.inputs?.findIndex((i) => i.name === inputName);
  if (slot === undefined || slot < 0 || !inputConnected(node, slot)) return null;
  let src = node.getInputNode?.(slot) ?? null;
  for (let hops = 0; src && src.type === "Reroute" && hops < 32; hops++) {
    src = src.getInputNode?.(0) ?? null;
  }
  return src;
}

// Every node fed (directly or through Reroutes) by one of `node`'s outputs.
export function downstreamNodes(node) {
  const out = [];
  const seen = new Set();
  const walk = (n, depth) => {
    (n.outputs || []).forEach((_, slot) => {
      for (const target of outputTargets(n, slot)) {
        if (seen.has(target)) continue;
        seen.add(target);
        if (target.type === "Reroute" && depth < 32) walk(target, depth + 1);
        else out.push(target);
      }
    });
  };
  walk(node, 0);
  return out;
}

// Every node of the open workflow, subgraphs included.
export function allNodes(app) {
  const root = app.rootGraph ?? app.graph;
  const out = [];
  const seen = new Set();
  const walk = (graph) => {
    if (!graph || seen.has(graph)) return;
    seen.add(graph);
    for (const n of graph.nodes || graph._nodes || []) {
      out.push(n);
      if (n.subgraph) walk(n.subgraph);
    }
  };
  walk(root);
  for (const sub of root?.subgraphs?.values?.() || []) walk(sub);
  return out;
}

// 1.58 deprecates canvas.selected_nodes for canvas.selectedItems (a Set of nodes,
// groups and reroutes); 1.42 has both.
export function selectedNodes(app) {
  const items = app.canvas?.selectedItems;
  if (items && typeof items[Symbol.iterator] === "function") {
    return [...items].filter((item) => typeof item?.getInputNode === "function"); // nodes only
  }
  const sel = app.canvas?.selected_nodes;
  return sel ? Object.values(sel) : [];
}

// Context-menu entries go through the getNodeMenuItems extension hook (1.42 and 1.58
// both call it; no prototype patch). A null entry is a separator.
export function menuItems(entries) {
  return [null, ...entries.map((e) => ({ content: e.content, callback: e.callback }))];
}

// The frontend's version ("1.27.10"), or null when it does not say.
export function frontendVersion() {
  const v = globalThis.__COMFYUI_FRONTEND_VERSION__;
  const m = typeof v === "string" ? /^(\d+)\.(\d+)/.exec(v) : null;
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function olderThan(major, minor) {
  const v = frontendVersion();
  return !v || v[0] < major || (v[0] === major && v[1] < minor);
}

// Frontends before 1.42 (1.27.x of ComfyUI 0.3.6x) copy a node to the clipspace from
// its loaded <img> elements (node.imgs) only, and the MaskEditor then finds "no
// clipspace images"; 1.42 and later read node.images. clearMaskState drops them again.
function giveImgsToOldFrontends(app, node, ref) {
  if (!olderThan(1, 42) || node.imgs?.length) return;
  const q = new URLSearchParams({
    filename: ref.filename,
    subfolder: ref.subfolder || "",
    type: ref.type || "input",
  });
  const img = new Image();
  img.src = app.api?.apiURL ? app.api.apiURL(`/view?${q}`) : `/view?${q}`;
  try {
    node.imgs = [img];
  } catch {
    /* a read-only imgs belongs to a frontend that reads node.images */
  }
}

// ComfyUI's MaskEditor opens for the single selected node from its image reference.
export function openMaskEditor(app, node, ref) {
  node.images = [ref];
  node.previewMediaType = "image";
  node.imageIndex = 0;
  giveImgsToOldFrontends(app, node, ref);
  const ComfyApp = app.constructor;
  try {
    ComfyApp.clipspace_return_node = node;
  } catch {
    /* read-only on some builds: the command below does not need it */
  }
  app.canvas?.deselectAll?.();
  app.canvas?.selectNode?.(node);
  const cmd = app.extensionManager?.command;
  if (cmd?.execute) {
    cmd.execute("Comfy.MaskEditor.OpenMaskEditor");
    return true;
  }
  if (ComfyApp?.open_maskeditor) {
    ComfyApp.copyToClipspace?.(node);
    ComfyApp.clipspace_return_node = node;
    ComfyApp.open_maskeditor();
    return true;
  }
  return false;
}

// What the MaskEditor saved for this node, once it saved: a new image reference on
// node.images (clipspace), which differs from the one it was opened with.
export function savedMaskRef(node, openedWith) {
  const ref = node.images?.[0];
  if (!ref || typeof ref !== "object") return null;
  const same =
    ref.filename === openedWith.filename &&
    (ref.subfolder || "") === (openedWith.subfolder || "") &&
    (ref.type || "") === (openedWith.type || "");
  return same ? null : ref;
}

// Forget the image reference handed to the MaskEditor so no preview lingers on the node.
export function clearMaskState(app, node) {
  try {
    node.images = undefined;
    node.imgs = undefined;
    node.previewMediaType = undefined;
  } catch {
    /* best effort */
  }
  for (const map of [app.nodeOutputs, app.nodePreviewImages]) {
    if (!map) continue;
    for (const k of Object.keys(map)) {
      if (k === String(node.id) || k.endsWith(`:${node.id}`)) delete map[k];
    }
  }
  node.setDirtyCanvas?.(true, true);
}

export function newId() {
  // randomUUID needs a secure context; a LAN http:// ComfyUI is not one.
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// -- questions, settings, server events, sidebar, strings (frontend 1.42 and 1.58) ---

// The frontend's dialog service (app.extensionManager.dialog: prompt / confirm with
// type "delete" for destructive questions); the browser's boxes only where a frontend
// has none. Both answer the components' ask/confirm contract (Promises).
export function dialogs(app, t = tEn) {
  const service = () => app?.extensionManager?.dialog;
  const plain = (q) => (typeof q === "string" ? { message: q } : q || {});
  return {
    async ask(question, value) {
      const q = { value, ...plain(question) };
      const d = service();
      if (typeof d?.prompt === "function") {
        const answer = await d.prompt({
          title: q.title || t("appName"),
          message: q.message || "",
          defaultValue: q.value ?? "",
        });
        return typeof answer === "string" ? answer : null;
      }
      return window.prompt(q.message || "", q.value ?? "");
    },
    async confirm(question) {
      const q = plain(question);
      const d = service();
      if (typeof d?.confirm === "function") {
        const ok = await d.confirm({
          title: q.title || t("appName"),
          message: q.message || "",
          type: q.destructive ? "delete" : "default",
          ...(q.items ? { itemList: q.items } : {}),
        });
        return ok === true;
      }
      return window.confirm(q.message || "");
    },
  };
}

// A setting of ours (settings API, 1.2x+), or the fallback when the frontend has none.
export function settingValue(app, id, fallback) {
  try {
    const value = app?.extensionManager?.setting?.get?.(id);
    return value === undefined || value === null ? fallback : value;
  } catch {
    return fallback;
  }
}

// A server -> browser event over ComfyUI's websocket. The frontend only dispatches
// message types someone registered with api.addEventListener (else it logs "Unknown
// message type"), so this runs at setup, before any event can come.
export function onServerEvent(comfyApi, type, handler) {
  comfyApi?.addEventListener?.(type, (e) => handler(e?.detail ?? null));
}

// A sidebar tab whose content we render (type "custom"); false when the frontend has
// no sidebar-tab API.
export function addSidebarTab(app, tab) {
  const manager = app?.extensionManager;
  if (typeof manager?.registerSidebarTab !== "function") return false;
  manager.registerSidebarTab({ type: "custom", ...tab });
  return true;
}

// Our UI strings in the user's language: ComfyUI serves every pack's locales/ at
// /i18n (api.getCustomNodesI18n, 1.2x+); the frontend keeps its vue-i18n to itself,
// so the pack reads its own "poolProfiles" table from there. null: English.
export async function packStrings(app, comfyApi) {
  const locale = String(settingValue(app, "Comfy.Locale", "") || navigator.language || "en");
  if (locale.toLowerCase().startsWith("en")) return null;
  try {
    const all = await comfyApi.getCustomNodesI18n();
    const lang = all?.[locale] ? locale : locale.split("-")[0];
    const table = all?.[lang]?.poolProfiles;
    return table && typeof table === "object" ? table : null;
  } catch {
    return null;
  }
}

// The pool grid's Ctrl+Z undoes its pool, not the workflow. ComfyUI's graph undo
// (ChangeTracker, 1.42 and 1.58) listens to every keydown on window in the capture
// phase, before the grid sees it, and reads the event's key a frame later: shadowing
// `key` on that one event keeps the graph as it is.
export function claimUndoKey(e) {
  try {
    Object.defineProperty(e, "key", { value: "Unidentified", configurable: true });
  } catch {
    /* a frontend whose events cannot be changed: its own undo runs too */
  }
}
