// The platform operator's insights page (/insights): sign in with the operator token, then
// whether the campaigns shared more raise more (in words and as a scatter plot), the channels
// by conversion and every campaign in a table. Data: GET /v1/insights (docs/platform.md defines
// every figure). What it shares with the dashboard is in pages/common.js.
import {
  $, axis, bar, channelColor, channelHead, day, digits, el, fill, gridLine, kpi, lang, major, money, moneyMap, num,
  params, pct, plural, query, refresh, request, session, showError, svg, t, th, useStrings, wire
} from "./common.js";

const STRINGS = {
  en: {
    insights: "Platform insights", signinTitle: "Your platform's campaigns, side by side",
    signinIntro: "See whether the campaigns that are shared more raise more. The token stays in this browser tab.",
    token: "Operator token", tokenHint: "The operator token (RELAIS_ADMIN_TOKEN) that creates campaigns.",
    open: "Open the insights", allTime: "All time",
    finding: "Sharing and money",
    how: "ρ is Spearman's rank correlation: 1 when ranking the campaigns by shares gives exactly their ranking by pledges, 0 when it tells nothing, −1 when it gives the reverse order. It says the two go together, not that one causes the other.",
    morePledges: "Campaigns shared more got more pledges: ρ = {0} over {1} campaigns.",
    fewerPledges: "Campaigns shared more got fewer pledges: ρ = {0} over {1} campaigns.",
    nonePledges: "How much a campaign is shared says little about its pledges: ρ = {0} over {1} campaigns.",
    moreAmount: "Campaigns shared more raised more: ρ = {0} over {1} campaigns ({2}).",
    fewerAmount: "Campaigns shared more raised less: ρ = {0} over {1} campaigns ({2}).",
    noneAmount: "How much a campaign is shared says little about the money it raised: ρ = {0} over {1} campaigns ({2}).",
    tooFew: "Not enough campaigns to compare yet: it takes at least 3 with activity ({0} so far).",
    flat: "Nothing to compare yet: the campaigns do not differ in shares or in pledges.",
    flatAmount: "The money raised cannot be compared yet.",
    strong: "strong link", moderate: "moderate link", weak: "weak link", noLink: "no clear link",
    campaignsN: "Campaigns", activeOf: "{0} with activity", landed: "Landed",
    fanShare: "Fan share", name: "Campaign",
    scatter: "Shares and results, campaign by campaign",
    scatterDesc: "Each dot is a campaign: further right, shared more; higher, {0}.", higherPledges: "more pledges",
    higherAmount: "more money raised ({0})", axis: "Compare shares with", logScale: "log scale",
    chartLabel: "Scatter plot of {0} campaigns: shares across, {1} up. {2}", channels: "Channels by conversion",
    channelsDesc: "Pledges per click on each channel, across all campaigns.",
    channelLine: "{0} from {1} · {2}", noClicks: "no clicks", campaigns: "Campaigns",
    campaignsDesc: "By pledges, then shares. Fan share: the part of all their pledges that came through a fan's link.",
    showAll: "Show all {0} campaigns", noData: "Nothing yet.", noCampaigns: "No campaign yet: create one with POST /v1/campaigns.",
    footer: "Figures update a few seconds after each share, click and pledge.",
    allTimeSub: "{0} · all time", periodSub: "{0} · {1} – {2}", campaignsCount: "{0} campaigns", campaignsCount_one: "{0} campaign",
    otherCurrency: "{0} campaigns that raised money only in another currency are not on this chart.",
    otherCurrency_one: "{0} campaign that raised money only in another currency is not on this chart.",
    picked: "{0}: {1}, {2}, {3} raised.", signinBad: "This is not the operator token.",
    loaded: "Insights loaded."
  },
  fr: {
    insights: "Vue de la plateforme", signinTitle: "Les campagnes de votre plateforme, côte à côte",
    signinIntro: "Voyez si les campagnes les plus partagées collectent davantage. Le jeton reste dans cet onglet.",
    token: "Jeton d'opérateur", tokenHint: "Le jeton d'opérateur (RELAIS_ADMIN_TOKEN) qui crée les campagnes.",
    open: "Ouvrir la vue", allTime: "Depuis le début",
    finding: "Partages et argent",
    how: "ρ est la corrélation de rang de Spearman : 1 quand classer les campagnes par partages donne exactement leur classement par contributions, 0 quand cela n'en dit rien, −1 quand cela donne l'ordre inverse. Elle dit que les deux vont ensemble, pas que l'un cause l'autre.",
    morePledges: "Les campagnes les plus partagées ont reçu plus de contributions : ρ = {0} sur {1} campagnes.",
    fewerPledges: "Les campagnes les plus partagées ont reçu moins de contributions : ρ = {0} sur {1} campagnes.",
    nonePledges: "Le nombre de partages d'une campagne dit peu de chose de ses contributions : ρ = {0} sur {1} campagnes.",
    moreAmount: "Les campagnes les plus partagées ont collecté davantage : ρ = {0} sur {1} campagnes ({2}).",
    fewerAmount: "Les campagnes les plus partagées ont collecté moins : ρ = {0} sur {1} campagnes ({2}).",
    noneAmount: "Le nombre de partages d'une campagne dit peu de chose de l'argent collecté : ρ = {0} sur {1} campagnes ({2}).",
    tooFew: "Pas encore assez de campagnes à comparer : il en faut au moins 3 avec de l'activité ({0} pour l'instant).",
    flat: "Rien à comparer encore : les campagnes ne diffèrent ni par les partages ni par les contributions.",
    flatAmount: "L'argent collecté ne peut pas encore être comparé.",
    strong: "lien fort", moderate: "lien modéré", weak: "lien faible", noLink: "pas de lien net",
    campaignsN: "Campagnes", activeOf: "{0} avec de l'activité", landed: "Arrivées",
    fanShare: "Part des fans", name: "Campagne",
    scatter: "Partages et résultats, campagne par campagne",
    scatterDesc: "Chaque point est une campagne : plus à droite, plus partagée ; plus haut, {0}.", higherPledges: "plus de contributions",
    higherAmount: "plus d'argent collecté ({0})", axis: "Comparer les partages avec", logScale: "échelle logarithmique",
    chartLabel: "Nuage de points de {0} campagnes : partages en abscisse, {1} en ordonnée. {2}", channels: "Canaux par conversion",
    channelsDesc: "Contributions par clic sur chaque canal, toutes campagnes confondues.",
    channelLine: "{0} pour {1} · {2}", noClicks: "aucun clic", campaigns: "Campagnes",
    campaignsDesc: "Par contributions, puis partages. Part des fans : la part de toutes leurs contributions venue par le lien d'un fan.",
    showAll: "Voir les {0} campagnes", noData: "Rien encore.", noCampaigns: "Aucune campagne : créez-en une avec POST /v1/campaigns.",
    footer: "Les chiffres se mettent à jour quelques secondes après chaque partage, clic et contribution.",
    allTimeSub: "{0} · depuis le début", periodSub: "{0} · {1} – {2}", campaignsCount: "{0} campagnes", campaignsCount_one: "{0} campagne",
    otherCurrency: "{0} campagnes qui n'ont collecté que dans une autre devise ne sont pas sur ce graphique.",
    otherCurrency_one: "{0} campagne qui n'a collecté que dans une autre devise n'est pas sur ce graphique.",
    picked: "{0} : {1}, {2}, {3} collectés.", signinBad: "Ce n'est pas le jeton d'opérateur.",
    loaded: "Vue chargée."
  },
  es: {
    insights: "Vista de la plataforma", signinTitle: "Las campañas de tu plataforma, lado a lado",
    signinIntro: "Mira si las campañas más compartidas recaudan más. El token se queda en esta pestaña.",
    token: "Token de operador", tokenHint: "El token de operador (RELAIS_ADMIN_TOKEN) que crea las campañas.",
    open: "Abrir la vista", allTime: "Desde el inicio",
    finding: "Compartir y dinero",
    how: "ρ es la correlación de rangos de Spearman: 1 cuando ordenar las campañas por compartidos da exactamente su orden por aportes, 0 cuando no dice nada, −1 cuando da el orden inverso. Dice que ambas cosas van juntas, no que una cause la otra.",
    morePledges: "Las campañas más compartidas recibieron más aportes: ρ = {0} en {1} campañas.",
    fewerPledges: "Las campañas más compartidas recibieron menos aportes: ρ = {0} en {1} campañas.",
    nonePledges: "Cuánto se comparte una campaña dice poco de sus aportes: ρ = {0} en {1} campañas.",
    moreAmount: "Las campañas más compartidas recaudaron más: ρ = {0} en {1} campañas ({2}).",
    fewerAmount: "Las campañas más compartidas recaudaron menos: ρ = {0} en {1} campañas ({2}).",
    noneAmount: "Cuánto se comparte una campaña dice poco de lo que recauda: ρ = {0} en {1} campañas ({2}).",
    tooFew: "Aún no hay campañas suficientes para comparar: hacen falta al menos 3 con actividad ({0} por ahora).",
    flat: "Nada que comparar todavía: las campañas no difieren en compartidos ni en aportes.",
    flatAmount: "Lo recaudado aún no se puede comparar.",
    strong: "relación fuerte", moderate: "relación moderada", weak: "relación débil", noLink: "sin relación clara",
    campaignsN: "Campañas", activeOf: "{0} con actividad", landed: "Llegadas",
    fanShare: "Parte de los fans", name: "Campaña",
    scatter: "Compartidos y resultados, campaña por campaña",
    scatterDesc: "Cada punto es una campaña: más a la derecha, más compartida; más arriba, {0}.", higherPledges: "más aportes",
    higherAmount: "más dinero recaudado ({0})", axis: "Comparar los compartidos con", logScale: "escala logarítmica",
    chartLabel: "Diagrama de dispersión de {0} campañas: compartidos en horizontal, {1} en vertical. {2}", channels: "Canales por conversión",
    channelsDesc: "Aportes por clic en cada canal, en todas las campañas.",
    channelLine: "{0} de {1} · {2}", noClicks: "sin clics", campaigns: "Campañas",
    campaignsDesc: "Por aportes y luego compartidos. Parte de los fans: la parte de todos sus aportes que llegó por el enlace de un fan.",
    showAll: "Ver las {0} campañas", noData: "Nada todavía.", noCampaigns: "Aún no hay campañas: crea una con POST /v1/campaigns.",
    footer: "Las cifras se actualizan unos segundos después de cada compartir, clic y aporte.",
    allTimeSub: "{0} · desde el inicio", periodSub: "{0} · {1} – {2}", campaignsCount: "{0} campañas", campaignsCount_one: "{0} campaña",
    otherCurrency: "{0} campañas que solo recaudaron en otra moneda no están en este gráfico.",
    otherCurrency_one: "{0} campaña que solo recaudó en otra moneda no está en este gráfico.",
    picked: "{0}: {1}, {2}, {3} recaudados.", signinBad: "Este no es el token de operador.",
    loaded: "Vista cargada."
  }
};

const TABLE_ROWS = 50;
const LABELS = 12;
const STORE = "relais-insights";
const DAY = { dateStyle: "medium" };

const state = { token: null, data: null, axis: "pledges", from: params.get("from"), to: params.get("to"), all: false, picked: null };
const account = session({
  store: STORE, secret: "token", first: "token",
  load: load,
  shown: renderScatter, // again, now that the chart has a width
  forget: function () { state.token = state.data = null; }
});

function signIn(token) {
  state.token = token;
  return account.signIn(token);
}

// ---- numbers ----
function compact(n) { return new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 }).format(n); }
function rho(r) { return new Intl.NumberFormat(lang, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(r).replace("-", "−"); }
function currency() { return (state.data && state.data.correlation.currency) || "EUR"; }
function amounts(map) { return moneyMap(map, currency()); }
function active(row) { return row.shares || row.clicks || row.landed || row.pledges; }

// ---- API ----
function load() {
  return refresh(function () {
    return request("/v1/insights" + query({ from: state.from, to: state.to }), state.token);
  }, function (data) {
    state.data = data;
    render();
  });
}
function reload() {
  return load().catch(function (error) { showError("board-error", error); });
}

// ---- rendering ----
function render() {
  const data = state.data, n = data.campaigns.length;
  $("subtitle").textContent = state.from || state.to
    ? t("periodSub", plural("campaignsCount", n), state.from ? day(state.from, DAY) : "…", state.to ? day(state.to, DAY) : "…")
    : t("allTimeSub", plural("campaignsCount", n));
  $("from").value = state.from || "";
  $("to").value = state.to || "";
  renderFinding(data.correlation);
  renderKpis(data.campaigns);
  renderScatter();
  renderChannels(data.channels);
  renderCampaigns(data.campaigns);
}

function strength(r) {
  const a = Math.abs(r);
  return a >= 0.7 ? "strong" : a >= 0.4 ? "moderate" : a >= 0.2 ? "weak" : "noLink";
}
// The correlation in words: its direction, its value and how many campaigns it is over.
function sentence(r, n, kind, cur) {
  const key = (r >= 0.2 ? "more" : r <= -0.2 ? "fewer" : "none") + kind;
  return [t(key, rho(r), num(n), cur), el("span", { "class": "strength", text: t(strength(r)) })];
}
function renderFinding(c) {
  if (c.shares_pledges == null) {
    fill("say-pledges", c.campaigns < 3 ? t("tooFew", num(c.campaigns)) : t("flat"));
  } else {
    fill("say-pledges", sentence(c.shares_pledges, c.campaigns, "Pledges"));
  }
  if (c.shares_amount == null) {
    fill("say-amount", c.campaigns < 3 ? "" : t("flatAmount"));
  } else {
    fill("say-amount", sentence(c.shares_amount, c.amount_campaigns, "Amount", c.currency));
  }
}

function renderKpis(rows) {
  const sum = { shares: 0, clicks: 0, pledges: 0, amount: {} };
  let live = 0;
  rows.forEach(function (row) {
    sum.shares += row.shares;
    sum.clicks += row.clicks;
    sum.pledges += row.pledges;
    if (active(row)) live++;
    Object.keys(row.amount).forEach(function (cur) { sum.amount[cur] = (sum.amount[cur] || 0) + row.amount[cur]; });
  });
  fill("kpis",
    kpi(t("campaignsN"), num(rows.length), t("activeOf", num(live))),
    kpi(t("shares"), num(sum.shares), sum.shares ? plural("perShare", sum.clicks / sum.shares, 1) : null),
    kpi(t("pledges"), num(sum.pledges), null),
    kpi(t("amount"), amounts(sum.amount), null));
}

// ---- the scatter plot ----
// A log scale when the values span more than an order of magnitude (one viral campaign
// would otherwise squash every other dot into a corner); log(1 + v), so that 0 stays on the axis.
// Counts (`whole`) have whole-number ticks.
function scale(values, whole) {
  const positive = values.filter(function (v) { return v > 0; });
  const high = positive.reduce(function (a, b) { return Math.max(a, b); }, 0);
  const low = positive.reduce(function (a, b) { return Math.min(a, b); }, Infinity);
  if (positive.length >= 2 && high / low >= 20) {
    const top = Math.pow(10, Math.ceil(Math.log10(high))), powers = Math.round(Math.log10(top)), every = Math.ceil(powers / 6);
    const ticks = [0];
    for (let p = 0; p <= powers; p += every) ticks.push(Math.pow(10, p));
    return { log: true, at: function (v) { return Math.log10(1 + v) / Math.log10(1 + top); }, ticks: ticks };
  }
  const linear = axis(high, whole);
  return { log: false, at: function (v) { return v / linear.top; }, ticks: linear.ticks };
}
function renderAxisButtons() {
  fill("axis", ["pledges", "amount"].map(function (axis) {
    return el("button", { type: "button", "aria-pressed": String(axis === state.axis), "data-axis": axis,
      text: t(axis), onclick: function () {
        state.axis = axis;
        state.picked = null;
        renderScatter();
        $("axis").querySelector("[data-axis=" + axis + "]").focus(); // the buttons were redrawn: keep the keyboard's place
      } });
  }));
}
function renderScatter() {
  if (!state.data) return;
  renderAxisButtons();
  const cur = currency(), byAmount = state.axis === "amount";
  const rows = state.data.campaigns.filter(function (row) {
    return !byAmount || !Object.keys(row.amount).length || row.amount[cur] != null;
  });
  const left = state.data.campaigns.length - rows.length;
  const xs = rows.map(function (row) { return row.shares; });
  const ys = rows.map(function (row) { return byAmount ? major(row.amount[cur], cur) : row.pledges; });
  const yName = byAmount ? t("higherAmount", cur) : t("higherPledges");
  const box = $("scatter");
  box.textContent = "";
  if (!state.data.campaigns.length) {
    $("scatter-desc").textContent = "";
    box.appendChild(el("p", { "class": "empty", text: t("noCampaigns") }));
    return;
  }
  const sx = scale(xs, true), sy = scale(ys, !byAmount);
  const logNote = [sx.log ? t("shares") : null, sy.log ? t(state.axis) : null].filter(Boolean);
  $("scatter-desc").textContent = t("scatterDesc", yName) + (logNote.length ? " (" + logNote.join(", ") + ": " + t("logScale") + ")" : "") +
    (left ? " " + plural("otherCurrency", left) : "");
  const phone = box.clientWidth < 520;
  const width = Math.max(280, box.clientWidth || 700), height = phone ? 280 : 340;
  const pad = { left: phone ? 46 : 60, right: 14, top: 14, bottom: 40 };
  const plotW = width - pad.left - pad.right, plotH = height - pad.top - pad.bottom;
  function px(v) { return pad.left + plotW * sx.at(v); }
  function py(v) { return pad.top + plotH - plotH * sy.at(v); }
  const c = state.data.correlation, r = byAmount ? c.shares_amount : c.shares_pledges;
  const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", preserveAspectRatio: "none",
    "aria-label": t("chartLabel", num(rows.length), t(state.axis), r == null ? "" : "ρ = " + rho(r) + ".") });
  sy.ticks.forEach(function (v, i) {
    gridLine(chart, py(v), pad.left, width - pad.right, byAmount ? money(v * Math.pow(10, digits(cur)), cur, 1000) : compact(v), i === 0);
  });
  sx.ticks.forEach(function (v, i) {
    const x = px(v);
    chart.appendChild(svg("line", { x1: x, x2: x, y1: pad.top, y2: pad.top + plotH, stroke: i ? "#eef2f7" : "#cbd5e1" }));
    chart.appendChild(svg("text", { x: x, y: pad.top + plotH + 16, "text-anchor": "middle", text: compact(v) }));
  });
  chart.appendChild(svg("text", { "class": "axis", x: pad.left + plotW, y: height - 4, "text-anchor": "end",
    text: t("shares") + (sx.log ? " (" + t("logScale") + ")" : "") + " →" }));
  chart.appendChild(svg("text", { "class": "axis", x: pad.left + 4, y: pad.top + 12,
    text: "↑ " + (byAmount ? t("amount") + " (" + cur + ")" : t("pledges")) + (sy.log ? " (" + t("logScale") + ")" : "") }));
  // Dots, the most pledged last so that they sit on top; every dot names its campaign (title), the leading ones in text too.
  const order = rows.map(function (row, i) { return i; }).sort(function (a, b) { return ys[a] - ys[b] || xs[a] - xs[b]; });
  const placed = [];
  const labelled = order.slice().reverse().filter(function (i) { return xs[i] || ys[i]; }).slice(0, phone ? LABELS / 2 : LABELS);
  order.forEach(function (i) {
    const row = rows[i], x = px(xs[i]), y = py(ys[i]);
    const title = t("picked", row.name, plural("sharesN", row.shares), plural("pledgesN", row.pledges), amounts(row.amount));
    chart.appendChild(svg("circle", { cx: x, cy: y, r: phone ? 5 : 6, fill: "#4338ca", "fill-opacity": 0.72, stroke: "#fff", "stroke-width": 1.5,
      "data-campaign": row.id, "class": state.picked === row.id ? "picked" : null,
      onclick: function () { state.picked = row.id; $("picked").textContent = title; renderScatter(); } },
    svg("title", { text: title })));
  });
  labelled.forEach(function (i) {
    const name = rows[i].name.length > 22 ? rows[i].name.slice(0, 21) + "…" : rows[i].name;
    const w = name.length * 6.4, y = py(ys[i]) + 4;
    let x = px(xs[i]) + 9, anchor = "start";
    if (x + w > width - pad.right) { x = px(xs[i]) - 9; anchor = "end"; }
    const area = { x1: anchor === "end" ? x - w : x, x2: anchor === "end" ? x : x + w, y1: y - 11, y2: y + 3 };
    const clash = placed.some(function (b) { return b.x1 < area.x2 && area.x1 < b.x2 && b.y1 < area.y2 && area.y1 < b.y2; });
    if (clash) return;
    placed.push(area);
    chart.appendChild(svg("text", { "class": "name", x: x, y: y, "text-anchor": anchor, "aria-hidden": "true", text: name }));
  });
  box.appendChild(chart);
}

function renderChannels(channels) {
  if (!channels.length) return fill("channels", el("p", { "class": "empty", text: t("noData") }));
  const rows = channels.slice().sort(function (a, b) {
    return (b.conversion_rate == null ? -1 : b.conversion_rate) - (a.conversion_rate == null ? -1 : a.conversion_rate) || b.clicks - a.clicks;
  });
  const best = rows.reduce(function (m, c) { return Math.max(m, c.conversion_rate || 0); }, 0);
  fill("channels", rows.map(function (c) {
    return el("div", { "data-channel": c.channel },
      channelHead(c.channel, c.conversion_rate == null ? t("noClicks") : pct(c.conversion_rate)),
      bar(c.conversion_rate || 0, best, channelColor(c.channel)),
      el("div", { "class": "metrics", text: t("channelLine", plural("pledgesN", c.pledges), plural("clicksN", c.clicks), plural("sharesN", c.shares)) }));
  }));
}

function renderCampaigns(rows) {
  if (!rows.length) return fill("campaigns", el("p", { "class": "empty", text: t("noCampaigns") }));
  const shown = state.all ? rows : rows.slice(0, TABLE_ROWS);
  fill("campaigns", el("table", null,
    el("thead", null, el("tr", null, th(t("name")), th(t("shares"), "num"), th(t("clicks"), "num hide-phone"),
      th(t("landed"), "num hide-phone"), th(t("pledges"), "num"), th(t("amount"), "num"), th(t("fanShare"), "num hide-phone"))),
    el("tbody", null, shown.map(function (row) {
      return el("tr", { "data-campaign": row.id },
        el("td", { "class": "name", text: row.name }), el("td", { "class": "num", text: num(row.shares) }),
        el("td", { "class": "num hide-phone", text: num(row.clicks) }), el("td", { "class": "num hide-phone", text: num(row.landed) }),
        el("td", { "class": "num", text: num(row.pledges) }), el("td", { "class": "num", text: amounts(row.amount) }),
        el("td", { "class": "num hide-phone", text: pct(row.fan_share) }));
    }))),
  rows.length > shown.length ? el("button", { type: "button", "class": "btn more", text: t("showAll", num(rows.length)), onclick: function () {
    state.all = true;
    renderCampaigns(rows);
  } }) : null);
}

// ---- wiring ----
useStrings(STRINGS);
$("axis").setAttribute("aria-label", t("axis"));
$("kpis").setAttribute("aria-label", t("totals"));
wire({
  signIn: function () { signIn($("token").value.trim()); },
  signOut: account.signOut,
  reload: reload,
  dates: state,
  resized: renderScatter
});
$("alltime").addEventListener("click", function () {
  state.from = state.to = null;
  reload();
});

const saved = account.saved();
if (saved) signIn(saved);
else $("token").focus();
