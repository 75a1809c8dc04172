"""The four DynamoDB tables, declared once, as PynamoDB models: the one declaration of each
table's attributes, kinds, defaults, keys, indexes, TTL and stream.

Everything else is derived from them:

- :mod:`chalicelib.store.specs` reads the keys, indexes, stream and TTL (PynamoDB's public
  attribute and index API); ``store.tables.create_tables`` (local) and ``infra.stack``
  (AWS) build the tables from it;
- :mod:`chalicelib.store.generate` writes :mod:`chalicelib.store.declared` from the models
  and :data:`RECORDS`: how the codec stores each attribute, and the typed records services
  deal in. The redirect's cold path imports that generated module, never PynamoDB;
  ``tests/unit/test_declared.py`` regenerates it and fails on any difference.

No code calls DynamoDB through these classes: every request goes through the store's own
botocore clients (:mod:`chalicelib.store.clients`), so table names and endpoints come from
config at call time and PynamoDB's connection internals are never touched.
``docs/architecture.md`` explains each key; :mod:`chalicelib.store.keys` builds them.

Adding an attribute is one line here, then ``make generate``.
"""
from __future__ import annotations

from typing import NamedTuple

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model


class _Meta:
    """Placeholders: the store names tables from config (``config.table_name``) at call time."""

    table_name = "unbound"
    region = "us-east-1"
    billing_mode = "PAY_PER_REQUEST"


class MilestoneMap(MapAttribute):
    """A campaign milestone: reached when fans have brought ``amount`` (goal currency)."""

    amount = NumberAttribute()
    label = UnicodeAttribute()


class RewardMap(MapAttribute):
    """A fan reward: unlocked by ``pledges`` confirmed pledges attributed to the fan's link."""

    pledges = NumberAttribute()
    label = UnicodeAttribute()


class PlatformMap(MapAttribute):
    """Where the campaign's pledges happen (``domain.platforms``): the platform's ``name``, the
    query parameter its referral report reads (``tag_param``) and whether a fan has one tag
    or one per channel (``tag_per``: ``fan`` or ``fan_channel``)."""

    name = UnicodeAttribute()
    tag_param = UnicodeAttribute()
    tag_per = UnicodeAttribute()


class EmailMap(MapAttribute):
    """Fans by e-mail (``docs/email.md``): whether the campaign e-mails its fans (sign-in
    links, rewards unlocked), the sender's display name and the creator's Reply-To."""

    enabled = BooleanAttribute()
    from_name = UnicodeAttribute()
    reply_to = UnicodeAttribute(default="")  # "": none (the codec stores no null member in a map)


class CampaignModel(Model):
    """One campaign. Key: ``id``. ``version`` counts its changes: every change is conditioned
    on the version (or, for a key rotation, the key hash) it read, so two requests racing
    never undo each other."""

    class Meta(_Meta):
        pass

    id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    target_url = UnicodeAttribute()
    allowed_origins = ListAttribute(of=UnicodeAttribute, default=list)
    goal_amount = NumberAttribute(null=True)
    goal_currency = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(default="en")
    channels = ListAttribute(of=UnicodeAttribute, default=list)
    share_text = UnicodeAttribute(null=True)
    attribution_model = UnicodeAttribute(default="last_click")
    window_days = NumberAttribute(default=30)
    leaderboard = UnicodeAttribute(default="pseudonymous")
    public_stats = BooleanAttribute(default=False)
    ends_at = UTCDateTimeAttribute(null=True)
    milestones = ListAttribute(of=MilestoneMap, default=list)
    stripe_webhook_secret = UnicodeAttribute(null=True)
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret = UnicodeAttribute(null=True)
    rewards = ListAttribute(of=RewardMap, default=list)
    key_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)  # changes so far: each change is conditioned on the version it read
    first_day = UnicodeAttribute(null=True)  # an imported pledge's day before created_at: where stats start
    platform = PlatformMap(null=True)  # a hosted platform's referral tags (None: the creator's own page)
    email = EmailMap(null=True)  # fans by e-mail (None: off)


class LinkModel(Model):
    """A fan's referral link (key ``code``), or an e-mail claim (key ``@<campaign>:<digest>``,
    ``target`` = the claimed link's code). ``rq`` is the token of the request that created it.

    A link keeps its fan's e-mail only sealed (``sealed_email``: encrypted and authenticated
    with a key derived from the server secret, ``domain.sealing``) and the key of its claim
    (``claim``), so that erasing the fan can delete the claim without reading the e-mail.
    ``depth`` is 1 for a fan nobody referred; ``hidden`` is the creator's moderation;
    ``erased_at`` says the fan's data was erased.

    ``platform_tags`` are the tags a hosted platform counts this fan's pledges under
    (``hotpath.platform_tags``): added, never removed. Each tag also has an item of its own,
    key ``#<campaign>:tag:<tag>``, ``target`` = the fan's code, ``channel`` the tag's channel
    (none for a fan's one tag): written only if absent or already the same fan's, so a tag
    names one fan (and channel) for good.
    """

    class Meta(_Meta):
        pass

    code = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    sealed_email = UnicodeAttribute(null=True)
    claim = UnicodeAttribute(null=True)
    referred_by = UnicodeAttribute(null=True)
    depth = NumberAttribute(default=1)  # 1 for a fan nobody referred
    hidden = BooleanAttribute(default=False)
    erased_at = UTCDateTimeAttribute(null=True)
    target = UnicodeAttribute(null=True)
    rq = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    platform_tags = UnicodeSetAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    notify = BooleanAttribute(null=True)  # e-mail the fan when a reward unlocks (opted in; False once unsubscribed)


class EventModel(Model):
    """Every fact is one item here. Key: ``pk = "<campaign>#<lane>"``, ``sk`` per fact.

    The stream (NEW_AND_OLD_IMAGES) feeds the aggregator; ``expires_at`` lets DynamoDB
    drop raw visits, previews and shares once counted. Pledges and new referrers never
    expire: a recount can always rebuild them.
    """

    class Meta(_Meta):
        stream_view_type = "NEW_AND_OLD_IMAGES"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    code = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    day = UnicodeAttribute(null=True)
    visitor = UnicodeAttribute(null=True)
    agent = UnicodeAttribute(null=True)
    amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    goal_amount = NumberAttribute(null=True)
    depth = NumberAttribute(null=True)
    name = UnicodeAttribute(null=True)
    referred_by = UnicodeAttribute(null=True)
    hidden = BooleanAttribute(null=True)  # a new referrer's moderation: off the public leaderboard
    erased = BooleanAttribute(null=True)  # a new referrer whose name and e-mail were erased
    external_id = UnicodeAttribute(null=True)
    rq = UnicodeAttribute(null=True)
    erq = UnicodeAttribute(null=True)  # the request that ended a pledge (an import row's token): its retry knows
    occurred_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    toks = UnicodeSetAttribute(null=True)  # a visitor's visits (or landings) of a day: their request tokens
    repeat = BooleanAttribute(null=True)  # a visitor's visit beyond the item's token cap: not a new visitor
    source = UnicodeAttribute(null=True)  # where a pledge came from: api, stripe or import
    pledges = NumberAttribute(null=True)  # a platform tag's total: the pledges its import reported
    prior_pledges = NumberAttribute(null=True)  # a tag total: what the previous import of the tag reported
    prior_amount = NumberAttribute(null=True)
    prior_currency = UnicodeAttribute(null=True)


class LeaderboardIndex(GlobalSecondaryIndex):
    """Referrer rollups of one campaign ordered by score (amount in goal currency, then pledges).

    Keys only: DynamoDB writes an index entry when a projected attribute changes, and a
    fan's score changes with a pledge, never with a click. With every attribute projected,
    each click counted on a fan's item also rewrote its entry (a second write unit, and the
    index partition of a viral campaign capped its counting). Readers fetch the items
    themselves, 100 per ``BatchGetItem`` (``store.rollups_table.leaders``)."""

    class Meta:
        index_name = "leaderboard"
        projection = KeysOnlyProjection()

    lb_pk = UnicodeAttribute(hash_key=True)
    lb_score = NumberAttribute(range_key=True)


class RollupModel(Model):
    """Counters maintained by the aggregator (and repaired by the recount).

    Key: ``pk = campaign id`` for counters (``total``, ``day#<date>#<channel>``,
    ``ref#<code>``, ``depth#<n>``, ``direct``) and the recount's state; ``pk =
    "<campaign>#rc"`` for records held during a recount, ``"<campaign>#wh"``
    for outbound webhooks (event claims, deliveries, send slots, milestones reached:
    ``store.webhook_records``) and ``"<campaign>#rw"`` for fans' reward states
    (``store.reward_states``); those items' attributes are theirs, read and written by name.
    ``"<campaign>#lb"`` holds the campaign's leaderboard (``board``: the top fans, rebuilt by
    the aggregator so that a public request reads one item), ``"#salt"`` the daily visitor
    salts and ``"rl#<visitor>"`` a visitor's rate-limit counters (both expire). Counter
    attributes (``clicks``, ``amt_EUR``…) and per-lane sequence numbers (``seq_<lane>``)
    are written by name; the declared ones are those with a fixed meaning.
    """

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    lb_pk = UnicodeAttribute(null=True)
    lb_score = NumberAttribute(null=True)
    name = UnicodeAttribute(null=True)
    referred_by = UnicodeAttribute(null=True)
    depth = NumberAttribute(null=True)
    hidden = BooleanAttribute(null=True)
    erased = BooleanAttribute(null=True)
    ver = NumberAttribute(null=True)  # bumped by every aggregator write: which of two copies is newer
    expires_at = TTLAttribute(null=True)
    leaderboard = LeaderboardIndex()


class Record(NamedTuple):
    """A typed record generated from a declaration: its class ``name``, the model or map it
    mirrors, whether it is ``frozen``, the attributes it ``leaves_out`` (keys and bookkeeping
    the store handles itself) and ``extra`` fields derived from the item (name, type, and
    the default's source, or ``None`` when required)."""

    name: str
    declaration: type[Model] | type[MapAttribute]
    frozen: bool = True
    leaves_out: tuple[str, ...] = ()
    extra: tuple[tuple[str, str, str | None], ...] = ()
    doc: str | None = None  # the record's docstring, when not the declaration's own


RECORDS: tuple[Record, ...] = (
    Record("Milestone", MilestoneMap),
    Record("Reward", RewardMap),
    Record("Platform", PlatformMap),
    Record("EmailSettings", EmailMap),
    Record("CampaignFields", CampaignModel, frozen=False,
           doc="A campaign's stored fields; ``records.Campaign`` adds what is derived from them."),
    Record("Link", LinkModel),
    Record("Event", EventModel, leaves_out=("pk", "rq", "erq", "expires_at", "toks"),
           extra=(("lane", "str", None), ("visits", "int", "1")),
           doc="An events item as the aggregator and the recount read it (any kind): ``lane`` comes from "
               "its key, ``visits`` is how many visits (or landings) it holds (a visitor's item holds "
               "each of the day's), ``repeat`` marks a visit beyond the item's token cap."),
)
"""The typed records :mod:`chalicelib.store.declared` holds, in the order they are written."""

CODECS: dict[str, type[Model]] = {"CAMPAIGN": CampaignModel, "LINK": LinkModel, "EVENT": EventModel}
"""The attribute declarations the codec converts items by, named as in ``declared``."""

ALL_MODELS: dict[str, type[Model]] = {
    "campaigns": CampaignModel,
    "links": LinkModel,
    "events": EventModel,
    "rollups": RollupModel,
}
