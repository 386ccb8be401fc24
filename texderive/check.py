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
for square matrices); uniform positive.  A point is accepted when ``f`` and
the gradient are finite there, every argument of ``inv``/``det``/``logdet``
(and of a negative matrix power) has a condition number below 1e6, every
``logdet`` argument has a positive determinant, and every argument of
``log``, ``sqrt``, a fractional power, ``abs``, ``norm`` or an elementwise
reciprocal is safely inside its domain.  A variable declared symmetric gets a
symmetric value.  All randomness comes from ``numpy.random.default_rng(seed)``.

``exact_check(f, grad, wrt)`` gives each dimension a size 2 or 3 (distinct
where it can, chosen so that f is defined at a sampled point), builds
matrices of SymPy symbols, evaluates f and the gradient on them and compares
the gradient, entry by entry, with the partial derivatives of f, reducing
each difference with ``cancel``/``together`` (never ``simplify``).  A
difference that does not reduce to 0 is a failure when it is a rational
function or clearly nonzero at the sampled point, and "inconclusive"
otherwise.  The work runs in a worker thread under a time budget.
"""
from __future__ import annotations

import math
import threading
import time

import numpy as np

from . import ir
from .errors import CheckError
from .evaluate import Evaluator, bind_dims

TOLERANCE = 1e-5
COND_MAX = 1e6
STRATEGIES = ("normal", "positive", "shifted", "uniform")
TRIES = 3                 # draws per strategy before the next one
DIRECTIONS = 2            # random directions per point
MARGIN = 1e-3             # distance kept from the edge of a domain (log, sqrt, 1/x, abs)
NO_POINT = "no point found where f is defined"


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


def _domain_ok(ev: Evaluator, nodes) -> bool:
    """Whether every sub-expression of f is safely inside its domain at this point."""
    for n in nodes:
        if isinstance(n, (ir.Inverse, ir.Det, ir.LogDet)) or \
                (isinstance(n, ir.MatPow) and n.args[1] < 0):
            a = ev.value(n.args[0])
            if not np.all(np.isfinite(a)):
                return False
            if a.shape == (1, 1):
                if abs(a[0, 0]) < MARGIN:
                    return False
            elif np.linalg.cond(a) >= COND_MAX:
                return False
            if isinstance(n, ir.LogDet) and np.linalg.slogdet(a)[0] <= 0:
                return False
        elif isinstance(n, ir.Func):
            a = ev.value(n.args[1])
            if n.name in ("log", "sqrt") and not np.all(a > MARGIN):
                return False
            if n.name == "abs" and not np.all(np.abs(a) > MARGIN):
                return False
            if n.name == "tan" and not np.all(np.abs(np.cos(a)) > 1e-2):
                return False
        elif isinstance(n, (ir.Pow, ir.HadPow)):
            base, exp = n.args
            b = ev.value(base)
            if isinstance(exp, ir.Num) and exp.value.denominator == 1:
                if exp.value < 0 and not np.all(np.abs(b) > MARGIN):
                    return False
            elif not np.all(b > MARGIN):
                return False
        elif isinstance(n, ir.Norm):
            if not ev.value(n)[0, 0] > MARGIN:
                return False
    return True


def _scalar(a) -> float:
    return float(a[0, 0])


class _Problem:
    """f, its gradient and wrt, with the sizes of one assignment."""

    def __init__(self, f, grad, wrt: ir.Sym, sizes: dict):
        self.f, self.grad, self.wrt, self.sizes = f, grad, wrt, sizes
        self.syms = ir.free_syms(f)
        self.f_nodes = _unique_nodes(f)
        self.grad_extra = _grad_dims(grad, wrt, sizes)

    def draw(self, strategy: str, rng) -> dict:
        return {s.name: _sample(s, _shape_of(s, self.sizes), strategy, rng) for s in self.syms}

    def f_at(self, values: dict):
        """(f, Evaluator) at a point, f None when the point is outside f's domain."""
        ev = Evaluator(values, dims=self.sizes)
        fv = _scalar(ev.value(self.f))
        if not math.isfinite(fv) or not _domain_ok(ev, self.f_nodes):
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

    def search(self, rng, start: int = 0):
        """The first point (values, f, ev) where f is defined, trying the strategies in order."""
        for strategy in STRATEGIES[start:]:
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
    """The directional derivative of f along v: 5-point stencil plus one Richardson step."""
    x = values[prob.wrt.name]
    h = 1e-3 * max(1.0, float(np.sqrt(np.mean(x ** 2))))
    floor = 1e-6 * (1.0 + abs(fv))
    best = None
    for _ in range(3):
        d = []
        for step in (h, h / 2):
            p = [prob.phi(values, v, t * step) for t in (2, 1, -1, -2)]
            if not all(math.isfinite(q) for q in p):
                return None
            d.append((-p[0] + 8 * p[1] - 8 * p[2] + p[3]) / (12 * step))
        best = d[1] + (d[1] - d[0]) / 15
        if abs(d[1] - d[0]) <= 1e-7 * max(abs(d[1]), floor):
            break
        h /= 8
    return best


def _rel(a: float, b: float, floor: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), floor)


# ---------------------------------------------------------------------------
# the numeric check

def numeric_check(f: ir.Node, grad: ir.Node, wrt, *, points: int = 3, seed: int = 0) -> dict:
    """Compare ``grad`` with finite differences of ``f`` at seeded points (SPEC section 5).

    Returns ``{"kind": "numeric", "points", "max_rel_error", "passed", "seed"}``
    (with ``"sizes"``, and a ``"reason"`` when it did not pass); raises
    :class:`CheckError` when no point is found where f is defined.
    """
    wrt = _wrt_sym(f, wrt)
    rng = np.random.default_rng(seed)
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


def _numeric(f, grad, wrt: ir.Sym, points: int, seed: int, rng) -> dict:
    undefined_grad = None
    for sizes in _assignments(_dims_of(f), rng):
        prob = _Problem(f, grad, wrt, sizes)
        errors, asym, found, attempts = [], 0.0, 0, 0
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
            floor = 1e-6 * (1.0 + abs(fv))
            errs = []
            for _ in range(DIRECTIONS):
                v = _direction(wrt, want, rng)
                num = _directional(prob, values, v, fv)
                if num is None:
                    break
                errs.append(_rel(num, float(np.sum(g * v)), floor))
            else:
                errors.extend(errs)
                found += 1
                if wrt.kind == "symmetric":
                    asym = max(asym, float(np.linalg.norm(g - g.T))
                               / max(float(np.linalg.norm(g)), floor))
        if found:
            reason = None
            if asym > TOLERANCE:
                reason = (f"the gradient with respect to the symmetric {wrt.name} is not "
                          f"symmetric (SPEC: G = (H + H')/2)")
            return _result(found, min(max(errors + [asym]), 2.0), seed, sizes, reason)
    if undefined_grad is not None:
        return _result(0, 2.0, seed, undefined_grad,
                       "the gradient is not finite at points where f is defined")
    raise CheckError(NO_POINT)


# ---------------------------------------------------------------------------
# the exact check

class _Cancelled(Exception):
    pass


def _exact_assignments(dims: list) -> list:
    """Sizes 2 and 3, as many distinct as possible, then the cheapest, 3s first."""
    import itertools
    k = len(dims)
    if not k:
        return [{}]
    combos = list(itertools.product((3, 2), repeat=min(k, 8)))
    combos = [c + (2,) * (k - len(c)) for c in combos]

    def key(c):
        return (-len(set(c)), abs(c.count(3) - 1))
    combos.sort(key=key)          # stable: among equals, the order of product (3s first)
    return [dict(zip(dims, c)) for c in combos[:16]]


class _SymEval:
    """SymPy matrices for the nodes of a tree (one function per node class)."""

    def __init__(self, sp, symbols: dict, dims: dict, tick):
        self.sp, self.symbols, self.dims, self.tick = sp, symbols, dims, tick
        self.memo: dict = {}
        self.table = {cls: getattr(self, "_" + cls.__name__) for cls in ir.NODE_CLASSES}

    def __call__(self, node):
        m = self.memo.get(node)
        if m is None:
            self.tick()
            m = self.table[type(node)](node)
            self.memo[node] = m
        return m

    def dim(self, d) -> int:
        if isinstance(d, int):
            return d
        if d not in self.dims:
            raise CheckError(f"the size of dimension {d} is not known")
        return self.dims[d]

    def s(self, e):
        return self.sp.Matrix([[e]])

    def _Sym(self, n):
        return self.symbols[n.name]

    def _Num(self, n):
        return self.s(self.sp.Rational(n.value.numerator, n.value.denominator))

    def _Ident(self, n):
        return self.sp.eye(self.dim(n.args[0]))

    def _Ones(self, n):
        return self.sp.ones(self.dim(n.args[0]), self.dim(n.args[1]))

    def _Zeros(self, n):
        return self.sp.zeros(self.dim(n.args[0]), self.dim(n.args[1]))

    def _Add(self, n):
        out = self(n.args[0])
        for t in n.args[1:]:
            out = out + self(t)
        return out

    def _MatMul(self, n):
        acc, acc_shape = None, None
        for f in n.args:
            a, s = self(f), f.shape
            if acc is None:
                acc, acc_shape = a, s
            elif acc_shape == (1, 1):
                acc, acc_shape = a * acc[0, 0], s
            elif s == (1, 1):
                acc = acc * a[0, 0]
            else:
                acc, acc_shape = acc * a, (acc_shape[0], s[1])
            self.tick()
        return acc

    def _Transpose(self, n):
        return self(n.args[0]).T

    def _inverse(self, a):
        if a.shape == (1, 1):
            return self.s(1 / a[0, 0])
        det = self.sp.expand(a.det(method="berkowitz"))
        if det == 0:
            raise CheckError("a matrix to invert is singular at these sizes")
        adj = a.adjugate(method="berkowitz").applyfunc(self.sp.expand)
        return adj / det

    def _Inverse(self, n):
        return self._inverse(self(n.args[0]))

    def _MatPow(self, n):
        a, k = self(n.args[0]), n.args[1]
        if k < 0:
            a = self._inverse(a)
        out = a
        for _ in range(abs(k) - 1):
            out = out * a
            self.tick()
        return out

    def _Trace(self, n):
        return self.s(self(n.args[0]).trace())

    def _Det(self, n):
        return self.s(self.sp.expand(self(n.args[0]).det(method="berkowitz")))

    def _LogDet(self, n):
        return self.s(self.sp.log(self.sp.expand(self(n.args[0]).det(method="berkowitz"))))

    def _Norm(self, n):
        a = self(n.args[0])
        return self.s(self.sp.sqrt(sum(e ** 2 for e in a)))

    def _Sum(self, n):
        return self.s(sum(self(n.args[0])))

    def _DiagMat(self, n):
        a = self(n.args[0])
        return self.sp.diag(*[a[i, 0] for i in range(a.rows)])

    def _DiagVec(self, n):
        a = self(n.args[0])
        return self.sp.Matrix([[a[i, i]] for i in range(a.rows)])

    def _Pow(self, n):
        return self.s(self(n.args[0])[0, 0] ** self(n.args[1])[0, 0])

    def _func(self, name):
        sp = self.sp
        if name == "sigmoid":
            return lambda x: 1 / (1 + sp.exp(-x))
        return {"log": sp.log, "exp": sp.exp, "sqrt": sp.sqrt, "sin": sp.sin, "cos": sp.cos,
                "tan": sp.tan, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
                "abs": sp.Abs}[name]

    def _Func(self, n):
        return self(n.args[1]).applyfunc(self._func(n.name))

    def _Hadamard(self, n):
        out = self(n.args[0])
        for f in n.args[1:]:
            out = out.multiply_elementwise(self(f))
        return out

    def _HadPow(self, n):
        b, e = self(n.args[0]), self(n.args[1])
        rows, cols = max(b.rows, e.rows), max(b.cols, e.cols)

        def at(m, i, j):
            return m[0, 0] if m.shape == (1, 1) else m[i, j]
        return self.sp.Matrix(rows, cols, lambda i, j: at(b, i, j) ** at(e, i, j))

    def _D(self, n):
        raise CheckError("the exact check does not evaluate differentials")


def _symbol_matrices(sp, syms, sizes: dict) -> dict:
    out = {}
    for s in syms:
        r, c = _shape_of(s, sizes)
        if s.kind == "scalar":
            out[s.name] = sp.Matrix([[sp.Symbol(s.name, real=True)]])
        elif s.kind == "vector":
            out[s.name] = sp.Matrix([[sp.Symbol(f"{s.name}[{i}]", real=True)] for i in range(r)])
        elif s.kind == "symmetric":
            cells = {}
            for i in range(r):
                for j in range(i, r):
                    cells[i, j] = cells[j, i] = sp.Symbol(f"{s.name}[{i},{j}]", real=True)
            out[s.name] = sp.Matrix(r, r, lambda i, j: cells[i, j])
        else:
            out[s.name] = sp.Matrix(r, c, lambda i, j: sp.Symbol(f"{s.name}[{i},{j}]", real=True))
    return out


def _normalise_args(sp, e):
    """Bring the arguments of functions and fractional powers to one canonical form."""
    def is_target(a):
        return isinstance(a, sp.Function) or (a.is_Pow and not a.exp.is_Integer)
    return e.replace(is_target, lambda a: a.func(*[sp.cancel(x) for x in a.args]))


def _is_zero(sp, d, point: dict, tick):
    """True if d reduces to 0, False if it is certainly not 0, None if undecided."""
    if d == 0:
        return True
    r = sp.cancel(sp.together(d))
    if r == 0:
        return True
    if r.is_rational_function():
        return False
    tick()
    for attempt in (lambda: sp.cancel(sp.together(_normalise_args(sp, d))),
                    lambda: sp.cancel(sp.powsimp(sp.expand(
                        _normalise_args(sp, d.rewrite(sp.exp)), mul=False, multinomial=False,
                        power_exp=True, power_base=False, log=False), combine="exp"))):
        if attempt() == 0:
            return True
        tick()
    try:
        val = complex(sp.N(d.subs(point), 30))
        scale = 1.0 + max((abs(float(v)) for v in point.values()), default=0.0)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if math.isfinite(val.real) and math.isfinite(val.imag) and abs(val) > 1e-9 * scale:
        return False
    return None


def _exact_work(f, grad, wrt: ir.Sym, tick) -> dict:
    import sympy as sp

    # sizes: 2 or 3, chosen so that f is defined at a sampled point
    rng = np.random.default_rng(0)
    chosen = None
    with np.errstate(all="ignore"):
        for sizes in _exact_assignments(_dims_of(f)):
            tick()
            hit = _Problem(f, grad, wrt, sizes).search(rng)
            if hit is not None:
                chosen, values = sizes, hit[0]
                break
    if chosen is None:
        raise CheckError(NO_POINT)
    sizes = chosen
    out = {"kind": "exact", "status": "inconclusive", "sizes": dict(sizes)}

    syms = ir.free_syms(f)
    symbols = _symbol_matrices(sp, syms, sizes)
    point = {}
    for s in syms:
        m, v = symbols[s.name], values[s.name]
        for i in range(m.rows):
            for j in range(m.cols):
                point[m[i, j]] = sp.Float(float(v[i, j]), 30)

    fval = _SymEval(sp, symbols, sizes, tick)(f)[0, 0]
    missing = [s.name for s in ir.free_syms(grad) if s.name not in symbols]
    if missing:
        raise CheckError(f"the gradient uses {', '.join(missing)}, which f does not")
    gdims = bind_dims(grad, {k: m.shape for k, m in symbols.items()},
                      _grad_dims(grad, wrt, sizes))
    g = _SymEval(sp, symbols, gdims, tick)(grad)
    w = symbols[wrt.name]
    if g.shape != w.shape:
        out.update(status="failed", message=f"the gradient is {g.rows}x{g.cols}, but "
                   f"{wrt.name} is {w.rows}x{w.cols}")
        return out

    pairs = []               # (entry of G, the partial derivative it must equal, where)
    for i in range(w.rows):
        for j in range(w.cols):
            if wrt.kind == "symmetric":
                if j < i:
                    continue
                h = sp.diff(fval, w[i, j])
                if i == j:
                    pairs.append((g[i, i], h, (i, i)))
                else:
                    pairs.append((g[i, j], h / 2, (i, j)))
                    pairs.append((g[j, i], h / 2, (j, i)))
            else:
                pairs.append((g[i, j], sp.diff(fval, w[i, j]), (i, j)))
            tick()

    undecided = []
    for ge, he, (i, j) in pairs:
        tick()
        z = _is_zero(sp, ge - he, point, tick)
        if z is False:
            out.update(status="failed", message=f"entry ({i + 1},{j + 1}) of the gradient "
                       f"differs from the partial derivative of f")
            return out
        if z is None:
            undecided.append((i, j))
    if undecided:
        i, j = undecided[0]
        out.update(status="inconclusive", message=f"could not reduce the difference at entry "
                   f"({i + 1},{j + 1}) to 0 (the numeric check stands)")
    else:
        out["status"] = "proved"
    return out


def exact_check(f: ir.Node, grad: ir.Node, wrt, *, timeout: float = 60.0) -> dict:
    """Prove ``grad`` for small concrete sizes with SymPy (SPEC section 5, ``--exact``).

    Returns ``{"kind": "exact", "status": "proved" | "inconclusive" | "failed" |
    "timeout", "sizes", "seconds"}`` (with a ``"message"`` unless proved); raises
    :class:`CheckError` when no point is found where f is defined.
    """
    wrt = _wrt_sym(f, wrt)
    start = time.perf_counter()
    cancel = threading.Event()
    box: dict = {}

    def tick():
        if cancel.is_set():
            raise _Cancelled()

    def work():
        try:
            box["result"] = _exact_work(f, grad, wrt, tick)
        except _Cancelled:
            pass
        except CheckError as exc:
            box["error"] = exc
        except Exception as exc:          # noqa: BLE001 - reported, never raised in a thread
            box["error"] = CheckError(f"the exact check could not run: "
                                      f"{type(exc).__name__}: {exc}")

    worker = threading.Thread(target=work, name="texderive-exact-check", daemon=True)
    worker.start()
    worker.join(max(0.0, float(timeout)))
    seconds = round(time.perf_counter() - start, 3)
    if worker.is_alive() or ("result" not in box and "error" not in box):
        cancel.set()
        shown = f"{timeout:g}"
        return {"kind": "exact", "status": "timeout", "sizes": {}, "seconds": seconds,
                "message": f"not finished within {shown} s"}
    if "error" in box:
        raise box["error"]
    out = box["result"]
    out["seconds"] = seconds
    return out
