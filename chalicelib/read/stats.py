"""Campaign stats, read from rollups only: a few queries whatever the traffic.

Cost: one query over the date range's ``day#<date>#<channel>`` items (days × active
channels), one over the cascade (``depth#…``, at most ``RELAIS_MAX_DEPTH`` items) and
``direct`` items, one ``total`` read and the top 100 referrers — from the leaderboard index
for the creator, from the one leaderboard item for the public. Never a scan, never an event.
Public answers (no key) cover at most :data:`PUBLIC_MAX_DAYS` days and are cached in the
container for :data:`PUBLIC_CACHE_SECONDS`, as long as they may be cached downstream:
strangers cannot make Relais read more than that. ``docs/stats.md`` defines every figure.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter, OrderedDict, defaultdict
from datetime import UTC, date, datetime, timedelta

from chalice import Response

from chalicelib.domain import campaigns
from chalicelib.errors import bad_request, unauthorized
from chalicelib.read.widget_data import ERASED, pseudonym
from chalicelib.store import rollups
from chalicelib.store.records import COUNTERS, Campaign
from chalicelib.web.http import json_response

MAX_DAYS = 366
PUBLIC_MAX_DAYS = 31
PUBLIC_CACHE_SECONDS = 30
PUBLIC_CACHE_SIZE = 500
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TOP_REFERRERS = 100


def date_range(campaign: Campaign, raw_from: str | None, raw_to: str | None,
               max_days: int = MAX_DAYS) -> tuple[date, date]:
    """``[from, to]``: by default from the campaign's start (at most ``max_days`` back) to
    today; at most ``max_days`` days."""
    def parse(raw: str, what: str) -> date:
        if not _DATE.fullmatch(raw):
            return _bad(what)
        try:
            parsed = date.fromisoformat(raw)
        except ValueError:
            return _bad(what)
        return parsed if 2000 <= parsed.year <= 2200 else _bad(what)

    today = datetime.now(UTC).date()
    end = parse(raw_to, "to") if raw_to is not None else today
    start = parse(raw_from, "from") if raw_from is not None else \
        max(campaign.created_at.date(), end - timedelta(days=max_days - 1))
    if start > end:
        raise bad_request("invalid_range", "from must not be after to.")
    if (end - start).days >= max_days:
        raise bad_request("invalid_range", f"A range covers at most {max_days} days"
                          + (" in public stats." if max_days == PUBLIC_MAX_DAYS else "."))
    return start, end


def _bad(what: str) -> date:
    raise bad_request("invalid_range", f"{what} must be a date (YYYY-MM-DD).")


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _per(amounts: dict[str, int], denominator: int) -> dict[str, float]:
    return {currency: round(value / denominator, 2) for currency, value in amounts.items()} if denominator else {}


def _amount(counts: Counter) -> dict[str, int]:
    return {currency: value for currency, value in sorted(counts.items()) if value}


def compute(campaign: Campaign, start: date, end: date, public: bool) -> dict:
    daily: dict[str, Counter] = defaultdict(Counter)
    daily_money: dict[str, Counter] = defaultdict(Counter)
    channels: dict[str, Counter] = defaultdict(Counter)
    channel_money: dict[str, Counter] = defaultdict(Counter)
    for day, channel, item in rollups.days(campaign.id, start, end):
        daily[day].update(item.counters())
        daily_money[day].update(item.amounts)
        channels[channel].update(item.counters())
        channel_money[channel].update(item.amounts)
    totals = sum(channels.values(), Counter())
    total_money = sum(channel_money.values(), Counter())
    total_item = rollups.total(campaign.id)
    cascade, direct = rollups.cascade(campaign.id)
    referrers = total_item.get("referrers")
    fan_amount = total_item.get("fan_goal_amt")

    def counts_of(counts: Counter) -> dict[str, int]:
        return {name: counts[name] for name in COUNTERS}

    channel_rows = []
    for channel, counts in sorted(channels.items(), key=lambda kv: (-kv[1]["pledges"], -kv[1]["clicks"], kv[0])):
        money = _amount(channel_money[channel])
        channel_rows.append({
            "channel": channel, **counts_of(counts), "amount": money,
            "conversion_rate": _ratio(counts["pledges"], counts["clicks"]),
            "clicks_per_share": _ratio(counts["clicks"], counts["shares"]),
            "amount_per_share": _per(money, counts["shares"]),
        })
    referrer_rows = _public_referrers(campaign) if public else _referrers(campaign)
    by_depth = [{"depth": depth, "referrers": item.get("referrers"), "pledges": item.get("pledges"),
                 "amount": item.amounts} for depth, item in cascade]
    return {
        "campaign": campaign.id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "public": public,
        "goal": campaign.goal(),
        "totals": {**counts_of(totals), "amount": _amount(total_money), "referrers": referrers,
                   "viral_coefficient": _ratio(total_item.get("children"), referrers),
                   "conversion_rate": _ratio(totals["pledges"], totals["clicks"]),
                   "clicks_per_share": _ratio(totals["clicks"], totals["shares"])},
        "channels": channel_rows,
        "referrers": referrer_rows,
        "daily": [{"date": day, **counts_of(daily.get(day, Counter())),
                   "amount": _amount(daily_money.get(day, Counter()))}
                  for day in ((start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1))],
        "direct": {"pledges": direct.get("pledges"), "amount": direct.amounts},
        "cascade": {"max_depth": max((depth for depth, item in cascade if item.get("referrers")), default=0),
                    "by_depth": by_depth},
        "fan_amount": fan_amount,
        "milestones": campaign.milestone_progress(fan_amount),
    }


def _referrers(campaign: Campaign) -> list[dict]:
    """The creator's top 100, from the leaderboard index (hidden fans are not in it)."""
    return [{"code": code, "name": ERASED if item.erased else item.name or pseudonym(code),
             "referred_by": item.referred_by, "rank": rank, "clicks": item.get("clicks"),
             "unique_clicks": item.get("unique_clicks"), "landed": item.get("landed"),
             "pledges": item.get("pledges"), "amount": item.amounts, "depth": item.depth or 0}
            for rank, (code, item) in enumerate(rollups.top_referrers(campaign.id, TOP_REFERRERS), start=1)]


def _public_referrers(campaign: Campaign) -> list[dict]:
    """The public top 100: the leaderboard's rows item (one read), without codes or names."""
    return [{"rank": rank, "clicks": e.clicks, "unique_clicks": e.unique_clicks, "landed": e.landed,
             "pledges": e.pledges, "amount": e.amounts, "depth": e.depth}
            for rank, e in enumerate(rollups.board_rows(campaign.id)[:TOP_REFERRERS], start=1)]


def etag(body: dict, variant: str) -> str:
    """One tag per content and representation (JSON and CSV differ)."""
    digest = hashlib.sha256(json.dumps([variant, body], sort_keys=True).encode()).hexdigest()[:32]
    return f'"{digest}"'


CSV_COLUMNS = ("section", "date", "channel", "rank", "code", "name", "referred_by", "depth",
               "shares", "previews", "clicks", "unique_clicks", "landed", "pledges", "referrers")


FORMULA_STARTS = frozenset("=+-@\t\r\n")
SEPARATORS = frozenset(",;\t|")
"""What a spreadsheet may split a cell on: the comma, and the ``;`` that French (and most
European) spreadsheets use as their list separator, tab and pipe."""
_QUOTED = frozenset(',;"\t\r\n')


def _cell(value: object) -> str:
    """A cell no spreadsheet runs as a formula (OWASP's CSV injection advice, extended).

    A cell starting with ``= + - @``, tab or a line break gets a ``'`` before it, and so does
    every part of a cell that starts after a separator (``x;=HYPERLINK(…)`` becomes
    ``x;'=HYPERLINK(…)``): a spreadsheet that splits the cell on ``;`` sees no formula
    either. Cells holding a separator or a quote are quoted.
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        return str(value)
    out = []
    at_start = True
    for ch in value:
        if at_start and ch in FORMULA_STARTS:
            out.append("'")
        out.append(ch)
        at_start = ch in SEPARATORS or (at_start and ch == " ")
    text = "".join(out)
    return '"' + text.replace('"', '""') + '"' if any(ch in _QUOTED for ch in text) else text


def to_csv(stats: dict) -> str:
    """One table with a ``section`` column: totals, channel, referrer, daily, direct, cascade.

    Money gets one ``amount_<CUR>`` column per currency present (minor units).
    """
    rows = [{"section": "totals", **stats["totals"]}]
    rows += [{"section": "channel", **row} for row in stats["channels"]]
    rows += [{"section": "referrer", **row} for row in stats["referrers"]]
    rows += [{"section": "daily", **row} for row in stats["daily"]]
    rows.append({"section": "direct", **stats["direct"]})
    rows += [{"section": "cascade", **row} for row in stats["cascade"]["by_depth"]]
    currencies = sorted({currency for row in rows for currency in row.get("amount", {})})
    lines = [",".join(_cell(name) for name in (*CSV_COLUMNS, *(f"amount_{c}" for c in currencies)))]
    for row in rows:
        lines.append(",".join([_cell(row.get(column)) for column in CSV_COLUMNS] +
                              [str(row.get("amount", {}).get(c, 0)) for c in currencies]))
    return "\ufeff" + "".join(line + "\r\n" for line in lines)  # the BOM makes Excel read UTF-8 names right


_public_cache: OrderedDict[tuple, tuple[float, dict]] = OrderedDict()


def _cached_public(campaign: Campaign, start: date, end: date) -> dict:
    """Public stats, computed at most once per ``PUBLIC_CACHE_SECONDS`` per range and campaign
    version in this container (bounded: the least recently used range goes first)."""
    key = (campaign.id, campaign.updated_at, start, end)
    now = time.monotonic()
    hit = _public_cache.get(key)
    if hit is not None and now - hit[0] < PUBLIC_CACHE_SECONDS:
        _public_cache.move_to_end(key)
        return hit[1]
    body = compute(campaign, start, end, True)
    _public_cache[key] = (now, body)
    _public_cache.move_to_end(key)
    while len(_public_cache) > PUBLIC_CACHE_SIZE:
        _public_cache.popitem(last=False)
    return body


def wants_csv(params: dict, accept: str | None) -> bool:
    """``format`` decides when given; else the ``Accept`` header."""
    if params.get("format") is not None:
        return params["format"] == "csv"
    return "text/csv" in (accept or "")


def authorize(campaign_id: str, token: str | None) -> tuple[Campaign, bool]:
    """``(campaign, public)``: a key gives everything; no key only a public campaign's figures."""
    if token is not None:
        return campaigns.authorize(campaign_id, token), False
    campaign = campaigns.get_or_404(campaign_id)
    if not campaign.public_stats:
        raise unauthorized("These stats are private: send the campaign's key.")
    return campaign, True


def render(campaign: Campaign, public: bool, params: dict, accept: str | None,
           if_none_match: str | None, cors: dict) -> Response:
    """The stats as JSON or CSV, with an ETag (``304`` when unchanged) and cache headers.

    ``cors`` is given for public answers only: keyed stats are for servers and the
    same-origin dashboard, never for another site's scripts.
    """
    if params.get("format") not in (None, "json", "csv"):
        raise bad_request("invalid_format", "format must be json or csv.")
    start, end = date_range(campaign, params.get("from"), params.get("to"), PUBLIC_MAX_DAYS if public else MAX_DAYS)
    body = _cached_public(campaign, start, end) if public else compute(campaign, start, end, public)
    as_csv = wants_csv(params, accept)
    tag = etag(body, "csv" if as_csv else "json")
    headers = {**cors, "ETag": tag, "Vary": "Accept, Origin, Authorization",
               "Cache-Control": "public, max-age=30" if public else "private, no-cache"}
    if if_none_match == tag:
        return Response(body="", status_code=304, headers=headers)
    if as_csv:
        filename = f"relais-{campaign.id}-{start.isoformat()}-{end.isoformat()}.csv"
        return Response(body=to_csv(body), status_code=200, headers={
            **headers, "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"'})
    return json_response(200, body, headers)
