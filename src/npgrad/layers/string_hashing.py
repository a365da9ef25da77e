"""The string hashes Keras's hashing layers use: FarmHash's Fingerprint64 and SipHash-2-4.

Keras's ``Hashing`` (and TensorFlow's ``tf.strings.to_hash_bucket_fast``) hash a string to
``Fingerprint64(bytes) % num_bins``, Google FarmHash's ``farmhashna::Hash64``; with a salt
it uses ``to_hash_bucket_strong``, SipHash-2-4 keyed by the two salt words. Both are written
here in plain Python on 64-bit words (``& MASK`` after each operation), so npgrad hashes
to Keras's bins without TensorFlow. Checked against FarmHash's published test vectors and
Keras's documented outputs (``tests/layers/test_misc_layers.py``).

Example:
    >>> hex(fingerprint64(b"abc"))
    '0x24a5b3a074e7f369'
"""

from __future__ import annotations

MASK = (1 << 64) - 1
# primes between 2^63 and 2^64 (FarmHash's k0, k1, k2)
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _word(data, offset, size=8):
    return int.from_bytes(data[offset:offset + size], "little")


def _rotate(value, shift):
    """Rotate a 64-bit word right by ``shift`` bits."""
    return value if shift == 0 else ((value >> shift) | (value << (64 - shift))) & MASK


def _shift_mix(value):
    return value ^ (value >> 47)


def _mix16(u, v, mul):
    """Murmur-inspired mixing of two words (FarmHash's HashLen16 with a multiplier)."""
    a = ((u ^ v) * mul) & MASK
    a ^= a >> 47
    b = ((v ^ a) * mul) & MASK
    b ^= b >> 47
    return (b * mul) & MASK


def _short(data):
    """0 to 16 bytes."""
    n = len(data)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_word(data, 0) + _K2) & MASK
        b = _word(data, n - 8)
        c = (_rotate(b, 37) * mul + a) & MASK
        d = ((_rotate(a, 25) + b) * mul) & MASK
        return _mix16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _mix16((n + (_word(data, 0, 4) << 3)) & MASK, _word(data, n - 4, 4), mul)
    if n > 0:
        y = data[0] + (data[n >> 1] << 8)
        z = n + (data[n - 1] << 2)
        return (_shift_mix(((y * _K2) ^ (z * _K0)) & MASK) * _K2) & MASK
    return _K2


def _medium(data):
    """17 to 32 bytes."""
    n = len(data)
    mul = _K2 + n * 2
    a = (_word(data, 0) * _K1) & MASK
    b = _word(data, 8)
    c = (_word(data, n - 8) * mul) & MASK
    d = (_word(data, n - 16) * _K2) & MASK
    return _mix16((_rotate((a + b) & MASK, 43) + _rotate(c, 30) + d) & MASK,
                  (a + _rotate((b + _K2) & MASK, 18) + c) & MASK, mul)


def _long(data):
    """33 to 64 bytes."""
    n = len(data)
    mul = _K2 + n * 2
    a = (_word(data, 0) * _K2) & MASK
    b = _word(data, 8)
    c = (_word(data, n - 8) * mul) & MASK
    d = (_word(data, n - 16) * _K2) & MASK
    y = (_rotate((a + b) & MASK, 43) + _rotate(c, 30) + d) & MASK
    z = _mix16(y, (a + _rotate((b + _K2) & MASK, 18) + c) & MASK, mul)
    e = (_word(data, 16) * mul) & MASK
    f = _word(data, 24)
    g = ((y + _word(data, n - 32)) * mul) & MASK
    h = ((z + _word(data, n - 24)) * mul) & MASK
    return _mix16((_rotate((e + f) & MASK, 43) + _rotate(g, 30) + h) & MASK,
                  (e + _rotate((f + a) & MASK, 18) + g) & MASK, mul)


def _weak32(data, offset, a, b):
    """A weak 128-bit hash of 32 bytes with two seeds, as (low, high) words."""
    w, x, y, z = (_word(data, offset + 8 * i) for i in range(4))
    a = (a + w) & MASK
    b = _rotate((b + a + z) & MASK, 21)
    c = a
    a = (a + x + y) & MASK
    b = (b + _rotate(a, 44)) & MASK
    return (a + z) & MASK, (b + c) & MASK


def fingerprint64(data):
    """FarmHash ``Fingerprint64`` (``farmhashna::Hash64``) of a bytes object, an int < 2^64."""
    n = len(data)
    if n <= 16:
        return _short(data)
    if n <= 32:
        return _medium(data)
    if n <= 64:
        return _long(data)
    seed = 81
    x, y = seed, (seed * _K1 + 113) & MASK
    z = (_shift_mix((y * _K2 + 113) & MASK) * _K2) & MASK
    v, w = (0, 0), (0, 0)
    x = (x * _K2 + _word(data, 0)) & MASK
    end = ((n - 1) // 64) * 64  # whole 64-byte blocks; 1 to 64 bytes remain for the tail
    offset = 0
    while True:
        x = (_rotate((x + y + v[0] + _word(data, offset + 8)) & MASK, 37) * _K1) & MASK
        y = (_rotate((y + v[1] + _word(data, offset + 48)) & MASK, 42) * _K1) & MASK
        x ^= w[1]
        y = (y + v[0] + _word(data, offset + 40)) & MASK
        z = (_rotate((z + w[0]) & MASK, 33) * _K1) & MASK
        v = _weak32(data, offset, (v[1] * _K1) & MASK, (x + w[0]) & MASK)
        w = _weak32(data, offset + 32, (z + w[1]) & MASK, (y + _word(data, offset + 16)) & MASK)
        z, x = x, z
        offset += 64
        if offset == end:
            break
    mul = _K1 + ((z & 0xFF) << 1)
    offset = n - 64  # the last 64 bytes
    w0 = (w[0] + ((n - 1) & 63)) & MASK
    v0 = (v[0] + w0) & MASK
    w0 = (w0 + v0) & MASK
    v, w = (v0, v[1]), (w0, w[1])
    x = (_rotate((x + y + v[0] + _word(data, offset + 8)) & MASK, 37) * mul) & MASK
    y = (_rotate((y + v[1] + _word(data, offset + 48)) & MASK, 42) * mul) & MASK
    x ^= (w[1] * 9) & MASK
    y = (y + v[0] * 9 + _word(data, offset + 40)) & MASK
    z = (_rotate((z + w[0]) & MASK, 33) * mul) & MASK
    v = _weak32(data, offset, (v[1] * mul) & MASK, (x + w[0]) & MASK)
    w = _weak32(data, offset + 32, (z + w[1]) & MASK, (y + _word(data, offset + 16)) & MASK)
    z, x = x, z
    return _mix16((_mix16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & MASK,
                  (_mix16(v[1], w[1], mul) + x) & MASK, mul)


def _rotate_left(value, shift):
    return ((value << shift) | (value >> (64 - shift))) & MASK


def _sip_rounds(v0, v1, v2, v3, rounds):
    for _ in range(rounds):
        v0 = (v0 + v1) & MASK
        v1 = _rotate_left(v1, 13) ^ v0
        v0 = _rotate_left(v0, 32)
        v2 = (v2 + v3) & MASK
        v3 = _rotate_left(v3, 16) ^ v2
        v0 = (v0 + v3) & MASK
        v3 = _rotate_left(v3, 21) ^ v0
        v2 = (v2 + v1) & MASK
        v1 = _rotate_left(v1, 17) ^ v2
        v2 = _rotate_left(v2, 32)
    return v0, v1, v2, v3


def siphash64(key, data):
    """SipHash-2-4 of a bytes object with a 128-bit key given as two 64-bit words."""
    k0, k1 = (int(k) & MASK for k in key)
    v0, v1 = k0 ^ 0x736F6D6570736575, k1 ^ 0x646F72616E646F6D
    v2, v3 = k0 ^ 0x6C7967656E657261, k1 ^ 0x7465646279746573
    n = len(data)
    blocks = n - n % 8
    for offset in range(0, blocks, 8):
        m = _word(data, offset)
        v3 ^= m
        v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3, 2)
        v0 ^= m
    last = ((n & 0xFF) << 56) | int.from_bytes(data[blocks:], "little")
    v3 ^= last
    v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= 0xFF
    v0, v1, v2, v3 = _sip_rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


__all__ = ["fingerprint64", "siphash64"]
