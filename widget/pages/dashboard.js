// The creator's dashboard (/dashboard): sign in with the campaign's id and key, then its totals,
// funnel, channels, days, referrers, cascade, milestones and fans' rewards, and the CSV files.
// Data: GET /v1/campaigns/{id}/stats with the campaign key. What it shares with the insights
// page is in pages/common.js.
import {
  $, axis, bar, barWidth, channelHead, day, decimal, el, explain, fill, gridLine, kpi, lang, money, moneyMap, num,
  params, pct, plural, query, refresh, request, session, showError, svg, t, th, useStrings, wire
} from "./common.js";
import { FANS_STRINGS, fanByCode, fansLoaded, fansView, loadFans, resetFans } from "./fans.js";
import {
  IMPORTS_STRINGS, campaignChanged as importsCampaign, importsView, open as openImports, reset as resetImports
} from "./imports.js";
import { SETUP_STRINGS, open as openSetup, reset as resetSetup, setupView } from "./setup.js";

const STRINGS = {
  en: {
    dashboard: "Campaign dashboard", signinTitle: "Your campaign's dashboard",
    signinIntro: "See which fans and which channels bring the pledges. Your key stays in this browser tab.",
    campaignId: "Campaign id", key: "Campaign key", keyHint: "The rk_… key you got when the campaign was created.",
    open: "Open the dashboard", csv: "Download CSV",
    funnel: "Funnel", funnelDesc: "From a fan's share to a pledge.", channels: "Channels",
    channelsDesc: "Where the clicks and the pledges came from.", daily: "Day by day", referrers: "Top referrers",
    referrersDesc: "The fans whose links brought the most, by amount then pledges.", cascade: "Cascade",
    cascadeDesc: "Fans recruited by fans, level by level.", milestones: "Community milestones",
    showData: "Show the numbers", footer: "Counts update a few seconds after each share, click and pledge.",
    previews: "Link previews", landed: "Landed on your page", unique: "unique", uniqueClicks: "Unique clicks",
    referrersN: "Referrers", raised: "Raised", ofGoal: "{0} of {1}",
    noGoal: "No goal set", fromFans: "{0} through fans' links",
    viral: "{0} new referrers per referrer", viral_one: "{0} new referrer per referrer", fan: "Referrer", recruitedBy: "recruited by {0}",
    rank: "#", depth1: "Level 1 · found the campaign", depthN: "Level {0} · recruited by level {1}",
    direct: "Direct (no referrer's link): {0}, {1}.", noData: "Nothing yet for this period.",
    noReferrers: "No referrer yet: fans get their link from the widget on your page.",
    noMilestones: "No milestone set.", fanDriven: "{0} driven by fans so far.", reached: "Reached", toGo: "{0} to go",
    date: "Date", signinBad: "This key does not open this campaign.",
    notFound: "No campaign has this id.", loaded: "Stats loaded.", chartOf: "{0} per day, {1} to {2}. Highest: {3} on {4}.",
    dailyDesc: "{0} per day.", period: "{0} – {1}",
    viaFans: "Through fans' links", viaDirect: "Direct", split: "Where the money came from", splitAll: "Where the money came from, since the start",
    perShareShort: "{0} per share", ofClicks: "{0} of clicks", raisedIn: "Raised ({0})",
    metric: "Metric", referrersCount: "{0} referrers", referrersCount_one: "{0} referrer", publicStats: "Public stats (names hidden).",
    rewardsTitle: "Fan rewards", rewardsDesc: "Who unlocked what, to send it to them. A refund takes a reward back until you mark it fulfilled.",
    rewardsCsv: "Download the rewards CSV", noRewards: "No fan has unlocked a reward yet.", reward: "Reward", unlockedAt: "Unlocked",
    fulfilled: "Fulfilled", markFulfilled: "Mark fulfilled", markFulfilledFor: "Mark fulfilled: “{0}” for {1}", fulfilledOn: "Fulfilled {0}",
    markedFulfilled: "Marked fulfilled.", reachAt: "Reach them at", noEmail: "no e-mail stored",
    undoFulfil: "Undo", undoFulfilFor: "Undo fulfilled: “{0}” for {1}", undoneFulfil: "No longer marked fulfilled.",
    fulfilConfirm: "Mark “{0}” fulfilled for {1}? A refund will no longer take it back.",
    undoConfirm: "Undo: “{0}” for {1} is no longer fulfilled? A refund may then take it back."
  },
  fr: {
    dashboard: "Tableau de bord", signinTitle: "Le tableau de bord de votre campagne",
    signinIntro: "Voyez quels fans et quels canaux apportent les contributions. Votre clé reste dans cet onglet.",
    campaignId: "Identifiant de la campagne", key: "Clé de la campagne", keyHint: "La clé rk_… reçue à la création de la campagne.",
    open: "Ouvrir le tableau de bord", csv: "Télécharger le CSV",
    funnel: "Entonnoir", funnelDesc: "Du partage d'un fan à une contribution.", channels: "Canaux",
    channelsDesc: "D'où viennent les clics et les contributions.", daily: "Jour par jour", referrers: "Meilleurs ambassadeurs",
    referrersDesc: "Les fans dont les liens ont le plus apporté, par montant puis contributions.", cascade: "Cascade",
    cascadeDesc: "Des fans recrutés par des fans, niveau par niveau.", milestones: "Paliers de la communauté",
    showData: "Voir les chiffres", footer: "Les chiffres se mettent à jour quelques secondes après chaque partage, clic et contribution.",
    previews: "Aperçus de lien", landed: "Arrivés sur votre page", unique: "uniques", uniqueClicks: "Clics uniques",
    referrersN: "Ambassadeurs", raised: "Collecté", ofGoal: "{0} sur {1}",
    noGoal: "Pas d'objectif", fromFans: "{0} via les liens des fans",
    viral: "{0} nouveaux ambassadeurs par ambassadeur", viral_one: "{0} nouvel ambassadeur par ambassadeur", fan: "Ambassadeur", recruitedBy: "recruté par {0}",
    rank: "#", depth1: "Niveau 1 · ont trouvé la campagne", depthN: "Niveau {0} · recrutés au niveau {1}",
    direct: "Direct (sans lien d'ambassadeur) : {0}, {1}.", noData: "Rien encore sur cette période.",
    noReferrers: "Pas encore d'ambassadeur : les fans prennent leur lien dans le widget de votre page.",
    noMilestones: "Aucun palier défini.", fanDriven: "{0} apportés par les fans jusqu'ici.", reached: "Atteint", toGo: "encore {0}",
    date: "Date", signinBad: "Cette clé n'ouvre pas cette campagne.",
    notFound: "Aucune campagne n'a cet identifiant.", loaded: "Statistiques chargées.", chartOf: "{0} par jour, du {1} au {2}. Maximum : {3} le {4}.",
    dailyDesc: "{0} par jour.", period: "{0} – {1}",
    viaFans: "Via les liens des fans", viaDirect: "Direct", split: "D'où vient l'argent", splitAll: "D'où vient l'argent, depuis le début",
    perShareShort: "{0} par partage", ofClicks: "{0} des clics", raisedIn: "Collecté ({0})",
    metric: "Mesure", referrersCount: "{0} ambassadeurs", referrersCount_one: "{0} ambassadeur", publicStats: "Statistiques publiques (noms masqués).",
    rewardsTitle: "Récompenses des fans", rewardsDesc: "Qui a débloqué quoi, pour le leur envoyer. Un remboursement reprend une récompense tant qu'elle n'est pas marquée remise.",
    rewardsCsv: "Télécharger le CSV des récompenses", noRewards: "Aucun fan n'a encore débloqué de récompense.", reward: "Récompense", unlockedAt: "Débloquée",
    fulfilled: "Remise", markFulfilled: "Marquer remise", markFulfilledFor: "Marquer remise : « {0} » pour {1}", fulfilledOn: "Remise le {0}",
    markedFulfilled: "Marquée remise.", reachAt: "Les joindre", noEmail: "pas d'e-mail enregistré",
    undoFulfil: "Annuler", undoFulfilFor: "Annuler la remise : « {0} » pour {1}", undoneFulfil: "N'est plus marquée remise.",
    fulfilConfirm: "Marquer « {0} » remise pour {1} ? Un remboursement ne la reprendra plus.",
    undoConfirm: "Annuler : « {0} » pour {1} n'est plus remise ? Un remboursement pourra alors la reprendre."
  },
  es: {
    dashboard: "Panel de la campaña", signinTitle: "El panel de tu campaña",
    signinIntro: "Mira qué fans y qué canales traen los aportes. Tu clave se queda en esta pestaña.",
    campaignId: "Id de la campaña", key: "Clave de la campaña", keyHint: "La clave rk_… que recibiste al crear la campaña.",
    open: "Abrir el panel", csv: "Descargar CSV",
    funnel: "Embudo", funnelDesc: "Del compartir de un fan a un aporte.", channels: "Canales",
    channelsDesc: "De dónde vinieron los clics y los aportes.", daily: "Día a día", referrers: "Mejores embajadores",
    referrersDesc: "Los fans cuyos enlaces trajeron más, por importe y luego aportes.", cascade: "Cascada",
    cascadeDesc: "Fans reclutados por fans, nivel por nivel.", milestones: "Metas de la comunidad",
    showData: "Ver los números", footer: "Las cifras se actualizan unos segundos después de cada compartir, clic y aporte.",
    previews: "Vistas previas", landed: "Llegaron a tu página", unique: "únicos", uniqueClicks: "Clics únicos",
    referrersN: "Embajadores", raised: "Recaudado", ofGoal: "{0} de {1}",
    noGoal: "Sin objetivo", fromFans: "{0} por enlaces de fans",
    viral: "{0} embajadores nuevos por embajador", viral_one: "{0} embajador nuevo por embajador", fan: "Embajador", recruitedBy: "reclutado por {0}",
    rank: "#", depth1: "Nivel 1 · encontraron la campaña", depthN: "Nivel {0} · reclutados en el nivel {1}",
    direct: "Directo (sin enlace de embajador): {0}, {1}.", noData: "Nada todavía en este periodo.",
    noReferrers: "Aún no hay embajadores: los fans obtienen su enlace en el widget de tu página.",
    noMilestones: "Sin metas definidas.", fanDriven: "{0} aportados por los fans hasta ahora.", reached: "Alcanzada", toGo: "faltan {0}",
    date: "Fecha", signinBad: "Esta clave no abre esta campaña.",
    notFound: "Ninguna campaña tiene este id.", loaded: "Estadísticas cargadas.", chartOf: "{0} por día, del {1} al {2}. Máximo: {3} el {4}.",
    dailyDesc: "{0} por día.", period: "{0} – {1}",
    viaFans: "Por enlaces de fans", viaDirect: "Directo", split: "De dónde vino el dinero", splitAll: "De dónde vino el dinero, desde el inicio",
    perShareShort: "{0} por compartido", ofClicks: "{0} de los clics", raisedIn: "Recaudado ({0})",
    metric: "Métrica", referrersCount: "{0} embajadores", referrersCount_one: "{0} embajador", publicStats: "Estadísticas públicas (nombres ocultos).",
    rewardsTitle: "Recompensas de los fans", rewardsDesc: "Quién desbloqueó qué, para enviárselo. Un reembolso retira una recompensa mientras no la marques entregada.",
    rewardsCsv: "Descargar el CSV de recompensas", noRewards: "Ningún fan ha desbloqueado una recompensa todavía.", reward: "Recompensa", unlockedAt: "Desbloqueada",
    fulfilled: "Entregada", markFulfilled: "Marcar entregada", markFulfilledFor: "Marcar entregada: «{0}» para {1}", fulfilledOn: "Entregada el {0}",
    markedFulfilled: "Marcada entregada.", reachAt: "Contacto", noEmail: "sin correo guardado",
    undoFulfil: "Deshacer", undoFulfilFor: "Deshacer la entrega: «{0}» para {1}", undoneFulfil: "Ya no está marcada entregada.",
    fulfilConfirm: "¿Marcar «{0}» entregada para {1}? Un reembolso ya no la retirará.",
    undoConfirm: "¿Deshacer: «{0}» para {1} ya no está entregada? Un reembolso podrá retirarla."
  }
};
const AVATAR_COLORS = ["#4338ca", "#7c3aed", "#be185d", "#b45309", "#047857", "#0369a1", "#9333ea", "#c2410c"];
const COUNTS = ["pledges", "clicks", "shares"];
// The daily bars' gradient, top to bottom, for each metric.
const BAR_COLORS = { amount: ["#7c3aed", "#4338ca"], pledges: ["#16a34a", "#15803d"], shares: ["#0ea5e9", "#0284c7"],
  clicks: ["#4338ca", "#3730a3"] };
const FANS_GRADIENT = "linear-gradient(90deg,#4338ca,#7c3aed)";
const STORE = "relais-dashboard";

const state = { id: null, key: null, stats: null, name: null, metric: null, from: params.get("from"), to: params.get("to") };
const account = session({
  store: STORE, secret: "key", first: "campaign",
  load: load,
  shown: function () { renderDaily(state.stats.daily || []); }, // again, now that the chart has a width
  forget: function () {
    state.id = state.key = state.stats = state.name = state.rewardsOn = null;
    resetSetup();
    resetFans();
    resetImports();
    showView("stats");
  }
});

function signIn(id, key) {
  state.id = id;
  state.key = key || null;
  return account.signIn(JSON.stringify({ id: state.id, key: state.key }));
}

// ---- money: the campaign's currency (its goal's, else the first it raised in) comes first ----
function mainCurrency() {
  const s = state.stats;
  if (s && s.goal && s.goal.currency) return s.goal.currency;
  const keys = s ? Object.keys(s.totals.amount || {}) : [];
  return keys[0] || "EUR";
}
function mainAmount(map) { return (map || {})[mainCurrency()] || 0; }
function amounts(map) { return moneyMap(map, mainCurrency()); }
// A pledge in another currency counts in its own, never converted: each view shows every
// currency (cards, channels, the split, the day chart; the CSV too), the same figures in each.
/** The currencies of a money map that hold something, the campaign's first, then by code. */
function currencies(map) {
  const main = mainCurrency();
  return Object.keys(map || {}).filter(function (cur) { return map[cur]; })
    .sort(function (a, b) { return (b === main) - (a === main) || (a < b ? -1 : 1); });
}
/** Money maps added up, currency by currency. */
function addUp(maps) {
  const sum = {};
  maps.forEach(function (map) {
    Object.keys(map || {}).forEach(function (cur) { sum[cur] = (sum[cur] || 0) + map[cur]; });
  });
  return sum;
}
/** What fans' links brought, per currency: every level of the cascade (the campaign's whole life). */
function fansMoney(s) { return addUp(((s.cascade && s.cascade.by_depth) || []).map(function (d) { return d.amount; })); }

// ---- API ----
function api(path, blob) {
  return request("/v1/campaigns/" + encodeURIComponent(state.id) + "/" + path, state.key, { blob: blob });
}
function statsPath(format) { return "stats" + query({ from: state.from, to: state.to, format: format }); }

function load() {
  const named = state.name || !state.key ? Promise.resolve() : api("").then(function (body) {
    state.name = body.campaign && body.campaign.name;
    state.rewardsOn = !!(body.campaign && (body.campaign.rewards || []).length);
  }, function () { /* the name is a nicety: the stats decide */ });
  return refresh(function () {
    return Promise.all([api(statsPath()), named]).then(function (results) { return results[0]; });
  }, function (stats) {
    state.stats = stats;
    render();
  }).then(loadRewards);
}
function reload() {
  return load().catch(function (error) { showError("board-error", error); });
}

// ---- rendering ----
function render() {
  const s = state.stats;
  $("title").textContent = state.name || s.campaign;
  $("title").setAttribute("tabindex", "-1");
  $("subtitle").textContent = t("period", day(s.from, { dateStyle: "medium" }), day(s.to, { dateStyle: "medium" })) +
    (s.public ? " · " + t("publicStats") : "");
  $("from").value = s.from;
  $("to").value = s.to;
  renderKpis(s);
  renderFunnel(s.totals);
  renderChannels(s.channels || []);
  renderDaily(s.daily || []);
  renderReferrers(s.referrers || []);
  renderCascade(s.cascade || { by_depth: [] }, s.direct || { pledges: 0, amount: {} });
  renderMilestones(s);
}

function renderKpis(s) {
  const totals = s.totals, goal = s.goal, raised = mainAmount(totals.amount);
  const share = goal && goal.amount ? Math.min(1, raised / goal.amount) : null;
  fill("kpis",
    kpi(t("raised"), amounts(totals.amount), goal ? t("ofGoal", pct(share), money(goal.amount, goal.currency)) : t("noGoal"),
      share == null ? null : el("div", { "class": "progress", role: "progressbar", "aria-label": t("raised"),
        "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": Math.round(share * 100) },
      el("i", { style: "width:" + barWidth(share * 100) + "%" })), "hero"),
    kpi(t("pledges"), num(totals.pledges), s.fan_amount != null ? t("fromFans", amounts(fansMoney(s))) : null),
    kpi(t("clicks"), num(totals.clicks), num(totals.unique_clicks) + " " + t("unique")),
    kpi(t("shares"), num(totals.shares), totals.clicks_per_share != null ? plural("perShare", totals.clicks_per_share, 1) : null),
    kpi(t("referrersN"), num(totals.referrers), totals.viral_coefficient != null ? plural("viral", totals.viral_coefficient, 2) : null));
}

function renderFunnel(totals) {
  const conversion = totals.conversion_rate != null ? totals.conversion_rate : totals.clicks ? totals.pledges / totals.clicks : null;
  const perShare = totals.clicks_per_share != null ? totals.clicks_per_share : totals.shares ? totals.clicks / totals.shares : null;
  const steps = [["shares", totals.shares, "var(--shares)", null], ["previews", totals.previews, "var(--previews)", null],
    ["clicks", totals.clicks, "var(--clicks)", perShare == null ? null : t("perShareShort", decimal(perShare, 1))],
    ["landed", totals.landed || 0, "var(--landed)", totals.clicks ? t("ofClicks", pct((totals.landed || 0) / totals.clicks)) : null],
    ["pledges", totals.pledges, "var(--pledges)", conversion == null ? null : t("ofClicks", pct(conversion))]];
  const max = Math.max(...steps.map(function (s) { return s[1] || 0; }));
  const rows = steps.map(function (step) {
    return el("div", { "data-step": step[0] },
      el("div", { "class": "row-head" }, el("span", { "class": "name", text: t(step[0]) }),
        el("span", null, step[3] ? el("span", { "class": "rate", text: step[3] }) : null, el("b", { text: num(step[1]) }))),
      bar(step[1], max, step[2]));
  });
  // The money split, one bar per currency: what came through fans' links (the cascade), what came
  // direct. Both are counted over the campaign's life: the title says so when the period holds less.
  const s = state.stats, fans = fansMoney(s), direct = (s.direct && s.direct.amount) || {};
  const life = addUp([fans, direct]), shown = currencies(life);
  if (shown.length) {
    const same = currencies(totals.amount).join() === shown.join() &&
      shown.every(function (cur) { return life[cur] === totals.amount[cur]; });
    rows.push(el("div", { "class": "split" },
      el("div", { "class": "row-head" }, el("span", { "class": "name", text: t(same ? "split" : "splitAll") })),
      shown.map(function (cur) {
        const all = life[cur], viaFans = fans[cur] || 0, viaDirect = direct[cur] || 0;
        return el("div", { "data-currency": cur },
          el("div", { "class": "split-bar", "aria-hidden": "true" },
            el("i", { style: "width:" + (viaFans / all * 100) + "%;background:" + FANS_GRADIENT }),
            el("i", { style: "width:" + (viaDirect / all * 100) + "%;background:#cbd5e1" })),
          el("div", { "class": "legend" },
            el("span", null, el("i", { "class": "dot", style: "background:#5b21b6" }), t("viaFans") + " · " + money(viaFans, cur) + " (" + pct(viaFans / all) + ")"),
            el("span", null, el("i", { "class": "dot", style: "background:#cbd5e1" }), t("viaDirect") + " · " + money(viaDirect, cur))));
      })));
  }
  fill("funnel", rows);
}

function renderChannels(channels) {
  if (!channels.length) return fill("channels", el("p", { "class": "empty", text: t("noData") }));
  // Each metric has its own scale: the longest green bar is the channel with the most pledges.
  const max = {};
  ["shares", "clicks", "pledges"].forEach(function (k) {
    max[k] = Math.max(...channels.map(function (c) { return c[k] || 0; }));
  });
  fill("channels", channels.map(function (c) {
    return el("div", { "data-channel": c.channel }, channelHead(c.channel, amounts(c.amount)),
      el("div", { "class": "metrics" }, ["shares", "clicks", "pledges"].map(function (k) {
        return el("span", null, t(k) + " ", el("b", { "data-k": k, text: num(c[k]) }));
      })),
      ["shares", "clicks", "pledges"].map(function (k) { return bar(c[k], max[k], "var(--" + k + ")", true); }));
  }));
}

// ---- the daily bars: the money ("amount", or one "amount:<CUR>" per currency when there are several), then the counts ----
function metrics() {
  const raised = currencies(state.stats.totals.amount);
  return (raised.length > 1 ? raised.map(function (cur) { return "amount:" + cur; }) : ["amount"]).concat(COUNTS);
}
function isMoney(metric) { return metric.indexOf("amount") === 0; }
function metricCurrency(metric) { return metric.split(":")[1] || mainCurrency(); }
function metricValue(row, metric) { return isMoney(metric) ? (row.amount || {})[metricCurrency(metric)] || 0 : row[metric] || 0; }
function metricLabel(metric) { return metric.indexOf(":") > 0 ? t("raisedIn", metricCurrency(metric)) : t(metric); }
function metricFormat(value, metric, compact) {
  return isMoney(metric) ? money(value, metricCurrency(metric), compact && 10000) : num(value);
}
function renderDaily(daily) {
  const offered = metrics();
  if (offered.indexOf(state.metric) < 0) {
    state.metric = offered.filter(isMoney).find(function (m) {
      return daily.some(function (d) { return metricValue(d, m) > 0; });
    }) || "clicks";
  }
  const metric = state.metric;
  fill("metric", offered.map(function (m) {
    return el("button", { type: "button", "aria-pressed": String(m === metric), text: metricLabel(m), onclick: function () {
      state.metric = m;
      renderDaily(state.stats.daily || []);
    } });
  }));
  $("daily-desc").textContent = t("dailyDesc", metricLabel(metric));
  const box = $("daily");
  box.textContent = "";
  const width = Math.max(280, box.clientWidth || 600), height = 240, left = 56, right = 8, top = 14, bottom = 28;
  const values = daily.map(function (d) { return metricValue(d, metric); });
  const scale = axis(Math.max(...values, 0), !isMoney(metric)), max = scale.top;
  const plotW = width - left - right, plotH = height - top - bottom, band = plotW / Math.max(1, daily.length);
  const barW = Math.max(2, Math.min(40, band * 0.68));
  const best = values.indexOf(Math.max(...values, 0));
  const chart = svg("svg", { viewBox: "0 0 " + width + " " + height, role: "img", preserveAspectRatio: "none",
    "aria-label": daily.length ? t("chartOf", metricLabel(metric), day(daily[0].date), day(daily[daily.length - 1].date),
      metricFormat(values[best] || 0, metric), day(daily[Math.max(0, best)].date)) : t("noData") });
  chart.appendChild(svg("defs", null, svg("linearGradient", { id: "g-bar", x1: 0, x2: 0, y1: 0, y2: 1 },
    svg("stop", { offset: "0", "stop-color": BAR_COLORS[metric.split(":")[0]][0] }),
    svg("stop", { offset: "1", "stop-color": BAR_COLORS[metric.split(":")[0]][1] }))));
  scale.ticks.forEach(function (v, i) {
    gridLine(chart, top + plotH - plotH * v / max, left, width - right, metricFormat(v, metric, true), i === 0);
  });
  const every = Math.max(1, Math.ceil(daily.length / Math.max(2, Math.floor(plotW / 70))));
  daily.forEach(function (d, index) {
    const value = values[index], h = max ? plotH * value / max : 0, x = left + band * index + (band - barW) / 2;
    chart.appendChild(svg("rect", { "class": "bar-rect", x: x, y: top + plotH - h, width: barW, height: Math.max(h, value > 0 ? 2 : 0),
      rx: Math.min(5, barW / 3), fill: "url(#g-bar)" }, svg("title", { text: day(d.date) + ": " + metricFormat(value, metric) })));
    if (band >= 34 && value > 0) {
      chart.appendChild(svg("text", { "class": "value", x: x + barW / 2, y: top + plotH - h - 5, "text-anchor": "middle",
        text: metricFormat(value, metric, true) }));
    }
    if (index % every === 0 || index === daily.length - 1 && daily.length < 40) {
      chart.appendChild(svg("text", { x: left + band * index + band / 2, y: height - 8, "text-anchor": "middle", text: day(d.date) }));
    }
  });
  box.appendChild(chart);
  fill("daily-table", el("table", null,
    el("thead", null, el("tr", null, ["date", "shares", "clicks", "uniqueClicks", "pledges", "amount"].map(function (h, i) {
      return th(t(h), i ? "num" : null);
    }))),
    el("tbody", null, daily.map(function (d) {
      return el("tr", null, el("td", { text: day(d.date, { dateStyle: "medium" }) }),
        ["shares", "clicks", "unique_clicks", "pledges"].map(function (k) { return el("td", { "class": "num", text: num(d[k]) }); }),
        el("td", { "class": "num", text: amounts(d.amount) }));
    }))));
}

// ---- referrers, cascade, milestones ----
function initials(name) {
  const words = String(name || "?").trim().split(/\s+/);
  return ((words[0] || "?")[0] + (words.length > 1 ? words[words.length - 1][0] : "")).toUpperCase();
}
function avatarColor(text) {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return AVATAR_COLORS[h % AVATAR_COLORS.length];
}
function renderReferrers(referrers) {
  if (!referrers.length) return fill("referrers", el("p", { "class": "empty", text: t("noReferrers") }));
  const names = {};
  referrers.forEach(function (r) { if (r.code) names[r.code] = r.name; });
  const maxAmount = Math.max(...referrers.map(function (r) { return mainAmount(r.amount); }), 1);
  fill("referrers", el("table", null,
    el("thead", null, el("tr", null, th(t("rank")), th(t("fan")), th(t("clicks"), "num hide-phone"),
      th(t("uniqueClicks"), "num hide-phone"), th(t("pledges"), "num hide-phone"), th(t("amount"), "num"))),
    el("tbody", null, referrers.slice(0, 25).map(function (r, index) {
      const name = r.name || ("#" + (r.rank || index + 1));
      const by = r.referred_by ? (names[r.referred_by] || r.referred_by) : null;
      return el("tr", { "data-code": r.code || null },
        el("td", { "class": "rank", text: r.rank || index + 1 }),
        el("td", null, el("div", { "class": "who" },
          el("span", { "class": "avatar", style: "background:" + avatarColor(r.code || name), "aria-hidden": "true", text: initials(name) }),
          el("div", null, el("div", { "class": "name", "data-k": "name", text: name }),
            by ? el("div", { "class": "by", "data-k": "referred_by", text: t("recruitedBy", by) }) : null,
            el("div", { "class": "by phone-only", text: plural("clicksN", r.clicks) + " · " + plural("pledgesN", r.pledges) }),
            bar(mainAmount(r.amount), maxAmount, FANS_GRADIENT, true)))),
        ["clicks", "unique_clicks", "pledges"].map(function (k) {
          return el("td", { "class": "num hide-phone", "data-k": k, text: num(r[k]) });
        }),
        el("td", { "class": "num", "data-k": "amount" }, el("b", { text: amounts(r.amount) })));
    }))));
}

function renderCascade(cascade, direct) {
  const levels = (cascade.by_depth || []).filter(function (d) { return d.referrers || d.pledges; });
  if (!levels.length) fill("cascade", el("p", { "class": "empty", text: t("noData") }));
  else {
    const max = Math.max(...levels.map(function (d) { return d.referrers; }), 1);
    fill("cascade", levels.map(function (d) {
      return el("div", { "data-depth": d.depth },
        el("div", { "class": "row-head" },
          el("span", { "class": "name", text: d.depth === 1 ? t("depth1") : t("depthN", d.depth, d.depth - 1) }),
          el("b", { text: amounts(d.amount) })),
        el("div", { "class": "metrics" }, el("span", { text: plural("referrersCount", d.referrers) }),
          el("span", { text: plural("pledgesN", d.pledges) })),
        bar(d.referrers, max, d.depth === 1 ? "#4338ca" : d.depth === 2 ? "#7c3aed" : "#c026d3"));
    }));
  }
  $("direct").textContent = t("direct", plural("pledgesN", direct.pledges), amounts(direct.amount));
}

function renderMilestones(s) {
  const list = s.milestones || [], cur = mainCurrency(), fan = s.fan_amount || 0;
  $("milestones-desc").textContent = list.length ? t("fanDriven", money(fan, cur)) : "";
  if (!list.length) return fill("milestones", el("li", { "class": "empty", text: t("noMilestones") }));
  fill("milestones", list.map(function (m) {
    return el("li", null, el("span", { "class": "check" + (m.reached ? " done" : ""), "aria-hidden": "true", text: m.reached ? "✓" : "" }),
      el("div", null,
        el("div", { "class": "row-head" }, el("span", { "class": "name", text: m.label }), el("b", { text: money(m.amount, cur) })),
        m.reached ? el("span", { "class": "pill", text: t("reached") })
          : el("div", null, bar(fan, m.amount, FANS_GRADIENT, true),
            el("div", { "class": "metrics", text: t("toGo", money(Math.max(0, m.amount - fan), cur)) }))));
  }));
}

// ---- fan rewards: who unlocked what, for fulfilment (only when the campaign offers rewards) ----
function stamp(iso) { return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)); }
function loadRewards() {
  $("rewards-card").hidden = !state.rewardsOn;
  if (!state.rewardsOn) return Promise.resolve();
  const emails = fansLoaded() ? Promise.resolve() : loadFans(true).catch(function () { /* e-mails are a nicety */ });
  return Promise.all([api("rewards"), emails]).then(function (got) { return got[0]; }).then(function (body) { renderRewards(body.rewards || []); }, function (error) {
    fill("rewards", el("p", { "class": "error", role: "alert", text: explain(error) }));
  });
}
function renderRewards(rows) {
  if (!rows.length) return fill("rewards", el("p", { "class": "empty", text: t("noRewards") }));
  fill("rewards", el("table", null,
    el("thead", null, el("tr", null, ["fan", "reachAt", "reward", "unlockedAt", "fulfilled"].map(function (h) { return th(t(h)); }))),
    el("tbody", null, rows.map(function (r) {
      const who = r.name || r.code, fan = fanByCode()[r.code];
      return el("tr", { "data-reward": r.code + ":" + r.pledges },
        el("td", null, el("div", { "class": "who" }, el("div", null, el("div", { "class": "name", text: who }),
          el("div", { "class": "by", text: r.code })))),
        el("td", { "data-k": "email" }, fan && fan.email ? el("a", { href: "mailto:" + fan.email, text: fan.email })
          : el("span", { "class": "by", text: t("noEmail") })),
        el("td", null, el("div", { "data-k": "label", text: r.label }), el("div", { "class": "by", text: plural("pledgesN", r.pledges) })),
        el("td", { text: r.unlocked_at ? stamp(r.unlocked_at) : "–" }),
        el("td", { "data-k": "fulfilled" }, r.fulfilled_at ? [el("span", { "class": "pill", text: t("fulfilledOn", stamp(r.fulfilled_at)) }), " ",
          el("button", { type: "button", "class": "btn small", text: t("undoFulfil"), "aria-label": t("undoFulfilFor", r.label, who),
            onclick: function (event) { fulfil(r, event.currentTarget, true); } })]
          : el("button", { type: "button", "class": "btn", text: t("markFulfilled"), "aria-label": t("markFulfilledFor", r.label, who),
            onclick: function (event) { fulfil(r, event.currentTarget); } })));
    }))));
}
function fulfil(row, button, undo) {
  const who = row.name || row.code;
  if (!confirm(t(undo ? "undoConfirm" : "fulfilConfirm", row.label, who))) return;
  button.disabled = true;
  request("/v1/campaigns/" + encodeURIComponent(state.id) + "/rewards/fulfilments", state.key,
    { method: undo ? "DELETE" : "POST", body: { code: row.code, pledges: row.pledges } }).then(function () {
    $("announce").textContent = t(undo ? "undoneFulfil" : "markedFulfilled");
    return loadRewards();
  }).catch(function (error) {
    button.disabled = false;
    showError("board-error", error);
  });
}

// ---- CSV files: fetched with the key, saved as a file ----
function saveFile(blob, name) {
  const url = URL.createObjectURL(blob), link = el("a", { href: url, download: name });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
}
function download(button, path, name) {
  button.disabled = true;
  api(path, true).then(function (blob) { saveFile(blob, name()); }, function (error) { showError("board-error", error); })
    .then(function () { button.disabled = false; });
}

// ---- the views: figures, fans, setup ----
function showView(name) {
  document.querySelectorAll("#views button").forEach(function (button) {
    button.setAttribute("aria-pressed", String(button.dataset.view === name));
    $("view-" + button.dataset.view).hidden = button.dataset.view !== name;
  });
  $("range").hidden = $("csv").hidden = name !== "stats";
  if (name === "fans") loadFans(false).catch(function (error) { showError("board-error", error); });
  if (name === "setup") openSetup();
  if (name === "imports") openImports();
}
function merged(...tables) {
  const all = {};
  ["en", "fr", "es"].forEach(function (language) {
    all[language] = Object.assign({}, ...tables.map(function (table) { return table[language]; }));
  });
  return all;
}
const console_ = {
  id: function () { return state.id; },
  key: function () { return state.key; },
  currency: mainCurrency,
  announce: function (text) { $("announce").textContent = text; },
  error: function (error) { showError("board-error", error); },
  saveFile: saveFile,
  show: function (view) {
    showView(view);
    document.querySelector('#views button[data-view="' + view + '"]').focus();
  },
  setKey: function (key) {
    state.key = key;
    try { sessionStorage.setItem(STORE, JSON.stringify({ id: state.id, key: key })); } catch { /* private mode */ }
  },
  changed: function (campaign) {
    state.name = campaign.name;
    state.rewardsOn = !!(campaign.rewards || []).length;
    $("title").textContent = campaign.name;
    importsCampaign(campaign);
  }
};

// ---- wiring ----
useStrings(merged(STRINGS, SETUP_STRINGS, FANS_STRINGS, IMPORTS_STRINGS));
$("views").setAttribute("aria-label", t("views"));
document.querySelectorAll("#views button").forEach(function (button) {
  button.addEventListener("click", function () { showView(button.dataset.view); });
});
setupView(console_);
fansView(console_);
importsView(console_);
$("metric").setAttribute("aria-label", t("metric"));
$("kpis").setAttribute("aria-label", t("totals"));
wire({
  signIn: function () { signIn($("campaign").value.trim(), $("key").value.trim()); },
  signOut: account.signOut,
  reload: reload,
  dates: state,
  resized: function () { if (state.stats) renderDaily(state.stats.daily || []); }
});
$("csv").addEventListener("click", function () {
  download($("csv"), statsPath("csv"), function () { return "relais-" + state.id + "-" + state.stats.from + "-" + state.stats.to + ".csv"; });
});
$("rewards-csv").addEventListener("click", function () {
  download($("rewards-csv"), "rewards?format=csv", function () { return "relais-" + state.id + "-rewards.csv"; });
});
setInterval(function () { if (state.stats && document.visibilityState === "visible") reload(); }, 60000);

let saved = null;
try { saved = JSON.parse(account.saved()); } catch { /* nothing kept */ }
$("campaign").value = params.get("campaign") || (saved && saved.id) || "";
if (saved && saved.id && (!params.get("campaign") || params.get("campaign") === saved.id)) signIn(saved.id, saved.key);
else ($("campaign").value ? $("key") : $("campaign")).focus();
