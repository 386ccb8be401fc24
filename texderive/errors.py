"""The errors texderive raises.

Every error a caller can see is a :class:`TexderiveError`.  Its message says
what is wrong; ``pos`` (0-based column in the expression text) and ``source``
(that text) say where, so the command line can draw a caret under it.
"""
from __future__ import annotations


class TexderiveError(Exception):
    """Bad input, or an expression texderive cannot differentiate."""

    def __init__(self, message: str, pos: int | None = None, source: str | None = None,
                 length: int = 1):
        super().__init__(message)
        self.message = message
        self.pos = pos
        self.source = source
        self.length = max(1, length)

    def __str__(self) -> str:
        if self.pos is None:
            return self.message
        return f"{self.message} at col {self.pos + 1}"

    def caret(self) -> str:
        """The expression and a caret line under the offending span ('' if unknown)."""
        if self.pos is None or self.source is None or "\n" in self.source:
            return ""
        return f"  {self.source}\n  {' ' * self.pos}{'^' * min(self.length, max(1, len(self.source) - self.pos))}"

    def with_source(self, source: str) -> "TexderiveError":
        if self.source is None:
            self.source = source
        return self


class ParseError(TexderiveError):
    """The text is not an expression of the notation."""


class ShapeError(TexderiveError):
    """Shapes of sub-expressions do not fit together."""


class UnsupportedError(TexderiveError):
    """A well-formed expression outside the rules the engine knows."""


class LimitError(TexderiveError):
    """An input or a derivation past one of texderive's explicit limits."""


class CheckError(TexderiveError):
    """The numeric or exact check of a derived gradient failed or could not run."""
