// Painting a slot's mask in ComfyUI's MaskEditor: the server stages the slot image
// (from any backend) where the editor can load it, the editor saves its result as a
// new image reference on the node, and we turn that image's alpha into the slot's
// mask (white = painted) and store it with /grid_pool/set_mask.
import { tEn } from "../lib/strings.js";
import { clearMaskState, openMaskEditor, savedMaskRef } from "./compat.js";

const POLL_MS = 300;
const GIVE_UP_MS = 30 * 60 * 1000;

function loadImage(blob, t) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    const url = URL.createObjectURL(blob);
    img.onload = () => {
      URL.revokeObjectURL(url);
      resolve(img);
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      reject(new Error(t("maskImageUnreadable")));
    };
    img.src = url;
  });
}

// The editor keeps the mask in the alpha channel, painted = transparent.
export async function maskFromEditorImage(blob, t = tEn) {
  const img = await loadImage(blob, t);
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const px = data.data;
  for (let i = 0; i < px.length; i += 4) {
    const painted = 255 - px[i + 3];
    px[i] = px[i + 1] = px[i + 2] = painted;
    px[i + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error(t("maskEncodeFailed")))), "image/png"),
  );
}

function viewUrl(comfyApi, ref) {
  const q = new URLSearchParams({
    filename: ref.filename,
    subfolder: ref.subfolder || "",
    type: ref.type || "input",
    rand: String(Math.random()),
  });
  return comfyApi.apiURL(`/view?${q}`);
}

// Opens the editor for `slot` of `poolId` on `node`; resolves once the mask is stored
// (true) or the editor was left without saving (false).
export function editMask({ app, comfyApi, poolApi, node, poolId, slot, notify, onStored, t = tEn }) {
  let timer = null;
  let waited = 0;
  const stop = () => {
    clearInterval(timer);
    timer = null;
    clearMaskState(app, node);
  };

  async function store(ref) {
    try {
      const res = await fetch(viewUrl(comfyApi, ref), { cache: "no-store" });
      if (!res.ok) throw new Error(t("maskResultUnloadable", { status: res.status }));
      const mask = await maskFromEditorImage(await res.blob(), t);
      // By its image too: a slot moved while the editor was open keeps its mask.
      const view = await poolApi.setMask(poolId, slot.index, mask, slot.image);
      notify("success", t("maskStored", { index: slot.index }));
      onStored?.(view);
    } catch (err) {
      notify("error", err?.message || String(err));
    }
  }

  return (async () => {
    let staged;
    try {
      staged = await poolApi.stageForMask(poolId, slot.index);
    } catch (err) {
      notify("error", err?.message || String(err));
      return false;
    }
    const ref = { filename: staged.name, subfolder: staged.subfolder || "", type: staged.type || "input" };
    if (!openMaskEditor(app, node, ref)) {
      clearMaskState(app, node);
      notify("error", t("noMaskEditor"));
      return false;
    }
    node.__ppMaskEdit?.();
    return new Promise((resolve) => {
      node.__ppMaskEdit = () => {
        stop();
        resolve(false);
      };
      timer = setInterval(async () => {
        waited += POLL_MS;
        const saved = savedMaskRef(node, ref);
        if (saved) {
          node.__ppMaskEdit = null;
          stop();
          await store(saved);
          resolve(true);
        } else if (waited > GIVE_UP_MS || !node.graph) {
          node.__ppMaskEdit = null;
          stop();
          resolve(false);
        }
      }, POLL_MS);
    });
  })();
}
