"""Every key shape of every table: one builder (and parser where one is read back) each.

``docs/architecture.md`` has the table of shapes; nothing outside the store builds or
slices a key. Events spread over ``LANES`` partition keys per campaign; a fact with an
identity (a pledge id, a visitor of the day, a referrer's code, a request token) always
takes the lane its identity hashes to, so writing it again hits the same item.
"""
from __future__ import annotations

import hashlib

from chalicelib.store.records import RollupId

LANES = 16


def lane_of(identity: str) -> int:
    return hashlib.blake2b(identity.encode(), digest_size=2).digest()[0] % LANES


def lane_name(lane: int) -> str:
    return f"{lane:02d}"


def event_pk(campaign_id: str, lane: int) -> str:
    return f"{campaign_id}#{lane_name(lane)}"


def split_event_pk(pk: str) -> tuple[str, str]:
    """``(campaign id, lane)`` of an events-table partition key."""
    campaign_id, sep, lane = pk.rpartition("#")
    if not sep or not campaign_id or len(lane) != 2 or not lane.isdigit():
        raise ValueError(f"not an events partition key: {pk!r}")
    return campaign_id, lane


# events: sort keys ---------------------------------------------------------------------

def visit_sk(day: str, code: str, channel: str, visitor: str | None, token: str) -> str:
    """A visit of its own: under DNT/GPC (no visitor), or a visitor's beyond ``TOKENS_CAP``."""
    if visitor is None:
        return f"c#{day}#{token}"
    return f"v#{day}#{code}#{channel}#{visitor}#{token}"


def visitor_visits_sk(day: str, code: str, channel: str, visitor: str) -> str:
    """Every visit of one visitor through one link and channel on one day, in one item."""
    return f"v#{day}#{code}#{channel}#{visitor}"


def landing_sk(day: str, token: str) -> str:
    return f"l#{day}#{token}"


def visitor_landings_sk(day: str, code: str, channel: str, visitor: str) -> str:
    return f"l#{day}#{code}#{channel}#{visitor}"


def preview_sk(day: str, token: str) -> str:
    return f"p#{day}#{token}"


def share_sk(day: str, token: str) -> str:
    return f"s#{day}#{token}"


def referrer_sk(code: str) -> str:
    return f"r#{code}"


def pledge_sk(pledge_id: str) -> str:
    return f"pl#{pledge_id}"


def pledge_id_of(sk: str) -> str:
    if not sk.startswith("pl#"):
        raise ValueError(f"not a pledge key: {sk!r}")
    return sk[3:]


def alias_sk(payment_intent: str) -> str:
    """Stripe payment intent → the checkout session (pledge id) it paid."""
    return f"pi#{payment_intent}"


def refund_memo_sk(payment_intent: str) -> str:
    """A Stripe refund that arrived before its checkout, remembered until the checkout comes."""
    return f"rf#{payment_intent}"


def recount_marker_sk(run: str, phase: str) -> str:
    return f"rc#{run}#{phase}"


def tag_total_prefix(tag: str) -> str:
    """Every import's total of one platform tag, oldest first (``store.tag_totals``)."""
    return f"tt#{tag}#"


def tag_total_sk(tag: str, version: int) -> str:
    """The ``version``-th total imported for a tag: zero-padded, so the newest sorts last."""
    return f"{tag_total_prefix(tag)}{version:09d}"


def tag_total_version(sk: str) -> int:
    prefix, _, version = sk.rpartition("#")
    if not prefix.startswith("tt#") or not version.isdigit():
        raise ValueError(f"not a tag total key: {sk!r}")
    return int(version)


# links ---------------------------------------------------------------------------------

EMAIL_CLAIM_PREFIX = "@"
"""What every e-mail claim's key starts with, and no link's (codes are base62): the API role's
``DeleteItem`` on the links table is held to keys starting with it (``infra/stack.py``)."""


def email_claim_key(campaign_id: str, email_digest: str) -> str:
    """Codes are base62, so the ``@`` prefix never collides with a link."""
    return f"{EMAIL_CLAIM_PREFIX}{campaign_id}:{email_digest}"


PLATFORM_TAG_PREFIX = "#"
"""What every platform tag's item key starts with: neither a link (base62) nor a claim (``@``)."""


def platform_tag_key(campaign_id: str, tag: str) -> str:
    """A platform tag's item (``store.tag_registry``): which fan, and channel, the tag names."""
    return f"{PLATFORM_TAG_PREFIX}{campaign_id}:tag:{tag}"


# rollups -------------------------------------------------------------------------------

TOTAL = "total"
DIRECT = "direct"
RECOUNT_STATE = "recount"


def day_sk(day: str, channel: str) -> str:
    return f"day#{day}#{channel}"


def day_range(start: str, end: str) -> tuple[str, str]:
    """The sort-key bounds of every ``day#`` item from ``start`` to ``end`` (dates, inclusive)."""
    return f"day#{start}", f"day#{end}#~"


def split_day_sk(sk: str) -> tuple[str, str]:
    """``(date, channel)`` of a ``day#`` sort key."""
    prefix, day, channel = sk.split("#", 2)
    if prefix != "day":
        raise ValueError(f"not a day key: {sk!r}")
    return day, channel


def referrer_rollup_sk(code: str) -> str:
    return f"ref#{code}"


def code_of_referrer_rollup(sk: str) -> str:
    if not sk.startswith("ref#"):
        raise ValueError(f"not a referrer rollup key: {sk!r}")
    return sk[4:]


def depth_sk(depth: int) -> str:
    return f"depth#{depth}"


def depth_of(sk: str) -> int:
    if not sk.startswith("depth#"):
        raise ValueError(f"not a cascade key: {sk!r}")
    return int(sk[6:])


def cascade_range() -> tuple[str, str]:
    """Bounds that hold every ``depth#`` item and ``direct`` (sorted between them)."""
    return "depth#", DIRECT


def rollup_sk(rollup: RollupId) -> str:
    if rollup.level == "day":
        return day_sk(rollup.day, rollup.channel)
    if rollup.level == "referrer":
        return referrer_rollup_sk(rollup.code)
    if rollup.level == "depth":
        return depth_sk(rollup.depth)
    if rollup.level in (TOTAL, DIRECT):
        return rollup.level
    raise ValueError(f"no such rollup level: {rollup.level!r}")


def rollup_id(sk: str) -> RollupId:
    """The id of a counter item's sort key (ValueError for the recount's state item)."""
    if sk in (TOTAL, DIRECT):
        return RollupId(sk)
    if sk.startswith("day#"):
        day, channel = split_day_sk(sk)
        return RollupId("day", day=day, channel=channel)
    if sk.startswith("ref#"):
        return RollupId("referrer", code=code_of_referrer_rollup(sk))
    if sk.startswith("depth#"):
        return RollupId("depth", depth=depth_of(sk))
    raise ValueError(f"not a counter item: {sk!r}")


def held_pk(campaign_id: str) -> str:
    return f"{campaign_id}#rc"


def held_sk(run: str, lane: str, seq: str) -> str:
    return f"{run}#{lane}#{seq}"


def held_prefix(run: str) -> str:
    return f"{run}#"


# rollups: outbound webhooks and fans' rewards ----------------------------------------------

def webhook_pk(campaign_id: str) -> str:
    """A campaign's webhook items: event claims, deliveries, send slots, milestones reached."""
    return f"{campaign_id}#wh"


def campaign_of_webhook_pk(pk: str) -> str:
    campaign_id, sep, rest = pk.rpartition("#")
    if not sep or rest != "wh" or not campaign_id:
        raise ValueError(f"not a webhook partition key: {pk!r}")
    return campaign_id


def event_claim_sk(event_id: str) -> str:
    """The first sighting of a webhook event: its id is derived from the fact, so a replay finds it."""
    return f"e#{event_id}"


DELIVERY_PREFIX = "d#"


def delivery_sk(created_ms: int, event_id: str) -> str:
    """A delivery, newest last: the deliveries list reads them backwards."""
    return f"{DELIVERY_PREFIX}{created_ms:013d}#{event_id}"


def split_delivery_sk(sk: str) -> tuple[int, str]:
    """``(created ms, event id)`` of a delivery's sort key."""
    prefix, created, event_id = sk.split("#", 2)
    if prefix + "#" != DELIVERY_PREFIX or not created.isdigit() or not event_id:
        raise ValueError(f"not a delivery key: {sk!r}")
    return int(created), event_id


def imports_pk(campaign_id: str) -> str:
    """A campaign's import jobs (``store.import_jobs``), keyed by their time-ordered ids."""
    return f"{campaign_id}#imp"


def import_errors_pk(campaign_id: str) -> str:
    """The row errors of a campaign's import jobs, an item per chunk (``store.import_jobs``)."""
    return f"{campaign_id}#impe"


def send_slot_sk(slot: int) -> str:
    """One of the campaign's concurrent-delivery slots."""
    return f"slot#{slot}"


def milestone_sk(amount: int) -> str:
    return f"m#{amount:016d}"


def milestone_of(sk: str) -> int:
    if not sk.startswith("m#") or not sk[2:].isdigit():
        raise ValueError(f"not a milestone key: {sk!r}")
    return int(sk[2:])


def rewards_pk(campaign_id: str) -> str:
    return f"{campaign_id}#rw"


def reward_sk(code: str, pledges: int) -> str:
    """A fan's state for the reward unlocked at ``pledges``; a fan's rewards share a prefix."""
    return f"{code}#{pledges:07d}"


def reward_prefix(code: str) -> str:
    return f"{code}#"


def split_reward_sk(sk: str) -> tuple[str, int]:
    code, _, pledges = sk.partition("#")
    if not code or not pledges.isdigit():
        raise ValueError(f"not a reward key: {sk!r}")
    return code, int(pledges)


# fans' data, moderation and abuse limits -------------------------------------------------

def settings_sk(version: int) -> str:
    """The record that a campaign's rewards or milestones changed (events, lane 0), by the
    campaign version that changed them: the aggregator re-derives fans' rewards and reached
    milestones when it meets one."""
    return f"cfg#{version:012d}"


def erasure_sk(code: str) -> str:
    """The record that a fan's data was erased (events, the lane of the code): no personal data."""
    return f"er#{code}"


REFERRER_PREFIX = "ref#"
"""Every ``ref#<code>`` rollup of a campaign: the creator's fan list pages through them."""

SALT_PK = "#salt"
"""The daily visitor salts (rollups); campaign ids are base62, so no campaign's key collides."""


def salt_sk(day: str) -> str:
    return day


def board_pk(campaign_id: str) -> str:
    """The campaign's leaderboard item (rollups), outside the counters' partition."""
    return f"{campaign_id}#lb"


BOARD = "board"
BOARD_ROWS = "rows"


def limit_pk(visitor: str) -> str:
    """A visitor's rate-limit counters (rollups), spread by the visitor's keyed hash."""
    return f"rl#{visitor}"


def limit_sk(campaign_id: str, action: str, window: int) -> str:
    return f"{campaign_id}#{action}#{window}"


def ceiling_pk(campaign_id: str) -> str:
    """A campaign's own rate-limit counters (rollups), whoever writes: ``cl#`` cannot start a
    visitor's key (``rl#``) nor a campaign id (base62)."""
    return f"cl#{campaign_id}"


def ceiling_sk(action: str, window: int) -> str:
    return f"{action}#{window}"


# rollups: fans' e-mails ------------------------------------------------------------------

def mail_pk(campaign_id: str) -> str:
    """A campaign's e-mail items (``store.mail_records``): recovery gates, used sign-in
    tokens, messages sent, suppressed addresses."""
    return f"{campaign_id}#ml"


def mail_gate_sk(email_digest: str) -> str:
    """When the address of this claim digest may next get a sign-in message."""
    return f"g#{email_digest}"


def signin_used_sk(nonce: str) -> str:
    """A sign-in token that was used (expires with it)."""
    return f"t#{nonce}"


def mail_sent_sk(job_id: str) -> str:
    """A message that went out: a replayed job finds it and sends nothing."""
    return f"s#{job_id}"


def suppression_sk(email_digest: str) -> str:
    """An address that bounced or complained (its keyed hash only): sent nothing more."""
    return f"x#{email_digest}"
