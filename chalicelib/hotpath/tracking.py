"""The hot path: redirects (visits and previews) and share beacons.

Each request makes exactly one synchronous DynamoDB write with a short budget: a put
of the fact under a key made from the request's own token, so a retry after a lost
answer stores the same item, never a second click. If DynamoDB does not take it in
time, the fact goes to the durable fallback (an SQS queue on AWS, a spool directory
locally) and is applied later, idempotently. Only when both fail is it lost: counted
(metric ``LostEvents``) and logged whole, so that it can be replayed by hand.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chalicelib.core.channels import is_channel
from chalicelib.core.clock import utc_now
from chalicelib.core.errors import bad_request, unavailable
from chalicelib.core.observability import count, logger
from chalicelib.hotpath import lookups, platform_tags, signing
from chalicelib.hotpath.lookups import LinkInfo, resolve
from chalicelib.store import events_table
from chalicelib.store.records import Campaign, Fact

MAX_AGENT_LENGTH = 512


class Visit(NamedTuple):
    """What the redirect (or a landing beacon) knows of one request."""

    method: str
    user_agent: str
    ip: str
    private: bool  # Sec-GPC: 1 or DNT: 1: counted, but no visitor hash is made
    prefetch: bool = False  # the browser fetches ahead or renders a preview: no person is there yet


PREFETCH_HEADERS = ("sec-purpose", "purpose", "x-purpose", "x-moz")


def is_prefetch(headers: Mapping[str, str]) -> bool:
    """``Sec-Purpose: prefetch`` and its older spellings, or a ``preview`` purpose."""
    return any(word in (headers.get(name) or "").lower() for name in PREFETCH_HEADERS
               for word in ("prefetch", "preview"))


def destination(target_url: str, ref: str, channel: str, campaign_id: str,
                platform_tag: tuple[str, str] | None = None) -> str:
    """The stored target with our parameters added; its own query is kept.

    ``platform_tag`` is ``(parameter, tag)`` for a campaign on a hosted platform: the
    platform's parameter wins over ours of the same name (Kickstarter and Goteo read
    ``ref``: there the fan's platform tag replaces the signed ref, which no page of theirs
    would send back)."""
    parts = urlsplit(target_url)
    ours = {"ref": ref, "utm_source": channel, "utm_medium": "referral", "utm_campaign": campaign_id}
    if platform_tag is not None:
        ours[platform_tag[0]] = platform_tag[1]
    query = [(k, val) for k, val in parse_qsl(parts.query, keep_blank_values=True) if k not in ours]
    query.extend(ours.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def redirect(code: str, channel_param: str | None, visit: Visit) -> str:
    """Record the visit and return where to send the visitor (one write; the platform tag
    is derived, ``hotpath.platform_tags``, so a warm redirect reads nothing)."""
    link, campaign = resolve(code)
    channel = channel_param if is_channel(channel_param) else "direct"
    now = utc_now()
    ref = signing.make_ref(campaign.id, link.code, channel, now.date())
    record(_visit_fact(link, channel, visit, now))
    return destination(campaign.target_url, ref, channel, campaign.id,
                       platform_tags.carried(campaign, link.code, channel))


def _visit_fact(link: LinkInfo, channel: str, visit: Visit, now: datetime) -> Fact:
    """A preview for HEAD, else a visit that the aggregator classifies (person or crawler).

    Telling people from crawlers takes a 1,400-pattern regex; the aggregator does it off
    the request path, from the user agent kept on the (expiring) visit item.
    """
    day = now.date().isoformat()
    token = events_table.new_token()
    if visit.method == "HEAD" or visit.prefetch:
        return Fact("preview", link.campaign_id, link.code, channel, day, token)
    visitor = None if visit.private else _visitor_hash(visit, link.code, day)
    return Fact("visit", link.campaign_id, link.code, channel, day, token, visitor=visitor,
                agent=visit.user_agent[:MAX_AGENT_LENGTH] or None)


def _visitor_hash(visit: Visit, code: str, day: str) -> str | None:
    """The visitor's hash of the day; ``None`` (counted like a private visit) in the rare case
    that the day's salt cannot be read or drawn in time: the fan is redirected all the same."""
    try:
        return signing.visitor_hash(visit.ip, visit.user_agent, code, day)
    except Exception as exc:
        count("SaltUnavailable")
        logger.warning("daily salt unavailable", extra={"error": repr(exc)[:300]})
        return None


def record(fact: Fact) -> bool:
    """Write the fact, or hand it to the fallback; ``False`` only when both failed."""
    try:
        events_table.put_fact(fact)
        return True
    except Exception as write_error:
        from chalicelib.store import fallback  # only a failed write pays for this import

        try:
            if fallback.spool_fact(fact):
                count("FallbackEvents")
                logger.warning("fact sent to the fallback", extra={"error": repr(write_error)[:300],
                                                                  "token": fact.token})
                return True
        except Exception:
            logger.exception("fallback failed")
    count("LostEvents")
    logger.error("fact not recorded", extra={"fact": asdict(fact)})
    return False


def parse_landing(body: object) -> str | None:
    """The ref a landing beacon carries (``None``: nothing to count, still ``202``)."""
    if not isinstance(body, dict) or set(body) != {"ref"}:
        raise bad_request("invalid_body", "The body must be {\"ref\": …}.")
    ref = body["ref"]
    return ref if isinstance(ref, str) and 0 < len(ref) <= 64 else None


def landing_campaign(ref: str | None) -> Campaign | None:
    """The campaign a well-formed ref names, if its code exists (the ref is verified later)."""
    info = lookups.link(signing.code_of(ref)) if ref and ref.isascii() else None
    return lookups.campaign(info.campaign_id) if info else None


def record_landing(ref: str | None, campaign: Campaign | None, visit: Visit) -> bool:
    """A browser ran the creator's page with this ref: one landing fact. ``False`` when there
    is nothing to count (forged, foreign or malformed ref, or a prefetch)."""
    parsed = signing.parse_ref(campaign.id, ref) if campaign and not visit.prefetch else None
    if campaign is None or parsed is None:
        return False
    code, channel, _ = parsed
    day = utc_now().date().isoformat()
    visitor = None if visit.private else _visitor_hash(visit, code, day)
    if not record(Fact("landing", campaign.id, code, channel, day, events_table.new_token(), visitor=visitor)):
        raise unavailable()
    return True


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


def record_share(link: LinkInfo, channel: str, visit: Visit) -> None:
    """A share button was pressed: one share fact (``503`` only if it could not be kept at all).

    Deduplicated per visitor: the fact's key is a keyed hash of the visitor, link, channel
    and day, so the same person pressing the same button again that day writes the same
    item, which the aggregator does not count twice (facts count on INSERT). A private
    (``DNT``/``GPC``) visitor is not hashed: each of their shares counts, under the rate limit.
    """
    day = utc_now().date().isoformat()
    token = None
    if not visit.private:
        try:
            token = signing.visitor_key("share", day, visit.ip, visit.user_agent, link.code, channel)
        except Exception as exc:
            count("SaltUnavailable")
            logger.warning("daily salt unavailable", extra={"error": repr(exc)[:300]})
    if not record(Fact("share", link.campaign_id, link.code, channel, day, token or events_table.new_token())):
        raise unavailable()
