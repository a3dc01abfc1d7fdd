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

// Seeding an empty profile from a connected pool node's own pool is an explicit
// choice (the menu item "Copy images from the connected pool"), never a surprise
// question: selecting an empty profile only says, in a toast, that it can be done.
// Copies with the same server-side copy as duplicate/copy-paste.
async function seedSource(profile, pools, poolApi) {
  let target;
  try {
    target = (await poolApi.getPool(profile.id)).view;
  } catch {
    return null;
  }
  if (target?.count) return null;
  for (const pool of pools) {
    const own = widget(pool, "pool_id")?.value;
    if (!own || own === profile.id) continue;
    try {
      const source = (await poolApi.getPool(own)).view;
      if (source?.count) return { poolId: own, count: source.count };
    } catch {
      /* an unreadable pool is no source */
    }
  }
  return null;
}

export function setupProfileNode(node, host) {
  const { notify, live, ask, t } = host;
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
    confirm: ask.confirm,
    ask: ask.ask,
    t,
    selectedId: idW?.value || null,
    onSelect: (profile) => {
      const before = idW?.value || "";
      if (!profile && before && !bar.getProfiles?.().some((p) => p.id === before)) {
        // Deleted elsewhere: say so, as a run queued before this would fail naming it.
        const gone = nameW?.value
          ? t("profileGoneNamed", { name: nameW.value })
          : t("profileGoneId", { id: before });
        notify("info", gone);
      }
      setWidgetValue(node, nameW, profile ? profile.name : "");
      setWidgetValue(node, idW, profile ? profile.id : "");
      push();
      if (profile) mentionSeed(profile);
    },
  });

  async function mentionSeed(profile) {
    const found = await seedSource(profile, connectedPools(node), host.poolApi);
    if (found) notify("info", t("seedOffer", { name: profile.name, count: found.count }));
  }

  // The menu item "Copy images from the connected pool".
  ui.copyFromPool = async () => {
    const profile = bar.getSelected();
    const found = profile && (await seedSource(profile, connectedPools(node), host.poolApi));
    if (!found) {
      notify("info", t("nothingToCopy"));
      return;
    }
    try {
      await host.poolApi.copyPool(found.poolId, profile.id);
      notify("success", t("copied", { count: found.count, name: profile.name }));
    } catch (err) {
      notify("error", err?.message || String(err));
    }
    for (const p of connectedPools(node)) poolUi(p)?.grid.refresh({ force: true });
  };
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

export function profileMenu(node, host) {
  const ui = profileUi(node);
  if (!ui) return [];
  return [{ content: host.t("copyFromPool"), callback: () => ui.copyFromPool() }];
}
