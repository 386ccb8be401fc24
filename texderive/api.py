"""The Python API behind :func:`texderive.derive` (SPEC section 2)."""
from __future__ import annotations

import re

from . import ir, notation, shapes
from fractions import Fraction

from .errors import CheckError, LimitError, ParseError, ShapeError, TexderiveError

MAX_IR_DEPTH = 150


def parse_function(expr: str, let: dict, latex: bool = False, scalar: bool = True,
                   warnings: list | None = None):
    """(syntax, IR) of the function f: a scalar, or (``scalar=False``) a scalar if it
    can be one and otherwise a vector or matrix F (SPEC section 6); remarks go to
    ``warnings`` when given."""
    if not isinstance(expr, str):
        raise ParseError("the expression must be a string")
    if latex:
        from .latex_input import parse_latex
        syn = parse_latex(expr)
    else:
        syn = notation.parse(expr)
    try:
        f = shapes.elaborate(syn, expr, let, warnings=warnings)
    except ShapeError as exc:
        if scalar or not exc.message.startswith("f must be a scalar"):
            raise
        if warnings is not None:
            del warnings[:]
        f = shapes.elaborate(syn, expr, let, scalar=False, function=True, warnings=warnings)
    _check_sizes_are_carried(f, expr)
    if ir.depth(f) > MAX_IR_DEPTH:
        raise LimitError(f"the expression is nested more than {MAX_IR_DEPTH} levels deep",
                         pos=0, source=expr)
    return syn, f


MAX_MAGNITUDE = 10 ** 300


def _check_sizes_are_carried(f: ir.Node, source: str) -> None:
    """Every size in f is the size of a variable (X^0 leaves an I of X's size without X),
    and every number is one a float can hold, so the gradient has a NumPy form."""
    carried = {d for s in ir.free_syms(f) for d in s.shape}
    names = {ir.Ident: "I (or X^0)", ir.Ones: "ones", ir.Zeros: "zeros"}
    for n in ir.walk(f):
        if type(n) in names and any(isinstance(d, str) and d not in carried for d in n.args):
            raise ShapeError(f"the size of {names[type(n)]} is not the size of any variable "
                             f"of the expression", pos=0, source=source, length=len(source))
        if type(n) is ir.Num:
            v = abs(n.value)
            if v > MAX_MAGNITUDE or (v and v < Fraction(1, MAX_MAGNITUDE)):
                raise LimitError("a number in the expression is beyond ±1e300 (after "
                                 "multiplying numbers together)", pos=0, source=source,
                                 length=len(source))
        if type(n) is ir.Pow:
            e = _constant_value(n.args[1])      # 10^300 stays a power: its value, roughly
            if e is not None and not abs(e) <= 1000:
                raise LimitError("an exponent beyond ±1000 is too large to check numerically",
                                 pos=0, source=source, length=len(source))
            v = _constant_value(n)
            if v is not None and not (abs(v) <= MAX_MAGNITUDE and (v == 0 or abs(v) >= 1e-300)):
                raise LimitError("a number in the expression is beyond ±1e300 or nearer 0 "
                                 "than 1e-300 (a power of numbers)", pos=0, source=source,
                                 length=len(source))


def _constant_value(n: ir.Node):
    """The value of a subtree of numbers only (``10^300``; ``inf`` past the floats, 1e-320
    below them), or None when it has a variable or anything but numbers, sums, products
    and powers.  It is only compared with the number limits: a power's sign is not kept."""
    import math
    if type(n) is ir.Num:
        try:
            return float(n.value)
        except OverflowError:                   # 1e30*1e300 folded: past the floats
            return math.inf
    if type(n) not in (ir.Pow, ir.MatMul, ir.Add):
        return None
    vals = [_constant_value(a) for a in n.args]
    if any(v is None for v in vals):
        return None
    if type(n) is ir.MatMul:
        return math.prod(vals)
    if type(n) is ir.Add:
        return math.fsum(vals) if not any(math.isinf(v) for v in vals) else math.inf
    b, e = vals
    if math.isinf(b) or math.isinf(e):
        return math.inf
    if b == 0:
        return 0.0 if e > 0 else math.inf
    mag = e * math.log10(abs(b))
    return math.inf if mag > 308 else 1e-320 if mag < -308 else abs(b) ** e


def find_wrt(f: ir.Node, wrt: str, source: str) -> ir.Sym:
    if not isinstance(wrt, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", wrt or ""):
        raise ParseError(f"bad variable name {wrt!r} for --wrt")
    for s in ir.free_syms(f):
        if s.name == wrt:
            return s
    raise ParseError(f"the variable {wrt} does not occur in the expression", pos=0, source=source)


def derive(expr: str, wrt: str, let=None, *, latex: bool = False, check: bool = False,
           exact: bool = False, exact_timeout: float = 60.0, hessian: bool = False):
    """The derivation of f with respect to wrt: its gradient for a scalar f, its
    Jacobian for a vector or matrix f, its Hessian with ``hessian=True`` (SPEC 2, 6)."""
    from .limits import exact_timeout as valid_timeout
    from .steps import Derivation
    if check or exact:
        exact_timeout = valid_timeout(exact_timeout)      # an option, not the expression
    try:
        if not isinstance(hessian, bool):
            raise TexderiveError("hessian must be True or False")
        decls = shapes.parse_let(let)
        raw_let = _raw_let(let)
        warnings = []
        _, f = parse_function(expr, decls, latex, scalar=False, warnings=warnings)
        wrt_sym = find_wrt(f, wrt, expr)
        if hessian:
            from .second import derive_hessian
            steps, res = derive_hessian(f, wrt_sym)
            kind = "hessian"
        elif f.shape != (1, 1):
            from .second import derive_jacobian
            steps, res = derive_jacobian(f, wrt_sym)
            kind = "jacobian"
        else:
            from .engine import derive_ir
            steps, res = derive_ir(f, wrt_sym)
            kind = "gradient"
        d = Derivation(source=expr, wrt=wrt, let=raw_let, latex_input=latex, f=f,
                       wrt_sym=wrt_sym, steps=steps, result=res, result_kind=kind,
                       hessian=hessian, warnings=warnings)
        if check or exact:
            d.run_check(exact=exact, exact_timeout=exact_timeout)
        return d
    except TexderiveError as exc:
        if isinstance(expr, str):
            exc.with_source(expr)
            if exc.pos is None and not isinstance(exc, CheckError):
                exc.pos, exc.length = 0, max(1, len(expr))   # the engine's errors concern all of f
        raise
    except RecursionError:
        raise LimitError("the expression is too deeply nested to process", pos=0,
                         source=expr if isinstance(expr, str) else None,
                         length=len(expr) if isinstance(expr, str) else 1) from None
    except MemoryError:
        raise LimitError("the derivation ran out of memory") from None


def _raw_let(let) -> dict:
    if not let:
        return {}
    if isinstance(let, dict):
        return {str(k): str(v) for k, v in let.items()}
    if isinstance(let, str):
        let = [let]
    out = {}
    for item in let:
        n, _, d = str(item).partition(":")
        out[n.strip()] = d.strip()
    return out
