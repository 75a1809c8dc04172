"""People, not bots: the corpus figures, and what one record costs the aggregator's detector.

Time per record is CPU time of ``bots.classify`` (``is_bot`` without its cache), best of
several interleaved rounds so that other processes on the machine count little.
*Ordinary* is the corpus's people: the records that go through every step (a user agent
that leaves the client's form is settled by a few string tests, in ~2 µs). *Hostile* are
crafted user agents (``harness.bot_corpus.HOSTILE_AGENTS``); the target bounds the worst.
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from bench.common import report
from harness import bot_corpus
from harness.bot_corpus import HOSTILE_AGENTS

ROUNDS = 7
EVEN_DRAW = 24  # people drawn from each browser family (bot_corpus.drawn_evenly), as tests/unit/test_bots.py does


def _cpu_per_call(classify: Callable[[str], bool], agents: list[str], repeat: int = 1) -> float:
    """Microseconds of CPU per call over ``agents`` (each ``repeat`` times)."""
    started = time.process_time()
    for agent in agents:
        for _ in range(repeat):
            classify(agent)
    return (time.process_time() - started) / (len(agents) * repeat) * 1e6


def _best(classify: Callable[[str], bool], groups: dict[str, list[str]], repeat: dict[str, int]) -> dict[str, float]:
    best = dict.fromkeys(groups, float("inf"))
    for _ in range(ROUNDS):
        for name, agents in groups.items():
            best[name] = min(best[name], _cpu_per_call(classify, agents, repeat.get(name, 1)))
    return best


def _installed_size(distribution: str) -> int:
    located = (Path(file.locate()) for file in metadata.files(distribution) or [])
    return sum(path.stat().st_size for path in located if path.exists())


def run() -> None:
    from chalicelib.aggregate import bots

    entries = bot_corpus.entries()
    held_out = [entry for entry in entries if bot_corpus.held_out(entry)]
    previews = sum(1 for entry in entries if entry.kind == "preview")
    fetchers = len({entry.name for entry in entries if entry.kind == "preview"})
    people = [entry.user_agent for entry in entries if not entry.is_bot]
    report("Bot corpus (tests/corpus/)",
           f"{len(entries) - len(people)} bots, {len(people)} people",
           f"{previews} link-preview fetches by {fetchers} fetchers")

    started = time.process_time()
    bots._index.cache_clear()
    bots._index()
    report("Bot detector: building the pattern index (once per container)",
           f"{(time.process_time() - started) * 1000:.0f} ms CPU")

    report("Bots counted as people (whole corpus)", str(bot_corpus.bots_counted_as_people(bots.classify)),
           "target: <= 2 %")
    report("Bots counted as people (held-out sources)",
           str(bot_corpus.bots_counted_as_people(bots.classify, held_out)))
    report("People counted as bots (whole corpus)", str(bot_corpus.people_counted_as_bots(bots.classify)),
           "target: <= 0.5 %")
    report("People counted as bots (held-out sources)",
           str(bot_corpus.people_counted_as_bots(bots.classify, held_out)))
    every_fixture = [entry for entry in entries if entry.source == "matomo-browsers"]
    report("People counted as bots (every browser fixture of device-detector)",
           str(bot_corpus.people_counted_as_bots(bots.classify, every_fixture)))
    for source, held in (("matomo-browsers", ""), ("ua-parser-js", ", held out"), ("uap-core-browsers", ", held out")):
        report(f"People counted as bots, each family weighing the same ({source}{held})",
               str(bot_corpus.per_family(bots.classify, source)), "target: <= 0.5 %")
        report(f"People counted as bots, up to {EVEN_DRAW} drawn from each family ({source})",
               str(bot_corpus.people_counted_as_bots(bots.classify, bot_corpus.drawn_evenly(source, EVEN_DRAW))))

    bot_agents = [entry.user_agent for entry in entries if entry.is_bot]
    groups = {"people": people, "bots": bot_agents, **{f"hostile {i}": [a] for i, a in enumerate(HOSTILE_AGENTS)}}
    times = _best(bots.classify, groups, {name: 200 for name in groups if name.startswith("hostile")})
    ordinary = times["people"]
    hostile = [times[f"hostile {i}"] for i in range(len(HOSTILE_AGENTS))]
    report("Detector, per record: ordinary (the corpus's people)", f"{ordinary:.1f} µs CPU")
    report("Detector, per record: the corpus's bots", f"{times['bots']:.1f} µs CPU")
    report("Detector, per record: hostile (mean / worst of "
           f"{len(HOSTILE_AGENTS)})", f"{statistics.mean(hostile):.1f} / {max(hostile):.1f} µs CPU")
    report("Detector: worst hostile ÷ ordinary", f"{max(hostile) / ordinary:.2f}", "target: <= 2")

    from crawlerdetect import CrawlerDetect

    detector = CrawlerDetect()
    crafted = HOSTILE_AGENTS[0]
    before = min(_cpu_per_call(detector._check_crawler, [crafted]) for _ in range(3))
    report(f"Before: crawlerdetect alone, a crafted {len(crafted)}-character agent",
           f"{before / 1000:.1f} ms CPU", f"now {times['hostile 0']:.1f} µs")
    report("Lambda package: crawler-user-agents (added)",
           f"{_installed_size('crawler-user-agents') / 1000:.0f} kB installed")


if __name__ == "__main__":
    run()
