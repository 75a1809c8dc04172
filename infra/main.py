"""CDK entry point (``cdk.json`` runs ``python3 main.py`` from ``infra/``).

Synthesizes one stage, chosen with ``-c stage=<name>`` (default ``prod``); see
``docs/deploy.md`` for every context key.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The stack imports chalicelib.store.schema and the ``infra`` package by their repository paths;
# run as a script from infra/, only infra/ itself would be importable.
sys.path.insert(0, str(REPO_ROOT))

import aws_cdk as cdk  # noqa: E402

from infra.settings import StageSettings  # noqa: E402
from infra.stack import create_stack  # noqa: E402

CHALICE_OUT = Path.cwd() / "chalice.out"


def main() -> None:
    # chalice.cdk writes a fresh ~30 MB package here on every synth and never cleans up;
    # the assets it needs are copied into cdk.out during synthesis.
    shutil.rmtree(CHALICE_OUT, ignore_errors=True)
    app = cdk.App()
    create_stack(app, StageSettings.from_context(app.node), source_dir=str(REPO_ROOT))
    app.synth()


if __name__ == "__main__":
    main()
