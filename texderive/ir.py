"""Immutable expression nodes.

Every node keeps its children in one ``args`` tuple and satisfies
``node.rebuild(*node.args) == node``.  Equality is structural and includes the
class; the hash is computed once, at construction, from the children's cached
hashes.  Constructors validate shapes but never simplify: ``X + X`` stays two
terms until a rule collects them.

Leaves carry their shape, so every node knows its shape without a context:
``node.shape`` is ``(rows, cols)`` where a dimension is a ``str`` (symbolic,
``"m"``) or an ``int``.  A vector is ``(n, 1)``, a scalar ``(1, 1)``.

Node set (the printers, the evaluator and the engine each have one function
per class):

    Sym(name, kind, rows, cols)      a variable; kind scalar|vector|matrix|symmetric
    Num(value)                       a rational number (fractions.Fraction)
    Ident(n)  Ones(r, c)  Zeros(r, c)
    Add(*terms)  MatMul(*factors)    1x1 factors of a MatMul scale the rest
    Transpose(x)  Inverse(x)  MatPow(x, k)   (int k, |k| >= 2)
    Trace(x)  Det(x)  LogDet(x)  Norm(x)  Sum(x)  DiagMat(v)  DiagVec(X)
    Pow(base, exp)                   a 1x1 base to any 1x1 power
    Func(name, x)                    log exp sqrt sin ... of a scalar or elementwise
    Hadamard(*factors)  HadPow(base, exp)
    Size(d)                          a dimension d as a constant scalar (SPEC section 1's
                                     rows(X), cols(X); LaTeX prints the size name, n)
    Kron(A, B)  Vec(X)  Commutation(X)   SPEC section 6: A ⊗ B, the column-major vec,
                                     and K with K vec(X) = vec(Xᵀ) (X only gives the shape)
    D(x)                             the differential of x

A dimension of a Kronecker product or a vec is a product of dimensions:
``dim_mul("m", "n")`` is the string ``"m*n"`` (factors in a canonical order, numbers
multiplied out, 1 dropped), so ``vec(X)`` is ``("m*n", 1)`` and equal products are
equal dims whatever order they were formed in.  Names of sizes never contain ``*``.
"""
from __future__ import annotations

from fractions import Fraction

Dim = "str | int"

ELEMENTWISE_FUNCS = ("log", "exp", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh",
                     "sigmoid", "abs")


_ALL_NODE_ARGS = set()


class Node:
    # _sym, _tp and _simp hold facts derived from the (immutable) node, computed once
    # on demand by canon.is_symmetric, canon.tp and canon.simplify, like the cached hash.
    __slots__ = ("args", "_hash", "_shape", "_count", "_sym", "_tp", "_simp")

    def __init__(self, *args):
        self.args = args
        self._hash = hash((type(self).__name__,) + args)
        self._shape = self._infer_shape()
        self._count = 1 + sum(a._count for a in args if isinstance(a, Node))
        self._sym = None
        self._tp = None
        self._simp = None

    # -- structure -----------------------------------------------------
    def rebuild(self, *args) -> "Node":
        return type(self)(*args)

    @property
    def children(self) -> tuple:
        args = self.args
        if type(self) in _ALL_NODE_ARGS:
            return args
        return tuple(a for a in args if isinstance(a, Node))

    def __eq__(self, other) -> bool:
        return (self is other) or (type(self) is type(other) and self._hash == other._hash
                                   and self.args == other.args)

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.args))})"

    # -- shape ---------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def is_scalar(self) -> bool:
        return self._shape == (1, 1)

    def _infer_shape(self) -> tuple:          # overridden
        raise NotImplementedError


def _need_square(node: Node, what: str) -> None:
    r, c = node.shape
    if r != c:
        raise ValueError(f"{what} needs a square argument, got {r}x{c}")


class Sym(Node):
    __slots__ = ()

    def __init__(self, name: str, kind: str, rows, cols):
        super().__init__(name, kind, rows, cols)

    name = property(lambda self: self.args[0])
    kind = property(lambda self: self.args[1])

    def _infer_shape(self):
        return (self.args[2], self.args[3])


class Num(Node):
    __slots__ = ()

    def __init__(self, value):
        super().__init__(Fraction(value))

    value = property(lambda self: self.args[0])

    def _infer_shape(self):
        return (1, 1)


class Ident(Node):
    __slots__ = ()

    def _infer_shape(self):
        return (self.args[0], self.args[0])


class Ones(Node):
    __slots__ = ()

    def _infer_shape(self):
        return (self.args[0], self.args[1])


class Zeros(Node):
    __slots__ = ()

    def _infer_shape(self):
        return (self.args[0], self.args[1])


class Add(Node):
    __slots__ = ()

    def _infer_shape(self):
        if len(self.args) < 2:
            raise ValueError("Add needs two or more terms")
        s = self.args[0].shape
        for t in self.args[1:]:
            if t.shape != s:
                raise ValueError(f"Add of {s} and {t.shape}")
        return s


def scalar_pieces(g) -> list:
    """A 1x1 product as canonical scalar factors: numbers and 1x1 factors as they are,
    and each run of matrix factors closed as soon as it is 1x1 (``y'*c*d'*x`` ->
    ``(y'*c)``, ``(d'*x)``)."""
    out, run = [], []
    for f in g.args:
        if f.shape == (1, 1):
            out.append(f)
            continue
        run.append(f)
        if run[0].shape[0] == 1 and run[-1].shape[1] == 1:
            out.append(run[0] if len(run) == 1 else MatMul(*run))
            run = []
    if run:
        out.append(run[0] if len(run) == 1 else MatMul(*run))
    return out


def flatten_factors(factors) -> list:
    """Splice nested products into one chain; the result is canonical for the value.

    In a product of scalars only, everything is spliced (scalars commute).  In a
    product with a matrix factor, a matrix-valued sub-product is spliced
    (associativity), while a 1x1 sub-product of matrix factors (``x'*A*x``)
    stays one factor, split into its canonical scalar pieces (``scalar_pieces``):
    spliced into a matrix chain it would no longer fit, or would hide a scaling
    that transposing or rotating the chain would break.
    """
    if not any(type(f) is MatMul for f in factors):
        return list(factors)
    if all(f.shape == (1, 1) for f in factors):
        flat = []
        for f in factors:
            flat.extend(f.args if type(f) is MatMul else (f,))
        return _scalar_product(flat)
    out = []
    for i, f in enumerate(factors):
        if type(f) is not MatMul:
            out.append(f)
        elif f.shape == (1, 1):
            out.extend(scalar_pieces(f))
        else:
            trial = out + list(f.args)
            rest_shapes = [g.shape for g in factors[i + 1:]]
            whole = product_shape([g.shape for g in out] + [f.shape] + rest_shapes)
            spliced = product_shape([g.shape for g in trial] + rest_shapes)
            out = trial if spliced is not None and spliced == whole else out + [f]
    if product_shape([g.shape for g in out]) == (1, 1):
        return _scalar_product(out)
    return out


def _scalar_product(flat: list) -> list:
    """The canonical factors of a 1x1 product: all scalar factors as they are, or
    scalar pieces ((x'*x)*(c'*c) keeps two pieces; x'*A*x alone is one chain)."""
    if all(f.shape == (1, 1) for f in flat):
        return flat
    pieces = scalar_pieces(MatMul(*flat))
    chains = [p for p in pieces if type(p) is MatMul]
    if len(chains) == 1 and len(pieces) == sum(1 for p in pieces if type(p) is Num) + 1:
        return [p for p in pieces if type(p) is Num] + list(chains[0].args)
    return pieces


def product_shape(shapes) -> tuple:
    """Shape of a product chain in which 1x1 factors scale (None on a clash)."""
    acc = None
    for s in shapes:
        if acc is None:
            acc = s
        elif acc == (1, 1):
            acc = s
        elif s == (1, 1):
            pass
        elif acc[1] == s[0]:
            acc = (acc[0], s[1])
        else:
            return None
    return acc


class MatMul(Node):
    __slots__ = ()

    def _infer_shape(self):
        if len(self.args) < 2:
            raise ValueError("MatMul needs two or more factors")
        s = product_shape([f.shape for f in self.args])
        if s is None:
            raise ValueError("MatMul of mismatched shapes " + repr([f.shape for f in self.args]))
        return s


class Transpose(Node):
    __slots__ = ()

    def _infer_shape(self):
        r, c = self.args[0].shape
        return (c, r)


class Inverse(Node):
    __slots__ = ()

    def _infer_shape(self):
        _need_square(self.args[0], "inverse")
        return self.args[0].shape


class MatPow(Node):
    __slots__ = ()

    def _infer_shape(self):
        _need_square(self.args[0], "matrix power")
        if not isinstance(self.args[1], int) or isinstance(self.args[1], bool) or self.args[1] < 2:
            raise ValueError("MatPow exponent must be an int k >= 2 (X^-k is MatPow(inv(X), k))")
        return self.args[0].shape


class Trace(Node):
    __slots__ = ()

    def _infer_shape(self):
        _need_square(self.args[0], "trace")
        return (1, 1)


class Det(Node):
    __slots__ = ()

    def _infer_shape(self):
        _need_square(self.args[0], "det")
        return (1, 1)


class LogDet(Node):
    __slots__ = ()

    def _infer_shape(self):
        _need_square(self.args[0], "logdet")
        return (1, 1)


class Norm(Node):
    """Euclidean norm of a vector, Frobenius norm of a matrix."""
    __slots__ = ()

    def _infer_shape(self):
        return (1, 1)


class Sum(Node):
    """Sum of all entries."""
    __slots__ = ()

    def _infer_shape(self):
        return (1, 1)


class DiagMat(Node):
    """diag(v): the diagonal matrix with the vector v on its diagonal."""
    __slots__ = ()

    def _infer_shape(self):
        r, c = self.args[0].shape
        if c != 1:
            raise ValueError("diag of a vector needs a column vector")
        return (r, r)


class DiagVec(Node):
    """diag(X): the diagonal of a square matrix, as a column vector."""
    __slots__ = ()

    def _infer_shape(self):
        _need_square(self.args[0], "diag")
        return (self.args[0].shape[0], 1)


class Pow(Node):
    """A scalar to a scalar power."""
    __slots__ = ()

    def _infer_shape(self):
        if self.args[0].shape != (1, 1) or self.args[1].shape != (1, 1):
            raise ValueError("Pow needs a scalar base and exponent")
        return (1, 1)


class Func(Node):
    """A scalar function, applied elementwise to a vector or matrix."""
    __slots__ = ()

    def __init__(self, name: str, arg: Node):
        if name not in ELEMENTWISE_FUNCS:
            raise ValueError(f"unknown function {name}")
        super().__init__(name, arg)

    name = property(lambda self: self.args[0])

    def _infer_shape(self):
        return self.args[1].shape


class Hadamard(Node):
    __slots__ = ()

    def _infer_shape(self):
        if len(self.args) < 2:
            raise ValueError("Hadamard needs two or more factors")
        s = self.args[0].shape
        for f in self.args[1:]:
            if f.shape != s:
                raise ValueError(f"Hadamard of {s} and {f.shape}")
        return s


class HadPow(Node):
    """Elementwise power: the exponent is a scalar or an array of the base's shape.

    A scalar base with an array exponent (``2 .^ x``) has the exponent's shape.
    """
    __slots__ = ()

    def _infer_shape(self):
        b, e = self.args[0].shape, self.args[1].shape
        if e == (1, 1) or e == b:
            return b
        if b == (1, 1):
            return e
        raise ValueError(f"HadPow of {b} and {e}")


def dim_factors(d) -> list:
    """The factors of a dimension: ``"m*n"`` -> ``["m", "n"]``, ``6`` -> ``[6]``."""
    if isinstance(d, int):
        return [d]
    return [int(p) if p.isdigit() else p for p in d.split("*")]


def dim_mul(*dims):
    """The product of dimensions, canonical: numbers multiplied into one leading
    factor (dropped when 1), names sorted.  ``dim_mul("n", "m") == "m*n"``."""
    k, names = 1, []
    for d in dims:
        for f in dim_factors(d):
            if isinstance(f, int):
                k *= f
            else:
                names.append(f)
    names.sort()
    if not names:
        return k
    if k == 0:
        return 0
    return "*".join(([str(k)] if k != 1 else []) + names)


class Size(Node):
    """The number ``d`` (a dimension: a size name, a product ``"m*n"`` or an int) as a
    constant scalar: ``sum(ones)`` of a length-n vector is ``Size("n")``.  Its text form
    is ``rows(X)``/``cols(X)`` of an input X that carries the size."""
    __slots__ = ()

    def _infer_shape(self):
        return (1, 1)


class Kron(Node):
    """The Kronecker product A ⊗ B (SPEC section 6)."""
    __slots__ = ()

    def _infer_shape(self):
        (ra, ca), (rb, cb) = self.args[0].shape, self.args[1].shape
        return (dim_mul(ra, rb), dim_mul(ca, cb))


class Vec(Node):
    """vec(X): the columns of X stacked into one column (column-major)."""
    __slots__ = ()

    def _infer_shape(self):
        r, c = self.args[0].shape
        return (dim_mul(r, c), 1)


class Commutation(Node):
    """The commutation matrix of the shape of its argument X (m×n): the mn×mn
    permutation K with K vec(X) = vec(Xᵀ).  Only X's shape matters; of a vector or
    a scalar it is the identity (K_{n,1} = I_n)."""
    __slots__ = ()

    def _infer_shape(self):
        r, c = self.args[0].shape
        n = dim_mul(r, c)
        return (n, n)


class D(Node):
    """The differential d(x)."""
    __slots__ = ()

    def _infer_shape(self):
        return self.args[0].shape


# The section-6 nodes (SECOND_ORDER_CLASSES) have an entry in every printer and evaluator.
SECOND_ORDER_CLASSES = (Size, Kron, Vec, Commutation)
NODE_CLASSES = (Sym, Num, Ident, Ones, Zeros, Add, MatMul, Transpose, Inverse, MatPow, Trace,
                Det, LogDet, Norm, Sum, DiagMat, DiagVec, Pow, Func, Hadamard, HadPow, D) \
    + SECOND_ORDER_CLASSES
# classes whose args are all nodes (children == args)
_ALL_NODE_ARGS.update({Add, MatMul, Transpose, Inverse, Trace, Det, LogDet, Norm, Sum, DiagMat,
                       DiagVec, Pow, Hadamard, HadPow, Kron, Vec, Commutation, D})

ZERO = Num(0)
ONE = Num(1)
MINUS_ONE = Num(-1)


# -- generic traversal ---------------------------------------------------

def walk(node: Node):
    """Pre-order traversal, children left to right (a fixed, documented order)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


def contains(node: Node, target: Node) -> bool:
    return any(n == target for n in walk(node))


def free_syms(node: Node) -> list:
    """Variables in order of first appearance."""
    seen, out = set(), []
    for n in walk(node):
        if isinstance(n, Sym) and n.name not in seen:
            seen.add(n.name)
            out.append(n)
    return out


def node_count(node: Node) -> int:
    return node._count


def depth(node: Node) -> int:
    best, stack = 0, [(node, 1)]
    while stack:
        n, d = stack.pop()
        best = max(best, d)
        stack.extend((c, d + 1) for c in n.children)
    return best
