"""Golden files: the three worked examples of the lecture deck, as the real command line
writes them (align* in both styles, and Beamer frames), compared byte for byte.

Regenerate with ``pytest tests/test_golden.py --update-golden`` only after compiling the
new files and looking at them (pdftoppm -png -r 80); the diff is the review.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = {
    "least-squares": ("norm(A*x - b)^2", "x"),
    "trace": ("tr(A*X*B)", "X"),
    "logdet": ("log(det(X'*X))", "X"),
}
FORMATS = {"chain": ["--format", "latex", "--style", "chain"],
           "steps": ["--format", "latex", "--style", "steps"],
           "beamer": ["--format", "beamer"]}
CASES = [(name, fmt) for name in EXAMPLES for fmt in FORMATS]


def cli_output(name: str, fmt: str) -> bytes:
    expr, wrt = EXAMPLES[name]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "PYTHONHASHSEED": "0"}
    # --no-check: the check's error digits depend on the machine's floating point
    proc = subprocess.run([sys.executable, "-m", "texderive.cli", "derive", expr, "--wrt", wrt,
                           "--no-check", *FORMATS[fmt]], capture_output=True, env=env, cwd=ROOT,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


@pytest.mark.parametrize("name, fmt", CASES, ids=[f"{n}-{f}" for n, f in CASES])
def test_golden(name, fmt, request):
    path = GOLDEN / f"{name}-{fmt}.tex"
    out = cli_output(name, fmt)
    if request.config.getoption("--update-golden"):
        path.write_bytes(out)
        pytest.skip(f"rewrote {path.name}")
    assert path.exists(), f"{path} is missing: run pytest --update-golden and review it"
    assert out == path.read_bytes(), f"{path.name} differs from the CLI's output"
