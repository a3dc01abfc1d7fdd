// The sign-in page in the user's language (page_i18n.js); the HTML is English.
import { loadTable, localizePage, pageLang } from "/static/page_i18n.js";

const lang = pageLang();
localizePage(await loadTable(lang), lang);
