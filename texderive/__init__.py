"""texderive: matrix gradients by the differential method, as steps and LaTeX.

    >>> from texderive import derive
    >>> derive("tr(A*X*B)", wrt="X").gradient_text
    "A'*B'"

This module imports nothing heavy: NumPy, Jinja2 and pylatexenc load only in
the functions that need them.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import (CheckError, LimitError, ParseError, ShapeError, TexderiveError,  # noqa: F401
                     UnsupportedError)


def derive(expr: str, wrt: str, let=None, *, latex: bool = False, check: bool = False,
           exact: bool = False, exact_timeout: float = 60.0, hessian: bool = False):
    """Derive the gradient of the scalar ``expr`` with respect to ``wrt`` (the
    Jacobian of a vector or matrix ``expr``; its Hessian with ``hessian=True``).

    ``let`` maps names to declarations (``{"S": "symmetric", "X": "matrix m n"}``).
    ``latex=True`` reads ``expr`` as LaTeX.  ``check=True`` runs the numeric
    check, ``exact=True`` the exact one (SymPy).  Returns a :class:`Derivation`;
    bad input raises :class:`TexderiveError`.
    """
    from .api import derive as _derive
    return _derive(expr, wrt, let, latex=latex, check=check, exact=exact,
                   exact_timeout=exact_timeout, hessian=hessian)


def load_ipython_extension(ipython) -> None:
    """``%load_ext texderive``: the ``%derive`` and ``%%derive`` magics (IPython loads
    only here, never on ``import texderive``)."""
    from .notebook import load_ipython_extension as load
    load(ipython)


def __getattr__(name):
    if name == "Derivation":
        from .steps import Derivation
        return Derivation
    raise AttributeError(name)
