"""MinHash signatures of a text's shingle hashes and their locality-sensitive band keys.

With 32 bands of 4 rows two texts whose shingle sets have Jaccard similarity s share at
least one band with probability 1 - (1 - s^4)^32: 0.5 at s ≈ 0.39, 0.98 at s = 0.6, and
0.03 at s = 0.18. A new answer is compared only with the answers sharing one of its band
keys (an index lookup), not with every answer to the question.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

BANDS = 32
ROWS = 4
PERMUTATIONS = BANDS * ROWS
_PRIME = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)
_GENERATOR = np.random.default_rng(20260521)
_A = _GENERATOR.integers(1, 1 << 32, PERMUTATIONS, dtype=np.uint64)
_B = _GENERATOR.integers(0, 1 << 32, PERMUTATIONS, dtype=np.uint64)


def signature(hashes: Iterable[int]) -> npt.NDArray[np.uint64]:
    """PERMUTATIONS minima of (a·x + b) mod p over the 32-bit shingle hashes x."""
    values = np.fromiter({h & 0xFFFFFFFF for h in hashes}, dtype=np.uint64)
    if values.size == 0:
        return np.full(PERMUTATIONS, np.iinfo(np.uint64).max, dtype=np.uint64)
    with np.errstate(over="ignore"):
        permuted = (values[:, None] * _A[None, :] + _B[None, :]) % _PRIME
    result: npt.NDArray[np.uint64] = (permuted & _MASK32).min(axis=0)
    return result


def band_keys(hashes: Iterable[int]) -> list[int]:
    """One signed 64-bit key per band (its number is part of the key)."""
    rows = signature(hashes).reshape(BANDS, ROWS)
    return [
        int.from_bytes(
            hashlib.blake2b(band.to_bytes(1, "big") + rows[band].tobytes(), digest_size=8).digest(),
            "big",
            signed=True,
        )
        for band in range(BANDS)
    ]
