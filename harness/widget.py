"""What the widget costs a creator's page: the bytes of widget/widget.js on the wire (gzip, level 9)."""
from __future__ import annotations

import gzip
from pathlib import Path

from dev.processes import ROOT

WIDGET = ROOT / "widget" / "widget.js"
BUDGET = 8192  # bytes, gzipped


def gzipped_size(path: Path = WIDGET) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))
