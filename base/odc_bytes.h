/*  odc_bytes: bytes as numbers. Big-endian 64-bit integers (store keys
    that sort in sequence order, values of fixed width) and FNV-1a (telling
    what readings say apart: has it changed since the last one?).

    Header only; includes nothing of ours. */
#ifndef ODC_BYTES_H
#define ODC_BYTES_H

#include <stddef.h>
#include <stdint.h>

/*  value into out[0..7], most significant byte first. */
static inline void
odc_be64_put (uint8_t *out, uint64_t value)
{
    for (int i = 7; i >= 0; i--, value >>= 8)
        out[i] = (uint8_t)(value & 0xff);
}

/*  in[0..7], most significant byte first. */
static inline uint64_t
odc_be64_get (const uint8_t *in)
{
    uint64_t value = 0;
    for (int i = 0; i < 8; i++)
        value = (value << 8) | in[i];
    return value;
}

/*  FNV-1a 64: start from ODC_FNV_START, feed bytes. */
#define ODC_FNV_START 0xcbf29ce484222325ull
static inline uint64_t
odc_fnv (uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#endif
