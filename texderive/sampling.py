"""Seeded random numbers for the numeric check, in NumPy but without ``numpy.random``.

Importing ``numpy.random`` (its bit generators, the legacy ``mtrand``, ``secrets``) costs
about as much CPU as texderive's own modules: a twentieth of a checked snippet's run on
the command line, where the check draws a few hundred numbers.  :class:`Rng` draws them
from a SplitMix64 stream (Steele, Lea & Flood, "Fast splittable pseudorandom number
generators", OOPSLA 2014): 53-bit uniform doubles, normal ones by the Box-Muller
transform.  Integer arithmetic on ``uint64`` is the same on every machine, so a seed
gives the same points everywhere (up to the last bit of ``log``/``cos`` of the C library).

The methods are the few of ``numpy.random.Generator`` the check uses, with its
signatures: ``standard_normal(size)``, ``uniform(low, high, size)``, ``permutation(x)``.
"""
from __future__ import annotations

import math

import numpy as np

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15          # the golden-ratio increment of SplitMix64
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


class Rng:
    """A seeded stream of random numbers (``Rng(0)`` always gives the same ones)."""

    __slots__ = ("_state",)

    def __init__(self, seed: int = 0):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"the seed must be an integer, not {type(seed).__name__}")
        self._state = int(seed) & _MASK

    def _bits(self, n: int) -> np.ndarray:
        """The next ``n`` 64-bit outputs of the stream."""
        counters = np.arange(1, n + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            z = np.uint64(self._state) + counters * np.uint64(_GAMMA)      # wraps mod 2**64
            z = (z ^ (z >> np.uint64(30))) * _M1
            z = (z ^ (z >> np.uint64(27))) * _M2
            z = z ^ (z >> np.uint64(31))
        self._state = (self._state + n * _GAMMA) & _MASK
        return z

    def random(self, n: int) -> np.ndarray:
        """``n`` uniform doubles in [0, 1), 53 random bits each."""
        return (self._bits(n) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))

    def uniform(self, low: float, high: float, size) -> np.ndarray:
        shape = _shape(size)
        return low + (high - low) * self.random(math.prod(shape)).reshape(shape)

    def standard_normal(self, size) -> np.ndarray:
        shape = _shape(size)
        n = math.prod(shape)
        m = (n + 1) // 2
        u = self.random(2 * m)
        radius = np.sqrt(-2.0 * np.log1p(-u[:m]))          # 1 - u in (0, 1]: log is finite
        angle = (2.0 * math.pi) * u[m:]
        return np.concatenate((radius * np.cos(angle), radius * np.sin(angle)))[:n].reshape(shape)

    def permutation(self, x) -> np.ndarray:
        """A random ordering of the items of ``x`` (a copy)."""
        items = np.asarray(x)
        return items[np.argsort(self.random(len(items)), kind="stable")]


def _shape(size) -> tuple:
    return tuple(int(k) for k in size) if isinstance(size, (tuple, list)) else (int(size),)
