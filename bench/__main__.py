"""`make bench`: every benchmark, printed as ratios against baselines measured in this run."""
from __future__ import annotations

import logging
import sys

from bench import (
    bench_aggregator,
    bench_bots,
    bench_imports,
    bench_insights,
    bench_journal,
    bench_pledges,
    bench_public_reads,
    bench_redirect,
    bench_soak,
    bench_stats,
    bench_viral,
    bench_widget,
)
from bench.common import dynamodb_server, report

ON_THEIR_OWN = {"imports": bench_imports.run}
"""Benchmarks that start all they need (their own server): ``python -m bench imports`` runs one alone."""


def main(names: list[str]) -> int:
    logging.disable(logging.WARNING)
    unknown = sorted(set(names) - set(ON_THEIR_OWN))
    if unknown:
        sys.stderr.write(f"no benchmark {unknown[0]!r} runs alone; these do: {', '.join(ON_THEIR_OWN)}\n")
        return 2
    sys.stdout.write("Relais benchmarks (ratios against baselines measured in this run)\n\n")
    if names:
        for name in names:
            ON_THEIR_OWN[name]()
        return 0
    with dynamodb_server() as url:
        report("Local DynamoDB server (moto)", url)
        bench_redirect.run(url)
        bench_aggregator.run()
        bench_pledges.run(url)
        bench_stats.run(url)
        bench_public_reads.run(url)
        bench_insights.run(url)
        bench_viral.run()
    bench_widget.run()
    bench_bots.run()
    bench_soak.run()
    bench_journal.run()
    bench_imports.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
