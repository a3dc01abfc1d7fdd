// The standalone pages' language: a browser set to Chinese (zh*) gets Simplified
// Chinese, any other English. The strings are the pack's locales/<lang>/main.json
// ("poolProfiles", what ComfyUI serves at /i18n), answered here at
// /locales/<lang>/main.json; English is what the pages' HTML and web/lib/strings.js
// hold already, so it needs no request. No imports: the sign-in page loads this too.
// Nothing runs on import.

const LANGS = ["en", "zh"];

export function pageLang(language = globalThis.navigator?.language) {
  return String(language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

// The table of one of the fixed languages, or null (English; or the strings could not
// be read, and the page stays English).
export async function loadTable(lang) {
  if (lang === "en" || !LANGS.includes(lang)) return null;
  try {
    const res = await fetch(`/locales/${lang}/main.json`, { headers: { Accept: "application/json" } });
    if (!res.ok) return null;
    const table = (await res.json())?.poolProfiles;
    return table && typeof table === "object" ? table : null;
  } catch {
    return null;
  }
}

// Every element marked data-i18n="key" gets the table's text for it, as text (never
// markup); a key the table lacks keeps the English of the HTML.
export function localizePage(table, lang, root = document) {
  if (!table) return;
  root.documentElement.lang = lang === "zh" ? "zh-CN" : lang;
  for (const node of root.querySelectorAll("[data-i18n]")) {
    const text = table[node.dataset.i18n];
    if (typeof text === "string") node.textContent = text;
  }
}
