/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the hash `etcdctl snapshot status`
 * prints (Go's crc32.MakeTable(crc32.Castagnoli)). Status hashes every byte of the database, so
 * this is the hot loop: SSE4.2's crc32 instruction over three independent streams (its latency
 * is three cycles, its throughput one a cycle), the streams joined with a precomputed
 * "append N zero bytes" operator; slicing-by-8 tables where the CPU lacks SSE4.2. */
#include <pthread.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "snap_int.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#define HAVE_X86 1
#else
#define HAVE_X86 0
#endif

#define POLY 0x82F63B78u
#define BLOCK 4096 /* bytes per stream in the three-way loop */

static uint32_t slice[8][256];
static uint32_t shift1[4][256]; /* state after BLOCK zero bytes */
static uint32_t shift2[4][256]; /* after 2 * BLOCK */
static int use_hw;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static uint32_t sw(uint32_t crc, const unsigned char *p, size_t len);

/* Raw (non-inverted) state through n zero bytes (tables only; n is a multiple of BLOCK). */
static uint32_t zeros(uint32_t crc, size_t n)
{
    static const unsigned char zero[BLOCK];
    for (; n >= BLOCK; n -= BLOCK)
        crc = sw(crc, zero, BLOCK);
    return crc;
}

static void build_shift(uint32_t t[4][256], size_t n)
{
    uint32_t basis[32];
    for (int b = 0; b < 32; b++)
        basis[b] = zeros(1u << b, n);
    /* The operator is linear over GF(2): a byte's image is the XOR of its bits' images. */
    for (int k = 0; k < 4; k++)
        for (int v = 0; v < 256; v++) {
            uint32_t r = 0;
            for (int b = 0; b < 8; b++)
                if (v & (1 << b))
                    r ^= basis[k * 8 + b];
            t[k][v] = r;
        }
}

static void init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int j = 0; j < 8; j++)
            c = (c >> 1) ^ (POLY & (0u - (c & 1)));
        slice[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int k = 1; k < 8; k++)
            slice[k][i] = (slice[k - 1][i] >> 8) ^ slice[0][slice[k - 1][i] & 0xff];
    build_shift(shift1, BLOCK);
    build_shift(shift2, 2 * BLOCK);
#if HAVE_X86
    __builtin_cpu_init();
    use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static inline uint32_t apply(uint32_t t[4][256], uint32_t c)
{
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t sw(uint32_t crc, const unsigned char *p, size_t len)
{
    while (len && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ slice[0][(crc ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        /* Little-endian hosts only reach here with meaningful results; bbolt files are
         * native-endian and etcd runs on little-endian hosts. */
        uint64_t v = load64(p) ^ crc;
        crc = slice[7][v & 0xff] ^ slice[6][(v >> 8) & 0xff] ^ slice[5][(v >> 16) & 0xff] ^
              slice[4][(v >> 24) & 0xff] ^ slice[3][(v >> 32) & 0xff] ^ slice[2][(v >> 40) & 0xff] ^
              slice[1][(v >> 48) & 0xff] ^ slice[0][v >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ slice[0][(crc ^ *p++) & 0xff];
    return crc;
}

#if HAVE_X86
__attribute__((target("sse4.2"))) static uint32_t hw(uint32_t crc, const unsigned char *p,
                                                     size_t len)
{
    uint64_t c0 = crc;
    while (len && ((uintptr_t)p & 7)) {
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
        len--;
    }
    while (len >= 3 * BLOCK) {
        uint64_t c1 = 0, c2 = 0;
        const unsigned char *a = p, *b = p + BLOCK, *c = p + 2 * BLOCK;
        for (size_t i = 0; i < BLOCK; i += 8) {
            c0 = _mm_crc32_u64(c0, load64(a + i));
            c1 = _mm_crc32_u64(c1, load64(b + i));
            c2 = _mm_crc32_u64(c2, load64(c + i));
        }
        c0 = apply(shift2, (uint32_t)c0) ^ apply(shift1, (uint32_t)c1) ^ (uint32_t)c2;
        p += 3 * BLOCK;
        len -= 3 * BLOCK;
    }
    while (len >= 8) {
        c0 = _mm_crc32_u64(c0, load64(p));
        p += 8;
        len -= 8;
    }
    while (len--)
        c0 = _mm_crc32_u8((uint32_t)c0, *p++);
    return (uint32_t)c0;
}
#endif

uint32_t vet_crc32c(uint32_t crc, const void *data, size_t len)
{
    const unsigned char *p = data;
    pthread_once(&once, init);
    if (!len)
        return crc;
    crc = ~crc;
#if HAVE_X86
    if (use_hw)
        return ~hw(crc, p, len);
#endif
    return ~sw(crc, p, len);
}

/* For tests: 1 forces the table path, 0 restores detection. */
void vet_crc32c_force_sw(int on)
{
    pthread_once(&once, init);
#if HAVE_X86
    use_hw = on ? 0 : __builtin_cpu_supports("sse4.2");
#endif
}

/* ---- joining CRCs ----
 * Appending n zero bytes to a CRC-32C register multiplies it by x^(8n) modulo the polynomial, so
 * crc(A || B) = crc(A) * x^(8 |B|) mod P  XOR  crc(B) (the pre- and post-inversions cancel, as
 * they do for zlib's crc32_combine, which is for the IEEE polynomial only). Polynomials are kept
 * in the reflected order of the register: bit 31 is x^0, bit 0 is x^31. */

#define X0 0x80000000u /* the polynomial 1 */

static uint32_t xpow2[64]; /* x^(2^k) mod P */
static pthread_once_t pow_once = PTHREAD_ONCE_INIT;

/* a * b mod P */
static uint32_t gf2_mul(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (; a; a <<= 1) {
        if (a & X0)
            r ^= b;
        b = (b >> 1) ^ (POLY & (0u - (b & 1))); /* b *= x; x^32 folds back into P */
    }
    return r;
}

static void pow_init(void)
{
    xpow2[0] = X0 >> 1; /* x^1 */
    for (int k = 1; k < 64; k++)
        xpow2[k] = gf2_mul(xpow2[k - 1], xpow2[k - 1]);
}

uint32_t vet_crc32c_combine(uint32_t crc1, uint32_t crc2, uint64_t len2)
{
    uint32_t m = X0;
    pthread_once(&pow_once, pow_init);
    /* x^(8 * len2): one factor per set bit of the exponent (8 * len2 wraps only past 2 EiB) */
    for (int k = 3; k < 64 && len2; k++, len2 >>= 1)
        if (len2 & 1)
            m = gf2_mul(m, xpow2[k]);
    return gf2_mul(m, crc1) ^ crc2;
}

/* ---- the hash over a walk's spans ---- */

int snap_spans_add(snap_spans *sp, const unsigned char *p, size_t n)
{
    if (!n)
        return 0;
    if (sp->n && sp->v[sp->n - 1].p + sp->v[sp->n - 1].n == p) {
        sp->v[sp->n - 1].n += n;
    } else {
        if (sp->n == sp->cap) {
            size_t nc = sp->cap ? sp->cap * 2 : 1024;
            snap_span *nv = realloc(sp->v, nc * sizeof *nv);
            if (!nv)
                return -1;
            sp->v = nv;
            sp->cap = nc;
        }
        sp->v[sp->n].p = p;
        sp->v[sp->n].n = n;
        sp->n++;
    }
    sp->bytes += n;
    return 0;
}

/* Threads pay off past a few milliseconds of CRC (hardware CRC runs at several GB/s). */
#define SPLIT_MIN (16u << 20)

typedef struct {
    const snap_spans *sp;
    size_t i, off;  /* first span and offset in it */
    uint64_t bytes; /* how many bytes from there */
    uint32_t crc;
} crc_job;

static void *crc_run(void *arg)
{
    crc_job *j = arg;
    uint64_t left = j->bytes;
    uint32_t crc = 0;
    for (size_t i = j->i, off = j->off; left && i < j->sp->n; i++, off = 0) {
        size_t n = j->sp->v[i].n - off;
        if (n > left)
            n = (size_t)left;
        crc = vet_crc32c(crc, j->sp->v[i].p + off, n);
        left -= n;
    }
    j->crc = crc;
    return NULL;
}

uint32_t snap_spans_crc(const snap_spans *sp)
{
    crc_job a = {sp, 0, 0, sp->bytes, 0}, b = {sp, 0, 0, 0, 0};
    pthread_once(&once, init); /* before the threads race to it */
    if (sp->bytes < SPLIT_MIN) {
        crc_run(&a);
        return a.crc;
    }
    /* the second half starts at byte bytes/2 of the stream, wherever that falls */
    uint64_t at = sp->bytes / 2, seen = 0;
    size_t i = 0;
    while (seen + sp->v[i].n <= at)
        seen += sp->v[i++].n;
    a.bytes = at;
    b.i = i;
    b.off = (size_t)(at - seen);
    b.bytes = sp->bytes - at;
    snap_run2(crc_run, &a, &b);
    return vet_crc32c_combine(a.crc, b.crc, b.bytes);
}
