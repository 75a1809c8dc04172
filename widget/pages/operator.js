// The operator's campaigns page (/operator): sign in with the operator token, list the campaigns
// (GET /v1/campaigns, a page at a time) and create one (POST /v1/campaigns). The answer shows the
// new campaign's key once, with a warning, its dashboard's link and the widget's snippet.
import { $, digits, el, explain, fill, moneyMap, num, request, session, showError, t, th, useStrings } from "./common.js";

const STRINGS = {
  en: {
    operator: "Campaigns", signinTitle: "Your platform's campaigns",
    signinIntro: "List the campaigns and create new ones. The token stays in this browser tab.",
    token: "Operator token", tokenHint: "The operator token (RELAIS_ADMIN_TOKEN) that creates campaigns.", open: "Open",
    signinBad: "This token is not the operator token.", notFound: "Not found.", loaded: "Campaigns loaded.",
    newTitle: "New campaign", newDesc: "Its creator gets a key to open the dashboard and set up the rest there.",
    cName: "Name", cTarget: "Campaign page (https://…)",
    cOrigins: "Sites allowed to show the widget (one per line; empty: the campaign page's)",
    cGoal: "Goal (optional)", cCurrency: "Currency", cLocale: "Widget language", create: "Create the campaign",
    listTitle: "All campaigns", more: "Load more", noCampaigns: "No campaign yet.",
    name: "Name", id: "Id", created: "Created", raised: "Raised",
    createdTitle: "“{0}” is created", keyOnce: "Copy the key now: it is shown this once and cannot be read again. Whoever has it can change the campaign.",
    keyLabel: "Campaign key", dashboardLabel: "Dashboard", snippetLabel: "Snippet for the campaign page",
    vRequired: "Required.", vUrl: "A full address starting with https://.", vAmount: "An amount of at least 0.",
    vCurrency: "A three-letter currency code, such as EUR.", fixFields: "Check the fields marked in red."
  },
  fr: {
    operator: "Campagnes", signinTitle: "Les campagnes de votre plateforme",
    signinIntro: "Listez les campagnes et créez-en de nouvelles. Le jeton reste dans cet onglet.",
    token: "Jeton d'opérateur", tokenHint: "Le jeton d'opérateur (RELAIS_ADMIN_TOKEN) qui crée les campagnes.", open: "Ouvrir",
    signinBad: "Ce jeton n'est pas le jeton d'opérateur.", notFound: "Introuvable.", loaded: "Campagnes chargées.",
    newTitle: "Nouvelle campagne", newDesc: "Son créateur reçoit une clé pour ouvrir le tableau de bord et régler le reste.",
    cName: "Nom", cTarget: "Page de la campagne (https://…)",
    cOrigins: "Sites autorisés à afficher le widget (un par ligne ; vide : celui de la page de la campagne)",
    cGoal: "Objectif (facultatif)", cCurrency: "Devise", cLocale: "Langue du widget", create: "Créer la campagne",
    listTitle: "Toutes les campagnes", more: "Charger plus", noCampaigns: "Pas encore de campagne.",
    name: "Nom", id: "Identifiant", created: "Créée", raised: "Collecté",
    createdTitle: "« {0} » est créée", keyOnce: "Copiez la clé maintenant : elle n'est affichée que cette fois et ne peut plus être relue. Qui l'a peut modifier la campagne.",
    keyLabel: "Clé de la campagne", dashboardLabel: "Tableau de bord", snippetLabel: "Code pour la page de la campagne",
    vRequired: "Obligatoire.", vUrl: "Une adresse complète commençant par https://.", vAmount: "Un montant d'au moins 0.",
    vCurrency: "Un code de devise de trois lettres, comme EUR.", fixFields: "Vérifiez les champs marqués en rouge."
  },
  es: {
    operator: "Campañas", signinTitle: "Las campañas de tu plataforma",
    signinIntro: "Consulta las campañas y crea otras nuevas. El token se queda en esta pestaña.",
    token: "Token de operador", tokenHint: "El token de operador (RELAIS_ADMIN_TOKEN) que crea las campañas.", open: "Abrir",
    signinBad: "Este token no es el token de operador.", notFound: "No encontrado.", loaded: "Campañas cargadas.",
    newTitle: "Nueva campaña", newDesc: "Su creador recibe una clave para abrir el panel y ajustar el resto allí.",
    cName: "Nombre", cTarget: "Página de la campaña (https://…)",
    cOrigins: "Sitios que pueden mostrar el widget (uno por línea; vacío: el de la página de la campaña)",
    cGoal: "Objetivo (opcional)", cCurrency: "Moneda", cLocale: "Idioma del widget", create: "Crear la campaña",
    listTitle: "Todas las campañas", more: "Cargar más", noCampaigns: "Aún no hay campañas.",
    name: "Nombre", id: "Id", created: "Creada", raised: "Recaudado",
    createdTitle: "«{0}» está creada", keyOnce: "Copia la clave ahora: se muestra solo esta vez y no se puede volver a leer. Quien la tenga puede modificar la campaña.",
    keyLabel: "Clave de la campaña", dashboardLabel: "Panel", snippetLabel: "Código para la página de la campaña",
    vRequired: "Obligatorio.", vUrl: "Una dirección completa que empiece por https://.", vAmount: "Un importe de al menos 0.",
    vCurrency: "Un código de moneda de tres letras, como EUR.", fixFields: "Revisa los campos marcados en rojo."
  }
};
const STORE = "relais-operator";
const FIELDS = ["name", "target_url", "allowed_origins", "goal", "currency"];
const FIELD_OF = { invalid_currency: "currency", invalid_goal: "goal" };

const state = { token: null, campaigns: [], cursor: null };
const account = session({
  store: STORE, secret: "token", first: "token",
  load: function () { return list(true); },
  shown: function () {},
  forget: function () { state.token = null; state.campaigns = []; state.cursor = null; fill("created"); $("created").hidden = true; }
});

// ---- the list ----
function list(fresh) {
  if (fresh) { state.campaigns = []; state.cursor = null; }
  return request("/v1/campaigns" + (state.cursor ? "?cursor=" + encodeURIComponent(state.cursor) : ""), state.token).then(function (page) {
    state.campaigns = state.campaigns.concat(page.campaigns || []);
    state.cursor = page.cursor || null;
    $("board-error").hidden = true;
    render();
    $("announce").textContent = t("loaded");
  });
}
function stamp(iso) { return iso ? new Intl.DateTimeFormat(document.documentElement.lang, { dateStyle: "medium" }).format(new Date(iso)) : "–"; }
function render() {
  $("more").hidden = !state.cursor;
  if (!state.campaigns.length) return fill("campaigns", el("p", { "class": "empty", text: t("noCampaigns") }));
  fill("campaigns", el("table", null,
    el("thead", null, el("tr", null, th(t("name")), th(t("id")), th(t("created")), th(t("clicks"), "num"), th(t("pledges"), "num"),
      th(t("raised"), "num"))),
    el("tbody", null, state.campaigns.map(function (c) {
      const totals = c.totals || {};
      return el("tr", { "data-campaign": c.id },
        el("td", null, el("a", { href: "/dashboard#campaign=" + encodeURIComponent(c.id), text: c.name })),
        el("td", null, el("code", { text: c.id })),
        el("td", { text: stamp(c.created_at) }),
        el("td", { "class": "num", text: num(totals.clicks) }),
        el("td", { "class": "num", text: num(totals.pledges) }),
        el("td", { "class": "num", text: typeof totals.amount === "object" ? moneyMap(totals.amount, "EUR") : num(totals.amount) }));
    }))));
}

// ---- the new campaign ----
function clearErrors() {
  FIELDS.forEach(function (field) {
    $("e-" + field).hidden = true;
    $("c-" + field).removeAttribute("aria-invalid");
  });
  $("create-error").hidden = true;
}
function fieldError(field, message) {
  $("e-" + field).textContent = message;
  $("e-" + field).hidden = false;
  $("c-" + field).setAttribute("aria-invalid", "true");
  return $("c-" + field);
}
function create(event) {
  event.preventDefault();
  clearErrors();
  const errors = {}, body = { name: $("c-name").value.trim(), target_url: $("c-target_url").value.trim(), locale: $("c-locale").value };
  if (!body.name) errors.name = t("vRequired");
  if (!/^https:\/\/[^\s/]+/i.test(body.target_url)) errors.target_url = t("vUrl");
  const origins = $("c-allowed_origins").value.split(/\s+/).filter(Boolean);
  if (origins.length) body.allowed_origins = origins;
  const goal = $("c-goal").value.trim(), cur = $("c-currency").value.trim().toUpperCase();
  if (goal !== "") {
    if (!(Number(goal) >= 0)) errors.goal = t("vAmount");
    if (!/^[A-Z]{3}$/.test(cur)) errors.currency = t("vCurrency");
    body.goal = { amount: Math.round(Number(goal) * Math.pow(10, digits(cur))), currency: cur };
  }
  const wrong = Object.keys(errors);
  if (wrong.length) {
    wrong.map(function (field) { return fieldError(field, errors[field]); })[0].focus();
    $("create-error").textContent = t("fixFields");
    $("create-error").hidden = false;
    return;
  }
  $("create-button").disabled = true;
  request("/v1/campaigns", state.token, { method: "POST", body: body }).then(function (answer) {
    showCreated(answer.campaign, answer.api_key);
    $("create").reset();
    return list(true);
  }, function (error) {
    const field = FIELD_OF[error.code] || (error.code && error.code.indexOf("invalid_") === 0 && error.code.slice(8));
    if (FIELDS.indexOf(field) >= 0) {
      fieldError(field, error.message).focus();
      $("create-error").textContent = t("fixFields");
    } else {
      $("create-error").textContent = explain(error);
    }
    $("create-error").hidden = false;
  }).then(function () { $("create-button").disabled = false; });
}
function showCreated(campaign, key) {
  const dashboard = location.origin + "/dashboard#campaign=" + encodeURIComponent(campaign.id);
  const snippet = '<script src="' + location.origin + '/widget.js" data-campaign="' + campaign.id + '" async></script>';
  fill("created",
    el("h3", { text: t("createdTitle", campaign.name) }),
    el("p", { "class": "warning", role: "alert", text: t("keyOnce") }),
    el("dl", null,
      el("dt", { text: t("keyLabel") }), el("dd", null, el("code", { "class": "secret", id: "new-key", text: key })),
      el("dt", { text: t("dashboardLabel") }), el("dd", null, el("a", { href: dashboard, id: "new-dashboard", text: dashboard })),
      el("dt", { text: t("snippetLabel") }), el("dd", null, el("pre", { tabindex: "0", "aria-label": t("snippetLabel") }, el("code", { id: "new-snippet", text: snippet })))));
  $("created").hidden = false;
  $("created").focus();
}

// ---- wiring ----
useStrings(STRINGS);
$("signin").addEventListener("submit", function (event) {
  event.preventDefault();
  state.token = $("token").value.trim();
  account.signIn(state.token);
});
$("signout").addEventListener("click", account.signOut);
$("refresh").addEventListener("click", function () { list(true).catch(function (error) { showError("board-error", error); }); });
$("more").addEventListener("click", function () { list(false).catch(function (error) { showError("board-error", error); }); });
$("create").addEventListener("submit", create);
const kept = account.saved();
if (kept) { state.token = kept; account.signIn(kept); }
else $("token").focus();
