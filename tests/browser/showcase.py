"""A campaign with two weeks of believable activity, for the README's screenshots.

Everything goes through the public API as it would in production: fans are created by the
referrers route, shares by the share route, clicks by real redirects (one user agent per
visitor, so they count as people and as unique visitors). Pledges made on earlier days carry
the ``ref`` their click would have had that day: signing it needs the stack's secret, which
the test reads from the stack's data directory, as the stack itself does.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta

import requests

from tests.browser.support import Relais

FANS = [  # name, recruited by, {channel: clicks}
    ("Camille Durand", None, {"whatsapp": 16, "x": 6}),
    ("Hugo Martin", None, {"facebook": 11, "email": 4}),
    ("Léa Petit", None, {"x": 7, "bluesky": 5}),
    ("Karim Benali", "Camille Durand", {"whatsapp": 9, "telegram": 3}),
    ("Sofia Rossi", "Camille Durand", {"copy": 6}),
    ("Tom Leroy", None, {"qr": 5, "reddit": 2}),
    ("Inès Moreau", "Karim Benali", {"whatsapp": 4}),
    ("Nathan Roux", "Hugo Martin", {"facebook": 3, "sms": 2}),
]
SHARES = {"Camille Durand": ["whatsapp", "whatsapp", "x", "copy"], "Hugo Martin": ["facebook", "email", "facebook"],
          "Léa Petit": ["x", "bluesky"], "Karim Benali": ["whatsapp", "telegram"], "Sofia Rossi": ["copy"],
          "Tom Leroy": ["qr", "reddit"], "Inès Moreau": ["whatsapp"], "Nathan Roux": ["facebook", "sms"]}
PLEDGES = [  # days ago, fan (None: direct), channel, euros
    (13, None, None, 60), (13, "Camille Durand", "whatsapp", 25), (12, "Hugo Martin", "facebook", 10),
    (12, None, None, 25), (11, "Camille Durand", "whatsapp", 60), (11, "Léa Petit", "x", 25),
    (10, "Camille Durand", "x", 10), (9, "Hugo Martin", "facebook", 25), (9, "Karim Benali", "whatsapp", 60),
    (8, None, None, 10), (8, "Camille Durand", "whatsapp", 25), (7, "Tom Leroy", "qr", 25),
    (7, "Léa Petit", "bluesky", 60), (6, "Karim Benali", "whatsapp", 25), (6, "Sofia Rossi", "copy", 25),
    (5, "Camille Durand", "whatsapp", 120), (5, "Hugo Martin", "email", 25), (4, "Inès Moreau", "whatsapp", 60),
    (4, None, None, 25), (3, "Camille Durand", "whatsapp", 25), (3, "Karim Benali", "telegram", 10),
    (2, "Nathan Roux", "facebook", 25), (2, "Léa Petit", "x", 25), (1, "Camille Durand", "x", 60),
    (1, "Hugo Martin", "facebook", 25), (1, "Sofia Rossi", "copy", 10), (0, "Camille Durand", "whatsapp", 25),
    (0, "Karim Benali", "whatsapp", 60), (0, None, None, 10),
]


@contextmanager
def _stack_secret(relais: Relais) -> Iterator[None]:
    previous = os.environ.get("RELAIS_SECRET")
    os.environ["RELAIS_SECRET"] = (relais.stack.data_dir / "secret").read_text().strip()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("RELAIS_SECRET", None)
        else:
            os.environ["RELAIS_SECRET"] = previous


def seed(relais: Relais) -> dict:
    """Creates the campaign and its activity; returns its id, key, fans and date range."""
    from chalicelib.hotpath.signing import make_ref

    campaign_id, key = relais.campaign(
        name="Noob — the final season", locale="en", leaderboard="public",
        goal={"amount": 6_000_000, "currency": "EUR"},
        share_text="Help Noob fund its final season!",
        milestones=[{"amount": 50_000, "label": "A bonus episode"},
                    {"amount": 100_000, "label": "The making-of documentary"},
                    {"amount": 300_000, "label": "The soundtrack on vinyl"}])
    fans: dict[str, dict] = {}
    for name, parent, _ in FANS:
        body = {"name": name}
        if parent:
            body["referred_by"] = fans[parent]["code"]
        response = requests.post(f"{relais.api}/v1/campaigns/{campaign_id}/referrers", json=body, timeout=10)
        assert response.status_code == 201, response.text
        fans[name] = response.json()
    with requests.Session() as http:
        for name, channels in SHARES.items():
            for channel in channels:
                response = http.post(f"{relais.api}/v1/shares", json={"code": fans[name]["code"], "channel": channel},
                                     timeout=10)
                assert response.status_code == 202, response.text
        visitor = 0
        for name, _, clicks in FANS:
            for channel, count in clicks.items():
                for _ in range(count):
                    visitor += 1
                    agent = (f"Mozilla/5.0 (Linux; Android 14; Phone {visitor}) AppleWebKit/537.36 "
                             f"(KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36")
                    response = http.get(f"{relais.api}/r/{fans[name]['code']}", params={"c": channel},
                                        headers={"User-Agent": agent}, allow_redirects=False, timeout=10)
                    assert response.status_code == 302, response.text
    today = datetime.now(UTC).date()
    with _stack_secret(relais):
        for days_ago, name, channel, euros in PLEDGES:
            day = today - timedelta(days=days_ago)
            moment = datetime.combine(day, time(12, 0), tzinfo=UTC) if days_ago else datetime.now(UTC)
            ref = make_ref(campaign_id, fans[name]["code"], channel, day) if name else None
            relais.pledge(campaign_id, key, euros * 100, ref, pledge_id=f"showcase-{uuid.uuid4()}",
                          occurred_at=moment.isoformat().replace("+00:00", "Z"))
    return {"id": campaign_id, "key": key, "fans": fans, "from": (today - timedelta(days=13)).isoformat(),
            "to": today.isoformat(), "pledges": len(PLEDGES),
            "raised": sum(euros for _, _, _, euros in PLEDGES) * 100}


def set_up(relais: Relais, seeded: dict) -> dict:
    """The showcase campaign's console settings: on Kickstarter (its fans' tags), with a fan reward."""
    response = requests.patch(
        f"{relais.api}/v1/campaigns/{seeded['id']}", timeout=10, headers={"Authorization": f"Bearer {seeded['key']}"},
        json={"target_url": "https://www.kickstarter.com/projects/noob/the-final-season",
              "platform": {"name": "kickstarter", "tag_per": "fan"},
              "rewards": [{"pledges": 3, "label": "Your name in the credits"},
                          {"pledges": 5, "label": "A signed poster"}]})
    assert response.status_code == 200, response.text
    return response.json()["campaign"]
