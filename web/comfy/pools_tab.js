// The "Pools" sidebar tab: the shared Pools list (web/lib/pools_list.js) in ComfyUI,
// with which node of the open workflow uses each node pool.
import { createPoolsList } from "../lib/pools_list.js";
import { addSidebarTab, allNodes, widget } from "./compat.js";
import { POOL, effectivePoolId } from "./pool_node.js";

export const TAB_ID = "pool-profiles.pools";

function nodeName(node) {
  return `#${node.id} ${node.title || node.type}`;
}

// Nodes of the open workflow (subgraphs included) whose own pool_id, or whose
// connected profile, is this pool.
export function poolUsers(app, poolId) {
  return allNodes(app)
    .filter((n) => (n.comfyClass || n.type) === POOL)
    .filter((n) => widget(n, "pool_id")?.value === poolId || effectivePoolId(n) === poolId)
    .map(nodeName);
}

export function registerPoolsTab(app, host) {
  let list = null;
  const ok = addSidebarTab(app, {
    id: TAB_ID,
    icon: "pi pi-images",
    title: host.t("pools"),
    tooltip: host.t("poolsTip"),
    label: host.t("pools"),
    // Called each time the tab opens, into a fresh element; destroy when it closes.
    render(container) {
      list?.destroy();
      list = createPoolsList({
        api: host.poolApi,
        notify: host.notify,
        confirm: host.ask.confirm,
        t: host.t,
        usedBy: (poolId) => poolUsers(app, poolId),
        gridOptions: { confirmDelete: host.confirmDelete },
      });
      list.element.style.padding = "8px";
      list.element.style.height = "100%";
      container.append(list.element);
      list.refresh();
    },
    destroy() {
      list?.destroy();
      list = null;
    },
  });
  return {
    registered: ok,
    refresh: () => list?.refresh(),
    setThumbSize: (px) => list?.getGrid()?.setThumbSize(px),
  };
}
