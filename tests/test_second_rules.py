"""The vectorisation table of SPEC section 6 (texderive/second.py ``VEC_FORMS``), one row per
rule: a term linear in dX, the matrix M with vec(term) = M vec(dX) as text, and the term
computed by hand in NumPy, so that ``M vec(V)`` is compared with ``vec(term at dX = V)`` on
non-square shapes (a wrong K or a swapped Kronecker factor fails).
"""
from __future__ import annotations

import numpy as np
import pytest

from texderive import ir, notation, shapes
from texderive.engine import Ctx, Engine
from texderive.evaluate import evaluate
from texderive.printers.text import to_text
from texderive.second import Vectoriser, tidy

LET = {"X": "matrix m n", "A": "matrix p m", "B": "matrix n q", "C": "matrix n m", "D": "matrix p n",
       "a": "vector m", "b": "vector n", "c": "vector p", "x": "vector m",
       "M": "matrix m n", "W": "matrix m m"}
SIZES = {"m": 3, "n": 2, "p": 4, "q": 5}


def vec(a):
    return np.asarray(a, dtype=float).reshape(-1, order="F")


def _with_d(node, wrt):
    """The tree with the variable replaced by its differential."""
    if node == wrt:
        return ir.D(wrt)
    if not isinstance(node, ir.Node) or not node.children:
        return node
    return node.rebuild(*[_with_d(a, wrt) if isinstance(a, ir.Node) else a for a in node.args])


# rule, term (the variable stands for its differential), wrt, M as text, the term in NumPy
TABLE = [
    ("kron_vec", "A*X*B", "X", "kron(B', A)", lambda v, V: v["A"] @ V @ v["B"]),
    ("kron_vec", "A*X", "X", "kron(I, A)", lambda v, V: v["A"] @ V),
    ("kron_vec", "X*B", "X", "kron(B', I)", lambda v, V: V @ v["B"]),
    ("commutation", "X'", "X", "commutation(X)", lambda v, V: V.T),
    ("commutation", "D*X'", "X", "kron(I, D)*commutation(X)", lambda v, V: v["D"] @ V.T),
    ("vec_hadamard", "M .* X", "X", "diag(vec(M))", lambda v, V: v["M"] * V),
    ("vec_hadamard", "a .* x", "x", "diag(a)", lambda v, V: v["a"] * V),
    ("vec_outer", "c*tr(C*X)", "X", "c*vec(C')'", lambda v, V: v["c"] * np.trace(v["C"] @ V)),
    ("vec_trace", "a*(b'*X'*a)", "X", "a*vec(a*b')'", lambda v, V: v["a"] * (v["b"] @ V.T @ v["a"])),
    ("vec_diag", "diag(x)", "x", "diag(vec(I))*kron(ones, I)", lambda v, V: np.diag(V)),
    ("vec_diag", "diag(x)*W", "x", None, lambda v, V: np.diag(V) @ v["W"]),
    ("vec_diag", "diag(X*C)", "X", None, lambda v, V: np.diag(V @ v["C"])),
]


def _sample(rng):
    out = {}
    for name, decl in LET.items():
        kind, dims = shapes.parse_declaration(name, decl)
        shape = tuple(SIZES[d] for d in dims)
        out[name] = rng.standard_normal(shape)
    return out


@pytest.mark.parametrize("rule, src, wrt_name, text, term_np", TABLE)
def test_vec_table(rule, src, wrt_name, text, term_np):
    tree = shapes.elaborate(notation.parse(src), src, shapes.parse_let(LET), scalar=False)
    wrt = next(s for s in ir.free_syms(tree) if s.name == wrt_name)
    eng = Engine(tree, Ctx(wrt))
    v = Vectoriser(eng, tree)
    m = tidy(v.vecform(_with_d(tree, wrt)))
    assert rule in v.used
    if text is not None:
        assert to_text(m) == text
    rng = np.random.default_rng(1)
    vals = _sample(rng)
    V = rng.standard_normal(vals[wrt_name].shape)
    got = evaluate(m, vals, dims=SIZES) @ vec(V)
    want = vec(term_np(vals, V))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)
