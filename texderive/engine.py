"""The strategy: which rule, where, in what order, within what limits.

A derivation runs in phases; every phase records whole-expression steps (one
rule applied wherever it applies, as a lecturer writes it):

1. *expand* (only for ``c*norm(v)^2`` of a vector v, the least-squares route of
   the lecture): ``y = vᵀv`` multiplied out, scalar terms written with the
   fewer transposes (``xᵀAᵀb = bᵀAx``) and collected.
2. *differential*: ``dy = d(f)``, then the differential rules push ``d`` inwards
   in priority order (``D_RULES``) until it wraps only the variable.
3. *normal form*: dy is multiplied out into terms, each a coefficient times
   ``tr(L dX R)``-like chains; the rules of ``NF_RULES`` (scalar factors out,
   transposes, ones for sums, the trace wrap, the cyclic trick, the
   Hadamard-trace and diag identities) bring every term to
   ``c · tr(M dX)`` (``c · M dx`` for a vector, ``c · M dα`` for a scalar).
4. *collect* like terms, *read off* ``G = Σ c · Mᵀ``, tidy it (transposes to
   the leaves, common factors out), and for a symmetric variable take
   ``(H + Hᵀ)/2``.

Correctness rests on each rewrite being an identity; the tests evaluate every
step's expression at random points and directions and compare.
"""
from __future__ import annotations

from fractions import Fraction

from . import canon, ir
from .canon import add, hadamard, mul, tp
from .errors import LimitError, UnsupportedError
from .ir import (D, Add, Det, DiagMat, DiagVec, Func, Hadamard, HadPow, Ident, Inverse, LogDet,
                 MatMul, MatPow, Norm, Num, Ones, Pow, Sum, Sym, Trace, Transpose)
from .rules import BY_ID
from .steps import Step

MAX_STEPS = 200
MAX_NODES = 60_000
MAX_D_STEPS = 12        # differential steps shown one by one; later rounds form one step


class Ctx:
    """What a derivation is about: the variable and its kind (immutable)."""
    __slots__ = ("wrt", "kind")

    def __init__(self, wrt: Sym):
        object.__setattr__(self, "wrt", wrt)
        r, c = wrt.shape
        kind = "scalar" if (r, c) == (1, 1) else ("vector" if c == 1 else "matrix")
        object.__setattr__(self, "kind", kind)

    def __setattr__(self, name, value):
        raise AttributeError("Ctx is immutable")


class Engine:
    """One derivation.  Holds the call's memo tables; nothing outlives the call."""

    def __init__(self, f: ir.Node, ctx: Ctx):
        self.f, self.ctx, self.wrt = f, ctx, ctx.wrt
        self.dX = D(ctx.wrt)
        self.dlhs = "dy"                   # the left-hand side of the differential steps
        self._dep = {}
        self._hasd = {}
        self.steps = []
        self._seen_notes = {}

    # -- facts -------------------------------------------------------------
    def dep(self, n: ir.Node) -> bool:
        """Does n depend on the variable?"""
        r = self._dep.get(n)
        if r is None:
            # commutation(X) is a constant: X gives only its shape
            r = n == self.wrt or (type(n) is not ir.Commutation
                                  and any(self.dep(c) for c in n.children))
            self._dep[n] = r
        return r

    def has_d(self, n: ir.Node) -> bool:
        r = self._hasd.get(n)
        if r is None:
            r = isinstance(n, D) or any(self.has_d(c) for c in n.children)
            self._hasd[n] = r
        return r

    def record(self, rule_id: str, lhs: str, expr: ir.Node, note=()) -> None:
        if self.steps and self.steps[-1].lhs == lhs and self.steps[-1].expr == expr:
            return
        if len(self.steps) >= MAX_STEPS:
            raise LimitError(f"the derivation needs more than {MAX_STEPS} steps")
        if ir.node_count(expr) > MAX_NODES:
            raise LimitError(f"the differential grew past {MAX_NODES} nodes")
        note = tuple(note)
        if note and note == self._seen_notes.get(rule_id):
            note = _short_note(rule_id, note)      # the rule was stated a few lines up
        else:
            self._seen_notes.setdefault(rule_id, note)
        self.steps.append(Step(rule_id, lhs, expr, note))

    # -- the whole derivation ------------------------------------------------
    def run(self) -> ir.Node:
        f = self.f
        expanded = self.expand_route(f)
        if expanded is not None:
            self.record("expand", "y", expanded, ("multiply out ", ("math", f), " and collect"))
            f = expanded
        dy = self.differential(f)
        dy = self.push_d(dy)
        terms = self.normal_form(dy)
        terms = self.collect_terms(terms)
        g = self.read_off(terms)
        if self.wrt.kind == "symmetric":
            g = self.symmetrize(g)
        return g

    # -- phase 1: expand --------------------------------------------------------
    def expand_route(self, f: ir.Node):
        """``c*norm(v)^2`` of a vector v: the lecture's expand-first route."""
        if self.ctx.kind != "vector":
            return None
        c, fs = canon.coef_split(f)
        if len(fs) != 1 or not isinstance(fs[0], Pow) or fs[0].args[1] != Num(2):
            return None
        base = fs[0].args[0]
        if not isinstance(base, Norm) or base.args[0].shape[1] != 1:
            return None
        v = base.args[0]
        if not isinstance(v, Add):
            return None
        e = canon.expand(mul(Transpose(v), v))
        terms = e.args if isinstance(e, Add) else (e,)
        out = []
        for t in terms:
            k, parts = canon.coef_split(t)
            if parts and t.shape == (1, 1) and all(p.shape != (1, 1) for p in parts):
                alt = mul(Num(k), *[tp(p) for p in reversed(parts)])
                if _transposes(alt) < _transposes(t):
                    t = alt
            out.append(t)
        e = canon.collect(add(*out))
        if ir.node_count(e) > 4 * ir.node_count(f) + 40:
            return None
        return canon.scale(c, e)

    # -- phase 2: differentials -----------------------------------------------------
    def differential(self, f: ir.Node) -> ir.Node:
        f = one_sign_convention(f)
        terms = f.args if isinstance(f, Add) else (f,)
        out = []
        for t in terms:
            c, fs = canon.coef_split(t)
            out.append(mul(Num(c), D(mul(*fs))) if fs and c != 1 else D(t))
        dy = add(*out) if len(out) > 1 else out[0]
        self.record("differential", "dy", dy, ("take the differential of ", ("math", Sym("y", "scalar", 1, 1))))
        return dy

    def push_d(self, dy: ir.Node) -> ir.Node:
        """Apply the differential rules, one rule per step, highest priority first.

        Each round finds, for every d(P) not yet at the variable, the first rule of
        D_RULES that applies; the step applies the highest-priority one of those
        everywhere it is the first rule that applies."""
        shown, merged = 0, []
        for _ in range(10 * MAX_STEPS):
            found = {}
            for n in self.open_differentials(dy):
                found[n] = self._first_rule(n.args[0])
            if not found:
                break
            stuck = [n for n, r in found.items() if r is None]
            if stuck:
                from .printers.text import to_text
                raise UnsupportedError(f"no differential rule applies to d({to_text(stuck[0].args[0])})")
            best = min(r[0] for r in found.values())
            rule_id = D_RULES[best][0]
            ctx = {"removed": [], "args": []}
            chosen = {}
            for n, (i, _) in found.items():
                if i == best:
                    chosen[n] = D_RULES[i][1](self, n.args[0], ctx)
            dy, _ = self._rewrite_d(dy, chosen.get)
            if shown < MAX_D_STEPS:
                shown += 1
                self.record(rule_id, self.dlhs, dy, _d_note(rule_id, ctx))
            elif rule_id not in merged:
                merged.append(rule_id)
        if merged:
            # a deeply nested f: the remaining rounds are one step, citing every rule used
            note = ["by "]
            for i, rid in enumerate(merged):
                if i:
                    note.append(", " if i < len(merged) - 1 else " and ")
                note.append(("ref", rid) if BY_ID[rid].number or BY_ID[rid].stated else BY_ID[rid].note)
            note.append(", applied repeatedly")
            self.record(merged[0], self.dlhs, dy, tuple(note))
        return dy

    def open_differentials(self, dy: ir.Node) -> list:
        """The d(P) in dy with P not the variable, in pre-order, each once; only
        sub-trees that contain a differential are entered (shared ones once)."""
        out, seen, stack = [], set(), [dy]
        while stack:
            n = stack.pop()
            if n in seen or not self.has_d(n):
                continue
            seen.add(n)
            if isinstance(n, D):
                if n.args[0] != self.wrt:
                    out.append(n)
                continue
            stack.extend(reversed(n.children))
        return out

    def _first_rule(self, p: ir.Node):
        scratch = {"removed": [], "args": []}
        for i, (_, fn) in enumerate(D_RULES):
            r = fn(self, p, scratch)
            if r is not None:
                return i, r
        return None

    def _rewrite_d(self, node: ir.Node, fn):
        if isinstance(node, D):
            r = fn(node)
            return (node, False) if r is None else (r, True)
        if not self.has_d(node):
            return node, False
        kids, changed = [], False
        for a in node.args:
            if isinstance(a, ir.Node):
                k, ch = self._rewrite_d(a, fn)
                kids.append(k)
                changed |= ch
            else:
                kids.append(a)
        if not changed:
            return node, False
        return rebuild_light(node, kids), True

    # -- phase 3: normal form --------------------------------------------------------
    def split(self, n: ir.Node) -> list:
        """The terms of a linear expression in dX, each containing dX once."""
        if isinstance(n, Add):
            return [t for a in n.args for t in self.split(a)]
        if isinstance(n, (MatMul, Hadamard)):
            idx = [i for i, a in enumerate(n.args) if self.has_d(a)]
            if len(idx) != 1:
                raise UnsupportedError("internal: the differential is not linear in d" + self.wrt.name)
            i = idx[0]
            build = mul if isinstance(n, MatMul) else hadamard
            return [build(*n.args[:i], s, *n.args[i + 1:]) for s in self.split(n.args[i])]
        if isinstance(n, (Trace, Transpose, Sum, DiagMat, DiagVec, ir.Vec)):
            return [type(n)(s) for s in self.split(n.args[0])]
        if isinstance(n, ir.Kron):
            a, b = n.args
            if self.has_d(a) and not self.has_d(b):
                return [ir.Kron(s, b) for s in self.split(a)]
            if self.has_d(b) and not self.has_d(a):
                return [ir.Kron(a, s) for s in self.split(b)]
        return [n]

    def to_term(self, t: ir.Node) -> "Term":
        c, fs = canon.coef_split(t)
        if len(fs) == 1 and isinstance(fs[0], Trace):
            k, inner = self.chain(fs[0].args[0])
            return Term((Num(c * k),), inner, True)
        return Term((Num(c),), tuple(fs), False)

    def chain(self, n: ir.Node) -> tuple:
        """(number, factors) of n as a flat product."""
        c, fs = canon.coef_split(n)
        return c, tuple(fs) if fs else (Num(1),)

    def term_node(self, t: "Term") -> ir.Node:
        body = mul(*t.factors)
        if t.traced and not (self.ctx.kind != "matrix" and body.shape == (1, 1)):
            body = Trace(body)
        return mul(*t.coef, body)

    def terms_node(self, terms) -> ir.Node:
        if not terms:
            return Num(0)
        return add(*[self.term_node(t) for t in terms])

    def normal_form(self, dy: ir.Node) -> list:
        parts = [p for p in self.split(dy) if not canon.is_zero(p)]
        if not parts:
            return []                              # f does not change with the variable
        expr = add(*parts) if len(parts) > 1 else parts[0]
        if len(parts) > 1 and expr != dy:
            self.record("distribute", "dy", expr, ("multiply out the sums",))
        terms = [self.to_term(p) for p in parts]
        for _ in range(10 * MAX_STEPS):
            if all(self.is_normal(t) for t in terms):
                return terms
            for rule_id, fn in NF_RULES:
                new, used = [], set()
                for t in terms:
                    r = None if self.is_normal(t) else fn(self, t)
                    if r is None:
                        new.append(t)
                    else:
                        rid, nt = r if isinstance(r, tuple) else (rule_id, r)
                        used.add(rid)
                        new.append(nt)
                if used:
                    terms = new
                    rid = sorted(used)[0]
                    self.record(rid, "dy", self.terms_node(terms), _nf_note(sorted(used)))
                    break
            else:
                from .printers.text import to_text
                bad = next(t for t in terms if not self.is_normal(t))
                raise UnsupportedError("cannot bring the term " + to_text(self.term_node(bad))
                                       + " to the form tr(G' d" + self.wrt.name + ")")
        raise LimitError("the normal form did not converge")

    def is_normal(self, t: "Term") -> bool:
        fs = t.factors
        if not fs or fs[-1] != self.dX or any(self.has_d(f) for f in fs[:-1]):
            return False
        if any(self.has_d(c) for c in t.coef):
            return False
        if len(fs) > 1 and (any(f.shape == (1, 1) for f in fs[:-1]) or len(_split_runs(fs)) > 1):
            return False
        if self.ctx.kind == "matrix":
            return t.traced or len(fs) == 1 and fs[0].shape == (1, 1)
        if self.ctx.kind == "scalar":
            # c * m * dα with m a scalar; tr(M dα) with a matrix M is not yet read off
            return len(fs) == 1 or mul(*fs[:-1]).shape == (1, 1)
        return True

    def d_index(self, fs) -> int:
        idx = [i for i, f in enumerate(fs) if self.has_d(f)]
        if len(idx) != 1:
            raise UnsupportedError("internal: a term is not linear in d" + self.wrt.name)
        return idx[0]

    # -- phase 4: collect, read off, tidy -------------------------------------------------
    def collect_terms(self, terms: list) -> list:
        order, acc, first = [], {}, {}
        for t in terms:
            num = Fraction(1)
            sym = []
            for c in t.coef:
                if isinstance(c, Num):
                    num *= c.value
                else:
                    sym.append(canon.simplify(c))
            m = canon.simplify(mul(*t.factors[:-1])) if len(t.factors) > 1 else None
            key = (tuple(sym), m, t.traced)
            if key not in acc:
                order.append(key)
                acc[key] = Fraction(0)
                first[key] = t                  # written as the first of its like terms
            acc[key] += num
        merged = len(order) < len(terms) or any(acc[k] == 0 for k in order)
        if not merged:
            return terms
        out = []
        for key in order:
            if acc[key] == 0:
                continue
            t = first[key]
            coefs = tuple(c for c in t.coef if not isinstance(c, Num))
            out.append(Term((Num(acc[key]),) + coefs, t.factors, t.traced))
        self.record("collect", "dy", self.terms_node(out), ("collect like terms",))
        return out

    def read_off(self, terms: list) -> ir.Node:
        contribs = []
        for t in terms:
            fs = t.factors[:-1]
            if self.ctx.kind == "scalar":
                body = mul(*fs) if fs else None
            elif fs:
                body = Transpose(mul(*fs))
            else:
                body = Ident(self.wrt.shape[0])
            contribs.append(mul(*t.coef, body) if body is not None else mul(*t.coef))
        g = add(*contribs) if contribs else canon.zero_like(self.wrt)
        y = Sym("y", "scalar", 1, 1)
        if self.ctx.kind == "matrix":
            gs = Sym("G", "matrix", *self.wrt.shape)
            form = Trace(MatMul(Transpose(gs), self.dX))
        elif self.ctx.kind == "vector":
            gs = Sym("g", "vector", *self.wrt.shape)
            form = MatMul(Transpose(gs), self.dX)
        else:
            gs = Sym("gamma", "scalar", 1, 1)
            form = MatMul(gs, self.dX)
        note = ("read off ", ("math", gs), " from ", ("eq", D(y), form))
        sym = self.wrt.kind == "symmetric"
        g1 = canon.tidy_sums(canon.simplify(g))
        g2 = canon.compact(g1, simplified=True, symmetric=sym and canon.is_symmetric(g1))
        done = not sym or canon.is_symmetric(g2)
        # a symmetric variable: G is the gradient of f as a function of a general matrix;
        # it is the gradient along symmetric directions only when it is symmetric itself
        lhs = "grad" if done else "G"
        self.record("read_off", lhs, g, note)
        if g1 != g:
            rid = "transpose_product" if _has_transposed_product(g) else "simplify"
            note = (("rule", rid),) if rid == "transpose_product" else ("tidy up",)
            self.record(rid, lhs, g1, note + _named_function_note(g, g1))
        if g2 != g1 and canon.size(g2) < canon.size(g1):
            same_terms = isinstance(g1, Add) and isinstance(g2, Add) and \
                len(g1.args) == len(g2.args)
            self.record("simplify", lhs, g2, ("tidy up",) if same_terms else
                        ("take out common factors",))
            g1 = g2
        elif g2 != g1 and sym and done and not canon.is_symmetric(g1):
            self.record("simplify", lhs, g2, ("the symmetric form",))
            g1 = g2
        if sym and done:
            last = self.steps[-1]
            self.steps[-1] = Step(last.rule, last.lhs, last.expr, last.note + (
                "; it is symmetric, so it is also the gradient along symmetric ",
                ("math", D(self.wrt)),))
        return g1

    def symmetrize(self, g: ir.Node) -> ir.Node:
        if self.steps and self.steps[-1].lhs == "grad":
            return g                      # G is symmetric already: (G + Gᵀ)/2 = G
        h = tp(g)
        pair = (g, h) if _transposes(g) <= _transposes(h) else (h, g)
        s = canon.compact(mul(Num(Fraction(1, 2)), add(*pair)), symmetric=True)
        gs = Sym("G", "matrix", *self.wrt.shape)
        self.record("symmetric", "grad", s, (
            ("math", self.wrt), " symmetric: the gradient along symmetric directions is ",
            ("math", mul(Num(Fraction(1, 2)), Add(gs, Transpose(gs)))), " (not 2G − G∘I)"))
        return s


def _named_function_note(before: ir.Node, after: ir.Node) -> tuple:
    """Say so when tidying recognised sigmoid or tanh (canon.known_functions)."""
    def count(n, name):
        return sum(1 for x in ir.walk(n) if isinstance(x, Func) and x.name == name)
    out = ()
    u = Sym("u", "scalar", 1, 1)
    if count(after, "sigmoid") > count(before, "sigmoid"):
        out += ("; ", ("eq", mul(Func("exp", u), Pow(add(Num(1), Func("exp", u)), Num(-1))),
                       Func("sigmoid", u)))
    if count(after, "tanh") > count(before, "tanh"):
        out += ("; ", ("eq", mul(Func("sinh", u), Pow(Func("cosh", u), Num(-1))), Func("tanh", u)))
    return out


class Term:
    """coef · tr(product of factors): exactly one factor contains dX."""
    __slots__ = ("coef", "factors", "traced")

    def __init__(self, coef: tuple, factors: tuple, traced: bool):
        self.coef, self.factors, self.traced = tuple(coef), tuple(factors), traced

    def __repr__(self) -> str:
        return f"Term({self.coef}, {self.factors}, {self.traced})"


def _transposes(n: ir.Node) -> int:
    return sum(1 for x in ir.walk(n) if isinstance(x, Transpose))


def _has_transposed_product(n: ir.Node) -> bool:
    return any(isinstance(x, Transpose) and isinstance(x.args[0], MatMul) for x in ir.walk(n))


def one_sign_convention(f: ir.Node) -> ir.Node:
    """Numbers out of elementwise products, as the rules write them: ``(-y) .* (X*w)``
    is ``-(y .* (X*w))``, so a derivation shows one spelling of the same quantity."""
    memo = {}

    def go(n):
        r = memo.get(n)
        if r is None:
            kids = [go(a) if isinstance(a, ir.Node) else a for a in n.args]
            changed = any(k is not a for k, a in zip(kids, n.args))
            if isinstance(n, Hadamard):
                r = hadamard(*kids)
            else:
                r = n.rebuild(*kids) if changed else n
            memo[n] = r
        return r

    return go(f)


def rebuild_light(node: ir.Node, kids: list) -> ir.Node:
    """Rebuild a parent after a child changed: flatten, absorb zeros, nothing more."""
    cls = type(node)
    if cls is MatMul:
        return mul(*kids)
    if cls is Add:
        return add(*kids)
    if cls is Hadamard:
        return hadamard(*kids)
    if cls in (Trace, Sum) and canon.is_zero(kids[0]):
        return Num(0)
    if cls in (Transpose, DiagMat, DiagVec) and canon.is_zero(kids[0]):
        return canon.zero_like(node)
    return node.rebuild(*kids)


# ---------------------------------------------------------------------------
# differential rules: fn(engine, p, ctx) -> replacement for D(p), or None

def _d_constant(e: Engine, p, ctx):
    if e.dep(p):
        return None
    if not isinstance(p, Num) and p not in ctx["removed"]:
        ctx["removed"].append(p)
    return canon.zero_like(p)


def _d_linearity(e: Engine, p, ctx):
    if isinstance(p, Add):
        # d(x - mu) = -dmu in one step: constant terms drop, numbers come out
        out = []
        for t in p.args:
            if not e.dep(t):
                if not isinstance(t, Num) and t not in ctx["removed"]:
                    ctx["removed"].append(t)
                continue
            c, fs = canon.coef_split(t)
            out.append(mul(Num(c), D(mul(*fs))) if c != 1 and fs else D(t))
        ctx.setdefault("lin", []).append(Add)
        return add(*out) if out else canon.zero_like(p)
    if isinstance(p, MatMul):
        c, fs = canon.coef_split(p)
        if c != 1 and fs:
            ctx.setdefault("lin", []).append(MatMul)
            return mul(Num(c), D(mul(*fs)))
    if isinstance(p, (Sum, DiagMat, DiagVec, ir.Vec)):
        ctx.setdefault("lin", []).append(type(p))
        return type(p)(D(p.args[0]))
    return None


def _linearity_note(kinds: list) -> tuple:
    """The part of linearity a step used: d(aX + bY) = a dX + b dY, d sum(P) = sum(dP), ..."""
    p = Sym("P", "matrix", "m", "n")
    parts = []
    for k in dict.fromkeys(kinds):
        if k is Add:
            a, b = Sym("alpha", "scalar", 1, 1), Sym("beta", "scalar", 1, 1)
            x, y = Sym("X", "matrix", "m", "n"), Sym("Y", "matrix", "m", "n")
            parts.append(("eq", D(Add(MatMul(a, x), MatMul(b, y))),
                          Add(MatMul(a, D(x)), MatMul(b, D(y)))))
        elif k is MatMul:
            a, x = Sym("alpha", "scalar", 1, 1), Sym("X", "matrix", "m", "n")
            parts.append(("eq", D(MatMul(a, x)), MatMul(a, D(x))))
        elif k is Sum:
            parts.append(("eq", D(Sum(p)), Sum(D(p))))
        elif k is DiagVec:
            q = Sym("P", "matrix", "n", "n")
            parts.append(("eq", D(DiagVec(q)), DiagVec(D(q))))
        elif k is DiagMat:
            v = Sym("v", "vector", "n", 1)
            parts.append(("eq", D(DiagMat(v)), DiagMat(D(v))))
        elif k is ir.Vec:
            parts.append(("eq", D(ir.Vec(p)), ir.Vec(D(p))))
    note = ["d is linear: "]
    for i, part in enumerate(parts):
        if i:
            note.append(", ")
        note.append(part)
    return tuple(note)


def _d_kron(e, p, ctx):
    if not isinstance(p, ir.Kron):
        return None
    a, b = p.args
    return add(*([ir.Kron(D(a), b)] if e.dep(a) else []) + ([ir.Kron(a, D(b))] if e.dep(b) else []))


def _d_trace(e, p, ctx):
    return Trace(D(p.args[0])) if isinstance(p, Trace) else None


def _d_transpose(e, p, ctx):
    return Transpose(D(p.args[0])) if isinstance(p, Transpose) else None


def _d_product(e, p, ctx):
    if not isinstance(p, MatMul):
        return None
    fs = p.args
    _guard_growth(len(fs), p)
    terms = []
    for i, f in enumerate(fs):
        if isinstance(f, Num):
            continue
        terms.append(mul(*fs[:i], D(f), *fs[i + 1:]))
    return add(*terms)


def _guard_growth(copies: int, p: ir.Node) -> None:
    """The product and power rules copy their argument once per factor: refuse early."""
    if copies * ir.node_count(p) > MAX_NODES:
        raise LimitError(f"the product rule on {copies} factors would write more than "
                         f"{MAX_NODES} nodes; split the expression")


def _d_inverse(e, p, ctx):
    if not isinstance(p, Inverse):
        return None
    return mul(Num(-1), p, D(p.args[0]), p)


def _d_logdet(e, p, ctx):
    if not isinstance(p, LogDet):
        return None
    y = p.args[0]
    ctx.setdefault("args", []).append(y)
    return Trace(mul(Inverse(y), D(y)))


def _d_det(e, p, ctx):
    if not isinstance(p, Det):
        return None
    y = p.args[0]
    ctx.setdefault("args", []).append(y)
    return mul(p, Trace(mul(Inverse(y), D(y))))


def _d_power(e, p, ctx):
    if not isinstance(p, MatPow):
        return None
    x, k = p.args
    _guard_growth(k, p)
    terms = []
    for i in range(k):
        left = [] if i == 0 else [x if i == 1 else MatPow(x, i)]
        j = k - 1 - i
        right = [] if j == 0 else [x if j == 1 else MatPow(x, j)]
        terms.append(mul(*left, D(x), *right))
    return add(*terms)


def _norm_inner(v, dv):
    if v.shape == (1, 1):
        return mul(v, dv)
    if v.shape[1] == 1:
        return mul(Transpose(v), dv)
    return Trace(mul(Transpose(v), dv))


def _d_norm_squared(e, p, ctx):
    if isinstance(p, Pow) and isinstance(p.args[0], Norm) and p.args[1] == Num(2):
        v = p.args[0].args[0]
        return mul(Num(2), _norm_inner(v, D(v)))
    return None


def _d_norm(e, p, ctx):
    if isinstance(p, Norm):
        v = p.args[0]
        return mul(_norm_inner(v, D(v)), Pow(p, Num(-1)))
    if isinstance(p, Pow) and isinstance(p.args[0], Norm) and isinstance(p.args[1], Num):
        v, k = p.args[0].args[0], p.args[1].value
        inner = _norm_inner(v, D(v))
        if k == 2:
            return None                     # the squared norm has its own rule
        if k == 3:
            return mul(Num(k), p.args[0], inner)
        return mul(Num(k), Pow(p.args[0], Num(k - 2)), inner)
    return None


def _d_scalar_power(e, p, ctx):
    if not isinstance(p, Pow):
        return None
    s, x = p.args
    if not e.dep(x):
        if isinstance(x, Num):
            k = x.value
            lower = s if k - 1 == 1 else (Num(1) if k - 1 == 0 else Pow(s, Num(k - 1)))
            return mul(Num(k), lower, D(s))
        return mul(x, Pow(s, add(x, Num(-1))), D(s))
    return mul(p, add(mul(Func("log", s), D(x)), mul(x, Pow(s, Num(-1)), D(s))))


def _d_hadamard(e, p, ctx):
    if not isinstance(p, Hadamard):
        return None
    fs = p.args
    _guard_growth(len(fs), p)
    return add(*[hadamard(*fs[:i], D(f), *fs[i + 1:]) for i, f in enumerate(fs)])


def _d_hadpow(e, p, ctx):
    if not isinstance(p, HadPow):
        return None
    b, x = p.args
    parts = []
    if e.dep(b):
        if isinstance(x, Num):
            k = x.value
            lower = b if k - 1 == 1 else (None if k - 1 == 0 else HadPow(b, Num(k - 1)))
            parts.append(hadamard(*([Num(k)] + ([lower] if lower is not None else []) + [D(b)])))
        else:
            one = Num(1) if x.shape == (1, 1) else Ones(*x.shape)
            parts.append(hadamard(x, HadPow(b, add(x, mul(Num(-1), one))), D(b)))
    if e.dep(x):
        parts.append(hadamard(p, Func("log", b), D(x)))
    if not parts:
        return None
    return add(*parts)


def derivative_of(name: str, x: ir.Node) -> ir.Node:
    """g'(x) for an elementwise (or scalar) function g."""
    scalar = x.shape == (1, 1)
    one = Num(1) if scalar else Ones(*x.shape)

    def recip(n):
        return Pow(n, Num(-1)) if scalar else HadPow(n, Num(-1))

    def square(n):
        return Pow(n, Num(2)) if scalar else HadPow(n, Num(2))

    g = Func(name, x)
    if name == "log":
        return recip(x)
    if name == "exp":
        return g
    if name == "sqrt":
        return recip(mul(Num(2), g))
    if name == "sin":
        return Func("cos", x)
    if name == "cos":
        return mul(Num(-1), Func("sin", x))
    if name == "tan":
        return add(one, square(g))
    if name == "sinh":
        return Func("cosh", x)
    if name == "cosh":
        return Func("sinh", x)
    if name == "tanh":
        return add(one, mul(Num(-1), square(g)))
    if name == "sigmoid":
        return hadamard(g, add(one, mul(Num(-1), g)))
    if name == "abs":
        return hadamard(x, recip(Func("abs", x)))
    raise UnsupportedError(f"no derivative known for {name}")


def _d_chain(e, p, ctx):
    if not isinstance(p, Func):
        return None
    x = p.args[1]
    gp = derivative_of(p.name, x)
    if x.shape == (1, 1):
        return mul(gp, D(x))
    return hadamard(gp, D(x))


def _d_softplus(e, p, ctx):
    """d log(1 + exp(u)) = sigmoid(u) .* du: the logistic loss in one step."""
    if not isinstance(p, Func) or p.name != "log" or not isinstance(p.args[1], Add):
        return None
    b = p.args[1]
    if len(b.args) != 2:
        return None
    for one, ex in (b.args, tuple(reversed(b.args))):
        if ((isinstance(one, Num) and one.value == 1) or isinstance(one, Ones)) \
                and isinstance(ex, Func) and ex.name == "exp":
            u = ex.args[1]
            s = Func("sigmoid", u)
            return mul(s, D(u)) if u.shape == (1, 1) else hadamard(s, D(u))
    return None


D_RULES = (
    ("constant", _d_constant),
    # d of a transpose or a trace first: d((x - mu)') becomes (d(x - mu))', the same d(x - mu)
    # as elsewhere in the expression, and the rules that follow take it once for all
    ("trace", _d_trace),
    ("transpose", _d_transpose),
    ("linearity", _d_linearity),
    ("product", _d_product),
    ("inverse", _d_inverse),
    ("logdet", _d_logdet),
    ("det", _d_det),
    ("power", _d_power),
    ("norm_squared", _d_norm_squared),
    ("norm", _d_norm),
    ("scalar_power", _d_scalar_power),
    ("hadamard_product", _d_hadamard),
    ("kron_product", _d_kron),
    ("scalar_power", _d_hadpow),
    ("softplus", _d_softplus),
    ("chain", _d_chain),
)


def _d_note(rule_id: str, ctx: dict) -> tuple:
    if rule_id == "constant":
        removed = ctx["removed"]
        if not removed:
            return ("by ", ("ref", "constant"), ", a constant has zero differential")
        return ("by ", ("ref", "constant"), ", ") + _removed_note(removed)
    note = ("by ", ("ref", rule_id), ", ", ("rule", rule_id))
    if rule_id == "linearity" and ctx.get("lin"):
        note = _linearity_note(ctx["lin"])
    if rule_id == "linearity" and ctx["removed"]:
        note = ("d is linear; ",) + _removed_note(ctx["removed"])
    args = list(dict.fromkeys(ctx.get("args", ())))
    if len(args) == 1 and not isinstance(args[0], Sym) and \
            all(not (isinstance(x, Sym) and x.name == "Y") for x in ir.walk(args[0])):
        y = args[0]
        note += (" with ", ("eq", Sym("Y", "matrix", *y.shape), y))
    return note


def _short_note(rule_id: str, note: tuple) -> tuple:
    """A note already written in full earlier in the derivation: name the rule, do not
    state it again (``by (2), product rule``; ``d is linear``)."""
    r = BY_ID[rule_id]
    if ("rule", rule_id) not in note and not (rule_id == "linearity" and r.note in note[0]):
        return note
    return ("by ", ("ref", rule_id), ", ", r.note) if r.stated else (r.note,)


def _removed_note(removed: list) -> tuple:
    """``dA = 0, dB = 0 and others``: the constants a step dropped."""
    note = []
    shown = removed[:4]
    for i, r in enumerate(shown):
        if i:
            note.append(", " if i < len(shown) - 1 else " and ")
        note.append(("eq", D(r), Num(0)))
    if len(removed) > 4:
        note.append(" and others")
    return tuple(note)


# ---------------------------------------------------------------------------
# normal-form rules: fn(engine, term) -> Term | (rule_id, Term) | None

def _split_runs(fs) -> list:
    """Maximal runs of a chain that multiply as matrices (a 1x1 run scales the rest)."""
    runs, cur, acc = [], [], None
    for f in fs:
        if cur and acc == (1, 1) and f.shape[0] != 1:
            runs.append(cur)
            cur, acc = [], None
        cur.append(f)
        acc = f.shape if acc is None else (acc[0], f.shape[1])
    runs.append(cur)
    return runs


def _nf_scalar_factor(e: Engine, t: Term):
    fs = t.factors
    if len(fs) <= 1:
        return _unwrap_single(e, t)
    i = e.d_index(fs)
    moved = [f for j, f in enumerate(fs) if j != i and f.shape == (1, 1)]
    if moved:
        rest = tuple(f for j, f in enumerate(fs) if not (j != i and f.shape == (1, 1)))
        return Term(t.coef + tuple(moved), rest, t.traced)
    runs = _split_runs(fs)
    if len(runs) > 1:
        coefs = [mul(*r) for r in runs if not any(e.has_d(f) for f in r)]
        if coefs and all(c.shape == (1, 1) for c in coefs):
            keep = tuple(f for r in runs if any(e.has_d(f) for f in r) for f in r)
            return Term(t.coef + tuple(coefs), keep, t.traced)
        drun = next(r for r in runs if any(e.has_d(f) for f in r))
        others = [f for r in runs if r is not drun for f in r]
        if mul(*drun).shape == (1, 1) and others:
            rest = mul(*others)
            c = _coefficient(rest)
            return _unwrap_single(e, Term(t.coef + (c,), tuple(drun), False)) or \
                Term(t.coef + (c,), tuple(drun), False)
    if fs[i].shape == (1, 1):
        others = fs[:i] + fs[i + 1:]
        rest = mul(*others)
        c = _coefficient(rest)
        nt = Term(t.coef + (c,), (fs[i],), False)
        return _unwrap_single(e, nt) or nt
    return None


def _coefficient(rest: ir.Node) -> ir.Node:
    """The scalar that the factors ``rest`` around a scalar dX contribute: ``rest`` itself
    or its trace; ``tr(I)`` and ``tr(ones)`` are their size at once, so the read-off is in
    its final form (no "tidy up" step that only renames ``tr(I)`` to n)."""
    if rest.shape == (1, 1):
        return rest
    if isinstance(rest, (Ident, ir.Ones)):
        return canon.trace_of(rest)
    return Trace(rest)


def _unwrap_single(e: Engine, t: Term):
    """A lone factor that is a trace or a product: open it up."""
    if len(t.factors) != 1:
        return None
    f = t.factors[0]
    if isinstance(f, Trace):
        c, fs = e.chain(f.args[0])
        return Term(t.coef + ((Num(c),) if c != 1 else ()), fs, True)
    if isinstance(f, MatMul):
        c, fs = e.chain(f)
        return Term(t.coef + ((Num(c),) if c != 1 else ()), fs, t.traced)
    return None


def _nf_flatten(e: Engine, t: Term):
    fs = t.factors
    i = e.d_index(fs)
    if isinstance(fs[i], MatMul):
        c, inner = e.chain(fs[i])
        new = fs[:i] + inner + fs[i + 1:]
        if ir.product_shape([f.shape for f in new]) is None:
            return None
        return Term(t.coef + ((Num(c),) if c != 1 else ()), new, t.traced)
    return None


def _nf_transpose(e: Engine, t: Term):
    fs = t.factors
    i = e.d_index(fs)
    if not isinstance(fs[i], Transpose):
        return None
    c, inner = e.chain(fs[i].args[0])
    new = tuple(tp(f) for f in reversed(fs[i + 1:])) + inner + tuple(tp(f) for f in reversed(fs[:i]))
    shown = t.traced and not (e.ctx.kind != "matrix" and mul(*fs).shape == (1, 1))
    rid = "trace_transpose" if shown else "scalar_transpose"
    return rid, Term(t.coef + ((Num(c),) if c != 1 else ()), new, t.traced)


def _nf_sum(e: Engine, t: Term):
    fs = t.factors
    if len(fs) != 1 or not isinstance(fs[0], Sum):
        return None
    y = fs[0].args[0]
    r, c = y.shape
    k, inner = e.chain(y)
    left = () if r == 1 else (Transpose(Ones(r, 1)),)
    right = () if c == 1 else (Ones(c, 1),)
    return Term(t.coef + ((Num(k),) if k != 1 else ()), left + inner + right, False)


def _nf_trace_wrap(e: Engine, t: Term):
    if e.ctx.kind != "matrix" or t.traced:
        return None
    return Term(t.coef, t.factors, True)


def _nf_cyclic(e: Engine, t: Term):
    fs = t.factors
    i = e.d_index(fs)
    if i == len(fs) - 1:
        return None
    if not t.traced and mul(*fs).shape != (1, 1):
        return None
    new = fs[i + 1:] + fs[:i + 1]
    return Term(t.coef, new, True)         # a scalar is its trace: the rotated chain is traced


def _nf_hadamard(e: Engine, t: Term):
    fs = t.factors
    i = e.d_index(fs)
    h = fs[i]
    if i != len(fs) - 1 or not isinstance(h, Hadamard):
        return None
    j = e.d_index(h.args)
    others = h.args[:j] + h.args[j + 1:]
    m = mul(*fs[:-1]) if len(fs) > 1 else Ident(h.shape[0])
    c, inner = e.chain(h.args[j])
    w = Transpose(hadamard(tp(m), *others))
    return Term(t.coef + ((Num(c),) if c != 1 else ()), (w,) + inner, t.traced)


def _nf_diag(e: Engine, t: Term):
    fs = t.factors
    i = e.d_index(fs)
    g = fs[i]
    if i != len(fs) - 1 or not isinstance(g, (DiagMat, DiagVec)):
        return None
    c, inner = e.chain(g.args[0])
    extra = ((Num(c),) if c != 1 else ())
    if isinstance(g, DiagMat):
        if len(fs) > 1:
            w = Transpose(DiagVec(mul(*fs[:-1])))
        else:
            w = Transpose(Ones(g.shape[0], 1))
        return Term(t.coef + extra, (w,) + inner, t.traced)
    if len(fs) == 1:
        return None
    m = mul(*fs[:-1])
    if m.shape[0] != 1:
        return None
    return Term(t.coef + extra, (DiagMat(tp(m)),) + inner, True)


NF_RULES = (
    ("scalar_factor", _nf_scalar_factor),
    ("scalar_factor", _nf_flatten),
    ("sum_ones", _nf_sum),
    ("transpose", _nf_transpose),
    ("scalar_trace", _nf_trace_wrap),
    ("cyclic", _nf_cyclic),
    ("hadamard_trace", _nf_hadamard),
    ("diag_trace", _nf_diag),
)


def _nf_note(used: list) -> tuple:
    if len(used) == 1:
        rid = used[0]
        from .rules import rule
        if rule(rid).stated:
            return ("by ", ("ref", rid), ", ", ("rule", rid))
        return (rule(rid).note,)
    note = []
    for k, rid in enumerate(used):
        if k:
            note.append("; ")
        note.append(("rule", rid))
    return tuple(note)


def linear_gradient(du: ir.Node, wrt: Sym) -> ir.Node:
    """G with ``du = tr(Gᵀ dX)`` for a scalar du linear in dX (the normal form and
    read-off of a gradient, without recording steps)."""
    eng = Engine(du, Ctx(wrt))
    terms = eng.collect_terms(eng.normal_form(du))
    return eng.read_off(terms)


def derive_ir(f: ir.Node, wrt: Sym):
    """(steps, gradient) of f with respect to wrt."""
    eng = Engine(f, Ctx(wrt))
    g = eng.run()
    return eng.steps, g
