// The dashboard's Imports view: what a crowdfunding platform's reports say, brought into the
// figures (contract: "Pledges from crowdfunding platforms"). The creator picks the kind (the
// referral report's totals per tag, or one row per pledge) and the format, pastes the CSV or
// chooses a file, runs a dry run (nothing moves: rows, changes, errors by line), then applies
// it. An import is a background job: POST …/imports answers 202, then GET …/imports/{id} is
// polled for its progress. A file of up to 5 MB goes in the request's body; a larger one
// through an upload (POST …/imports/uploads, then PUT to its presigned URL). The history
// (GET …/imports) is below. Imported by pages/dashboard.js.
import { $, el, explain, fill, lang, money, num, plural, request, t, th } from "./common.js";

export const IMPORTS_STRINGS = {
  en: {
    viewImports: "Imports", impTitle: "Import from your platform",
    impDesc: "Bring in what your platform's reports say: the referral report's totals per tag, or an export of its pledges. A dry run shows what would change; nothing moves until you apply.",
    impNoPlatform: "Imports need the campaign's crowdfunding platform: set it in Setup first.", impToSetup: "Open Setup",
    impKind: "What the file holds", kindTagTotals: "Totals per tag (the platform's referral report)",
    kindPledges: "One row per pledge (a pledge export)", impPreset: "Format", presetGeneric: "Generic (Relais's columns)",
    colsTagTotals: "Columns: tag, pledges, amount, currency. Amounts in minor units (2500 is 25.00). Each import of a tag replaces what the last one said.",
    colsPledges: "Columns: pledge_id, amount, currency, status, occurred_at, tag. Amounts in minor units (2500 is 25.00); status confirmed, refunded or cancelled; tag optional (none: a direct pledge).",
    colsPreset: "The file as the platform exports it, unchanged: docs/platforms.md says where to find it.",
    preset_kickstarter_backers: "Kickstarter: backer report", preset_indiegogo_contributions: "Indiegogo: contributions CSV",
    preset_ulule_orders: "Ulule: order export",
    hint_kickstarter_backers: "Kickstarter's backer report (after a successful end) names no referral tag: its pledges count as direct, to reconcile the totals.",
    hint_indiegogo_contributions: "Indiegogo's contributions CSV: its Referrer ID column is the fan's tag.",
    hint_ulule_orders: "Ulule's order export with the order.tracking.source column (the fan's tag); its amounts are in the campaign's goal currency.",
    impFile: "CSV file", impFileHint: "A chosen file is sent rather than pasted text. Up to 100 MB.", impText: "Or paste the CSV",
    impDryRun: "Dry run", impApply: "Apply",
    impEmpty: "Paste the CSV or choose a file first.", impTooBig: "This file is over 100 MB: split it and import each part.",
    impSending: "Sending the file…", impQueued: "Waiting to start…", impReading: "Reading the file…", impRowsOf: "{0} of {1} rows",
    impRunningDry: "Progress of the dry run", impRunning: "Progress of the import",
    impStartedDry: "Dry run started.", impStarted: "Import started.",
    resultDry: "Dry run: what this file would do", resultDryFailed: "Dry run: the file is refused",
    resultDone: "Import done", resultFailed: "Import failed: nothing was applied",
    noteDry: "A dry run changes nothing: apply to import this file.", noteFailed: "Fix the file, then import it again.",
    noteDone: "The figures follow within seconds. The same file again changes nothing.",
    statusDry: "Dry run done: {0}. Would be applied: {1}, unchanged: {2}, errors: {3}. Nothing was changed.",
    statusDone: "Import done: {0}. Applied: {1}, unchanged: {2}, errors: {3}.", statusFailed: "The file is refused: {0}",
    rowsN: "{0} rows", rowsN_one: "{0} row",
    figRows: "Rows", figApplied: "Applied", figWouldApply: "Would be applied", figUnchanged: "Unchanged", figErrors: "Errors",
    figPledges: "Pledges", figAmount: "Amount",
    errorsTitle: "Errors by line", errorsTable: "Errors by line, scrollable", errLine: "Line", errCode: "Code", errMessage: "Message",
    errorsFirst: "The first {0} of {1} errors.",
    historyTitle: "Import history", historyDesc: "The last 100 imports, the newest first.", historyReload: "Refresh the history",
    historyTable: "Import history, scrollable", noImports: "No import yet.",
    colDate: "Date", colKind: "Kind", colFormat: "Format", colStatus: "Status", colRows: "Rows", colApplied: "Applied",
    colUnchanged: "Unchanged", colErrors: "Errors", colChanges: "Changes",
    kind_tag_totals: "Tag totals", kind_pledges: "Pledges",
    status_queued: "Queued", status_running: "Running", status_done: "Done", status_failed: "Failed", dryRunTag: "Dry run",
    showImport: "Show", colDetails: "Details", showImportFor: "Show the import of {0}", noChange: "No change",
    platformRequired: "Imports need the campaign's crowdfunding platform: set it in Setup first.",
    impRefused: "The import is refused: {0}", uploadFailed: "The file could not be sent to storage ({0})."
  },
  fr: {
    viewImports: "Imports", impTitle: "Importer depuis votre plateforme",
    impDesc: "Faites entrer ce que disent les rapports de votre plateforme : les totaux par étiquette de son rapport de parrainage, ou un export de ses contributions. Un essai montre ce qui changerait ; rien ne bouge avant d'appliquer.",
    impNoPlatform: "Les imports demandent la plateforme de financement de la campagne : réglez-la d'abord dans Réglages.", impToSetup: "Ouvrir les réglages",
    impKind: "Ce que contient le fichier", kindTagTotals: "Des totaux par étiquette (le rapport de parrainage de la plateforme)",
    kindPledges: "Une ligne par contribution (un export des contributions)", impPreset: "Format", presetGeneric: "Générique (les colonnes de Relais)",
    colsTagTotals: "Colonnes : tag, pledges, amount, currency. Montants en centimes (2500 vaut 25,00). Chaque import d'une étiquette remplace ce que disait le précédent.",
    colsPledges: "Colonnes : pledge_id, amount, currency, status, occurred_at, tag. Montants en centimes (2500 vaut 25,00) ; status confirmed, refunded ou cancelled ; tag facultatif (sans : une contribution directe).",
    colsPreset: "Le fichier tel que la plateforme l'exporte, sans le modifier : docs/platforms.md dit où le trouver.",
    preset_kickstarter_backers: "Kickstarter : rapport des contributeurs", preset_indiegogo_contributions: "Indiegogo : CSV des contributions",
    preset_ulule_orders: "Ulule : export des commandes",
    hint_kickstarter_backers: "Le rapport des contributeurs de Kickstarter (après une réussite) ne nomme aucune étiquette : ses contributions comptent comme directes, pour rapprocher les totaux.",
    hint_indiegogo_contributions: "Le CSV des contributions d'Indiegogo : sa colonne Referrer ID est l'étiquette du fan.",
    hint_ulule_orders: "L'export des commandes d'Ulule avec la colonne order.tracking.source (l'étiquette du fan) ; ses montants sont dans la devise de l'objectif de la campagne.",
    impFile: "Fichier CSV", impFileHint: "Un fichier choisi est envoyé plutôt que le texte collé. Jusqu'à 100 Mo.", impText: "Ou collez le CSV",
    impDryRun: "Essai", impApply: "Appliquer",
    impEmpty: "Collez d'abord le CSV ou choisissez un fichier.", impTooBig: "Ce fichier dépasse 100 Mo : coupez-le et importez chaque partie.",
    impSending: "Envoi du fichier…", impQueued: "En attente de démarrage…", impReading: "Lecture du fichier…", impRowsOf: "{0} lignes sur {1}",
    impRunningDry: "Avancement de l'essai", impRunning: "Avancement de l'import",
    impStartedDry: "Essai lancé.", impStarted: "Import lancé.",
    resultDry: "Essai : ce que ferait ce fichier", resultDryFailed: "Essai : le fichier est refusé",
    resultDone: "Import terminé", resultFailed: "Échec de l'import : rien n'a été appliqué",
    noteDry: "Un essai ne change rien : appliquez pour importer ce fichier.", noteFailed: "Corrigez le fichier, puis importez-le de nouveau.",
    noteDone: "Les chiffres suivent en quelques secondes. Le même fichier une seconde fois ne change rien.",
    statusDry: "Essai terminé : {0}. Seraient appliquées : {1}, inchangées : {2}, erreurs : {3}. Rien n'a changé.",
    statusDone: "Import terminé : {0}. Appliquées : {1}, inchangées : {2}, erreurs : {3}.", statusFailed: "Le fichier est refusé : {0}",
    rowsN: "{0} lignes", rowsN_one: "{0} ligne",
    figRows: "Lignes", figApplied: "Appliquées", figWouldApply: "Seraient appliquées", figUnchanged: "Inchangées", figErrors: "Erreurs",
    figPledges: "Contributions", figAmount: "Montant",
    errorsTitle: "Erreurs par ligne", errorsTable: "Erreurs par ligne, défilant", errLine: "Ligne", errCode: "Code", errMessage: "Message",
    errorsFirst: "Les {0} premières erreurs sur {1}.",
    historyTitle: "Historique des imports", historyDesc: "Les 100 derniers imports, du plus récent au plus ancien.", historyReload: "Actualiser l'historique",
    historyTable: "Historique des imports, défilant", noImports: "Aucun import pour l'instant.",
    colDate: "Date", colKind: "Type", colFormat: "Format", colStatus: "État", colRows: "Lignes", colApplied: "Appliquées",
    colUnchanged: "Inchangées", colErrors: "Erreurs", colChanges: "Changements",
    kind_tag_totals: "Totaux par étiquette", kind_pledges: "Contributions",
    status_queued: "En attente", status_running: "En cours", status_done: "Terminé", status_failed: "Échoué", dryRunTag: "Essai",
    showImport: "Voir", colDetails: "Détails", showImportFor: "Voir l'import du {0}", noChange: "Aucun changement",
    platformRequired: "Les imports demandent la plateforme de financement de la campagne : réglez-la d'abord dans Réglages.",
    impRefused: "L'import est refusé : {0}", uploadFailed: "Le fichier n'a pas pu être envoyé au stockage ({0})."
  },
  es: {
    viewImports: "Importaciones", impTitle: "Importar desde tu plataforma",
    impDesc: "Trae lo que dicen los informes de tu plataforma: los totales por etiqueta de su informe de recomendaciones, o una exportación de sus aportes. Una simulación muestra lo que cambiaría; nada se mueve hasta que apliques.",
    impNoPlatform: "Las importaciones necesitan la plataforma de financiación de la campaña: elígela primero en Ajustes.", impToSetup: "Abrir los ajustes",
    impKind: "Qué contiene el archivo", kindTagTotals: "Totales por etiqueta (el informe de recomendaciones de la plataforma)",
    kindPledges: "Una fila por aporte (una exportación de aportes)", impPreset: "Formato", presetGeneric: "Genérico (las columnas de Relais)",
    colsTagTotals: "Columnas: tag, pledges, amount, currency. Importes en céntimos (2500 son 25,00). Cada importación de una etiqueta reemplaza lo que decía la anterior.",
    colsPledges: "Columnas: pledge_id, amount, currency, status, occurred_at, tag. Importes en céntimos (2500 son 25,00); status confirmed, refunded o cancelled; tag opcional (sin ella: un aporte directo).",
    colsPreset: "El archivo tal como lo exporta la plataforma, sin cambios: docs/platforms.md dice dónde encontrarlo.",
    preset_kickstarter_backers: "Kickstarter: informe de patrocinadores", preset_indiegogo_contributions: "Indiegogo: CSV de contribuciones",
    preset_ulule_orders: "Ulule: exportación de pedidos",
    hint_kickstarter_backers: "El informe de patrocinadores de Kickstarter (tras un final exitoso) no nombra ninguna etiqueta: sus aportes cuentan como directos, para cuadrar los totales.",
    hint_indiegogo_contributions: "El CSV de contribuciones de Indiegogo: su columna Referrer ID es la etiqueta del fan.",
    hint_ulule_orders: "La exportación de pedidos de Ulule con la columna order.tracking.source (la etiqueta del fan); sus importes están en la moneda del objetivo de la campaña.",
    impFile: "Archivo CSV", impFileHint: "Se envía el archivo elegido en lugar del texto pegado. Hasta 100 MB.", impText: "O pega el CSV",
    impDryRun: "Simulación", impApply: "Aplicar",
    impEmpty: "Primero pega el CSV o elige un archivo.", impTooBig: "Este archivo supera los 100 MB: divídelo e importa cada parte.",
    impSending: "Enviando el archivo…", impQueued: "Esperando para empezar…", impReading: "Leyendo el archivo…", impRowsOf: "{0} de {1} filas",
    impRunningDry: "Avance de la simulación", impRunning: "Avance de la importación",
    impStartedDry: "Simulación iniciada.", impStarted: "Importación iniciada.",
    resultDry: "Simulación: lo que haría este archivo", resultDryFailed: "Simulación: el archivo se rechaza",
    resultDone: "Importación terminada", resultFailed: "La importación falló: no se aplicó nada",
    noteDry: "Una simulación no cambia nada: aplica para importar este archivo.", noteFailed: "Corrige el archivo y vuelve a importarlo.",
    noteDone: "Las cifras se actualizan en unos segundos. El mismo archivo otra vez no cambia nada.",
    statusDry: "Simulación terminada: {0}. Se aplicarían: {1}, sin cambios: {2}, errores: {3}. No se cambió nada.",
    statusDone: "Importación terminada: {0}. Aplicadas: {1}, sin cambios: {2}, errores: {3}.", statusFailed: "El archivo se rechaza: {0}",
    rowsN: "{0} filas", rowsN_one: "{0} fila",
    figRows: "Filas", figApplied: "Aplicadas", figWouldApply: "Se aplicarían", figUnchanged: "Sin cambios", figErrors: "Errores",
    figPledges: "Aportes", figAmount: "Importe",
    errorsTitle: "Errores por fila", errorsTable: "Errores por fila, desplazable", errLine: "Fila", errCode: "Código", errMessage: "Mensaje",
    errorsFirst: "Los primeros {0} de {1} errores.",
    historyTitle: "Historial de importaciones", historyDesc: "Las últimas 100 importaciones, de la más reciente a la más antigua.",
    historyReload: "Actualizar el historial", historyTable: "Historial de importaciones, desplazable", noImports: "Aún no hay importaciones.",
    colDate: "Fecha", colKind: "Tipo", colFormat: "Formato", colStatus: "Estado", colRows: "Filas", colApplied: "Aplicadas",
    colUnchanged: "Sin cambios", colErrors: "Errores", colChanges: "Cambios",
    kind_tag_totals: "Totales por etiqueta", kind_pledges: "Aportes",
    status_queued: "En espera", status_running: "En curso", status_done: "Terminada", status_failed: "Fallida", dryRunTag: "Simulación",
    showImport: "Ver", colDetails: "Detalles", showImportFor: "Ver la importación del {0}", noChange: "Sin cambios",
    platformRequired: "Las importaciones necesitan la plataforma de financiación de la campaña: elígela primero en Ajustes.",
    impRefused: "La importación se rechaza: {0}", uploadFailed: "No se pudo enviar el archivo al almacenamiento ({0})."
  }
};

/** The formats the API knows besides the generic one, by platform then kind: the names of
 * chalicelib/domain/import_files.py's PRESETS (docs/platforms.md cites each one's source). The
 * page's only list of them (each has its name, `preset_<name>`, and its hint, `hint_<name>`,
 * in the strings above); the browser test checks it against the module. */
export const PRESETS = {
  kickstarter: { pledges: ["kickstarter_backers"] },
  indiegogo: { pledges: ["indiegogo_contributions"] },
  ulule: { pledges: ["ulule_orders"] }
};
const BODY_LIMIT = 5 * 1000 * 1000; // bytes sent in the request's body (the API's limit: 5 MB); more through an upload
const UPLOAD_LIMIT = 100 * 1000 * 1000; // the API's limit for an uploaded file
const POLL_MS = 500;
const RETRIES = 5; // polls in a row that may go unanswered before the page gives up following a job

let ctx = null; // {id(), key(), announce(text), show(view)}
let platform = null; // the campaign's platform name, once read (null: none set)
let session = 0; // bumped at sign-out: a poll of an earlier session stops
let busy = false;

function path(rest) { return "/v1/campaigns/" + encodeURIComponent(ctx.id()) + "/imports" + (rest || ""); }

function kind() { return document.querySelector("input[name=imp-kind]:checked").value; }

/** The presets offered for the campaign's platform and the kind chosen. */
export function presetsFor(name, wanted) {
  return ((PRESETS[name] || {})[wanted] || []).slice();
}

function presetLabel(preset) { return preset ? t("preset_" + preset) : t("presetGeneric"); }

function drawForm() {
  const select = $("imp-preset"), previous = select.value;
  fill("imp-preset", el("option", { value: "", text: t("presetGeneric") }), presetsFor(platform, kind()).map(function (preset) {
    return el("option", { value: preset, text: presetLabel(preset) });
  }));
  if ([...select.options].some(function (option) { return option.value === previous; })) select.value = previous;
  $("imp-columns").textContent = select.value ? t("hint_" + select.value) + " " + t("colsPreset")
    : t(kind() === "pledges" ? "colsPledges" : "colsTagTotals");
}

// ---- the file: pasted text or a chosen file ----
function source() {
  const file = $("imp-file").files[0];
  if (file) return file;
  const text = $("imp-text").value;
  return text.trim() ? new Blob([text], { type: "text/csv" }) : null;
}

function formError(text) {
  const box = $("e-import");
  box.textContent = text || "";
  box.hidden = !text;
  $("imp-text").setAttribute("aria-invalid", text ? "true" : "false");
}

function send(file, query) {
  if (file.size > BODY_LIMIT) return upload(file, query);
  return request(path("?" + query), ctx.key(), { method: "POST", raw: file, type: "text/csv" }).catch(function (error) {
    if (error.status === 413) return upload(file, query);
    throw error;
  });
}

function upload(file, query) {
  return request(path("/uploads"), ctx.key(), { method: "POST" }).then(function (slot) {
    return fetch(slot.url, { method: "PUT", headers: { "Content-Type": "text/csv" }, body: file }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
    }, function (error) { throw new Error(error.message); }).catch(function (error) {
      const failed = new Error(t("uploadFailed", error.message));
      failed.upload = true;
      throw failed;
    }).then(function () {
      return request(path("?" + query + "&upload=" + encodeURIComponent(slot.upload)), ctx.key(), { method: "POST" });
    });
  });
}

// ---- a run: sent, then followed until done or failed ----
function start(dry) {
  if (busy) return;
  const file = source();
  formError(null);
  if (!file) {
    formError(t("impEmpty"));
    $("imp-text").focus();
    return;
  }
  if (file.size > UPLOAD_LIMIT) {
    formError(t("impTooBig"));
    $("imp-file").focus();
    return;
  }
  const fields = new URLSearchParams({ kind: kind() });
  if ($("imp-preset").value) fields.set("preset", $("imp-preset").value);
  if (dry) fields.set("dry_run", "1");
  const mine = session;
  setBusy(true);
  $("imp-result").hidden = true;
  $("imp-run").hidden = false;
  $("imp-progress-label").textContent = t(dry ? "impRunningDry" : "impRunning");
  progress(null, t("impSending"));
  $("imp-run").focus();
  $("imp-status").classList.remove("bad");
  $("imp-status").textContent = t(dry ? "impStartedDry" : "impStarted");
  send(file, fields.toString()).then(function (answer) {
    if (mine !== session) return null;
    loadHistory();
    return follow(answer["import"], mine);
  }).then(function (job) {
    if (!job || mine !== session) return;
    drawProgress(job);
    showResult(job, true);
    loadHistory();
  }, function (error) {
    if (mine !== session) return;
    $("imp-run").hidden = true;
    $("imp-status").textContent = "";
    formError(refusal(error));
    $("imp-text").focus();
  }).then(function () { setBusy(false); });
}

function refusal(error) {
  if (error.upload) return error.message;
  if (error.code === "platform_required") return t("platformRequired");
  if (error.status === 400 || error.status === 413) return t("impRefused", error.message);
  return explain(error);
}

function setBusy(on) {
  busy = on;
  $("imp-dry").disabled = $("imp-apply").disabled = on;
}

/** The job polled until it is done or failed; its progress drawn meanwhile. A poll that
 * fails for want of an answer (the network, a busy API) is tried again, a few times. */
function follow(id, mine) {
  let misses = 0;
  return new Promise(function (resolve, reject) {
    function poll() {
      if (mine !== session) return resolve(null);
      request(path("/" + encodeURIComponent(id)), ctx.key()).then(function (job) {
        misses = 0;
        if (job.status === "done" || job.status === "failed") return resolve(job);
        drawProgress(job);
        setTimeout(poll, POLL_MS);
      }, function (error) {
        if ((error.status && error.status < 500) || ++misses > RETRIES) return reject(error);
        setTimeout(poll, POLL_MS * 2 * misses);
      });
    }
    poll();
  });
}

/** The job's progress: rows done of rows, then, once it has ended, how it ended. */
function drawProgress(job) {
  const ended = job.status === "done" || job.status === "failed";
  if (job.status === "queued") return progress(null, t("impQueued"));
  if (!job.rows) return ended ? progress(0, t("status_" + job.status), 1) : progress(null, t("impReading"));
  const done = job.rows_done || 0;
  const text = t("impRowsOf", num(done), num(job.rows));
  progress(done, ended ? text + " · " + t("status_" + job.status) : text, job.rows);
}

/** The progress bar: `done` of `max`, or indeterminate (`done` null). */
function progress(done, text, max) {
  const bar = $("imp-progress");
  if (done == null) bar.removeAttribute("value");
  else {
    bar.max = Math.max(1, max);
    bar.value = done;
  }
  $("imp-progress-text").textContent = text;
  bar.setAttribute("aria-valuetext", text);
}

// ---- a result: figures, changes, errors by line ----
function signed(text, value) { return (value > 0 ? "+" : "") + text; }

function changesText(changes) {
  const parts = [];
  const pledges = (changes && changes.pledges) || 0;
  const amounts = (changes && changes.amount) || {};
  if (pledges) parts.push(signed(plural("pledgesN", pledges), pledges));
  Object.keys(amounts).sort().forEach(function (cur) {
    if (amounts[cur]) parts.push(signed(money(amounts[cur], cur), amounts[cur]));
  });
  return parts.length ? parts.join(" · ") : t("noChange");
}

function amountText(amounts) {
  const keys = Object.keys(amounts || {}).filter(function (cur) { return amounts[cur]; }).sort();
  return keys.length ? keys.map(function (cur) { return signed(money(amounts[cur], cur), amounts[cur]); }).join(" · ") : "–";
}

function figure(key, value, name) {
  return el("div", null, el("dt", { text: t(key) }), el("dd", { "data-k": name, text: value }));
}

function showResult(job, announce) {
  const failed = job.status === "failed", dry = !!job.dry_run;
  const changes = job.changes || {};
  $("imp-result").hidden = false;
  $("imp-result").dataset.status = job.status;
  $("imp-result-title").textContent = t(dry ? (failed ? "resultDryFailed" : "resultDry") : (failed ? "resultFailed" : "resultDone"));
  fill("imp-figures",
    figure("figRows", num(job.rows), "rows"),
    figure(dry ? "figWouldApply" : "figApplied", num(job.applied), "applied"),
    figure("figUnchanged", num(job.unchanged), "unchanged"),
    figure("figErrors", num(job.errors_count), "errors"),
    figure("figPledges", signed(num(changes.pledges || 0), changes.pledges || 0), "pledges"),
    figure("figAmount", amountText(changes.amount), "amount"));
  $("imp-note").textContent = t(failed ? "noteFailed" : dry ? "noteDry" : "noteDone");
  drawErrors(job.errors || [], job.errors_count || 0);
  if (!announce) return;
  const first = (job.errors || [])[0];
  $("imp-status").classList.toggle("bad", failed);
  $("imp-status").textContent = failed ? t("statusFailed", first ? first.message : job.status)
    : t(dry ? "statusDry" : "statusDone", plural("rowsN", job.rows), num(job.applied), num(job.unchanged), num(job.errors_count));
  $("imp-result-title").focus();
}

function drawErrors(errors, count) {
  if (!errors.length) return fill("imp-errors");
  fill("imp-errors", el("h4", { id: "imp-errors-title", text: t("errorsTitle") }),
    count > errors.length ? el("p", { "class": "hint", text: t("errorsFirst", num(errors.length), num(count)) }) : null,
    scrolling("errorsTable", el("table", { "aria-labelledby": "imp-errors-title" },
      el("thead", null, el("tr", null, th(t("errLine"), "num"), th(t("errCode")), th(t("errMessage")))),
      el("tbody", null, errors.map(function (error) {
        return el("tr", { "data-line": error.line },
          el("td", { "class": "num", text: error.line == null ? "–" : num(error.line) }),
          el("td", null, el("code", { text: error.code })),
          el("td", { text: error.message }));
      })))));
}

/** A table in a box that scrolls sideways on a phone: a named region that keys can scroll too. */
function scrolling(label, table) {
  return el("div", { "class": "table-wrap", role: "region", tabindex: "0", "aria-label": t(label) }, table);
}

// ---- the history ----
function stamp(iso) {
  return iso ? new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) : "–";
}

function loadHistory() {
  const mine = session;
  return request(path(), ctx.key()).then(function (answer) {
    if (mine === session) drawHistory(answer.imports || []);
  }, function (error) {
    if (mine === session) fill("imp-history", el("p", { "class": "error", role: "alert", text: explain(error) }));
  });
}

function drawHistory(jobs) {
  if (!jobs.length) return fill("imp-history", el("p", { "class": "empty", text: t("noImports") }));
  fill("imp-history", scrolling("historyTable", el("table", { "aria-labelledby": "imp-history-title" },
    el("thead", null, el("tr", null, th(t("colDate")), th(t("colKind")), th(t("colFormat")), th(t("colStatus")),
      th(t("colRows"), "num"), th(t("colApplied"), "num"), th(t("colUnchanged"), "num"), th(t("colErrors"), "num"),
      th(t("colChanges")), el("th", { scope: "col" }, el("span", { "class": "sr-only", text: t("colDetails") })))),
    el("tbody", null, jobs.map(function (job) {
      const when = stamp(job.created_at);
      return el("tr", { "data-import": job["import"] },
        el("td", { "data-k": "date", text: when }),
        el("td", { "data-k": "kind", text: t("kind_" + job.kind) }),
        el("td", { "data-k": "preset", text: presetLabel(job.preset) }),
        el("td", { "data-k": "status" }, el("span", { "class": "pill status-" + job.status, text: t("status_" + job.status) }),
          job.dry_run ? [" ", el("span", { "class": "pill muted", text: t("dryRunTag") })] : null),
        el("td", { "class": "num", "data-k": "rows", text: job.rows == null ? "–" : num(job.rows) }),
        el("td", { "class": "num", "data-k": "applied", text: num(job.applied) }),
        el("td", { "class": "num", "data-k": "unchanged", text: num(job.unchanged) }),
        el("td", { "class": "num", "data-k": "errors", text: num(job.errors_count) }),
        el("td", { "data-k": "changes", text: changesText(job.changes) }),
        el("td", null, el("button", { type: "button", "class": "btn small", text: t("showImport"), "aria-label": t("showImportFor", when),
          onclick: function () { showJob(job["import"]); } })));
    })))));
}

function showJob(id) {
  request(path("/" + encodeURIComponent(id)), ctx.key()).then(function (job) {
    if (!busy) {
      $("imp-run").hidden = true;
      $("imp-status").textContent = "";
    }
    showResult(job, false);
    $("imp-result-title").focus();
  }, function (error) { formError(explain(error)); });
}

// ---- the view ----
function drawPlatform(campaign) {
  platform = campaign && campaign.platform ? campaign.platform.name : null;
  $("imp-noplatform").hidden = !!platform;
  $("import-form").hidden = !platform;
  drawForm();
}

/** Reads the campaign (its platform decides the formats offered) and the history. */
export function open() {
  const mine = session;
  const campaign = request("/v1/campaigns/" + encodeURIComponent(ctx.id()), ctx.key()).then(function (answer) {
    if (mine === session) drawPlatform(answer.campaign);
  }, function (error) { formError(explain(error)); });
  return Promise.all([campaign, loadHistory()]);
}

/** The campaign was saved in Setup: its platform may have changed. */
export function campaignChanged(campaign) {
  if (ctx) drawPlatform(campaign);
}

/** Forgets everything (at sign-out): a poll under way stops. */
export function reset() {
  session += 1;
  platform = null;
  setBusy(false);
  $("imp-text").value = "";
  $("imp-file").value = "";
  $("imp-run").hidden = $("imp-result").hidden = true;
  $("imp-status").textContent = "";
  formError(null);
  fill("imp-history");
}

/** Wires the view once. */
export function importsView(context) {
  ctx = context;
  $("import-form").addEventListener("submit", function (event) {
    event.preventDefault();
    start(true);
  });
  $("imp-apply").addEventListener("click", function () { start(false); });
  document.querySelectorAll("input[name=imp-kind]").forEach(function (radio) { radio.addEventListener("change", drawForm); });
  $("imp-preset").addEventListener("change", drawForm);
  $("imp-reload").addEventListener("click", loadHistory);
  $("imp-to-setup").addEventListener("click", function () { ctx.show("setup"); });
  drawForm();
}
