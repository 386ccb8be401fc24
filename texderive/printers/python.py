"""Code export (SPEC section 7): a Python module that computes f and its derivative.

``to_python(f, result, wrt, header=...)`` writes a module with

- ``value_and_grad(*, NAME, ...)`` returning ``(f, gradient)``, keyword
  parameters named after the input's variables (``lambda_`` for a Python
  keyword; an input named ``np`` works too), NumPy arrays in (a vector a 1-D
  array, a matrix a 2-D array, a scalar a float), the gradient in the layout of
  ``gradient.numpy`` (the shape of ``wrt``);
- ``check_gradient(*, NAME, ...)`` with the same parameters, returning the
  largest relative error of that gradient against central finite differences
  of f at those inputs (along symmetric directions, comparing ``tr(Gᵀ V)``,
  for a symmetric ``wrt``).

Shared subexpressions are computed once: every non-leaf subtree that occurs
more than once in f and the gradient together becomes a local ``_t1 = ...``
(locals start with ``_``, so they never meet an input's name, which starts
with a letter).  The printing of each node is :mod:`texderive.printers.numpy`'s,
so the expressions are exactly those of ``gradient.numpy``.  This module does
not import NumPy.
"""
from __future__ import annotations

import re

from .. import ir
from . import numpy as P

#: An input named ``np`` is renamed to this inside the functions, which then bind
#: ``np`` to the module.
_NP_INPUT = "_np_input"
_TRIVIAL = re.compile(r"-?[A-Za-z_][A-Za-z0-9_]*(?:\.T)?\Z|-?[0-9.e+-]+\Z")


class _SharedPrinter(P.NumpyPrinter):
    """The NumPy printer, with the shared subexpressions printed as their locals."""

    def __init__(self, dims: dict):
        super().__init__(dims)
        self.names: dict = {}

    def p(self, node):
        code = self.names.get(node)
        return code if code is not None else super().p(node)


def _count(node, counts: dict) -> None:
    """Occurrences of each subtree, not descending into a repeat (its children are
    counted once, from the first visit)."""
    stack = [node]
    while stack:
        n = stack.pop()
        counts[n] = counts.get(n, 0) + 1
        if counts[n] == 1:
            stack.extend(a for a in n.args if isinstance(a, ir.Node))


def _post_order(roots, keep) -> list:
    """The nodes in ``keep``, children before parents, in first-visit order."""
    out, seen = [], set()
    for root in roots:
        stack = [(root, False)]
        while stack:
            n, done = stack.pop()
            if done:
                if n in keep:
                    out.append(n)
                continue
            if n in seen:
                continue
            seen.add(n)
            stack.append((n, True))
            stack.extend((a, False) for a in reversed(n.args) if isinstance(a, ir.Node))
    return out


_LEAVES = (ir.Sym, ir.Num, ir.Ident, ir.Ones, ir.Zeros) + \
    tuple(c for c in getattr(ir, "SECOND_ORDER_CLASSES", ()) if c.__name__ == "Size")


def _rename(node, old: str, new: str, memo: dict):
    out = memo.get(node)
    if out is not None:
        return out
    if isinstance(node, ir.Sym):
        out = ir.Sym(new, node.kind, *node.shape) if node.name == old else node
    else:
        args = tuple(_rename(a, old, new, memo) if isinstance(a, ir.Node) else a
                     for a in node.args)
        out = node if args == node.args else node.rebuild(*args)
    memo[node] = out
    return out


def _body(f, grad, wrt, kind: str = "gradient") -> list:
    """Lines computing ``_f`` and ``_result``: the shared locals first."""
    if kind == "gradient":
        sub = {d: w for d, w in zip(grad.shape, wrt.shape)
               if isinstance(d, str) and isinstance(w, int)}
        if sub:
            try:
                grad = P._fix_dims(grad, sub, {})
            except ValueError:
                pass
        dims = P._dim_sources(f, grad, wrt)
    else:
        dims = P._dim_sources(f, grad, wrt, gradient=False)
    printer = _SharedPrinter(dims)
    counts: dict = {}
    _count(f, counts)
    _count(grad, counts)
    repeated = {n for n, c in counts.items() if c > 1 and not isinstance(n, _LEAVES)}
    lines = []
    for node in _post_order((f, grad), repeated):
        code = printer.p(node)
        if _TRIVIAL.match(code.code):
            continue
        name = f"_t{len(printer.names) + 1}"
        lines.append(f"{name} = {code.code}")
        printer.names[node] = P._Code(name, P.ATOM, code.form)
    fcode = printer.p(f)
    if kind == "jacobian":          # F in its own layout: a vector (or a row) 1-D
        value = fcode.code if fcode.form != "S" else f"np.asarray({fcode.code})"
        lines.append(f"_f = {value}")
    else:
        value = fcode.code if fcode.form == "S" else f"{fcode.at(P.ATOM)}.item()"
        lines.append(f"_f = float({value})")
    lines.append(f"_result = {P.layout_code(printer.p(grad), grad, f, wrt, kind)}")
    return _drop_unused(lines)


def _drop_unused(lines: list) -> list:
    """Remove locals that no later line reads (a parent printed its child differently)."""
    while True:
        for i, line in enumerate(lines):
            name = line.split(" = ", 1)[0]
            if name.startswith("_t") and not any(
                    re.search(rf"\b{name}\b", later) for later in lines[i + 1:]):
                del lines[i]
                break
        else:
            return lines


def _inputs(f, wrt) -> list:
    """The input's variables: wrt first, then the others in order of appearance."""
    syms = ir.free_syms(f)
    return [wrt] + [s for s in syms if s.name != wrt.name]


_CHECK = '''

def check_gradient(*, {params}):
    """The largest relative error of value_and_grad's gradient at these inputs against
    central finite differences of f (a 5-point stencil, Richardson-extrapolated) along
    {ndir} seeded random directions V{sym_note}, comparing tr(G' V)."""
    _inputs = dict({pass_through})
    _x = _numpy.asarray(_inputs[{wrt!r}], dtype=float)
    _f0, _g = value_and_grad(**_inputs)
    _g = _numpy.asarray(_g, dtype=float).reshape(_x.shape)
    _rng = _numpy.random.default_rng(0)
    _h = 1e-3 * max(1.0, float(_numpy.sqrt(_numpy.mean(_x ** 2))))
    # |tr(G' V)| <= |G| for a unit V; the floor keeps a vanishing G from dividing by 0
    _scale = max(float(_numpy.linalg.norm(_g)), 1e-6 * (1.0 + abs(_f0)))

    def _phi(_v, _t):
        _moved = dict(_inputs)
        _moved[{wrt!r}] = _x + _t * _v
        return value_and_grad(**_moved)[0]

    def _stencil(_v, _s):
        return (-_phi(_v, 2 * _s) + 8 * _phi(_v, _s) - 8 * _phi(_v, -_s)
                + _phi(_v, -2 * _s)) / (12 * _s)

    _worst = 0.0
    for _ in range({ndir}):
        _v = _rng.standard_normal(_x.shape)
{symmetrise}        _v = _v / float(_numpy.linalg.norm(_v))
        _d1, _d2 = _stencil(_v, _h), _stencil(_v, _h / 2)
        _fd = _d2 + (_d2 - _d1) / 15
        _an = float(_numpy.sum(_g * _v))
        _worst = max(_worst, abs(_fd - _an) / max(abs(_fd), abs(_an), _scale, 1e-300))
    return float(_worst)
'''


_CHECK_JACOBIAN = '''

def check_jacobian(*, {params}):
    """The largest relative error of value_and_jacobian's J at these inputs against
    central finite differences of vec F (a 5-point stencil, Richardson-extrapolated)
    along {ndir} seeded random directions V, comparing J vec(V) (vec: column-major)."""
    _inputs = dict({pass_through})
    _x = _numpy.asarray(_inputs[{wrt!r}], dtype=float)
    _F0, _J = value_and_jacobian(**_inputs)
    _J = _numpy.asarray(_J, dtype=float)
    _rng = _numpy.random.default_rng(0)
    _h = 1e-3 * max(1.0, float(_numpy.sqrt(_numpy.mean(_x ** 2))))
    _F0 = _numpy.asarray(_F0, dtype=float)
    # a floor for a vanishing J v (never |J|, which can dwarf J v for a unit v)
    _scale = 1e-6 * (1.0 + float(_numpy.max(_numpy.abs(_F0), initial=0.0)))

    def _vec(_a):
        return _numpy.asarray(_a, dtype=float).reshape(-1, order="F")

    def _phi(_v, _t):
        _moved = dict(_inputs)
        _moved[{wrt!r}] = _x + _t * _v
        return _vec(value_and_jacobian(**_moved)[0])

    def _stencil(_v, _s):
        return (-_phi(_v, 2 * _s) + 8 * _phi(_v, _s) - 8 * _phi(_v, -_s)
                + _phi(_v, -2 * _s)) / (12 * _s)

    _worst = 0.0
    for _ in range({ndir}):
        _v = _rng.standard_normal(_x.shape)
        _v = _v / float(_numpy.linalg.norm(_v))
        _d1, _d2 = _stencil(_v, _h), _stencil(_v, _h / 2)
        _fd = _d2 + (_d2 - _d1) / 15
        _an = _vec(_J) * float(_v) if _x.ndim == 0 else _J @ _vec(_v)
        _err = float(_numpy.linalg.norm(_fd - _an))
        _worst = max(_worst, _err / max(float(_numpy.linalg.norm(_fd)),
                                        float(_numpy.linalg.norm(_an)), _scale, 1e-300))
    return float(_worst)
'''

_CHECK_HESSIAN = '''

def check_hessian(*, {params}):
    """The largest relative error of value_and_hessian's H at these inputs against mixed
    central second differences of f (Richardson-extrapolated) along {ndir} pairs of seeded
    random directions v, w, comparing vec(v)' H vec(w) (vec: column-major)."""
    _inputs = dict({pass_through})
    _x = _numpy.asarray(_inputs[{wrt!r}], dtype=float)
    _f0, _H = value_and_hessian(**_inputs)
    _H = _numpy.asarray(_H, dtype=float)
    _rng = _numpy.random.default_rng(0)
    _h = 1e-2 * max(1.0, float(_numpy.sqrt(_numpy.mean(_x ** 2))))
    _scale = 1e-6 * (1.0 + abs(_f0))      # a floor for a vanishing v' H w

    def _vec(_a):
        return _numpy.asarray(_a, dtype=float).reshape(-1, order="F")

    def _phi(_v, _w):
        _moved = dict(_inputs)
        _moved[{wrt!r}] = _x + _v + _w
        return value_and_hessian(**_moved)[0]

    def _mixed(_v, _w, _s):
        return (_phi(_s * _v, _s * _w) - _phi(_s * _v, -_s * _w) - _phi(-_s * _v, _s * _w)
                + _phi(-_s * _v, -_s * _w)) / (4 * _s * _s)

    _worst = 0.0
    for _ in range({ndir}):
        _v = _rng.standard_normal(_x.shape)
        _w = _rng.standard_normal(_x.shape)
        _v = _v / float(_numpy.linalg.norm(_v))
        _w = _w / float(_numpy.linalg.norm(_w))
        _d1, _d2 = _mixed(_v, _w, _h), _mixed(_v, _w, _h / 2)
        _fd = _d2 + (_d2 - _d1) / 3
        _an = float(_v * _H * _w) if _x.ndim == 0 else float(_vec(_v) @ _H @ _vec(_w))
        _worst = max(_worst, abs(_fd - _an) / max(abs(_fd), abs(_an), _scale, 1e-300))
    return float(_worst)
'''


def render_module(derivation, header: str) -> str:
    """``--format python`` (``Derivation.to_python()``): the module for a derivation,
    ``header`` its first line (the ownership comment, as for ``numpy``)."""
    from .text import to_text
    return to_python(derivation.f, derivation.result, derivation.wrt_sym, header=header,
                     source=to_text(derivation.f), kind=derivation.result_kind)


#: per result kind: the function, what it returns, the checker and its template
_KINDS = {
    "gradient": ("value_and_grad", "(f, gradient)", "gradient", "check_gradient"),
    "jacobian": ("value_and_jacobian", "(F, J)", "Jacobian", "check_jacobian"),
    "hessian": ("value_and_hessian", "(f, H)", "Hessian", "check_hessian"),
}


def to_python(f, grad, wrt, *, header: str, source: str = "", kind: str = "gradient") -> str:
    """The module's text: ``header`` is its first line (the ownership comment, ``# ...``).

    ``grad`` is the result (gradient, Jacobian or Hessian, as ``kind`` says) and
    ``wrt`` the variable's ``Sym`` in ``f`` (or its name)."""
    if kind not in _KINDS:
        raise ValueError(f"bad result kind {kind!r}")
    if not isinstance(wrt, ir.Sym):
        found = [s for s in ir.free_syms(f) if s.name == wrt]
        if not found:
            raise ValueError(f"{wrt} does not occur in f")
        wrt = found[0]
    inputs = _inputs(f, wrt)
    params = [P.py_name(s.name) for s in inputs]
    prologue = []
    if "np" in params:
        # the keyword is np; inside, np is NumPy and the input is _np_input
        memo: dict = {}
        f, grad = _rename(f, "np", _NP_INPUT, memo), _rename(grad, "np", _NP_INPUT, memo)
        if wrt.name == "np":
            wrt = ir.Sym(_NP_INPUT, wrt.kind, *wrt.shape)
        prologue.append(f"{_NP_INPUT}, np = np, _numpy")
    body = prologue + _body(f, grad, wrt, kind)
    signature = ", ".join(params)
    function, returns, noun, checker = _KINDS[kind]
    shown = wrt.name if wrt.name != _NP_INPUT else "np"
    keywords = ", ".join(f"{p}=..." for p in params)
    if kind == "gradient":
        what = {"scalar": "a float", "vector": "a 1-D array", "matrix": "a 2-D array",
                "symmetric": "a 2-D (symmetric) array"}[wrt.kind]
        shape = f"the gradient {what}\nof the shape of {shown}"
    elif kind == "jacobian":
        shape = ("J the derivative of vec F (column-major)\nwith respect to vec " + shown +
                 (", in F's own shape" if wrt.shape == (1, 1) else ", a 2-D array"))
    else:
        shape = ("H the symmetric matrix of d2f\nin vec " + shown +
                 (", a float" if wrt.shape == (1, 1) else ", a 2-D array"))
    lines = [header,
             f'"""{"F" if kind == "jacobian" else "f"}{" = " + source if source else ""} and its '
             f"{noun} with respect to {shown}, by texderive.",
             "",
             f"{function}({keywords}) returns {returns}, {shape}; {checker}",
             f"takes the same keywords and returns the {noun}'s largest relative error",
             "against finite differences at those inputs.",
             'Vectors are 1-D NumPy arrays, matrices 2-D arrays, scalars floats."""',
             "import numpy as _numpy",
             "import numpy as np",
             "",
             "",
             f"def {function}(*, {signature}):",
             f'    """{returns} at these inputs."""']
    lines += ["    " + line for line in body]
    lines.append("    return _f, _result")
    template = {"gradient": _CHECK, "jacobian": _CHECK_JACOBIAN, "hessian": _CHECK_HESSIAN}[kind]
    symmetrise = "        _v = (_v + _v.T) / 2\n" if wrt.kind == "symmetric" else ""
    fields = dict(params=signature, wrt=params[0], ndir=3,
                  pass_through=", ".join(f"{p}={p}" for p in params))
    if kind == "gradient":
        fields.update(sym_note=" (symmetric, as the variable is)" if symmetrise else "",
                      symmetrise=symmetrise)
    return "\n".join(lines) + "\n" + template.format(**fields)
