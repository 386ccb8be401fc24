"""NumPy evaluation of IR nodes, differentials included.

``evaluate(node, values, direction=None, wrt=None)`` computes the value of any
node in the IR's own convention: every value is a 2-D array, a vector is
``(n, 1)`` and a scalar ``(1, 1)``.  ``values`` maps names to arrays; scalars
may be Python floats and vectors 1-D arrays, both are promoted.  The size of
each dimension symbol is read from the values given for the variables of the
tree (``Ident``, ``Ones`` and ``Zeros`` use these sizes; ``dims=`` supplies
sizes that no variable of the tree fixes).

``D(x)`` evaluates the differential of ``x`` along ``direction``: ``D(wrt)``
is the direction, ``D`` of anything that does not contain ``wrt`` is zero and
``D`` of a compound is its forward-mode derivative (``Evaluator.tangent``,
one rule per node class), so that every intermediate step of a derivation can
be checked numerically.  ``direction`` may also be a dict ``{name: array}``
that moves several variables at once.

Evaluation never warns: a value outside a function's domain is ``nan`` (a log
determinant of a matrix whose determinant is not positive is ``nan`` too).
This module is imported only by the checks and the tests; it needs NumPy.
"""
from __future__ import annotations

import numpy as np

from . import ir


def _as_2d(value, name: str) -> "np.ndarray":
    a = np.asarray(value, dtype=float)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(-1, 1)
    if a.ndim == 2:
        return a
    raise ValueError(f"the value of {name} has {a.ndim} dimensions; give a scalar, "
                     f"a vector or a matrix")


def bind_dims(node: ir.Node, shapes: dict, extra: dict | None = None) -> dict:
    """Sizes of the dimension symbols of ``node`` from ``shapes`` {name: (rows, cols)}.

    Sizes fixed by the tree's variables win; ``extra`` {dim: size} fills in the
    rest.  A variable whose value does not fit its declared shape raises
    ``ValueError``.
    """
    dims: dict = {}
    for s in ir.free_syms(node):
        if s.name not in shapes:
            raise ValueError(f"no value given for {s.name}")
        actual = shapes[s.name]
        for want, got in zip(s.shape, actual):
            if isinstance(want, int):
                if want != got:
                    raise ValueError(f"{s.name} should be {s.shape[0]}x{s.shape[1]}, "
                                     f"its value is {actual[0]}x{actual[1]}")
            elif dims.setdefault(want, got) != got:
                raise ValueError(f"dimension {want} is {dims[want]} elsewhere but {got} in "
                                 f"the value of {s.name}")
    for d, n in (extra or {}).items():
        dims.setdefault(d, n)
    return dims


def _float(v) -> float:
    """A rational as a float; beyond the float range, an infinity."""
    try:
        return float(v)
    except OverflowError:
        return float("inf") if v > 0 else float("-inf")


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_FUNCS = {
    "log": np.log, "exp": np.exp, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh,
    "sigmoid": _sigmoid, "abs": np.abs,
}

# derivative g'(x) of each elementwise function, as a function of x
_DFUNCS = {
    "log": lambda x: 1.0 / x,
    "exp": np.exp,
    "sqrt": lambda x: 0.5 / np.sqrt(x),
    "sin": np.cos,
    "cos": lambda x: -np.sin(x),
    "tan": lambda x: 1.0 / np.cos(x) ** 2,
    "sinh": np.cosh,
    "cosh": np.sinh,
    "tanh": lambda x: 1.0 - np.tanh(x) ** 2,
    "sigmoid": lambda x: _sigmoid(x) * (1.0 - _sigmoid(x)),
    "abs": np.sign,
}


def _product(shapes, arrays):
    """A MatMul chain: 1x1 factors (by their IR shape) scale, the others multiply."""
    acc, acc_shape = None, None
    for s, a in zip(shapes, arrays):
        if acc is None:
            acc, acc_shape = a, s
        elif acc_shape == (1, 1) or s == (1, 1):
            acc = acc * a
            acc_shape = s if acc_shape == (1, 1) else acc_shape
        else:
            acc = acc @ a
            acc_shape = (acc_shape[0], s[1])
    return acc


class Evaluator:
    """Values and tangents of the nodes of one tree at one point (memoised per call).

    ``varying`` maps variable names to their directions; ``tangent(node)`` is the
    directional derivative of ``node`` along them.
    """

    def __init__(self, values: dict, varying: dict | None = None, dims: dict | None = None):
        self.values = {k: _as_2d(v, k) for k, v in values.items()}
        self.varying = {k: _as_2d(v, "the direction of " + k) for k, v in (varying or {}).items()}
        for k, v in self.varying.items():
            if k in self.values and self.values[k].shape != v.shape:
                raise ValueError(f"the direction of {k} is {v.shape[0]}x{v.shape[1]}, "
                                 f"but {k} is {self.values[k].shape[0]}x{self.values[k].shape[1]}")
        self.dims = dict(dims or {})
        self._val: dict = {}
        self._tan: dict = {}
        self._moves: dict = {}
        # the section-6 nodes join as their entries land (ir.SECOND_ORDER_CLASSES)
        classes = [c for c in ir.NODE_CLASSES + ir.SECOND_ORDER_CLASSES
                   if hasattr(self, "_v_" + c.__name__)]
        self.vtable = {cls: getattr(self, "_v_" + cls.__name__) for cls in classes}
        self.ttable = {cls: getattr(self, "_t_" + cls.__name__) for cls in classes}

    # -- entry points -----------------------------------------------------
    def value(self, node: ir.Node):
        v = self._val.get(node)
        if v is None:
            v = self.vtable[type(node)](node)
            self._val[node] = v
        return v

    def tangent(self, node: ir.Node):
        t = self._tan.get(node)
        if t is None:
            if not self.moves(node):
                t = np.zeros(self.value(node).shape)
            else:
                t = self.ttable[type(node)](node)
            self._tan[node] = t
        return t

    def moves(self, node: ir.Node) -> bool:
        """Whether ``node`` contains a variable that has a direction."""
        m = self._moves.get(node)
        if m is None:
            if isinstance(node, ir.Sym):
                m = node.name in self.varying
            else:
                m = any(self.moves(c) for c in node.children)
            self._moves[node] = m
        return m

    def dim(self, d) -> int:
        if isinstance(d, int):
            return d
        if "*" in d:                        # a product dimension of a kron or a vec
            out = 1
            for f in ir.dim_factors(d):
                out *= self.dim(f)
            return out
        if d not in self.dims:
            raise ValueError(f"the size of dimension {d} is not known: no variable of the "
                             f"expression has it")
        return self.dims[d]

    # -- values -------------------------------------------------------------
    def _v_Sym(self, n):
        if n.name not in self.values:
            raise ValueError(f"no value given for {n.name}")
        return self.values[n.name]

    def _v_Num(self, n):
        return np.full((1, 1), _float(n.value))

    def _v_Ident(self, n):
        return np.eye(self.dim(n.args[0]))

    def _v_Ones(self, n):
        return np.ones((self.dim(n.args[0]), self.dim(n.args[1])))

    def _v_Size(self, n):
        size = 1
        for f in ir.dim_factors(n.args[0]):
            size *= self.dim(f)
        return np.full((1, 1), float(size))

    def _t_Size(self, n):                 # a constant: moves() is False
        return np.zeros((1, 1))

    def _v_Zeros(self, n):
        return np.zeros((self.dim(n.args[0]), self.dim(n.args[1])))

    def _v_Add(self, n):
        out = self.value(n.args[0])
        for t in n.args[1:]:
            out = out + self.value(t)
        return out

    def _v_MatMul(self, n):
        return _product([f.shape for f in n.args], [self.value(f) for f in n.args])

    def _v_Transpose(self, n):
        return self.value(n.args[0]).T

    def _v_Inverse(self, n):
        a = self.value(n.args[0])
        if not np.all(np.isfinite(a)):
            return np.full(a.shape, np.nan)
        try:
            return np.linalg.inv(a)
        except np.linalg.LinAlgError:
            return np.full(a.shape, np.nan)

    def _v_MatPow(self, n):
        a, k = self.value(n.args[0]), n.args[1]
        if k < 0:
            a = self._v_Inverse(ir.Inverse(n.args[0]))
        return np.linalg.matrix_power(a, abs(k))

    def _v_Trace(self, n):
        return np.full((1, 1), np.trace(self.value(n.args[0])))

    def _v_Det(self, n):
        a = self.value(n.args[0])
        if not np.all(np.isfinite(a)):
            return np.full((1, 1), np.nan)
        return np.full((1, 1), np.linalg.det(a))

    def _v_LogDet(self, n):
        a = self.value(n.args[0])
        if not np.all(np.isfinite(a)):
            return np.full((1, 1), np.nan)
        sign, logabs = np.linalg.slogdet(a)
        return np.full((1, 1), logabs if sign > 0 else np.nan)

    def _v_Norm(self, n):
        return np.full((1, 1), np.sqrt(np.sum(self.value(n.args[0]) ** 2)))

    def _v_Sum(self, n):
        return np.full((1, 1), np.sum(self.value(n.args[0])))

    def _v_DiagMat(self, n):
        return np.diag(self.value(n.args[0])[:, 0])

    def _v_DiagVec(self, n):
        return np.diag(self.value(n.args[0])).reshape(-1, 1).copy()

    def _v_Pow(self, n):
        return self.value(n.args[0]) ** self.value(n.args[1])

    def _v_Func(self, n):
        return _FUNCS[n.name](self.value(n.args[1]))

    def _v_Hadamard(self, n):
        out = self.value(n.args[0])
        for f in n.args[1:]:
            out = out * self.value(f)
        return out

    def _v_HadPow(self, n):
        return self.value(n.args[0]) ** self.value(n.args[1])

    def _v_Kron(self, n):
        return np.kron(self.value(n.args[0]), self.value(n.args[1]))

    def _v_Vec(self, n):
        return self.value(n.args[0]).reshape(-1, 1, order="F")

    def _v_Commutation(self, n):
        r, c = (self.dim(d) for d in n.args[0].shape)
        return commutation_matrix(r, c)

    def _v_D(self, n):
        if not self.varying:
            raise ValueError("evaluating a differential needs a direction (and wrt)")
        return self.tangent(n.args[0])

    # -- tangents (forward mode) ----------------------------------------------
    def _t_Sym(self, n):
        return self.varying[n.name]

    def _t_Num(self, n):                  # constants never move; moves() is False
        return np.zeros((1, 1))

    _t_Ident = _t_Ones = _t_Zeros = _t_Num

    def _t_Add(self, n):
        out = self.tangent(n.args[0])
        for t in n.args[1:]:
            out = out + self.tangent(t)
        return out

    def _t_MatMul(self, n):
        shapes = [f.shape for f in n.args]
        vals = [self.value(f) for f in n.args]
        out = None
        for i, f in enumerate(n.args):
            if not self.moves(f):
                continue
            term = _product(shapes, vals[:i] + [self.tangent(f)] + vals[i + 1:])
            out = term if out is None else out + term
        return out

    def _t_Transpose(self, n):
        return self.tangent(n.args[0]).T

    def _t_Inverse(self, n):
        y = self.value(n)
        return -y @ self.tangent(n.args[0]) @ y

    def _t_MatPow(self, n):
        k = n.args[1]
        if k < 0:
            base = self._v_Inverse(ir.Inverse(n.args[0]))
            dbase = self._t_Inverse(ir.Inverse(n.args[0]))
        else:
            base, dbase = self.value(n.args[0]), self.tangent(n.args[0])
        k = abs(k)
        powers = [np.eye(base.shape[0])]
        for _ in range(k - 1):
            powers.append(powers[-1] @ base)
        return sum(powers[j] @ dbase @ powers[k - 1 - j] for j in range(k))

    def _t_Trace(self, n):
        return np.full((1, 1), np.trace(self.tangent(n.args[0])))

    def _t_Det(self, n):
        # d det(A) = sum over columns j of det(A with column j replaced by dA's);
        # exact, and defined for a singular A too
        a, da = self.value(n.args[0]), self.tangent(n.args[0])
        total = 0.0
        for j in range(a.shape[1]):
            b = a.copy()
            b[:, j] = da[:, j]
            total += np.linalg.det(b)
        return np.full((1, 1), total)

    def _t_LogDet(self, n):
        a, da = self.value(n.args[0]), self.tangent(n.args[0])
        if not np.all(np.isfinite(a)):
            return np.full((1, 1), np.nan)
        try:
            return np.full((1, 1), np.trace(np.linalg.solve(a, da)))
        except np.linalg.LinAlgError:
            return np.full((1, 1), np.nan)

    def _t_Norm(self, n):
        a, da = self.value(n.args[0]), self.tangent(n.args[0])
        return np.full((1, 1), np.sum(a * da)) / self.value(n)

    def _t_Sum(self, n):
        return np.full((1, 1), np.sum(self.tangent(n.args[0])))

    def _t_DiagMat(self, n):
        return np.diag(self.tangent(n.args[0])[:, 0])

    def _t_DiagVec(self, n):
        return np.diag(self.tangent(n.args[0])).reshape(-1, 1).copy()

    def _power_tangent(self, base, exp):
        b, e = self.value(base), self.value(exp)
        out = 0.0
        if self.moves(base):
            out = out + e * b ** (e - 1.0) * self.tangent(base)
        if self.moves(exp):
            out = out + b ** e * np.log(b) * self.tangent(exp)
        return out

    def _t_Pow(self, n):
        return self._power_tangent(n.args[0], n.args[1])

    def _t_HadPow(self, n):
        return self._power_tangent(n.args[0], n.args[1]) * np.ones(self.value(n).shape)

    def _t_Func(self, n):
        x = self.value(n.args[1])
        return _DFUNCS[n.name](x) * self.tangent(n.args[1])

    def _t_Hadamard(self, n):
        vals = [self.value(f) for f in n.args]
        out = None
        for i, f in enumerate(n.args):
            if not self.moves(f):
                continue
            term = self.tangent(f)
            for j, v in enumerate(vals):
                if j != i:
                    term = term * v
            out = term if out is None else out + term
        return out

    _t_Commutation = _t_Num

    def _t_Kron(self, n):
        a, b = n.args
        out = 0.0
        if self.moves(a):
            out = out + np.kron(self.tangent(a), self.value(b))
        if self.moves(b):
            out = out + np.kron(self.value(a), self.tangent(b))
        return out

    def _t_Vec(self, n):
        return self.tangent(n.args[0]).reshape(-1, 1, order="F")

    def _t_D(self, n):
        if isinstance(n.args[0], ir.Sym):
            return np.zeros(self.value(n).shape)     # d(dX) = 0: dX is a fixed direction
        raise ValueError("the differential of a differential of a compound expression "
                         "is not supported")


def commutation_matrix(m: int, n: int) -> "np.ndarray":
    """K (mn x mn) with K vec(X) = vec(X') for an m x n X (SPEC section 6)."""
    return np.eye(m * n)[np.arange(m * n).reshape((m, n), order="F").ravel()]


def evaluate(node: ir.Node, values: dict, direction=None, wrt=None, *, dims: dict | None = None):
    """The value of ``node`` (a 2-D array) at ``values``.

    ``wrt`` (a name or a ``Sym``) with ``direction`` (an array of its shape), or
    ``direction`` as a dict ``{name: array}``, give the differentials ``D(...)``
    their meaning.  ``dims`` gives sizes to dimensions no variable of ``node`` has.
    """
    if isinstance(wrt, ir.Sym):
        wrt = wrt.name
    if isinstance(direction, dict):
        varying = direction
    elif direction is not None:
        if wrt is None:
            raise ValueError("a direction needs wrt, the variable it moves")
        varying = {wrt: direction}
    else:
        varying = {}
    vals = {k: _as_2d(v, k) for k, v in values.items()}
    sizes = bind_dims(node, {k: v.shape for k, v in vals.items()}, dims)
    with np.errstate(all="ignore"):
        return Evaluator(vals, varying, sizes).value(node)
