"""Jacobians and Hessians by the differential method (SPEC section 6, ENGINE.md section 6).

A Jacobian: take ``dF`` by the differential rules the gradient uses
(:meth:`Engine.push_d` works on any expression), multiply it out into terms
each linear in ``dX``, and bring every term to ``M · d vec X`` by the
vectorisation table :data:`VEC_FORMS` (one small rule per node class, applied
recursively from the outside in); then ``d vec F = J d vec X`` gives
``J = Σ M``.  With respect to a scalar α, ``dF = F′ dα`` is read off by setting
``dα = 1`` (``dF`` is linear in it).

A Hessian: the gradient ``G`` comes from the gradient derivation
(``df = tr(Gᵀ dX)``); then ``d²f = d(df) = tr((dG)ᵀ dX)`` since ``d(dX) = 0``;
``dG`` is pushed by the same rules and vectorised, ``d vec G = J_G d vec X``,
so ``d²f = (d vec X)ᵀ J_Gᵀ d vec X`` and ``H = J_G``: the second
identification theorem (Magnus & Neudecker, ch. 10).  ``J_G`` is the matrix of
second partial derivatives itself, so it is symmetric by construction; the
derivation says so once instead of printing ``(B + Bᵀ)/2``.

Every rewrite here is an identity; the tests evaluate every step at random
points and compare the results with finite differences of NumPy functions.
"""
from __future__ import annotations

from . import canon, ir
from .canon import add, hadamard, mul, tp
from .engine import Ctx, Engine, linear_gradient, rebuild_light
from .errors import ShapeError, UnsupportedError
from .ir import (D, Add, Commutation, DiagMat, DiagVec, Hadamard, Ident, Kron, MatMul, Num,
                 Ones, Sum, Sym, Trace, Transpose, Vec, Zeros)


def _text(n: ir.Node) -> str:
    from .printers.text import to_text
    try:
        return to_text(n)
    except Exception:                       # noqa: BLE001 - a message, never a crash
        return repr(n)


def is_vectorish(shape) -> bool:
    """A column, a row or a scalar: its own vec up to a transpose, and K = I."""
    return shape[0] == 1 or shape[1] == 1


def vec_size(shape):
    return ir.dim_mul(shape[0], shape[1])


def shape_text(shape) -> list:
    """A shape as SPEC's JSON strings: a size name, a product in vec order ("m*n":
    rows, then columns) or a decimal integer."""
    out = []
    for d in shape:
        parts = ir.dim_factors(d)
        nums = [p for p in parts if isinstance(p, int)]
        names = [p for p in parts if not isinstance(p, int)]
        k = 1
        for p in nums:
            k *= p
        if not names:
            out.append(str(k))
        else:
            out.append("*".join(([str(k)] if k != 1 else []) + names))
    return out


def result_shape(kind: str, f: ir.Node, wrt: Sym) -> list:
    """The ``result.shape`` of SPEC section 6, in the input's size names, vec order."""
    def vec_dim(shape):
        r, c = shape
        if r == 1 and c == 1:
            return ["1"]
        if c == 1:
            return shape_text((r,))
        if r == 1:
            return shape_text((c,))
        a, b = shape_text((r, c))
        if a.isdigit() and b.isdigit():
            return [str(int(a) * int(b))]
        return [f"{a}*{b}"]
    if kind == "gradient":
        return shape_text(wrt.shape)
    if kind == "jacobian":
        if wrt.shape == (1, 1):
            return shape_text(f.shape)
        return vec_dim(f.shape) + vec_dim(wrt.shape)
    return vec_dim(wrt.shape) * 2


# ---------------------------------------------------------------------------
# vectorisation: vec(T) = M vec(dX) for a term T linear in dX

class Vectoriser:
    """``vecform(T)`` is the matrix M with ``vec T = M · d vec X``; ``used`` lists the
    rules it applied, in order of first use (for the step's note)."""

    def __init__(self, eng: Engine, f: ir.Node):
        self.eng, self.f = eng, f
        self.wrt = eng.wrt
        self.n = vec_size(self.wrt.shape)
        self.used: list = []

    def use(self, rule_id: str) -> None:
        if rule_id not in self.used:
            self.used.append(rule_id)

    def vecform(self, t: ir.Node) -> ir.Node:
        eng = self.eng
        if t == eng.dX:
            return Ident(self.n)
        if not eng.has_d(t):
            return canon.zero_like_shape((vec_size(t.shape), self.n))
        if t.shape == (1, 1):
            return self.row(t)
        fn = VEC_FORMS.get(type(t))
        if fn is None:
            raise UnsupportedError(f"cannot vectorise the term {_text(t)}: no rule of the "
                                   f"vec table applies to it (SPEC section 6)")
        return fn(self, t)

    # -- the forms ----------------------------------------------------------
    def row(self, u: ir.Node) -> ir.Node:
        """A scalar differential u = tr(Gᵀ dX) = (vec G)ᵀ d vec X: the row (vec G)ᵀ."""
        self.use("vec_trace")
        g = linear_gradient(u, self.wrt)
        if self.wrt.shape[1] == 1:
            return tp(g)
        return Transpose(Vec(g))

    def add(self, t: Add) -> ir.Node:
        return add(*[self.vecform(a) for a in t.args])

    def matmul(self, t: MatMul) -> ir.Node:
        eng = self.eng
        c, fs = canon.coef_split(t)
        idx = [i for i, f in enumerate(fs) if eng.has_d(f)]
        if len(idx) != 1:
            raise UnsupportedError(f"the term {_text(t)} is not linear in d{self.wrt.name}")
        i = idx[0]
        u = fs[i]
        scalars = [f for j, f in enumerate(fs) if j != i and f.shape == (1, 1)]
        left = [f for f in fs[:i] if f.shape != (1, 1)]
        right = [f for f in fs[i + 1:] if f.shape != (1, 1)]
        coef = [Num(c)] + scalars
        if isinstance(u, DiagMat) and (left or right):
            # diag(u) B = (u 1ᵀ) ⊙ B and A diag(u) = A ⊙ (1 uᵀ): the Hadamard rule then
            # gives diag(vec B)(1 ⊗ I) du, with no selection matrix
            self.use("vec_diag")
            v = u.args[0]
            if right:
                b = mul(*right)
                inner = hadamard(mul(v, Ones(1, b.shape[1])), b)
                return self.vecform(mul(*coef, *left, inner))
            a = mul(*left)
            return self.vecform(mul(*coef, hadamard(a, mul(Ones(a.shape[0], 1), Transpose(v)))))
        if u.shape == (1, 1):
            # a matrix times a scalar differential: vec(F) (vec G)ᵀ, an outer product
            self.use("vec_outer")
            rest = mul(*left, *right)
            return mul(*coef, vec_of(rest), self.vecform(u))
        a = mul(*left) if left else None
        b = mul(*right) if right else None
        if a is not None and a.shape == (1, 1):
            coef.append(a)
            a = None
        if b is not None and b.shape == (1, 1):
            coef.append(b)
            b = None
        inner = self.vecform(u)
        if a is None and b is None:
            return mul(*coef, inner)
        if b is None and u.shape[1] == 1:          # a vector is its own vec: A du
            return mul(*coef, a, inner)
        if a is None and u.shape[0] == 1:          # vec(du' B) = B' vec(du')
            return mul(*coef, tp(b), inner)
        self.use("kron_vec")
        bt = tp(b) if b is not None else Ident(u.shape[1])
        aa = a if a is not None else Ident(u.shape[0])
        return mul(*coef, kron(bt, aa), inner)

    def transpose(self, t: Transpose) -> ir.Node:
        u = t.args[0]
        if is_vectorish(u.shape):                  # vec(u') = vec(u) for a vector
            return self.vecform(u)
        if u == self.eng.dX:
            self.use("commutation")
            return Commutation(self.wrt)
        return self.vecform(push_transpose(u, self.eng))

    def hadamard(self, t: Hadamard) -> ir.Node:
        eng = self.eng
        idx = [i for i, f in enumerate(t.args) if eng.has_d(f)]
        if len(idx) != 1:
            raise UnsupportedError(f"the term {_text(t)} is not linear in d{self.wrt.name}")
        i = idx[0]
        others = hadamard(*t.args[:i], *t.args[i + 1:])
        self.use("vec_hadamard")
        return mul(DiagMat(vec_of(others)), self.vecform(t.args[i]))

    def diagmat(self, t: DiagMat) -> ir.Node:
        # vec(diag(u)) = diag(vec I) (1 ⊗ I) u: n copies of u, the diagonal entries kept
        u = t.args[0]
        k = u.shape[0]
        self.use("vec_diag")
        return mul(DiagMat(Vec(Ident(k))), Kron(Ones(k, 1), Ident(k)), self.vecform(u))

    def diagvec(self, t: DiagVec) -> ir.Node:
        # diag(U) = (1ᵀ ⊗ I) vec(I ⊙ U) = (1ᵀ ⊗ I) diag(vec I) vec U
        u = t.args[0]
        k = u.shape[0]
        self.use("vec_diag")
        return mul(Kron(Transpose(Ones(k, 1)), Ident(k)), DiagMat(Vec(Ident(k))),
                   self.vecform(u))

    def vec(self, t: Vec) -> ir.Node:
        return self.vecform(t.args[0])             # vec(vec U) = vec U

    def kron(self, t: Kron) -> ir.Node:
        # a column or row constant c: c ⊗ U = (c ⊗ I) U,  U ⊗ c = (I ⊗ c) U  (columns),
        # c ⊗ U = U (c ⊗ I), U ⊗ c = U (I ⊗ c) (rows): then the Kronecker rule
        eng = self.eng
        a, b = t.args
        if eng.has_d(a) and eng.has_d(b):
            raise UnsupportedError(f"the term {_text(t)} is not linear in d{self.wrt.name}")
        u, c, u_first = (b, a, False) if eng.has_d(b) else (a, b, True)
        if c.shape[1] == 1:
            m = Kron(Ident(u.shape[0]), c) if u_first else Kron(c, Ident(u.shape[0]))
            return self.vecform(MatMul(m, u))
        if c.shape[0] == 1:
            m = Kron(Ident(u.shape[1]), c) if u_first else Kron(c, Ident(u.shape[1]))
            return self.vecform(MatMul(u, m))
        raise UnsupportedError(f"cannot vectorise the term {_text(t)}: a Kronecker product "
                               f"of a constant matrix with a function of {self.wrt.name} is "
                               f"not supported (only a constant vector)")


VEC_FORMS = {
    Add: Vectoriser.add,
    MatMul: Vectoriser.matmul,
    Transpose: Vectoriser.transpose,
    Hadamard: Vectoriser.hadamard,
    DiagMat: Vectoriser.diagmat,
    DiagVec: Vectoriser.diagvec,
    Vec: Vectoriser.vec,
    Kron: Vectoriser.kron,
}


def push_transpose(u: ir.Node, eng: Engine) -> ir.Node:
    """uᵀ for a term linear in dX, with the transpose moved onto dX (and constants)."""
    if isinstance(u, Transpose):
        return u.args[0]
    if isinstance(u, D):
        return Transpose(u)
    if isinstance(u, MatMul):
        c, fs = canon.coef_split(u)
        return mul(Num(c), *[push_transpose(f, eng) if eng.has_d(f) else tp(f)
                             for f in reversed(fs)])
    if isinstance(u, Add):
        return add(*[push_transpose(a, eng) for a in u.args])
    if isinstance(u, Hadamard):
        return hadamard(*[push_transpose(f, eng) if eng.has_d(f) else tp(f) for f in u.args])
    if isinstance(u, DiagMat) or u.shape == (1, 1):
        return u
    if isinstance(u, Kron):
        return Kron(push_transpose(u.args[0], eng) if eng.has_d(u.args[0]) else tp(u.args[0]),
                    push_transpose(u.args[1], eng) if eng.has_d(u.args[1]) else tp(u.args[1]))
    return Transpose(u)


def vec_of(n: ir.Node) -> ir.Node:
    """vec(n), tidy: a column is its own vec, a row its transpose, numbers in front."""
    r, c = n.shape
    if c == 1:
        return n
    if r == 1:
        return tp(n)
    k, fs = canon.coef_split(n)
    if k != 1 and fs:
        return mul(Num(k), Vec(mul(*fs)))
    if canon.is_zero(n):
        return Zeros(vec_size(n.shape), 1)
    return Vec(n)


def kron(a: ir.Node, b: ir.Node) -> ir.Node:
    """A ⊗ B, tidy: a 1x1 side scales, numbers in front, zeros absorb."""
    if canon.is_zero(a) or canon.is_zero(b):
        return canon.zero_like_shape(Kron(a, b).shape)
    if a.shape == (1, 1):
        return mul(a, b)
    if b.shape == (1, 1):
        return mul(b, a)
    ka, fa = canon.coef_split(a)
    kb, fb = canon.coef_split(b)
    if (ka != 1 and fa) or (kb != 1 and fb):
        return mul(Num(ka * kb), Kron(mul(*fa), mul(*fb)))
    return Kron(a, b)


# ---------------------------------------------------------------------------
# tidy: the section-6 identities, bottom-up, then the canonical simplifier

def tidy(n: ir.Node) -> ir.Node:
    """An equal, shorter form of a Jacobian or Hessian: the section-6 identities, the
    canonical simplifier, then the smallest of canon's equal forms (common factors out)."""
    for _ in range(4):
        m = canon.simplify(_tidy(n, {}))
        m = _merge_diag_sandwich(m)
        if m == n:
            break
        n = m
    c = _tidy(canon.compact(n, simplified=True), {})
    return c if canon.size(c) < canon.size(n) else n


def _tidy(n: ir.Node, memo: dict) -> ir.Node:
    out = memo.get(n)
    if out is not None:
        return out
    kids = [(_tidy(a, memo) if isinstance(a, ir.Node) else a) for a in n.args]
    cls = type(n)
    if cls is Kron:
        out = kron(*kids)
    elif cls is Vec:
        out = vec_of(kids[0])
    elif cls is Commutation:
        out = Ident(vec_size(n.shape[:1] + (1,))) if is_vectorish(kids[0].shape) else n
    elif cls is Transpose and isinstance(kids[0], Kron):
        out = Kron(tp(kids[0].args[0]), tp(kids[0].args[1]))
    elif cls is Transpose and isinstance(kids[0], Commutation):
        out = Commutation(tp(kids[0].args[0]))
    elif cls is MatMul:
        out = _mixed_products(mul(*kids))
    elif cls in (Add, Hadamard, Transpose, DiagMat, DiagVec, Trace, Sum):
        out = rebuild_light(n, kids)
    else:
        out = n if all(a is b for a, b in zip(kids, n.args)) else n.rebuild(*kids)
    memo[n] = out
    return out


def _mixed_products(n: ir.Node) -> ir.Node:
    """(P ⊗ Q)(R ⊗ S) = PR ⊗ QS where the shapes fit."""
    if not isinstance(n, MatMul):
        return n
    fs = list(n.args)
    changed = True
    while changed:
        changed = False
        for i in range(len(fs) - 1):
            a, b = fs[i], fs[i + 1]
            if isinstance(a, Kron) and isinstance(b, Kron):
                (p, q), (r, s) = a.args, b.args
                if p.shape[1] == r.shape[0] and q.shape[1] == s.shape[0]:
                    fs[i:i + 2] = [kron(mul(p, r), mul(q, s))]
                    changed = True
                    break
    return mul(*fs) if len(fs) > 1 else fs[0]


def _merge_diag_sandwich(n: ir.Node) -> ir.Node:
    """P diag(a) Q + P diag(b) Q = P diag(a + b) Q (the Hessians of GLMs)."""
    if not isinstance(n, Add):
        return n
    groups, order = {}, []
    for t in n.args:
        c, fs = canon.coef_split(t)
        idx = [i for i, f in enumerate(fs) if isinstance(f, DiagMat)]
        if len(idx) != 1:
            key = ("other", t)
        else:
            i = idx[0]
            key = (tuple(fs[:i]), tuple(fs[i + 1:]))
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(t)
    if len(order) == len(n.args):
        return n
    out = []
    for key in order:
        ts = groups[key]
        if key[0] == "other" or len(ts) == 1:
            out.extend(ts)
            continue
        left, right = key
        inner = []
        for t in ts:
            c, fs = canon.coef_split(t)
            d = fs[len(left)]
            inner.append(mul(Num(c), d.args[0]))
        out.append(mul(*left, DiagMat(canon.simplify(add(*inner))), *right))
    return add(*out)


# ---------------------------------------------------------------------------
# a name for a repeated elementwise function (the slide's "s = σ(Xw)"), display only

def abbreviation(result: ir.Node, f: ir.Node | None = None):
    """(name Sym, the node it names) for an elementwise function of a non-leaf vector or
    matrix that occurs at least twice in ``result``, or None.  The name is the
    function's first letter (``s`` for sigmoid), unless a variable has it."""
    from collections import Counter
    counts = Counter(n for n in ir.walk(result)
                     if isinstance(n, ir.Func) and n.shape != (1, 1)
                     and not isinstance(n.args[1], Sym))
    taken = {x.name for x in ir.free_syms(result) + (ir.free_syms(f) if f is not None else [])}
    for node, k in counts.most_common():
        if k < 2:
            break
        name = node.name[0]
        if name in taken:
            continue
        kind = "vector" if node.shape[1] == 1 else "matrix"
        return Sym(name, kind, *node.shape), node
    return None


def _replace(n: ir.Node, old: ir.Node, new: ir.Node) -> ir.Node:
    if n == old:
        return new
    if not n.children:
        return n
    return n.rebuild(*[_replace(a, old, new) if isinstance(a, ir.Node) else a for a in n.args])


def record_abbreviation(eng: Engine, lhs: str, result: ir.Node) -> None:
    """The last step again with a name for a repeated subexpression: a display step
    (its expression holds a name that is not an input; ``where s = …`` says what it is)."""
    ab = abbreviation(result, eng.f)
    if ab is None:
        return
    name, node = ab
    eng.record("abbreviate", lhs, _replace(result, node, name), ("where ", ("eq", name, node)))


# ---------------------------------------------------------------------------
# the derivations

def _differential(f: ir.Node) -> ir.Node:
    terms = f.args if isinstance(f, Add) else (f,)
    out = []
    for t in terms:
        c, fs = canon.coef_split(t)
        out.append(mul(Num(c), D(mul(*fs))) if fs and c != 1 else D(t))
    return add(*out) if len(out) > 1 else out[0]


def _substitute_d(n: ir.Node, eng: Engine, value: ir.Node) -> ir.Node:
    """n with d(wrt) replaced by value (a scalar wrt: dF = F′ dα gives F′ at dα = 1)."""
    if n == eng.dX:
        return value
    if not eng.has_d(n):
        return n
    kids = [(_substitute_d(a, eng, value) if isinstance(a, ir.Node) else a) for a in n.args]
    return rebuild_light(n, kids)


def jacobian_of(eng: Engine, f: ir.Node, F: ir.Node, lhs: dict, result_rule: str) -> ir.Node:
    """Record dF, its vectorised form and the read-off; return the tidy Jacobian of F.

    ``lhs`` names the steps' left-hand sides: ``d`` (dF), ``vec`` (d vec F), ``res``
    (J or H); ``result_rule`` is ``identify_jacobian`` or ``identify_hessian``."""
    wrt = eng.wrt
    eng.dlhs = lhs["d"]
    dF = eng.push_d(_differential_recorded(eng, F, lhs["d"]))
    parts = [p for p in eng.split(dF) if not canon.is_zero(p)]
    if len(parts) > 1 and add(*parts) != dF:
        eng.record("distribute", lhs["d"], add(*parts), ("multiply out the sums",))
    if wrt.shape == (1, 1):
        raw = add(*[_substitute_d(p, eng, Num(1)) for p in parts]) if parts \
            else canon.zero_like(F)
        eng.record(result_rule, lhs["res"], raw, _read_note(result_rule, eng, F))
    else:
        v = Vectoriser(eng, f)
        ms = [v.vecform(p) for p in parts]
        dvec = D(wrt) if wrt.shape[1] == 1 else Vec(D(wrt))
        if ms:
            shown = add(*[mul(m, dvec) for m in ms])
            eng.record(v.used[0] if v.used else "vec", lhs["vec"], shown, _vec_note(v.used))
        raw = add(*ms) if ms else Zeros(vec_size(F.shape), v.n)
        eng.record(result_rule, lhs["res"], raw, _read_note(result_rule, eng, F))
    out = tidy(raw)
    if out != raw:
        eng.record("simplify", lhs["res"], out, ("tidy up",))
    record_abbreviation(eng, lhs["res"], out)
    return out


def _differential_recorded(eng: Engine, F: ir.Node, lhs: str) -> ir.Node:
    dF = _differential(F)
    eng.record("differential", lhs, dF, ("take the differential of both sides",))
    return dF


def _vec_note(used: list) -> tuple:
    if not used:
        return ("a vector is its own vec",)
    note = ["by "]
    for i, rid in enumerate(used):
        if i:
            note.append("; ")
        note.append(("ref", rid))
        note.append(", ")
        note.append(("rule", rid))
    return tuple(note)


def _read_note(rule_id: str, eng: Engine, F: ir.Node) -> tuple:
    """The read-off step's note: short, with the rule's number (the statement is in the
    rules block); a Hessian says once that it is symmetric by construction."""
    wrt = eng.wrt
    if rule_id == "identify_hessian":
        if wrt.shape == (1, 1):
            return ("by ", ("ref", rule_id), ", the second derivative")
        return ("by ", ("ref", rule_id), "; symmetric by construction (the Jacobian of ",
                "the gradient)")
    if wrt.shape == (1, 1):
        return ("by ", ("ref", rule_id), ", the derivative with respect to ", ("math", wrt))
    return ("by ", ("ref", rule_id), ", read off the Jacobian")


def _refuse_symmetric(wrt: Sym, what: str) -> None:
    if wrt.kind == "symmetric":
        raise UnsupportedError(
            f"the {what} with respect to the symmetric {wrt.name} needs the duplication "
            f"matrix (d vec {wrt.name} = D d vech {wrt.name}), which texderive does not "
            f"support: declare {wrt.name} as a matrix, or ask for the gradient")


def derive_jacobian(f: ir.Node, wrt: Sym):
    """(steps, J) for a vector or matrix f."""
    _refuse_symmetric(wrt, "Jacobian")
    eng = Engine(f, Ctx(wrt))
    lhs = {"d": "dF", "vec": "dvecF", "res": "J"}
    if wrt.shape == (1, 1):
        lhs["res"] = "Fprime"
    elif is_vectorish(f.shape) and f.shape[1] == 1 and wrt.shape[1] == 1:
        lhs["vec"] = "dF"
    j = jacobian_of(eng, f, f, lhs, "identify_jacobian")
    return eng.steps, j


def derive_hessian(f: ir.Node, wrt: Sym):
    """(steps, H) for a scalar f: the gradient's derivation, then d²f = d(df)."""
    from .engine import derive_ir
    _refuse_symmetric(wrt, "Hessian")
    if f.shape != (1, 1):
        raise ShapeError("the Hessian of a vector- or matrix-valued function is a "
                         "third-order array, which texderive does not compute; ask for its "
                         "Jacobian (without hessian) instead")
    steps, g = derive_ir(f, wrt)
    eng = Engine(f, Ctx(wrt))
    eng.steps = list(steps)
    if wrt.shape == (1, 1):
        form = mul(D(g), eng.dX)
    elif wrt.shape[1] == 1:
        form = mul(Transpose(D(g)), eng.dX)
    else:
        form = Trace(mul(Transpose(D(g)), eng.dX))
    eng.record("second_differential", "d2f", form, (("rule", "second_differential"),))
    lhs = {"d": "dG", "vec": "dvecG", "res": "H"}
    eng.dlhs = "dG"
    dg = eng.push_d(D(g))
    h = _hessian_from(eng, f, g, dg, lhs)
    return eng.steps, h


def _hessian_from(eng: Engine, f, g, dg, lhs) -> ir.Node:
    wrt = eng.wrt
    parts = [p for p in eng.split(dg) if not canon.is_zero(p)]
    if len(parts) > 1 and add(*parts) != dg:
        eng.record("distribute", "dG", add(*parts), ("multiply out the sums",))
    if wrt.shape == (1, 1):
        raw = add(*[_substitute_d(p, eng, Num(1)) for p in parts]) if parts else Num(0)
    else:
        v = Vectoriser(eng, f)
        ms = [v.vecform(p) for p in parts]
        dvec = D(wrt) if wrt.shape[1] == 1 else Vec(D(wrt))
        if ms:
            shown = add(*[mul(m, dvec) for m in ms])
            eng.record(v.used[0] if v.used else "vec",
                       "dG" if wrt.shape[1] == 1 else "dvecG", shown, _vec_note(v.used))
        raw = add(*ms) if ms else Zeros(v.n, v.n)
    eng.record("identify_hessian", "H", raw, _read_note("identify_hessian", eng, f))
    out = tidy(raw)
    if out != raw:
        eng.record("simplify", "H", out, ("tidy up",))
    record_abbreviation(eng, "H", out)
    return out


__all__ = ["derive_jacobian", "derive_hessian", "Vectoriser", "VEC_FORMS", "tidy",
           "result_shape", "shape_text"]
