"""Shared pytest options: ``--update-golden`` rewrites tests/golden/ from the real CLI."""


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.tex from the current output (review them!)")
