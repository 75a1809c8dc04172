"""The demo campaign that ``make dev`` seeds, pointing at the local demo crowdfunding page.

The API refuses non-https targets (no open redirects); the seed is trusted local code
and writes the campaign directly so that short links can land on ``http://127.0.0.1``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from chalicelib.domain import campaigns
from chalicelib.store import campaigns_table
from chalicelib.store.records import Campaign


def _point_at(campaign: Campaign, demo_url: str, demo_origins: list[str]) -> None:
    """Point the campaign at this run's demo page (its port may change between runs)."""
    if (campaign.target_url, campaign.allowed_origins) == (demo_url, demo_origins):
        return
    if not campaigns_table.change(campaign, {"target_url": demo_url, "allowed_origins": demo_origins}):
        raise RuntimeError("the demo campaign changed while make dev was pointing it at the demo page")


def demo_campaign(data_dir: Path, demo_url: str, demo_origins: list[str]) -> tuple[str, str]:
    """``(campaign id, api key)`` of the demo campaign, created once and kept in the data dir."""
    record = data_dir / "demo-campaign.json"
    if record.exists():
        saved = json.loads(record.read_text())
        existing = campaigns.find(saved["id"])
        if existing is not None:
            _point_at(existing, demo_url, demo_origins)
            return saved["id"], saved["api_key"]
    campaign, key = campaigns.create({
        "name": "Noob — la saison finale",
        "target_url": "https://example.org/noob",
        "goal": {"amount": 6_000_000, "currency": "EUR"},
        "locale": "fr",
        "share_text": "Aidez Noob à financer sa saison finale !",
        "leaderboard": "public",
        "milestones": [
            {"amount": 50_000, "label": "Un épisode bonus"},
            {"amount": 200_000, "label": "Le making-of"},
            {"amount": 1_000_000, "label": "La bande originale en vinyle"},
        ],
    })
    _point_at(campaign, demo_url, demo_origins)
    with open(os.open(record, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:  # it holds the key
        out.write(json.dumps({"id": campaign.id, "api_key": key}))
    return campaign.id, key
