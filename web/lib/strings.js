// The pack's UI strings. English is built in (the components work in any host, the
// standalone page included); a host passes another locale's table, read from the
// pack's locales/<lang>/main.json ("poolProfiles") — ComfyUI serves those at /i18n.
// The object below is JSON and must equal locales/en/main.json's "poolProfiles"
// (tests/test_locales.py checks it). Placeholders: {name}.

export const EN = {
  "appName": "Pool Profiles",
  "ok": "OK",
  "cancel": "Cancel",
  "delete": "Delete",
  "close": "Close",
  "open": "Open",
  "refresh": "Refresh",
  "profile": "Profile",
  "profiles": "Profiles",
  "noProfile": "(no profile)",
  "create": "Create",
  "rename": "Rename",
  "duplicate": "Duplicate",
  "export": "Export",
  "import": "Import",
  "createTip": "Create a new, empty profile",
  "renameTip": "Rename the selected profile",
  "deleteTip": "Delete the selected profile and its images",
  "duplicateTip": "Copy the selected profile under a new name",
  "exportTip": "Download the selected profile as a zip, or as a dataset (images, captions, masks)",
  "exportFormat": "Export format",
  "exportFormatTip": "What Export downloads",
  "importTip": "Import a profile zip or a dataset (folder zip of images, captions, masks)",
  "importProgress": "Import progress",
  "createTitle": "New profile",
  "createMessage": "Name of the new profile:",
  "renameTitle": "Rename profile",
  "renameMessage": "New name for “{name}”:",
  "duplicateTitle": "Duplicate profile",
  "duplicateMessage": "Name of the copy of “{name}”:",
  "copySuffix": "{name} copy",
  "deleteProfileTitle": "Delete profile",
  "deleteProfileMessage": "Delete profile “{name}”? You can restore it with its images from “Recently deleted”.",
  "created": "Created profile “{name}”.",
  "deleted": "Deleted profile “{name}”.",
  "duplicated": "Duplicated as “{name}”.",
  "imported": "Imported profile “{name}”.",
  "imagePool": "Image pool",
  "upload": "Upload",
  "imagesInPool": "Images in this pool",
  "uploads": "Uploads",
  "emptyPool": "No images yet — drop image files here, paste one (Ctrl+V) or use Upload.",
  "noPool": "No pool selected.",
  "pickPoolFirst": "Pick a pool first, then add images.",
  "imageCount": "{count} images",
  "imageCountOne": "1 image",
  "deleteSlotTitle": "Delete image",
  "deleteSlotMessage": "Delete {name} from this pool?",
  "pools": "Pools",
  "poolsTip": "Every profile and node pool of the store",
  "poolsList": "All pools",
  "profilePools": "Profiles",
  "nodePools": "Node pools",
  "noPools": "No pools in this store yet.",
  "usedBy": "used by {nodes}",
  "unused": "not used in this workflow",
  "openPool": "Open {name}",
  "deletePool": "Delete {name}",
  "nodePoolName": "pool {id}",
  "deletePoolTitle": "Delete node pool",
  "deletePoolMessage": "Delete {name}: {images} ({size}) with their masks and labels? A node in another workflow that still uses this pool starts empty. This cannot be undone.",
  "poolDeleted": "Deleted {name}.",
  "changedAt": "changed {when}",
  "poolError": "cannot be read: {error}",
  "copyFromPool": "Copy images from the connected pool",
  "seedOffer": "Profile “{name}” is empty. The connected pool has {count} images: use “Copy images from the connected pool” in the Pool Profile node's menu (right-click) to copy them.",
  "copied": "Copied {count} images into “{name}”.",
  "nothingToCopy": "The connected pool has no images to copy, or the profile is not empty.",
  "detach": "Pool: detach (new empty pool)",
  "detachTitle": "Detach pool",
  "detachMessage": "Give this node a new, empty pool? The current pool stays in the store.",
  "settingThumbSize": "Thumbnail size (px)",
  "settingConfirmDelete": "Confirm before deleting an image",
  "commandRefresh": "Pool Profiles: refresh every pool and profile list",
  "commandPools": "Pool Profiles: show the Pools sidebar",
  "undo": "Undo",
  "undoAria": "Undo: {what}",
  "history": "History",
  "historyTip": "Kept versions of this pool; restore any of them",
  "poolHistory": "Pool history",
  "keptVersions": "Kept versions",
  "closeHistory": "Close history",
  "restoreVersion": "Restore this version",
  "restoreVersionAria": "Restore the version before: {what}",
  "restoreVersionTip": "Make the pool as it was before “{what}”",
  "versionBefore": "before: {what}",
  "keptCount": "{count} kept version(s) (up to {max})",
  "noHistory": "No history yet: changes to this pool will be listed here.",
  "restoreVersionTitle": "Restore a version",
  "restoreVersionConfirm": "Make this pool as it was before “{what}”? The current state stays in history.",
  "restoredVersion": "Restored the version before “{what}”.",
  "recentlyDeleted": "Recently deleted",
  "recentlyDeletedTip": "Deleted profiles that can still be restored",
  "deletedProfiles": "Deleted profiles",
  "recentlyDeletedProfiles": "Recently deleted profiles",
  "restore": "Restore",
  "restoreProfileAria": "Restore profile “{name}”",
  "restoredProfile": "Restored profile “{name}”.",
  "deletedAt": "deleted {when}",
  "noDeletedProfiles": "No deleted profiles to restore.",
  "filterByTag": "Filter by tag",
  "filterPlaceholder": "filter tags…",
  "filterTip": "Tags are a label's comma-separated parts. front, red: both · front | side: either · -blurry: not · fro*: starts with",
  "filterCount": "{shown} of {total}"
};
// end of EN

// t(key, {name: ...}) for a table of one locale; missing keys fall back to English.
export function translator(table = null) {
  const own = table && typeof table === "object" ? table : {};
  return (key, vars = {}) => {
    let text = typeof own[key] === "string" ? own[key] : (EN[key] ?? key);
    if (key === "imageCount" && vars.count === 1 && (own.imageCountOne || EN.imageCountOne)) {
      text = own.imageCountOne || EN.imageCountOne;
    }
    return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
  };
}

export const tEn = translator();

// Bytes as a short text (1.2 MB).
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return "?";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i += 1;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}
