"""The check's random numbers (texderive.sampling.Rng): seeded, the right shapes and
ranges, the right distributions, and no numpy.random on the command line's path."""
from __future__ import annotations

import numpy as np
import pytest

from texderive.sampling import Rng


def test_a_seed_gives_the_same_numbers_and_another_seed_others():
    a, b, c = Rng(0), Rng(0), Rng(1)
    x = a.standard_normal((3, 2))
    assert np.array_equal(x, b.standard_normal((3, 2)))
    assert not np.array_equal(x, c.standard_normal((3, 2)))
    assert not np.array_equal(x, a.standard_normal((3, 2)))       # the stream moves on
    assert Rng(2**70).random(3).shape == (3,)                      # any integer seed
    with pytest.raises(TypeError):
        Rng(0.5)


def test_known_splitmix64_outputs():
    # SplitMix64 from state 0: the first outputs of the reference implementation
    bits = Rng(0)._bits(3)
    assert [int(b) for b in bits] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_shapes_ranges_and_distributions():
    rng = Rng(7)
    u = rng.uniform(0.5, 2.0, (400, 25))
    assert u.shape == (400, 25) and u.min() >= 0.5 and u.max() < 2.0
    assert abs(u.mean() - 1.25) < 0.01 and abs(u.var() - 1.5**2 / 12) < 0.01
    z = rng.standard_normal((201, 50))                # an odd count: Box-Muller pairs cut
    assert z.shape == (201, 50) and np.isfinite(z).all()
    assert abs(z.mean()) < 0.02 and abs(z.var() - 1) < 0.03
    assert abs(np.mean(z**4) - 3) < 0.15              # normal tails, not uniform ones
    assert rng.standard_normal((1, 1)).shape == (1, 1) and rng.standard_normal((3,)).shape == (3,)


def test_permutation_is_a_shuffled_copy():
    rng = Rng(3)
    pool = [2, 3, 4, 5, 6, 2]
    orders = {tuple(int(v) for v in rng.permutation(pool)) for _ in range(30)}
    assert all(sorted(o) == sorted(pool) for o in orders) and len(orders) > 5
    assert pool == [2, 3, 4, 5, 6, 2]
