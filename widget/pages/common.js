// What the creator's dashboard (/dashboard) and the operator's insights page (/insights) have in
// common: languages and their shared strings, building the page's elements, numbers, money and
// dates, calls to the API, sign-in and sign-out, and the wiring of the toolbar. Each page's own
// module (pages/dashboard.js, pages/insights.js) imports it. Served by the API at
// GET /pages/common.js; the widget (widget/src/widget.js) does not load it: it stays one file.

const COMMON = {
  en: {
    signout: "Sign out", from: "From", to: "To", apply: "Apply", refresh: "Refresh",
    shares: "Shares", clicks: "Clicks", pledges: "Pledges", amount: "Raised",
    perShare: "{0} clicks per share", perShare_one: "{0} click per share", totals: "Totals", updated: "Updated {0}.",
    sharesN: "{0} shares", sharesN_one: "{0} share", clicksN: "{0} clicks", clicksN_one: "{0} click",
    pledgesN: "{0} pledges", pledgesN_one: "{0} pledge",
    unreachable: "The Relais API cannot be reached. Try again in a moment.", failed: "Something went wrong ({0}).",
    loading: "Loading…", badRange: "Check the dates: {0}",
    ch_copy: "Copied link", ch_qr: "QR code", ch_native: "Share sheet", ch_email: "E-mail", ch_direct: "Direct"
  },
  fr: {
    signout: "Se déconnecter", from: "Du", to: "Au", apply: "Appliquer", refresh: "Actualiser",
    shares: "Partages", clicks: "Clics", pledges: "Contributions", amount: "Collecté",
    perShare: "{0} clics par partage", perShare_one: "{0} clic par partage", totals: "Totaux", updated: "Mis à jour à {0}.",
    sharesN: "{0} partages", sharesN_one: "{0} partage", clicksN: "{0} clics", clicksN_one: "{0} clic",
    pledgesN: "{0} contributions", pledgesN_one: "{0} contribution",
    unreachable: "L'API Relais ne répond pas. Réessayez dans un instant.", failed: "Une erreur est survenue ({0}).",
    loading: "Chargement…", badRange: "Vérifiez les dates : {0}",
    ch_copy: "Lien copié", ch_qr: "QR code", ch_native: "Partage natif", ch_email: "E-mail", ch_direct: "Direct"
  },
  es: {
    signout: "Cerrar sesión", from: "Desde", to: "Hasta", apply: "Aplicar", refresh: "Actualizar",
    shares: "Compartidos", clicks: "Clics", pledges: "Aportes", amount: "Recaudado",
    perShare: "{0} clics por compartido", perShare_one: "{0} clic por compartido", totals: "Totales", updated: "Actualizado a las {0}.",
    sharesN: "{0} compartidos", sharesN_one: "{0} compartido", clicksN: "{0} clics", clicksN_one: "{0} clic",
    pledgesN: "{0} aportes", pledgesN_one: "{0} aporte",
    unreachable: "La API de Relais no responde. Inténtalo de nuevo en un momento.", failed: "Algo salió mal ({0}).",
    loading: "Cargando…", badRange: "Revisa las fechas: {0}",
    ch_copy: "Enlace copiado", ch_qr: "Código QR", ch_native: "Menú compartir", ch_email: "Correo", ch_direct: "Directo"
  }
};
const CHANNELS = {
  x: ["X", "#111827"], facebook: ["Facebook", "#1877f2"], whatsapp: ["WhatsApp", "#1faa53"], telegram: ["Telegram", "#229ed9"],
  linkedin: ["LinkedIn", "#0a66c2"], bluesky: ["Bluesky", "#1185fe"], mastodon: ["Mastodon", "#6364ff"],
  reddit: ["Reddit", "#ff4500"], email: ["E-mail", "#64748b"], sms: ["SMS", "#0d9488"], copy: ["Copied link", "#475569"],
  qr: ["QR code", "#0f172a"], native: ["Share sheet", "#7c3aed"], direct: ["Direct", "#94a3b8"]
};
const SVG = "http://www.w3.org/2000/svg";

// ---- languages: ?lang= (or #lang=), else the browser's, else English ----
/** The page's query and fragment together: both carry its settings (campaign, from, to, lang). */
export const params = new URLSearchParams(location.search + "&" + location.hash.slice(1));
const wanted = (params.get("lang") || navigator.language || "en").slice(0, 2).toLowerCase();
/** The page's language: one of those that COMMON has. */
export const lang = COMMON[wanted] ? wanted : "en";
document.documentElement.lang = lang;
let tables = [COMMON];

/** Adds the page's own strings ({en: {...}, fr: {...}, es: {...}}), then puts every element's
 * `data-t` string in the page's language. */
export function useStrings(page) {
  tables = [page, COMMON];
  document.querySelectorAll("[data-t]").forEach((node) => { node.textContent = t(node.dataset.t); });
}

/** The string `key` in the page's language (else English, else the key), `{0}`, `{1}`… replaced by `args`. */
export function t(key, ...args) {
  const text = find(lang, key) || find("en", key) || key;
  return text.replace(/\{(\d)\}/g, (_, i) => args[+i]);
}

function find(language, key) {
  for (const table of tables) {
    if (table[language][key]) return table[language][key];
  }
  return null;
}

/** The string `key` in the form the page's language gives `n` (Intl.PluralRules): `key + "_one"`
 * for CLDR's "one" (1 in English and Spanish, 0 and 1 in French), `key` for every other form;
 * `{0}` is `n` written with at most `digits` decimals (the form follows what is written: "1.0"
 * is one), `{1}`… are `args`. */
export function plural(key, n, digits, ...args) {
  const options = { maximumFractionDigits: digits || 0 };
  const one = new Intl.PluralRules(lang, options).select(n || 0) === "one" && find(lang, key + "_one");
  return t(one ? key + "_one" : key, new Intl.NumberFormat(lang, options).format(n || 0), ...args);
}

// ---- elements: everything from the API goes in as text (textContent / attributes), never as HTML ----
export const $ = (id) => document.getElementById(id);

/** An HTML element: `attrs` are attributes, but `text` is its text, `style` its CSS (set through
 * the CSSOM, which the pages' Content-Security-Policy allows), and `on…` listeners; then its children. */
export function el(tag, attrs, ...kids) {
  return build(document.createElement(tag), attrs, kids);
}

/** An SVG element, likewise. */
export function svg(tag, attrs, ...kids) {
  return build(document.createElementNS(SVG, tag), attrs, kids);
}

function build(node, attrs, kids) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "style") node.style.cssText = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  append(node, kids);
  return node;
}

function append(node, kids) {
  kids.forEach((kid) => {
    if (Array.isArray(kid)) append(node, kid);
    else if (kid != null && kid !== false) node.appendChild(typeof kid === "object" ? kid : document.createTextNode(String(kid)));
  });
}

/** Empties the element of id `id` and puts `kids` in it. */
export function fill(id, ...kids) {
  const node = $(id);
  node.textContent = "";
  append(node, kids);
  return node;
}

/** A card of one figure: its label, its value, a note under it, then `extra`. */
export function kpi(label, value, note, extra, cls) {
  return el("div", { "class": "card kpi" + (cls ? " " + cls : "") },
    el("div", { "class": "label", text: label }), el("div", { "class": "value", text: value }),
    note ? el("div", { "class": "note", text: note }) : null, extra);
}

/** How wide a bar is, in %, for `part` %: nothing for 0, at least a sliver for anything more. */
export function barWidth(part) { return part > 0 ? Math.max(1.5, Math.min(100, part)) : 0; }

/** A horizontal bar: `value` against `max`. */
export function bar(value, max, color, thin) {
  const width = max > 0 ? barWidth(value / max * 100) : 0;
  return el("div", { "class": "track" + (thin ? " thin" : ""), "aria-hidden": "true" },
    el("i", { style: "width:" + width + "%;background:" + color }));
}

/** A channel's row head: its colour, its name, then `figure` on the right. */
export function channelHead(channel, figure) {
  return el("div", { "class": "row-head" },
    el("span", { "class": "name" }, el("i", { "class": "dot", style: "background:" + channelColor(channel) }), channelName(channel)),
    el("b", { text: figure }));
}

/** A table's header cell. */
export function th(text, cls) { return el("th", { scope: "col", "class": cls || null, text: text }); }

/** A chart's horizontal grid line at height `y`, with its label on the left of the plot. */
export function gridLine(chart, y, from, to, label, first) {
  chart.appendChild(svg("line", { x1: from, x2: to, y1: y, y2: y, stroke: first ? "#cbd5e1" : "#eef2f7" }));
  chart.appendChild(svg("text", { x: from - 8, y: y + 4, "text-anchor": "end", text: label }));
}

/** A round top for an axis: 1, 2, 2.5 or 5 times a power of ten, at least `max`. */
function niceMax(max) {
  if (max <= 0) return 1;
  const step = Math.pow(10, Math.floor(Math.log10(max))), n = max / step;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 ? 2.5 : n <= 5 ? 5 : 10) * step;
}

/** An axis from 0 to at least `max`: `{top, ticks}`. A count (`whole`) steps by a whole number
 * (1, 2 or 5 times a power of ten, at most five steps: 0 1 2 3, never 1.25 2.5 3.75); money
 * by quarters of a round top. */
export function axis(max, whole) {
  if (!whole) {
    const top = niceMax(max);
    return { top: top, ticks: [0, 1, 2, 3, 4].map(function (i) { return top * i / 4; }) };
  }
  let step = 1;
  for (let power = 1; !step || Math.ceil(max / step) > 5; power *= 10) {
    step = [1, 2, 5].map(function (m) { return m * power; }).find(function (s) { return Math.ceil(max / s) <= 5; });
  }
  const top = Math.max(1, Math.ceil(max / step)) * step, ticks = [];
  for (let v = 0; v <= top; v += step) ticks.push(v);
  return { top: top, ticks: ticks };
}

// ---- numbers, money, dates ----
export function num(n) { return new Intl.NumberFormat(lang).format(n || 0); }
export function pct(r) { return r == null ? "–" : new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 1 }).format(r); }
export function decimal(n, digits) { return new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(n); }

/** How many minor units a currency has (2 for EUR, 0 for JPY). */
export function digits(cur) {
  try { return new Intl.NumberFormat("en", { style: "currency", currency: cur }).resolvedOptions().maximumFractionDigits; }
  catch { return 2; }
}

/** An amount in minor units (cents) in major units (euros). */
export function major(minor, cur) { return (minor || 0) / Math.pow(10, digits(cur)); }

/** An amount in minor units, written in the page's language; compact ("€12K") from `compactFrom` major units up. */
export function money(minor, cur, compactFrom) {
  const d = digits(cur), value = major(minor, cur);
  try {
    return new Intl.NumberFormat(lang, compactFrom && value >= compactFrom
      ? { style: "currency", currency: cur, notation: "compact", maximumFractionDigits: 1 }
      : { style: "currency", currency: cur, minimumFractionDigits: value % 1 ? d : 0, maximumFractionDigits: d }).format(value);
  } catch { return num(value) + " " + cur; }
}

/** A money map {EUR: 1250, USD: 300}: the `main` currency first, the others after it by code. */
export function moneyMap(map, main) {
  const keys = Object.keys(map || {});
  if (!keys.length) return money(0, main);
  keys.sort((a, b) => (a === main ? -1 : 0) - (b === main ? -1 : 0) || (a < b ? -1 : 1));
  return keys.map((cur) => money(map[cur], cur)).join(" + ");
}

/** A day (YYYY-MM-DD) in the page's language: "12 Mar" unless `opts` say otherwise. */
export function day(iso, opts) {
  const parts = iso.split("-");
  return new Intl.DateTimeFormat(lang, opts || { day: "numeric", month: "short" })
    .format(new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2])));
}

export function channelName(c) { return find(lang, "ch_" + c) || (CHANNELS[c] || [c])[0]; }
export function channelColor(c) { return (CHANNELS[c] || [0, "#64748b"])[1]; }

// ---- the API ----
/** `?from=…&to=…` (and more `fields`), or "" when there is nothing to ask. */
export function query(fields) {
  const q = new URLSearchParams();
  Object.entries(fields).forEach(([name, value]) => { if (value) q.set(name, value); });
  const s = q.toString();
  return s ? "?" + s : "";
}

/** A call to the API with a bearer token (and more `headers`): its JSON (or its body as a Blob
 * with `blob`), or an Error carrying the answer's status and error code. `body` is sent as JSON;
 * `raw` (a Blob or text) as it is, with the Content-Type `type`. */
export function request(path, token, { method = "GET", body, raw, type, blob, headers: more } = {}) {
  const headers = Object.assign(token ? { Authorization: "Bearer " + token } : {}, more);
  if (body) headers["Content-Type"] = "application/json";
  if (raw != null) headers["Content-Type"] = type;
  return fetch(path, { method, headers, body: raw != null ? raw : body && JSON.stringify(body),
    cache: method === "GET" ? "no-cache" : "no-store" })
    .then((response) => {
      if (response.status === 204) return null;
      if (response.ok) return blob ? response.blob() : response.json();
      return response.json().catch(() => ({})).then((answer) => {
        const error = new Error((answer.error && answer.error.message) || ("HTTP " + response.status));
        error.status = response.status;
        error.code = answer.error && answer.error.code;
        throw error;
      });
    });
}

/** What went wrong, in words the page's reader can act on. */
export function explain(error) {
  if (error.status === 401 || error.status === 403) return t("signinBad");
  if (error.status === 404) return t("notFound");
  if (error.status === 400 && error.code === "invalid_range") return t("badRange", error.message);
  if (!error.status) return t("unreachable");
  return t("failed", error.message);
}

/** Shows `error` explained in the alert box of id `id`. */
export function showError(id, error) {
  const box = $(id);
  box.textContent = explain(error);
  box.hidden = false;
}

/** Fetches the page's figures (`fetching()`), then draws them (`render(data)`), saying both to
 * screen readers; the footer tells when. */
export function refresh(fetching, render) {
  $("announce").textContent = t("loading");
  return fetching().then((data) => {
    $("board-error").hidden = true;
    render(data);
    $("updated").textContent = t("updated", new Intl.DateTimeFormat(lang, { timeStyle: "short" }).format(new Date()));
    $("announce").textContent = t("loaded");
    return data;
  });
}

// ---- sign-in and sign-out: the form #signin, the board #board, the button #signout ----
/** The page's session, kept in this tab only (sessionStorage, under `store`): `load()` reads
 * the figures with the page's credentials, `shown()` runs once the board is in view, `forget()`
 * drops the credentials, `secret` and `first` are the ids of the secret's input and of the
 * first input to fill. */
export function session({ store, load, shown, forget, secret, first }) {
  function signIn(kept) {
    const button = $("signin").querySelector("button");
    button.disabled = true;
    $("signin-error").hidden = true;
    return load().then(() => {
      try { sessionStorage.setItem(store, kept); } catch { /* private mode */ }
      showBoard(true);
      shown();
      $("title").focus();
    }, (error) => {
      forget();
      showError("signin-error", error);
    }).then(() => { button.disabled = false; });
  }
  function signOut() {
    try { sessionStorage.removeItem(store); } catch { /* nothing kept */ }
    forget();
    showBoard(false);
    $(secret).value = "";
    $(first).focus();
  }
  function saved() {
    try { return sessionStorage.getItem(store); } catch { return null; }
  }
  return { signIn, signOut, saved };
}

function showBoard(shown) {
  $("signin").hidden = shown;
  $("board").hidden = !shown;
  $("signout").hidden = !shown;
}

/** The toolbar and the window: sign-in (`signIn()`), sign-out, refresh (`reload()`), the dates
 * (put in `dates.from` and `dates.to`, then reloaded), and a redraw (`resized()`) once the window
 * has stopped changing size. */
export function wire({ signIn, signOut, reload, dates, resized }) {
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn();
  });
  $("signout").addEventListener("click", signOut);
  $("refresh").addEventListener("click", reload);
  $("range").addEventListener("submit", (event) => {
    event.preventDefault();
    dates.from = $("from").value || null;
    dates.to = $("to").value || null;
    reload();
  });
  let timer;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(resized, 150);
  });
}
