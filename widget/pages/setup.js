// The dashboard's Setup view: the campaign's settings over PATCH /v1/campaigns/{id}, saved all at
// once (one PATCH of the fields that changed, conditional on the version read: If-Match), each
// field checked as the API checks it and the API's own error shown beside its field; the embed
// snippet; the key's rotation (POST …/keys: the new key shown once). Imported by pages/dashboard.js.
import { $, digits, el, fill, request, t } from "./common.js";

export const SETUP_STRINGS = {
  en: {
    viewStats: "Figures", viewFans: "Fans", viewSetup: "Setup", views: "Views",
    setupTitle: "Campaign setup", setupDesc: "Saved all at once: nothing is changed until you press Save.",
    fName: "Name", fTarget: "Campaign page (where pledges are made)", fGoal: "Goal", fCurrency: "Currency",
    fEnds: "Ends at", fLocale: "Widget language", fChannels: "Share buttons", fShareText: "Share text",
    fModel: "Attribution", lastClick: "Last click", firstClick: "First click", fWindow: "Attribution window (days)",
    fLeaderboard: "Leaderboard", lbOff: "Off", lbPseudo: "Pseudonyms (Fan #1234)", lbPublic: "Public (names)",
    fPublicStats: "Anyone may read the stats (names hidden)", fOrigins: "Sites allowed to show the widget (one per line)",
    originsHint: "https://your-site.example, without a path; http only for localhost or 127.0.0.1.",
    fMilestones: "Community milestones", milestonesHelp: "Amounts raised through fans' links, in the goal's currency.",
    addMilestone: "Add a milestone", fRewards: "Fan rewards",
    rewardsHelp: "A fan unlocks a reward when that many pledges came through their link. Some platforms forbid rewarding referrals: leave this empty then.",
    addReward: "Add a reward", integrations: "Webhooks and Stripe", fWebhook: "Webhook URL (empty: none)",
    fStripe: "Stripe webhook signing secret", stripeSet: "A secret is set: it is never shown. Type a new one to replace it.",
    stripeUnset: "None set.", save: "Save", saved: "Saved.", nothingChanged: "Nothing to save: no field changed.",
    conflict: "The campaign changed elsewhere since you opened it: reload to see the changes, then make yours again.",
    reload: "Reload", fixFields: "Check the fields marked in red.",
    amount: "Amount", label: "Label", pledgesNeeded: "Pledges", remove: "Remove", removeRow: "Remove row {0}",
    embedTitle: "Put the widget on your page", embedDesc: "Paste this line where the widget should appear, on a site allowed above.",
    copySnippet: "Copy the snippet", copied: "Copied!", testIt: "Test it on your page",
    keyTitle: "Campaign key", rotate: "Make a new key",
    keyDesc: "A new key replaces this one at once: anything still using the old key (your server's pledge calls, other tabs) stops working.",
    rotateConfirm: "Make a new key? The current key stops working at once, here and wherever it is used.",
    newKey: "Your new key, shown this once: copy it now and keep it safe. This tab now uses it; the old key no longer works.",
    webhookSecret: "The webhook signing secret, shown this once: copy it now to check the Relais-Signature header.",
    vRequired: "Required.", vTooLong: "At most {0} characters.", vNumber: "A whole number from {0} to {1}.",
    vAmount: "An amount of at least {0}.", vCurrency: "A three-letter currency code, such as EUR.",
    vChannels: "Pick at least one.", vOrigins: "One to 20 sites.", vUrl: "A full address starting with https://.",
    vStripe: "A Stripe signing secret starts with whsec_.", vRows: "Every row needs an amount and a label.",
    vSamePledges: "Two rewards cannot need the same number of pledges.", vTooMany: "At most 20.",
    fPlatform: "Crowdfunding platform", fPlatformName: "Platform", platformNone: "None: your server reports the pledges", platformOther: "Other",
    platformHelp: "Pledges made on a hosted platform never reach Relais: each fan's clicks then land there with a tag of their own, which the platform's referral report counts.",
    fTagParam: "Tag parameter", tagParamHint: "The query parameter the platform's referral report reads: ref on Kickstarter and Goteo; for the others, ask the platform.",
    fTagPer: "One tag per", tagPerFan: "Fan", tagPerChannel: "Fan and channel",
    vTagParamRequired: "Required for this platform: no public source says which parameter it reads.",
    vTagParam: "1 to 40 letters, digits, _, . or -, not starting with . or -."
  },
  fr: {
    viewStats: "Chiffres", viewFans: "Fans", viewSetup: "Réglages", views: "Vues",
    setupTitle: "Réglages de la campagne", setupDesc: "Tout est enregistré d'un coup : rien ne change avant Enregistrer.",
    fName: "Nom", fTarget: "Page de la campagne (où l'on contribue)", fGoal: "Objectif", fCurrency: "Devise",
    fEnds: "Fin", fLocale: "Langue du widget", fChannels: "Boutons de partage", fShareText: "Texte de partage",
    fModel: "Attribution", lastClick: "Dernier clic", firstClick: "Premier clic", fWindow: "Fenêtre d'attribution (jours)",
    fLeaderboard: "Classement", lbOff: "Aucun", lbPseudo: "Pseudonymes (Fan #1234)", lbPublic: "Public (noms)",
    fPublicStats: "Tout le monde peut lire les statistiques (noms masqués)", fOrigins: "Sites autorisés à afficher le widget (un par ligne)",
    originsHint: "https://votre-site.example, sans chemin ; http seulement pour localhost ou 127.0.0.1.",
    fMilestones: "Paliers de la communauté", milestonesHelp: "Montants apportés par les liens des fans, dans la devise de l'objectif.",
    addMilestone: "Ajouter un palier", fRewards: "Récompenses des fans",
    rewardsHelp: "Un fan débloque une récompense quand autant de contributions sont venues par son lien. Certaines plateformes interdisent de récompenser le parrainage : laissez vide alors.",
    addReward: "Ajouter une récompense", integrations: "Webhooks et Stripe", fWebhook: "URL du webhook (vide : aucun)",
    fStripe: "Secret de signature du webhook Stripe", stripeSet: "Un secret est enregistré : il n'est jamais affiché. Tapez-en un nouveau pour le remplacer.",
    stripeUnset: "Aucun.", save: "Enregistrer", saved: "Enregistré.", nothingChanged: "Rien à enregistrer : aucun champ n'a changé.",
    conflict: "La campagne a changé ailleurs depuis que vous l'avez ouverte : rechargez pour voir les changements, puis refaites les vôtres.",
    reload: "Recharger", fixFields: "Vérifiez les champs marqués en rouge.",
    amount: "Montant", label: "Libellé", pledgesNeeded: "Contributions", remove: "Retirer", removeRow: "Retirer la ligne {0}",
    embedTitle: "Mettre le widget sur votre page", embedDesc: "Collez cette ligne là où le widget doit apparaître, sur un site autorisé ci-dessus.",
    copySnippet: "Copier le code", copied: "Copié !", testIt: "L'essayer sur votre page",
    keyTitle: "Clé de la campagne", rotate: "Créer une nouvelle clé",
    keyDesc: "Une nouvelle clé remplace celle-ci aussitôt : ce qui utilise encore l'ancienne (les appels de votre serveur, d'autres onglets) cesse de marcher.",
    rotateConfirm: "Créer une nouvelle clé ? La clé actuelle cesse aussitôt de marcher, ici et partout où elle sert.",
    newKey: "Votre nouvelle clé, affichée cette seule fois : copiez-la maintenant et gardez-la en lieu sûr. Cet onglet l'utilise déjà ; l'ancienne ne marche plus.",
    webhookSecret: "Le secret de signature du webhook, affiché cette seule fois : copiez-le pour vérifier l'en-tête Relais-Signature.",
    vRequired: "Obligatoire.", vTooLong: "{0} caractères au plus.", vNumber: "Un nombre entier de {0} à {1}.",
    vAmount: "Un montant d'au moins {0}.", vCurrency: "Un code de devise de trois lettres, comme EUR.",
    vChannels: "Choisissez-en au moins un.", vOrigins: "De 1 à 20 sites.", vUrl: "Une adresse complète commençant par https://.",
    vStripe: "Un secret de signature Stripe commence par whsec_.", vRows: "Chaque ligne demande un montant et un libellé.",
    vSamePledges: "Deux récompenses ne peuvent pas demander le même nombre de contributions.", vTooMany: "20 au plus.",
    fPlatform: "Plateforme de financement", fPlatformName: "Plateforme", platformNone: "Aucune : votre serveur signale les contributions", platformOther: "Autre",
    platformHelp: "Les contributions faites sur une plateforme n'arrivent jamais à Relais : les clics de chaque fan y arrivent alors avec une étiquette à lui, que le rapport de parrainage de la plateforme compte.",
    fTagParam: "Paramètre de l'étiquette", tagParamHint: "Le paramètre d'URL que lit le rapport de parrainage de la plateforme : ref sur Kickstarter et Goteo ; pour les autres, demandez à la plateforme.",
    fTagPer: "Une étiquette par", tagPerFan: "Fan", tagPerChannel: "Fan et canal",
    vTagParamRequired: "Obligatoire pour cette plateforme : aucune source publique ne dit quel paramètre elle lit.",
    vTagParam: "De 1 à 40 lettres, chiffres, _, . ou -, sans commencer par . ou -."
  },
  es: {
    viewStats: "Cifras", viewFans: "Fans", viewSetup: "Ajustes", views: "Vistas",
    setupTitle: "Ajustes de la campaña", setupDesc: "Todo se guarda de una vez: nada cambia hasta que pulses Guardar.",
    fName: "Nombre", fTarget: "Página de la campaña (donde se aporta)", fGoal: "Objetivo", fCurrency: "Moneda",
    fEnds: "Termina el", fLocale: "Idioma del widget", fChannels: "Botones para compartir", fShareText: "Texto para compartir",
    fModel: "Atribución", lastClick: "Último clic", firstClick: "Primer clic", fWindow: "Ventana de atribución (días)",
    fLeaderboard: "Clasificación", lbOff: "Ninguna", lbPseudo: "Seudónimos (Fan #1234)", lbPublic: "Pública (nombres)",
    fPublicStats: "Cualquiera puede leer las estadísticas (nombres ocultos)", fOrigins: "Sitios que pueden mostrar el widget (uno por línea)",
    originsHint: "https://tu-sitio.example, sin ruta; http solo para localhost o 127.0.0.1.",
    fMilestones: "Metas de la comunidad", milestonesHelp: "Importes aportados por los enlaces de los fans, en la moneda del objetivo.",
    addMilestone: "Añadir una meta", fRewards: "Recompensas de los fans",
    rewardsHelp: "Un fan desbloquea una recompensa cuando llegan tantos aportes por su enlace. Algunas plataformas prohíben recompensar las recomendaciones: entonces déjalo vacío.",
    addReward: "Añadir una recompensa", integrations: "Webhooks y Stripe", fWebhook: "URL del webhook (vacío: ninguno)",
    fStripe: "Secreto de firma del webhook de Stripe", stripeSet: "Hay un secreto guardado: nunca se muestra. Escribe uno nuevo para reemplazarlo.",
    stripeUnset: "Ninguno.", save: "Guardar", saved: "Guardado.", nothingChanged: "Nada que guardar: ningún campo cambió.",
    conflict: "La campaña cambió en otro lugar desde que la abriste: recarga para ver los cambios y vuelve a hacer los tuyos.",
    reload: "Recargar", fixFields: "Revisa los campos marcados en rojo.",
    amount: "Importe", label: "Texto", pledgesNeeded: "Aportes", remove: "Quitar", removeRow: "Quitar la fila {0}",
    embedTitle: "Pon el widget en tu página", embedDesc: "Pega esta línea donde deba aparecer el widget, en un sitio permitido arriba.",
    copySnippet: "Copiar el código", copied: "¡Copiado!", testIt: "Probarlo en tu página",
    keyTitle: "Clave de la campaña", rotate: "Crear una clave nueva",
    keyDesc: "Una clave nueva reemplaza a esta al instante: lo que aún use la antigua (las llamadas de tu servidor, otras pestañas) deja de funcionar.",
    rotateConfirm: "¿Crear una clave nueva? La clave actual deja de funcionar al instante, aquí y dondequiera que se use.",
    newKey: "Tu clave nueva, mostrada solo esta vez: cópiala ahora y guárdala en un lugar seguro. Esta pestaña ya la usa; la antigua ya no funciona.",
    webhookSecret: "El secreto de firma del webhook, mostrado solo esta vez: cópialo ahora para comprobar la cabecera Relais-Signature.",
    vRequired: "Obligatorio.", vTooLong: "{0} caracteres como máximo.", vNumber: "Un número entero de {0} a {1}.",
    vAmount: "Un importe de al menos {0}.", vCurrency: "Un código de moneda de tres letras, como EUR.",
    vChannels: "Elige al menos uno.", vOrigins: "De 1 a 20 sitios.", vUrl: "Una dirección completa que empiece por https://.",
    vStripe: "Un secreto de firma de Stripe empieza por whsec_.", vRows: "Cada fila necesita un importe y un texto.",
    vSamePledges: "Dos recompensas no pueden pedir el mismo número de aportes.", vTooMany: "20 como máximo.",
    fPlatform: "Plataforma de financiación", fPlatformName: "Plataforma", platformNone: "Ninguna: tu servidor informa de los aportes", platformOther: "Otra",
    platformHelp: "Los aportes hechos en una plataforma nunca llegan a Relais: los clics de cada fan llegan allí con una etiqueta propia, que el informe de recomendaciones de la plataforma cuenta.",
    fTagParam: "Parámetro de la etiqueta", tagParamHint: "El parámetro de la URL que lee el informe de recomendaciones de la plataforma: ref en Kickstarter y Goteo; para las demás, pregunta a la plataforma.",
    fTagPer: "Una etiqueta por", tagPerFan: "Fan", tagPerChannel: "Fan y canal",
    vTagParamRequired: "Obligatorio para esta plataforma: ninguna fuente pública dice qué parámetro lee.",
    vTagParam: "De 1 a 40 letras, cifras, _, . o -, sin empezar por . o -."
  }
};

const CHANNELS = ["x", "facebook", "whatsapp", "telegram", "linkedin", "bluesky", "mastodon", "reddit", "email", "sms",
  "copy", "qr", "native", "direct"];
const CHANNEL_NAMES = { x: "X", facebook: "Facebook", whatsapp: "WhatsApp", telegram: "Telegram", linkedin: "LinkedIn",
  bluesky: "Bluesky", mastodon: "Mastodon", reddit: "Reddit", email: "E-mail", sms: "SMS", copy: "Copy", qr: "QR code",
  native: "Share sheet", direct: "Direct" };
// An API error code → the field it is about (the others, `invalid_<field>`, name theirs).
const FIELD_OF = { invalid_currency: "currency", goal_currency_locked: "currency", invalid_goal: "goal" };
const FIELDS = ["name", "target_url", "goal", "currency", "ends_at", "locale", "channels", "share_text", "attribution",
  "leaderboard", "public_stats", "allowed_origins", "platform", "tag_param", "milestones", "rewards", "webhook_url",
  "stripe_webhook_secret"];
// Each platform's tag parameter where a public source shows it, "" where none does (then it is
// required): chalicelib/domain/platforms.py's DEFAULT_TAG_PARAMS, docs/platforms.md.
const TAG_PARAMS = { kickstarter: "ref", indiegogo: "", ulule: "", gamefound: "", goteo: "ref", other: "" };
const TAG_PARAM = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,39}$/;

let ctx = null; // {id, key(), setKey(key), announce(text)}
let campaign = null;

function api(path, options) {
  return request("/v1/campaigns/" + encodeURIComponent(ctx.id()) + path, ctx.key(), options);
}

// ---- the form: read from the campaign, written back into the body of one PATCH ----
function rowEditor(box, cells, values) {
  const index = box.children.length + 1;
  const row = el("div", { "class": "edit-row" },
    cells.map(function (cell) {
      const id = box.id + "-" + index + "-" + cell.name;
      return el("div", { "class": "cell " + cell.name },
        el("label", { "for": id, text: t(cell.label) }),
        el("input", { id: id, type: cell.type, "data-k": cell.name, min: cell.min, step: cell.step,
          maxlength: cell.maxlength, value: values ? values[cell.name] : "" }));
    }),
    el("button", { type: "button", "class": "btn ghost-light", text: t("remove"), "aria-label": t("removeRow", index),
      onclick: function (event) { event.currentTarget.parentNode.remove(); } }));
  box.appendChild(row);
  return row;
}
const MILESTONE_CELLS = [{ name: "amount", label: "amount", type: "number", min: 0, step: "any" },
  { name: "label", label: "label", type: "text", maxlength: 120 }];
const REWARD_CELLS = [{ name: "pledges", label: "pledgesNeeded", type: "number", min: 1, step: 1 },
  { name: "label", label: "label", type: "text", maxlength: 120 }];

function currency() { return ($("f-currency").value.trim().toUpperCase() || (campaign.goal && campaign.goal.currency) || "EUR"); }
function toMajor(minor, cur) { return minor == null ? "" : String(minor / Math.pow(10, digits(cur))); }
function toMinor(text, cur) { return Math.round(Number(text) * Math.pow(10, digits(cur))); }
function localInput(iso) {
  if (!iso) return "";
  const d = new Date(iso), pad = function (n) { return String(n).padStart(2, "0"); };
  return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
}

/** A new platform chosen: its own tag parameter replaces the one shown unless the creator typed another. */
function platformChanged() {
  const name = $("f-platform").value, param = $("f-tag_param");
  if (!param.value.trim() || param.value.trim() === param.dataset.default) param.value = TAG_PARAMS[name] || "";
  param.dataset.default = TAG_PARAMS[name] || "";
  param.disabled = $("f-tag_per").disabled = !name;
}

function show(c) {
  campaign = c;
  const cur = (c.goal && c.goal.currency) || "EUR";
  $("f-name").value = c.name;
  $("f-target_url").value = c.target_url;
  $("f-goal").value = c.goal ? toMajor(c.goal.amount, cur) : "";
  $("f-currency").value = c.goal ? c.goal.currency : "";
  $("f-ends_at").value = localInput(c.ends_at);
  $("f-locale").value = c.locale;
  fill("channel-boxes", CHANNELS.map(function (ch) {
    return el("label", { "class": "choice" }, el("input", { type: "checkbox", value: ch, checked: c.channels.indexOf(ch) >= 0 }),
      " " + CHANNEL_NAMES[ch]);
  }));
  $("f-share_text").value = c.share_text || "";
  $("f-model").value = c.attribution.model;
  $("f-window").value = c.attribution.window_days;
  $("f-leaderboard").value = c.leaderboard;
  $("f-public_stats").checked = !!c.public_stats;
  $("f-allowed_origins").value = c.allowed_origins.join("\n");
  $("f-platform").value = c.platform ? c.platform.name : "";
  $("f-tag_param").value = c.platform ? c.platform.tag_param : "";
  $("f-tag_param").dataset.default = c.platform ? TAG_PARAMS[c.platform.name] || "" : "";
  $("f-tag_per").value = c.platform ? c.platform.tag_per : "fan";
  $("f-tag_param").disabled = $("f-tag_per").disabled = !c.platform;
  fill("milestone-rows");
  c.milestones.forEach(function (m) { rowEditor($("milestone-rows"), MILESTONE_CELLS, { amount: toMajor(m.amount, cur), label: m.label }); });
  fill("reward-rows");
  c.rewards.forEach(function (r) { rowEditor($("reward-rows"), REWARD_CELLS, r); });
  $("f-webhook_url").value = c.webhook_url || "";
  $("f-stripe_webhook_secret").value = "";
  $("h-stripe").textContent = c.stripe_webhook_configured ? t("stripeSet") : t("stripeUnset");
  showSnippet();
}

function rows(box) {
  return Array.from($(box).children).map(function (row) {
    const value = {};
    row.querySelectorAll("input").forEach(function (input) { value[input.dataset.k] = input.value.trim(); });
    return value;
  }).filter(function (r) { return Object.values(r).some(Boolean); });
}

/** What the form says, as the API's fields, with the errors found before asking it ({field: message}). */
function read() {
  const errors = {}, body = {}, cur = currency();
  const name = $("f-name").value.trim();
  if (!name) errors.name = t("vRequired");
  body.name = name;
  const target = $("f-target_url").value.trim();
  if (!/^https:\/\/[^\s/]+/i.test(target)) errors.target_url = t("vUrl");
  body.target_url = target;
  const goal = $("f-goal").value.trim();
  if (goal !== "" && !(Number(goal) >= 0)) errors.goal = t("vAmount", 0);
  if ((goal !== "" || $("f-currency").value.trim()) && !/^[A-Z]{3}$/.test(cur)) errors.currency = t("vCurrency");
  body.goal = goal === "" ? null : { amount: toMinor(goal, cur), currency: cur };
  const ends = $("f-ends_at").value;
  body.ends_at = ends ? new Date(ends).toISOString().replace(/\.\d{3}Z$/, "Z") : null;
  body.locale = $("f-locale").value;
  body.channels = Array.from($("channel-boxes").querySelectorAll("input:checked")).map(function (box) { return box.value; });
  if (!body.channels.length) errors.channels = t("vChannels");
  body.share_text = $("f-share_text").value.trim() || null;
  const window = Number($("f-window").value);
  if (!Number.isInteger(window) || window < 1 || window > 90) errors.attribution = t("vNumber", 1, 90);
  body.attribution = { model: $("f-model").value, window_days: window };
  body.leaderboard = $("f-leaderboard").value;
  body.public_stats = $("f-public_stats").checked;
  body.allowed_origins = $("f-allowed_origins").value.split(/\s+/).filter(Boolean);
  if (!body.allowed_origins.length || body.allowed_origins.length > 20) errors.allowed_origins = t("vOrigins");
  const platform = $("f-platform").value, param = $("f-tag_param").value.trim();
  if (platform && !param && !TAG_PARAMS[platform]) errors.tag_param = t("vTagParamRequired");
  else if (platform && param && !TAG_PARAM.test(param)) errors.tag_param = t("vTagParam");
  body.platform = platform ? { name: platform, tag_param: param || TAG_PARAMS[platform], tag_per: $("f-tag_per").value } : null;
  const milestones = rows("milestone-rows");
  if (milestones.some(function (m) { return !m.label || !(Number(m.amount) > 0); })) errors.milestones = t("vRows");
  if (milestones.length > 20) errors.milestones = t("vTooMany");
  body.milestones = milestones.map(function (m) { return { amount: toMinor(m.amount, cur), label: m.label }; })
    .sort(function (a, b) { return a.amount - b.amount; });
  const rewards = rows("reward-rows");
  if (rewards.some(function (r) { return !r.label || !/^[1-9]\d*$/.test(r.pledges); })) errors.rewards = t("vRows");
  body.rewards = rewards.map(function (r) { return { pledges: Number(r.pledges), label: r.label }; })
    .sort(function (a, b) { return a.pledges - b.pledges; });
  if (new Set(body.rewards.map(function (r) { return r.pledges; })).size !== body.rewards.length) errors.rewards = t("vSamePledges");
  if (rewards.length > 20) errors.rewards = t("vTooMany");
  const hook = $("f-webhook_url").value.trim();
  body.webhook_url = hook || null;
  const stripe = $("f-stripe_webhook_secret").value.trim();
  if (stripe && !/^whsec_[A-Za-z0-9_]{4,194}$/.test(stripe)) errors.stripe_webhook_secret = t("vStripe");
  if (stripe) body.stripe_webhook_secret = stripe;
  return { body: body, errors: errors };
}

/** Only the fields that differ from the campaign as read (a webhook URL set again would draw a new secret). */
function changes(body) {
  const before = {
    name: campaign.name, target_url: campaign.target_url, goal: campaign.goal, locale: campaign.locale,
    ends_at: campaign.ends_at, channels: campaign.channels, share_text: campaign.share_text || null,
    attribution: campaign.attribution, leaderboard: campaign.leaderboard, public_stats: !!campaign.public_stats,
    allowed_origins: campaign.allowed_origins, platform: campaign.platform || null, milestones: campaign.milestones,
    rewards: campaign.rewards,
    webhook_url: campaign.webhook_url || null
  };
  const changed = {};
  Object.keys(body).forEach(function (field) {
    if (field === "stripe_webhook_secret" || JSON.stringify(body[field]) !== JSON.stringify(before[field])) changed[field] = body[field];
  });
  if (changed.ends_at && before.ends_at && Date.parse(changed.ends_at) === Date.parse(before.ends_at)) delete changed.ends_at;
  return changed;
}

function clearErrors() {
  FIELDS.forEach(function (field) {
    const box = $("e-" + field);
    if (box) { box.hidden = true; box.textContent = ""; }
    const input = $("f-" + field);
    if (input) input.removeAttribute("aria-invalid");
  });
  $("setup-error").hidden = true;
}
function fieldError(field, message) {
  const box = $("e-" + field) || $("setup-error");
  box.textContent = message;
  box.hidden = false;
  const input = $("f-" + field) || (field === "attribution" ? $("f-window") : field === "goal" ? $("f-goal") : null);
  if (input) input.setAttribute("aria-invalid", "true");
  return input;
}

function save(event) {
  event.preventDefault();
  clearErrors();
  $("setup-status").textContent = "";
  const form = read(), wrong = Object.keys(form.errors);
  if (wrong.length) {
    const first = wrong.map(function (field) { return fieldError(field, form.errors[field]); }).find(Boolean);
    $("setup-error").textContent = t("fixFields");
    $("setup-error").hidden = false;
    if (first) first.focus();
    return;
  }
  const body = changes(form.body);
  if (!Object.keys(body).length) {
    $("setup-status").textContent = t("nothingChanged");
    return;
  }
  $("save").disabled = true;
  api("", { method: "PATCH", body: body, headers: { "If-Match": String(campaign.version) } }).then(function (answer) {
    show(answer.campaign);
    ctx.changed(answer.campaign);
    $("setup-status").textContent = t("saved");
    if (answer.webhook_secret) once("webhook-secret", t("webhookSecret"), answer.webhook_secret);
  }, function (error) {
    if (error.code === "version_conflict") {
      fill("setup-error", t("conflict") + " ", el("button", { type: "button", "class": "btn", text: t("reload"), onclick: function () { open(true); } }));
      $("setup-error").hidden = false;
      return;
    }
    const field = error.code === "invalid_platform" && /tag_param/.test(error.message) ? "tag_param"
      : FIELD_OF[error.code] || (error.code && error.code.indexOf("invalid_") === 0 && error.code.slice(8));
    if (field && FIELDS.indexOf(field) >= 0) {
      const input = fieldError(field, error.message);
      $("setup-error").textContent = t("fixFields");
      $("setup-error").hidden = false;
      if (input) input.focus();
    } else {
      $("setup-error").textContent = t("failed", error.message);
      $("setup-error").hidden = false;
    }
  }).then(function () { $("save").disabled = false; });
}

/** A secret shown once, with words saying so. */
function once(id, words, secret) {
  fill(id, el("p", { text: words }), el("code", { "class": "secret", text: secret }));
  $(id).hidden = false;
}

// ---- the snippet, the "test it" link ----
function snippet() {
  return '<script src="' + location.origin + '/widget.js" data-campaign="' + campaign.id + '" async></script>';
}
function showSnippet() {
  $("snippet").textContent = snippet();
  $("test-it").href = campaign.target_url;
}
function copySnippet() {
  const done = function () { $("copy-status").textContent = t("copied"); setTimeout(function () { $("copy-status").textContent = ""; }, 2000); };
  (navigator.clipboard ? navigator.clipboard.writeText(snippet()) : Promise.reject(new Error("no clipboard")))
    .then(done, function () {
      const range = document.createRange();
      range.selectNodeContents($("snippet"));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      if (document.execCommand("copy")) done();
    });
}

// ---- the key ----
function rotate() {
  if (!confirm(t("rotateConfirm"))) return;
  $("rotate").disabled = true;
  api("/keys", { method: "POST" }).then(function (answer) {
    ctx.setKey(answer.api_key);
    once("new-key", t("newKey"), answer.api_key);
    return open(true); // the rotation is a change of the campaign: its version moved on
  }, function (error) {
    $("setup-error").textContent = t("failed", error.message);
    $("setup-error").hidden = false;
  }).then(function () { $("rotate").disabled = false; });
}

/** Reads the campaign (again, with `fresh`) and fills the form. */
export function open(fresh) {
  if (campaign && !fresh) return Promise.resolve();
  clearErrors();
  return api("").then(function (answer) { show(answer.campaign); }, function (error) {
    $("setup-error").textContent = t("failed", error.message);
    $("setup-error").hidden = false;
  });
}

/** Forgets the campaign read (at sign-out). */
export function reset() {
  campaign = null;
  ["new-key", "webhook-secret"].forEach(function (id) { fill(id); $(id).hidden = true; });
}

/** Wires the view once: `context` gives the campaign's id and key and hears of changes. */
export function setupView(context) {
  ctx = context;
  $("setup").addEventListener("submit", save);
  $("add-milestone").addEventListener("click", function () { rowEditor($("milestone-rows"), MILESTONE_CELLS).querySelector("input").focus(); });
  $("add-reward").addEventListener("click", function () { rowEditor($("reward-rows"), REWARD_CELLS).querySelector("input").focus(); });
  $("f-platform").addEventListener("change", platformChanged);
  $("copy-snippet").addEventListener("click", copySnippet);
  $("rotate").addEventListener("click", rotate);
}
