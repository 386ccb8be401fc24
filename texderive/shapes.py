"""Kinds, declarations and symbolic shapes: from a syntax tree to typed IR.

Elaboration runs in two passes.  The first walks the syntax tree, gives every
sub-expression a shape whose dimensions are union-find variables, unifies them
through products, sums, traces and inverses, and decides what each operator
means (a product of matrices or a scaling, a scalar or a matrix power, an
elementwise or a scalar function).  The second builds the immutable IR with
every dimension resolved to a name (``"m"``) or a number.

A clash raises :class:`ShapeError` naming the sub-expression, both shapes and
the column, e.g. ``shape clash in A*x: A is m×n, x is p×1 at col 1``.
"""
from __future__ import annotations

import re
from fractions import Fraction

from . import ir
from .errors import ParseError, ShapeError, TexderiveError, UnsupportedError
from .notation import Syn

GREEK = frozenset("""alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi
    pi rho sigma tau upsilon phi chi psi omega""".split())
KINDS = ("scalar", "vector", "matrix", "symmetric")
_DIM_POOL = ("m", "n", "p", "q", "r", "s", "k", "l", "t", "u", "v", "w")


def split_name(name: str) -> tuple:
    """(base, subscript): ``X1`` -> (X, 1), ``Sigma_k`` -> (Sigma, k), ``Wq`` -> (Wq, '')."""
    if "_" in name:
        base, _, sub = name.partition("_")
        return base, sub
    m = re.match(r"(.*?[A-Za-z])(\d+)\Z", name)
    if m:
        return m.group(1), m.group(2)
    return name, ""


def default_kind(name: str) -> str:
    base = split_name(name)[0]
    if base in GREEK:
        return "scalar"
    return "matrix" if name[0].isupper() else "vector"


def parse_declaration(name: str, decl: str) -> tuple:
    """``'matrix m n'`` -> ('matrix', ('m', 'n')); sizes are names or positive integers."""
    if not isinstance(decl, str):
        raise ParseError(f"the declaration of {name} must be a string such as 'matrix m n'")
    words = decl.replace(",", " ").split()
    if not words or words[0] not in KINDS:
        raise ParseError(f"bad declaration {name}: {decl!r}: the kind must be one of "
                         f"{', '.join(KINDS)}, optionally followed by sizes ('X: matrix m n')")
    kind, sizes = words[0], words[1:]
    want = {"scalar": 0, "vector": 1, "matrix": 2, "symmetric": 1}[kind]
    if sizes and len(sizes) != want:
        raise ParseError(f"bad declaration {name}: {decl!r}: a {kind} takes {want} "
                         f"size{'s' if want != 1 else ''}")
    out = []
    for s in sizes:
        if re.fullmatch(r"[1-9]\d{0,5}", s):
            out.append(int(s))
        elif re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", s):
            out.append(s)
        else:
            raise ParseError(f"bad size {s!r} in the declaration of {name}")
    return kind, tuple(out)


def parse_let(let) -> dict:
    """Normalise declarations: a dict {name: decl} or strings 'name: decl'."""
    out = {}
    if let is None:
        return out
    if isinstance(let, str):
        let = [let]
    if not isinstance(let, (dict, list, tuple)):
        raise ParseError(f"let must map names to declarations (a dict such as "
                         f"{{'S': 'symmetric'}}), not {type(let).__name__}")
    items = let.items() if isinstance(let, dict) else []
    if not isinstance(let, dict):
        pairs = []
        for item in let:
            if not isinstance(item, str) or ":" not in item:
                raise ParseError(f"bad declaration {item!r}: write 'name: kind [sizes]'")
            n, _, d = item.partition(":")
            pairs.append((n.strip(), d.strip()))
        items = pairs
    for name, decl in items:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise ParseError(f"bad name {name!r} in a declaration")
        if name in ("I", "ones", "zeros"):
            raise ParseError(f"{name} is reserved and cannot be declared")
        out[name] = parse_declaration(name, decl)
    return out


# ---------------------------------------------------------------------------
# dimension variables

class DimVar:
    __slots__ = ("parent", "name", "flex", "declared")

    def __init__(self, name: str, flex: bool, declared: bool = False):
        self.parent, self.name, self.flex, self.declared = None, name, flex, declared


class ProdDim:
    """A product of dimensions (the rows of ``kron(A, B)``, the length of ``vec(X)``):
    a number ``k`` and the dimension variables multiplied.  :func:`find` gives it in
    normal form (factors resolved, numbers multiplied, a lone variable unwrapped)."""
    __slots__ = ("k", "vars")

    def __init__(self, k: int, vars_):
        self.k, self.vars = k, tuple(vars_)


def product_dim(*dims):
    return find(ProdDim(1, dims))


def _root(d):
    while isinstance(d, DimVar) and d.parent is not None:
        d = d.parent
    return d


def find(d):
    d = _root(d)
    if not isinstance(d, ProdDim):
        return d
    k, vars_, stack = d.k, [], list(d.vars)
    while stack:
        f = _root(stack.pop())
        if isinstance(f, int):
            k *= f
        elif isinstance(f, ProdDim):
            k *= f.k
            stack.extend(f.vars)
        else:
            vars_.append(f)
    if k == 0 or not vars_:
        return k
    if k == 1 and len(vars_) == 1:
        return vars_[0]
    vars_.sort(key=id)
    return ProdDim(k, vars_)


class _Clash(Exception):
    pass


def _unify_product(p: ProdDim, b) -> None:
    """p = b where p is a product: solvable when, after cancelling common factors, one
    side is a single variable that no user declaration names."""
    if isinstance(b, int):
        if len(p.vars) == 1 and b % p.k == 0 and not p.vars[0].declared:
            unify(p.vars[0], b // p.k)
            return
        raise _Clash()
    if isinstance(b, DimVar):
        if b.declared or any(v is b for v in p.vars):
            raise _Clash()
        b.parent = p
        return
    left, right = list(p.vars), list(b.vars)
    for v in list(left):
        for j, w in enumerate(right):
            if w is v:
                left.remove(v)
                del right[j]
                break
    if not left and not right:
        if p.k != b.k:
            raise _Clash()
        return
    for one, ka, other, kb in ((left, p.k, right, b.k), (right, b.k, left, p.k)):
        if len(one) == 1 and not one[0].declared and ka == 1:
            unify(one[0], find(ProdDim(kb, other)) if other else kb)
            return
    raise _Clash()


def unify(a, b) -> None:
    a, b = find(a), find(b)
    if a is b:
        return
    if isinstance(a, ProdDim):
        _unify_product(a, b)
        return
    if isinstance(b, ProdDim):
        _unify_product(b, a)
        return
    if isinstance(a, int) and isinstance(b, int):
        if a != b:
            raise _Clash()
        return
    if isinstance(a, int):
        a, b = b, a
    # a is a DimVar
    if isinstance(b, int):
        if b == 1 and not a.flex:
            raise _Clash()
        a.parent = b
        return
    if a.flex:
        a.parent = b
    elif b.flex:
        b.parent = a
    elif a.declared and b.declared:
        raise _Clash()                 # two sizes the user named apart: m is not n
    elif b.declared:
        a.parent = b
    else:
        b.parent = a


def dim_str(d) -> str:
    d = find(d)
    if isinstance(d, ProdDim):
        return "*".join(([str(d.k)] if d.k != 1 else []) + sorted(v.name for v in d.vars))
    return str(d) if isinstance(d, int) else d.name


def shape_str(shape) -> str:
    return f"{dim_str(shape[0])}×{dim_str(shape[1])}"


def is_one(d) -> bool:
    return find(d) == 1


def _may_be_scalar(shape) -> bool:
    """Could the shape still become 1×1: each size 1 or an open size of I, ones or zeros?
    (``1 + (ones*X).^2`` is n columns wide: 1 is broadcast, whatever the rows.)"""
    def may_be_one(d):
        d = find(d)
        return d == 1 or (isinstance(d, DimVar) and d.flex)
    return all(may_be_one(d) for d in shape)


def _fixed_by_sum(shape) -> bool:
    """Does adding a scalar fix this shape as 1×1 rather than broadcast the scalar over it?
    Yes when one size is open and the other is 1 (``ones'*x + 1`` is a number); no when
    both are open (``2 + I``: 2 on every entry of I, whose size its context gives)."""
    if not (is_open(shape) and _may_be_scalar(shape)):
        return False
    return any(find(d) == 1 for d in shape)


def is_open(shape) -> bool:
    """Does the shape still have a flexible size (of I, ones or zeros) that nothing fixed?"""
    def open_(d):
        d = find(d)
        if isinstance(d, ProdDim):
            return any(v.flex for v in d.vars)
        return isinstance(d, DimVar) and d.flex
    return any(open_(d) for d in shape)


def is_scalar_shape(shape) -> bool:
    return is_one(shape[0]) and is_one(shape[1])


def fold_left_chain(node, in_chain, leaf, apply):
    """Evaluate a left-nested chain a*b*c*... (syntax or elaborated) without recursing
    down its left spine, so a flat product of thousands of factors needs no deep stack."""
    spine = []
    while in_chain(node):
        spine.append(node)
        node = node.kids[0]
    acc = leaf(node)
    for op in reversed(spine):
        acc = apply(op, acc)
    return acc


# ---------------------------------------------------------------------------
# pass 1: shapes and meaning

class E:
    """An elaborated sub-expression: what to build, its children and its shape."""
    __slots__ = ("op", "kids", "shape", "data", "syn")

    def __init__(self, op, kids, shape, syn, data=None):
        self.op, self.kids, self.shape, self.syn, self.data = op, tuple(kids), shape, syn, data


class Elaborator:
    def __init__(self, source: str, let: dict):
        self.source = source
        self.let = let
        self.names = {}            # name -> (kind, shape)
        self.spelling = {}         # (base, sub) -> name
        self.dim_names = {}        # declared size name -> DimVar
        self.used = {s for _, (_, sizes) in let.items() for s in sizes if isinstance(s, str)}
        # a size prints as its name (n) in LaTeX: never the name of a scalar of the input
        self.used |= {n for n, (kind, _) in let.items() if kind == "scalar"}
        self.pool = 0
        self.consts = []
        self.not_rows = []
        self.greek_broadcasts = []  # (name, sum syntax, the array's E): see remarks()
        self.open_broadcasts = []   # (sum syntax, array syntax, shape): see check_consts()

    # -- helpers -----------------------------------------------------------
    def text(self, syn: Syn) -> str:
        return self.source[syn.pos:syn.end].strip()

    def fresh(self, flex: bool = False) -> DimVar:
        while True:
            i = self.pool
            self.pool += 1
            name = _DIM_POOL[i] if i < len(_DIM_POOL) else f"d{i - len(_DIM_POOL) + 1}"
            if name not in self.used:
                self.used.add(name)
                return DimVar(name, flex)

    def declared_dim(self, size):
        if isinstance(size, int):
            return size
        if size not in self.dim_names:
            self.dim_names[size] = DimVar(size, False, declared=True)
            self.used.add(size)
        return self.dim_names[size]

    def clash(self, syn: Syn, parts) -> ShapeError:
        desc = ", ".join(f"{self.text(s)} is {shape_str(sh)}" for s, sh in parts)
        if any(isinstance(find(d), ProdDim) for _, sh in parts for d in sh):
            desc += (" (a size that is a product, of kron or vec, is matched factor by factor: "
                     "declare the sizes, e.g. --let 'A: matrix m n')")
        return ShapeError(f"shape clash in {self.text(syn)}: {desc}", pos=syn.pos,
                          source=self.source, length=syn.end - syn.pos)

    def unify_shapes(self, syn, parts, a, b):
        try:
            unify(a[0], b[0])
            unify(a[1], b[1])
        except _Clash:
            raise self.clash(syn, parts) from None

    def need(self, cond: bool, syn: Syn, msg: str, cls=ShapeError):
        if not cond:
            raise cls(msg, pos=syn.pos, source=self.source, length=syn.end - syn.pos)

    def square(self, syn: Syn, e: E, what: str):
        try:
            unify(e.shape[0], e.shape[1])
        except _Clash:
            raise ShapeError(f"{what} needs a square matrix, but {self.text(e.syn)} is "
                             f"{shape_str(e.shape)}", pos=syn.pos, source=self.source,
                             length=syn.end - syn.pos) from None

    # -- dispatch ----------------------------------------------------------
    _CHAINS = ("add", "sub", "mul", "div", "hmul", "hdiv")

    def elab(self, syn: Syn) -> E:
        if syn.kind in self._CHAINS and syn.kids[0].kind in self._CHAINS:
            return self._chain(syn)
        return getattr(self, "_" + syn.kind)(syn)

    def _chain(self, syn: Syn) -> E:
        return fold_left_chain(syn, lambda n: n.kind in self._CHAINS, self.elab,
                               lambda op, acc: getattr(self, "_" + op.kind)(op, left=acc))

    def _left(self, syn: Syn, left):
        return left if left is not None else self.elab(syn.kids[0])

    def _paren(self, syn):
        inner = self.elab(syn.kids[0])
        return E(inner.op, inner.kids, inner.shape, syn, inner.data)

    def _num(self, syn):
        return E("num", (), (1, 1), syn, syn.value)

    def _const(self, syn):
        if syn.value == "I":
            d = self.fresh(flex=True)
            self.consts.append((syn, (d,)))
            return E("ident", (), (d, d), syn)
        dims = (self.fresh(flex=True), self.fresh(flex=True))
        self.consts.append((syn, dims))
        return E(syn.value, (), dims, syn)

    def _sconst(self, syn):
        """A constant with its size (the LaTeX reader's \\mathbf{I}_n, \\mathbf{1}_{m},
        \\mathbf{1}_{m,n}): each size is a number, a size name, or a run of size names
        (mn is m*n when m and n are sizes and mn is not)."""
        name, size = syn.value
        sizes = size if isinstance(size, tuple) else (size,)
        dims = [self.size_of(z, syn) for z in sizes]
        if name == "I":
            if len(dims) == 2:
                try:
                    unify(dims[0], dims[1])
                except _Clash:
                    raise self.clash(syn, [(syn, tuple(dims))]) from None
            return E("ident", (), (dims[0], dims[0]), syn)
        return E(name, (), (dims[0], dims[1] if len(dims) == 2 else 1), syn)

    def size_of(self, size: str, syn: Syn):
        if size.isdigit():
            return int(size)
        declared = {d for _, (_, sizes) in self.let.items() for d in sizes if isinstance(d, str)}
        known = sorted(declared | set(self.dim_names), key=len, reverse=True)
        if size in known or not known:
            return self.declared_dim(size)
        parts, rest = [], size
        while rest:
            m = re.match(r"\d+", rest)
            if m:
                parts.append(int(m.group()))
                rest = rest[m.end():]
                continue
            for k in known:
                if rest.startswith(k):
                    parts.append(self.declared_dim(k))
                    rest = rest[len(k):]
                    break
            else:
                return self.declared_dim(size)
        return parts[0] if len(parts) == 1 else ProdDim(1, parts)

    def _colconst(self, syn):
        """A 1 or 0 printed without a transpose: it must not turn out a row (checked in
        check_consts; only the reader of printed steps makes it)."""
        e = self._const(syn)
        self.not_rows.append((syn, e.shape))
        return e

    def check_consts(self):
        """Every I must take its size from the rest of the expression; a size of ones or
        zeros that nothing fixes is 1 (``tr(ones'*X*ones)``: a column of ones).  A
        constant that comes out 1×1 is refused: it would silently be the number 1 or 0
        (``I*alpha``, ``sum(X ./ (1 + I.^2))``, ``tr(X)*sum(ones)``), a reading nobody
        who wrote I or ones meant."""
        for syn, array, shape in self.open_broadcasts:
            if is_open(shape):
                # a*c'*(alpha + ones): ones p×k, k by no rule but a default; once read as
                # the number alpha + 1, now as a column: either way a guess, so refused
                raise ShapeError(f"the size of {self.text(array)} in {self.text(syn)} is not "
                                 f"fixed by the expression (a number added to it leaves it "
                                 f"any size); use it where its size is fixed, or write the "
                                 f"number", pos=syn.pos, source=self.source,
                                 length=syn.end - syn.pos)
        for syn, dims in self.consts:
            for d in dims:
                r = find(d)
                if isinstance(r, DimVar) and r.flex and syn.value != "I":
                    r.parent = 1            # ones and zeros default to a column (or row) of ones
                    continue
                if isinstance(r, DimVar) and r.flex:
                    raise ShapeError(f"the size of {syn.value} is not fixed by the expression "
                                     f"(nothing it adds to or multiplies has a size)", pos=syn.pos,
                                     source=self.source, length=syn.end - syn.pos)
            if all(is_one(d) for d in dims):
                number = "0" if syn.value == "zeros" else "1"
                raise ShapeError(f"{syn.value} is 1×1 here, the number {number}: nothing it adds "
                                 f"to or multiplies gives it a size (write {number} for the "
                                 f"number)", pos=syn.pos, source=self.source,
                                 length=syn.end - syn.pos)
        for syn, (r, c) in self.not_rows:
            if is_one(r) and not is_one(c):
                raise ShapeError(f"{self.text(syn)} stands for a row here, but is printed "
                                 f"without a transpose", pos=syn.pos, source=self.source,
                                 length=syn.end - syn.pos)

    def _name(self, syn):
        name = syn.value
        if name not in self.names:
            key = split_name(name)
            other = self.spelling.setdefault(key, name)
            if other != name:
                raise ParseError(f"{other} and {name} print alike; use one spelling",
                                 pos=syn.pos, source=self.source, length=syn.end - syn.pos)
            kind, sizes = self.let.get(name, (default_kind(name), ()))
            dims = [self.declared_dim(s) for s in sizes]
            if kind == "scalar":
                shape = (1, 1)
            elif kind == "vector":
                shape = (dims[0] if dims else self.fresh(), 1)
            elif kind == "symmetric":
                d = dims[0] if dims else self.fresh()
                shape = (d, d)
            else:
                shape = tuple(dims) if dims else (self.fresh(), self.fresh())
            self.names[name] = (kind, shape)
        kind, shape = self.names[name]
        return E("sym", (), shape, syn, (name, kind))

    def _neg(self, syn):
        a = self.elab(syn.kids[0])
        return E("neg", (a,), a.shape, syn)

    def _broadcast(self, e: E, shape, syn) -> E:
        """A scalar standing where an array is needed: s -> s*ones."""
        return E("bcast", (e,), shape, syn)

    def _add(self, syn, left=None):
        a, b = self._left(syn, left), self.elab(syn.kids[1])
        if syn.kind == "sub":
            b = E("neg", (b,), b.shape, b.syn)
        sa, sb = is_scalar_shape(a.shape), is_scalar_shape(b.shape)
        if (sa and _fixed_by_sum(b.shape)) or (sb and _fixed_by_sum(a.shape)):
            sa = sb = False           # a size still open (ones'*x) is fixed by the sum, not broadcast
        if sa and not sb:
            self._note_greek(a, b, syn, False)
            self._note_open(syn, b)
            a = self._broadcast(a, b.shape, a.syn)
        elif sb and not sa:
            self._note_greek(b, a, syn, syn.kind == "sub")
            self._note_open(syn, a)
            b = self._broadcast(b, a.shape, b.syn)
        else:
            self.unify_shapes(syn, [(a.syn, a.shape), (b.syn, b.shape)], a.shape, b.shape)
        return E("add", (a, b), a.shape, syn)

    _sub = _add

    def _note_open(self, syn, array: E) -> None:
        """A scalar broadcast over an array both of whose sizes are still open (2 + I):
        the rest of the expression must fix them (checked in check_consts)."""
        if all(isinstance(find(d), DimVar) and find(d).flex for d in array.shape):
            self.open_broadcasts.append((syn, array.syn, array.shape))

    def _note_greek(self, scalar: E, array: E, syn, subtracted: bool) -> None:
        """An undeclared Greek name (a scalar by the naming rule) added to an array."""
        while scalar.op == "neg":
            scalar = scalar.kids[0]
        if scalar.op == "sym" and scalar.data[1] == "scalar" and scalar.data[0] not in self.let \
                and split_name(scalar.data[0])[0] in GREEK:
            self.greek_broadcasts.append((scalar.data[0], syn, array, subtracted))

    def remarks(self) -> list:
        """Warnings (SPEC section 7), after the shapes are resolved: a Greek scalar added
        to or subtracted from a vector, with the declaration that makes it a vector."""
        out = []
        for name, syn, array, subtracted in self.greek_broadcasts:
            if not (is_one(array.shape[1]) and not is_one(array.shape[0])):
                continue
            how = "subtracted from" if subtracted else "added to"
            msg = (f"{name} is a scalar by the naming rule (a Greek letter): in "
                   f"{self.text(syn)} it is {how} every entry of a vector; "
                   f"if {name} is a vector, declare it with --let '{name}: vector'")
            if msg not in out:
                out.append(msg)
        return out

    def _mul(self, syn, left=None):
        a, b = self._left(syn, left), self.elab(syn.kids[1])
        if is_scalar_shape(a.shape):
            shape = b.shape
        elif is_scalar_shape(b.shape):
            shape = a.shape
        else:
            try:
                unify(a.shape[1], b.shape[0])
                shape = (a.shape[0], b.shape[1])
            except _Clash:
                # (ones'*c)*x: an open size that no matrix product fits is a number's
                shape = self._scaling(a, b) or self._scaling(b, a)
                if shape is None:
                    raise self.clash(syn, [(a.syn, a.shape), (b.syn, b.shape)]) from None
        return E("mul", (a, b), shape, syn)

    @staticmethod
    def _scaling(s: E, m: E):
        """m's shape when s, whose open sizes may still be 1, can be read as a number
        (after its sizes failed to fit a matrix product), else None."""
        if not (is_open(s.shape) and _may_be_scalar(s.shape)):
            return None
        for d in s.shape:
            unify(d, 1)
        return m.shape

    def _div(self, syn, left=None):
        a, b = self._left(syn, left), self.elab(syn.kids[1])
        if not is_scalar_shape(b.shape):
            raise ShapeError(f"division by {self.text(b.syn)}, which is {shape_str(b.shape)}, "
                             f"not a scalar; use inv(...) or ./", pos=syn.pos, source=self.source,
                             length=syn.end - syn.pos)
        return E("div", (a, b), a.shape, syn)

    def _hmul(self, syn, left=None):
        a, b = self._left(syn, left), self.elab(syn.kids[1])
        if is_scalar_shape(a.shape) or is_scalar_shape(b.shape):
            shape = b.shape if is_scalar_shape(a.shape) else a.shape
            return E("mul", (a, b), shape, syn)
        self.unify_shapes(syn, [(a.syn, a.shape), (b.syn, b.shape)], a.shape, b.shape)
        return E("hmul", (a, b), a.shape, syn)

    def _hdiv(self, syn, left=None):
        a, b = self._left(syn, left), self.elab(syn.kids[1])
        if is_scalar_shape(b.shape):
            return E("div", (a, b), a.shape, syn)
        if is_scalar_shape(a.shape):
            return E("hdiv", (a, b), b.shape, syn)
        self.unify_shapes(syn, [(a.syn, a.shape), (b.syn, b.shape)], a.shape, b.shape)
        return E("hdiv", (a, b), a.shape, syn)

    def _transpose(self, syn):
        a = self.elab(syn.kids[0])
        return E("transpose", (a,), (a.shape[1], a.shape[0]), syn)

    def _int_exponent(self, syn: Syn):
        """The integer literal of a matrix power's exponent, or None."""
        while syn.kind == "paren":
            syn = syn.kids[0]
        sign = 1
        if syn.kind == "neg":
            sign, syn = -1, syn.kids[0]
            while syn.kind == "paren":
                syn = syn.kids[0]
        if syn.kind == "num" and syn.value.denominator == 1:
            return sign * int(syn.value)
        return None

    def _pow(self, syn):
        base = self.elab(syn.kids[0])
        if is_scalar_shape(base.shape):
            exp = self.elab(syn.kids[1])
            self.need(is_scalar_shape(exp.shape), syn,
                      f"the exponent {self.text(exp.syn)} is {shape_str(exp.shape)}, not a scalar")
            return E("pow", (base, exp), (1, 1), syn)
        k = self._int_exponent(syn.kids[1])
        if k is None:
            raise ShapeError(f"{self.text(base.syn)} is {shape_str(base.shape)}: a matrix power "
                             f"needs an integer exponent (use .^ for an elementwise power)",
                             pos=syn.pos, source=self.source, length=syn.end - syn.pos)
        self.square(syn, base, "a matrix power")
        if abs(k) > 64:
            raise UnsupportedError(f"matrix power {k} is beyond the limit of 64", pos=syn.pos,
                                   source=self.source, length=syn.end - syn.pos)
        return E("matpow", (base,), base.shape, syn, k)

    def _hpow(self, syn):
        base, exp = self.elab(syn.kids[0]), self.elab(syn.kids[1])
        if is_scalar_shape(exp.shape):
            shape = base.shape
        elif is_scalar_shape(base.shape):
            shape = exp.shape
        else:
            self.unify_shapes(syn, [(base.syn, base.shape), (exp.syn, exp.shape)],
                              base.shape, exp.shape)
            shape = base.shape
        if is_scalar_shape(base.shape) and is_scalar_shape(exp.shape):
            return E("pow", (base, exp), (1, 1), syn)
        return E("hpow", (base, exp), shape, syn)

    def _call(self, syn):
        fn = syn.value
        if len(syn.kids) != (2 if fn == "kron" else 1):
            from .notation import arity_message
            raise ParseError(arity_message(fn, len(syn.kids)), pos=syn.pos,
                             source=self.source, length=syn.end - syn.pos)
        arg_syn = syn.kids[0]
        while arg_syn.kind == "paren":
            arg_syn = arg_syn.kids[0]
        if fn == "log" and arg_syn.kind == "call" and arg_syn.value == "det":
            fn, syn_arg = "logdet", arg_syn.kids[0]
            a = self.elab(syn_arg)
            self.square(syn, a, "logdet")
            return E("logdet", (a,), (1, 1), syn)
        if fn == "kron":
            a, b = self.elab(syn.kids[0]), self.elab(syn.kids[1])
            return E("kron", (a, b), (product_dim(a.shape[0], b.shape[0]),
                                      product_dim(a.shape[1], b.shape[1])), syn)
        a = self.elab(syn.kids[0])
        if fn == "d":                   # a differential (printed steps read back)
            return E("diff", (a,), a.shape, syn)
        if fn in ("rows", "cols"):
            return E("size", (), (1, 1), syn, a.shape[0 if fn == "rows" else 1])
        if fn == "vec":
            return E("vec", (a,), (product_dim(a.shape[0], a.shape[1]), 1), syn)
        if fn == "commutation":
            n = product_dim(a.shape[0], a.shape[1])
            return E("commutation", (a,), (n, n), syn)
        if fn in ("tr", "det", "logdet", "inv"):
            self.square(syn, a, {"tr": "trace", "inv": "the inverse"}.get(fn, fn))
            return E(fn, (a,), a.shape if fn == "inv" else (1, 1), syn)
        if fn == "norm2":
            try:
                unify(a.shape[1], 1)
            except _Clash:
                raise ShapeError(f"norm2 is for vectors, but {self.text(a.syn)} is "
                                 f"{shape_str(a.shape)}", pos=syn.pos, source=self.source,
                                 length=syn.end - syn.pos) from None
            return E("norm", (a,), (1, 1), syn)
        if fn in ("norm", "sum"):
            return E(fn, (a,), (1, 1), syn)
        if fn == "diag":
            if is_scalar_shape(a.shape):
                raise ShapeError(f"diag of the scalar {self.text(a.syn)}", pos=syn.pos,
                                 source=self.source, length=syn.end - syn.pos)
            square = find(a.shape[0]) is find(a.shape[1])     # I, X*X', S: square already
            if not square and (is_one(a.shape[1]) or is_open((a.shape[1],))):
                unify(a.shape[1], 1)        # ones is a column unless something says otherwise
                return E("diagmat", (a,), (a.shape[0], a.shape[0]), syn)
            self.square(syn, a, "diag of a matrix")
            return E("diagvec", (a,), (a.shape[0], 1), syn)
        return E("func", (a,), a.shape, syn, fn)


# ---------------------------------------------------------------------------
# pass 2: build the IR

def _neg(node: ir.Node) -> ir.Node:
    if isinstance(node, ir.Num):
        return ir.Num(-node.value)
    return make_product([ir.MINUS_ONE, node])


def make_product(factors) -> ir.Node:
    """Flatten nested products and merge number factors into one leading coefficient."""
    flat = ir.flatten_factors(list(factors))
    coef = Fraction(1)
    rest = []
    for f in flat:
        if isinstance(f, ir.Num):
            coef *= f.value
        else:
            rest.append(f)
    if not rest:
        return ir.Num(coef)
    if coef != 1:
        rest.insert(0, ir.Num(coef))
    return rest[0] if len(rest) == 1 else ir.MatMul(*rest)


def make_sum(terms) -> ir.Node:
    flat = []
    for t in terms:
        flat.extend(t.args if isinstance(t, ir.Add) else (t,))
    return flat[0] if len(flat) == 1 else ir.Add(*flat)


class Builder:
    def dim(self, d):
        d = find(d)
        if isinstance(d, ProdDim):
            return ir.dim_mul(d.k, *(v.name for v in d.vars))
        return d if isinstance(d, int) else d.name

    _CHAINS = ("add", "mul", "div", "hmul", "hdiv")

    def build(self, e: E) -> ir.Node:
        if e.op in self._CHAINS and e.kids[0].op in self._CHAINS:
            return fold_left_chain(e, lambda n: n.op in self._CHAINS, self.build,
                                   lambda op, acc: getattr(self, "_" + op.op)(op, left=acc))
        return getattr(self, "_" + e.op)(e)

    def kids(self, e, left=None):
        first = left if left is not None else self.build(e.kids[0])
        return [first] + [self.build(k) for k in e.kids[1:]]

    def _num(self, e):
        return ir.Num(e.data)

    def _sym(self, e):
        name, kind = e.data
        return ir.Sym(name, kind, self.dim(e.shape[0]), self.dim(e.shape[1]))

    def _ident(self, e):
        return ir.Ident(self.dim(e.shape[0]))

    def _ones(self, e):
        return ir.Ones(self.dim(e.shape[0]), self.dim(e.shape[1]))

    def _zeros(self, e):
        return ir.Zeros(self.dim(e.shape[0]), self.dim(e.shape[1]))

    def _neg(self, e):
        return _neg(self.build(e.kids[0]))

    def _bcast(self, e):
        s = self.build(e.kids[0])
        if is_scalar_shape(e.shape):
            return s                # broadcast over a shape that came out 1×1 (2 + ones'*X*ones)
        ones = ir.Ones(self.dim(e.shape[0]), self.dim(e.shape[1]))
        return make_product([s, ones])

    def _add(self, e, left=None):
        return make_sum(self.kids(e, left))

    def _mul(self, e, left=None):
        return make_product(self.kids(e, left))

    def _div(self, e, left=None):
        a, b = self.kids(e, left)
        if isinstance(b, ir.Num):
            if b.value == 0:
                raise ParseError("division by zero", pos=e.syn.pos)
            return make_product([ir.Num(1 / b.value), a])
        return make_product([a, ir.Pow(b, ir.MINUS_ONE)])

    def _hmul(self, e, left=None):
        a, b = self.kids(e, left)
        flat = []
        for f in (a, b):
            flat.extend(f.args if isinstance(f, ir.Hadamard) else (f,))
        return ir.Hadamard(*flat)

    def _hdiv(self, e, left=None):
        a, b = self.kids(e, left)
        inv = ir.HadPow(b, ir.MINUS_ONE)
        if a.is_scalar:
            return make_product([a, inv])
        flat = list(a.args) if isinstance(a, ir.Hadamard) else [a]
        return ir.Hadamard(*flat, inv)

    def _transpose(self, e):
        a = self.build(e.kids[0])
        if isinstance(a, (ir.Ones, ir.Zeros)):      # ones' is ones of the transposed shape
            return type(a)(a.args[1], a.args[0])
        if isinstance(a, ir.Ident):
            return a
        return ir.Transpose(a)

    def _matpow(self, e):
        base, k = self.build(e.kids[0]), e.data
        if k == 0:
            return ir.Ident(base.shape[0])
        if k == 1:
            return base
        if k == -1:
            return ir.Inverse(base)
        if k < 0:
            return ir.MatPow(ir.Inverse(base), -k)
        return ir.MatPow(base, k)

    def _pow(self, e):
        return ir.Pow(*self.kids(e))

    def _hpow(self, e):
        return ir.HadPow(*self.kids(e))

    def _tr(self, e):
        return ir.Trace(self.build(e.kids[0]))

    def _det(self, e):
        return ir.Det(self.build(e.kids[0]))

    def _logdet(self, e):
        return ir.LogDet(self.build(e.kids[0]))

    def _inv(self, e):
        return ir.Inverse(self.build(e.kids[0]))

    def _norm(self, e):
        return ir.Norm(self.build(e.kids[0]))

    def _sum(self, e):
        return ir.Sum(self.build(e.kids[0]))

    def _diagmat(self, e):
        return ir.DiagMat(self.build(e.kids[0]))

    def _diagvec(self, e):
        return ir.DiagVec(self.build(e.kids[0]))

    def _func(self, e):
        return ir.Func(e.data, self.build(e.kids[0]))

    def _size(self, e):
        d = self.dim(e.data)
        return ir.Num(d) if isinstance(d, int) else ir.Size(d)

    def _kron(self, e):
        return ir.Kron(*self.kids(e))

    def _diff(self, e):
        return ir.D(self.build(e.kids[0]))

    def _vec(self, e):
        return ir.Vec(self.build(e.kids[0]))

    def _commutation(self, e):
        return ir.Commutation(self.build(e.kids[0]))


def _names(syn: Syn):
    stack = [syn]
    while stack:
        n = stack.pop()
        if n.kind == "name":
            yield n.value
        stack.extend(n.kids)


def elaborate(syn: Syn, source: str, let: dict, scalar: bool = True,
              function: bool | None = None, warnings: list | None = None,
              shape=None) -> ir.Node:
    """Typed IR of a syntax tree; ``scalar`` demands a 1x1 result (the function f of a
    gradient); ``function`` (default: ``scalar``) checks the sizes of constants as for
    a function f (a vector or matrix F of a Jacobian passes ``scalar=False``).
    Non-fatal remarks (SPEC section 7) are appended to ``warnings`` when it is given.
    ``shape`` (rows, cols: size names, products ``"m*n"`` or numbers) is the shape the
    result must have: a result's text reads back given its shape (SPEC section 6)."""
    el = Elaborator(source, let)
    el.used |= {n for n in _names(syn) if n not in let and default_kind(n) == "scalar"}
    e = el.elab(syn)
    if shape is not None:
        want = [product_dim(*(el.declared_dim(f) for f in ir.dim_factors(d))) for d in shape]
        try:
            unify(e.shape[0], want[0])
            unify(e.shape[1], want[1])
        except _Clash:
            raise ShapeError(f"{el.text(syn)} is {shape_str(e.shape)}, not "
                             f"{shape_str(tuple(want))}", pos=syn.pos, source=source,
                             length=syn.end - syn.pos) from None
    if scalar:
        try:
            unify(e.shape[0], 1)
            unify(e.shape[1], 1)
        except _Clash:
            raise ShapeError(f"f must be a scalar, but {el.text(syn)} is {shape_str(e.shape)}",
                             pos=syn.pos, source=source, length=syn.end - syn.pos) from None
    if (scalar if function is None else function) or shape is not None:
        el.check_consts()           # in f, or a result given its shape
    if warnings is not None:
        warnings.extend(el.remarks())
    try:
        return Builder().build(e)
    except ValueError as exc:       # an IR constructor refused: a shape the first pass missed
        raise ShapeError(f"shapes do not fit: {exc}", pos=syn.pos, source=source) from None
    except TexderiveError as exc:
        raise exc.with_source(source)
