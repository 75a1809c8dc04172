"""moto's server as the local stack runs it: ``python -m dev.moto_server -p PORT``.

The same application as ``python -m moto.server``, on 127.0.0.1 only, with moto's global CORS
turned off (``MOTO_DISABLE_GLOBAL_CORS``), every request a web page could send refused
(:mod:`dev.browser_guard`), and DynamoDB requests run one at a time, atomic as DynamoDB's
(:mod:`dev.moto_atomic`).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys

os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"  # read when moto.settings is first imported, below

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

from dev import moto_atomic
from dev.browser_guard import RefuseBrowsers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    moto_atomic.install()
    run_simple("127.0.0.1", args.port, RefuseBrowsers(DomainDispatcherApplication(create_backend_app)),
               threaded=True)


if __name__ == "__main__":
    main()
