// The dashboard's Fans view: the creator's fan list (GET /v1/campaigns/{id}/referrers, a page at
// a time with its cursor; searched by name or code over the pages loaded), with hide/show and
// rename (PATCH …/referrers/{code}), erasure behind a confirmation (DELETE …/referrers/{code}) and
// one fan's export as a JSON file (GET …/referrers/{code}/export). Imported by pages/dashboard.js.
import { $, el, fill, moneyMap, num, request, t, th } from "./common.js";

export const FANS_STRINGS = {
  en: {
    fansTitle: "Your fans", fanSearch: "Search by name or code", fansMore: "Load more fans",
    fansDesc: "Everyone who took a link, with what their link brought. Hide a fan to take them off the public leaderboard and the widget; they keep counting.",
    noFans: "No fan yet: fans get their link from the widget on your page.", noMatch: "No fan matches “{0}”.",
    fanEmail: "E-mail", fanDepth: "Level", fanFigures: "Clicks · pledges", fanAmount: "Brought", fanActions: "Actions",
    hiddenTag: "Hidden", erasedTag: "Erased", tagLabel: "Platform tag {0}",
    hide: "Hide", showFan: "Show", rename: "Rename", erase: "Erase", exportFan: "Export",
    hideFor: "Hide {0}", showFor: "Show {0}", renameFor: "Rename {0}", eraseFor: "Erase {0}", exportFor: "Export {0}'s data",
    newName: "New name for {0}", saveName: "Save", cancel: "Cancel",
    eraseConfirm: "Erase {0}'s data? Their name and e-mail are removed from every table, for good. Their link keeps working and their figures stay in the totals; they show as “erased”.",
    hiddenDone: "{0} is hidden.", shownDone: "{0} is shown again.", renamedDone: "Renamed to {0}.", erasedDone: "{0}'s data is erased."
  },
  fr: {
    fansTitle: "Vos fans", fanSearch: "Chercher par nom ou code", fansMore: "Charger plus de fans",
    fansDesc: "Tous ceux qui ont pris un lien, avec ce que leur lien a apporté. Masquez un fan pour le retirer du classement public et du widget ; il continue de compter.",
    noFans: "Pas encore de fan : les fans prennent leur lien dans le widget de votre page.", noMatch: "Aucun fan ne correspond à « {0} ».",
    fanEmail: "E-mail", fanDepth: "Niveau", fanFigures: "Clics · contributions", fanAmount: "Apporté", fanActions: "Actions",
    hiddenTag: "Masqué", erasedTag: "Effacé", tagLabel: "Étiquette de plateforme {0}",
    hide: "Masquer", showFan: "Afficher", rename: "Renommer", erase: "Effacer", exportFan: "Exporter",
    hideFor: "Masquer {0}", showFor: "Afficher {0}", renameFor: "Renommer {0}", eraseFor: "Effacer {0}", exportFor: "Exporter les données de {0}",
    newName: "Nouveau nom pour {0}", saveName: "Enregistrer", cancel: "Annuler",
    eraseConfirm: "Effacer les données de {0} ? Son nom et son e-mail sont retirés de toutes les tables, définitivement. Son lien continue de marcher et ses chiffres restent dans les totaux ; il apparaît comme « effacé ».",
    hiddenDone: "{0} est masqué.", shownDone: "{0} est de nouveau affiché.", renamedDone: "Renommé en {0}.", erasedDone: "Les données de {0} sont effacées."
  },
  es: {
    fansTitle: "Tus fans", fanSearch: "Buscar por nombre o código", fansMore: "Cargar más fans",
    fansDesc: "Todos los que tomaron un enlace, con lo que trajo su enlace. Oculta a un fan para quitarlo de la clasificación pública y del widget; sigue contando.",
    noFans: "Aún no hay fans: los fans obtienen su enlace en el widget de tu página.", noMatch: "Ningún fan coincide con «{0}».",
    fanEmail: "Correo", fanDepth: "Nivel", fanFigures: "Clics · aportes", fanAmount: "Aportado", fanActions: "Acciones",
    hiddenTag: "Oculto", erasedTag: "Borrado", tagLabel: "Etiqueta de plataforma {0}",
    hide: "Ocultar", showFan: "Mostrar", rename: "Renombrar", erase: "Borrar", exportFan: "Exportar",
    hideFor: "Ocultar a {0}", showFor: "Mostrar a {0}", renameFor: "Renombrar a {0}", eraseFor: "Borrar a {0}", exportFor: "Exportar los datos de {0}",
    newName: "Nombre nuevo para {0}", saveName: "Guardar", cancel: "Cancelar",
    eraseConfirm: "¿Borrar los datos de {0}? Su nombre y su correo se quitan de todas las tablas, para siempre. Su enlace sigue funcionando y sus cifras siguen en los totales; aparece como «borrado».",
    hiddenDone: "{0} está oculto.", shownDone: "{0} se muestra de nuevo.", renamedDone: "Renombrado a {0}.", erasedDone: "Los datos de {0} están borrados."
  }
};

let ctx = null; // {id(), key(), announce(text), error(error), saveFile(blob, name), currency()}
const list = { fans: [], cursor: null, loaded: false };

function path(code) {
  return "/v1/campaigns/" + encodeURIComponent(ctx.id()) + "/referrers" + (code ? "/" + encodeURIComponent(code) : "");
}
function who(fan) { return fan.name || fan.code; }

/** The fans loaded so far, by code (the rewards list reads their e-mails here). */
export function fanByCode() {
  const found = {};
  list.fans.forEach(function (fan) { found[fan.code] = fan; });
  return found;
}

/** Loads every page of the fan list (again), then draws it. */
export function loadFans(all) {
  list.fans = [];
  list.cursor = null;
  return more(all).then(function () { list.loaded = true; });
}
function more(all) {
  return request(path() + (list.cursor ? "?cursor=" + encodeURIComponent(list.cursor) : ""), ctx.key()).then(function (page) {
    list.fans = list.fans.concat(page.referrers || []);
    list.cursor = page.cursor || null;
    render();
    if (all && list.cursor) return more(all);
  });
}

function render() {
  const wanted = $("fan-search").value.trim().toLowerCase();
  const shown = list.fans.filter(function (fan) {
    return !wanted || (fan.name || "").toLowerCase().indexOf(wanted) >= 0 || fan.code.toLowerCase().indexOf(wanted) >= 0;
  });
  $("fans-more").hidden = !list.cursor;
  if (!list.fans.length) return fill("fans", el("p", { "class": "empty", text: t("noFans") }));
  if (!shown.length) return fill("fans", el("p", { "class": "empty", text: t("noMatch", wanted) }));
  fill("fans", el("table", null,
    el("thead", null, el("tr", null, th(t("fan")), th(t("fanEmail")), th(t("fanDepth"), "num"), th(t("fanFigures"), "num"),
      th(t("fanAmount"), "num"), th(t("fanActions")))),
    el("tbody", null, shown.map(row))));
}

function row(fan) {
  const name = who(fan), tags = [];
  if (fan.hidden) tags.push(el("span", { "class": "pill muted", text: t("hiddenTag") }));
  if (fan.erased) tags.push(el("span", { "class": "pill muted", text: t("erasedTag") }));
  if (fan.platform_tag) tags.push(el("span", { "class": "pill", title: t("tagLabel", fan.platform_tag), text: fan.platform_tag }));
  return el("tr", { "data-fan": fan.code },
    el("td", null, el("div", { "class": "who" }, el("div", null, el("div", { "class": "name", "data-k": "name", text: name }),
      el("div", { "class": "by" }, fan.code, " ", tags)))),
    el("td", { "data-k": "email" }, fan.email ? el("a", { href: "mailto:" + fan.email, text: fan.email }) : "–"),
    el("td", { "class": "num", text: num(fan.depth) }),
    el("td", { "class": "num", text: num(fan.clicks) + " · " + num(fan.pledges) }),
    el("td", { "class": "num", text: moneyMap(fan.amount, ctx.currency()) }),
    el("td", null, el("div", { "class": "row-buttons" },
      el("button", { type: "button", "class": "btn small", text: fan.hidden ? t("showFan") : t("hide"),
        "aria-label": t(fan.hidden ? "showFor" : "hideFor", name), onclick: function () { moderate(fan, { hidden: !fan.hidden }); } }),
      fan.erased ? null : el("button", { type: "button", "class": "btn small", text: t("rename"), "aria-label": t("renameFor", name),
        onclick: function (event) { renameForm(fan, event.currentTarget); } }),
      el("button", { type: "button", "class": "btn small", text: t("exportFan"), "aria-label": t("exportFor", name),
        onclick: function () { exportFan(fan); } }),
      fan.erased ? null : el("button", { type: "button", "class": "btn small danger", text: t("erase"), "aria-label": t("eraseFor", name),
        onclick: function () { erase(fan); } }))));
}

function replaceFan(changed) {
  list.fans = list.fans.map(function (fan) { return fan.code === changed.code ? changed : fan; });
  render();
}

function moderate(fan, body) {
  return request(path(fan.code), ctx.key(), { method: "PATCH", body: body }).then(function (changed) {
    replaceFan(changed);
    if ("hidden" in body) ctx.announce(t(changed.hidden ? "hiddenDone" : "shownDone", who(changed)));
    else ctx.announce(t("renamedDone", who(changed)));
    const again = document.querySelector('[data-fan="' + changed.code + '"] button');
    if (again) again.focus();
    return changed;
  }, ctx.error);
}

function renameForm(fan, button) {
  const cell = button.parentNode, id = "rename-" + fan.code;
  const input = el("input", { type: "text", id: id, maxlength: 60, value: fan.name || "" });
  const form = el("form", { "class": "rename", onsubmit: function (event) {
    event.preventDefault();
    moderate(fan, { name: input.value.trim() });
  } }, el("label", { "for": id, "class": "sr-only", text: t("newName", who(fan)) }), input,
  el("button", { type: "submit", "class": "btn small primary", text: t("saveName") }),
  el("button", { type: "button", "class": "btn small", text: t("cancel"), onclick: render }));
  cell.replaceWith(form);
  input.focus();
}

function erase(fan) {
  if (!confirm(t("eraseConfirm", who(fan)))) return;
  const name = who(fan);
  request(path(fan.code), ctx.key(), { method: "DELETE" }).then(function () {
    ctx.announce(t("erasedDone", name));
    return request(path(fan.code) + "/export", ctx.key());
  }).then(function (data) {
    replaceFan(Object.assign({}, fan, data.referrer, { erased: true }));
  }, ctx.error);
}

function exportFan(fan) {
  request(path(fan.code) + "/export", ctx.key(), { blob: true }).then(function (blob) {
    ctx.saveFile(blob, "relais-" + ctx.id() + "-" + fan.code + ".json");
  }, ctx.error);
}

/** Forgets the fans loaded (at sign-out). */
export function resetFans() {
  list.fans = [];
  list.cursor = null;
  list.loaded = false;
  fill("fans");
}

/** Whether the list was loaded once. */
export function fansLoaded() { return list.loaded; }

/** Wires the view once. */
export function fansView(context) {
  ctx = context;
  $("fan-search").addEventListener("input", render);
  $("fans-more").addEventListener("click", function () { more(false).catch(ctx.error); });
}
