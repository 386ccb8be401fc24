"""One table per rule: the input notation in, the rewrite out (``d(...)`` is the differential).

Each differential rule is called on the argument P of d(P) and must return the
text on the right, or None where its guard does not hold (the non-match rows).
"""
import re

import pytest

from texderive import engine, ir, notation, rules, shapes
from texderive.engine import Ctx, Engine
from texderive.printers.text import to_text

LET = {"X": "matrix n n", "A": "matrix n n", "B": "matrix n n", "x": "vector n", "a": "vector n",
       "Y": "matrix n n", "alpha": "scalar"}


def tree(s):
    return shapes.elaborate(notation.parse(s), s, shapes.parse_let(LET), scalar=False)


def apply(rule_id, src):
    """The rewrite of d(src) by rule_id, as text (None when the rule does not apply)."""
    p = tree(src)
    names = {s.name: s for s in ir.free_syms(p)}
    wrt = next((names[n] for n in ("X", "x", "alpha") if n in names), ir.Sym("X", "matrix", "n", "n"))
    eng = Engine(p if p.shape == (1, 1) else ir.Trace(p) if p.shape[0] == p.shape[1] else p, Ctx(wrt))
    outs = [fn(eng, p, {"removed": []}) for rid, fn in engine.D_RULES if rid == rule_id]
    outs = [o for o in outs if o is not None]
    return to_text(outs[0]) if outs else None


TABLE = [
    # rule, P in d(P), d(P) rewritten  (None: the guard does not hold)
    ("constant", "A", "zeros"),
    ("constant", "A*B", "zeros"),
    ("constant", "tr(A)", "0"),
    ("constant", "X", None),
    ("constant", "A*X", None),
    ("linearity", "A + X", "d(X)"),                 # a constant term drops at once
    ("linearity", "2*X + X'", "2*d(X) + d(X')"),
    ("linearity", "2*X", "2*d(X)"),
    ("linearity", "sum(X)", "sum(d(X))"),
    ("linearity", "diag(X)", "diag(d(X))"),
    ("linearity", "X'", None),
    ("trace", "tr(A*X)", "tr(d(A*X))"),
    ("trace", "det(X)", None),
    ("transpose", "X'", "d(X)'"),
    ("transpose", "(A*X)'", "d(A*X)'"),
    ("transpose", "inv(X)", None),
    ("product", "A*X*B", "d(A)*X*B + A*d(X)*B + A*X*d(B)"),
    ("product", "X'*X", "d(X')*X + X'*d(X)"),
    ("product", "X + A", None),
    ("inverse", "inv(X)", "-inv(X)*d(X)*inv(X)"),
    ("inverse", "inv(A + X)", "-inv(A + X)*d(A + X)*inv(A + X)"),
    ("inverse", "X'", None),
    ("logdet", "logdet(X)", "tr(inv(X)*d(X))"),
    ("logdet", "log(det(X'*X))", "tr(inv(X'*X)*d(X'*X))"),
    ("logdet", "det(X)", None),
    ("det", "det(X)", "det(X)*tr(inv(X)*d(X))"),
    ("det", "logdet(X)", None),
    ("power", "X^2", "d(X)*X + X*d(X)"),
    ("power", "X^3", "d(X)*X^2 + X*d(X)*X + X^2*d(X)"),
    ("power", "X", None),
    ("norm", "norm(x)", "x'*d(x)/norm(x)"),
    ("norm_squared", "norm(x)^2", "2*x'*d(x)"),
    ("norm_squared", "norm(X)^2", "2*tr(X'*d(X))"),
    ("norm_squared", "norm(x)", None),
    ("norm", "norm(x)^2", None),                     # the squared norm's own rule says only that half
    ("norm", "norm(x)^3", "3*norm(x)*x'*d(x)"),
    ("norm", "tr(X)", None),
    ("scalar_power", "alpha^3", "3*alpha^2*d(alpha)"),
    ("scalar_power", "tr(X)^2", "2*tr(X)*d(tr(X))"),
    ("scalar_power", "X .^ 2", "2*(X .* d(X))"),
    ("scalar_power", "X", None),
    ("hadamard_product", "X .* A", "d(X) .* A + X .* d(A)"),
    ("hadamard_product", "X*A", None),
    ("softplus", "log(1 + exp(X))", "sigmoid(X) .* d(X)"),
    ("softplus", "log(ones + exp(-2*x))", "sigmoid(-2*x) .* d(-2*x)"),
    ("softplus", "log(1 + exp(alpha))", "sigmoid(alpha)*d(alpha)"),
    ("softplus", "log(2 + exp(X))", None),
    ("softplus", "log(1 + sin(X))", None),
    ("chain", "exp(X)", "exp(X) .* d(X)"),
    ("chain", "log(X)", "d(X) ./ X"),
    ("chain", "log(tr(X))", "tr(X)^-1*d(tr(X))"),
    ("chain", "sin(X)", "cos(X) .* d(X)"),
    ("chain", "tanh(X)", "(ones - tanh(X) .^ 2) .* d(X)"),
    ("chain", "sqrt(X)", "d(X) ./ (2*sqrt(X))"),
    ("chain", "X'", None),
]


@pytest.mark.parametrize("rule_id, src, expected", TABLE)
def test_differential_rule_table(rule_id, src, expected):
    assert apply(rule_id, src) == expected


def _ir_tree(name):
    X, a = ir.Sym("X", "matrix", "n", "n"), ir.Sym("a", "vector", "n", 1)
    A = ir.Sym("A", "matrix", "n", "n")
    return {"kron(a, X)": ir.Kron(a, X), "kron(X, A)": ir.Kron(X, A), "kron(A, a)": ir.Kron(A, a),
            "kron(X, X)": ir.Kron(X, X), "vec(X)": ir.Vec(X)}[name]


# section-6 nodes, built as IR (rule, P in d(P), d(P) rewritten)
IR_TABLE = [
    ("kron_product", "kron(a, X)", "kron(a, d(X))"),
    ("kron_product", "kron(X, A)", "kron(d(X), A)"),
    ("kron_product", "kron(X, X)", "kron(d(X), X) + kron(X, d(X))"),
    ("kron_product", "vec(X)", None),
    ("linearity", "vec(X)", "vec(d(X))"),
    ("constant", "kron(A, a)", "zeros"),
]


@pytest.mark.parametrize("rule_id, src, expected", IR_TABLE)
def test_differential_rule_table_section6(rule_id, src, expected):
    p = _ir_tree(src)
    wrt = ir.Sym("X", "matrix", "n", "n")
    eng = Engine(p, Ctx(wrt))
    outs = [fn(eng, p, {"removed": []}) for rid, fn in engine.D_RULES if rid == rule_id]
    outs = [o for o in outs if o is not None]
    assert (to_text(outs[0]) if outs else None) == expected


def test_every_differential_rule_has_a_table_row_and_a_non_match_row():
    ids = {rid for rid, _ in engine.D_RULES}
    rows = {r for r, _, out in TABLE + IR_TABLE}
    nonmatch = {r for r, _, out in TABLE + IR_TABLE if out is None}
    assert ids <= rows
    assert ids <= nonmatch


def test_rule_catalogue_is_well_formed():
    assert [rules.rule(r).number for r in rules.BASIC] == [1, 2, 3, 4, 5]
    seen = set()
    for r in rules.RULES:
        assert re.fullmatch(r"[a-z_]+", r.id) and r.id not in seen
        seen.add(r.id)
        assert r.statement and r.text and r.note and r.example
        if r.number is not None:
            assert r.stated
    with pytest.raises(AttributeError):
        rules.RULES[0].id = "x"


def test_every_rule_the_engine_can_emit_is_in_the_catalogue():
    with open(engine.__file__, encoding="utf-8") as fh:
        src = fh.read()
    emitted = set(re.findall(r'"([a-z_]+)", _(?:d|nf)_', src)) | \
        set(re.findall(r'self\.record\("([a-z_]+)"', src)) | {"trace_transpose", "scalar_transpose"}
    assert emitted <= set(rules.BY_ID)
