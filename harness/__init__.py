"""Support code shared by the tests and the benchmarks.

``tests/`` and ``bench/`` never import each other, and no test module imports another test
module or a ``conftest.py``: what more than one of them needs lives here. A test in
``tests/test_layout.py`` keeps it so.
"""
