"""Scaling families: expressions that grow with a size k (the issue's four, k = 1 ... 64).

Each family is ``make(k) -> (expr, wrt, let)``:

    trace_sum       tr(A1*X*B1) + tr(A2*X*B2) + ... + tr(Ak*X*Bk)          wrt X
    product_chain   tr(A1*X*A2*X*...*Ak*X)                                  wrt X
    nested_inverse  tr(inv(Ak + inv(... inv(A2 + inv(A1 + X)) ...)))        wrt X
                    (k inverses, each around a sum, nested k deep)
    quadratic_sum   (A1*x + A2*x + ... + Ak*x)'*W*(A1*x + A2*x + ... + Ak*x) wrt x

The fit (``growth_exponent``) is the least-squares slope of log(time) against log(k).
"""
from __future__ import annotations

import math

KS = (1, 2, 4, 8, 16, 32, 64)


def trace_sum(k: int):
    return " + ".join(f"tr(A{i}*X*B{i})" for i in range(1, k + 1)), "X", {}


def product_chain(k: int):
    return "tr(" + "*".join(f"A{i}*X" for i in range(1, k + 1)) + ")", "X", {}


def nested_inverse(k: int):
    e = "X"
    for i in range(1, k + 1):
        e = f"inv(A{i} + {e})"
    return f"tr({e})", "X", {}


def quadratic_sum(k: int):
    s = " + ".join(f"A{i}*x" for i in range(1, k + 1))
    return f"({s})'*W*({s})", "x", {}


FAMILIES = {
    "trace_sum": trace_sum,
    "product_chain": product_chain,
    "nested_inverse": nested_inverse,
    "quadratic_sum": quadratic_sum,
}


def growth_exponent(ks, ts) -> float | None:
    """Least-squares slope of log(t) on log(k); None with fewer than two points."""
    pts = [(math.log(k), math.log(t)) for k, t in zip(ks, ts) if t and t > 0]
    if len(pts) < 2:
        return None
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx
