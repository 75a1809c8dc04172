"""The dashboard and the insights page under their Content-Security-Policy (script-src and
style-src 'self'): each loads the shared stylesheet and module from /pages/, then its own,
and nothing either page does is refused; inline code put into them is."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import sign_in, wait_until

# Installed before any script of the page (through the DevTools protocol, which the page's
# policy does not govern): every violation the page reports, as "directive blocked-URI".
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.__violations.push(event.effectiveDirective + " " + event.blockedURI));
"""
STYLESHEETS = "() => [...document.styleSheets].map((sheet) => new URL(sheet.href).pathname)"
LOADED = "() => performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname)"
INLINE_SCRIPT_RUNS = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__inline = true";
  document.head.append(script);
  return window.__inline === true;
}"""
INLINE_STYLE_APPLIES = """() => {
  const probe = document.createElement("p");
  probe.setAttribute("style", "color: rgb(255, 0, 0)");
  document.body.append(probe);
  return getComputedStyle(probe).color === "rgb(255, 0, 0)";
}"""


def open_dashboard(page, relais) -> None:
    campaign_id, key = relais.campaign()
    relais.pledge(campaign_id, key, 4200)
    wait_until(lambda: relais.stats(campaign_id, key)["totals"]["pledges"] == 1, "the pledge to be counted")
    sign_in(page, relais, campaign_id, key)
    expect(page.locator("#kpis")).to_contain_text("42")


def open_insights(page, relais) -> None:
    page.goto(f"{relais.api}/insights")
    page.locator("#token").fill(relais.stack.admin_token)
    page.locator("#signin button[type=submit]").click()
    expect(page.locator("#scatter svg")).to_be_visible()


@pytest.mark.parametrize(("name", "open_page", "own_title", "kpi_columns"), [
    ("dashboard", open_dashboard, ("#funnel-title", "Entonnoir"), 5),
    ("insights", open_insights, ("#finding-title", "Partages et argent"), 4),
], ids=["dashboard", "insights"])
def test_each_page_loads_the_shared_stylesheet_and_module_with_no_policy_violation(
        relais, open_context, name, open_page, own_title, kpi_columns):
    context = open_context(locale="fr-FR")
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    open_page(page, relais)
    expect(page.locator("#board")).to_be_visible()

    # The shared stylesheet, then the page's own, both applied
    assert page.evaluate(STYLESHEETS) == ["/pages/common.css", f"/pages/{name}.css"]
    assert page.locator("header.bar").evaluate("bar => getComputedStyle(bar).backgroundColor") == "rgb(15, 23, 42)"
    columns = page.locator(".kpis").evaluate("kpis => getComputedStyle(kpis).gridTemplateColumns.split(' ').length")
    assert columns == kpi_columns

    # The page's module and the shared one ran: the strings of both are in French
    assert {"/pages/common.js", f"/pages/{name}.js"} <= set(page.evaluate(LOADED))
    expect(page.locator("#signout")).to_have_text("Se déconnecter")
    expect(page.locator(own_title[0])).to_have_text(own_title[1])

    # Nothing was refused, nothing failed
    assert page.evaluate("() => window.__violations") == []
    assert [line for line in context.console if "Content Security Policy" in line] == []
    assert context.page_errors == []


def test_the_dashboards_bar_widths_and_colours_set_through_the_cssom_are_not_refused(relais, open_context):
    context = open_context()
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    open_dashboard(page, relais)
    drawn = "bar => [bar.style.width, getComputedStyle(bar).backgroundColor]"
    assert page.locator("#funnel [data-step=pledges] .track i").evaluate(drawn) == ["100%", "rgb(22, 163, 74)"]
    # the one pledge came with no fan's link: all of the money split is direct
    assert page.locator("#funnel .split-bar i").last.evaluate(drawn) == ["100%", "rgb(203, 213, 225)"]
    assert page.evaluate("() => window.__violations") == []


@pytest.mark.parametrize("path", ["/dashboard", "/insights"])
def test_inline_code_put_into_a_page_is_refused_by_its_policy(relais, open_context, path):
    context = open_context()
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    page.goto(f"{relais.api}{path}")
    expect(page.locator("#signin")).to_be_visible()

    assert page.evaluate(INLINE_SCRIPT_RUNS) is False
    assert page.evaluate(INLINE_STYLE_APPLIES) is False
    violations = page.evaluate("() => window.__violations")
    assert [line.split(" ")[0] for line in violations] == ["script-src-elem", "style-src-attr"]
