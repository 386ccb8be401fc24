#!/usr/bin/env python3
"""texderive's speed benchmark (``make bench``): prints a table and writes a JSON file.

    python benchmarks/run.py [--quick] [--json benchmarks/results.json] [--only NAME,...]
                             [--profile]

Benchmarks (``--only`` takes a comma-separated list of these names):

    latency   in process, per corpus case: texderive.derive + Derivation.to_dict +
              render(doc, "latex"); the median and 95th percentile over the cases of
              each case's median time
    cli       wall time of ``texderive derive 'tr(A*X*B)' --wrt X`` against a bare
              ``python -c 'import click, jinja2, numpy'`` in the same run: the ratio of
              the medians (runs interleaved)
    imports   ``python -X importtime``: top 10 cumulative imports of ``import
              texderive.cli`` and of the ``derive`` command itself
    deck      ``texderive build`` of a 50-derivation deck to .tex, wall time (and in process)
    scaling   four families of size k = 1 ... 64 (benchmarks/families.py), derivation plus
              rendering; least-squares growth exponent of time in k, output size
    sympy     SymPy's MatrixSymbol.diff against texderive.derive (benchmarks/sympy_compare.py)
    profile   cProfile of the corpus and of the k = 64 families: top functions by
              cumulative time, file:line (not part of the default run; or --profile)

Timing uses time.perf_counter, warm-up runs and medians.  No test is timed: speed is
measured here only (STYLE.md sections 6-7).  The machine (CPU, cores, load average,
Python) is recorded with the figures: on a shared machine the load average says how
far to trust them.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import math
import os
import platform
import pstats
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)

from corpus import corpus                     # noqa: E402
from families import FAMILIES, KS, growth_exponent   # noqa: E402

ALL = ("latency", "cli", "imports", "deck", "scaling", "sympy", "profile")
DEFAULT = ("latency", "cli", "imports", "deck", "scaling", "sympy")
CLI_EXPR = ("derive", "tr(A*X*B)", "--wrt", "X")
BASELINE = "import click, jinja2, numpy"
SCALING_TIMEOUT = 10.0

TARGETS = {
    "latency_median_ms": 2.0,        # derive + LaTeX, median over the corpus
    "sympy_ratio": 10.0,             # SymPy diff time / texderive derive time
    "cli_ratio": 1.3,                # texderive derive / bare imports
    "deck_s": 1.0,                   # 50-derivation deck to .tex
    "growth_exponent": 2.0,          # every family, k = 1 ... 64
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# machine

def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {"cpu": cpu or platform.processor(), "nproc": os.cpu_count(),
            "python": platform.python_version(), "implementation": platform.python_implementation(),
            "platform": platform.platform(), "loadavg_start": _loadavg()}
    try:
        info["nproc"] = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout)
    except (OSError, ValueError):
        pass
    from importlib import metadata
    versions = {}
    for dist in ("texderive", "sympy", "numpy", "click", "jinja2", "PyYAML", "pylatexenc"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    info["versions"] = versions
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        info["git"] = head + ("+uncommitted" if dirty else "")
    except OSError:
        pass
    info["bytecode_cache"] = "off (PYTHONDONTWRITEBYTECODE)" if os.environ.get(
        "PYTHONDONTWRITEBYTECODE") else "on"
    return info


def _loadavg():
    try:
        return [float(x) for x in open("/proc/loadavg").read().split()[:3]]
    except OSError:
        return None


def _pct(values, q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    v = sorted(values)
    if not v:
        return float("nan")
    pos = (len(v) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


class _Timeout(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` swallows it."""


@contextlib.contextmanager
def time_limit(seconds: float):
    def on_alarm(signum, frame):
        raise _Timeout()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _renderer():
    """render(doc) -> LaTeX, or None while texderive.render is not importable."""
    try:
        from texderive.render import render
    except ImportError:
        return None
    return lambda doc: render(doc, "latex")


def _one_derivation(case, render):
    """(derive, to_dict, render) seconds and the LaTeX of one case."""
    import texderive
    c0 = time.process_time()
    t0 = time.perf_counter()
    d = texderive.derive(case.expr, case.wrt, case.let, latex=case.latex)
    t1 = time.perf_counter()
    doc = d.to_dict()
    t2 = time.perf_counter()
    out = render(doc) if render else doc["gradient"]["latex"]
    t3 = time.perf_counter()
    return (t1 - t0, t2 - t1, t3 - t2, time.process_time() - c0), out


# ---------------------------------------------------------------------------
# latency: derive + render, in process

def bench_latency(cases, quick: bool) -> dict:
    render = _renderer()
    reps = 3 if quick else 15
    for c in cases[:5]:                          # imports, lazy tables, template compilation
        _one_derivation(c, render)
    rows = []
    for c in cases:
        _one_derivation(c, render)               # warm-up of this case
        runs = [_one_derivation(c, render)[0] for _ in range(reps)]
        tot = [sum(r[:3]) for r in runs]
        rows.append({"name": c.name, "expr": c.expr, "wrt": c.wrt, "source": c.source,
                     "median_ms": 1e3 * statistics.median(tot), "min_ms": 1e3 * min(tot),
                     "cpu_median_ms": 1e3 * statistics.median(r[3] for r in runs),
                     "derive_ms": 1e3 * statistics.median(r[0] for r in runs),
                     "to_dict_ms": 1e3 * statistics.median(r[1] for r in runs),
                     "render_ms": 1e3 * statistics.median(r[2] for r in runs)})
    med = [r["median_ms"] for r in rows]

    def stage(key):
        return statistics.median(r[key] for r in rows)
    out = {"cases": len(rows), "reps": reps, "render": bool(render),
           "median_ms": statistics.median(med), "p95_ms": _pct(med, 95), "max_ms": max(med),
           "median_of_minima_ms": stage("min_ms"), "cpu_median_ms": stage("cpu_median_ms"),
           "cpu_p95_ms": _pct([r["cpu_median_ms"] for r in rows], 95),
           "derive_median_ms": stage("derive_ms"), "to_dict_median_ms": stage("to_dict_ms"),
           "render_median_ms": stage("render_ms"),
           "slowest": sorted(rows, key=lambda r: -r["median_ms"])[:5], "rows": rows}
    if not render:
        out["note"] = "texderive.render is not importable: derive + to_dict only"
    return out


# ---------------------------------------------------------------------------
# command line

def _cli_command() -> list:
    script = os.path.join(os.path.dirname(sys.executable), "texderive")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "texderive.cli"]


def _envs(cache_dir: str) -> dict:
    """Two environments: bytecode cached (a normal install), and this process's own."""
    base = dict(os.environ)
    cached = dict(base)
    cached.pop("PYTHONDONTWRITEBYTECODE", None)
    cached["PYTHONPYCACHEPREFIX"] = cache_dir      # .pyc files outside the source tree
    out = {"bytecode cached": cached}
    if base.get("PYTHONDONTWRITEBYTECODE"):
        out["no bytecode cache (PYTHONDONTWRITEBYTECODE=1)"] = base
    return out


def _wall(cmd, env) -> tuple:
    """(wall seconds, CompletedProcess, CPU seconds: the child's user + system time)."""
    import resource
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    p.cpu_s = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return dt, p


def bench_cli(quick: bool, cache_dir: str) -> dict:
    runs = 4 if quick else 12
    texd = _cli_command()
    cmds = {"baseline": [sys.executable, "-c", BASELINE],
            "derive": texd + list(CLI_EXPR),
            "derive --no-check": texd + list(CLI_EXPR) + ["--no-check"],
            "--help": texd + ["--help"]}
    out = {"command": " ".join(["texderive"] + [f"'{a}'" if "(" in a else a for a in CLI_EXPR]),
           "baseline_command": f"python -c '{BASELINE}'", "runs": runs, "envs": {}}
    for label, env in _envs(cache_dir).items():
        times = {k: [] for k in cmds}
        cpus = {k: [] for k in cmds}
        errors = {}
        for k, cmd in cmds.items():              # warm-up (and the bytecode cache)
            _, p = _wall(cmd, env)
            _, p = _wall(cmd, env)
            if p.returncode != 0:
                errors[k] = f"exit {p.returncode}: {p.stderr.strip()[-300:]}"
        for _ in range(runs):                    # interleaved, so drifts hit all alike
            for k, cmd in cmds.items():
                dt, p = _wall(cmd, env)
                times[k].append(dt)
                cpus[k].append(p.cpu_s)
        med = {k: statistics.median(v) for k, v in times.items()}
        mins = {k: min(v) for k, v in times.items()}
        cpu = {k: statistics.median(v) for k, v in cpus.items()}
        res = {"median_s": med, "min_s": mins, "cpu_median_s": cpu,
               "cpu_ratio": cpu["derive"] / cpu["baseline"],
               "ratio": med["derive"] / med["baseline"],
               "ratio_of_minima": mins["derive"] / mins["baseline"],
               "ratio_no_check": med["derive --no-check"] / med["baseline"]}
        if errors:
            res["errors"] = errors
        out["envs"][label] = res
    first = next(iter(out["envs"].values()))
    out["ratio"], out["ratio_no_check"] = first["ratio"], first["ratio_no_check"]
    return out


# ---------------------------------------------------------------------------
# import times

_IMPORT_RE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)")


def _importtime(args, env) -> list:
    p = subprocess.run([sys.executable, "-X", "importtime"] + args, env=env, cwd=ROOT,
                       capture_output=True, text=True)
    rows = []
    for line in p.stderr.splitlines():
        m = _IMPORT_RE.match(line)
        if m:
            rows.append({"module": m.group(4), "self_ms": int(m.group(1)) / 1e3,
                         "cumulative_ms": int(m.group(2)) / 1e3,
                         "level": (len(m.group(3)) - 1) // 2})
    return rows


def bench_imports(cache_dir: str) -> dict:
    env = _envs(cache_dir)["bytecode cached"]
    out = {}
    for label, args in (("import texderive.cli", ["-c", "import texderive.cli"]),
                        ("texderive derive 'tr(A*X*B)' --wrt X",
                         ["-m", "texderive.cli"] + list(CLI_EXPR))):
        _importtime(args, env)                   # fills the bytecode cache
        rows = _importtime(args, env)
        top = sorted(rows, key=lambda r: -r["cumulative_ms"])[:10]
        total = sum(r["self_ms"] for r in rows)
        heavy = sorted({r["module"].split(".")[0] for r in rows if r["level"] == 0} &
                       {"sympy", "numpy", "jinja2", "yaml", "pylatexenc", "click", "mpmath"})
        out[label] = {"top10": top, "total_ms": total, "modules": len(rows),
                      "heavy_top_level": heavy}
    return out


# ---------------------------------------------------------------------------
# deck build

def make_deck(cases, n: int = 50) -> str:
    import yaml
    entries = []
    for i in range(n):
        c = cases[i % len(cases)]
        e = {"title": f"{i + 1}. {c.name}", "expr": c.expr, "wrt": c.wrt}
        if c.let:
            e["let"] = dict(c.let)
        if c.latex:
            e["latex"] = True
        entries.append(e)
    return yaml.safe_dump({"title": "Benchmark deck", "author": "benchmarks/run.py",
                           "format": "beamer", "style": "chain", "derivations": entries},
                          sort_keys=False, allow_unicode=True)


def bench_deck(cases, quick: bool, cache_dir: str) -> dict:
    runs = 2 if quick else 5
    env = _envs(cache_dir)["bytecode cached"]
    tmp = tempfile.mkdtemp(prefix="texderive-bench-deck-")
    try:
        deck_path = os.path.join(tmp, "deck.yaml")
        with open(deck_path, "w", encoding="utf-8") as f:
            f.write(make_deck(cases))
        out_path = os.path.join(tmp, "deck.tex")
        res = {"derivations": 50, "runs": runs}
        for label, extra in (("build", []), ("build --no-check", ["--no-check"])):
            cmd = _cli_command() + ["build", deck_path, "-o", out_path] + extra
            times, cpus, err = [], [], None
            for i in range(runs + 1):            # the first run warms the bytecode cache
                if os.path.exists(out_path):
                    os.remove(out_path)
                dt, p = _wall(cmd, env)
                if p.returncode != 0:
                    err = f"exit {p.returncode}: {p.stderr.strip()[-400:]}"
                    break
                if i:
                    times.append(dt)
                    cpus.append(p.cpu_s)
            res[label] = ({"median_s": statistics.median(times), "min_s": min(times),
                           "cpu_median_s": statistics.median(cpus),
                           "tex_bytes": os.path.getsize(out_path)} if times else {"error": err})
        # in process: the same deck without the interpreter's start-up
        try:
            from texderive import deck as deckmod
            for label, check in (("in process", None), ("in process, no check", "none")):
                ts = []
                cs = []
                for i in range(runs + 1):
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    deckmod.build(deckmod.load(deck_path), check=check)
                    if i:
                        ts.append(time.perf_counter() - t0)
                        cs.append(time.process_time() - c0)
                res[label] = {"median_s": statistics.median(ts),
                              "cpu_median_s": statistics.median(cs)}
        except Exception as e:                   # noqa: BLE001 - reported in the table
            res["in process"] = {"error": f"{type(e).__name__}: {e}"[:300]}
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# scaling families

def _family_run(make, k, render):
    import texderive
    expr, wrt, let = make(k)
    t0 = time.perf_counter()
    d = texderive.derive(expr, wrt, let)
    doc = d.to_dict()
    tex = render(doc) if render else doc["gradient"]["latex"]
    dt = time.perf_counter() - t0
    return dt, {"latex_chars": len(tex), "gradient_chars": len(doc["gradient"]["text"]),
                "steps": len(doc["steps"]), "input_chars": len(expr)}


def bench_scaling(quick: bool) -> dict:
    render = _renderer()
    ks = [k for k in KS if k <= (16 if quick else 64)]
    out = {"ks": ks, "timeout_s": SCALING_TIMEOUT, "render": bool(render), "families": {}}
    for name, make in FAMILIES.items():
        rows, failure = [], None
        for k in ks:
            try:
                with time_limit(SCALING_TIMEOUT):
                    first, size = _family_run(make, k, render)     # warm-up, and a first time
                    reps = 0 if first > 1.0 else min(7, max(2, int(0.5 / max(first, 1e-4))))
                    ts = [_family_run(make, k, render)[0] for _ in range(reps)] or [first]
            except _Timeout:
                failure = {"k": k, "reason": f"timeout ({SCALING_TIMEOUT:g} s)"}
                break
            except Exception as e:               # noqa: BLE001 - the family fails at this k
                failure = {"k": k, "reason": f"{type(e).__name__}: {e}"[:200]}
                break
            rows.append({"k": k, "time_ms": 1e3 * statistics.median(ts), **size})
            log(f"  scaling {name} k={k}: {rows[-1]['time_ms']:.1f} ms")
        kk = [r["k"] for r in rows]
        tt = [r["time_ms"] for r in rows]
        tail = [(k, t) for k, t in zip(kk, tt) if k >= 16]
        fam = {"rows": rows, "failure": failure,
               "exponent": growth_exponent(kk, tt),
               "exponent_k16_64": growth_exponent(*zip(*tail)) if len(tail) >= 2 else None,
               "output_exponent": growth_exponent(kk, [r["latex_chars"] for r in rows]),
               "example": make(2)[0]}
        out["families"][name] = fam
    return out


# ---------------------------------------------------------------------------
# profile

def _profile_rows(prof, n: int = 20) -> dict:
    st = pstats.Stats(prof)
    rows = []
    for (fn, line, func), (cc, nc, tt, ct, _) in st.stats.items():
        if fn.startswith(HERE) or fn == "<string>":
            continue
        where = os.path.relpath(fn, ROOT) if fn.startswith(ROOT) else fn
        if ".venv/" in where or "site-packages" in where:
            where = where.split("site-packages/")[-1]
        rows.append({"where": f"{where}:{line}", "func": func, "calls": nc,
                     "tottime_s": tt, "cumtime_s": ct})
    total = st.total_tt
    cum = sorted(rows, key=lambda r: -r["cumtime_s"])
    own = [r for r in cum if r["where"].startswith("texderive/")]
    engine = [r for r in own if not r["where"].startswith(("texderive/render.py",
                                                           "texderive/__init__.py",
                                                           "texderive/api.py"))]
    return {"total_s": total,
            "cumulative": cum[:n],
            "cumulative_texderive": own[:n],
            "cumulative_engine": engine[:n],
            "self": sorted(rows, key=lambda r: -r["tottime_s"])[:n]}


def bench_profile(cases, quick: bool) -> dict:
    render = _renderer()
    for c in cases:                               # warm: imports and caches out of the profile
        _one_derivation(c, render)
    out = {}
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(1 if quick else 3):
        for c in cases:
            _one_derivation(c, render)
    prof.disable()
    out["corpus"] = _profile_rows(prof)
    k = 16 if quick else 64
    for name, make in FAMILIES.items():
        prof = cProfile.Profile()
        status = "ok"
        prof.enable()
        try:
            with time_limit(4 * SCALING_TIMEOUT):     # the profiler slows the run down
                _family_run(make, k, render)
        except _Timeout:
            status = f"stopped after {4 * SCALING_TIMEOUT:g} s"
        except Exception as e:                   # noqa: BLE001 - profiled up to the failure
            status = f"{type(e).__name__}: {e}"[:200]
        prof.disable()
        out[f"{name} k={k}"] = {"status": status, **_profile_rows(prof)}
    return out


# ---------------------------------------------------------------------------
# report

def _fmt_ms(x) -> str:
    return "-" if x is None else (f"{x:.2f}" if x < 100 else f"{x:.0f}")


def targets(res: dict) -> list:
    out = []
    lat = res.get("latency")
    if lat:
        ok = lat["median_ms"] <= TARGETS["latency_median_ms"] and lat["render"]
        out.append(("derive + LaTeX median <= 2 ms", ok,
                    f"{lat['median_ms']:.2f} ms (p95 {lat['p95_ms']:.2f} ms)"
                    + ("" if lat["render"] else " [render missing]")))
    sp = res.get("sympy")
    if sp and sp["answered"].get("n"):
        ok = sp["answered"]["median_ratio"] >= TARGETS["sympy_ratio"]
        out.append((">= 10x faster than SymPy diff (median ratio, answered)", ok,
                    f"{sp['answered']['median_ratio']:.1f}x over {sp['answered']['n']} answered; "
                    f"{sp['right'].get('median_ratio', float('nan')):.1f}x over "
                    f"{sp['right'].get('n', 0)} right"))
    cli = res.get("cli")
    if cli:
        first = next(iter(cli["envs"].values()))
        out.append(("texderive derive <= 1.3x bare imports", cli["ratio"] <= TARGETS["cli_ratio"],
                    f"{cli['ratio']:.2f}x (bytecode cached; ratio of minima "
                    f"{first['ratio_of_minima']:.2f}x, of CPU times {first['cpu_ratio']:.2f}x; "
                    f"--no-check {cli['ratio_no_check']:.2f}x)"))
    deck = res.get("deck")
    if deck:
        b = deck.get("build", {})
        ok = "median_s" in b and b["median_s"] < TARGETS["deck_s"]
        nc = deck.get("build --no-check", {})
        out.append(("50-derivation deck builds in < 1 s", ok,
                    (f"{b['median_s']:.2f} s (CPU {b['cpu_median_s']:.2f} s; --no-check "
                     f"{nc.get('median_s', float('nan')):.2f} s, CPU "
                     f"{nc.get('cpu_median_s', float('nan')):.2f} s)")
                    if "median_s" in b else b.get("error", "?")))
    sc = res.get("scaling")
    if sc:
        bad = []
        for name, fam in sc["families"].items():
            e = fam["exponent"]
            if fam["failure"]:
                bad.append(f"{name} (fails at k={fam['failure']['k']})")
            elif e is None or e > TARGETS["growth_exponent"]:
                bad.append(f"{name} (exponent {e:.2f})" if e is not None else name)
        short = sc["ks"][-1] < 64
        detail = ("failing: " + ", ".join(bad)) if bad else "all families within 2.0"
        if short:
            detail += f" [quick run: k <= {sc['ks'][-1]} only, not a verdict]"
        out.append(("growth exponent <= 2.0 on every family, none failing at k <= 64",
                    not bad and not short, detail))
    return out


def print_report(res: dict) -> None:
    p = print
    m = res["machine"]
    p(f"texderive benchmark  ({res['when']}, {'quick' if res['quick'] else 'full'} run)")
    p(f"machine: {m['cpu']}, nproc {m['nproc']}, Python {m['python']} ({m['platform']}); "
      f"load average {m['loadavg_start']} -> {m.get('loadavg_end')}; git {m.get('git', '?')}")
    v = m["versions"]
    p("versions: " + ", ".join(f"{k} {v[k]}" for k in v if v[k]))
    lat = res.get("latency")
    if lat:
        p("\n== in-process latency: derive + to_dict + render(latex), per case median "
          f"of {lat['reps']} runs, {lat['cases']} cases ==")
        p(f"  median {lat['median_ms']:.2f} ms   p95 {lat['p95_ms']:.2f} ms   "
          f"max {lat['max_ms']:.2f} ms")
        p(f"  less load-sensitive: median of per-case minima {lat['median_of_minima_ms']:.2f} ms;"
          f" CPU time (process_time) median {lat['cpu_median_ms']:.2f} ms, p95 "
          f"{lat['cpu_p95_ms']:.2f} ms")
        p(f"  stages (median over cases): derive {lat['derive_median_ms']:.2f} ms, to_dict "
          f"{lat['to_dict_median_ms']:.2f} ms, render {lat['render_median_ms']:.2f} ms")
        if lat.get("note"):
            p("  note: " + lat["note"])
        p("  slowest: " + "; ".join(f"{r['expr']} wrt {r['wrt']} {r['median_ms']:.1f} ms"
                                    for r in lat["slowest"]))
    cli = res.get("cli")
    if cli:
        p(f"\n== command line: {cli['command']} vs {cli['baseline_command']} "
          f"(median of {cli['runs']}) ==")
        p(f"  {'environment':46s} {'baseline':>9s} {'derive':>9s} {'no-check':>9s} "
          f"{'--help':>9s} {'ratio':>6s} {'ratio nc':>8s} {'min ratio':>9s} {'CPU ratio':>9s}")
        for label, r in cli["envs"].items():
            s = r["median_s"]
            p(f"  {label:46s} {s['baseline']*1e3:7.0f}ms {s['derive']*1e3:7.0f}ms "
              f"{s['derive --no-check']*1e3:7.0f}ms {s['--help']*1e3:7.0f}ms "
              f"{r['ratio']:6.2f} {r['ratio_no_check']:8.2f} {r['ratio_of_minima']:9.2f} "
              f"{r['cpu_ratio']:9.2f}")
            for k, e in (r.get("errors") or {}).items():
                p(f"    error in {k}: {e}")
    imp = res.get("imports")
    if imp:
        for label, r in imp.items():
            p(f"\n== python -X importtime: {label} ({r['modules']} modules, "
              f"{r['total_ms']:.0f} ms; heavy: {', '.join(r['heavy_top_level']) or 'none'}) ==")
            for row in r["top10"]:
                p(f"  {row['cumulative_ms']:8.1f} ms cumulative {row['self_ms']:7.1f} ms self  "
                  f"{'  ' * row['level']}{row['module']}")
    deck = res.get("deck")
    if deck:
        p(f"\n== deck: texderive build of a {deck['derivations']}-derivation deck to .tex "
          f"(median of {deck['runs']}) ==")
        for k in ("build", "build --no-check", "in process", "in process, no check"):
            r = deck.get(k)
            if r:
                p(f"  {k:22s} " + (f"{r['median_s']:.3f} s" if "median_s" in r else r["error"])
                  + (f"  (min {r['min_s']:.3f} s, CPU {r['cpu_median_s']:.3f} s, "
                     f"{r['tex_bytes']} bytes)" if "tex_bytes" in r else
                     f"  (CPU {r['cpu_median_s']:.3f} s)" if "cpu_median_s" in r else ""))
    sc = res.get("scaling")
    if sc:
        p(f"\n== scaling: derive + to_dict + render, ms (timeout {sc['timeout_s']:g} s per k) ==")
        p(f"  {'family':16s}" + "".join(f"{'k=' + str(k):>9s}" for k in sc["ks"])
          + f"{'exp':>7s}{'exp16+':>8s}  output chars at largest k (exp)")
        for name, fam in sc["families"].items():
            by_k = {r["k"]: r for r in fam["rows"]}
            cells = []
            for k in sc["ks"]:
                if k in by_k:
                    cells.append(f"{_fmt_ms(by_k[k]['time_ms']):>9s}")
                elif fam["failure"] and fam["failure"]["k"] == k:
                    cells.append(f"{'FAIL':>9s}")
                else:
                    cells.append(f"{'-':>9s}")
            e, e2 = fam["exponent"], fam["exponent_k16_64"]
            last = fam["rows"][-1] if fam["rows"] else {}
            oe = fam["output_exponent"]
            p(f"  {name:16s}" + "".join(cells)
              + f"{(f'{e:.2f}' if e is not None else '-'):>7s}"
              + f"{(f'{e2:.2f}' if e2 is not None else '-'):>8s}"
              + f"  {last.get('latex_chars', '-')} at k={last.get('k', '-')}"
              + (f" ({oe:.2f})" if oe is not None else ""))
            if fam["failure"]:
                p(f"    fails at k={fam['failure']['k']}: {fam['failure']['reason']}")
    sp = res.get("sympy")
    if sp:
        p(f"\n== SymPy MatrixSymbol.diff (cache cleared, median of up to {sp['reps']}) vs "
          "texderive.derive ==")
        p("  outcomes: " + ", ".join(f"{k} {v}" for k, v in sp["counts"].items()))
        for label in ("answered", "right"):
            s = sp[label]
            if s.get("n"):
                p(f"  over {label:8s} ({s['n']:2d}): ratio median {s['median_ratio']:.1f}x, "
                  f"geomean {s['geomean_ratio']:.1f}x, min {s['min_ratio']:.2f}x, "
                  f"max {s['max_ratio']:.0f}x, >= 10x in {s['at_least_10x']}/{s['n']}; SymPy "
                  f"median {s['sympy_median_ms']:.2f} ms, texderive {s['texderive_median_ms']:.2f} ms;"
                  f" ratio to derive + LaTeX rendering {s['median_ratio_with_render']:.1f}x")
        if sp["wrong"]:
            p("  SymPy answered wrongly: " + "; ".join(sp["wrong"]))
        other = [f"{r['expr']} wrt {r['wrt']} ({r['status']}: {r.get('detail', '')})"
                 for r in sp["cases"] if r["status"] != "answer"]
        if other:
            p("  no answer: " + "; ".join(other))
        if sp["texderive_wrong"]:
            p("  texderive's gradient failed the numeric check on: " + "; ".join(sp["texderive_wrong"]))
    prof = res.get("profile")
    if prof:
        for label, r in prof.items():
            p(f"\n== profile: {label} ({r['total_s']:.2f} s under cProfile"
              + (f"; {r['status']}" if r.get("status") and r["status"] != "ok" else "") + ") ==")
            p("  by cumulative time (texderive's functions):")
            for row in r["cumulative_texderive"][:12]:
                p(f"    {row['cumtime_s']:8.3f} s cum {row['tottime_s']:7.3f} s self "
                  f"{row['calls']:>8d}x  {row['where']} {row['func']}")
            p("  by cumulative time (the engine, printers and steps: texderive/ without render.py):")
            for row in r["cumulative_engine"][:10]:
                p(f"    {row['cumtime_s']:8.3f} s cum {row['tottime_s']:7.3f} s self "
                  f"{row['calls']:>8d}x  {row['where']} {row['func']}")
            p("  by self time (all):")
            for row in r["self"][:8]:
                p(f"    {row['tottime_s']:8.3f} s self {row['cumtime_s']:7.3f} s cum "
                  f"{row['calls']:>8d}x  {row['where']} {row['func']}")
    p("\n== targets ==")
    for name, ok, detail in res["targets"]:
        p(f"  [{'met' if ok else 'MISSED':6s}] {name}: {detail}")


# ---------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, k <= 16")
    ap.add_argument("--json", default=os.path.join(HERE, "results.json"),
                    help="where to write the results (default benchmarks/results.json)")
    ap.add_argument("--only", default="", help="comma-separated: " + ",".join(ALL))
    ap.add_argument("--profile", action="store_true", help="also run the profile")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(DEFAULT)
    if args.profile and "profile" not in names:
        names.append("profile")
    unknown = [n for n in names if n not in ALL]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(ALL)}")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    cases = corpus(ROOT)
    res = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": args.quick,
           "machine": machine(), "targets_defined": TARGETS}
    cache_dir = tempfile.mkdtemp(prefix="texderive-bench-pyc-")
    try:
        for name in names:
            log(f"running {name} ...")
            t0 = time.perf_counter()
            if name == "latency":
                res[name] = bench_latency(cases, args.quick)
            elif name == "cli":
                res[name] = bench_cli(args.quick, cache_dir)
            elif name == "imports":
                res[name] = bench_imports(cache_dir)
            elif name == "deck":
                res[name] = bench_deck(cases, args.quick, cache_dir)
            elif name == "scaling":
                res[name] = bench_scaling(args.quick)
            elif name == "sympy":
                from sympy_compare import run as sympy_run
                res[name] = sympy_run(cases, reps=3 if args.quick else 5,
                                      texderive_reps=5 if args.quick else 20, log=log)
            elif name == "profile":
                res[name] = bench_profile(cases, args.quick)
            log(f"  {name}: {time.perf_counter() - t0:.1f} s")
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    res["machine"]["loadavg_end"] = _loadavg()
    res["targets"] = targets(res)
    print_report(res)
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        tmp = args.json + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1, default=str)
            f.write("\n")
        os.replace(tmp, args.json)
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
