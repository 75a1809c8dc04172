"""Campaigns: validation of the creator's settings, storage, keys and authorization."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.core import ids
from chalicelib.core import validation as v
from chalicelib.core.channels import CHANNELS, is_channel
from chalicelib.core.errors import ApiError, bad_request, forbidden, not_found, unauthorized
from chalicelib.core.urls import origin_of, safe_origin, safe_target_url
from chalicelib.domain import access, email_settings, platforms
from chalicelib.domain.currencies import is_currency
from chalicelib.hotpath import lookups
from chalicelib.store import campaigns_table
from chalicelib.store.records import Campaign, Milestone

LOCALES = ("en", "fr", "es")
LEADERBOARD_MODES = ("off", "pseudonymous", "public")
ATTRIBUTION_MODELS = ("last_click", "first_click")
MAX_ORIGINS = 20
MAX_MILESTONES = 20


def _now() -> datetime:
    return datetime.now(UTC)


def _origins(value: Any) -> list[str]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ORIGINS:
        raise bad_request("invalid_allowed_origins", f"allowed_origins must list 1 to {MAX_ORIGINS} origins.")
    cleaned = []
    for origin in value:
        ok = safe_origin(origin)
        if ok is None:
            raise bad_request(
                "invalid_allowed_origins",
                "Each origin must be scheme://host[:port] with no path: https with a public host, "
                "or http only for localhost/127.0.0.1.",
            )
        if ok not in cleaned:
            cleaned.append(ok)
    return cleaned


def _goal(value: Any) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    if not isinstance(value, dict) or set(value) != {"amount", "currency"}:
        raise bad_request("invalid_goal", "goal must be {\"amount\": int, \"currency\": \"EUR\"}.")
    amount = v.integer(value["amount"], "invalid_goal", "goal.amount", 0)
    if not is_currency(value["currency"]):
        raise bad_request("invalid_currency", "goal.currency must be an ISO-4217 code such as EUR.")
    return amount, value["currency"]


def _channels(value: Any) -> list[str]:
    if not isinstance(value, list) or not value or len(value) > len(CHANNELS):
        raise bad_request("invalid_channels", "channels must be a non-empty list of channels.")
    if not all(is_channel(ch) for ch in value) or len(set(value)) != len(value):
        raise bad_request("invalid_channels", f"channels must be distinct values among: {', '.join(CHANNELS)}.")
    return list(value)


def _attribution(value: Any) -> tuple[str, int]:
    if not isinstance(value, dict) or not set(value) <= {"model", "window_days"}:
        raise bad_request("invalid_attribution", "attribution takes model and window_days.")
    model = v.one_of(value.get("model", "last_click"), ATTRIBUTION_MODELS, "invalid_attribution", "attribution.model")
    window = v.integer(value.get("window_days", 30), "invalid_attribution", "attribution.window_days", 1, 90)
    return model, window


def _milestones(value: Any) -> list[Milestone]:
    if not isinstance(value, list) or len(value) > MAX_MILESTONES:
        raise bad_request("invalid_milestones", f"milestones must be a list of at most {MAX_MILESTONES}.")
    result = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"amount", "label"}:
            raise bad_request("invalid_milestones", "Each milestone is {\"amount\": int > 0, \"label\": str}.")
        amount = v.integer(item["amount"], "invalid_milestones", "milestone amount", 1)
        label = v.text(item["label"], "invalid_milestones", "milestone label", 1, 120)
        result.append(Milestone(amount=amount, label=label))
    return sorted(result, key=lambda m: m.amount)


def _stripe_secret(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith("whsec_") or not 10 <= len(value) <= 200 \
            or not value.isascii() or not value[6:].replace("_", "").isalnum():
        raise bad_request("invalid_stripe_webhook_secret", "stripe_webhook_secret must be a whsec_… signing secret.")
    from chalicelib.domain import stripe_webhook

    return stripe_webhook.sealed_secret(value)


def _target_url(value: Any) -> str:
    url = safe_target_url(value)
    if url is None:
        raise bad_request(
            "invalid_target_url",
            "target_url must be an absolute https URL on a public host name, "
            "without user-info, IP address, port or control characters.",
        )
    return url


def _share_text(value: Any) -> str | None:
    return None if value is None else v.text(value, "invalid_share_text", "share_text", 0, 280) or None


def _ends_at(value: Any) -> datetime | None:
    return None if value is None else v.timestamp(value, "invalid_ends_at", "ends_at")


def _webhook(value: Any) -> dict[str, Any]:
    """Setting the URL (again) draws a new signing secret: that is the rotation."""
    from chalicelib.domain import webhook_settings

    url = webhook_settings.endpoint(value)
    return {"webhook_url": url, "webhook_secret": webhook_settings.new_sealed_secret() if url else None}


def _rewards(value: Any) -> list:
    from chalicelib.domain import rewards

    return rewards.parse(value)


_FIELDS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "name": lambda value: {"name": v.text(value, "invalid_name", "name", 1, 120)},
    "target_url": lambda value: {"target_url": _target_url(value)},
    "allowed_origins": lambda value: {"allowed_origins": _origins(value)},
    "goal": lambda value: dict(zip(("goal_amount", "goal_currency"), _goal(value), strict=True)),
    "locale": lambda value: {"locale": v.one_of(value, LOCALES, "invalid_locale", "locale")},
    "channels": lambda value: {"channels": _channels(value)},
    "share_text": lambda value: {"share_text": _share_text(value)},
    "attribution": lambda value: dict(zip(("attribution_model", "window_days"), _attribution(value), strict=True)),
    "leaderboard": lambda value: {
        "leaderboard": v.one_of(value, LEADERBOARD_MODES, "invalid_leaderboard", "leaderboard")},
    "public_stats": lambda value: {"public_stats": v.boolean(value, "invalid_public_stats", "public_stats")},
    "ends_at": lambda value: {"ends_at": _ends_at(value)},
    "milestones": lambda value: {"milestones": _milestones(value)},
    "stripe_webhook_secret": lambda value: {"stripe_webhook_secret": _stripe_secret(value)},
    "webhook_url": _webhook,
    "rewards": lambda value: {"rewards": _rewards(value)},
    "email": lambda value: {"email": email_settings.parse(value)},
    "platform": lambda value: {"platform": platforms.parse(value)},
}


FIELDS = frozenset(_FIELDS)


def _parse(body: dict) -> dict[str, Any]:
    """Every given field validated, as the stored attributes it sets (a 400 before anything is set)."""
    values: dict[str, Any] = {}
    for field, parse in _FIELDS.items():
        if field in body:
            values.update(parse(body[field]))
    return values


def create(body: Any) -> tuple[Campaign, str]:
    """Validate and store a new campaign; returns it with its API key (shown once)."""
    body = v.json_object(body)
    v.no_unknown_fields(body, FIELDS)
    for required in ("name", "target_url"):
        if required not in body:
            raise bad_request(f"invalid_{required}", f"{required} is required.")
    now = _now()
    campaign_id = ids.campaign_id()
    key, key_hash = access.new_key(campaign_id)
    campaign = Campaign(**{"id": campaign_id, "name": "", "target_url": "", "key_hash": key_hash, "created_at": now,
                           "updated_at": now, "channels": list(CHANNELS), **_parse(body)})
    if "allowed_origins" not in body:
        campaign.allowed_origins = [origin_of(campaign.target_url)]
    if not campaigns_table.insert(campaign):
        raise RuntimeError("campaign id collision")  # 62^12 ids: never silent
    return campaign, key


ATTEMPTS = 5
"""Changes tried on a campaign that keeps changing under them before ``409 campaign_busy``."""
REDERIVED = frozenset({"rewards", "milestones", "goal_currency"})
"""Settings whose change the aggregator follows: every fan's rewards and the milestones
reached are derived again under the new settings (``aggregate.notify``)."""


def _announced(campaign: Campaign, values: dict[str, Any]) -> bool:
    """Whether the change writes a settings record: a :data:`REDERIVED` setting changed, or a
    platform was set (every fan's platform tags are issued, ``aggregate.tagging``), or the
    channels changed while each channel has tags of its own."""
    platform = values.get("platform", campaign.platform)
    tagged = platform is not None and ("platform" in values or
                                       ("channels" in values and platform.tag_per == "fan_channel"))
    return bool(REDERIVED & set(values)) or tagged


def update(campaign: Campaign, body: Any, if_match: str | None = None) -> Campaign:
    """Change the fields ``body`` gives, and only those, on the campaign as read.

    Conditioned on the version read: when another change landed first, the campaign is
    read again and the same fields applied to it (each is a whole value, so applying them
    after the other change is what they mean); ``if_match`` (the ``version`` the caller
    read, as in ``If-Match``) asks instead for ``409 version_conflict`` in that case.
    """
    body = v.json_object(body)
    v.no_unknown_fields(body, FIELDS)
    if body.get("name", "") is None or body.get("target_url", "") is None:
        raise bad_request("invalid_body", "name and target_url cannot be removed.")
    values = _parse(body)
    expected = _version(if_match)
    for _ in range(ATTEMPTS):
        if expected is not None and campaign.version != expected:
            raise ApiError(409, "version_conflict", "The campaign changed since you read it: read it again.")
        if values.get("goal_currency", campaign.goal_currency) != campaign.goal_currency:
            _check_currency_change(campaign)
        changes = {**values, "updated_at": _now()}
        if campaigns_table.change(campaign, changes, announce=_announced(campaign, values)):
            lookups.forget_campaign(campaign.id)
            return replace(campaign, **changes, version=campaign.version + 1)
        campaign = get_or_404(campaign.id)
    raise ApiError(409, "campaign_busy", "The campaign kept changing while this change was tried: try again.")


def _version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names (``12`` or ``"12"``), or ``None`` without one."""
    if if_match is None:
        return None
    text = if_match.strip().strip('"')
    if not text.isdigit() or len(text) > 15:
        raise bad_request("invalid_if_match", "If-Match must be the campaign's version, a whole number.")
    return int(text)


def _check_currency_change(campaign: Campaign) -> None:
    """The goal currency is fixed once a pledge is counted: each pledge's amount in the goal
    currency (the leaderboard's order, the fans' amount, milestones) is counted when it
    arrives, so a new currency would add euros to dollars. Before any pledge it may change."""
    from chalicelib.store import rollups_table

    counted = rollups_table.total(campaign.id, consistent=True)
    if counted.get("pledges") or counted.amounts:
        raise ApiError(409, "goal_currency_locked",
                       "The goal's currency cannot change once pledges are counted; its amount can.")


def rotate_key(campaign: Campaign) -> str:
    """A new key, replacing the one ``campaign`` was read with: conditioned on that key's hash,
    so a change racing it can never bring the old key back, and of two rotations racing
    with the same key only one wins (the other's key is revoked: ``401``)."""
    key, key_hash = access.new_key(campaign.id)
    if not campaigns_table.change(campaign, {"key_hash": key_hash, "updated_at": _now()}, expect="key_hash"):
        raise unauthorized("The token is not valid.")
    lookups.forget_campaign(campaign.id)
    return key


def find(campaign_id: str) -> Campaign | None:
    if not ids.is_base62(campaign_id, 1, 32):
        return None
    return campaigns_table.get(campaign_id)


def get_or_404(campaign_id: str) -> Campaign:
    campaign = find(campaign_id)
    if campaign is None:
        raise not_found("campaign")
    return campaign


def authorize(campaign_id: str, token: str | None) -> Campaign:
    """The campaign, if ``token`` is its key or the operator token.

    No token or an invalid one is 401; a valid key of another campaign is 403.
    """
    if token is None:
        raise unauthorized()
    if access.is_operator(token):
        return get_or_404(campaign_id)
    key_campaign = access.parse_key(token)
    if key_campaign is None:
        raise unauthorized("The token is not valid.")
    if key_campaign != campaign_id:
        owner = find(key_campaign)
        if owner is not None and access.key_matches(token, owner.key_hash):
            raise forbidden("This key belongs to another campaign.")
        raise unauthorized("The token is not valid.")
    campaign = find(campaign_id)
    if campaign is None or not access.key_matches(token, campaign.key_hash):
        raise unauthorized("The token is not valid.")
    return campaign


def new_secrets(before: str | None, campaign: Campaign) -> dict:
    """``{"webhook_secret": …}`` when ``campaign`` has just drawn one (shown this once, unsealed), else ``{}``."""
    from chalicelib.domain import webhook_settings

    fresh = campaign.webhook_secret is not None and campaign.webhook_secret != before
    return {"webhook_secret": webhook_settings.shown_secret(campaign.webhook_secret)} if fresh else {}


def update_showing_secrets(campaign: Campaign, body: Any, if_match: str | None = None) -> dict:
    """:func:`update`, answered as ``{"campaign": …}`` plus a newly drawn webhook secret."""
    before = campaign.webhook_secret
    campaign = update(campaign, body, if_match)
    return {"campaign": to_dict(campaign), **new_secrets(before, campaign)}


def to_dict(campaign: Campaign) -> dict:
    """The creator's view of a campaign. The Stripe and webhook secrets are write-only."""
    return {
        "id": campaign.id,
        "name": campaign.name,
        "target_url": campaign.target_url,
        "allowed_origins": list(campaign.allowed_origins),
        "goal": campaign.goal(),
        "locale": campaign.locale,
        "channels": list(campaign.channels),
        "share_text": campaign.share_text,
        "attribution": {"model": campaign.attribution_model, "window_days": int(campaign.window_days)},
        "leaderboard": campaign.leaderboard,
        "public_stats": bool(campaign.public_stats),
        "ends_at": v.iso(campaign.ends_at),
        "milestones": [{"amount": m.amount, "label": m.label} for m in campaign.milestones],
        "stripe_webhook_configured": campaign.stripe_webhook_secret is not None,
        "webhook_url": campaign.webhook_url,
        "rewards": [{"pledges": r.pledges, "label": r.label} for r in campaign.rewards],
        "email": email_settings.to_dict(campaign.email),
        "platform": platforms.to_dict(campaign.platform),
        "created_at": v.iso(campaign.created_at),
        "updated_at": v.iso(campaign.updated_at),
        "version": campaign.version,
    }
