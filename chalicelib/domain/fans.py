"""The creator's side of fans' data: the fan list, one fan's export, moderation, erasure.

Every route here takes the campaign's key. The e-mail is unsealed only here, for the
creator, and never leaves in any public answer. Moderation and erasure change the fan's
link and their new-referrer fact in one transaction; the fact's stream record carries the
change to the fan's rollup and the leaderboard, like every other change to the counters
(``aggregate.counting``, ``aggregate.board``), so the counts never move.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.core import cursors, retention
from chalicelib.core import validation as v
from chalicelib.core.clock import utc_now
from chalicelib.core.errors import ApiError, bad_request, not_found
from chalicelib.domain import platforms, sealing
from chalicelib.domain.links import display_name
from chalicelib.store import events_table, links_table, rollups_table
from chalicelib.store.derived import Rollup
from chalicelib.store.records import Campaign, Link, Pledge

PAGE_SIZE = 100
ERASED = "erased"
"""What shows in place of an erased fan's name, wherever names show."""


def _link(campaign: Campaign, code: str) -> Link:
    link = links_table.get(code) if isinstance(code, str) and 4 <= len(code) <= 16 and code.isalnum() else None
    if link is None or link.campaign_id != campaign.id:
        raise not_found("referrer")
    return link


def _email(link: Link) -> str | None:
    return sealing.unseal(link.sealed_email) if link.sealed_email else None


def _row(campaign: Campaign, link: Link, item: Rollup) -> dict:
    """What the creator sees of one fan (their e-mail only when one is stored)."""
    row: dict[str, Any] = {"code": link.code, "name": link.name}
    email = _email(link)
    if email is not None:
        row["email"] = email
    row.update({
        "referred_by": link.referred_by, "depth": link.depth, "hidden": link.hidden,
        "erased": link.erased_at is not None, "created_at": v.iso(link.created_at),
        "clicks": item.get("clicks"), "pledges": item.get("pledges"), "amount": item.amounts,
        **platforms.fan_fields(campaign, link.code),
    })
    return row


def page(campaign: Campaign, params: dict) -> dict:
    """One page of the campaign's fans, in code order, with a cursor to the next page.

    The list follows the fans' rollups, which the aggregator writes: a fan appears once
    their link's creation has been counted (seconds after it, under ``make dev`` at once)."""
    listing = f"referrers:{campaign.id}"
    after = cursors.decode(listing, params["cursor"]) if params.get("cursor") is not None else None
    found, last = rollups_table.referrer_page(campaign.id, PAGE_SIZE, after)
    stored = links_table.get_many([code for code, _ in found])
    rows = [_row(campaign, stored[code], item) for code, item in found if code in stored]
    return {"referrers": rows, "cursor": cursors.encode(listing, last) if last else None}


def _pledge(pledge: Pledge) -> dict:
    return {"pledge_id": pledge.pledge_id, "amount": pledge.amount, "currency": pledge.currency,
            "status": pledge.status, "channel": pledge.channel, "occurred_at": v.iso(pledge.occurred_at)}


def export(campaign: Campaign, code: str) -> dict:
    """Everything stored about one fan (a data subject's access request), as JSON."""
    link = _link(campaign, code)
    item = rollups_table.referrer(campaign.id, code)
    return {
        "campaign": campaign.id,
        "exported_at": v.iso(utc_now()),
        "referrer": {**_row(campaign, link, item), "email": _email(link)},
        "counters": {**item.counters(), "children": item.get("children"), "amount": item.amounts},
        "pledges": [_pledge(pledge) for pledge in events_table.pledges_of(campaign.id, code)],
        "not_stored": ("No address, user agent or cookie of the fan: visits to their link are counted with "
                       "a daily keyed hash of the visitor, whose salt is deleted after its day."),
    }


def moderate(campaign: Campaign, code: str, body: Any) -> dict:
    """Rename or hide (or show again) a fan. A hidden fan leaves the public leaderboard and
    the widget and keeps counting everywhere else."""
    body = v.json_object(body)
    v.no_unknown_fields(body, {"name", "hidden"})
    if not body:
        raise bad_request("invalid_body", "Give a name, hidden, or both.")
    link = _link(campaign, code)
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = display_name(body["name"])
    if "hidden" in body:
        changes["hidden"] = v.boolean(body["hidden"], "invalid_hidden", "hidden")
    erased = ApiError(409, "referrer_erased", "This fan's data was erased: they have no name to change.")
    if "name" in changes and link.erased_at is not None:
        raise erased
    changed = replace(link, **changes)
    if changed != link and not links_table.moderate(link, changes, events_table.new_token()):
        raise erased
    return _row(campaign, changed, rollups_table.referrer(campaign.id, code))


def erase(campaign: Campaign, code: str) -> Link:
    """Erase a fan's name and e-mail from every table (a data subject's erasure request).

    What stays: the link (it keeps redirecting: it is printed and shared), its code, depth
    and referrer, and every count, so that the campaign's figures stay exact. The fan shows
    as "erased". Erasing twice is the same as once.
    """
    link = _link(campaign, code)
    return links_table.erase(link, events_table.new_token(), utc_now())


def erasure_answer(erased: Link) -> dict:
    """What the erasure did, for a caller who asks for an answer: when the fan was erased
    (the first time), and what still holds their data, restorable by the operator, until
    when (``core.retention``: the events table's point-in-time recovery and stream)."""
    erased_at = erased.erased_at or utc_now()
    return {"code": erased.code, "erased": True, "erased_at": v.iso(erased_at),
            "restorable": retention.after_erasure(erased_at)}
