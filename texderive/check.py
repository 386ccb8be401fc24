"""The certificate beside a derivation: a numeric and an exact check (SPEC section 5).

``numeric_check(f, grad, wrt)`` samples seeded points where ``f`` is defined
and compares, along random directions ``V``, the directional derivative of
``f`` (a 5-point central stencil with one Richardson step) with
``tr(G' V) = sum(G .* V)``.  For a symmetric ``wrt`` the directions are
symmetric and ``G`` must be symmetric (SPEC: ``G = (H + H')/2``).

Sampling.  Every dimension symbol gets a small size, distinct where possible
(2..6); several assignments are tried in a fixed order (first dimension
largest, smallest, then seeded permutations, then all equal), since
``log(det(X'*X))`` needs a tall X.  For one assignment the value strategies
are tried in order: standard normal; positive (SPD for a symmetric variable,
SPD plus a skew part for another square matrix, so that ``A`` and ``A'``
still differ, and positive entries elsewhere); well conditioned (``G + c I``
for square matrices); uniform positive.  A point is accepted when ``f``,
every sub-expression of ``f`` and the gradient are finite there, every
argument of ``inv``/``det``/``logdet`` (and of a negative matrix power) has a
condition number below 1e6, every ``logdet`` argument has a positive
determinant, every argument of ``log``, ``sqrt``, a fractional power,
``abs``, ``norm`` or an elementwise reciprocal is safely inside its domain,
and the finite differences there are reliable (their Richardson error
estimate is small; a point where f varies too fast is skipped).  A variable
declared symmetric gets a symmetric value.  All randomness comes from
``sampling.Rng(seed)`` (a SplitMix64 stream: numpy.random costs start-up time).

``exact_check(f, grad, wrt)`` gives each dimension a size 2 or 3 (distinct
where it can, chosen so that f is defined at a sampled point), makes every
entry of every variable a symbol (a symmetric variable shares its symbols
across the diagonal), evaluates f and the gradient exactly and compares each
entry of the gradient with the partial derivative of f (for a symmetric wrt:
``G_ij = (df/ds_ij) / 2`` off the diagonal, per SPEC).  The arithmetic is
rational-function arithmetic over the integers, as ``cancel``/``together``
would do it but without building expression trees: values are a polynomial
(SymPy's sparse ``PolyElement``) over a product of powers of the polynomials
divided by so far, so a difference is 0 exactly when its numerator is the
zero polynomial (a polynomial gcd is taken only to name the argument of a
function).  ``log``, ``exp``, roots and the
other functions are extra generators whose derivatives are known; ``exp``
of a sum splits into a product, ``exp(c log v)`` is ``v^c``, and the
relations ``root^q = u``, ``abs(u)^2 = u^2``, ``cos^2 = 1 - sin^2`` and
``cosh^2 = 1 + sinh^2`` are applied before a difference is declared nonzero.
A nonzero difference is "failed" when it is a rational function of the
entries, or when it is clearly nonzero at the sampled point (30 digits);
otherwise "inconclusive", and the numeric check stands.  The work runs in a
worker thread that checks a cancel flag between operations; past the time
budget the result is "timeout" ("not finished within N s").
"""
from __future__ import annotations

import math
import threading
import time
from fractions import Fraction

import numpy as np

from . import ir
from .errors import CheckError
from .evaluate import Evaluator, bind_dims
from .sampling import Rng

TOLERANCE = 1e-5
COND_MAX = 1e6
# "interior": the constants uniform positive and the variable near 0, inside a log-barrier
# such as -sum(log(b - A*x)) that the other strategies miss
STRATEGIES = ("normal", "positive", "shifted", "uniform", "interior")
TRIES = 3                 # draws per strategy before the next one
DIRECTIONS = 2            # random directions per point
MARGIN = 1e-3             # distance kept from the edge of a domain (log, sqrt, 1/x, abs)
MAX_ENTRIES = 250_000     # a declared size past this is refused (a 500x500 matrix is fine)
#: The numeric check's budget at declared sizes: floating-point operations of all its
#: evaluations (about 10 s here) and bytes of one evaluation's intermediate arrays.
MAX_FLOPS = 2e10
MAX_BYTES = 1 << 30
_EVALS_F, _EVALS_G = 160, 12   # f and gradient evaluations of one check (points x stencils)
EXACT_MAX_SIZE = 6        # the exact check leaves larger declared sizes undecided
ROUGH = 1e-6              # a finite difference less certain than this: the point is skipped
NO_POINT = "no point found where f is defined"
#: Below this, values are near the subnormal range: finite differences of them say nothing.
TINY = 1e-250
UNDERFLOW = ("f and its derivative underflow (below 1e-250) at every point tried, so finite "
             "differences cannot check the gradient there")


# ---------------------------------------------------------------------------
# helpers shared by both checks

def _wrt_sym(f: ir.Node, wrt) -> ir.Sym:
    name = wrt.name if isinstance(wrt, ir.Sym) else wrt
    for s in ir.free_syms(f):
        if s.name == name:
            return s
    raise CheckError(f"{name} does not occur in f")


def _unique_nodes(*roots):
    """Every distinct node of the trees, each once, in a fixed order."""
    seen, out, stack = set(), [], list(reversed(roots))
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        out.append(n)
        stack.extend(reversed(n.children))
    return out


def _dims_of(node: ir.Node) -> list:
    """Symbolic dimensions in a fixed order: variables' first, then constants'."""
    out = []
    for s in ir.free_syms(node):
        for d in s.shape:
            if isinstance(d, str) and d not in out:
                out.append(d)
    for n in _unique_nodes(node):
        if isinstance(n, (ir.Ident, ir.Ones, ir.Zeros)):
            for d in n.shape:
                if isinstance(d, str) and d not in out:
                    out.append(d)
    return out


def _grad_dims(grad: ir.Node, wrt: ir.Sym, sizes: dict) -> dict:
    """Sizes for the gradient's own dimensions that none of its variables fixes:
    its shape is the shape of wrt; anything else by name from f's sizes."""
    extra = {}
    for d, w in zip(grad.shape, wrt.shape):
        if isinstance(d, str):
            extra[d] = w if isinstance(w, int) else sizes.get(w)
    extra = {d: n for d, n in extra.items() if n is not None}
    for d, n in sizes.items():
        extra.setdefault(d, n)
    return extra


def _size_of(d, sizes: dict) -> int:
    return d if isinstance(d, int) else sizes[d]


def _shape_of(sym: ir.Sym, sizes: dict) -> tuple:
    return (_size_of(sym.shape[0], sizes), _size_of(sym.shape[1], sizes))


def _assignments(dims: list, rng) -> list:
    """Size assignments for the numeric check, in the order they are tried."""
    if not dims:
        return [{}]
    k = len(dims)
    pool = [2 + (i % 5) for i in range(k)]
    orders = [sorted(pool, reverse=True), sorted(pool)]
    for _ in range(4):
        orders.append([int(v) for v in rng.permutation(pool)])
    orders.append([3] * k)
    orders.append([2] * k)
    out, seen = [], set()
    for o in orders:
        if tuple(o) not in seen:
            seen.add(tuple(o))
            out.append(dict(zip(dims, o)))
    return out


def _sample(sym: ir.Sym, shape: tuple, strategy: str, rng) -> "np.ndarray":
    r, c = shape
    symmetric = sym.kind == "symmetric"
    square = symmetric or (sym.kind == "matrix" and sym.shape[0] == sym.shape[1] and r == c
                           and r > 1)
    if strategy == "normal":
        a = rng.standard_normal((r, c))
    elif strategy == "positive":
        if square:
            g = rng.standard_normal((r, r))
            a = g @ g.T / r + 0.5 * np.eye(r)
            if not symmetric:
                k = rng.standard_normal((r, r))
                a = a + 0.5 * (k - k.T) / math.sqrt(r)
        else:
            a = rng.uniform(0.5, 2.0, (r, c))
    elif strategy == "shifted":
        a = rng.standard_normal((r, c))
        if square:
            a = a / math.sqrt(r) + 2.0 * np.eye(r)
    else:
        a = rng.uniform(0.5, 1.5, (r, c))
    if symmetric:
        a = (a + a.T) / 2
    return a


def draw_values(syms, wrt: ir.Sym, sizes: dict, strategy: str, rng) -> dict:
    """Values of every variable for one draw of a strategy (see ``STRATEGIES``)."""
    if strategy != "interior":
        return {s.name: _sample(s, _shape_of(s, sizes), strategy, rng) for s in syms}
    out = {s.name: _sample(s, _shape_of(s, sizes), "uniform", rng) for s in syms}
    w = 0.01 * rng.standard_normal(_shape_of(wrt, sizes))
    out[wrt.name] = (w + w.T) / 2 if wrt.kind == "symmetric" else w
    return out


#: Why a point where f has a value was passed over (``_domain_fault``): said when no point
#: is found, so that an ill-conditioned f is not reported as undefined.
ILL_CONDITIONED = (f"an argument of inv, det or logdet has a condition number of "
                   f"{COND_MAX:.0e} or more").replace("e+0", "e")
NEAR_EDGE = (f"an argument of log, sqrt, abs, a fractional power or a reciprocal is within "
             f"{MARGIN:g} of the edge of its domain")


def _domain_fault(ev: Evaluator, nodes) -> str | None:
    """None when every sub-expression of f is finite and safely inside its domain here;
    else why not: ``NO_POINT`` (undefined), ``ILL_CONDITIONED`` or ``NEAR_EDGE``."""
    for n in nodes:
        if not np.all(np.isfinite(ev.value(n))):
            return NO_POINT
        if isinstance(n, (ir.Inverse, ir.Det, ir.LogDet)) or \
                (isinstance(n, ir.MatPow) and n.args[1] < 0):
            a = ev.value(n.args[0])
            if not np.all(np.isfinite(a)):
                return NO_POINT
            if a.shape == (1, 1):
                if abs(a[0, 0]) < MARGIN:
                    return NEAR_EDGE
            elif np.linalg.cond(a) >= COND_MAX:
                return ILL_CONDITIONED
            if isinstance(n, ir.LogDet) and np.linalg.slogdet(a)[0] <= 0:
                return NO_POINT
        elif isinstance(n, ir.Func):
            a = ev.value(n.args[1])
            if n.name in ("log", "sqrt") and not np.all(a > MARGIN):
                return NEAR_EDGE if np.all(a >= 0) else NO_POINT
            if n.name == "abs" and not np.all(np.abs(a) > MARGIN):
                return NEAR_EDGE
            if n.name == "tan" and not np.all(np.abs(np.cos(a)) > 1e-2):
                return NEAR_EDGE
        elif isinstance(n, (ir.Pow, ir.HadPow)):
            base, exp = n.args
            b = ev.value(base)
            if isinstance(exp, ir.Num) and exp.value.denominator == 1:
                if exp.value < 0 and not np.all(np.abs(b) > MARGIN):
                    return NEAR_EDGE
            elif not np.all(b > MARGIN):
                return NEAR_EDGE if np.all(b >= 0) else NO_POINT
        elif isinstance(n, ir.Norm):
            if not ev.value(n)[0, 0] > MARGIN:
                return NEAR_EDGE
    return None


def no_point(faults) -> CheckError:
    """The refusal when no point passed: undefined everywhere tried, or defined but ill
    conditioned (or at the edge of a domain) at every point where f has a value."""
    defined = [r for r in (ILL_CONDITIONED, NEAR_EDGE) if r in faults]
    if not defined:
        return CheckError(NO_POINT)
    return CheckError(f"{NO_POINT} and well conditioned: at every point tried where f has a "
                      f"value, {' or '.join(defined)}; finite differences there cannot be "
                      f"trusted (--no-check skips the check)")


def _scalar(a) -> float:
    return float(a[0, 0])


class _Problem:
    """f, its gradient and wrt, with the sizes of one assignment."""

    def __init__(self, f, grad, wrt: ir.Sym, sizes: dict, faults: set | None = None):
        self.f, self.grad, self.wrt, self.sizes = f, grad, wrt, sizes
        self.syms = ir.free_syms(f)
        self.f_nodes = _unique_nodes(f)
        self.grad_extra = _grad_dims(grad, wrt, sizes)
        # why points where f has a value were passed over (shared across assignments)
        self.faults = set() if faults is None else faults

    def draw(self, strategy: str, rng) -> dict:
        return draw_values(self.syms, self.wrt, self.sizes, strategy, rng)

    def f_at(self, values: dict):
        """(f, Evaluator) at a point, f None when the point is outside f's domain."""
        ev = Evaluator(values, dims=self.sizes)
        fv = _scalar(ev.value(self.f))
        fault = NO_POINT if not math.isfinite(fv) else _domain_fault(ev, self.f_nodes)
        if fault is not None:
            self.faults.add(fault)
            return None, ev
        return fv, ev

    def phi(self, values: dict, direction, t: float) -> float:
        moved = dict(values)
        moved[self.wrt.name] = values[self.wrt.name] + t * direction
        return _scalar(Evaluator(moved, dims=self.sizes).value(self.f))

    def grad_at(self, values: dict):
        try:
            dims = bind_dims(self.grad, {k: v.shape for k, v in values.items()},
                             self.grad_extra)
            return Evaluator(values, dims=dims).value(self.grad)
        except ValueError as exc:
            raise CheckError(f"cannot evaluate the gradient: {exc}") from None

    def search(self, rng):
        """The first point (values, f, ev) where f is defined, trying the strategies in order."""
        for strategy in STRATEGIES:
            for _ in range(TRIES):
                values = self.draw(strategy, rng)
                fv, ev = self.f_at(values)
                if fv is not None:
                    return values, fv, ev
        return None


def _direction(wrt: ir.Sym, shape: tuple, rng) -> "np.ndarray":
    v = rng.standard_normal(shape)
    if wrt.kind == "symmetric":
        v = (v + v.T) / 2
    return v / np.linalg.norm(v)


def _directional(prob: _Problem, values: dict, v, fv: float):
    """(derivative, error estimate) of f along v, or None where f is not finite nearby.

    A 5-point central stencil at steps h and h/2, one Richardson step; the
    difference of the two stencils estimates the error.  The step starts at
    1e-3 (scaled by the size of wrt's entries); when the estimate is not small
    h/4 and 4h are tried too and the step with the smallest estimate is kept
    (smaller steps lose to rounding, larger ones to truncation).
    """
    x = values[prob.wrt.name]
    h0 = 1e-3 * max(1.0, float(np.sqrt(np.mean(x ** 2))))
    floor = 1e-6 * (1.0 + abs(fv))
    best = None
    for h in (h0, h0 / 4, h0 * 4):
        d = []
        for step in (h, h / 2):
            p = [prob.phi(values, v, t * step) for t in (2, 1, -1, -2)]
            if not all(math.isfinite(q) for q in p):
                break
            d.append((-p[0] + 8 * p[1] - 8 * p[2] + p[3]) / (12 * step))
        if len(d) < 2:
            continue
        est = (d[1] + (d[1] - d[0]) / 15, abs(d[1] - d[0]))
        if best is None or est[1] < best[1]:
            best = est
        if best[1] <= 1e-9 * max(abs(best[0]), floor):
            break
    return best


def _rel(num: float, err: float, ana: float, floor: float) -> float:
    """Relative difference; the finite difference's own uncertainty (err) sets a floor."""
    return abs(num - ana) / max(abs(num), abs(ana), floor, 10 * err / TOLERANCE)


# ---------------------------------------------------------------------------
# the numeric check

def numeric_check(f: ir.Node, grad: ir.Node, wrt, *, points: int = 3, seed: int = 0,
                  kind: str = "gradient", numpy: str | None = None) -> dict:
    """Compare ``grad`` with finite differences of ``f`` at seeded points (SPEC section 5).

    Returns ``{"kind": "numeric", "points", "max_rel_error", "passed", "seed"}``
    (with ``"sizes"``, and a ``"reason"`` when it did not pass); raises
    :class:`CheckError` when no point is found where f is defined.  ``kind``
    ``"jacobian"`` or ``"hessian"`` checks a result of SPEC section 6 instead
    (:mod:`texderive.check_second`), evaluating ``numpy`` too when given.
    """
    wrt = _wrt_sym(f, wrt)
    rng = Rng(seed)
    if kind != "gradient":
        from .check_second import numeric_check_second
        with np.errstate(all="ignore"):
            return numeric_check_second(f, grad, wrt, kind, numpy, max(1, int(points)), seed,
                                        rng)
    with np.errstate(all="ignore"):
        return _numeric(f, grad, wrt, max(1, int(points)), seed, rng)


def _result(points, err, seed, sizes, reason=None) -> dict:
    out = {"kind": "numeric", "points": points, "max_rel_error": float(err),
           "passed": reason is None and err <= TOLERANCE, "seed": seed, "sizes": dict(sizes)}
    if reason is None and err > TOLERANCE:
        reason = f"the gradient differs from finite differences (relative error {err:.3g})"
    if reason is not None:
        out["reason"] = reason
    return out


def _too_large(f: ir.Node, limit: int):
    """The first variable whose declared sizes make more than ``limit`` entries, or None."""
    for s in ir.free_syms(f):
        r, c = (d if isinstance(d, int) else 1 for d in s.shape)
        if r * c > limit:
            return f"{s.name} is {r}x{c}"
    return None


def _structurally_zero(grad) -> bool:
    return isinstance(grad, ir.Zeros) or grad == ir.Num(0)


def _size(d, sizes: dict) -> int:
    if isinstance(d, int):
        return d
    total = 1
    for part in str(d).split("*"):
        total *= int(part) if part.isdigit() else int(sizes.get(part, 5))
    return total


def _chain_work(shapes) -> int:
    """Operations of a product chain as the evaluator forms it (evaluate._product): left
    to right, a 1×1 factor scales (r*c), the others multiply (r*k*c).  2*I of 1600×1600
    is 2.6e6 operations, not 1600³."""
    flops, acc = 0, None
    for s in shapes:
        if acc is None:
            acc = s
        elif acc == (1, 1) or s == (1, 1):
            acc = s if acc == (1, 1) else acc
            flops += acc[0] * acc[1]
        else:
            flops += acc[0] * acc[1] * s[1]
            acc = (acc[0], s[1])
    return flops


def _work(roots, sizes: dict) -> tuple:
    """(flops, bytes) of evaluating ``roots`` once at ``sizes``: n^3 for an inverse, a
    determinant or a power, r*k*c per product, r*c for the rest."""
    flops = nbytes = 0
    for n in _unique_nodes(*roots):
        r, c = (_size(d, sizes) for d in n.shape)
        nbytes += 8 * r * c
        if isinstance(n, (ir.Inverse, ir.Det, ir.LogDet, ir.MatPow)):
            k = _size(n.children[0].shape[0], sizes) if n.children else r
            flops += k ** 3 * (2 * n.args[1].bit_length() if isinstance(n, ir.MatPow) else 1)
        elif isinstance(n, ir.MatMul):
            flops += _chain_work([tuple(_size(d, sizes) for d in a.shape) for a in n.children])
        else:
            flops += r * c
    return flops, nbytes


def check_budget(f, grad, sizes: dict) -> None:
    """Refuse (CheckError) a numeric check whose time or memory at ``sizes`` is past
    :data:`MAX_FLOPS` / :data:`MAX_BYTES` (issue 12: 53 s and 3.4 GB for 30 inverses of
    500x500), saying how to check it: smaller declared sizes, or --no-check."""
    ff, fb = _work([f], sizes)
    gf, gb = _work([grad], sizes)
    flops, nbytes = _EVALS_F * ff + _EVALS_G * gf, max(fb, gb)
    if flops > MAX_FLOPS or nbytes > MAX_BYTES:
        what = f"about {flops:.0e} operations" if flops > MAX_FLOPS else \
            f"about {nbytes / 2**30:.1f} GB"
        shown = ", ".join(f"{k}={v}" for k, v in sorted(sizes.items())) or "as declared"
        raise CheckError(f"the numeric check at the declared sizes ({shown}) would need {what}, "
                         f"past its budget ({MAX_FLOPS:.0e} operations, "
                         f"{MAX_BYTES // 2**30} GB): declare smaller sizes (or none: "
                         "symbolic sizes are checked small) to check it, or use --no-check")


def _numeric(f, grad, wrt: ir.Sym, points: int, seed: int, rng) -> dict:
    big = _too_large(f, MAX_ENTRIES)
    if big:
        raise CheckError(f"the declared sizes are too large for the numeric check ({big})")
    undefined_grad = underflowed = None
    faults = set()
    for sizes in _assignments(_dims_of(f), rng):
        check_budget(f, grad, sizes)
        prob = _Problem(f, grad, wrt, sizes, faults)
        errors, asym, found, attempts, rough = [], 0.0, 0, 0, []
        underflow, zero = 0, _structurally_zero(grad)
        while found < points and attempts < 4 * points:
            attempts += 1
            hit = prob.search(rng)
            if hit is None:
                break
            values, fv, _ = hit
            g = prob.grad_at(values)
            want = values[wrt.name].shape
            if g.shape != want:
                return _result(0, 2.0, seed, sizes,
                               f"the gradient is {g.shape[0]}x{g.shape[1]}, but {wrt.name} is "
                               f"{want[0]}x{want[1]}")
            if not np.all(np.isfinite(g)):
                undefined_grad = sizes
                continue
            # relative to f itself: a floor of 1e-6 absolute would pass any gradient of an
            # f of 1e-130 (issue 12); TINY keeps the all-zero derivative of a constant
            floor = 1e-6 * abs(fv) + TINY
            errs, smooth, informative = [], True, False
            for _ in range(DIRECTIONS):
                v = _direction(wrt, want, rng)
                fd = _directional(prob, values, v, fv)
                if fd is None:
                    break
                ana = float(np.sum(g * v))
                informative = informative or max(abs(fd[0]), abs(ana)) > TINY
                errs.append(_rel(fd[0], fd[1], ana, floor))
                # finite differences are unreliable here (f varies too fast): another point
                smooth = smooth and fd[1] <= ROUGH * max(abs(fd[0]), floor)
            else:
                if not informative and not zero:
                    underflow += 1      # f underflows here: 0 = 0 proves nothing (issue 12)
                    continue
                if not smooth:
                    rough.append(errs)
                    continue
                errors.extend(errs)
                found += 1
                if wrt.kind == "symmetric":
                    asym = max(asym, float(np.linalg.norm(g - g.T))
                               / max(float(np.linalg.norm(g)), floor))
        if not found and rough:         # nowhere smooth: the rough points, with their error
            errors, found = [e for errs in rough for e in errs], len(rough)
        if found:
            reason = None
            if asym > TOLERANCE:
                reason = (f"the gradient with respect to the symmetric {wrt.name} is not "
                          f"symmetric (SPEC: G = (H + H')/2)")
            return _result(found, min(max(errors + [asym]), 2.0), seed, sizes, reason)
        if underflow and underflowed is None:
            underflowed = sizes
    if underflowed is not None:
        return _result(0, 2.0, seed, underflowed, UNDERFLOW)
    if undefined_grad is not None:
        return _result(0, 2.0, seed, undefined_grad,
                       "the gradient is not finite at points where f is defined")
    raise no_point(faults)


# ---------------------------------------------------------------------------
# the exact check
#
# Exact arithmetic over the integers in a polynomial ring (SymPy's sparse
# ``PolyElement``) whose generators are the entries of the variables plus one
# generator per transcendental sub-expression (log, exp, a root, ...), whose
# derivative is known in terms of its argument.  A value is a numerator
# polynomial over an integer times a product of powers of "atoms" (the
# primitive polynomials divided by, such as a determinant): a difference is
# zero exactly when its numerator is the zero polynomial.

class _Cancelled(Exception):
    """The time budget ran out: the worker stops at its next step."""


class _Undecided(Exception):
    """The exact check cannot decide (the numeric check stands)."""


class _Frac:
    """num / (k * prod(atoms[i] ** e for i, e in den)), num over the integers, k > 0."""
    __slots__ = ("num", "den", "k")

    def __init__(self, num, den=(), k=1):
        self.num, self.den, self.k = num, den, k   # den: sorted tuple of (atom, exponent)


class _Gen:
    """A transcendental sub-expression as a generator of the ring."""
    __slots__ = ("poly", "kind", "arg", "extra")

    def __init__(self, poly, kind: str, arg: _Frac, extra):
        self.poly, self.kind, self.arg, self.extra = poly, kind, arg, extra


class _Arith:
    """Exact arithmetic on _Frac values, and derivatives along one entry of wrt."""

    def __init__(self, ring, spare: list, tick):
        self.R, self.spare, self.tick = ring, list(spare), tick
        self.atoms: list = []
        self.atom_index: dict = {}
        self.gens: list = []
        self.gen_by_key: dict = {}
        self._dgen: dict = {}
        self._datom: dict = {}
        self.zero, self.one = _Frac(ring.zero), _Frac(ring.one)

    # -- construction -------------------------------------------------------
    def const(self, q) -> _Frac:
        q = Fraction(q)
        return _Frac(self.R(q.numerator), (), q.denominator)

    def den_poly(self, den):
        out = self.R.one
        for i, e in den:
            out = out * self.atoms[i] ** e
        return out

    def is_zero(self, a: _Frac) -> bool:
        return not a.num

    def is_const(self, a: _Frac) -> bool:
        return a.num.is_ground and not a.den

    def _reduce(self, num, den, k) -> _Frac:
        if k != 1 and num:
            g = math.gcd(k, num.content())
            if g != 1:
                num, k = num.quo_ground(g), k // g
        return _Frac(num, den, k)

    # -- field operations -----------------------------------------------------
    def add(self, a: _Frac, b: _Frac) -> _Frac:
        self.tick()
        if not a.num:
            return b
        if not b.num:
            return a
        k = a.k * b.k // math.gcd(a.k, b.k)
        if a.den == b.den:
            return self._reduce(a.num * (k // a.k) + b.num * (k // b.k), a.den, k)
        da, db = dict(a.den), dict(b.den)
        den = tuple((i, max(da.get(i, 0), db.get(i, 0))) for i in sorted(set(da) | set(db)))
        na = a.num * self.den_poly(tuple((i, e - da.get(i, 0)) for i, e in den
                                         if e > da.get(i, 0)))
        nb = b.num * self.den_poly(tuple((i, e - db.get(i, 0)) for i, e in den
                                         if e > db.get(i, 0)))
        return self._reduce(na * (k // a.k) + nb * (k // b.k), den, k)

    def neg(self, a: _Frac) -> _Frac:
        return _Frac(-a.num, a.den, a.k)

    def sub(self, a: _Frac, b: _Frac) -> _Frac:
        return self.add(a, self.neg(b))

    def mul(self, a: _Frac, b: _Frac) -> _Frac:
        self.tick()
        if not a.num or not b.num:
            return self.zero
        if not a.den:
            den = b.den
        elif not b.den:
            den = a.den
        else:
            d = dict(a.den)
            for i, e in b.den:
                d[i] = d.get(i, 0) + e
            den = tuple(sorted(d.items()))
        return self._reduce(a.num * b.num, den, a.k * b.k)

    def atom(self, p) -> tuple:
        """(c, i): p == c * atoms[i], atoms primitive with a positive leading coefficient."""
        c, q = p.primitive()
        if q.LC < 0:
            c, q = -c, -q
        i = self.atom_index.get(q)
        if i is None:
            i = len(self.atoms)
            self.atoms.append(q)
            self.atom_index[q] = i
        return c, i

    def inv(self, a: _Frac) -> _Frac:
        if not a.num:
            raise ZeroDivisionError("division by zero in the exact check")
        top = self.den_poly(a.den) * a.k
        if a.num.is_ground:
            c = a.num.LC
            return self._reduce(top if c > 0 else -top, (), abs(c))
        c, i = self.atom(a.num)
        return self._reduce(top if c > 0 else -top, ((i, 1),), abs(c))

    def div(self, a: _Frac, b: _Frac) -> _Frac:
        return self.mul(a, self.inv(b))

    def pow_int(self, a: _Frac, k: int) -> _Frac:
        if k < 0:
            a, k = self.inv(a), -k
        if k == 0:
            return self.one
        return _Frac(a.num ** k, tuple((i, e * k) for i, e in a.den), a.k ** k)

    # -- transcendental generators -------------------------------------------
    def canonical(self, a: _Frac) -> tuple:
        return a.num.cancel(self.den_poly(a.den) * a.k)

    def gen(self, kind: str, arg: _Frac, extra=None) -> _Frac:
        key = (kind, extra, self.canonical(arg))
        g = self.gen_by_key.get(key)
        if g is None:
            if not self.spare:
                raise _Undecided("too many transcendental sub-expressions")
            g = _Gen(self.spare.pop(0), kind, arg, extra)
            self.gens.append(g)
            self.gen_by_key[key] = g
        return _Frac(g.poly)

    def exp(self, u: _Frac) -> _Frac:
        """exp(u), where the terms c*log(v) of a polynomial u come out as powers v**c, so
        that a**(b - 1) and a**b / a meet."""
        if not u.num:
            return self.one
        if u.den:
            return self.gen("exp", u)
        logs = {g.poly: g for g in self.gens if g.kind == "log"}
        out, rest = self.one, {}
        for monom, c in u.num.terms():
            base = logs.get(self.R.from_dict({monom: 1}))
            if base is not None:
                out = self.mul(out, self.power(base.arg, Fraction(c, u.k)))
            else:
                rest[monom] = c
        if rest:
            out = self.mul(out, self.gen("exp", _Frac(self.R.from_dict(rest), (), u.k)))
        return out

    def func(self, name: str, u: _Frac) -> _Frac:
        if name == "exp":
            return self.exp(u)
        if name == "abs":
            return self.gen("abs", u)
        if name == "sqrt":
            return self.gen("root", u, 2)
        if self.is_const(u) and u.num.LC == 0:
            if name in ("sin", "tan", "sinh", "tanh"):
                return self.zero
            if name in ("exp", "cos", "cosh"):
                return self.one
            if name == "sigmoid":
                return self.const(Fraction(1, 2))
        return self.gen(name, u)

    def power(self, b: _Frac, e: Fraction) -> _Frac:
        """b ** e for a rational e."""
        if e.denominator == 1:
            return self.pow_int(b, int(e))
        root = self.gen("root", b, e.denominator)
        return self.pow_int(root, e.numerator)

    # -- derivatives ------------------------------------------------------------
    def d_poly(self, p, x) -> _Frac:
        """Total derivative of a polynomial along the base generator x."""
        out = _Frac(p.diff(x))
        for g in self.gens:
            if p.degree(g.poly) > 0:
                out = self.add(out, self.mul(_Frac(p.diff(g.poly)), self.d_gen(g, x)))
        return out

    def d_gen(self, g: _Gen, x) -> _Frac:
        key = (g.poly, x)
        if key in self._dgen:
            return self._dgen[key]
        u, t = g.arg, _Frac(g.poly)
        du = self.d(u, x)
        k = g.kind
        if not du.num:
            out = self.zero
        elif k == "log":
            out = self.div(du, u)
        elif k in ("exp",):
            out = self.mul(t, du)
        elif k == "root":
            out = self.div(self.mul(t, du), self.mul(self.const(g.extra), u))
        elif k == "abs":
            out = self.div(self.mul(t, du), u)
        elif k in ("sin", "sinh"):
            out = self.mul(self.gen("cos" if k == "sin" else "cosh", u), du)
        elif k == "cos":
            out = self.neg(self.mul(self.gen("sin", u), du))
        elif k == "cosh":
            out = self.mul(self.gen("sinh", u), du)
        elif k == "tan":
            out = self.mul(self.add(self.one, self.mul(t, t)), du)
        elif k == "tanh":
            out = self.mul(self.sub(self.one, self.mul(t, t)), du)
        elif k == "sigmoid":
            out = self.mul(self.mul(t, self.sub(self.one, t)), du)
        else:                                   # pragma: no cover - every kind is above
            raise _Undecided(f"no derivative for {k}")
        self._dgen[key] = out
        return out

    def d(self, a: _Frac, x) -> _Frac:
        """Derivative of num / prod(atoms ** e) along x."""
        out = self.mul(self.d_poly(a.num, x), _Frac(self.R.one, a.den, a.k))
        for i, e in a.den:
            key = (i, x)
            if key not in self._datom:
                self._datom[key] = self.d_poly(self.atoms[i], x)
            da = self._datom[key]
            if not da.num:
                continue
            d = dict(a.den)
            d[i] += 1
            term = self.mul(_Frac(a.num * (-e), tuple(sorted(d.items())), a.k), da)
            out = self.add(out, term)
        return out

    # -- algebraic relations between generators -----------------------------------
    def _apply(self, p, t, q: int, num, den):
        """p with t**q replaced by num/den, times the power of den that keeps it a polynomial."""
        idx = self.R.gens.index(t)
        parts: dict = {}
        for monom, c in p.terms():
            parts.setdefault(monom[idx], {})[monom[:idx] + (0,) + monom[idx + 1:]] = c
        top = max(j // q for j in parts)
        if top == 0:
            return p
        out = self.R.zero
        for j, d in parts.items():
            a, r = divmod(j, q)
            out += self.R.from_dict(d) * t ** r * num ** a * den ** (top - a)
            self.tick()
        return out

    def reduce(self, p):
        """p modulo the relations root**q = u, cos**2 = 1 - sin**2, cosh**2 = 1 + sinh**2."""
        for g in reversed(self.gens):
            if not p:
                break
            if g.kind == "root":
                u = g.arg
                p = self._apply(p, g.poly, g.extra, u.num, self.den_poly(u.den) * u.k)
            elif g.kind == "abs":
                u = g.arg
                p = self._apply(p, g.poly, 2, u.num ** 2, (self.den_poly(u.den) * u.k) ** 2)
            elif g.kind in ("cos", "cosh"):
                partner = self.gen_by_key.get(("sin" if g.kind == "cos" else "sinh", None,
                                               self.canonical(g.arg)))
                if partner is not None:
                    s2 = partner.poly ** 2
                    p = self._apply(p, g.poly, 2, self.R.one - s2 if g.kind == "cos"
                                    else self.R.one + s2, self.R.one)
        return p

    # -- back to SymPy, for a numeric look at an undecided difference ------------
    def to_expr(self, sp, a: _Frac, gen_exprs: dict):
        num = a.num.as_expr()
        den = (self.den_poly(a.den) * a.k).as_expr()
        return (num / den).xreplace(gen_exprs)

    def gen_exprs(self, sp) -> dict:
        out = {}
        funcs = {"log": sp.log, "exp": sp.exp, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
                 "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh, "abs": sp.Abs,
                 "sigmoid": lambda z: 1 / (1 + sp.exp(-z))}
        for g in self.gens:                    # arguments use earlier generators only
            u = self.to_expr(sp, g.arg, out)
            sym = g.poly.as_expr()
            out[sym] = u ** sp.Rational(1, g.extra) if g.kind == "root" else funcs[g.kind](u)
        return out


def _matmul(ar: _Arith, a, b):
    return [[_sum(ar, [ar.mul(a[i][k], b[k][j]) for k in range(len(b))])
             for j in range(len(b[0]))] for i in range(len(a))]


def _sum(ar: _Arith, items):
    out = ar.zero
    for t in items:
        out = ar.add(out, t)
    return out


def _det(ar: _Arith, a) -> _Frac:
    """Laplace expansion along rows, memoised on the set of columns left."""
    n = len(a)
    memo: dict = {}

    def rec(row: int, cols: tuple) -> _Frac:
        if row == n:
            return ar.one
        if cols in memo:
            return memo[cols]
        out = ar.zero
        for pos, c in enumerate(cols):
            if not a[row][c].num:
                continue
            term = ar.mul(a[row][c], rec(row + 1, cols[:pos] + cols[pos + 1:]))
            out = ar.add(out, term if pos % 2 == 0 else ar.neg(term))
        memo[cols] = out
        return out
    return rec(0, tuple(range(n)))


def _inverse(ar: _Arith, a):
    n = len(a)
    if n == 1:
        return [[ar.inv(a[0][0])]]
    inv_det = ar.inv(_det(ar, a))
    out = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            minor = [row[:i] + row[i + 1:] for k, row in enumerate(a) if k != j]
            c = _det(ar, minor)
            out[i][j] = ar.mul(c if (i + j) % 2 == 0 else ar.neg(c), inv_det)
    return out


def _transpose(a):
    return [list(r) for r in zip(*a)]


class _ExactEval:
    """Matrices (lists of rows) of exact values for the nodes of a tree."""

    def __init__(self, ar: _Arith, symbols: dict, dims: dict):
        self.ar, self.symbols, self.dims = ar, symbols, dims
        self.memo: dict = {}
        # the section-6 nodes join as their entries land (ir.SECOND_ORDER_CLASSES)
        self.table = {cls: getattr(self, "_" + cls.__name__)
                      for cls in ir.NODE_CLASSES + ir.SECOND_ORDER_CLASSES
                      if hasattr(self, "_" + cls.__name__)}

    def __call__(self, node):
        m = self.memo.get(node)
        if m is None:
            m = self.table[type(node)](node)
            self.memo[node] = m
        return m

    def dim(self, d) -> int:
        if isinstance(d, int):
            return d
        if "*" in d:
            out = 1
            for f in ir.dim_factors(d):
                out *= self.dim(f)
            return out
        if d not in self.dims:
            raise CheckError(f"the size of dimension {d} is not known")
        return self.dims[d]

    def full(self, r, c, v):
        return [[v] * c for _ in range(r)]

    def map(self, a, fn):
        return [[fn(v) for v in row] for row in a]

    def _Sym(self, n):
        return self.symbols[n.name]

    def _Num(self, n):
        return [[self.ar.const(n.value)]]

    def _Ident(self, n):
        k = self.dim(n.args[0])
        return [[self.ar.one if i == j else self.ar.zero for j in range(k)] for i in range(k)]

    def _Ones(self, n):
        return self.full(self.dim(n.args[0]), self.dim(n.args[1]), self.ar.one)

    def _Zeros(self, n):
        return self.full(self.dim(n.args[0]), self.dim(n.args[1]), self.ar.zero)

    def _Size(self, n):
        size = 1
        for f in ir.dim_factors(n.args[0]):
            size *= self.dim(f)
        return [[self.ar.const(size)]]

    def _Add(self, n):
        out = self(n.args[0])
        for t in n.args[1:]:
            b = self(t)
            out = [[self.ar.add(x, y) for x, y in zip(r1, r2)] for r1, r2 in zip(out, b)]
        return out

    def _MatMul(self, n):
        acc, acc_shape = None, None
        for f in n.args:
            a, s = self(f), f.shape
            if acc is None:
                acc, acc_shape = a, s
            elif acc_shape == (1, 1):
                c = acc[0][0]
                acc, acc_shape = self.map(a, lambda v: self.ar.mul(c, v)), s
            elif s == (1, 1):
                c = a[0][0]
                acc = self.map(acc, lambda v: self.ar.mul(v, c))
            else:
                acc, acc_shape = _matmul(self.ar, acc, a), (acc_shape[0], s[1])
        return acc

    def _Transpose(self, n):
        return _transpose(self(n.args[0]))

    def _Inverse(self, n):
        return _inverse(self.ar, self(n.args[0]))

    def _MatPow(self, n):
        a, k = self(n.args[0]), n.args[1]
        if k < 0:
            a = _inverse(self.ar, a)
        out = a
        for _ in range(abs(k) - 1):
            out = _matmul(self.ar, out, a)
        return out

    def _Trace(self, n):
        a = self(n.args[0])
        return [[_sum(self.ar, [a[i][i] for i in range(len(a))])]]

    def _Det(self, n):
        return [[_det(self.ar, self(n.args[0]))]]

    def _LogDet(self, n):
        return [[self.ar.gen("log", _det(self.ar, self(n.args[0])))]]

    def _Norm(self, n):
        a = self(n.args[0])
        s = _sum(self.ar, [self.ar.mul(v, v) for row in a for v in row])
        return [[self.ar.gen("root", s, 2)]]

    def _Sum(self, n):
        return [[_sum(self.ar, [v for row in self(n.args[0]) for v in row])]]

    def _DiagMat(self, n):
        v = [row[0] for row in self(n.args[0])]
        return [[v[i] if i == j else self.ar.zero for j in range(len(v))] for i in range(len(v))]

    def _DiagVec(self, n):
        a = self(n.args[0])
        return [[a[i][i]] for i in range(len(a))]

    def _pow(self, b: _Frac, e_node, e: _Frac) -> _Frac:
        if isinstance(e_node, ir.Num) or self.ar.is_const(e):
            q = e_node.value if isinstance(e_node, ir.Num) else Fraction(int(e.num.LC), e.k)
            return self.ar.power(b, q)
        # b ** e = exp(e log b)
        return self.ar.exp(self.ar.mul(e, self.ar.gen("log", b)))

    def _Pow(self, n):
        return [[self._pow(self(n.args[0])[0][0], n.args[1], self(n.args[1])[0][0])]]

    def _Func(self, n):
        return self.map(self(n.args[1]), lambda v: self.ar.func(n.name, v))

    def _Hadamard(self, n):
        out = self(n.args[0])
        for f in n.args[1:]:
            b = self(f)
            out = [[self.ar.mul(x, y) for x, y in zip(r1, r2)] for r1, r2 in zip(out, b)]
        return out

    def _HadPow(self, n):
        b, e = self(n.args[0]), self(n.args[1])
        rows, cols = max(len(b), len(e)), max(len(b[0]), len(e[0]))

        def at(m, i, j):
            return m[0][0] if (len(m), len(m[0])) == (1, 1) else m[i][j]
        return [[self._pow(at(b, i, j), n.args[1], at(e, i, j)) for j in range(cols)]
                for i in range(rows)]

    def _Kron(self, n):
        a, b = self(n.args[0]), self(n.args[1])
        rb, cb = len(b), len(b[0])
        return [[self.ar.mul(a[i // rb][j // cb], b[i % rb][j % cb])
                 for j in range(len(a[0]) * cb)] for i in range(len(a) * rb)]

    def _Vec(self, n):
        a = self(n.args[0])
        return [[a[i][j]] for j in range(len(a[0])) for i in range(len(a))]

    def _Commutation(self, n):
        m, k = (self.dim(d) for d in n.args[0].shape)
        size = m * k
        out = self.full(size, size, self.ar.zero)
        out = [list(row) for row in out]
        for i in range(m):
            for j in range(k):
                out[i * k + j][i + j * m] = self.ar.one
        return out

    def _D(self, n):
        raise CheckError("the exact check does not evaluate differentials")


def _exact_assignments(dims: list) -> list:
    """Sizes 2 and 3, as many distinct as possible, then the cheapest, 3s first."""
    import itertools
    k = len(dims)
    if not k:
        return [{}]
    combos = list(itertools.product((3, 2), repeat=min(k, 8)))
    combos = [c + (2,) * (k - len(c)) for c in combos]
    combos.sort(key=lambda c: (-len(set(c)), abs(c.count(3) - 1)))   # stable
    return [dict(zip(dims, c)) for c in combos[:16]]


def _spare_count(nodes, sizes: dict, gdims: dict) -> int:
    """An upper bound on the transcendental generators the trees can need."""
    total = 0
    for n in nodes:
        if isinstance(n, (ir.Func, ir.Pow, ir.HadPow)):
            r, c = n.shape
            try:
                entries = _size_of(r, {**gdims, **sizes}) * _size_of(c, {**gdims, **sizes})
            except KeyError:
                entries = 16
            total += 3 * entries          # b**e: log b, exp(e log b), a root
        elif isinstance(n, (ir.LogDet, ir.Norm)):
            total += 1
    return total


def _exact_work(f, grad, wrt: ir.Sym, tick, status: dict, kind: str = "gradient") -> dict:
    import sympy as sp
    from sympy.polys.domains import ZZ
    from sympy.polys.rings import xring

    if any(isinstance(d, int) and d > EXACT_MAX_SIZE for s in ir.free_syms(f) for d in s.shape):
        return {"kind": "exact", "status": "inconclusive", "sizes": {},
                "message": f"declared sizes above {EXACT_MAX_SIZE} are too large for the exact "
                           f"check (the numeric check stands)"}
    # sizes: 2 or 3, chosen so that f is defined at a sampled point
    rng = Rng(0)
    chosen, faults = None, set()
    with np.errstate(all="ignore"):
        for sizes in _exact_assignments(_dims_of(f)):
            tick()
            hit = _Problem(f, grad, wrt, sizes, faults).search(rng)
            if hit is not None:
                chosen, values = sizes, hit[0]
                break
    if chosen is None:
        raise no_point(faults)
    sizes = chosen
    status["sizes"] = dict(sizes)
    out = {"kind": "exact", "status": "inconclusive", "sizes": dict(sizes)}

    syms = ir.free_syms(f)
    missing = [s.name for s in ir.free_syms(grad) if s.name not in {t.name for t in syms}]
    if missing:
        raise CheckError(f"the gradient uses {', '.join(missing)}, which f does not")
    names, cells = [], {}                 # ring generators: one per independent entry
    for s in syms:
        r, c = _shape_of(s, sizes)
        for i in range(r):
            for j in range(c):
                if s.kind == "symmetric" and j < i:
                    cells[s.name, i, j] = cells[s.name, j, i]
                    continue
                label = s.name if s.kind == "scalar" else (
                    f"{s.name}[{i}]" if s.kind == "vector" else f"{s.name}[{i},{j}]")
                cells[s.name, i, j] = len(names)
                names.append(label)
    shapes_by_name = {s.name: _shape_of(s, sizes) for s in syms}
    gdims = bind_dims(grad, shapes_by_name, _grad_dims(grad, wrt, sizes) if kind == "gradient"
                      else sizes)
    nodes = _unique_nodes(f, grad)
    spare = _spare_count(nodes, sizes, gdims) + 4
    symbols = [sp.Symbol(nm, real=True) for nm in names] + \
        [sp.Dummy(f"t{k}") for k in range(spare)]
    ring, gens = xring(symbols, ZZ)
    ar = _Arith(ring, gens[len(names):], tick)
    matrices = {}
    for s in syms:
        r, c = shapes_by_name[s.name]
        matrices[s.name] = [[_Frac(gens[cells[s.name, i, j]]) for j in range(c)]
                            for i in range(r)]

    if kind != "gradient":
        return _exact_second(ar, matrices, sizes, gdims, f, grad, wrt, kind, gens, cells,
                             shapes_by_name, out, (sp, names, symbols, values, syms))
    fval = _ExactEval(ar, matrices, sizes)(f)[0][0]
    g = _ExactEval(ar, matrices, gdims)(grad)
    w = shapes_by_name[wrt.name]
    if (len(g), len(g[0])) != w:
        out.update(status="failed", message=f"the gradient is {len(g)}x{len(g[0])}, but "
                   f"{wrt.name} is {w[0]}x{w[1]}")
        return out

    undecided = None
    two = ar.const(2)
    for i in range(w[0]):
        for j in range(w[1]):
            if wrt.kind == "symmetric" and j < i:
                continue
            x = gens[cells[wrt.name, i, j]]
            h = ar.d(fval, x)
            if wrt.kind == "symmetric" and i != j:
                checks = [(ar.sub(ar.mul(two, g[i][j]), h), (i, j)),
                          (ar.sub(ar.mul(two, g[j][i]), h), (j, i))]
            else:
                checks = [(ar.sub(g[i][j], h), (i, j))]
            for diff, where in checks:
                verdict = _is_zero_difference(sp, ar, diff, names, symbols, values, syms,
                                              sizes, cells)
                if verdict:
                    continue
                if verdict is False:
                    out.update(status="failed", message=f"entry ({where[0] + 1},{where[1] + 1})"
                               f" of the gradient differs from the partial derivative of f")
                    return out
                if undecided is None:
                    undecided = where
    if undecided is not None:
        out.update(message=f"could not reduce the difference at entry ({undecided[0] + 1},"
                   f"{undecided[1] + 1}) to 0 (the numeric check stands)")
    else:
        out["status"] = "proved"
    return out


def _exact_second(ar, matrices, sizes, gdims, f, res, wrt, kind, gens, cells, shapes_by_name,
                  out, context) -> dict:
    """The exact check of a Jacobian (each entry against the partial derivative of an
    entry of vec F) or a Hessian (each entry against a second partial of f), vec order."""
    sp, names, symbols, values, syms = context
    fv = _ExactEval(ar, matrices, sizes)(f)
    r = _ExactEval(ar, matrices, gdims)(res)
    m, n = shapes_by_name[wrt.name]
    xs = [gens[cells[wrt.name, i, j]] for j in range(n) for i in range(m)]     # vec order
    what = "Jacobian" if kind == "jacobian" else "Hessian"
    if kind == "jacobian":
        if len(xs) == 1:
            want = [[ar.d(v, xs[0]) for v in row] for row in fv]
        else:
            vecf = [fv[i][j] for j in range(len(fv[0])) for i in range(len(fv))]
            want = [[ar.d(v, x) for x in xs] for v in vecf]
    else:
        first = [ar.d(fv[0][0], x) for x in xs]
        want = [[ar.d(g1, x) for x in xs] for g1 in first]
    if (len(r), len(r[0])) != (len(want), len(want[0])):
        out.update(status="failed", message=f"the {what} is {len(r)}x{len(r[0])}, but should "
                   f"be {len(want)}x{len(want[0])}")
        return out
    undecided = None
    for i, row in enumerate(want):
        for j, h in enumerate(row):
            verdict = _is_zero_difference(sp, ar, ar.sub(r[i][j], h), names, symbols, values,
                                          syms, sizes, cells)
            if verdict:
                continue
            if verdict is False:
                out.update(status="failed", message=f"entry ({i + 1},{j + 1}) of the {what} "
                           f"differs from the partial derivative")
                return out
            if undecided is None:
                undecided = (i, j)
    if undecided is not None:
        out.update(message=f"could not reduce the difference at entry ({undecided[0] + 1},"
                   f"{undecided[1] + 1}) to 0 (the numeric check stands)")
    else:
        out["status"] = "proved"
    return out


def _is_zero_difference(sp, ar: _Arith, diff: _Frac, names, symbols, values, syms, sizes,
                        cells):
    """Is the difference of an entry and its exact value 0?  True when it reduces to 0,
    False when it is certainly not 0, None when it may still be 0 (undecided)."""
    if ar.is_zero(diff):
        return True
    diff = _Frac(ar.reduce(diff.num), diff.den, diff.k)
    if ar.is_zero(diff):
        return True
    if not any(diff.num.degree(g.poly) > 0 for g in ar.gens) and \
            not any(ar.atoms[i].degree(g.poly) > 0 for i, _ in diff.den for g in ar.gens):
        return False                    # a nonzero rational function of the entries
    point = {}
    for s in syms:
        r, c = _shape_of(s, sizes)
        for i in range(r):
            for j in range(c):
                point[symbols[cells[s.name, i, j]]] = sp.Float(float(values[s.name][i, j]), 30)
    try:
        expr = ar.to_expr(sp, diff, ar.gen_exprs(sp))
        val = complex(expr.evalf(30, subs=point))
    except (TypeError, ValueError, ZeroDivisionError, ArithmeticError):
        return None
    scale = 1.0 + max((abs(float(v)) for v in point.values()), default=0.0)
    if math.isfinite(val.real) and math.isfinite(val.imag) and abs(val) > 1e-9 * scale:
        return False
    return None


def exact_check(f: ir.Node, grad: ir.Node, wrt, *, timeout: float = 60.0,
                kind: str = "gradient") -> dict:
    """Prove ``grad`` for small concrete sizes (SPEC section 5, ``--exact``).

    Returns ``{"kind": "exact", "status": "proved" | "inconclusive" | "failed" |
    "timeout", "sizes", "seconds"}`` (with a ``"message"`` unless proved); raises
    :class:`CheckError` when no point is found where f is defined.
    """
    wrt = _wrt_sym(f, wrt)
    start = time.perf_counter()
    import sympy  # noqa: F401 - imported here, not in the worker thread
    cancel = threading.Event()
    box: dict = {}
    status: dict = {}

    def tick():
        if cancel.is_set():
            raise _Cancelled()

    def work():
        try:
            box["result"] = _exact_work(f, grad, wrt, tick, status, kind)
        except _Cancelled:
            pass
        except _Undecided as exc:
            box["result"] = {"kind": "exact", "status": "inconclusive",
                             "sizes": status.get("sizes", {}), "message": str(exc)}
        except CheckError as exc:
            box["error"] = exc
        except Exception as exc:          # noqa: BLE001 - reported, never raised in a thread
            box["error"] = CheckError(f"the exact check could not run: "
                                      f"{type(exc).__name__}: {exc}")

    worker = threading.Thread(target=work, name="texderive-exact-check", daemon=True)
    worker.start()
    worker.join(max(0.0, float(timeout) - (time.perf_counter() - start)))
    seconds = round(time.perf_counter() - start, 3)
    if worker.is_alive() or ("result" not in box and "error" not in box):
        cancel.set()
        return {"kind": "exact", "status": "timeout", "sizes": dict(status.get("sizes", {})),
                "seconds": seconds, "message": f"not finished within {timeout:g} s"}
    if "error" in box:
        raise box["error"]
    out = box["result"]
    out["seconds"] = seconds
    return out
