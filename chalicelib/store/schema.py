"""The four DynamoDB tables, as PynamoDB models: the one source of truth for their schema.

``docs/architecture.md`` explains each key and the access pattern it serves; the CDK
stack and ``chalicelib.tables.create_tables`` both read their definitions from here.
Table names, endpoint and region are bound from config at call time by
``chalicelib.tables.bind``, never at import.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model


class _Model(Model):
    """Every model operation goes through here: bound to the tables config names now, with
    the botocore client ``chalicelib.tables`` shares."""

    @classmethod
    def _get_connection(cls):
        from chalicelib.store import tables

        tables.bind()
        connection = super()._get_connection()
        if connection.connection._client is None:
            connection.connection._client = tables.model_client()
        return connection


class _Meta:
    """``tables.bind`` fills name, region and host, and gives the models shared clients."""

    table_name = "unbound"
    region = "us-east-1"
    host = None
    billing_mode = "PAY_PER_REQUEST"


class Milestone(MapAttribute):
    amount = NumberAttribute()
    label = UnicodeAttribute()


class Campaign(_Model):
    """One campaign. Key: ``id``. Read by id on every public and creator route."""

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
    milestones = ListAttribute(of=Milestone, default=list)
    stripe_webhook_secret = UnicodeAttribute(null=True)
    key_hash = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    def goal(self) -> dict | None:
        if self.goal_currency is None:
            return None
        return {"amount": int(self.goal_amount or 0), "currency": self.goal_currency}

    def milestone_progress(self, fan_amount: int) -> list[dict]:
        """Each milestone, reached when fans have brought its amount (goal currency)."""
        return [{"amount": int(m.amount), "label": m.label, "reached": fan_amount >= int(m.amount)}
                for m in self.milestones]


class Link(_Model):
    """A fan's referral link. Key: ``code`` (immutable, cached by the redirect).

    The same table holds e-mail claims: ``code = "@<campaign>:<hmac(email)>"`` with
    ``target`` = the link's code, written with a conditional put so that one e-mail gets
    one link per campaign even under concurrent requests. Codes are base62, so the ``@``
    prefix never collides.
    """

    class Meta(_Meta):
        pass

    code = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute()
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    referred_by = UnicodeAttribute(null=True)
    depth = NumberAttribute(default=0)
    target = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class Event(_Model):
    """Every fact (visit, preview, share, pledge, new referrer) is one item here.

    Key: ``pk = "<campaign>#<lane>"`` with lane 0..15, ``sk`` unique per fact. Sixteen
    lanes spread a viral campaign's writes over partitions; the aggregator remembers the
    last applied stream sequence number per lane on each rollup item, which makes
    replays exact. The stream (NEW_AND_OLD_IMAGES) feeds the aggregator; ``expires_at``
    lets DynamoDB drop raw visit/preview/share events once they are counted. Pledge
    items have no TTL: the pledge item is its own idempotency record.
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
    hits = NumberAttribute(null=True)
    agent = UnicodeAttribute(null=True)
    amount = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    goal_amount = NumberAttribute(null=True)
    depth = NumberAttribute(null=True)
    name = UnicodeAttribute(null=True)
    referred_by = UnicodeAttribute(null=True)
    external_id = UnicodeAttribute(null=True)
    occurred_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)


class LeaderboardIndex(GlobalSecondaryIndex):
    """Referrer rollups of one campaign ordered by score (amount in goal currency, then pledges)."""

    class Meta:
        index_name = "leaderboard"
        projection = AllProjection()

    lb_pk = UnicodeAttribute(hash_key=True)
    lb_score = NumberAttribute(range_key=True)


class Rollup(_Model):
    """Counters maintained by the aggregator only. Key: ``pk = campaign id``, ``sk``:

    - ``total``: campaign totals; ``day#<date>#<channel>``: the daily series per channel;
    - ``ref#<code>``: one fan's totals; ``depth#<n>``: the referral cascade; ``direct``.

    Counter attributes (``clicks``, ``amt_EUR``…) and per-lane sequence numbers
    (``seq_<lane>``) are written by name through the low-level client; the declared ones
    below are those other code reads by name.
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
    leaderboard = LeaderboardIndex()


ALL_MODELS: dict[str, type[Model]] = {
    "campaigns": Campaign,
    "links": Link,
    "events": Event,
    "rollups": Rollup,
}
