"""LZF compression and decompression (liblzf's format, used by PCL's ``binary_compressed`` PCD files).

Numba-compiled loops when numba is installed (set ``FUSIONLABEL_DISABLE_NUMBA=1`` to disable them),
pure-Python loops otherwise.
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


_COMPILED: dict = {}


def _compiled(fn):
    """``fn`` compiled by numba (on first use, cached on disk), or ``fn`` itself without numba or
    with ``FUSIONLABEL_DISABLE_NUMBA`` set."""
    if fn not in _COMPILED:
        try:
            if os.environ.get("FUSIONLABEL_DISABLE_NUMBA"):
                raise ImportError
            import numba
            _COMPILED[fn] = numba.njit(cache=True, nogil=True)(fn)
        except ImportError:
            _COMPILED[fn] = fn
    return _COMPILED[fn]


def _lzf_impl():
    """The numba-compiled decoder, or the pure-Python one."""
    return _compiled(_lzf_decode)

HASH_BITS = 14          # the compressor's table of earlier 3-byte sequences: 2**14 entries (liblzf's HLOG)
MAX_OFFSET = 1 << 13    # how far back a reference reaches (13 bits)
MAX_MATCH = 264         # longest reference: 2 + 7 + 255 bytes
MAX_LITERAL = 32        # longest literal run


def lzf_compress(data: bytes) -> bytes:
    """``data`` compressed to an LZF (liblzf) block that :func:`lzf_decompress`, PCL and Open3D
    expand back to it exactly. Incompressible data grows by at most 1 byte in 32."""
    src = np.frombuffer(data, dtype=np.uint8)
    dst = np.empty(len(src) + len(src) // MAX_LITERAL + 16, dtype=np.uint8)
    table = np.full(1 << HASH_BITS, -1, dtype=np.int64)
    n = _compiled(_lzf_encode)(src, dst, table)
    return dst[:n].tobytes()


def _lzf_encode(src, dst, table) -> int:
    """Encode ``src`` into ``dst`` (large enough: :func:`lzf_compress`); return the bytes written.
    Greedy: each position's 3 bytes are looked up in ``table`` (hash -> last position seen), and a
    match within :data:`MAX_OFFSET` becomes a back-reference as long as the bytes agree; the bytes
    before it go out as literal runs of at most :data:`MAX_LITERAL`."""
    n = len(src)
    op = 0
    ip = 0
    mask = (1 << HASH_BITS) - 1
    while True:
        lit = ip                 # the literal run before the next reference starts here
        length = 0
        ref = -1
        while ip + 2 < n:
            key = (int(src[ip]) << 16) | (int(src[ip + 1]) << 8) | int(src[ip + 2])
            h = ((key * 2654435761) >> (32 - HASH_BITS)) & mask
            ref = table[h]
            table[h] = ip
            if ref >= 0 and ip - ref <= MAX_OFFSET and src[ref] == src[ip] and src[ref + 1] == src[ip + 1] \
                    and src[ref + 2] == src[ip + 2]:
                limit = min(MAX_MATCH, n - ip)
                length = 3
                while length < limit and src[ref + length] == src[ip + length]:
                    length += 1
                break
            ip += 1
        end = ip if length else n
        while lit < end:
            run = min(MAX_LITERAL, end - lit)
            dst[op] = run - 1
            dst[op + 1:op + 1 + run] = src[lit:lit + run]
            op += 1 + run
            lit += run
        if not length:
            return op
        off = ip - ref - 1
        code = length - 2
        if code < 7:
            dst[op] = (code << 5) | (off >> 8)
            op += 1
        else:
            dst[op] = (7 << 5) | (off >> 8)
            dst[op + 1] = code - 7
            op += 2
        dst[op] = off & 255
        op += 1
        ip += length
