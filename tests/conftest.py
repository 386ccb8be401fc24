"""Shared pytest options and the Hypothesis profiles.

``--update-golden`` rewrites tests/golden/ from the real CLI.

Hypothesis runs under one of two profiles, chosen by the environment variable
``TEXDERIVE_HYPOTHESIS`` (issue 12 item 8):

- ``ci`` (the default: ``make test``, CI, a bare ``pytest``): derandomized (the
  examples are a fixed function of the test), no deadline, no example database,
  so every run of the same commit draws the same examples and gives the same
  result on every machine;
- ``fuzz`` (``make fuzz``): fresh random seeds on every run and more examples,
  still without a deadline or a database.  A failure it finds prints its
  reproduction blob; turn it into a named regression test (``test_issue_N_...``).
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("TEXDERIVE_HYPOTHESIS", "ci")
_QUIET = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]
settings.register_profile("ci", derandomize=True, deadline=None, database=None,
                          print_blob=True, suppress_health_check=_QUIET)
settings.register_profile("fuzz", derandomize=False, deadline=None, database=None,
                          print_blob=True, max_examples=int(os.environ.get(
                              "TEXDERIVE_FUZZ_EXAMPLES", "1000")),
                          suppress_health_check=_QUIET)
if PROFILE not in ("ci", "fuzz"):
    raise SystemExit(f"TEXDERIVE_HYPOTHESIS={PROFILE!r}: use 'ci' or 'fuzz'")
settings.load_profile(PROFILE)


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.tex from the current output (review them!)")


def pytest_report_header(config):
    return f"hypothesis profile: {PROFILE} (TEXDERIVE_HYPOTHESIS)"
