"""Side by side with SymPy: ``MatrixSymbol``-level differentiation against ``texderive.derive``.

For each case of the corpus the expression is parsed and elaborated by texderive
(untimed) and translated from texderive's IR to SymPy matrix expressions
(:func:`to_sympy`: ``MatrixSymbol``, ``Trace``, ``Inverse``, ``Determinant``,
``HadamardProduct``, ...; as one would write it by hand: ``x'*A*x`` stays the 1x1
matrix ``x.T*A*x``, ``norm(v)^2`` is ``v.T*v``, and a 1x1 matrix becomes its
``Trace`` only where SymPy needs a scalar (an argument of ``log``, a power, a
sum with a scalar); symbolic dimensions become integer SymPy symbols).  A worker
process then times ``f.diff(W)`` alone: ``sympy.core.cache.clear_cache()`` before
each timed call, one untimed warm-up differentiation when the worker starts (SymPy
imports much of itself lazily on its first ``diff``), the median of several calls,
and a per-expression limit (``signal.setitimer``, 10 s by default).  SymPy may
raise, run out of time, or return an unevaluated ``Derivative``: each is recorded
as such, and only a returned expression free of unevaluated derivatives counts as
an answer.

Every answer is checked numerically (SPEC section 5: SymPy returns 0 for
``log(det(X'*X))``): at seeded points where f is defined, the directional
derivative of f along random directions V (a 5-point central stencil on
texderive's NumPy evaluator of f, not on its derivation) is compared with
``sum(G .* V)`` where G is SymPy's answer made concrete (dimensions given small
sizes, symbols replaced by the point's arrays, ``doit()``).  For a variable
declared symmetric (SymPy has no symmetric MatrixSymbol) the directions are
symmetric, so both the general gradient H and texderive's (H + H')/2 pass.  The
translated f is evaluated at the same point and compared with texderive's value,
so a slip of the translator shows up as "translation mismatch" instead of a
wrong verdict on SymPy.

Comparisons are reported over the cases where SymPy returns an answer and,
separately, over those where its answer is right.  The ratio is SymPy's time
(differentiation only) over texderive's (``texderive.derive``: parsing, shapes,
derivation with steps; no rendering, no check).

Run alone: ``python benchmarks/sympy_compare.py [--quick]``; ``benchmarks/run.py``
calls :func:`run`.
"""
from __future__ import annotations

import json
import math
import os
import select
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TIMEOUT = 10.0           # seconds per SymPy differentiation
CHECK_TIMEOUT = 10.0     # seconds for the numeric check of one SymPy answer
TOLERANCE = 1e-4         # relative error of a directional derivative


# ---------------------------------------------------------------------------
# IR -> SymPy

class Untranslatable(Exception):
    pass


class Translator:
    """texderive IR to SymPy: matrices are MatrixSymbols, 1x1 nodes are SymPy scalars."""

    def __init__(self):
        import sympy as sp
        self.sp = sp
        self.dims = {}
        self.syms = {}

    def dim(self, d):
        if isinstance(d, int):
            return d
        if d not in self.dims:
            self.dims[d] = self.sp.Symbol(f"{d}", integer=True, positive=True)
        return self.dims[d]

    def sym(self, node):
        sp = self.sp
        name, kind = node.name, node.kind
        if name not in self.syms:
            if node.shape == (1, 1) and kind == "scalar":
                self.syms[name] = sp.Symbol(name, real=True)
            else:
                self.syms[name] = sp.MatrixSymbol(name, self.dim(node.shape[0]),
                                                  self.dim(node.shape[1]))
        return self.syms[name]

    def scalar(self, node):
        """A 1x1 node as a SymPy scalar (a 1x1 matrix expression becomes its trace)."""
        return self._as_scalar(self(node))

    def _as_scalar(self, e):
        return self.sp.Trace(e) if isinstance(e, self.sp.MatrixExpr) else e

    def matrix(self, node):
        e = self(node)
        if not isinstance(e, self.sp.MatrixExpr):
            raise Untranslatable(f"{type(node).__name__} used as a matrix")
        return e

    def __call__(self, node):
        """SymPy form of node: a MatrixExpr (1x1 allowed, as ``x.T*A*x``) or a scalar."""
        from texderive import ir
        sp = self.sp
        t = type(node)
        a = node.args
        scalar = node.shape == (1, 1)
        if t is ir.Sym:
            return self.sym(node)
        if t is ir.Num:
            return sp.Rational(a[0].numerator, a[0].denominator)
        if t is ir.Ident:
            return sp.Identity(self.dim(a[0]))
        if t is ir.Ones:
            return sp.OneMatrix(self.dim(a[0]), self.dim(a[1]))
        if t is ir.Zeros:
            return sp.ZeroMatrix(self.dim(a[0]), self.dim(a[1]))
        if t is ir.Add:
            terms = [self(x) for x in a]
            mats = [isinstance(x, sp.MatrixExpr) for x in terms]
            if all(mats):
                return sp.MatAdd(*terms)
            return sp.Add(*[self._as_scalar(x) for x in terms])
        if t is ir.MatMul:
            if all(x.shape == (1, 1) for x in a):          # a product of scalars
                parts = [self(x) for x in a]
                c = sp.Mul(*[x for x in parts if not isinstance(x, sp.MatrixExpr)])
                ms = [x for x in parts if isinstance(x, sp.MatrixExpr)]
                if not ms:
                    return c
                return c * (sp.MatMul(*ms) if len(ms) > 1 else ms[0])
            c = sp.Mul(*[self.scalar(x) for x in a if x.shape == (1, 1)])
            ms = [self.matrix(x) for x in a if x.shape != (1, 1)]
            return c * (sp.MatMul(*ms) if len(ms) > 1 else ms[0])
        if t is ir.Transpose:
            e = self(a[0])
            return sp.Transpose(e) if isinstance(e, sp.MatrixExpr) else e
        if t is ir.Inverse:
            return 1 / self.scalar(a[0]) if scalar else sp.Inverse(self.matrix(a[0]))
        if t is ir.MatPow:
            return self.scalar(a[0]) ** a[1] if scalar else sp.MatPow(self.matrix(a[0]), a[1])
        if t is ir.Trace:
            e = self(a[0])
            return sp.Trace(e) if isinstance(e, sp.MatrixExpr) else e
        if t is ir.Det:
            e = self(a[0])
            return sp.Determinant(e) if isinstance(e, sp.MatrixExpr) else e
        if t is ir.LogDet:
            e = self(a[0])
            return sp.log(sp.Determinant(e) if isinstance(e, sp.MatrixExpr) else e)
        if t is ir.Norm:
            if a[0].shape == (1, 1):
                return sp.Abs(self.scalar(a[0]))
            return sp.sqrt(self._as_scalar(self._square(a[0])))
        if t is ir.Sum:
            if a[0].shape == (1, 1):
                return self(a[0])
            m = self.matrix(a[0])
            r, c = m.shape
            return sp.OneMatrix(1, r) * m * sp.OneMatrix(c, 1)
        if t is ir.DiagMat:
            from sympy.matrices.expressions.diagonal import DiagMatrix
            return DiagMatrix(self.matrix(a[0]))
        if t is ir.DiagVec:
            from sympy.matrices.expressions.diagonal import DiagonalOf
            return DiagonalOf(self.matrix(a[0]))
        if t is ir.Pow:
            if isinstance(a[0], ir.Norm) and a[1] == ir.Num(2) and a[0].args[0].shape != (1, 1):
                return self._square(a[0].args[0])          # ||v||^2 as v'v, as one writes it
            return self.scalar(a[0]) ** self.scalar(a[1])
        if t is ir.Func:
            fn = _scalar_func(sp, a[0])
            if a[1].shape == (1, 1):
                return fn(self.scalar(a[1]))
            d = sp.Dummy("d")
            return self.matrix(a[1]).applyfunc(sp.Lambda(d, fn(d)))
        if t is ir.Hadamard:
            if scalar:
                return sp.Mul(*[self.scalar(x) for x in a])
            return sp.HadamardProduct(*[self.matrix(x) for x in a])
        if t is ir.HadPow:
            if scalar:
                return self.scalar(a[0]) ** self.scalar(a[1])
            if a[1].shape != (1, 1) or a[0].shape == (1, 1):
                raise Untranslatable("an elementwise power with an array exponent or base")
            return sp.HadamardPower(self.matrix(a[0]), self.scalar(a[1]))
        raise Untranslatable(f"no SymPy form for {t.__name__}")

    def _square(self, node):
        """||v||^2: v'v for a vector (1x1), tr(V'V) for a matrix."""
        m = self.matrix(node)
        if m.shape[1] == 1:
            return m.T * m
        return self.sp.Trace(m.T * m)


def _scalar_func(sp, name):
    table = {"log": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos,
             "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "abs": sp.Abs,
             "sigmoid": lambda x: 1 / (1 + sp.exp(-x))}
    return table[name]


def to_sympy(f, wrt=None):
    """(SymPy expression of f, Translator) for texderive's IR node f.

    A 1x1 matrix expression stays one (``x.T*A*x``: its derivative by a vector is a
    vector), except that with respect to a matrix it is wrapped in ``Trace``, as
    one does in SymPy to get a gradient matrix rather than a 4-index array.
    """
    tr = Translator()
    e = tr(f)
    if wrt is not None and wrt.shape[1] != 1 and isinstance(e, tr.sp.MatrixExpr):
        e = tr.sp.Trace(e)
    return e, tr


# ---------------------------------------------------------------------------
# numeric check of an answer (runs in the worker)

class _Timeout(BaseException):
    """A BaseException, so that no `except Exception` on the way swallows it."""
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


class time_limit:
    """Raise _Timeout in the main thread after ``seconds`` (setitimer, so sub-second works)."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def __enter__(self):
        self.old = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)
        return False


def _dims_of(f):
    from texderive import ir
    out = []
    for n in ir.walk(f):
        if isinstance(n, (ir.Sym, ir.Ident, ir.Ones, ir.Zeros)):
            for d in n.shape:
                if isinstance(d, str) and d not in out:
                    out.append(d)
    return out


def _assignments(dims):
    pool = [2 + (i % 5) for i in range(len(dims))]
    orders = [sorted(pool, reverse=True), sorted(pool), [3] * len(dims), [2] * len(dims)]
    seen, out = set(), []
    for o in orders:
        if tuple(o) not in seen:
            seen.add(tuple(o))
            out.append(dict(zip(dims, o)))
    return out or [{}]


def _sample(np, sym, shape, strategy, rng):
    """A value for sym: the sampler of texderive's own numeric check (SPD, shifted, ...)."""
    from texderive.check import _sample as check_sample
    return check_sample(sym, shape, strategy, rng)


def _concrete(sp, np, e, tr, sizes, values):
    """Evaluate the SymPy expression e at the point: a 2-D float array (scalars 1x1)."""
    dsub = {tr.dims[d]: n for d, n in sizes.items() if d in tr.dims}
    e = e.subs(dsub) if dsub else e
    rep = {}
    for name, s in tr.syms.items():
        v = values[name]
        if isinstance(s, sp.MatrixSymbol):
            cs = sp.MatrixSymbol(name, *v.shape)
            rep[cs] = sp.ImmutableMatrix(v.tolist())
        else:
            rep[s] = sp.Float(float(v[0, 0]))
    e = e.xreplace(rep).doit()
    if hasattr(e, "as_explicit") and not isinstance(e, sp.MatrixBase):
        e = e.as_explicit()
    if hasattr(e, "tolist"):
        a = np.array(sp.N(sp.Array(e.tolist())).tolist() if not isinstance(e, sp.MatrixBase)
                     else sp.N(e).tolist(), dtype=float)
    else:
        a = np.array(complex(sp.N(e)).real if sp.N(e).is_real is not False else np.nan,
                     dtype=float)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    elif a.ndim == 1:
        a = a.reshape(-1, 1)
    return a


def check_answer(f, wrt, grad_ir, sf, g, tr, seed: int = 0) -> dict:
    """Compare SymPy's answer g (and texderive's gradient) with finite differences of f."""
    import numpy as np
    import sympy as sp
    from texderive.evaluate import evaluate
    from texderive import ir
    rng = np.random.default_rng(seed)
    syms = ir.free_syms(f)
    strategies = ("normal", "positive", "shifted", "uniform")
    out = {"sympy_right": None, "texderive_right": None}
    for sizes in _assignments(_dims_of(f)):
        for strategy in strategies:
            for _ in range(3):
                shape = {s.name: tuple(d if isinstance(d, int) else sizes[d] for d in s.shape)
                         for s in syms}
                values = {s.name: _sample(np, s, shape[s.name], strategy, rng) for s in syms}
                with np.errstate(all="ignore"):
                    fv = float(evaluate(f, values, dims=sizes)[0, 0])
                    if not math.isfinite(fv) or not _domain_ok(np, evaluate, f, values, sizes):
                        continue
                sfv = float(_concrete(sp, np, sf, tr, sizes, values)[0, 0])
                if not math.isclose(sfv, fv, rel_tol=1e-7, abs_tol=1e-9):
                    return {**out, "status": "translation mismatch",
                            "detail": f"f = {fv!r} but SymPy's f = {sfv!r}"}
                G = _concrete(sp, np, g, tr, sizes, values)
                with np.errstate(all="ignore"):
                    T = evaluate(grad_ir, values, dims=sizes)
                want = values[wrt.name].shape
                errs_s, errs_t = [], []
                for _ in range(2):
                    v = rng.standard_normal(want)
                    if wrt.kind == "symmetric":
                        v = (v + v.T) / 2
                    v /= np.linalg.norm(v)
                    num = _directional(np, evaluate, f, values, wrt.name, v, sizes)
                    if num is None:
                        break
                    floor = 1e-6 * (1.0 + abs(fv))
                    errs_t.append(_rel(num, float(np.sum(T * v)), floor))
                    if G.size == v.size and (G.shape == want or 1 in want):
                        errs_s.append(_rel(num, float(np.sum(G.reshape(want) * v)), floor))
                    else:
                        errs_s.append(float("inf"))
                else:
                    es, et = max(errs_s), max(errs_t)
                    return {"status": "checked", "sizes": sizes,
                            "sympy_right": bool(es <= TOLERANCE),
                            "sympy_error": es if math.isfinite(es) else None,
                            "sympy_shape": list(G.shape),
                            "texderive_right": bool(et <= TOLERANCE), "texderive_error": et}
    return {**out, "status": "no point found where f is defined"}


def _domain_ok(np, evaluate, f, values, sizes) -> bool:
    """Every inverse, det and logdet argument well conditioned (logdet's with det > 0),
    every log, sqrt, fractional power and norm argument safely positive."""
    from texderive import ir
    for n in ir.walk(f):
        if isinstance(n, (ir.Inverse, ir.Det, ir.LogDet)) or \
                (isinstance(n, ir.MatPow) and n.args[1] < 0):
            a = evaluate(n.args[0], values, dims=sizes)
            if not np.all(np.isfinite(a)):
                return False
            if a.shape == (1, 1):
                if abs(a[0, 0]) < 1e-3:
                    return False
            elif np.linalg.cond(a) >= 1e6:
                return False
            if isinstance(n, ir.LogDet) and np.linalg.slogdet(a)[0] <= 0:
                return False
        elif isinstance(n, ir.Func) and n.name in ("log", "sqrt"):
            if not np.all(evaluate(n.args[1], values, dims=sizes) > 1e-3):
                return False
        elif isinstance(n, ir.Norm):
            if not evaluate(n, values, dims=sizes)[0, 0] > 1e-3:
                return False
        elif isinstance(n, ir.Pow) and not (isinstance(n.args[1], ir.Num)
                                            and n.args[1].value.denominator == 1):
            if not np.all(evaluate(n.args[0], values, dims=sizes) > 1e-3):
                return False
    return True


def _rel(a, b, floor):
    return abs(a - b) / max(abs(a), abs(b), floor)


def _directional(np, evaluate, f, values, name, v, sizes):
    x = values[name]
    h = 1e-3 * max(1.0, float(np.sqrt(np.mean(x ** 2))))
    p = []
    for t in (2, 1, -1, -2):
        moved = dict(values)
        moved[name] = x + t * h * v
        with np.errstate(all="ignore"):
            p.append(float(evaluate(f, moved, dims=sizes)[0, 0]))
    if not all(math.isfinite(q) for q in p):
        return None
    return (-p[0] + 8 * p[1] - 8 * p[2] + p[3]) / (12 * h)


# ---------------------------------------------------------------------------
# the worker: one process, many expressions, each under a time limit

def _has_unevaluated(sp, g) -> bool:
    return any("Derivative" in type(n).__name__ for n in sp.preorder_traversal(g))


def _one(job: dict, reps: int, timeout: float) -> dict:
    import sympy as sp
    from sympy.core.cache import clear_cache
    from texderive import api, shapes
    from texderive.engine import derive_ir
    res = {"i": job["i"]}
    try:
        _, f = api.parse_function(job["expr"], shapes.parse_let(job["let"]), job["latex"])
        wrt = api.find_wrt(f, job["wrt"], job["expr"])
        sf, tr = to_sympy(f, wrt)
        w = tr.syms[wrt.name]
    except Untranslatable as e:
        return {**res, "status": "untranslatable", "detail": str(e)}
    res["sympy_f"] = str(sf)[:300]
    times, g = [], None
    for _ in range(reps):
        clear_cache()
        try:
            with time_limit(timeout):
                t0 = time.perf_counter()
                g = sf.diff(w)
                t1 = time.perf_counter()
        except _Timeout:
            return {**res, "status": "timeout", "detail": f"no result within {timeout:g} s"}
        except Exception as e:           # SymPy's own failure: record it
            return {**res, "status": "error", "detail": f"{type(e).__name__}: {e}"[:300]}
        times.append(t1 - t0)
        if sum(times) > 2.0:
            break
    res["sympy_time"] = statistics.median(times)
    res["sympy_runs"] = len(times)
    res["sympy_result"] = str(g)[:300]
    if _has_unevaluated(sp, g):
        return {**res, "status": "unevaluated", "detail": "returned an unevaluated derivative"}
    res["status"] = "answer"
    _, grad_ir = derive_ir(f, wrt)
    try:
        with time_limit(CHECK_TIMEOUT):
            chk = check_answer(f, wrt, grad_ir, sf, g, tr)
    except _Timeout:
        chk = {"status": f"check not finished within {CHECK_TIMEOUT:g} s",
               "sympy_right": None, "texderive_right": None}
    except Exception as e:
        chk = {"status": f"check failed: {type(e).__name__}: {e}"[:300],
               "sympy_right": None, "texderive_right": None}
    res["check"] = chk
    if chk.get("status") == "translation mismatch":
        res["status"] = "translation mismatch"
    return res


def worker(reps: int, timeout: float) -> None:
    import sympy as sp
    sys.setrecursionlimit(10_000)
    # warm-up: SymPy imports its matrix-derivative machinery on first use
    n = sp.Symbol("n", integer=True, positive=True)
    A, X, B = (sp.MatrixSymbol(s, n, n) for s in "AXB")
    for e in (sp.Trace(A * X * B), sp.log(sp.Determinant(X)), sp.Trace(sp.Inverse(X) * A)):
        e.diff(X)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        job = json.loads(line)
        try:
            res = _one(job, reps, timeout)
        except Exception as e:
            res = {"i": job["i"], "status": "error",
                   "detail": f"benchmark: {type(e).__name__}: {e}"[:300]}
        print(json.dumps(res), flush=True)


# ---------------------------------------------------------------------------
# the parent

class _Worker:
    def __init__(self, reps, timeout):
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.p = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker",
                                   "--reps", str(reps), "--timeout", str(timeout)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  cwd=ROOT, env=env, bufsize=1)
        self.buf = ""
        first = self.readline(120.0)
        if first is None or not json.loads(first).get("ready"):
            self.close()
            raise RuntimeError("the SymPy worker did not start")

    def readline(self, limit: float):
        end = time.monotonic() + limit
        fd = self.p.stdout.fileno()
        while "\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536).decode()
                if not chunk:
                    return None
                self.buf += chunk
        line, self.buf = self.buf.split("\n", 1)
        return line

    def ask(self, job, limit):
        self.p.stdin.write(json.dumps(job) + "\n")
        self.p.stdin.flush()
        line = self.readline(limit)
        return json.loads(line) if line else None

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def texderive_time(case, reps: int) -> tuple:
    """Median seconds of texderive.derive, and of derive + to_dict + LaTeX rendering."""
    import texderive
    try:
        from texderive.render import render
    except ImportError:
        render = None

    def full():
        doc = texderive.derive(case.expr, case.wrt, case.let, latex=case.latex).to_dict()
        return render(doc, "latex") if render else doc

    texderive.derive(case.expr, case.wrt, case.let, latex=case.latex)
    full()
    ts, fs = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        texderive.derive(case.expr, case.wrt, case.let, latex=case.latex)
        t1 = time.perf_counter()
        full()
        ts.append(t1 - t0)
        fs.append(time.perf_counter() - t1)
    return statistics.median(ts), statistics.median(fs)


def _summary(recs) -> dict:
    ratios = [r["ratio"] for r in recs if r.get("ratio")]
    if not ratios:
        return {"n": 0}
    with_render = [r["sympy_time"] / r["texderive_render_time"] for r in recs if r.get("ratio")]
    return {"n": len(ratios), "median_ratio": statistics.median(ratios),
            "median_ratio_with_render": statistics.median(with_render),
            "geomean_ratio": math.exp(sum(map(math.log, ratios)) / len(ratios)),
            "min_ratio": min(ratios), "max_ratio": max(ratios),
            "at_least_10x": sum(1 for x in ratios if x >= 10),
            "sympy_median_ms": 1e3 * statistics.median(r["sympy_time"] for r in recs),
            "texderive_median_ms": 1e3 * statistics.median(r["texderive_time"] for r in recs)}


def run(cases, *, reps: int = 5, timeout: float = TIMEOUT, texderive_reps: int = 20,
        log=None) -> dict:
    log = log or (lambda s: None)
    recs = []
    wk = _Worker(reps, timeout)
    try:
        for i, c in enumerate(cases):
            job = {"i": i, "expr": c.expr, "wrt": c.wrt, "let": c.let, "latex": c.latex}
            limit = timeout * (reps + 1) + CHECK_TIMEOUT + 30
            res = wk.ask(job, limit)
            if res is None:                       # hung beyond its own alarms, or died
                wk.close()
                res = {"i": i, "status": "timeout", "detail": "worker killed"}
                wk = _Worker(reps, timeout)
            rec = {"name": c.name, "expr": c.expr, "wrt": c.wrt, "let": c.let, **res}
            rec["texderive_time"], rec["texderive_render_time"] = texderive_time(c, texderive_reps)
            if rec.get("sympy_time") and rec["status"] == "answer":
                rec["ratio"] = rec["sympy_time"] / rec["texderive_time"]
            log(f"  sympy {i + 1:2d}/{len(cases)} {rec['status']:12s} {c.expr}")
            recs.append(rec)
    finally:
        wk.close()
    answered = [r for r in recs if r["status"] == "answer"]
    right = [r for r in answered if (r.get("check") or {}).get("sympy_right") is True]
    wrong = [r for r in answered if (r.get("check") or {}).get("sympy_right") is False]
    counts = {}
    for r in recs:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {"cases": recs, "counts": counts, "answered": _summary(answered),
            "right": _summary(right), "wrong": [r["expr"] + " wrt " + r["wrt"] for r in wrong],
            "unchecked": [r["expr"] + " wrt " + r["wrt"] for r in answered
                          if (r.get("check") or {}).get("sympy_right") is None],
            "texderive_wrong": [r["expr"] + " wrt " + r["wrt"] for r in answered
                                if (r.get("check") or {}).get("texderive_right") is False],
            "timeout_s": timeout, "reps": reps}


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=TIMEOUT)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.worker:
        worker(args.reps, args.timeout)
    else:
        sys.path.insert(0, HERE)
        sys.path.insert(0, ROOT)
        from corpus import corpus
        out = run(corpus(ROOT), reps=3 if args.quick else args.reps, timeout=args.timeout,
                  texderive_reps=5 if args.quick else 20, log=lambda s: print(s, file=sys.stderr))
        for r in out["cases"]:
            chk = r.get("check") or {}
            print(f"{r['status']:20s} {r.get('sympy_time', 0) * 1e3:9.2f} ms "
                  f"{r['texderive_time'] * 1e3:7.2f} ms  right={chk.get('sympy_right')!s:5s} "
                  f"td={chk.get('texderive_right')!s:5s} {r['expr']} wrt {r['wrt']}  "
                  f"{r.get('detail', '')} {r.get('sympy_result', '')[:80]}")
        print(json.dumps({k: v for k, v in out.items() if k != "cases"}, indent=1))
