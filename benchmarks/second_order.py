"""Jacobians and Hessians (SPEC section 6): texderive's cost beside its gradient's, and
beside SymPy's ``Matrix.jacobian`` / ``hessian`` at small concrete sizes.

For each function: the median time of ``texderive.derive`` (parse, shapes, the
derivation with its steps; no rendering, no check) for the gradient of a scalar
companion (the same expression's gradient where f is scalar), the Jacobian or
the Hessian, in process, after one warm-up; and SymPy's time to build the same
function over explicit symbol matrices of the sizes given and differentiate it
entry by entry (``jacobian`` of vec F, ``hessian`` of f), with
``clear_cache()`` before each timed call and a 10 s limit.  SymPy answers with
every entry of a concrete-size matrix; texderive answers once for all sizes.

Run: ``python benchmarks/second_order.py [--repeat N]``; prints a table and the
JSON of the numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

TIMEOUT = 10.0

# name, expr, wrt, kind, sizes for SymPy, builder(sp, M) -> (F or f, variables)
CASES = [
    ("jac-Ax", "A*x", "x", "jacobian", {"A": (3, 4), "x": (4, 1)},
     lambda sp, M: (M["A"] * M["x"], M["x"])),
    ("jac-AXB", "A*X*B", "X", "jacobian", {"A": (2, 3), "X": (3, 4), "B": (4, 5)},
     lambda sp, M: (M["A"] * M["X"] * M["B"], M["X"])),
    ("jac-inv", "inv(X)", "X", "jacobian", {"X": (3, 3)},
     lambda sp, M: (M["X"].inv(), M["X"])),
    ("jac-softmax", "exp(x)/sum(exp(x))", "x", "jacobian", {"x": (4, 1)},
     lambda sp, M: (M["x"].applyfunc(sp.exp) / sum(M["x"].applyfunc(sp.exp)), M["x"])),
    ("jac-sigmoid", "sigmoid(W*x)", "x", "jacobian", {"W": (3, 4), "x": (4, 1)},
     lambda sp, M: ((M["W"] * M["x"]).applyfunc(lambda z: 1 / (1 + sp.exp(-z))), M["x"])),
    ("hess-xAx", "x'*A*x", "x", "hessian", {"x": (4, 1), "A": (4, 4)},
     lambda sp, M: ((M["x"].T * M["A"] * M["x"])[0, 0], M["x"])),
    ("hess-lsq", "norm(A*x - b)^2", "x", "hessian", {"A": (5, 3), "x": (3, 1), "b": (5, 1)},
     lambda sp, M: (sum(e ** 2 for e in (M["A"] * M["x"] - M["b"])), M["x"])),
    ("hess-logistic", "sum(log(1 + exp(X*w))) - y'*X*w", "w", "hessian",
     {"X": (5, 3), "w": (3, 1), "y": (5, 1)},
     lambda sp, M: (sum(sp.log(1 + sp.exp(z)) for z in M["X"] * M["w"])
                    - (M["y"].T * M["X"] * M["w"])[0, 0], M["w"])),
    ("hess-logdet", "logdet(X)", "X", "hessian", {"X": (3, 3)},
     lambda sp, M: (sp.log(M["X"].det()), M["X"])),
    ("hess-trAXBXt", "tr(A*X*B*X')", "X", "hessian", {"A": (3, 3), "X": (3, 4), "B": (4, 4)},
     lambda sp, M: ((M["A"] * M["X"] * M["B"] * M["X"].T).trace(), M["X"])),
]


def _median_time(fn, repeat: int) -> float:
    fn()                                  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def sympy_time(case, repeat: int):
    import sympy as sp
    from sympy.core.cache import clear_cache
    name, expr, wrt, kind, sizes, build = case
    mats = {k: sp.Matrix(r, c, lambda i, j, k=k: sp.Symbol(f"{k}_{i}_{j}"))
            for k, (r, c) in sizes.items()}
    variables = list(mats[wrt].T)          # column-major vec order

    def run():
        clear_cache()
        f, _ = build(sp, mats)
        if kind == "jacobian":
            return sp.Matrix(list(f.T)).jacobian(variables)
        return sp.hessian(f, variables)

    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
    try:
        run()                               # warm-up (and SymPy's lazy imports)
        times = []
        for _ in range(max(1, repeat // 5)):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)
    except _Timeout:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--no-sympy", action="store_true")
    args = ap.parse_args(argv)
    from texderive import derive
    rows = []
    for case in CASES:
        name, expr, wrt, kind, sizes, _ = case
        hess = kind == "hessian"
        t_res = _median_time(lambda: derive(expr, wrt=wrt, hessian=hess), args.repeat)
        t_grad = _median_time(lambda: derive(expr, wrt=wrt), args.repeat) if hess else None
        t_check = _median_time(lambda: derive(expr, wrt=wrt, hessian=hess, check=True),
                               max(3, args.repeat // 5))
        t_sp = None if args.no_sympy else sympy_time(case, args.repeat)
        rows.append({"name": name, "kind": kind, "texderive_ms": 1e3 * t_res,
                     "gradient_ms": None if t_grad is None else 1e3 * t_grad,
                     "with_check_ms": 1e3 * t_check,
                     "sympy_ms": None if t_sp is None else 1e3 * t_sp})
    print(f"{'case':16} {'kind':9} {'texderive':>10} {'gradient':>9} {'+check':>8} "
          f"{'sympy':>10} {'sympy/td':>8}")
    for r in rows:
        g = f"{r['gradient_ms']:.2f}" if r["gradient_ms"] is not None else "-"
        s = f"{r['sympy_ms']:.1f}" if r["sympy_ms"] is not None else "timeout"
        ratio = f"{r['sympy_ms'] / r['texderive_ms']:.0f}x" if r["sympy_ms"] else "-"
        print(f"{r['name']:16} {r['kind']:9} {r['texderive_ms']:10.2f} {g:>9} "
              f"{r['with_check_ms']:8.1f} {s:>10} {ratio:>8}")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
