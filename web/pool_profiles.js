// Pool Profiles — minimal ComfyUI extension entry (the interactive grid comes later).
// Only entry files like this one import ComfyUI's scripts; components never do.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";

const POOL = "GridImagePool";
const PROFILE = "PoolProfile";
const DEFAULT_CHOICE = "(default)";

function newId() {
  // randomUUID needs a secure context; a LAN http:// ComfyUI is not one.
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const widget = (node, name) => node.widgets?.find((w) => w.name === name);

function hide(node, w) {
  if (!w) return;
  w.hidden = true; // current frontends
  if (typeof node.getLayoutWidgets !== "function") {
    // Older frontends lay widgets out by computeSize only.
    w.computeSize = () => [0, -4];
    try {
      w.type = "hidden";
    } catch {
      /* read-only type: `hidden` is enough there */
    }
  }
}

function setValue(node, w, value) {
  if (!w || w.value === value) return;
  w.value = value;
  node.setDirtyCanvas?.(true, true);
}

// --- Image Pool (Grid): a per-node pool id ---------------------------------------

function ensurePoolId(node, fresh = false) {
  const w = widget(node, "pool_id");
  if (w && (fresh || !w.value)) setValue(node, w, newId());
}

function setupPool(nodeType) {
  const onNodeCreated = nodeType.prototype.onNodeCreated;
  nodeType.prototype.onNodeCreated = function () {
    const r = onNodeCreated?.apply(this, arguments);
    hide(this, widget(this, "pool_id"));
    ensurePoolId(this);
    return r;
  };
  const onConfigure = nodeType.prototype.onConfigure;
  nodeType.prototype.onConfigure = function (info) {
    const r = onConfigure?.apply(this, arguments);
    // A pasted node is configured with id -1 and a clone() with no id: give it a pool
    // of its own. Workflow loads, undo and subgraph conversion keep ids, and the pool.
    const copied = !!info && (info.id === -1 || info.id === undefined);
    ensurePoolId(this, copied);
    return r;
  };
}

// --- Pool Profile: a dropdown of profile names -----------------------------------

let profiles = []; // [{id, name}] from the last listing
let listing = null;

async function refreshProfiles() {
  listing ??= (async () => {
    try {
      const res = await api.fetchApi("/grid_pool/profiles/list", { cache: "no-store" });
      const body = await res.json();
      if (!res.ok) throw new Error(body?.error || res.statusText);
      profiles = (body.profiles || []).filter((p) => p && p.id && p.name);
    } catch (err) {
      console.warn("[pool-profiles] cannot list profiles:", err);
    } finally {
      listing = null;
    }
    return profiles;
  })();
  return listing;
}

function choices() {
  refreshProfiles(); // the next opening shows profiles created meanwhile
  return [DEFAULT_CHOICE, ...profiles.map((p) => p.name)];
}

function syncChoice(node) {
  // Show the saved selection: by id first (names can change), then by name.
  const nameW = widget(node, "profile");
  const idW = widget(node, "profile_id");
  const choice = widget(node, "profile_choice");
  if (!choice) return;
  const byId = profiles.find((p) => p.id === idW?.value);
  const byName = profiles.find((p) => p.name === nameW?.value);
  const entry = byId || byName;
  if (entry) {
    setValue(node, nameW, entry.name);
    setValue(node, idW, entry.id);
  }
  setValue(node, choice, entry?.name || nameW?.value || DEFAULT_CHOICE);
}

function select(node, name) {
  const entry = profiles.find((p) => p.name === name);
  setValue(node, widget(node, "profile"), entry ? entry.name : "");
  setValue(node, widget(node, "profile_id"), entry ? entry.id : "");
}

function setupProfile(nodeType) {
  const onNodeCreated = nodeType.prototype.onNodeCreated;
  nodeType.prototype.onNodeCreated = function () {
    const r = onNodeCreated?.apply(this, arguments);
    hide(this, widget(this, "profile"));
    hide(this, widget(this, "profile_id"));
    // The STRING widgets stay the serialised source of truth; this combo only edits them.
    const choice = this.addWidget(
      "combo",
      "profile_choice",
      DEFAULT_CHOICE,
      (value) => select(this, value),
      { values: choices, serialize: false },
    );
    choice.label = "profile";
    refreshProfiles().then(() => syncChoice(this));
    return r;
  };
  const onConfigure = nodeType.prototype.onConfigure;
  nodeType.prototype.onConfigure = function () {
    const r = onConfigure?.apply(this, arguments);
    syncChoice(this);
    refreshProfiles().then(() => syncChoice(this));
    return r;
  };
}

app.registerExtension({
  name: "PoolProfiles.Nodes",
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData?.name === POOL) setupPool(nodeType);
    if (nodeData?.name === PROFILE) setupProfile(nodeType);
  },
});
