"""A paper's snippets in one process: ``texderive build paper.yaml`` of a ten-derivation
``format: snippets`` deck against one ``texderive derive`` (target: ratio <= 2).

    python benchmarks/snippets.py [--runs N] [--json out.json]

Both are real processes (``python -m texderive.cli``, with this checkout first on
``PYTHONPATH``), with the numeric check on, as ``make`` runs them; each figure is the
median of N runs (default 9) after a warm-up.  The snippets go to a fresh temporary
folder each time, so every run writes all ten.  Also reported: ten separate ``derive``
processes, the way a Makefile without snippets decks makes them.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DERIVATIONS = [
    ("least-squares", "norm(A*x - b)^2", "x", {}),
    ("trace", "tr(A*X*B)", "X", {}),
    ("logdet", "log(det(X'*X))", "X", {}),
    ("gaussian", "-logdet(Sigma) - tr(inv(Sigma)*S)", "Sigma",
     {"Sigma": "symmetric n", "S": "symmetric n"}),
    ("ridge", "norm(A*x - b)^2 + lambda*norm(x)^2", "x", {}),
    ("quadratic", "x'*A*x", "x", {}),
    ("frobenius", "norm(X - Y)^2", "X", {}),
    ("inverse-trace", "tr(inv(X)*A)", "X", {}),
    ("det", "det(A*X*B)", "X", {}),
    ("logistic", "sum(log(1 + exp(-y .* (X*w))))", "w", {}),
]


def deck_text() -> str:
    lines = ["format: snippets", "derivations:"]
    for name, expr, wrt, let in DERIVATIONS:
        lines += [f"  - name: {name}", f"    expr: {json.dumps(expr)}", f"    wrt: {wrt}"]
        if let:
            lines.append("    let: " + json.dumps(let))
    return "\n".join(lines) + "\n"


def timed(args, env) -> float:
    t = time.perf_counter()
    subprocess.run(args, check=True, env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - t


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--json", help="also write the figures to this file")
    opts = ap.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cli = [sys.executable, "-m", "texderive.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        deck = os.path.join(tmp, "paper.yaml")
        with open(deck, "w", encoding="utf-8") as f:
            f.write(deck_text())

        def build():
            out = tempfile.mkdtemp(dir=tmp)
            return timed(cli + ["build", deck, "-o", out], env)

        def one():
            return timed(cli + ["derive", "tr(A*X*B)", "--wrt", "X", "-o",
                                os.path.join(tempfile.mkdtemp(dir=tmp), "t.tex")], env)

        def separate():
            out = tempfile.mkdtemp(dir=tmp)
            total = 0.0
            for name, expr, wrt, let in DERIVATIONS:
                lets = [a for k, v in let.items() for a in ("--let", f"{k}: {v}")]
                total += timed(cli + ["derive", "--wrt", wrt, *lets, "-o",
                                      os.path.join(out, name + ".tex"), "--", expr], env)
            return total

        build(), one()                              # warm-up (page cache, .pyc files)
        b = statistics.median(build() for _ in range(opts.runs))
        o = statistics.median(one() for _ in range(opts.runs))
        s = statistics.median(separate() for _ in range(max(1, opts.runs // 3)))
    result = {"snippets": len(DERIVATIONS), "build_s": round(b, 4), "one_derive_s": round(o, 4),
              "ratio": round(b / o, 3), "target_ratio": 2.0, "ten_derive_processes_s": round(s, 4),
              "load_average": [round(x, 2) for x in os.getloadavg()], "runs": opts.runs}
    print(f"ten snippets, one 'texderive build':  {b * 1000:7.0f} ms (median of {opts.runs})")
    print(f"one 'texderive derive':               {o * 1000:7.0f} ms")
    print(f"ratio:                                {b / o:7.2f}  (target <= 2)")
    print(f"ten 'texderive derive' processes:     {s * 1000:7.0f} ms")
    print(f"load average: {result['load_average']}")
    if opts.json:
        with open(opts.json, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
            f.write("\n")
    return result


if __name__ == "__main__":
    main()
