// The Image Pool (Grid) node in ComfyUI: the shared grid component as a DOM widget,
// a hidden per-node pool_id, the pool of a connected profile, paste/drop into the pool,
// copy-paste giving the copy its own filled pool, and the MaskEditor per slot.
import { pinFor } from "../lib/pin.js";
import { createPoolGrid, imageFilesOf } from "../lib/pool_grid.js";
import { withControlValue } from "../lib/widget_values.js";
import {
  addDomWidget,
  claimUndoKey,
  copyKindOf,
  hideWidget,
  newId,
  selectedNodes,
  setWidgetValue,
  upstreamNode,
  widget,
} from "./compat.js";
import { editMask } from "./mask.js";

export const POOL = "GridImagePool";
export const POOL_ALL = "GridImagePoolAll";
// Node types that read a pool (own pool_id or a connected profile) and show its grid.
export const POOL_TYPES = new Set([POOL, POOL_ALL]);
export const PROFILE = "PoolProfile";
const CONTROL = "control_after_generate";
const GRID_WIDGET = "pool_grid";
const DEFAULT_SIZE = [440, 480];

export const poolUi = (node) => node?.__poolProfilesPool || null;

// The earlier local-only pack adds a DOM widget named "grid" to a node of the same
// type; then ours stays out of the way.
export function hasForeignGrid(node) {
  return !!node._gridWidget || !!node.widgets?.some((w) => w.name === "grid");
}

// The pool a run of this node uses (the rule of pool_profiles/nodes/grid_image_pool.py
// effective_pool): the connected profile's id; with nothing connected, or "(no
// profile)" picked (profile_id ""), the node's own pool_id.
export function effectivePoolId(node) {
  const src = upstreamNode(node, "profile");
  const profileId = src?.type === PROFILE ? widget(src, "profile_id")?.value : "";
  return profileId || widget(node, "pool_id")?.value || null;
}

export function setupPoolNode(node, host) {
  const { app, comfyApi, poolApi, notify, live, ask } = host;
  const idWidget = widget(node, "pool_id");
  hideWidget(node, idWidget);
  if (idWidget && (!idWidget.value || idWidget.value === "default")) {
    setWidgetValue(node, idWidget, newId());
  }

  setupIndexAndPin(node);

  const ui = {};
  const grid = createPoolGrid({
    api: poolApi,
    poolId: effectivePoolId(node),
    notify,
    confirm: ask.confirm,
    confirmDelete: host.confirmDelete,
    t: host.t,
    onOpenMask: (slot, poolId) =>
      editMask({
        app,
        comfyApi,
        poolApi,
        node,
        poolId,
        slot,
        notify,
        t: host.t,
        onStored: () => grid.refresh({ force: true }),
      }),
    onChange: () => node.setDirtyCanvas?.(true, false),
    claimUndoKey, // Ctrl+Z in the grid undoes the pool, not the workflow
  });
  const wrap = document.createElement("div");
  wrap.className = "pp-node-grid";
  // The grid fills the widget's box and scrolls inside it; it never sizes the box. The
  // Vue renderer sizes widgets by their content, so a grid in the flow would grow the
  // node with every image (1,000 slots: a node taller than any screen).
  wrap.style.cssText =
    "position:relative;width:100%;height:100%;min-height:220px;box-sizing:border-box;overflow:hidden;";
  grid.element.style.position = "absolute";
  grid.element.style.inset = "0";
  wrap.append(grid.element);
  // Drops the grid did not take (its margins) still belong to this pool, never to a
  // new Load Image node.
  wrap.addEventListener("dragover", (e) => {
    if (Array.from(e.dataTransfer?.types || []).includes("Files")) e.preventDefault();
  });
  wrap.addEventListener("drop", (e) => {
    const files = imageFilesOf(e.dataTransfer);
    if (!files.length) return;
    e.preventDefault();
    e.stopPropagation();
    grid.addFiles(files);
  });
  grid.setThumbSize(host.thumbSize());
  addDomWidget(node, GRID_WIDGET, wrap, { minHeight: 220 });
  if (node.size[0] < DEFAULT_SIZE[0] || node.size[1] < DEFAULT_SIZE[1]) {
    node.setSize([Math.max(node.size[0], DEFAULT_SIZE[0]), Math.max(node.size[1], DEFAULT_SIZE[1])]);
  }

  // Follow the connected profile (or our own pool) — called on every change that can
  // move it and at each live tick, so a missed event only delays the switch.
  ui.sync = () => {
    const id = effectivePoolId(node);
    if (id !== grid.getPoolId()) return grid.setPoolId(id);
    return null;
  };
  ui.refresh = () => {
    const switched = ui.sync();
    return switched || grid.refresh();
  };
  ui.grid = grid;
  ui.addFiles = (files) => grid.addFiles(files);
  // Image Pool (All): its grid filters by the node's own `tags`, so it shows the slots
  // a run outputs.
  const tagsWidget = node.type === POOL_ALL || node.comfyClass === POOL_ALL ? widget(node, "tags") : null;
  ui.syncTags = () => tagsWidget && grid.setFilter(String(tagsWidget.value || ""));
  if (tagsWidget) {
    const original = tagsWidget.callback;
    tagsWidget.callback = function () {
      const r = original?.apply(this, arguments);
      ui.syncTags();
      return r;
    };
    ui.syncTags();
  }
  // What the prompt's hidden `pin` gets when this node is queued (see setupIndexAndPin).
  ui.pin = () =>
    upstreamNode(node, "index")
      ? ""
      : pinFor({
          index: widget(node, "index")?.value,
          view: grid.getView(),
          shownPoolId: grid.getPoolId(),
          runPoolId: effectivePoolId(node),
        });

  // Copy-paste / clone: a pool of our own, filled server-side with the source's slots.
  async function becomeCopyOf(sourceId) {
    const target = newId();
    setWidgetValue(node, idWidget, target);
    ui.sync();
    if (!sourceId) return;
    try {
      await poolApi.copyPool(sourceId, target);
      if (widget(node, "pool_id")?.value === target) grid.refresh({ force: true });
    } catch (err) {
      notify("error", host.t("copyStartsEmpty", { error: err.message || err }));
    }
  }

  let pendingClone = null;
  ui.configured = (kind) => {
    // Widget values are restored after onConfigure on some frontends: read them once
    // configure() is over.
    queueMicrotask(() => {
      const source = idWidget?.value || null;
      if (kind === "paste") becomeCopyOf(source);
      else if (kind === "clone" && !node.graph) pendingClone = { source };
      else if (kind === "clone") becomeCopyOf(source);
      else if (idWidget && !idWidget.value) setWidgetValue(node, idWidget, newId());
      ui.sync();
      ui.syncTags();
    });
  };
  ui.added = () => {
    if (!pendingClone) return;
    const { source } = pendingClone;
    pendingClone = null;
    becomeCopyOf(source);
  };
  ui.connectionsChanged = () => queueMicrotask(() => ui.sync());
  ui.removed = () => {
    node.__ppMaskEdit?.();
    live.remove(ui);
  };

  // Drops on the node's body (classic canvas and Vue nodes ask the node first).
  node.onDragOver = (e) => Array.from(e?.dataTransfer?.types || []).includes("Files");
  node.onDragDrop = (e) => {
    const files = imageFilesOf(e?.dataTransfer);
    if (!files.length) return false;
    grid.addFiles(files);
    return true;
  };
  // The frontend's own paste path calls these on an image node.
  node.pasteFiles = (files) => grid.addFiles(Array.from(files || []).filter(Boolean));

  node.__poolProfilesPool = ui;
  live.add(ui);
  // configure() may have run before this setup (the frontend calls nodeCreated
  // asynchronously): replay what the lifecycle hooks saw meanwhile.
  const early = node.__ppEarly;
  node.__ppEarly = null;
  if (early?.configured !== undefined) ui.configured(early.configured);
  if (early?.added) ui.added();
  return ui;
}

// `index` gets ComfyUI's control_after_generate (fixed / increment / decrement /
// randomize); a new node starts at "fixed" (a loaded one keeps its saved mode). The
// hidden `pin` is written at queue time only: with index -1 it carries the slot active
// *then*, so picking, reordering or adding slots before the run changes nothing for it.
function setupIndexAndPin(node) {
  const control = widget(node, CONTROL);
  if (control && node.__ppEarly?.configured === undefined) control.value = "fixed";
  const pinWidget = widget(node, "pin");
  if (!pinWidget) return;
  hideWidget(node, pinWidget);
  pinWidget.value = "";
  pinWidget.serializeValue = () => poolUi(node)?.pin?.() || "";
}

// Lifecycle hooks on the node type (they must be in place before the first
// configure()); each hands over to the node's UI, or remembers for its setup.
export function patchPoolType(nodeType) {
  const proto = nodeType.prototype;
  const chain = (name, run) => {
    const original = proto[name];
    proto[name] = function () {
      const r = original?.apply(this, arguments);
      run(this, arguments);
      return r;
    };
  };
  const early = (node) => (node.__ppEarly ??= {});
  // configure() itself, not onConfigure: litegraph rewrites a pasted node's id -1 to
  // its new id before onConfigure sees the info.
  const configure = proto.configure;
  proto.configure = function (info, ...rest) {
    const kind = copyKindOf(info);
    // Workflows saved before `index` had its control widget: see widget_values.js.
    const at = this.widgets?.findIndex((w) => w.name === CONTROL) ?? -1;
    const values = withControlValue(info?.widgets_values, at);
    if (values !== info?.widgets_values) info = { ...info, widgets_values: values };
    const r = configure.call(this, info, ...rest);
    const ui = poolUi(this);
    if (ui) ui.configured(kind);
    else (this.__ppEarly ??= {}).configured = kind;
    return r;
  };
  chain("onAdded", (node) => {
    const ui = poolUi(node);
    if (ui) ui.added();
    else early(node).added = true;
  });
  chain("onConnectionsChange", (node) => poolUi(node)?.connectionsChanged());
  chain("onRemoved", (node) => poolUi(node)?.removed());
}

// Ctrl+V with a pool node selected: the images go into its pool, never into a new
// Load Image node. Runs in the capture phase, before the frontend's own handler.
export function installPasteHandler(app) {
  window.addEventListener(
    "paste",
    (e) => {
      const target = e.target;
      if (target instanceof Element && (target.closest(".pp-node-grid") || target.closest("input,textarea,[contenteditable='true']"))) {
        return; // the grid handles its own paste; text fields keep theirs
      }
      const sel = selectedNodes(app);
      const node = sel.length === 1 ? sel[0] : null;
      const ui = poolUi(node);
      if (!ui) return;
      const files = imageFilesOf(e.clipboardData);
      if (!files.length) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      ui.addFiles(files);
    },
    true,
  );
}

export function poolMenu(node, host) {
  const ui = poolUi(node);
  if (!ui) return [];
  const slots = ui.grid.getView()?.slots || [];
  const active = slots.find((s) => s.index === ui.grid.getView()?.active);
  const entries = [
    {
      content: host.t("menuAddImages"),
      callback: () => ui.grid.element.querySelector("input[type=file]")?.click(),
    },
    { content: host.t("menuRefresh"), callback: () => ui.grid.refresh({ force: true }) },
  ];
  if (active) {
    entries.push({
      content: host.t("menuEditMask"),
      callback: () =>
        editMask({
          ...host,
          node,
          poolId: ui.grid.getPoolId(),
          slot: active,
          onStored: () => ui.grid.refresh({ force: true }),
        }),
    });
  }
  const idWidget = widget(node, "pool_id");
  if (idWidget && !upstreamNode(node, "profile")) {
    entries.push({
      content: host.t("detach"),
      callback: async () => {
        const question = { title: host.t("detachTitle"), message: host.t("detachMessage") };
        if (!(await host.ask.confirm(question))) return;
        setWidgetValue(node, idWidget, newId());
        ui.sync();
      },
    });
  }
  return entries;
}
