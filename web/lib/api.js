// HTTP client for the /grid_pool routes, the same in ComfyUI and the standalone page.
// No ComfyUI import: a host that needs its own fetch (headers, base path) passes it.
// Errors carry the server's own message; the client's own wording comes from `t`.

import { tEn } from "./strings.js";

export class ApiError extends Error {
  constructor(message, { status = 0, code = "error" } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

function errorFrom(status, statusText, body, t = tEn) {
  if (body && typeof body.error === "string") {
    return new ApiError(body.error, { status, code: body.code || "error" });
  }
  const text = status ? `${status} ${statusText || t("requestFailed")}` : t("networkError");
  return new ApiError(t("errorAnswered", { status: text }), { status, code: "http_" + status });
}

async function parseJson(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

function query(params) {
  return new URLSearchParams(params).toString();
}

export function createApi({ base = "", fetch: fetchImpl = null, t = tEn } = {}) {
  const doFetch = fetchImpl || ((url, init) => globalThis.fetch(url, init));
  const url = (path) => base + path;

  async function request(path, { method = "GET", json, headers = {} } = {}) {
    const init = { method, headers: { Accept: "application/json", ...headers } };
    if (json !== undefined) {
      init.body = JSON.stringify(json);
      init.headers["Content-Type"] = "application/json";
    }
    let res;
    try {
      res = await doFetch(url(path), init);
    } catch (err) {
      throw new ApiError(t("errorUnreachable", { error: err.message || err }), {
        code: "network",
      });
    }
    return res;
  }

  async function json(path, opts) {
    const res = await request(path, opts);
    const body = await parseJson(res);
    if (!res.ok) throw errorFrom(res.status, res.statusText, body, t);
    return body;
  }

  async function conditional(path, etag) {
    const headers = etag ? { "If-None-Match": etag } : {};
    const res = await request(path, { headers });
    if (res.status === 304) return { notModified: true, etag, body: null };
    const body = await parseJson(res);
    if (!res.ok) throw errorFrom(res.status, res.statusText, body, t);
    return { notModified: false, etag: res.headers.get("ETag"), body };
  }

  // XHR, because fetch() cannot report upload progress.
  function upload(path, form, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url(path));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.responseType = "text";
      if (onProgress) {
        xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
      }
      xhr.onload = () => {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch {
          /* not JSON: handled below */
        }
        if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body);
        else reject(errorFrom(xhr.status, xhr.statusText, body, t));
      };
      xhr.onerror = () => reject(new ApiError(t("uploadUnreachable"), { code: "network" }));
      xhr.onabort = () => reject(new ApiError(t("uploadCancelled"), { code: "aborted" }));
      xhr.send(form);
    });
  }

  const post = (path, body) => json(path, { method: "POST", json: body });

  return {
    async listProfiles({ etag } = {}) {
      const r = await conditional("/grid_pool/profiles/list", etag);
      return { notModified: r.notModified, etag: r.etag, profiles: r.body?.profiles ?? null };
    },
    createProfile: (name) => post("/grid_pool/profiles/create", { name }),
    renameProfile: (id, name) => post("/grid_pool/profiles/rename", { id, name }),
    deleteProfile: (id) => post("/grid_pool/profiles/delete", { id }),
    duplicateProfile: (id, name) => post("/grid_pool/profiles/duplicate", { id, name }),
    // format: "zip" (the profile zip) or "dataset" (NNNN.<ext> + .txt + masks/, zipped).
    exportUrl: (id, format = "zip") =>
      url("/grid_pool/profiles/export?" + query(format === "zip" ? { id } : { id, format })),
    async checkExport(id, format = "zip") {
      // HEAD first: a failing export then shows the server's message, not a broken download.
      const params = format === "zip" ? { id } : { id, format };
      const res = await request("/grid_pool/profiles/export?" + query(params), { method: "HEAD" });
      if (!res.ok) {
        const fallback = res.status === 404 ? { error: t("profileGoneError") } : null;
        throw errorFrom(res.status, res.statusText, fallback, t);
      }
    },
    importProfile(file, { name, onProgress } = {}) {
      const form = new FormData();
      if (name) form.append("name", name);
      form.append("file", file, file.name || "profile.zip");
      return upload("/grid_pool/profiles/import", form, onProgress);
    },
    async getPool(poolId, { etag } = {}) {
      const r = await conditional("/grid_pool/list?" + query({ pool_id: poolId }), etag);
      return { notModified: r.notModified, etag: r.etag, view: r.body };
    },
    addImage(poolId, file, { onProgress, label } = {}) {
      const form = new FormData();
      form.append("pool_id", poolId);
      if (label) form.append("label", label);
      form.append("image", file, file.name || "image.png");
      return upload("/grid_pool/add", form, onProgress);
    },
    // Slot edits name the slot by its index and, when known, its image (from the view
    // clicked in): the server then acts on that image wherever another writer moved it.
    removeSlot: (poolId, index, image) => post("/grid_pool/remove", { pool_id: poolId, index, image }),
    setActive: (poolId, index, image) => post("/grid_pool/active", { pool_id: poolId, index, image }),
    setLabel: (poolId, index, label, image) =>
      post("/grid_pool/label", { pool_id: poolId, index, label, image }),
    reorder: (poolId, order) => post("/grid_pool/reorder", { pool_id: poolId, order }),
    setMask(poolId, index, blobOrNull, image) {
      if (blobOrNull === null || blobOrNull === undefined) {
        return post("/grid_pool/set_mask", { pool_id: poolId, index, mask: null, image });
      }
      const form = new FormData();
      form.append("pool_id", poolId);
      form.append("index", String(index));
      if (image) form.append("image", image);
      form.append("mask", blobOrNull, "mask.png");
      return upload("/grid_pool/set_mask", form, null);
    },
    thumbUrl: (poolId, name) => url("/grid_pool/thumb?" + query({ pool_id: poolId, name })),
    imageUrl: (poolId, name) => url("/grid_pool/image?" + query({ pool_id: poolId, name })),
    // Server-side copy of every slot (blobs are immutable): copy-paste and seeding.
    copyPool: (source, target) => post("/grid_pool/copy", { source, target }),
    stageForMask: (poolId, index) => post("/grid_pool/stage_for_mask", { pool_id: poolId, index }),
    storeInfo: () => json("/grid_pool/store_info"),
    // Every profile and node pool with its facts (the Pools list), and deleting a node pool.
    listPools: () => json("/grid_pool/pools"),
    deletePool: (poolId) => post("/grid_pool/pools/delete", { pool_id: poolId }),
    // History: kept versions, undo (expect = the version whose result is shown: the
    // server refuses when the pool changed since), restore, deleted profiles.
    getHistory: (poolId, { limit } = {}) =>
      json("/grid_pool/history?" + query(limit ? { pool_id: poolId, limit } : { pool_id: poolId })),
    undo: (poolId, expect) =>
      post("/grid_pool/undo", expect ? { pool_id: poolId, expect } : { pool_id: poolId }),
    restoreVersion: (poolId, version) => post("/grid_pool/restore", { pool_id: poolId, version }),
    deletedProfiles: () => json("/grid_pool/profiles/deleted"),
    restoreProfile: (id) => post("/grid_pool/profiles/restore", { id }),
  };
}
