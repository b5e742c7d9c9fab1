"""``np.argsort(values, kind="stable")`` for the large arrays of a sweep, several times faster.
Qt-free.

NumPy's stable sort of 32- and 64-bit values is a merge sort (about 0.3 s for 3M float32 heights);
it radix-sorts 16-bit keys in linear time. So keys that fit 16 bits are sorted as such, and other
keys become 64-bit integers that hold the value's order in the high half and the row in the low
half: all distinct, so the fast unstable sort returns them in exactly the stable order.
"""

from __future__ import annotations

import numpy as np


def _ordered_int32(values: np.ndarray) -> np.ndarray:
    """float32 values -> int32 keys in the same order (-0.0 equal to 0.0; NaN after +inf, all equal)."""
    bits = (values + np.float32(0.0)).view(np.int32)  # adding +0.0 turns -0.0 into +0.0
    keys = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))  # negative floats: reverse their order
    nan = np.isnan(values)
    if nan.any():
        keys[nan] = np.iinfo(np.int32).max
    return keys


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """The rows (N,) int64 that sort ``values`` (N,), ties in row order: exactly
    ``np.argsort(values, kind="stable")``, for integer and float32 values."""
    values = np.asarray(values)
    n = len(values)
    if values.ndim != 1 or n == 0:
        return np.argsort(values, kind="stable")
    if values.dtype.kind in "iu":
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < (1 << 16):
            return np.argsort((values - lo).astype(np.uint16), kind="stable")  # NumPy's radix sort
        keys = (values - lo).astype(np.int64) - (1 << 31) if hi - lo < (1 << 32) else None
    elif values.dtype == np.float32:
        keys = _ordered_int32(values).astype(np.int64)
    else:
        keys = None
    if keys is None or n >= (1 << 32):
        return np.argsort(values, kind="stable")
    keys <<= 32
    keys |= np.arange(n, dtype=np.int64)
    keys.sort()
    keys &= 0xFFFFFFFF
    return keys
