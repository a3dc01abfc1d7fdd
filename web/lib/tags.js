// Tags in slot labels and the one filter syntax: the twin of pool_profiles/tags.py
// (tests/tag_cases.json holds the cases both pass). A label's tags are its
// comma-separated parts; a label without a comma is one tag.
//   front, red   every term (AND) · front | side   any of (OR) · -blurry   not · fro*   prefix

import { tEn } from "./strings.js";

export const FILTER_MAX = 500;

// A bad filter: the message in English (as tags.py says it); `key` and `vars` let a UI
// say it in its own language.
function filterError(key, vars) {
  const err = new Error(tEn(key, vars));
  err.key = key;
  err.vars = vars;
  return err;
}

const norm = (text) => String(text).split(/\s+/).filter(Boolean).join(" ").toLowerCase();

export function parseTags(label) {
  if (typeof label !== "string") return [];
  const seen = new Set();
  const out = [];
  for (const part of label.split(",")) {
    const tag = part.split(/\s+/).filter(Boolean).join(" ");
    if (tag && !seen.has(norm(tag))) {
      seen.add(norm(tag));
      out.push(tag);
    }
  }
  return out;
}

function term(raw) {
  let text = raw.trim();
  const negate = text.startsWith("-");
  if (negate) text = text.slice(1);
  const alts = text.split("|").map(norm).filter(Boolean);
  if (alts.some((a) => a === "*" || a.slice(0, -1).includes("*"))) {
    throw filterError("filterStar", { term: raw.trim() });
  }
  return { negate, alts };
}

function termMatches(alts, tags) {
  return alts.some((alt) =>
    alt.endsWith("*") ? [...tags].some((t) => t.startsWith(alt.slice(0, -1))) : tags.has(alt),
  );
}

// A matcher `(label) => boolean`; throws an Error with a one-line message on bad input.
export function parseFilter(text) {
  const source = typeof text === "string" ? text : "";
  if (source.length > FILTER_MAX) {
    throw filterError("filterTooLong", { length: source.length, max: FILTER_MAX });
  }
  const required = [];
  const excluded = [];
  for (const raw of source.split(",")) {
    if (!raw.trim()) continue;
    const { negate, alts } = term(raw);
    if (!alts.length) throw filterError("filterEmptyTerm", { term: raw.trim() });
    (negate ? excluded : required).push(alts);
  }
  const matches = (label) => {
    const tags = new Set(parseTags(label).map(norm));
    return required.every((a) => termMatches(a, tags)) && !excluded.some((a) => termMatches(a, tags));
  };
  matches.empty = !required.length && !excluded.length;
  return matches;
}
