"""Property tests of SPEC section 6: random vector- and matrix-valued F (Jacobians) and
random scalar f (Hessians), each built with its own NumPy function by the strategy of
test_properties.py, so the truth never comes from texderive.

(a) Jacobians: ``result.numpy`` equals the finite-difference Jacobian of vec F
    (column-major; F's own shape with respect to a scalar), or derive refuses
    with a TexderiveError (a symmetric variable must be refused, by name);
(b) Hessians: ``vᵀ H w`` from ``result.numpy`` equals the mixed second
    difference of f along random v, w, H is symmetric and has SPEC's shape,
    or derive refuses.

Each runs ``EXAMPLES`` generated problems under the profile test_properties.py
loads (``ci``: derandomized).
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, event, given, note, settings
from hypothesis import strategies as st

from test_properties import (LET, VARIABLES, _anchored, _mentions, as_2d, assume_tame,
                             eval_numpy, exprs, join, problems, sample_point)
from texderive import TexderiveError, derive

EXAMPLES = 450
F_SHAPES = (("n", 1), ("n", "p"), (1, "n"), ("n", "n"), ("p", 1))


def vec(a):
    return np.asarray(a, dtype=float).reshape(-1, order="F")


@st.composite
def jacobian_problems(draw, depth: int = 3):
    shape = draw(st.sampled_from(F_SHAPES))
    # F's own sizes must be fixed by its content: ones*Y alone may be 1xp (issue 12's I,
    # ones and zeros are drawn anywhere by exprs)
    e = _anchored(draw, draw(exprs(shape, depth)))
    present = [n for n in VARIABLES if _mentions(e.text, n)]
    assume(present)
    wrt = draw(st.sampled_from(present))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    return e, wrt, seed


def _f(e, values):
    with np.errstate(all="ignore"):
        return np.asarray(e.fn(as_2d(values)), dtype=float)


def fd_jacobian(e, values, wrt, h=1e-3):
    x0 = values[wrt]
    size = int(np.size(x0))
    cols = []
    for k in range(size):
        d = np.zeros(size)
        d[k] = 1.0
        d = d.reshape(np.shape(x0), order="F") if np.ndim(x0) else 1.0

        def at(t, d=d):
            moved = dict(values)
            moved[wrt] = x0 + t * d
            return vec(_f(e, moved))
        d1 = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
        h2 = h / 2
        d2 = (-at(2 * h2) + 8 * at(h2) - 8 * at(-h2) + at(-2 * h2)) / (12 * h2)
        cols.append(d2 + (d2 - d1) / 15)
    return np.column_stack(cols)


@settings(max_examples=EXAMPLES)
@given(jacobian_problems())
def test_jacobian_matches_finite_differences(problem):
    e, wrt, seed = problem
    note(f"F = {e.text}   wrt {wrt}")
    values = sample_point(seed)
    f0 = _f(e, values)
    assume(np.all(np.isfinite(f0)) and float(np.max(np.abs(f0))) < 1e4)
    try:
        d = derive(e.text, wrt=wrt, let=LET)
    except TexderiveError as exc:
        note(f"refused: {exc}")
        event("refused: " + ("symmetric" if "symmetric" in str(exc) else type(exc).__name__))
        if LET[wrt].startswith("symmetric"):
            assert "symmetric" in str(exc)
        return
    assert not LET[wrt].startswith("symmetric"), "a symmetric wrt must be refused"
    if d.result_kind == "gradient":          # F turned out 1x1 (e.g. p = 1 is not possible)
        return
    assert d.result_kind == "jacobian"
    code = d.result_numpy
    note(f"result.numpy = {code}")
    got = eval_numpy(code, values)
    want = fd_jacobian(e, values, wrt)
    assume(np.all(np.isfinite(want)))
    if np.ndim(values[wrt]) == 0:
        fshape = np.shape(vec(f0)) if 1 in e.shape else np.shape(f0)
        assert got.shape == fshape, (got.shape, fshape)
        want = want.reshape(fshape, order="F")
    else:
        assert got.shape == want.shape, (got.shape, want.shape)
    scale = max(1.0, float(np.max(np.abs(want))))
    err = float(np.max(np.abs(got - want))) / scale
    note(f"max rel error {err:.3g}")
    assert err < 1e-5
    event("jacobian checked against finite differences")


def mixed(values, terms, wrt, v, w, s):
    from test_properties import f_value

    def at(a, b):
        moved = dict(values)
        moved[wrt] = values[wrt] + a * v + b * w
        return f_value(terms, moved)
    out = []
    for step in (s, s / 2):
        out.append((at(step, step) - at(step, -step) - at(-step, step) + at(-step, -step))
                   / (4 * step * step))
    return out[1] + (out[1] - out[0]) / 3, abs(out[1] - out[0])


@settings(max_examples=EXAMPLES)
@given(problems())
def test_hessian_matches_second_differences(problem):
    terms, wrt, seed = problem
    text = join(terms)
    note(f"f = {text}   wrt {wrt}")
    values = sample_point(seed)
    f0 = assume_tame(terms, values)
    try:
        d = derive(text, wrt=wrt, let=LET, hessian=True)
    except TexderiveError as exc:
        note(f"refused: {exc}")
        event("refused: " + ("symmetric" if "symmetric" in str(exc) else type(exc).__name__))
        if LET[wrt].startswith("symmetric"):
            assert "symmetric" in str(exc)
        return
    assert not LET[wrt].startswith("symmetric")
    assert d.result_kind == "hessian"
    code = d.result_numpy
    note(f"result.numpy = {code}")
    with np.errstate(all="ignore"):
        h = eval(code, {"np": np, **values})            # noqa: S307 - texderive's own code
    x0 = values[wrt]
    rng = np.random.default_rng(seed ^ 0xBEEF)
    if np.ndim(x0) == 0:
        assert isinstance(h, float), type(h)
        v = w = 1.0
        ana = h
    else:
        n = int(np.size(x0))
        h = np.asarray(h, dtype=float)
        assert h.shape == (n, n)
        assume(np.all(np.isfinite(h)))
        scale_h = max(1.0, float(np.max(np.abs(h))))
        assert float(np.max(np.abs(h - h.T))) <= 1e-8 * scale_h, "H is symmetric"
        v = rng.standard_normal(np.shape(x0))
        w = rng.standard_normal(np.shape(x0))
        v, w = v / np.linalg.norm(v), w / np.linalg.norm(w)
        ana = float(vec(v) @ h @ vec(w))
    assume(math.isfinite(ana))
    num, est = mixed(values, terms, wrt, v, w, 1e-2)
    assume(math.isfinite(num) and est < 1e-4 * max(1.0, abs(num)))   # differences reliable here
    err = abs(num - ana) / max(1.0, abs(num), abs(ana), 1e-3 * abs(f0))
    note(f"num {num!r} ana {ana!r} err {err:.3g}")
    assert err < 1e-4
    event("hessian checked against second differences")
