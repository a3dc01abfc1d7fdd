// The Pool Profile node in ComfyUI: the shared profile bar as a DOM widget. The hidden
// STRING widgets `profile` (name) and `profile_id` stay the serialised truth; picking
// a profile pushes its id to every connected pool node at once.
import { createProfileBar } from "../lib/profile_bar.js";
import { addDomWidget, downstreamNodes, hideWidget, setWidgetValue, widget } from "./compat.js";
import { POOL_TYPES, poolUi } from "./pool_node.js";

const BAR_WIDGET = "profile_bar";

export const profileUi = (node) => node?.__poolProfilesProfile || null;

// The earlier pack turns `profile` into a combo and adds "➕ Create" buttons.
export function hasForeignBar(node) {
  return !!node.widgets?.some(
    (w) => (w.name === "profile" && w.type === "combo") || /Create$/.test(String(w.name || "")) && w.type === "button",
  );
}

function connectedPools(node) {
  return downstreamNodes(node).filter((n) => POOL_TYPES.has(n.type) && poolUi(n));
}

// Offer to seed an empty profile from a connected pool's images (nothing is lost by
// switching). Copies with the same server-side copy as duplicate/copy-paste.
async function offerSeed(profile, pools, host) {
  const { poolApi, notify } = host;
  let target;
  try {
    target = (await poolApi.getPool(profile.id)).view;
  } catch {
    return;
  }
  if (target?.count) return;
  for (const pool of pools) {
    const own = widget(pool, "pool_id")?.value;
    if (!own || own === profile.id) continue;
    let source;
    try {
      source = (await poolApi.getPool(own)).view;
    } catch {
      continue;
    }
    if (!source?.count) continue;
    const n = source.count;
    const ok = window.confirm(
      `Profile “${profile.name}” is empty. Copy the ${n} image${n === 1 ? "" : "s"} of the connected pool into it?`,
    );
    if (!ok) return;
    try {
      await poolApi.copyPool(own, profile.id);
      notify("success", `Copied ${n} image${n === 1 ? "" : "s"} into “${profile.name}”.`);
    } catch (err) {
      notify("error", err.message || String(err));
    }
    for (const p of pools) poolUi(p)?.grid.refresh({ force: true });
    return;
  }
}

export function setupProfileNode(node, host) {
  const { notify, live } = host;
  const nameW = widget(node, "profile");
  const idW = widget(node, "profile_id");
  hideWidget(node, nameW);
  hideWidget(node, idW);

  const ui = {};
  const push = () => {
    for (const pool of connectedPools(node)) poolUi(pool).sync();
  };
  const bar = createProfileBar({
    api: host.poolApi,
    notify,
    confirm: (m) => window.confirm(m),
    prompt: (m, d) => window.prompt(m, d),
    selectedId: idW?.value || null,
    onSelect: (profile) => {
      const before = idW?.value || "";
      if (!profile && before && !bar.getProfiles?.().some((p) => p.id === before)) {
        // Deleted elsewhere: say so, as a run queued before this would fail naming it.
        const name = nameW?.value ? `“${nameW.value}”` : before;
        notify("info", `Profile ${name} was deleted elsewhere: connected pools now use their own pool.`);
      }
      setWidgetValue(node, nameW, profile ? profile.name : "");
      setWidgetValue(node, idW, profile ? profile.id : "");
      push();
      if (profile) offerSeed(profile, connectedPools(node), host);
    },
  });
  addDomWidget(node, BAR_WIDGET, bar.element, { minHeight: 64 });
  if (node.size[0] < 380) node.setSize([380, node.size[1]]);

  // A saved selection is found by id first (names can change), then by name.
  ui.syncFromWidgets = () => {
    let id = idW?.value || null;
    const profiles = bar.getProfiles?.() || [];
    if (!id && nameW?.value) {
      const byName = profiles.find((p) => p.name === nameW.value);
      if (byName) {
        id = byName.id;
        setWidgetValue(node, idW, id);
      }
    }
    const byId = profiles.find((p) => p.id === id);
    if (byId && nameW && nameW.value !== byId.name) setWidgetValue(node, nameW, byId.name);
    if ((bar.getSelected()?.id || null) !== id) bar.select(id);
    push();
  };
  ui.refresh = async () => {
    await bar.refresh();
    ui.syncFromWidgets();
  };
  ui.bar = bar;

  ui.configured = () => {
    ui.syncFromWidgets();
    bar.refresh({ force: true }).then(() => ui.syncFromWidgets());
  };
  ui.connectionsChanged = () => queueMicrotask(push);
  ui.removed = () => live.remove(ui);

  node.__poolProfilesProfile = ui;
  live.add(ui);
  if (node.__ppEarlyConfigured) ui.configured();
  node.__ppEarlyConfigured = false;
  return ui;
}

export function patchProfileType(nodeType) {
  const proto = nodeType.prototype;
  const chain = (name, run) => {
    const original = proto[name];
    proto[name] = function () {
      const r = original?.apply(this, arguments);
      run(this);
      return r;
    };
  };
  chain("onConfigure", (node) => {
    const ui = profileUi(node);
    if (ui) ui.configured();
    else node.__ppEarlyConfigured = true;
  });
  chain("onConnectionsChange", (node) => profileUi(node)?.connectionsChanged());
  chain("onRemoved", (node) => profileUi(node)?.removed());
}
