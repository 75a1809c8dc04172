"""The one place where tests patch moto's internals (``tests/test_layout.py`` fails on a
module elsewhere in ``tests/`` or ``harness/`` that imports from inside moto).

What is patched: ``moto.core.models.botocore_stubber.process_request``, the function moto's
``mock_aws`` answers each botocore request with (the stubber's ``__call__``, registered as
botocore's ``before-send`` handler, calls it). :func:`one_request_at_a_time` wraps it in a
lock for as long as its ``with`` block lasts, then removes the wrapper.

Why: DynamoDB applies each request atomically; moto's in-memory backend does not. Two
threads can deep-copy and mutate one item at once ("dictionary changed size during
iteration"), or interleave the read and the write of one ``UpdateItem``. The app tier runs
traffic, the stream consumer and a recount in threads (``tests/app/test_recount.py``) and
needs DynamoDB's guarantee, so each request is served whole before the next. Requests are
served in this process in microseconds, so the lock costs the tier nothing measurable. The
local stack's moto server gets the same guarantee, and transactions that roll back item by item
rather than by copying whole tables, from :mod:`dev.moto_atomic`; so does this tier.

Checked against moto 5.1.22 (:data:`CHECKED_AGAINST`, the version ``requirements-dev.txt``
pins; ``tests/test_layout.py`` holds the two equal): on another version, read
``moto/core/botocore_stubber.py`` and ``moto/core/models.py`` again before changing the pin.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

CHECKED_AGAINST = "5.1.22"


@contextlib.contextmanager
def one_request_at_a_time() -> Iterator[None]:
    """Inside the block, moto's in-memory AWS serves one request at a time, whatever the threads."""
    from moto.core import models

    from dev import moto_atomic

    moto_atomic.install()  # a refused transaction puts back its own items, not copies of whole tables
    stubber = models.botocore_stubber
    serve, lock = stubber.process_request, threading.Lock()

    def serialised(request):
        with lock:
            return serve(request)

    stubber.process_request = serialised  # type: ignore[method-assign]
    try:
        yield
    finally:
        del stubber.process_request
