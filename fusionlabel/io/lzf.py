"""LZF decompression (liblzf's format, used by PCL's ``binary_compressed`` PCD files).

A numba-compiled loop when numba is installed (set ``FUSIONLABEL_DISABLE_NUMBA=1`` to disable it),
a pure-Python loop otherwise.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import PointCloudError


def lzf_decompress(data: bytes, out_size: int, path: str | os.PathLike | None = None) -> bytes:
    """Decompress an LZF (liblzf) block that expands to exactly ``out_size`` bytes.

    Uses a numba-compiled loop when numba is installed, a pure-Python loop otherwise.
    Raises :class:`PointCloudError` (naming ``path``) on corrupt input.
    """
    dst = np.empty(out_size, dtype=np.uint8)
    impl = _lzf_impl()
    if impl is _lzf_decode:
        n = _lzf_decode(bytes(data), memoryview(dst), True)
    else:
        n = impl(np.frombuffer(data, dtype=np.uint8), dst, False)
    if n < 0:
        raise PointCloudError(path, f"corrupt LZF data in binary_compressed block ({_LZF_ERRORS[n]})")
    if n != out_size:
        raise PointCloudError(path, f"binary_compressed block expands to {n} bytes, header says {out_size}")
    return dst.tobytes()


_LZF_ERRORS = {-1: "input ends inside a run", -2: "output larger than declared",
               -3: "back-reference before the start of the output"}


def _lzf_decode(src, dst, slices: bool = True) -> int:
    """Decode ``src`` into ``dst`` (indexable bytes); return bytes written or a negative error code.

    Control byte c < 32: literal run of c + 1 bytes. Otherwise a back-reference: length
    (c >> 5) + 2 (7 means "add the next byte"), distance ((c & 31) << 8 | next byte) + 1.
    ``slices`` copies runs with slice assignment (fast in CPython); compiled code passes False
    because element loops are ~3x faster than slicing there.
    """
    n_in = len(src)
    n_out = len(dst)
    ip = 0
    op = 0
    while ip < n_in:
        ctrl = int(src[ip])
        ip += 1
        if ctrl < 32:
            run = ctrl + 1
            if ip + run > n_in:
                return -1
            if op + run > n_out:
                return -2
            if slices:
                dst[op:op + run] = src[ip:ip + run]
            else:
                for k in range(run):
                    dst[op + k] = src[ip + k]
            ip += run
            op += run
        else:
            run = ctrl >> 5
            if run == 7:
                if ip >= n_in:
                    return -1
                run += int(src[ip])
                ip += 1
            if ip >= n_in:
                return -1
            ref = op - ((ctrl & 31) << 8) - int(src[ip]) - 1
            ip += 1
            run += 2
            if ref < 0:
                return -3
            if op + run > n_out:
                return -2
            if slices and op - ref >= run:
                dst[op:op + run] = dst[ref:ref + run]
            else:  # overlapping copy repeats the last (op - ref) bytes
                for k in range(run):
                    dst[op + k] = dst[ref + k]
            op += run
    return op


_LZF_JIT = None


def _lzf_impl():
    """The numba-compiled decoder (compiled on first use), or the pure-Python one."""
    global _LZF_JIT
    if _LZF_JIT is None:
        try:
            if os.environ.get("FUSIONLABEL_DISABLE_NUMBA"):
                raise ImportError
            import numba
            _LZF_JIT = numba.njit(cache=True, nogil=True)(_lzf_decode)
        except ImportError:
            _LZF_JIT = _lzf_decode
    return _LZF_JIT
