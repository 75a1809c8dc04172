"""`make bench`: every benchmark, printed as ratios against baselines measured in this run."""
from __future__ import annotations

import logging
import sys

from bench import (
    bench_aggregator,
    bench_bots,
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


def main() -> int:
    logging.disable(logging.WARNING)
    sys.stdout.write("Relais benchmarks (ratios against baselines measured in this run)\n\n")
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
