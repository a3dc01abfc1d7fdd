// Read-only view of the store: profiles and their pools, through the /grid_pool routes.
// Data is only ever inserted with textContent / attributes (never innerHTML).

const $ = (sel) => document.querySelector(sel);

async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`);
  return body;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function blobUrl(route, poolId, name) {
  const q = new URLSearchParams({ pool_id: poolId, name });
  return `/grid_pool/${route}?${q}`;
}

function renderSlot(poolId, slot, active) {
  const link = el("a", { href: blobUrl("image", poolId, slot.image), target: "_blank" },
    el("img", { src: blobUrl("thumb", poolId, slot.image), alt: slot.label || slot.image,
      loading: "lazy" }));
  const node = el("figure", { class: "slot" + (slot.index === active ? " active" : "") },
    link, el("span", { class: "badge", text: String(slot.index) }));
  if (slot.has_mask) node.append(el("span", { class: "mask-dot", title: "has a mask" }));
  node.append(el("figcaption", { class: "label", text: slot.label || "" }));
  return node;
}

async function renderPool(poolId, title, meta) {
  const box = el("article", { class: "profile" }, el("h2", { text: title }));
  if (meta) box.append(el("p", { class: "meta muted", text: meta }));
  const grid = el("div", { class: "grid" });
  box.append(grid);
  try {
    const view = await getJSON(`/grid_pool/list?pool_id=${encodeURIComponent(poolId)}`);
    if (!view.count) grid.append(el("p", { class: "muted", text: "empty pool" }));
    for (const slot of view.slots) grid.append(renderSlot(poolId, slot, view.active));
  } catch (err) {
    grid.append(el("p", { class: "error", text: err.message }));
  }
  return box;
}

async function loadStoreInfo() {
  try {
    const info = await getJSON("/grid_pool/store_info");
    const mode = info.single_writer ? " — single writer" : "";
    $("#store-info").textContent = `${info.backend} store ${info.url}${mode}`;
  } catch (err) {
    $("#store-info").textContent = `store unavailable: ${err.message}`;
    $("#store-info").className = "error";
  }
}

async function loadProfiles() {
  const section = $("#profiles");
  section.replaceChildren();
  $("#status").textContent = "loading profiles…";
  try {
    const { profiles } = await getJSON("/grid_pool/profiles/list");
    $("#status").textContent = profiles.length ? `${profiles.length} profile(s)` : "no profiles yet";
    for (const p of profiles) {
      const when = p.created ? new Date(p.created * 1000).toLocaleString() : "";
      const exportLink = `/grid_pool/profiles/export?id=${encodeURIComponent(p.id)}`;
      const box = await renderPool(p.id, p.name, `id ${p.id}${when ? " · created " + when : ""}`);
      box.querySelector("h2").append(" ", el("a", { href: exportLink, text: "export zip" }));
      section.append(box);
    }
  } catch (err) {
    $("#status").textContent = err.message;
    $("#status").className = "error";
  }
}

$("#pool-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const poolId = $("#pool-id").value.trim();
  if (!poolId) return;
  $("#profiles").prepend(await renderPool(poolId, `Pool ${poolId}`, ""));
});

loadStoreInfo();
loadProfiles();
