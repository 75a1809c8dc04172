/*! Relais widget | docs/embedding.md */
/*
 * Source of widget/widget.js, which is this file minified (`npm run build:widget`; a test checks
 * that the two agree). Embedding is one line:
 *   <script src="https://<api>/widget.js" data-campaign="ID" async></script>
 * Optional attributes: data-locale ("fr", "en", "es" or "auto" for the browser's language; default:
 * the campaign's), data-target (a CSS selector: render inside that element instead of after the
 * script), data-forms (a CSS selector: only those forms get the hidden relais_ref field).
 *
 * Rules this file keeps: no third-party requests; everything is rendered inside a Shadow DOM with
 * :host reset by !important declarations (which beat the host page's, even its !important ones);
 * anything from the API or the user is set as text or an attribute, never parsed as HTML; every
 * callback is wrapped so that an error is logged, never thrown into the host page; if the API
 * cannot be reached the widget shows a plain share link of the page.
 */
(function (win, doc) {
  "use strict";
  // Every string the widget shows, one block per locale.
  var STRINGS = {
    fr: {
      loading: "Chargement…", raised: "collectés sur {0}", raised0: "collectés", pledges: "contributions",
      fans: "ambassadeurs", title: "Partagez, voyez votre impact",
      intro: "Votre lien personnel : chaque clic et chaque contribution qu'il apporte vous sont comptés.",
      name: "Votre nom ou pseudo", email: "E-mail (facultatif)",
      consent: "Facultatif : seul le créateur de la campagne le voit, pour vous écrire. Jamais affiché, effacé sur demande.",
      get: "Obtenir mon lien", link: "Votre lien personnel", copy: "Copier", copied: "Lien copié !", done: "Copié !",
      on: "Partager sur {0}", native: "Partager…", more: "Plus…", qr: "Votre QR code", qrAlt: "QR code de votre lien",
      qrDl: "Télécharger le QR code", impact: "Votre impact", clicks: "clics", rank: "rang",
      clicks1: "clic", pledges1: "contribution", fans1: "ambassadeur",
      board: "Meilleurs ambassadeurs", empty: "Soyez le premier !", you: "vous",
      miles: "Paliers de la communauté", driven: "{0} apportés par les fans", reached: "Atteint", next: "Prochain",
      notYou: "Ce n'est pas vous ?", error: "Impossible de créer votre lien. Réessayez.",
      needName: "Indiquez un nom.", fallback: "Partagez cette campagne", widget: "Partage de la campagne", email_: "E-mail",
      rewards: "Récompenses des ambassadeurs", myRewards: "Vos récompenses", unlocked: "Débloquée",
      nextReward: "Prochaine récompense : {0}", have: "Vous avez déjà un lien ?", send: "M'envoyer mon lien",
      sent: "S'il a un lien ici, nous l'y avons envoyé.", notify: "M'écrire quand je débloque une récompense",
      again: "Cela n'a pas marché : redemandez-le."
    },
    en: {
      loading: "Loading…", raised: "raised of {0}", raised0: "raised", pledges: "pledges", fans: "referrers",
      title: "Share it, see your impact",
      intro: "Your personal link: every click and every pledge it brings is credited to you.",
      name: "Your name or nickname", email: "Email (optional)",
      consent: "Optional: only the campaign's creator sees it, to reach you. Never shown publicly, erased on request.",
      get: "Get my link", link: "Your personal link", copy: "Copy", copied: "Link copied!", done: "Copied!",
      on: "Share on {0}", native: "Share…", more: "More…", qr: "Your QR code", qrAlt: "QR code of your link",
      qrDl: "Download the QR code", impact: "Your impact", clicks: "clicks", rank: "rank",
      clicks1: "click", pledges1: "pledge", fans1: "referrer",
      board: "Top referrers", empty: "Be the first!", you: "you",
      miles: "Community milestones", driven: "{0} driven by fans", reached: "Reached", next: "Next",
      notYou: "Not you?", error: "Could not create your link. Please try again.",
      needName: "Please enter a name.", fallback: "Share this campaign", widget: "Campaign sharing", email_: "Email",
      rewards: "Rewards for referrers", myRewards: "Your rewards", unlocked: "Unlocked", nextReward: "Next reward: {0}",
      have: "Already have a link?", send: "Email me my link",
      sent: "If it has a link here, we've emailed it.", notify: "Email me when I unlock a reward",
      again: "That did not work: ask again."
    },
    es: {
      loading: "Cargando…", raised: "recaudados de {0}", raised0: "recaudados", pledges: "aportes",
      fans: "embajadores", title: "Comparte, mira tu impacto",
      intro: "Tu enlace personal: cada clic y cada aporte que traiga se te atribuye.",
      name: "Tu nombre o apodo", email: "Correo (opcional)",
      consent: "Opcional: solo lo ve el creador de la campaña, para escribirte. Nunca se publica; se borra si lo pides.",
      get: "Obtener mi enlace", link: "Tu enlace personal", copy: "Copiar", copied: "¡Enlace copiado!", done: "¡Copiado!",
      on: "Compartir en {0}", native: "Compartir…", more: "Más…", qr: "Tu código QR", qrAlt: "Código QR de tu enlace",
      qrDl: "Descargar el código QR", impact: "Tu impacto", clicks: "clics", rank: "puesto",
      clicks1: "clic", pledges1: "aporte", fans1: "embajador",
      board: "Mejores embajadores", empty: "¡Sé el primero!", you: "tú",
      miles: "Metas de la comunidad", driven: "{0} aportados por los fans", reached: "Alcanzada", next: "Siguiente",
      notYou: "¿No eres tú?", error: "No se pudo crear tu enlace. Inténtalo de nuevo.",
      needName: "Escribe un nombre.", fallback: "Comparte esta campaña", widget: "Compartir la campaña", email_: "Correo",
      rewards: "Recompensas para embajadores", myRewards: "Tus recompensas", unlocked: "Desbloqueada",
      nextReward: "Próxima recompensa: {0}", have: "¿Ya tienes un enlace?", send: "Enviarme mi enlace",
      sent: "Si tiene un enlace aquí, se lo enviamos.", notify: "Escríbeme cuando desbloquee una recompensa",
      again: "No funcionó: vuelve a pedirlo."
    }
  };
  // Channels with a share dialog: label (0 = translated) and colour.
  var CHANNELS = { x: ["X", "#111"], facebook: ["Facebook", "#1877f2"], whatsapp: ["WhatsApp", "#1faa53"],
    telegram: ["Telegram", "#229ed9"], linkedin: ["LinkedIn", "#0a66c2"], bluesky: ["Bluesky", "#1185fe"],
    mastodon: ["Mastodon", "#6364ff"], reddit: ["Reddit", "#ff4500"], email: [0, "#64748b"], sms: ["SMS", "#0d9488"] };
  var REF = /^[0-9A-Za-z]{4,16}\.[0-9a-z]{2,6}\.[\w-]{8}$/;
  var CSS = ":host{all:initial!important;display:block!important}" +
    ".w{--a:#4338ca;--m:#475569;--b:#e2e8f0;--s:#f8fafc;font:15px/1.45 -apple-system,BlinkMacSystemFont,'Segoe UI'," +
    "Roboto,Inter,Arial,sans-serif;color:#0f172a;background:#fff;border:1px solid var(--b);border-radius:16px;" +
    "padding:20px;box-shadow:0 8px 24px #0f172a10;max-width:560px;overflow-wrap:anywhere}*{box-sizing:border-box}" +
    "h2,h3,p{margin:0}h2{font-size:18px;line-height:1.3}h3{font-size:13px;text-transform:uppercase;" +
    "letter-spacing:.06em;color:var(--m);margin:20px 0 8px}.amt{font-size:26px;font-weight:700}.m{color:var(--m)}" +
    ".s{color:var(--m);font-size:13px}.bar{height:10px;border-radius:9px;background:#e0e7ff;overflow:hidden;margin:8px 0}" +
    ".bar i{display:block;height:100%;background:linear-gradient(90deg,var(--a),#7c3aed)}" +
    ".r{display:flex;gap:8px;align-items:center;flex-wrap:wrap}.t{display:flex;gap:8px;margin-top:12px}" +
    ".t div{flex:1;background:var(--s);border-radius:10px;padding:8px 10px}.t b{display:block;font-size:18px}" +
    ".box{margin-top:18px;padding-top:18px;border-top:1px solid var(--b)}" +
    "label{display:block;font-weight:600;font-size:13px;margin:12px 0 4px}input,button,.b{font:inherit;color:inherit;" +
    "border:1px solid #94a3b8;border-radius:10px;padding:9px 12px;background:#fff}input{width:100%}" +
    "button,.b{font-weight:600;cursor:pointer;text-decoration:none;display:inline-flex;align-items:center;gap:6px;" +
    "border-color:var(--b)}.p{background:var(--a);border-color:var(--a);color:#fff;margin-top:14px}" +
    "button:hover,.b:hover{border-color:var(--m)}.p:hover{background:#3730a3}:focus-visible{outline:3px solid #f59e0b;" +
    "outline-offset:2px}.l{flex:1;min-width:0;font-weight:600;background:var(--s)}.sh .b{padding:7px 12px;font-size:14px}" +
    ".sh{margin-top:10px}.d{width:10px;height:10px;border-radius:50%}ol,ul{list-style:none;margin:0;padding:0}" +
    "li{display:flex;gap:10px;align-items:center;padding:7px 4px;border-bottom:1px solid #f1f5f9}li:last-child{border:0}" +
    ".n{width:24px;height:24px;border-radius:50%;background:#eef2ff;color:#3730a3;font-size:12px;font-weight:700;" +
    "display:inline-flex;align-items:center;justify-content:center;flex:none}.me{background:#eef2ff;border-radius:8px}" +
    ".g{flex:1;min-width:0}.ok{background:#dcfce7;color:#166534}.qr img{border:1px solid var(--b);border-radius:8px}" +
    ".e{color:#b91c1c;font-size:13px;margin-top:8px}.k{border:0;padding:0;color:var(--a);font-weight:500;" +
    "font-size:13px;text-decoration:underline;margin:8px 0 0}.o{background:#fff;border:2px solid #e0e7ff}.x{border-color:var(--a)}[hidden],.mo{display:none!important}" +
    ".v{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    // Phones: the link on a line of its own, four share buttons and "More…" for the rest.
    "@media(max-width:480px){.w{padding:14px}.lr .l{flex-basis:100%;font-size:14px}" +
    ".sh:not(.all)>:nth-child(n+5){display:none}.sh:not(.all)>.mo{display:inline-flex!important}}";

  function noop() {}
  function warn(e) { try { console.warn("[relais]", e); } catch { /* no console */ } }
  function guard(fn) {
    return function () { try { return fn.apply(this, arguments); } catch (e) { warn(e); } };
  }
  function list(v) { return Array.isArray(v) ? v : []; }
  function each(nodes, fn) { Array.prototype.forEach.call(nodes, fn); }
  function safeUrl(u, schemes) {
    try { u = new URL(u); return (schemes || /^https?:$/).test(u.protocol) ? u.href : null; } catch { return null; }
  }
  // An element. Children that are strings become text nodes: nothing is ever parsed as HTML.
  function h(tag, props) {
    var el = doc.createElement(tag), k, v;
    for (k in props) {
      v = props[k];
      if (v == null || v === false) continue;
      if (k.slice(0, 2) == "on") el.addEventListener(k.slice(2), guard(v));
      else if (k == "style") el.style.cssText = v; // CSSOM: allowed under a strict style-src
      else el.setAttribute(k, v === true ? "" : v);
    }
    [].concat.apply([], [].slice.call(arguments, 2)).forEach(function (c) {
      if (c != null && c !== false) el.appendChild(c.nodeType ? c : doc.createTextNode(c));
    });
    return el;
  }

  function Widget(script) {
    var ds = script.dataset, cid = ds.campaign, base = script.src.replace(/\/widget\.js(\?.*)?$/, ""), mem = {};
    var data, fan, impact, loc = "en", root, status, sheet;
    var copied = 0, timer, more; // when the link was last copied ("Copied!" for 2 s); "More…" pressed
    var rec; // "Already have a link?": 1 asking, 2 asked, 3 asking after a sign-in link failed

    function key(k) { return "relais:" + cid + ":" + k; }
    function load(k) {
      try { return JSON.parse(localStorage.getItem(key(k))); } catch { return mem[k] || null; }
    }
    function save(k, v) {
      mem[k] = v;
      try { v ? localStorage.setItem(key(k), JSON.stringify(v)) : localStorage.removeItem(key(k)); } catch { /* storage off */ }
    }
    function t(k, a) { return (STRINGS[loc][k] || k).replace("{0}", a); }
    // A count's label: "1 pledge", "2 pledges" (and French's "0 contribution").
    function n(k, count) {
      var one = false;
      try { one = new Intl.PluralRules(loc).select(+count || 0) == "one"; } catch { /* plural */ }
      return t(one ? k + "1" : k);
    }
    function pickLocale(c) {
      // data-locale, else the campaign's, else the browser's; "auto": the browser's, else the campaign's.
      var browser = list(navigator.languages).concat(navigator.language), campaign = c && c.locale;
      var wanted = ds.locale == "auto" ? browser.concat(campaign) : [ds.locale, campaign].concat(browser);
      for (var i = 0; i < wanted.length; i++) {
        var l = String(wanted[i] || "").slice(0, 2).toLowerCase();
        if (STRINGS[l]) return l;
      }
      return "en";
    }
    function fmt(n, opts) { try { return new Intl.NumberFormat(loc, opts).format(n); } catch { return String(n); } }
    function money(minor, cur) {
      var d = 2;
      try { d = new Intl.NumberFormat("en", { style: "currency", currency: cur }).resolvedOptions().maximumFractionDigits; } catch { /* 2 */ }
      var v = (+minor || 0) / Math.pow(10, d);
      return fmt(v, { style: "currency", currency: cur, minimumFractionDigits: v % 1 ? d : 0, maximumFractionDigits: d });
    }
    function num(n) { return fmt(+n || 0); }

    // Attribution: the touch is kept in this site's own storage (first and last, with their time).
    function expired(touch, days) { return !touch || Date.now() - touch.t > days * 864e5; }
    function capture() {
      var q = new URLSearchParams(location.search), r = q.get("ref"), uc = q.get("utm_campaign");
      var own = load("fan"), touches = load("touch") || {}, touch = { ref: r, t: Date.now() };
      if (!REF.test(r) || (uc && uc != cid)) return;
      send("/v1/landings", { ref: r }); // proof that a browser running this page arrived: once per page view
      if (own && r.split(".")[0] == own.code) return; // own clicks credit nobody
      if (expired(touches.first, (load("cfg") || {}).days || 30)) touches.first = touch;
      touches.last = touch;
      save("touch", touches);
    }
    function ref() {
      var touches = load("touch") || {}, cfg = load("cfg") || {}, days = cfg.days || 30;
      var pick = cfg.model == "first_click" && !expired(touches.first, days) ? touches.first : touches.last;
      return !expired(pick, days) && REF.test(pick.ref) ? pick.ref : null;
    }
    function stamp(form) {
      var r = ref(), f;
      if (!r || !form || form.nodeName != "FORM" || (ds.forms && !form.matches(ds.forms))) return;
      f = form.querySelector("input[name=relais_ref]") || form.appendChild(h("input", { type: "hidden", name: "relais_ref" }));
      f.value = r;
    }
    function stripe(a) {
      var r = ref(), u;
      if (!r || !a || !/^https:\/\/buy\.stripe\.com\//.test(a.href)) return;
      u = new URL(a.href);
      // Stripe keeps client_reference_id only if it is [A-Za-z0-9_-]: the ref's two dots become "_".
      u.searchParams.set("client_reference_id", r.replace(".", "_").replace(".", "_"));
      a.href = u.href;
    }
    function decorate() {
      each(doc.forms, stamp);
      each(doc.querySelectorAll("a[href^='https://buy.stripe.com/']"), stripe);
    }

    // The API: plain GETs and text/plain POSTs, so no CORS preflight is needed.
    function api(path, body, fresh) {
      var ctl = new AbortController(), timer = setTimeout(function () { ctl.abort(); }, 8000);
      return fetch(base + path, body ? { method: "POST", body: JSON.stringify(body), signal: ctl.signal, credentials: "omit" }
        : { cache: fresh ? "no-cache" : "default", signal: ctl.signal, credentials: "omit" }).then(function (r) {
        clearTimeout(timer);
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
    }
    function send(path, data) {
      var body = JSON.stringify(data), url = base + path;
      try { if (navigator.sendBeacon(url, body)) return; } catch { /* fall back to fetch */ }
      fetch(url, { method: "POST", body: body, keepalive: true, credentials: "omit" }).catch(noop);
    }
    function beacon(channel) { send("/v1/shares", { code: fan.code, channel: channel }); }
    function tagged(channel) { return fan.short_url + "?c=" + channel; }

    // Rendering: the whole card is rebuilt on each change; focus, typed values and the last
    // status message ("Link copied!") are kept.
    function paint(kids, busy) {
      var w = h("section", { "class": "w", lang: loc, "aria-label": t("widget"), "aria-busy": busy && "true" }, kids);
      var a = root.activeElement, keep = {}, again, said = status && status.textContent;
      var focus = a && (a.id ? "#" + a.id : a.dataset.c ? "[data-c=" + a.dataset.c + "]" : a.className && "." + a.className);
      each(root.querySelectorAll("input[id]"), function (i) { keep[i.id] = i.value; });
      w.appendChild(status = h("p", { "class": "v", role: "status" }, said || null)); // the Copy button shows it
      root.textContent = "";
      if (sheet) root.adoptedStyleSheets = [sheet];
      else root.appendChild(h("style", null, CSS));
      root.appendChild(w);
      each(w.querySelectorAll("input[id]"), function (i) { if (keep[i.id]) i.value = keep[i.id]; });
      if (focus && (again = w.querySelector(focus))) again.focus();
      return w;
    }
    // The Copy button: "Copied!" for 2 s once the link is copied (the card may be redrawn meanwhile).
    function copyButton(onclick) {
      return h("button", { type: "button", "data-c": "copy", onclick: onclick }, t(Date.now() - copied < 2e3 ? "done" : "copy"));
    }
    function copy(text) {
      function manual() { var f = root.querySelector("#rl"); f.focus(); f.select(); } // no Clipboard API: Ctrl+C
      function done() {
        var b = root.querySelector("[data-c=copy]");
        copied = Date.now();
        if (b) b.textContent = t("done");
        status.textContent = ""; // a second copy is announced again
        setTimeout(function () { status.textContent = t("copied"); }, 50);
        clearTimeout(timer);
        timer = setTimeout(guard(function () { var b = root.querySelector("[data-c=copy]"); if (b) b.textContent = t("copy"); }), 2e3);
      }
      try { navigator.clipboard.writeText(text).then(guard(done), manual); } catch { manual(); }
    }
    function tile(value, label) { return h("div", null, h("b", null, value), h("span", { "class": "s" }, label)); }
    function fallback(err) {
      var u = new URL(location.href);
      warn(err);
      loc = pickLocale(load("cfg"));
      ["ref", "utm_source", "utm_medium", "utm_campaign"].forEach(function (p) { u.searchParams.delete(p); });
      paint([h("h2", null, t("fallback")), h("p", { "class": "r lr", style: "margin-top:10px" }, h("input", { id: "rl", "class": "l",
        readonly: true, value: u.href, "aria-label": t("fallback") }), copyButton(function () { copy(u.href); }))]);
    }
    // A bar's width: nothing for nothing, at least a sliver for something.
    function width(part) { return "width:" + (part > 0 ? Math.max(2, Math.min(100, part)) : 0) + "%"; }
    function progress(c) {
      var goal = c.goal && c.goal.currency ? c.goal : null, raised = c.raised || {};
      var cur = goal ? goal.currency : Object.keys(raised)[0] || "EUR", amount = +raised[cur] || 0;
      var share = goal && goal.amount > 0 ? Math.min(1, amount / goal.amount) : null;
      var of = goal ? t("raised", money(goal.amount, cur)) : t("raised0");
      // Every currency pledged in, the goal's first: another currency counts, never converted.
      var all = [money(amount, cur)].concat(Object.keys(raised).sort().filter(function (k) { return k != cur && +raised[k]; })
        .map(function (k) { return money(raised[k], k); })).join(" + ");
      return [h("h2", null, c.name),
        h("p", { "class": "r", style: "margin-top:10px;align-items:baseline" }, h("span", { "class": "amt" }, all),
          h("span", { "class": "m g" }, of), share == null ? null : h("b", null, fmt(share, { style: "percent", maximumFractionDigits: 1 }))),
        share == null ? null : h("div", { "class": "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100,
          "aria-valuenow": Math.round(share * 100), "aria-label": of }, h("i", { style: width(share * 100) })),
        h("div", { "class": "t" }, tile(num(c.pledges), n("pledges", c.pledges)), tile(num(c.referrers), n("fans", c.referrers)))];
    }
    // The sign-up form; or, after "Already have a link?" (when the campaign e-mails its fans,
    // rec set), the e-mail alone: a sign-in link goes to it if it has a link here, and the
    // answer is the same either way.
    function form() {
      var err = h("p", { "class": "e", role: "alert", hidden: rec != 3 }, t("again")), name, email, button, box;
      function fail(msg) { err.textContent = msg; err.hidden = false; button.disabled = false; }
      return h("form", { "class": "box", novalidate: true, onsubmit: function (e) {
        var body, r = ref();
        e.preventDefault();
        if (rec) {
          button.disabled = true;
          return api("/v1/campaigns/" + encodeURIComponent(cid) + "/referrers/recover", { email: email.value.trim() })
            .then(function () { rec = 2; draw(); }, function () { fail(t("again")); });
        }
        body = { name: name.value.trim().slice(0, 60) };
        if (!body.name) return fail(t("needName")), name.focus();
        if (email.value.trim()) body.email = email.value.trim(), body.notify = !!box && box.checked;
        if (r) body.referred_by = r;
        button.disabled = true;
        api("/v1/campaigns/" + encodeURIComponent(cid) + "/referrers", body).then(function (link) {
          fan = link;
          save("fan", link);
          draw(true);
          refreshImpact();
          setTimeout(function () { refresh(true); }, 2500); // the leaderboard, once the new fan is counted
        }).catch(guard(function (e) { warn(e); fail(t("error")); }));
      } },
      h("h2", null, t(rec ? "have" : "title")), !rec && [h("p", { "class": "s", style: "margin-top:4px" }, t("intro")),
        h("label", { "for": "rn" }, t("name")),
        name = h("input", { id: "rn", name: "name", autocomplete: "nickname", maxlength: 60, required: true })],
      h("label", { "for": "re" }, t(rec ? "email_" : "email")),
      email = h("input", { id: "re", name: "email", type: "email", autocomplete: "email", "aria-describedby": !rec && "rc" }),
      !rec && h("p", { id: "rc", "class": "s", style: "margin-top:4px" }, t("consent")),
      !rec && data.email && data.rewards[0] && h("label", { "class": "r" },
        box = h("input", { id: "rw", type: "checkbox", style: "width:auto" }), t("notify")),
      rec == 2 && h("p", { "class": "s", role: "status" }, t("sent")),
      button = h("button", { "class": "p", type: "submit" }, t(rec ? "send" : "get")), err,
      data.email && h("button", { type: "button", "class": "k", onclick: function () { rec = rec ? 0 : 1; draw(); } },
        t(rec ? "get" : "have")));
    }
    // The link of a sign-in e-mail (#relais-signin=<token>): exchanged for the fan's own link,
    // kept on this device, and taken off the address bar.
    function signin() {
      var m = /[#&]relais-signin=([\w.-]+)/.exec(location.hash);
      if (!m || m[1].split(".")[1] != cid) return;
      history.replaceState(history.state, "", location.pathname + location.search);
      api("/v1/campaigns/" + encodeURIComponent(cid) + "/referrers/signin", { token: m[1] }).then(function (link) {
        fan = link;
        rec = 0;
        save("fan", link);
        refresh();
      }).catch(guard(function () { rec = 3; if (data) draw(); }));
    }
    function shareBox(c) {
      var urls = fan.share_urls || {}, channels = list(c.channels), qr = fan.qr || {}, svg = safeUrl(qr.svg), png = safeUrl(qr.png);
      var row, buttons = channels.map(function (ch) {
        var href = Object.prototype.hasOwnProperty.call(CHANNELS, ch) && safeUrl(urls[ch], /^(https|mailto|sms):$/), label = CHANNELS[ch];
        return href && h("a", { "class": "b", href: href, target: /^https/.test(href) && "_blank", rel: "noopener noreferrer",
          "aria-label": t("on", label[0] || t("email_")), "data-c": ch, onclick: function () { beacon(ch); } },
          h("span", { "class": "d", style: "background:" + label[1] }), label[0] || t("email_"));
      });
      if (channels.indexOf("native") >= 0 && navigator.share) {
        buttons.push(h("button", { type: "button", "data-c": "native", onclick: function () {
          navigator.share({ title: c.name, text: c.share_text, url: tagged("native") }).then(function () { beacon("native"); }, noop);
        } }, t("native")));
      }
      buttons = buttons.filter(Boolean);
      if (buttons.length > 4) { // shown on phones only (CSS): the first four, then this
        buttons.push(h("button", { type: "button", "class": "mo", "aria-expanded": "false", onclick: function () {
          more = 1;
          row.className += " all";
          row.children[4].focus();
        } }, t("more")));
      }
      return h("div", { "class": "box" },
        h("div", { "class": "r" }, h("label", { "for": "rl", "class": "g" }, t("link")),
          h("button", { type: "button", "class": "k", onclick: function () { fan = impact = null; save("fan"); draw(); } }, t("notYou"))),
        h("div", { "class": "r lr" }, h("input", { id: "rl", "class": "l", readonly: true, value: fan.short_url }),
          copyButton(function () { copy(tagged("copy")); beacon("copy"); })),
        row = h("div", { "class": "r sh" + (more ? " all" : "") }, buttons),
        channels.indexOf("qr") >= 0 && svg && h("div", null, h("h3", null, t("qr")), h("div", { "class": "r qr" },
          h("img", { src: svg, alt: t("qrAlt"), width: 112, height: 112 }),
          png && h("a", { "class": "b", href: png + "?size=1024", download: "qr.png", target: "_blank", rel: "noopener",
            "data-c": "qr", onclick: function () { beacon("qr"); } }, t("qrDl")))),
        h("h3", null, t("impact")),
        h("div", { "class": "t", "data-impact": "" }, tile(num(impact && impact.clicks), n("clicks", impact && impact.clicks)),
          tile(num(impact && impact.pledges), n("pledges", impact && impact.pledges)),
          impact && impact.rank && tile("#" + num(impact.rank), t("rank"))));
    }
    function board(c) {
      var rows = list(c.leaderboard).map(function (e) {
        var me = impact && fan && e.rank == impact.rank && e.name == fan.name;
        return h("li", { "class": me && "me" }, h("span", { "class": "n" }, e.rank),
          h("span", { "class": "g" }, e.name, me && " (" + t("you") + ")"),
          h("span", { "class": "s" }, num(e.clicks) + " " + n("clicks", e.clicks) + " · " + num(e.pledges) + " " + n("pledges", e.pledges)));
      });
      return c.leaderboard_mode != "off" && h("div", null, h("h3", null, t("board")),
        rows.length ? h("ol", null, rows) : h("p", { "class": "s" }, t("empty")));
    }
    function milestones(c) {
      var cur = c.goal && c.goal.currency || "EUR", seen = 0;
      var rows = list(c.milestones).map(function (m) {
        var next = !m.reached && !seen++;
        return h("li", null, h("span", { "class": "n " + (m.reached ? "ok" : next ? "o x" : "o"), "aria-hidden": "true" }, m.reached && "✓"),
          h("div", { "class": "g" }, m.label, h("span", { "class": "s" }, " · " + money(m.amount, cur)),
            next && h("div", { "class": "bar", style: "height:6px" },
              h("i", { style: width((+c.fan_amount || 0) * 100 / m.amount) }))),
          h("span", { "class": "s" }, m.reached ? t("reached") : next ? t("next") : ""));
      });
      return rows.length ? h("div", null, h("h3", null, t("miles")),
        h("p", { "class": "s" }, t("driven", money(c.fan_amount, cur))), h("ul", null, rows)) : null;
    }
    // Fan rewards, only when the campaign offers some (some platforms forbid them): a fan sees
    // their own progress, the status in words (the check mark is decoration).
    function rewards(c) {
      var mine = fan && impact ? list(impact.rewards) : [], got = +(impact && impact.pledges) || 0;
      var nx = mine.length && impact.next_reward, part = nx && Math.min(got, nx.pledges);
      var rows = (mine.length ? mine : list(c.rewards)).map(function (r) {
        return h("li", null, h("span", { "class": "n " + (r.unlocked ? "ok" : "o"), "aria-hidden": "true" }, r.unlocked && "✓"),
          h("span", { "class": "g" }, r.label), h("span", { "class": "s" }, r.unlocked ? t("unlocked")
            : (mine.length ? num(Math.min(got, r.pledges)) + "/" : "") + num(r.pledges) + " " + n("pledges", r.pledges)));
      });
      return rows.length ? h("div", { "data-rewards": "" }, h("h3", null, t(mine.length ? "myRewards" : "rewards")),
        nx && h("p", { "class": "s" }, t("nextReward", nx.label)),
        nx && h("div", { "class": "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": nx.pledges,
          "aria-valuenow": part, "aria-valuetext": num(part) + "/" + num(nx.pledges) + " " + n("pledges", nx.pledges),
          "aria-label": t("nextReward", nx.label) }, h("i", { style: width(part * 100 / nx.pledges) })),
        h("ul", null, rows)) : null;
    }
    function draw(focusLink) {
      loc = pickLocale(data);
      var w = paint(progress(data).concat(fan ? shareBox(data) : form(), rewards(data), board(data), milestones(data)));
      if (focusLink) w.querySelector("#rl").focus();
    }
    function refreshImpact() {
      if (fan) api("/v1/referrers/" + encodeURIComponent(fan.code), null, true).then(function (i) {
        impact = i;
        draw();
      }).catch(guard(function (e) {
        if (/404/.test(e.message)) { fan = null; save("fan"); draw(); } // the link is gone: offer a new one
      }));
    }
    function refresh(fresh) {
      return api("/v1/campaigns/" + encodeURIComponent(cid) + "/widget", null, fresh).then(function (c) {
        var before = data;
        if (!c || !c.id) throw new Error("unexpected widget data");
        save("cfg", { locale: c.locale, model: (c.attribution || {}).model, days: (c.attribution || {}).window_days });
        data = c;
        try { draw(); } catch (e) { data = before; throw e; }
        refreshImpact();
      }).catch(guard(function (e) {
        if (data) warn(e); else fallback(e); // a failed refresh keeps what is shown
      }));
    }

    this.ref = guard(ref);
    this.refresh = function () { return refresh(true); };
    fan = load("fan");
    if (!fan || !fan.code || !fan.short_url) fan = null;
    capture();
    signin();
    decorate();
    doc.addEventListener("submit", guard(function (e) { stamp(e.target); }), true);
    doc.addEventListener("click", guard(function (e) { stripe(e.target.closest("a")); }), true);
    doc.addEventListener("DOMContentLoaded", guard(decorate));
    var host = h("div", { "data-relais": cid }), target = ds.target && doc.querySelector(ds.target);
    target ? target.appendChild(host) : script.parentNode.insertBefore(host, script.nextSibling);
    root = host.attachShadow({ mode: "open" });
    try { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); } catch { sheet = null; }
    loc = pickLocale(load("cfg"));
    paint(h("p", { "class": "m" }, t("loading")), true);
    refresh();
  }

  try {
    var script = doc.currentScript || doc.querySelector("script[data-campaign][src*='widget.js']");
    var R = win.Relais = win.Relais || {}, all = R._w = R._w || {}, widget;
    if (!script || !script.dataset.campaign) throw new Error("data-campaign is missing");
    widget = all[script.dataset.campaign] = new Widget(script);
    R.ref = function (id) { var w = id ? all[id] : widget; return w ? w.ref() : null; };
    R.refresh = function (id) { var w = id ? all[id] : widget; return w ? w.refresh() : Promise.resolve(); };
  } catch (e) {
    warn(e);
  }
})(window, document);
