"""The platform's view (operator token): its campaigns, and whether sharing goes with money.

Read from rollups only, never events, after a Scan of the campaigns table. All time, each
campaign costs its ``total`` item, fetched 100 per BatchGetItem: the total carries the
campaign's counters, their per-channel copies and the pledges fans brought. A range costs
one query per campaign that has counted anything (ten at a time), over its
``day#<date>#<channel>`` items. ``docs/platform.md`` defines every figure; ``make bench``
measures the cost.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib.core import cursors
from chalicelib.core.errors import bad_request
from chalicelib.core.validation import iso
from chalicelib.read.spearman import spearman
from chalicelib.store import campaigns_table, rollups_table
from chalicelib.store.derived import Rollup
from chalicelib.store.records import CHANNEL_COUNTERS, DIRECT, TOTAL, CampaignSummary

LISTING = "campaigns"
PAGE_SIZE = 100
MAX_DAYS = 366
FIGURES = ("shares", "clicks", "landed", "pledges")
"""What each campaign row counts. ``landed`` (the landing beacon) reads 0 until counted."""
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# GET /v1/campaigns ------------------------------------------------------------------------

def campaign_page(params: Mapping[str, str]) -> dict:
    """A page of the platform's campaigns with their all-time totals, and the next page's cursor."""
    limit = _limit(params.get("limit"))
    raw_cursor = params.get("cursor")
    after = cursors.decode(LISTING, raw_cursor) if raw_cursor else None
    found, last = campaigns_table.page(limit, after)
    totals = rollups_table.of_campaigns([campaign.id for campaign in found], [TOTAL])
    return {
        "campaigns": [_listed(campaign, totals[campaign.id][TOTAL]) for campaign in found],
        "cursor": cursors.encode(LISTING, last) if last else None,
    }


def _listed(campaign: CampaignSummary, total: Rollup) -> dict:
    return {"id": campaign.id, "name": campaign.name, "created_at": iso(campaign.created_at),
            "totals": {"shares": total.get("shares"), "clicks": total.get("clicks"),
                       "pledges": total.get("pledges"), "amount": total.amounts}}


def _limit(raw: str | None) -> int:
    if raw is None:
        return PAGE_SIZE
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= PAGE_SIZE):
        raise bad_request("invalid_limit", f"limit must be a whole number from 1 to {PAGE_SIZE}.")
    return int(raw)


# GET /v1/insights ---------------------------------------------------------------------------

def date_range(params: Mapping[str, str]) -> tuple[date, date] | None:
    """``(from, to)`` when either is given (as the stats take them: at most 366 days, ``to``
    defaulting to today and ``from`` to 365 days before ``to``); ``None``: all time."""
    raw_from, raw_to = params.get("from"), params.get("to")
    if raw_from is None and raw_to is None:
        return None
    end = _day(raw_to, "to") if raw_to is not None else datetime.now(UTC).date()
    start = _day(raw_from, "from") if raw_from is not None else end - timedelta(days=MAX_DAYS - 1)
    if start > end:
        raise bad_request("invalid_range", "from must not be after to.")
    if (end - start).days >= MAX_DAYS:
        raise bad_request("invalid_range", f"A range covers at most {MAX_DAYS} days.")
    return start, end


def _day(raw: str, what: str) -> date:
    try:
        parsed = date.fromisoformat(raw) if _DATE.fullmatch(raw) else None
    except ValueError:
        parsed = None
    if parsed is None or not 2000 <= parsed.year <= 2200:
        raise bad_request("invalid_range", f"{what} must be a date (YYYY-MM-DD).")
    return parsed


def insights(params: Mapping[str, str]) -> dict:
    """Every campaign's figures, the correlations of shares with pledges and with money, and
    the channels compared.

    Without a range, each campaign's figures and channels are its ``total`` item. With a
    range, both are sums of its day items in the range. ``fan_share`` is always all time,
    from the total (day items cannot tell it: a fan's link followed without ``?c=`` is the
    ``direct`` channel too). A total counted before it kept per-channel copies and fan
    pledges (and not recounted since) is completed from the campaign's day items and its
    ``direct`` item: its copies then fall short of its counts.
    """
    span = date_range(params)
    campaigns = list(campaigns_table.every())
    totals = {c: levels[TOTAL] for c, levels in rollups_table.of_campaigns([c.id for c in campaigns], [TOTAL]).items()}
    partial = [c for c, total in totals.items() if not _complete(total)]
    direct = {c: levels[DIRECT] for c, levels in rollups_table.of_campaigns(partial, [DIRECT]).items()}
    counted = [c for c, total in totals.items() if total.counts or total.amounts]
    days = rollups_table.days_of(counted if span else [c for c in counted if c in direct], *(span or (None, None)))
    rows: list[dict[str, Any]] = []
    by_channel: list[tuple[str, Mapping[str, int]]] = []
    for campaign in campaigns:
        total, found = totals[campaign.id], days.get(campaign.id)
        counts, amount = _figures([item for _, _, item in found or []] if span else [total])
        if found is None:
            by_channel += total.by_channel().items()
        else:
            by_channel += [(channel, item.counts) for _, channel, item in found]
        pledges = total.get("pledges")
        fans = pledges - direct[campaign.id].get("pledges") if campaign.id in direct else total.get("fan_pledges")
        rows.append({"id": campaign.id, "name": campaign.name, **counts, "amount": amount,
                     "fan_share": _ratio(max(0, fans), pledges)})
    rows.sort(key=lambda row: (-row["pledges"], -row["shares"], row["name"], row["id"]))
    return {"campaigns": rows, "correlation": correlation(rows), "channels": channels(by_channel)}


def _complete(total: Rollup) -> bool:
    """Whether a total's per-channel copies add up to its counts (else counting them started late)."""
    per_channel = total.by_channel().values()
    return all(sum(counts[name] for counts in per_channel) == total.get(name) for name in CHANNEL_COUNTERS)


def _figures(items: Iterable[Rollup]) -> tuple[dict[str, int], dict[str, int]]:
    counts: Counter = Counter()
    money: Counter = Counter()
    for item in items:
        counts.update({name: item.get(name) for name in FIGURES})
        money.update(item.amounts)
    return {name: counts[name] for name in FIGURES}, {cur: value for cur, value in sorted(money.items()) if value}


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def correlation(rows: list[dict[str, Any]]) -> dict:
    """Spearman's ρ of shares with pledges, and with the amount raised, across the campaigns
    that counted anything (a campaign with nothing at all would only add ties at zero).

    Money is compared in one currency, ``currency``: the one the most of those campaigns
    raised money in (ties: alphabetical). A campaign that raised money only in other
    currencies is left out of ``shares_amount`` (``amount_campaigns`` says over how many).
    """
    active = [row for row in rows if any(row[name] for name in FIGURES)]
    seen = Counter(currency for row in active for currency in row["amount"])
    currency = min(seen, key=lambda cur: (-seen[cur], cur)) if seen else None
    priced = [row for row in active if currency is None or not row["amount"] or currency in row["amount"]]
    shares_pledges = spearman([row["shares"] for row in active], [row["pledges"] for row in active])
    shares_amount = spearman([row["shares"] for row in priced],
                             [row["amount"].get(currency, 0) if currency else 0 for row in priced])
    return {"shares_pledges": _rounded(shares_pledges), "shares_amount": _rounded(shares_amount),
            "method": "spearman", "campaigns": len(active), "amount_campaigns": len(priced),
            "currency": currency}


def _rounded(rho: float | None) -> float | None:
    return None if rho is None else round(rho, 4)


def channels(counted: Iterable[tuple[str, Mapping[str, int]]]) -> list[dict]:
    """Per channel, across campaigns: shares, clicks, pledges and pledges ÷ clicks, by
    pledges, then clicks (descending), then name; channels with none of the three left out."""
    sums: dict[str, Counter] = defaultdict(Counter)
    for channel, counts in counted:
        sums[channel].update({name: counts.get(name, 0) for name in CHANNEL_COUNTERS})
    rows = [{"channel": channel, "shares": c["shares"], "clicks": c["clicks"], "pledges": c["pledges"],
             "conversion_rate": _ratio(c["pledges"], c["clicks"])}
            for channel, c in sums.items() if c["shares"] or c["clicks"] or c["pledges"]]
    return sorted(rows, key=lambda row: (-row["pledges"], -row["clicks"], row["channel"]))
