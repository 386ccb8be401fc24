"""The numeric check of a Jacobian or a Hessian (SPEC section 6).

At seeded points where F (or f) is defined, with every size name given a small
size as in the gradient's check (:func:`texderive.check._assignments`):

- a Jacobian: ``J v`` (``J vec V``; ``F′ v`` with respect to a scalar) is
  compared with the directional derivative of ``vec F`` along random
  directions V, by the 5-point stencil with one Richardson step;
- a Hessian: ``vᵀ H w`` is compared with the mixed second difference
  ``(f(x+sv+sw) − f(x+sv−sw) − f(x−sv+sw) + f(x−sv−sw)) / 4s²`` along random
  v, w (Richardson over s and s/2), and H must be symmetric.

The dense J or H is never built by finite differences; it is evaluated twice,
by the IR evaluator and by the ``numpy`` string that ships (which must agree
and have SPEC's NumPy shape), so printed code is checked code.  A result that
would have more than ``MAX_RESULT_ENTRIES`` entries at declared numeric sizes
is refused by the check with a message, never attempted.
"""
from __future__ import annotations

import math

import numpy as np

from . import ir
from .check import (DIRECTIONS, MAX_ENTRIES, NO_POINT, ROUGH, STRATEGIES, TOLERANCE, TRIES,
                    check_budget, no_point,
                    _assignments, _dims_of, _domain_fault, _result, _shape_of, draw_values,
                    _too_large, _unique_nodes)
from .errors import CheckError
from .evaluate import Evaluator, bind_dims
from .printers.numpy import py_name

MAX_RESULT_ENTRIES = 4_000_000        # a dense J or H (32 MB of floats) at the check's sizes
AGREE = 1e-9                          # the numpy string against the IR evaluator


def _vec(a) -> "np.ndarray":
    return np.asarray(a, dtype=float).reshape(-1, order="F")


def numpy_inputs(f: ir.Node, values: dict) -> dict:
    """The inputs in NumPy's layout: a scalar a float, a vector a 1-D array."""
    out = {}
    for s in ir.free_syms(f):
        v = np.asarray(values[s.name], dtype=float)
        if s.kind == "scalar":
            out[py_name(s.name)] = float(v.reshape(-1)[0])
        elif s.kind == "vector":
            out[py_name(s.name)] = v.reshape(-1).copy()
        else:
            out[py_name(s.name)] = v
    return out


def eval_numpy(code: str, f: ir.Node, values: dict):
    """Evaluate a ``numpy`` string texderive printed (never user text) at ``values``."""
    env = numpy_inputs(f, values)
    with np.errstate(all="ignore"):
        return eval(compile(code, "<texderive numpy>", "eval"),  # noqa: S307 - our own code
                    {"__builtins__": {}, "np": np}, env)


def expected_shape(kind: str, f_shape: tuple, x_shape: tuple, f_form: tuple) -> tuple:
    """SPEC section 6's NumPy shape of a result at concrete sizes."""
    nf, nx = f_shape[0] * f_shape[1], x_shape[0] * x_shape[1]
    if kind == "hessian":
        return () if nx == 1 else (nx, nx)
    if nx == 1:                                   # with respect to a scalar: F's own layout
        r, c = f_form
        return (nf,) if (r == 1 or c == 1) else f_shape
    return (nf, nx)


class _Second:
    def __init__(self, f, res, wrt: ir.Sym, kind: str, numpy: str | None, sizes: dict,
                 faults: set):
        self.f, self.res, self.wrt, self.kind, self.numpy = f, res, wrt, kind, numpy
        self.sizes = sizes
        self.syms = ir.free_syms(f)
        self.f_nodes = _unique_nodes(f)
        self.faults = faults        # why points where f has a value were passed over

    def draw(self, strategy: str, rng) -> dict:
        return draw_values(self.syms, self.wrt, self.sizes, strategy, rng)

    def f_at(self, values: dict):
        ev = Evaluator(values, dims=self.sizes)
        fv = ev.value(self.f)
        fault = NO_POINT if not np.all(np.isfinite(fv)) else _domain_fault(ev, self.f_nodes)
        if fault is not None:
            self.faults.add(fault)
            return None
        return fv

    def search(self, rng):
        for strategy in STRATEGIES:
            for _ in range(TRIES):
                values = self.draw(strategy, rng)
                fv = self.f_at(values)
                if fv is not None:
                    return values, fv
        return None

    def f_moved(self, values: dict, direction) -> "np.ndarray":
        moved = dict(values)
        moved[self.wrt.name] = values[self.wrt.name] + direction
        return Evaluator(moved, dims=self.sizes).value(self.f)

    def result_at(self, values: dict, fshape: tuple):
        """The result at a point (NumPy layout), from the numpy string when there is one,
        after checking it against the IR evaluator; (array, problem message or None)."""
        try:
            dims = bind_dims(self.res, {k: v.shape for k, v in values.items()}, self.sizes)
            inner = Evaluator(values, dims=dims).value(self.res)
        except ValueError as exc:
            raise CheckError(f"cannot evaluate the {self.kind}: {exc}") from None
        xs = values[self.wrt.name].shape
        want = expected_shape(self.kind, fshape, xs, self.f.shape)
        inner = np.asarray(inner, dtype=float).reshape(want, order="F") if want else \
            float(np.asarray(inner).reshape(-1)[0])
        if self.numpy is None:
            return inner, None
        try:
            got = eval_numpy(self.numpy, self.f, values)
        except Exception as exc:                  # noqa: BLE001 - reported as a failure
            return inner, f"the numpy form does not evaluate ({type(exc).__name__}: {exc})"
        got_shape = np.shape(got)
        if got_shape != want or (want == () and not isinstance(got, (float, np.floating))):
            return inner, (f"the numpy form has shape {got_shape}, SPEC section 6 asks for "
                           f"{want if want else 'a float'}")
        got = np.asarray(got, dtype=float)
        scale = max(float(np.max(np.abs(inner))) if np.size(inner) else 0.0, 1.0)
        if np.all(np.isfinite(inner)) and float(np.max(np.abs(got - inner))) > AGREE * scale * 1e3:
            return inner, "the numpy form and the derived expression give different numbers"
        return (got if want else float(got)), None


def _stencil(phi, h: float):
    """(value, error estimate) of phi'(0) for a vector-valued phi, or None."""
    d = []
    for step in (h, h / 2):
        p = [phi(t * step) for t in (2, 1, -1, -2)]
        if not all(np.all(np.isfinite(q)) for q in p):
            return None
        d.append((-p[0] + 8 * p[1] - 8 * p[2] + p[3]) / (12 * step))
    return d[1] + (d[1] - d[0]) / 15, float(np.linalg.norm(d[1] - d[0]))


def _mixed(psi, s: float):
    """(value, error estimate) of the mixed second derivative of psi(a, b) at 0."""
    d = []
    for step in (s, s / 2):
        q = [psi(step, step), psi(step, -step), psi(-step, step), psi(-step, -step)]
        if not all(math.isfinite(x) for x in q):
            return None
        d.append((q[0] - q[1] - q[2] + q[3]) / (4 * step * step))
    return d[1] + (d[1] - d[0]) / 3, abs(d[1] - d[0])


def _best(fn, h0: float, good):
    best = None
    for h in (h0, h0 / 4, h0 * 4):
        est = fn(h)
        if est is None:
            continue
        if best is None or est[1] < best[1]:
            best = est
        if good(best):
            break
    return best


def _size(d, sizes: dict) -> int:
    """A dimension (a name, a product "m*n" or an int) at the check's sizes."""
    out = 1
    for f in ir.dim_factors(d):
        out *= f if isinstance(f, int) else sizes[f]
    return out


def _direction(shape: tuple, rng) -> "np.ndarray":
    v = rng.standard_normal(shape)
    return v / np.linalg.norm(v)


def numeric_check_second(f, res, wrt: ir.Sym, kind: str, numpy: str | None, points: int,
                         seed: int, rng) -> dict:
    big = _too_large(f, MAX_ENTRIES)
    if big:
        raise CheckError(f"the declared sizes are too large for the numeric check ({big})")
    what = "Jacobian" if kind == "jacobian" else "Hessian"
    faults = set()
    for sizes in _assignments(_dims_of(f), rng):
        prob = _Second(f, res, wrt, kind, numpy, sizes, faults)
        xs = _shape_of(wrt, sizes)
        try:
            fshape = tuple(_size(d, sizes) for d in f.shape)
        except KeyError:
            continue
        nx, nf = xs[0] * xs[1], fshape[0] * fshape[1]
        entries = nx * nx if kind == "hessian" else nf * nx
        if entries > MAX_RESULT_ENTRIES:
            raise CheckError(f"the {what} has {entries} entries at the declared sizes, more "
                             f"than the numeric check builds ({MAX_RESULT_ENTRIES}); declare "
                             f"the sizes by name (e.g. 'X: matrix m n') to check it at small "
                             f"sizes")
        check_budget(f, res, sizes)             # the gradient check's time and memory budget
        errors, found, attempts, rough, asym = [], 0, 0, [], 0.0
        while found < points and attempts < 4 * points:
            attempts += 1
            hit = prob.search(rng)
            if hit is None:
                break
            values, fv = hit
            r, problem = prob.result_at(values, fshape)
            if problem is not None:
                return _result(0, 2.0, seed, sizes, problem)
            if not np.all(np.isfinite(r)):
                continue
            x = values[wrt.name]
            h0 = 1e-3 * max(1.0, float(np.sqrt(np.mean(x ** 2))))
            errs, smooth = [], True
            for _ in range(DIRECTIONS):
                if kind == "jacobian":
                    v = _direction(xs, rng)
                    ana = _vec(r) * float(v.reshape(-1)[0]) if nx == 1 else np.asarray(r) @ _vec(v)
                    floor = 1e-6 * (1.0 + float(np.linalg.norm(fv)))
                    fd = _best(lambda h: _stencil(lambda t: _vec(prob.f_moved(values, t * v)), h),
                               h0, lambda b: b[1] <= 1e-9 * max(float(np.linalg.norm(b[0])), floor))
                    if fd is None:
                        break
                    num = fd[0]
                    err = float(np.linalg.norm(num - ana)) / max(
                        float(np.linalg.norm(num)), float(np.linalg.norm(ana)), floor,
                        10 * fd[1] / TOLERANCE)
                    smooth = smooth and fd[1] <= ROUGH * max(float(np.linalg.norm(num)), floor)
                else:
                    v, w = _direction(xs, rng), _direction(xs, rng)
                    ana = float(r) * float(v.reshape(-1)[0]) * float(w.reshape(-1)[0]) \
                        if nx == 1 else float(_vec(v) @ np.asarray(r) @ _vec(w))
                    f0 = float(np.asarray(fv).reshape(-1)[0])
                    floor = 1e-6 * (1.0 + abs(f0))

                    def psi(a, b, v=v, w=w):
                        return float(np.asarray(prob.f_moved(values, a * v + b * w)).reshape(-1)[0])
                    fd = _best(lambda s: _mixed(psi, s), 2 * h0,
                               lambda b: b[1] <= 1e-8 * max(abs(b[0]), floor))
                    if fd is None:
                        break
                    num = fd[0]
                    err = abs(num - ana) / max(abs(num), abs(ana), floor, 10 * fd[1] / TOLERANCE)
                    smooth = smooth and fd[1] <= 1e3 * ROUGH * max(abs(num), floor)
                errs.append(err)
            else:
                if not smooth:
                    rough.append(errs)
                    continue
                errors.extend(errs)
                found += 1
                if kind == "hessian" and nx > 1:
                    h = np.asarray(r)
                    asym = max(asym, float(np.linalg.norm(h - h.T))
                               / max(float(np.linalg.norm(h)), 1e-12))
        if not found and rough:
            errors, found = [e for errs in rough for e in errs], len(rough)
        if found:
            reason = None
            if asym > 1e-8:
                reason = "the Hessian is not symmetric"
            out = _result(found, min(max(errors + [asym]), 2.0), seed, sizes, reason)
            if "reason" in out and reason is None:
                out["reason"] = (f"the {what} differs from finite differences (relative "
                                 f"error {out['max_rel_error']:.3g})")
            out["what"] = kind
            return out
    raise no_point(faults)
