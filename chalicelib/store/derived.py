"""Records of what Relais derives from the facts: a rollup item's counters, a campaign's
leaderboard, webhook deliveries, milestones reached and fans' reward states.

Kept apart from :mod:`chalicelib.store.records` (what the request path reads and writes):
each dataclass costs a cold start about 0.7 ms to create, and the redirect needs none of these.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.store.records import CHANNEL_COUNTERS, COUNTERS, REPORTED_PREFIX


@dataclass(frozen=True)
class Rollup:
    """One rollup item's counters (``clicks``, ``referrers``, ``lb_score``…), money per
    currency, and what a referrer's item carries besides (name, moderation)."""

    counts: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, int] = field(default_factory=dict)
    name: str | None = None
    referred_by: str | None = None
    depth: int | None = None
    hidden: bool = False
    erased: bool = False
    version: int = 0  # ``ver``: the aggregator's writes to the item so far (which copy is newer)

    def get(self, counter: str) -> int:
        return self.counts.get(counter, 0)

    def counters(self) -> dict[str, int]:
        return {name: self.get(name) for name in COUNTERS}

    def reported_counts(self) -> dict[str, int]:
        """The part platform imports brought: ``rep_pledges`` and ``rep_amt_<currency>``."""
        return {name: value for name, value in self.counts.items() if name.startswith(REPORTED_PREFIX)}

    def by_channel(self) -> dict[str, dict[str, int]]:
        """A ``total`` item's per-channel counts: ``{channel: {"shares", "clicks", "pledges"}}``."""
        found: dict[str, dict[str, int]] = {}
        for name, value in self.counts.items():
            channel, _, counter = name[3:].rpartition("_")
            if name.startswith("ch_") and channel and counter in CHANNEL_COUNTERS:
                found.setdefault(channel, dict.fromkeys(CHANNEL_COUNTERS, 0))[counter] = value
        return found


# outbound webhooks and fans' rewards ---------------------------------------------------------

DELIVERY_STATUSES = ("pending", "delivered", "dead")


@dataclass(frozen=True)
class Attempt:
    """One try of a delivery: the answer's status (``None``: no answer) and a short excerpt."""

    at: int  # unix ms
    duration_ms: int
    status_code: int | None = None
    error: str | None = None
    response: str | None = None


@dataclass(frozen=True)
class Delivery:
    """A webhook event on its way to the campaign's endpoint. ``body`` is the exact JSON sent
    every time (same ``id``); times are unix milliseconds."""

    campaign_id: str
    event_id: str
    type: str
    created: int
    body: str
    status: str = "pending"
    attempts: int = 0
    next_at: int = 0
    deadline: int = 0
    history: tuple[Attempt, ...] = ()
    lease: str | None = None
    lease_until: int = 0


@dataclass(frozen=True)
class MilestoneState:
    """A community milestone the fans' amount reached, and whether its webhook went out."""

    amount: int
    reached_at: int
    notified: bool


@dataclass(frozen=True)
class RewardState:
    """One fan's state for one reward. ``generation`` counts unlocks (a refund before
    fulfilment re-locks; reaching the count again unlocks anew); ``notified`` is the
    generation whose ``reward.unlocked`` went out (or was not due: no webhook then)."""

    code: str
    pledges: int
    label: str
    unlocked: bool = False
    generation: int = 0
    notified: int = 0
    unlocked_at: int | None = None
    fulfilled_at: int | None = None


@dataclass(frozen=True)
class BoardEntry:
    """One fan on a campaign's leaderboard item: what the widget, a fan's rank and the
    public stats show of them. ``name`` is ``None`` once erased (``erased`` then)."""

    code: str
    score: int  # lb_score: amount in goal currency × 10⁶ + pledges
    version: int
    name: str | None = None
    erased: bool = False
    depth: int = 1
    goal_amount: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    landed: int = 0
    pledges: int = 0
    amounts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Board:
    """A campaign's leaderboard: its fans in order, and when the index read behind it began
    (ms since the epoch: a rebuild never replaces a board built from a later read).

    As read back (``store.rollups_table.board``), ``entries`` holds the first few fans' display
    fields only, and ``order`` every fan's code."""

    entries: tuple[BoardEntry, ...] = ()
    built_ms: int = 0
    order: tuple[str, ...] = ()
