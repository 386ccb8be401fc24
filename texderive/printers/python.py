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


def _as_layout(out, grad, wrt) -> str:
    """The gradient's code in wrt's layout (as ``printers.numpy.to_numpy`` returns it)."""
    if isinstance(grad, ir.Num) and wrt.kind == "scalar":
        return P.num_code(grad.value, as_float=True)[0]
    layout = {"scalar": "S", "vector": "V"}.get(wrt.kind, "M")
    form = out.form
    if layout == "S" or (layout == "V" and form in "VR"):
        if form != "S" and layout == "S":
            return f"{out.at(P.ATOM)}.item()"
        return out.code
    if layout == "V":
        return f"np.array([{out.code}])"
    if form == "M":
        return out.code
    if form == "S":
        return f"np.array([[{out.code}]])"
    return f"{out.at(P.ATOM)}.reshape({'-1, 1' if form == 'V' else '1, -1'})"


def _body(f, grad, wrt) -> list:
    """Lines computing ``_f`` and ``_grad``: the shared locals first."""
    sub = {d: w for d, w in zip(grad.shape, wrt.shape) if isinstance(d, str) and isinstance(w, int)}
    if sub:
        try:
            grad = P._fix_dims(grad, sub, {})
        except ValueError:
            pass
    printer = _SharedPrinter(P._dim_sources(f, grad, wrt))
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
    value = fcode.code if fcode.form == "S" else f"{fcode.at(P.ATOM)}.item()"
    lines.append(f"_f = float({value})")
    lines.append(f"_grad = {_as_layout(printer.p(grad), grad, wrt)}")
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


def render_module(derivation, header: str) -> str:
    """``--format python`` (``Derivation.to_python()``): the module for a derivation,
    ``header`` its first line (the ownership comment, as for ``numpy``)."""
    from .text import to_text
    if derivation.result_kind != "gradient":
        from ..errors import UnsupportedError
        raise UnsupportedError(f"--format python does not yet write a module for a "
                               f"{derivation.result_kind}; use --format numpy")
    return to_python(derivation.f, derivation.gradient, derivation.wrt_sym, header=header,
                     source=to_text(derivation.f))


def to_python(f, grad, wrt, *, header: str, source: str = "") -> str:
    """The module's text: ``header`` is its first line (the ownership comment, ``# ...``).

    ``wrt`` is the variable's ``Sym`` in ``f`` (or its name)."""
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
    body = prologue + _body(f, grad, wrt)
    signature = ", ".join(params)
    what = {"scalar": "a float", "vector": "a 1-D array", "matrix": "a 2-D array",
            "symmetric": "a 2-D (symmetric) array"}[wrt.kind]
    shown = wrt.name if wrt.name != _NP_INPUT else "np"
    keywords = ", ".join(f"{p}=..." for p in params)
    lines = [
        header,
        f'"""f{" = " + source if source else ""} and its gradient with respect to {shown}, '
        "by texderive.",
        "",
        f"value_and_grad({keywords}) returns (f, gradient), the gradient {what}",
        f"of the shape of {shown}; check_gradient takes the same keywords and returns the",
        "gradient's largest relative error against finite differences at those inputs.",
        'Vectors are 1-D NumPy arrays, matrices 2-D arrays, scalars floats."""',
        "import numpy as _numpy",
        "import numpy as np",
        "",
        "",
        f"def value_and_grad(*, {signature}):",
        f'    """(f, gradient of f with respect to {params[0]}) at these inputs."""',
    ]
    lines += ["    " + line for line in body]
    lines.append("    return _f, _grad")
    symmetrise = "        _v = (_v + _v.T) / 2\n" if wrt.kind == "symmetric" else ""
    text = "\n".join(lines) + "\n" + _CHECK.format(
        params=signature, wrt=params[0], ndir=3,
        pass_through=", ".join(f"{p}={p}" for p in params),
        sym_note=" (symmetric, as the variable is)" if symmetrise else "",
        symmetrise=symmetrise)
    return text
