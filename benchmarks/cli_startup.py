"""Start-up cost of the command line: one checked snippet against the imports it cannot avoid.

    python benchmarks/cli_startup.py [--runs N] [--json FILE]

Times, in fresh interpreters as ``make`` runs them, interleaved and repeated (medians):

    baseline   python -c 'import click, jinja2, numpy'    (what any such CLI pays)
    snippet    python -m texderive derive 'tr(A*X*B)' --wrt X -o FILE     (check on)
    no-check   the same with --no-check
    help       python -m texderive --help

and prints the medians and snippet/baseline (the target is <= 1.3).  Bytecode is cached
in a temporary folder (PYTHONPYCACHEPREFIX) as an installed package has it, after a
warm-up run of each command; PYTHONDONTWRITEBYTECODE is cleared for the children.  Also
reports which heavy modules the snippet loads (sympy must not).
No hyperfine here: subprocess timing with time.perf_counter.
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPR, WRT = "tr(A*X*B)", "X"


def commands(out: str) -> dict:
    py = sys.executable
    return {
        "baseline": [py, "-c", "import click, jinja2, numpy"],
        "snippet": [py, "-m", "texderive", "derive", EXPR, "--wrt", WRT, "-o", out],
        "no-check": [py, "-m", "texderive", "derive", EXPR, "--wrt", WRT, "--no-check", "-o", out],
        "help": [py, "-m", "texderive", "--help"],
    }


def run(cmd, env) -> tuple:
    """(wall seconds, CPU seconds: user + system) of one run of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def loaded_modules(env) -> list:
    code = ("import sys, runpy\nsys.argv = ['texderive', 'derive', %r, '--wrt', %r, '-o', %r]\n"
            "try:\n    runpy.run_module('texderive', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('numpy', 'jinja2', 'click', 'sympy', 'yaml', 'pylatexenc', "
            "'IPython') if m in sys.modules), file=sys.stderr)")
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-c", code % (EXPR, WRT, os.path.join(tmp, "s.tex"))],
                              env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stderr.strip().splitlines()[-1].replace("'", '"'))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=os.path.join(tmp, "pyc"))
        cmds = commands(os.path.join(tmp, "snippet.tex"))
        for cmd in cmds.values():                 # warm-up: bytecode, Jinja's template cache
            run(cmd, env)
        times = {name: [] for name in cmds}
        cpu = {name: [] for name in cmds}
        for _ in range(args.runs):                # interleaved, so load changes hit all alike
            for name, cmd in cmds.items():
                wall, used = run(cmd, env)
                times[name].append(wall)
                cpu[name].append(used)
        modules = loaded_modules(env)
    med = {name: statistics.median(t) for name, t in times.items()}
    med_cpu = {name: statistics.median(t) for name, t in cpu.items()}
    ratio = med["snippet"] / med["baseline"]
    ratio_cpu = med_cpu["snippet"] / med_cpu["baseline"]
    print(f"CLI start-up, median of {args.runs} interleaved runs, seconds "
          f"(load average {os.getloadavg()[0]:.1f}):")
    print(f"  {'':9s} {'wall':>6s} {'(min)':>7s} {'CPU':>6s}")
    for name in cmds:
        print(f"  {name:9s} {med[name]:6.3f} ({min(times[name]):.3f}) {med_cpu[name]:6.3f}")
    print(f"  snippet / baseline = {ratio:.2f} wall, {ratio_cpu:.2f} CPU  (target <= 1.30)")
    print(f"  no-check / baseline = {med['no-check'] / med['baseline']:.2f} wall")
    print(f"  heavy modules the snippet loads: {', '.join(modules)}")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps({
            "runs": args.runs, "median_wall_s": {k: round(v, 4) for k, v in med.items()},
            "min_wall_s": {k: round(min(v), 4) for k, v in times.items()},
            "median_cpu_s": {k: round(v, 4) for k, v in med_cpu.items()},
            "snippet_over_baseline_wall": round(ratio, 3),
            "snippet_over_baseline_cpu": round(ratio_cpu, 3), "modules": modules}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
