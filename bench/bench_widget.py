"""What the widget costs a creator's page: the bytes of widget/widget.js on the wire (gzip, level 9)."""
from __future__ import annotations

from bench.common import report
from dev.processes import ROOT
from harness.widget import BUDGET, WIDGET, gzipped_size


def run() -> None:
    n = gzipped_size()
    report("widget.js gzipped", f"{n} bytes", f"target: <= {BUDGET} bytes")
    report("widget.js as served (minified, uncompressed)", f"{WIDGET.stat().st_size} bytes")
    dashboard = ROOT / "widget" / "dashboard.html"
    report("dashboard.html gzipped (whole page, no other request)", f"{gzipped_size(dashboard)} bytes")


if __name__ == "__main__":
    run()
