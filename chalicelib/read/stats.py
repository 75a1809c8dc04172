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

import re
import time
from collections import Counter, OrderedDict, defaultdict
from datetime import UTC, date, datetime, timedelta

from chalicelib.core.errors import bad_request, unauthorized
from chalicelib.domain import campaigns
from chalicelib.read.widget_data import ERASED, pseudonym
from chalicelib.store import rollups_table
from chalicelib.store.records import COUNTERS, FAN_COUNTERS, REPORTED_PREFIX, Campaign

MAX_DAYS = 366
PUBLIC_MAX_DAYS = 31
PUBLIC_CACHE_SECONDS = 30
PUBLIC_CACHE_SIZE = 500
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TOP_REFERRERS = 100


def date_range(campaign: Campaign, raw_from: str | None, raw_to: str | None,
               max_days: int = MAX_DAYS) -> tuple[date, date]:
    """``[from, to]``: by default from the campaign's start (its creation, or the day of an
    imported pledge made before it; at most ``max_days`` back) to today; at most ``max_days`` days."""
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
    first = min(campaign.created_at.date(), date.fromisoformat(campaign.first_day)) if campaign.first_day \
        else campaign.created_at.date()
    start = parse(raw_from, "from") if raw_from is not None else max(first, end - timedelta(days=max_days - 1))
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


def reported(counts: Counter) -> dict:
    """``{"pledges", "amount": {currency: minor units}}`` that platform imports brought, of
    the ``rep_`` counters (``aggregate.counting``)."""
    prefix = f"{REPORTED_PREFIX}amt_"
    return {"pledges": counts[f"{REPORTED_PREFIX}pledges"],
            "amount": {name[len(prefix):]: value for name, value in sorted(counts.items())
                       if name.startswith(prefix) and value}}


def compute(campaign: Campaign, start: date, end: date, public: bool) -> dict:
    daily: dict[str, Counter] = defaultdict(Counter)
    daily_money: dict[str, Counter] = defaultdict(Counter)
    channels: dict[str, Counter] = defaultdict(Counter)
    channel_money: dict[str, Counter] = defaultdict(Counter)
    channel_reported: dict[str, Counter] = defaultdict(Counter)
    for day, channel, item in rollups_table.days(campaign.id, start, end):
        channel_reported[channel].update(item.reported_counts())
        daily[day].update(item.counters())
        daily_money[day].update(item.amounts)
        channels[channel].update(item.counters())
        channel_money[channel].update(item.amounts)
    totals = sum(channels.values(), Counter())
    total_money = sum(channel_money.values(), Counter())
    total_item = rollups_table.total(campaign.id)
    cascade, direct = rollups_table.cascade(campaign.id)
    referrers = total_item.get("referrers")
    fan_amount = total_item.get("fan_goal_amt")

    def counts_of(counts: Counter) -> dict[str, int]:
        return {name: counts[name] for name in COUNTERS}

    channel_rows = []
    for channel, counts in sorted(channels.items(), key=lambda kv: (-kv[1]["pledges"], -kv[1]["clicks"], kv[0])):
        money = _amount(channel_money[channel])
        channel_rows.append({
            "channel": channel, **counts_of(counts), "amount": money, "reported": reported(channel_reported[channel]),
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
        "totals": {**counts_of(totals), "amount": _amount(total_money),
                   "reported": reported(sum(channel_reported.values(), Counter())), "referrers": referrers,
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
             "referred_by": item.referred_by, "rank": rank, **{name: item.get(name) for name in FAN_COUNTERS},
             "amount": item.amounts, "reported": reported(Counter(item.reported_counts())), "depth": item.depth or 0}
            for rank, (code, item) in enumerate(rollups_table.top_referrers(campaign.id, TOP_REFERRERS), start=1)]


def _public_referrers(campaign: Campaign) -> list[dict]:
    """The public top 100: the leaderboard's rows item (one read), without codes or names."""
    return [{"rank": rank, **{name: getattr(e, name) for name in FAN_COUNTERS}, "amount": e.amounts, "depth": e.depth}
            for rank, e in enumerate(rollups_table.board_rows(campaign.id)[:TOP_REFERRERS], start=1)]


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


def authorize(campaign_id: str, token: str | None) -> tuple[Campaign, bool]:
    """``(campaign, public)``: a key gives everything; no key only a public campaign's figures."""
    if token is not None:
        return campaigns.authorize(campaign_id, token), False
    campaign = campaigns.get_or_404(campaign_id)
    if not campaign.public_stats:
        raise unauthorized("These stats are private: send the campaign's key.")
    return campaign, True


def for_range(campaign: Campaign, public: bool, raw_from: str | None, raw_to: str | None) -> tuple[date, date, dict]:
    """The days asked for (at most a month publicly) and their stats; public ones from the cache."""
    start, end = date_range(campaign, raw_from, raw_to, PUBLIC_MAX_DAYS if public else MAX_DAYS)
    return start, end, _cached_public(campaign, start, end) if public else compute(campaign, start, end, public)
