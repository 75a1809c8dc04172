// Drives Debian's Firefox ESR for tests/browser/engines/drivers.py over WebDriver BiDi (puppeteer-core).
// One JSON command a line on stdin, one JSON answer a line on stdout: {"ok": value} or {"error": message}.
// Arguments: the Firefox binary, and the port of the loopback proxy that stands for the Internet.
// When stdin closes, Firefox is closed and the bridge exits.
import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

const [executablePath, proxyPort] = process.argv.slice(2);
const stub = `http://127.0.0.1:${proxyPort}`;
const answer = (value) => process.stdout.write(JSON.stringify(value) + "\n");
const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath,
  headless: true,
  timeout: 20_000, // to start Firefox and open its WebDriver BiDi socket (on 127.0.0.1)
  protocolTimeout: 20_000,
  // Release builds read services.settings.server (below) only with this set: else remote settings
  // would ask firefox.settings.services.mozilla.com (of the proxy, which refuses).
  env: { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: "1" },
  extraPrefsFirefox: {
    // Every request for another address than a loopback one goes to the proxy, which answers with
    // a stub and forwards nothing (so Firefox never looks a name up for it) ...
    "network.proxy.type": 1,
    "network.proxy.http": "127.0.0.1",
    "network.proxy.http_port": Number(proxyPort),
    "network.proxy.ssl": "127.0.0.1",
    "network.proxy.ssl_port": Number(proxyPort),
    "network.proxy.share_proxy_settings": false,
    "network.proxy.socks": "",
    "network.proxy.no_proxies_on": "", // loopback addresses still go direct (hijacking off)
    "network.proxy.allow_hijacking_localhost": false,
    // ... and a name that something would look up anyway resolves to 127.0.0.1 without asking the
    // system's resolver: not even a DNS question leaves the machine.
    "network.dns.forceResolve": "127.0.0.1",
    "network.dns.disableIPv6": true,
    "network.dns.disablePrefetch": true,
    "network.trr.mode": 5,
    "network.predictor.enabled": false,
    "network.prefetch-next": false,
    // Firefox's own background services, off (puppeteer already turns off updates, safe browsing,
    // health reports and Shield): what is left would only reach the proxy, but need not run at all.
    "network.captive-portal-service.enabled": false,
    "network.connectivity-service.enabled": false,
    "captivedetect.canonicalURL": `${stub}/captive-portal`,
    "toolkit.telemetry.enabled": false,
    "toolkit.telemetry.unified": false,
    "toolkit.telemetry.archive.enabled": false,
    "toolkit.telemetry.server": `${stub}/telemetry`,
    "browser.ping-centre.telemetry": false,
    "app.update.auto": false,
    "app.normandy.enabled": false,
    "app.shield.optoutstudies.enabled": false,
    "services.settings.server": `${stub}/remote-settings/v1`,
    "messaging-system.rsexperimentloader.enabled": false,
    "extensions.blocklist.enabled": false,
    "extensions.systemAddon.update.enabled": false,
    "dom.push.connection.enabled": false,
    "browser.region.update.enabled": false,
    "browser.region.network.url": "",
    "geo.provider.network.url": "",
    "browser.topsites.contile.enabled": false,
    "browser.newtabpage.activity-stream.feeds.telemetry": false,
    "browser.newtabpage.activity-stream.telemetry": false,
    "identity.fxaccounts.enabled": false,
    "security.OCSP.enabled": 0,
    "security.remote_settings.crlite_filters.enabled": false,
    "security.remote_settings.intermediates.enabled": false,
    "browser.translations.enable": false,
    "doh-rollout.disable-heuristics": true,
  },
}).catch((error) => {
  answer({ error: String((error && error.stack) || error) });
  process.exit(1);
});
answer({ ok: await browser.version() }); // the first line: Firefox is there
const pages = [];

// Act on the element that a JavaScript expression finds (the widget's shadow root is open:
// `host.shadowRoot.querySelector(...)`), found again if the widget redrew its card in between
// (the element it had found is then detached: puppeteer finds no point of it to click).
const REDRAWN = /detached|not attached|stale|no such (node|element)|not clickable/i;
async function act(page, expression, action) {
  for (let attempt = 1; ; attempt++) {
    const handle = (await page.evaluateHandle(expression)).asElement();
    if (!handle) throw new Error(`no element for ${expression}`);
    try {
      return await action(handle);
    } catch (error) {
      if (attempt === 5 || !REDRAWN.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const commands = {
  async profile() { // a fresh profile (a BiDi user context: its own cookies and storage) with one tab
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    pages.push(page);
    return pages.length - 1;
  },
  async goto({ page, url }) { await pages[page].goto(url); return pages[page].url(); },
  async url({ page }) { return pages[page].url(); },
  async run({ page, expression }) { return await pages[page].evaluate(expression); },
  async click({ page, target }) { await act(pages[page], target, (element) => element.click()); return null; },
  async fill({ page, target, text }) { // what was in the field goes; the text is typed key by key
    await act(pages[page], target, async (element) => {
      await element.evaluate((field) => { field.value = ""; });
      await element.type(text);
    });
    return null;
  },
  async others({ page }) { // the URLs of the other tabs of this profile (those its page opened)
    const tabs = await pages[page].browserContext().pages();
    return tabs.filter((tab) => tab !== pages[page]).map((tab) => tab.url());
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  try {
    const value = await commands[command.op](command);
    answer({ ok: value === undefined ? null : value });
  } catch (error) {
    answer({ error: String((error && error.stack) || error) });
  }
}
await browser.close();
