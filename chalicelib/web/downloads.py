"""The answers that may be files: stats, the rewards list and the platform tags as JSON or CSV.

One CSV writer serves every CSV Relais produces (:func:`csv_text`), so every download
neutralises formula cells the same way; the services hand over plain dictionaries and
this module shapes them into responses.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chalice import Response

from chalicelib.core.errors import bad_request
from chalicelib.store.records import COUNTERS, Campaign
from chalicelib.web.http import json_response

FORMULA_STARTS = frozenset("=+-@\t\r\n")
SEPARATORS = frozenset(",;\t|")
"""What a spreadsheet may split a cell on: the comma, and the ``;`` that French (and most
European) spreadsheets use as their list separator, tab and pipe."""
_QUOTED = frozenset(',;"\t\r\n')

STATS_COLUMNS = ("section", "date", "channel", "rank", "code", "name", "referred_by", "depth", *COUNTERS, "referrers")
REWARDS_COLUMNS = {"code": "code", "name": "name", "reward_pledges": "pledges", "reward": "label",
                   "unlocked_at": "unlocked_at", "fulfilled_at": "fulfilled_at", "fan_pledges": "fan_pledges"}
"""The rewards CSV's columns and the listing's field each shows."""
PLATFORM_TAG_COLUMNS = ("tag", "code", "channel")


def cell(value: object) -> str:
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


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file: a header row, then the rows, every cell through :func:`cell`; CRLF line
    ends and a BOM, which makes Excel read UTF-8 names right."""
    lines = [columns, *rows]
    return "\ufeff" + "".join(",".join(cell(value) for value in line) + "\r\n" for line in lines)


def wants_csv(params: Mapping[str, str], accept: str | None) -> bool:
    """``format`` decides when given (``json`` or ``csv``, else ``400``); else the ``Accept`` header."""
    chosen = params.get("format")
    if chosen not in (None, "json", "csv"):
        raise bad_request("invalid_format", "format must be json or csv.")
    return chosen == "csv" if chosen is not None else "text/csv" in (accept or "")


def csv_response(text: str, filename: str, headers: Mapping[str, Any]) -> Response:
    return Response(body=text, status_code=200, headers={
        **headers, "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"'})


def etag(body: dict, variant: str) -> str:
    """One tag per content and representation (JSON and CSV differ)."""
    digest = hashlib.sha256(json.dumps([variant, body], sort_keys=True).encode()).hexdigest()[:32]
    return f'"{digest}"'


def stats_csv(stats: dict) -> str:
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
    return csv_text((*STATS_COLUMNS, *(f"amount_{c}" for c in currencies)),
                    ([row.get(column) for column in STATS_COLUMNS] +
                     [row.get("amount", {}).get(c, 0) for c in currencies] for row in rows))


def stats_answer(campaign: Campaign, public: bool, params: Mapping[str, str], accept: str | None,
                 if_none_match: str | None, cors: dict) -> Response:
    """The stats as JSON or CSV, with an ETag (``304`` when unchanged) and cache headers.

    ``cors`` is given for public answers only: keyed stats are for servers and the
    same-origin dashboard, never for another site's scripts.
    """
    from chalicelib.read import stats

    as_csv = wants_csv(params, accept)
    start, end, body = stats.for_range(campaign, public, params.get("from"), params.get("to"))
    tag = etag(body, "csv" if as_csv else "json")
    headers = {**cors, "ETag": tag, "Vary": "Accept, Origin, Authorization",
               "Cache-Control": "public, max-age=30" if public else "private, no-cache"}
    if if_none_match == tag:
        return Response(body="", status_code=304, headers=headers)
    if as_csv:
        filename = f"relais-{campaign.id}-{start.isoformat()}-{end.isoformat()}.csv"
        return csv_response(stats_csv(body), filename, headers)
    return json_response(200, body, headers)


def rewards_answer(campaign: Campaign, params: Mapping[str, str], accept: str | None,
                   headers: dict[str, str]) -> Response:
    """Who unlocked what (``domain.rewards.unlocked``) as JSON, or as CSV."""
    from chalicelib.domain import rewards

    as_csv = wants_csv(params, accept)
    listing = rewards.unlocked(campaign)
    if not as_csv:
        return json_response(200, listing, headers)
    rows = ([row[field] for field in REWARDS_COLUMNS.values()] for row in listing["rewards"])
    return csv_response(csv_text(tuple(REWARDS_COLUMNS), rows), f"relais-{campaign.id}-rewards.csv", headers)


def platform_tags_answer(campaign: Campaign, params: Mapping[str, str], accept: str | None,
                         headers: dict[str, str]) -> Response:
    """Every platform tag issued to the campaign's fans (``domain.platforms.tag_list``) as
    JSON, or as CSV to paste into a platform's dashboard (``channel`` empty: a fan's one tag)."""
    from chalicelib.domain import platforms

    as_csv = wants_csv(params, accept)
    listing = platforms.tag_list(campaign)
    if not as_csv:
        return json_response(200, listing, headers)
    rows = ([row.get(column) for column in PLATFORM_TAG_COLUMNS] for row in listing["tags"])
    return csv_response(csv_text(PLATFORM_TAG_COLUMNS, rows), f"relais-{campaign.id}-platform-tags.csv", headers)
