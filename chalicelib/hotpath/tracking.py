"""The hot path: redirects (visits and previews) and share beacons.

Each request makes exactly one synchronous DynamoDB write, with a short timeout and no
retry storm. The link comes from an in-process cache and the campaign from a 60-second
cache, so a warm redirect makes no read. If the write fails the fan is redirected all
the same; the lost event is logged and counted (metric ``LostEvents``).
"""
from __future__ import annotations

from typing import NamedTuple
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chalicelib.hotpath import signing
from chalicelib.store import tables
from chalicelib.domain.channels import is_channel
from chalicelib.errors import bad_request, unavailable
from chalicelib.store.events import expiry, new_event, random_suffix, utc_now
from chalicelib.hotpath.lookups import LinkInfo, resolve
from chalicelib.store.schema import Campaign, Event
from chalicelib.observability import count, logger

MAX_AGENT_LENGTH = 512


class Visit(NamedTuple):
    """What the redirect knows of one request."""

    method: str
    user_agent: str
    ip: str
    private: bool  # Sec-GPC: 1 or DNT: 1: counted, but no visitor hash is made


def destination(target_url: str, ref: str, channel: str, campaign_id: str) -> str:
    """The stored target with our parameters added; its own query is kept."""
    parts = urlsplit(target_url)
    ours = {"ref": ref, "utm_source": channel, "utm_medium": "referral", "utm_campaign": campaign_id}
    query = [(k, val) for k, val in parse_qsl(parts.query, keep_blank_values=True) if k not in ours]
    query.extend(ours.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def redirect(code: str, channel_param: str | None, visit: Visit) -> str:
    """Record the visit and return where to send the visitor."""
    link, campaign = resolve(code)
    channel = channel_param if is_channel(channel_param) else "direct"
    now = utc_now()
    ref = signing.make_ref(campaign.id, link.code, channel, now.date())
    _record_visit(link, channel, visit, now)
    return destination(campaign.target_url, ref, channel, campaign.id)


def _record_visit(link: LinkInfo, channel: str, visit: Visit, now: datetime) -> None:
    """One write: a preview for HEAD, else a visit that the aggregator classifies.

    Telling people from crawlers takes a 1,400-pattern regex; the aggregator does it
    off the request path, from the user agent kept on the (expiring) visit item.
    """
    day = now.date().isoformat()
    common = dict(code=link.code, channel=channel, day=day, expires_at=expiry(now))
    try:
        if visit.method == "HEAD":
            _put(new_event(link.campaign_id, f"p#{day}#{random_suffix()}", kind="preview", **common))
            return
        if visit.private:
            event = new_event(link.campaign_id, f"c#{day}#{random_suffix()}", kind="visit", **common)
        else:
            visitor = signing.visitor_hash(visit.ip, visit.user_agent, link.code, day)
            event = new_event(link.campaign_id, f"v#{day}#{link.code}#{channel}#{visitor}", identity=visitor,
                              kind="visit", **common)
        event.agent = visit.user_agent[:MAX_AGENT_LENGTH] or None
        _count_hit(event)
    except Exception:
        count("LostEvents")
        logger.exception("visit not recorded", extra={"code": link.code, "channel": channel})


def _put(event: Event) -> None:
    tables.request_client().put_item(TableName=Event.Meta.table_name, Item=event.serialize())


def _count_hit(event: Event) -> None:
    """``ADD hits 1`` and set the other attributes: the first hit inserts the item."""
    attributes = event.serialize()
    key = {name: attributes.pop(name) for name in ("pk", "sk")}
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    values = {f":a{i}": value for i, value in enumerate(attributes.values())}
    tables.request_client().update_item(
        TableName=Event.Meta.table_name, Key=key,
        UpdateExpression="ADD hits :one SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(attributes))),
        ExpressionAttributeNames=names, ExpressionAttributeValues={":one": {"N": "1"}, **values},
    )


def parse_share(body: object) -> tuple[LinkInfo, Campaign, str]:
    """The link, campaign and channel of a share beacon, validated."""
    if not isinstance(body, dict) or set(body) - {"code", "channel"}:
        raise bad_request("invalid_body", "The body must be {\"code\": …, \"channel\": …}.")
    if not is_channel(body.get("channel")):
        raise bad_request("invalid_channel", "channel must be one of the contract's channels.")
    code = body.get("code")
    if not isinstance(code, str):
        raise bad_request("invalid_code", "code must be a link code.")
    link, campaign = resolve(code)
    return link, campaign, body["channel"]


def record_share(link: LinkInfo, channel: str) -> None:
    """A share button was pressed: one share event."""
    now = utc_now()
    day = now.date().isoformat()
    try:
        _put(new_event(link.campaign_id, f"s#{day}#{random_suffix()}", kind="share", code=link.code,
                       channel=channel, day=day, expires_at=expiry(now)))
    except Exception as exc:
        count("LostEvents")
        logger.exception("share not recorded", extra={"code": link.code, "channel": channel})
        raise unavailable() from exc
