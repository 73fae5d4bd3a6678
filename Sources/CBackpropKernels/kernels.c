// Matrix-product kernels for Backprop: a cache-blocked GEMM whose inner kernel is chosen at run
// time (AVX-512, AVX2 + FMA, or portable C), with per-function target attributes so that the
// package builds for plain x86-64 without any compiler flag. AVX2 and C pack B into panels and
// read A in place unless it is transposed (then packed too); AVX-512 reads A in place and packs B
// only when it is transposed.
//
// Every element of C is accumulated in the same order (k ascending, in blocks of KC, each with
// fused multiply-adds) whatever the instruction set, the tile position or the part of C being
// computed, so the three kernels give bit-identical results and splitting C's rows or columns
// across threads never changes a result.

#include "CBackpropKernels.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BP_X86 1
#endif

enum { KC = 256, NC = 1024 };

typedef struct {
  size_t mr, nr, mc;
} Blocking;

static const Blocking blocking[3] = {
    [BPKernelGeneric] = {4, 8, 128},
    [BPKernelAVX2] = {6, 16, 120},
    [BPKernelAVX512] = {8, 32, 0},  // tiles of the direct product, which packs no A
};

// MARK: - Instruction-set detection

static BPKernelLevel detect(void) {
#if BP_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return BPKernelAVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return BPKernelAVX2;
#endif
  return BPKernelGeneric;
}

static pthread_once_t level_once = PTHREAD_ONCE_INIT;
static BPKernelLevel detected_level = BPKernelGeneric;
static _Atomic int active_level = -1;

static void detect_once(void) { detected_level = detect(); }

BPKernelLevel bp_detect_level(void) {
  pthread_once(&level_once, detect_once);
  return detected_level;
}

BPKernelLevel bp_level(void) {
  int level = active_level;
  return level < 0 ? bp_detect_level() : (BPKernelLevel)level;
}

BPKernelLevel bp_set_level(BPKernelLevel level) {
  BPKernelLevel best = bp_detect_level();
  BPKernelLevel chosen = level > best ? best : level;
  active_level = (int)chosen;
  return chosen;
}

size_t bp_sgemm_tile_rows(void) { return blocking[bp_level()].mr; }

size_t bp_sgemm_tile_columns(void) { return blocking[bp_level()].nr; }

// MARK: - Packing

/// Grows a thread's buffer to hold `count` floats, 64-byte aligned; reused across calls, so a
/// training loop allocates only on its first step.
static float *grow(float **buffer, size_t *capacity, size_t count) {
  if (count > *capacity) {
    free(*buffer);
    size_t bytes = (count * sizeof(float) + 63) & ~(size_t)63;
    *buffer = aligned_alloc(64, bytes);
    *capacity = *buffer ? count : 0;
  }
  return *buffer;
}

static _Thread_local float *packed_a = NULL;
static _Thread_local size_t packed_a_capacity = 0;
static _Thread_local float *packed_b = NULL;
static _Thread_local size_t packed_b_capacity = 0;

/// Packs lines [l0, l0 + count) of an operand over depths [p0, p0 + kc) in panels of `width`
/// lines: panel by panel, depth by depth, `width` values (zero beyond the last line). A line is a
/// row of op(A) or a column of op(B); element (line, p) lies at m[p * ld + line] when the lines
/// are contiguous in memory (A transposed, B not) and at m[line * ld + p] otherwise. Both ways
/// read memory in order, so that packing keeps pace with the micro-kernel.
static void pack(bool lines_contiguous, const float *m, size_t ld, size_t l0, size_t count,
                 size_t p0, size_t kc, size_t width, float *out) {
  if (lines_contiguous) {
    // Depth by depth, each depth's `count` values read in one run: going panel by panel instead
    // would read a short piece of every depth's row, a new page each time for a wide operand,
    // which no prefetcher follows (it made packing a fifth of a large product's time).
    for (size_t p = 0; p < kc; p++) {
      const float *source = m + (p0 + p) * ld + l0;
      float *row = out + p * width;
      size_t panel = 0;
      // Whole panels copied with the width known to the compiler, so as a few vector moves.
#define BP_WHOLE_PANELS(w)                                \
  case w:                                                 \
    for (; panel + w <= count; panel += w, row += kc * w) \
      memcpy(row, source + panel, w * sizeof(float));     \
    break;
      switch (width) {
        BP_WHOLE_PANELS(4)
        BP_WHOLE_PANELS(6)
        BP_WHOLE_PANELS(8)
        BP_WHOLE_PANELS(16)
        BP_WHOLE_PANELS(32)
        default:
          break;
      }
#undef BP_WHOLE_PANELS
      for (; panel < count; panel += width, row += kc * width) {
        size_t lines = count - panel < width ? count - panel : width;
        for (size_t line = 0; line < lines; line++) row[line] = source[panel + line];
        for (size_t line = lines; line < width; line++) row[line] = 0;
      }
    }
    return;
  }
  for (size_t panel = 0; panel < count; panel += width, out += kc * width) {
    size_t lines = count - panel < width ? count - panel : width;
    size_t line = 0;
#if BP_X86
    // Four lines at a time, by 4×4 transposes in SSE registers (every x86-64 has them).
    for (; line + 4 <= lines; line += 4) {
      const float *source = m + (l0 + panel + line) * ld + p0;
      size_t p = 0;
      for (; p + 4 <= kc; p += 4) {
        if (p % 16 == 0) {
          // Each line's run of kc values is short and a page away from the last: the lines
          // two groups ahead are fetched now, before any prefetcher would have found them.
          for (size_t q = 8; q < 12; q++) _mm_prefetch(source + q * ld + p, _MM_HINT_T0);
        }
        __m128 r0 = _mm_loadu_ps(source + p), r1 = _mm_loadu_ps(source + ld + p);
        __m128 r2 = _mm_loadu_ps(source + 2 * ld + p), r3 = _mm_loadu_ps(source + 3 * ld + p);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(out + p * width + line, r0);
        _mm_storeu_ps(out + (p + 1) * width + line, r1);
        _mm_storeu_ps(out + (p + 2) * width + line, r2);
        _mm_storeu_ps(out + (p + 3) * width + line, r3);
      }
      for (; p < kc; p++) {
        for (size_t q = 0; q < 4; q++) out[p * width + line + q] = source[q * ld + p];
      }
    }
#endif
    for (; line < lines; line++) {
      const float *source = m + (l0 + panel + line) * ld + p0;
      for (size_t p = 0; p < kc; p++) out[p * width + line] = source[p];
    }
    for (size_t line = lines; line < width; line++) {
      for (size_t p = 0; p < kc; p++) out[p * width + line] = 0;
    }
  }
}

/// Where a micro-kernel puts its tile: element (r, s) of the tile is C's element at
/// c[r * row_stride + s * column_stride], written as alpha times the tile's value, or added to C
/// with one fused multiply-add (exactly C + value when alpha is 1).
typedef struct {
  float *c;
  size_t row_stride, column_stride;
  bool add;
  float alpha;
} Output;

/// Stores an mr×nr tile held in `tile` (row stride nr_stride). Inlined into each micro-kernel, so
/// that it is compiled for that kernel's instruction set.
static inline __attribute__((always_inline)) void store_tile(const float *tile, size_t nr_stride,
                                                             const Output *out, size_t mr,
                                                             size_t nr) {
  for (size_t r = 0; r < mr; r++) {
    for (size_t s = 0; s < nr; s++) {
      float value = tile[r * nr_stride + s];
      float *target = out->c + r * out->row_stride + s * out->column_stride;
      *target = out->add ? fmaf(out->alpha, value, *target) : out->alpha * value;
    }
  }
}

// MARK: - Micro-kernels: C[mr×nr] (+)= A[mr×kc] · Bpanel[kc×NR]

// A micro-kernel reads A(r, p) at a[r * row_step + p * depth_step]: from a packed panel
// (row_step 1, depth_step MR), or in place from a row-major A (row_step lda, depth_step 1), which
// spares a copy of A; rows past mr read row 0 and are not stored. B comes from a packed panel.

static void kernel_generic(size_t kc, const float *a, size_t row_step, size_t depth_step,
                           const float *b, const Output *out, size_t mr, size_t nr) {
  float tile[4 * 8] = {0};
  for (size_t p = 0; p < kc; p++) {
    for (size_t r = 0; r < 4; r++) {
      float x = a[(r < mr ? r : 0) * row_step + p * depth_step];
      for (size_t s = 0; s < 8; s++) tile[r * 8 + s] = fmaf(x, b[s], tile[r * 8 + s]);
    }
    b += 8;
  }
  store_tile(tile, 8, out, mr, nr);
}

#if BP_X86

__attribute__((target("avx2,fma"))) static void kernel_avx2(size_t kc, const float *a,
                                                              size_t row_step,
                                                              size_t depth_step, const float *b,
                                                              const Output *out, size_t mr,
                                                              size_t nr) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  // The tile of C is read (or written) only after the loop: its rows are fetched now, so that the
  // loop hides their latency (C rarely fits in cache between the blocks of k).
  for (size_t r = 0; r < mr; r++) {
    const char *row = (const char *)(out->c + r * out->row_stride);
    _mm_prefetch(row, _MM_HINT_T0);
    _mm_prefetch(row + 60, _MM_HINT_T0);
  }
#define BP_LINE(r) const float *a##r = a + (r < mr ? r : 0) * row_step;
  BP_LINE(0) BP_LINE(1) BP_LINE(2) BP_LINE(3) BP_LINE(4) BP_LINE(5)
#undef BP_LINE
  for (size_t p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 x;
#define BP_ROW(r)                             \
  x = _mm256_broadcast_ss(a##r);              \
  c##r##0 = _mm256_fmadd_ps(x, b0, c##r##0); \
  c##r##1 = _mm256_fmadd_ps(x, b1, c##r##1); \
  a##r += depth_step;
    BP_ROW(0) BP_ROW(1) BP_ROW(2) BP_ROW(3) BP_ROW(4) BP_ROW(5)
#undef BP_ROW
    b += 16;
  }
  if (out->column_stride == 1 && nr == 16) {
    // A whole row of the tile is 16 contiguous values of C: stored from the registers, with the
    // same single rounding per element as store_tile.
    __m256 scale = _mm256_set1_ps(out->alpha);
#define BP_OUT(r)                                                                    \
  if (r < mr) {                                                                      \
    float *row = out->c + r * out->row_stride;                                       \
    __m256 v0 = out->add ? _mm256_fmadd_ps(scale, c##r##0, _mm256_loadu_ps(row))     \
                         : _mm256_mul_ps(scale, c##r##0);                            \
    __m256 v1 = out->add ? _mm256_fmadd_ps(scale, c##r##1, _mm256_loadu_ps(row + 8)) \
                         : _mm256_mul_ps(scale, c##r##1);                            \
    _mm256_storeu_ps(row, v0);                                                       \
    _mm256_storeu_ps(row + 8, v1);                                                   \
  }
    BP_OUT(0) BP_OUT(1) BP_OUT(2) BP_OUT(3) BP_OUT(4) BP_OUT(5)
#undef BP_OUT
    return;
  }
  float tile[6 * 16] __attribute__((aligned(32)));
#define BP_PUT(r)                              \
  _mm256_store_ps(tile + r * 16, c##r##0);     \
  _mm256_store_ps(tile + r * 16 + 8, c##r##1);
  BP_PUT(0) BP_PUT(1) BP_PUT(2) BP_PUT(3) BP_PUT(4) BP_PUT(5)
#undef BP_PUT
  store_tile(tile, 16, out, mr, nr);
}

// MARK: - AVX-512: A read where it lies

// At AVX-512 no operand is copied into panels unless it must be: each 8×32 tile of C reads its
// eight rows of op(A) in place, by strides (a row of A, or a column of a transposed A), and its
// 32 columns of op(B) in place when B is not transposed (32 contiguous values a depth), else
// from a panel packed as above. On the mlp benchmark's products (a few MFLOP, where copying
// both operands costs about as much as reading them in place saves) this measured 3–11% faster
// than OpenBLAS on one thread. The sums are the packed kernels': k ascending in blocks of KC,
// one FMA a step.

// Lanes [0, count) of a vector, count ≤ 16.
static inline __mmask16 first_lanes(size_t count) {
  return count >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << count) - 1);
}

/// C[mr×nr] (+)= alpha · Σ_p A(r, p)·B(p, s) over kc depths, mr ≤ 8, nr ≤ 32, with A(r, p) at
/// a[r * row_step + p * depth_step] and B(p, s) at b[p * ldb + s]. Rows past mr repeat row 0
/// and are not stored; columns past nr are neither read nor stored.
__attribute__((target("avx512f"))) static void direct_tile_avx512(
    size_t kc, const float *a, size_t row_step, size_t depth_step, const float *b, size_t ldb,
    const Output *out, size_t mr, size_t nr) {
  __mmask16 low = first_lanes(nr), high = nr > 16 ? first_lanes(nr - 16) : 0;
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
  __m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
  __m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
  __m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
  __m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
#define BP_LINE(r) const float *a##r = a + (r < mr ? r : 0) * row_step;
  BP_LINE(0) BP_LINE(1) BP_LINE(2) BP_LINE(3) BP_LINE(4) BP_LINE(5) BP_LINE(6) BP_LINE(7)
#undef BP_LINE
  for (size_t p = 0; p < kc; p++) {
    __m512 b0 = _mm512_maskz_loadu_ps(low, b), b1 = _mm512_maskz_loadu_ps(high, b + 16);
    __m512 x;
#define BP_ROW(r)                             \
  x = _mm512_set1_ps(*a##r);                  \
  c##r##0 = _mm512_fmadd_ps(x, b0, c##r##0); \
  c##r##1 = _mm512_fmadd_ps(x, b1, c##r##1); \
  a##r += depth_step;
    BP_ROW(0) BP_ROW(1) BP_ROW(2) BP_ROW(3) BP_ROW(4) BP_ROW(5) BP_ROW(6) BP_ROW(7)
#undef BP_ROW
    b += ldb;
  }
  if (out->column_stride == 1) {
    __m512 scale = _mm512_set1_ps(out->alpha);
#define BP_OUT(r)                                                                  \
  if (r < mr) {                                                                    \
    float *row = out->c + r * out->row_stride;                                     \
    __m512 v0 = _mm512_mul_ps(scale, c##r##0), v1 = _mm512_mul_ps(scale, c##r##1); \
    if (out->add) {                                                                \
      v0 = _mm512_fmadd_ps(scale, c##r##0, _mm512_maskz_loadu_ps(low, row));       \
      v1 = _mm512_fmadd_ps(scale, c##r##1, _mm512_maskz_loadu_ps(high, row + 16)); \
    }                                                                              \
    _mm512_mask_storeu_ps(row, low, v0);                                           \
    _mm512_mask_storeu_ps(row + 16, high, v1);                                     \
  }
    BP_OUT(0) BP_OUT(1) BP_OUT(2) BP_OUT(3) BP_OUT(4) BP_OUT(5) BP_OUT(6) BP_OUT(7)
#undef BP_OUT
    return;
  }
  float tile[8 * 32] __attribute__((aligned(64)));
#define BP_PUT(r)                              \
  _mm512_store_ps(tile + r * 32, c##r##0);     \
  _mm512_store_ps(tile + r * 32 + 16, c##r##1);
  BP_PUT(0) BP_PUT(1) BP_PUT(2) BP_PUT(3) BP_PUT(4) BP_PUT(5) BP_PUT(6) BP_PUT(7)
#undef BP_PUT
  store_tile(tile, 32, out, mr, nr);
}

/// The AVX-512 product, with the arguments of bp_sgemm after its choice of orientation.
static void direct_product_avx512(bool transpose_a, bool transpose_b, size_t m, size_t n,
                                  size_t k, const float *a, size_t lda, const float *b,
                                  size_t ldb, Output out, bool accumulate) {
  size_t row_step = transpose_a ? 1 : lda, depth_step = transpose_a ? lda : 1;
  // A B whose rows lie a multiple of 4 KiB apart puts every depth's 32 values in the same few
  // sets of the L1 cache, which then cannot hold a tile's 256 depths across the tiles of A that
  // reuse them: such a B is packed too, once per block, when enough tiles reuse it.
  bool packs_b = transpose_b || (ldb * sizeof(float) % 4096 == 0 && m > 64);
  float *panel = NULL;
  if (packs_b) {
    panel = grow(&packed_b, &packed_b_capacity, (NC + 32) * (k < KC ? k : KC));
    if (!panel) return;
  }
  for (size_t jc = 0; jc < n; jc += NC) {
    size_t nc = n - jc < NC ? n - jc : NC;
    for (size_t pc = 0; pc < k; pc += KC) {
      size_t kc = k - pc < KC ? k - pc : KC;
      out.add = accumulate || pc > 0;
      if (packs_b) pack(!transpose_b, b, ldb, jc, nc, pc, kc, 32, panel);
      for (size_t jr = 0; jr < nc; jr += 32) {
        const float *columns = packs_b ? panel + jr * kc : b + pc * ldb + jc + jr;
        size_t columns_step = packs_b ? 32 : ldb;
        for (size_t ir = 0; ir < m; ir += 8) {
          Output tile = out;
          tile.c = out.c + ir * out.row_stride + (jc + jr) * out.column_stride;
          direct_tile_avx512(kc, a + ir * row_step + pc * depth_step, row_step, depth_step,
                             columns, columns_step, &tile, m - ir < 8 ? m - ir : 8,
                             nc - jr < 32 ? nc - jr : 32);
        }
      }
    }
  }
}

#endif

typedef void (*MicroKernel)(size_t, const float *, size_t, size_t, const float *, const Output *,
                            size_t, size_t);

static MicroKernel micro_kernel(BPKernelLevel level) {
#if BP_X86
  if (level == BPKernelAVX2) return kernel_avx2;
#endif
  return kernel_generic;
}

// MARK: - The blocked product

void bp_sgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, bool accumulate, float *c,
              size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(float));
    return;
  }
  BPKernelLevel level = bp_level();
  Blocking block = blocking[level];
  MicroKernel kernel = micro_kernel(level);
  // The tiles pad C to multiples of mr rows and nr columns. A C narrower than one tile (such as
  // a layer of 10 outputs) wastes less as Cᵀ = op(B)ᵀ·op(A)ᵀ, computed with each tile stored
  // transposed; the products and their order are the same, so are the results. (A wide C stays
  // as it is: its transposed stores would stride across memory.)
  size_t rows_padded = (m + block.mr - 1) / block.mr * block.mr;
  size_t swapped_rows = (n + block.mr - 1) / block.mr * block.mr;
  size_t swapped_columns = (m + block.nr - 1) / block.nr * block.nr;
  Output out = {c, ldc, 1, accumulate, alpha};
  if (n < block.nr && swapped_rows * swapped_columns < rows_padded * block.nr) {
    const float *operand = a;
    a = b;
    b = operand;
    size_t stride = lda;
    lda = ldb;
    ldb = stride;
    bool transpose = transpose_a;
    transpose_a = !transpose_b;
    transpose_b = !transpose;
    size_t count = m;
    m = n;
    n = count;
    out.row_stride = 1;
    out.column_stride = ldc;
  }
#if BP_X86
  if (level == BPKernelAVX512) {
    direct_product_avx512(transpose_a, transpose_b, m, n, k, a, lda, b, ldb, out, accumulate);
    return;
  }
#endif
  // A row-major A is read in place (its rows are the tiles' rows, each read in order); a
  // transposed one is packed, as its rows of op(A) would each cost a cache line per depth.
  bool packs_a = transpose_a;
  size_t kc_max = k < KC ? k : KC;
  float *pa = packs_a ? grow(&packed_a, &packed_a_capacity, (block.mc + block.mr) * kc_max) : NULL;
  float *pb = grow(&packed_b, &packed_b_capacity, (NC + block.nr) * kc_max);
  if ((packs_a && !pa) || !pb) return;
  for (size_t jc = 0; jc < n; jc += NC) {
    size_t nc = n - jc < NC ? n - jc : NC;
    for (size_t pc = 0; pc < k; pc += KC) {
      size_t kc = k - pc < KC ? k - pc : KC;
      out.add = accumulate || pc > 0;
      pack(!transpose_b, b, ldb, jc, nc, pc, kc, block.nr, pb);
      for (size_t ic = 0; ic < m; ic += block.mc) {
        size_t mc = m - ic < block.mc ? m - ic : block.mc;
        if (packs_a) pack(true, a, lda, ic, mc, pc, kc, block.mr, pa);
        for (size_t jr = 0; jr < nc; jr += block.nr) {
          size_t nr = nc - jr < block.nr ? nc - jr : block.nr;
          for (size_t ir = 0; ir < mc; ir += block.mr) {
            size_t mr = mc - ir < block.mr ? mc - ir : block.mr;
            Output tile = out;
            tile.c = c + (ic + ir) * out.row_stride + (jc + jr) * out.column_stride;
            if (packs_a) {
              kernel(kc, pa + ir * kc, 1, block.mr, pb + jr * kc, &tile, mr, nr);
            } else {
              kernel(kc, a + (ic + ir) * lda + pc, lda, 1, pb + jr * kc, &tile, mr, nr);
            }
          }
        }
      }
    }
  }
}

static _Thread_local double *double_row = NULL;
static _Thread_local size_t double_row_capacity = 0;

void bp_dgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, double alpha,
              const double *a, size_t lda, const double *b, size_t ldb, bool accumulate,
              double *c, size_t ldc) {
  if (n > double_row_capacity) {
    free(double_row);
    double_row = malloc(n * sizeof(double));
    double_row_capacity = double_row ? n : 0;
  }
  double *sum = double_row;
  if (!sum) return;
  for (size_t i = 0; i < m; i++) {
    for (size_t j = 0; j < n; j++) sum[j] = 0;
    for (size_t p = 0; p < k; p++) {
      double x = transpose_a ? a[p * lda + i] : a[i * lda + p];
      if (transpose_b) {
        for (size_t j = 0; j < n; j++) sum[j] = fma(x, b[j * ldb + p], sum[j]);
      } else {
        const double *bp = b + p * ldb;
        for (size_t j = 0; j < n; j++) sum[j] = fma(x, bp[j], sum[j]);
      }
    }
    double *row = c + i * ldc;
    for (size_t j = 0; j < n; j++) row[j] = accumulate ? fma(alpha, sum[j], row[j]) : alpha * sum[j];
  }
}

// MARK: - OpenBLAS, loaded at run time

typedef void (*CblasSgemm)(int, int, int, int, int, int, float, const float *, int,
                           const float *, int, float, float *, int);
typedef void (*CblasDgemm)(int, int, int, int, int, int, double, const double *, int,
                           const double *, int, double, double *, int);

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static CblasSgemm blas_sgemm = NULL;
static CblasDgemm blas_dgemm = NULL;
static const char *blas_coretype = NULL;

static void load_blas(void) {
  const char *given = getenv("OPENBLAS_CORETYPE");
  if (given == NULL || given[0] == 0) {
    BPKernelLevel level = bp_detect_level();
    const char *type = level == BPKernelAVX512 ? "SkylakeX" : level == BPKernelAVX2 ? "Haswell" : NULL;
    if (type) setenv("OPENBLAS_CORETYPE", type, 0);
  }
  blas_coretype = getenv("OPENBLAS_CORETYPE");
  // Backprop splits the work itself. Without this, OpenBLAS starts a thread per core when it
  // loads, and each spins (sched_yield) for about 100 ms: measured, the first steps of training
  // then ran at half speed on two cores.
  setenv("OPENBLAS_NUM_THREADS", "1", 0);
  const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0",
                         "libopenblas.dylib", NULL};
  for (int index = 0; names[index]; index++) {
    void *library = dlopen(names[index], RTLD_NOW | RTLD_LOCAL);
    if (!library) continue;
    blas_sgemm = (CblasSgemm)dlsym(library, "cblas_sgemm");
    blas_dgemm = (CblasDgemm)dlsym(library, "cblas_dgemm");
    void (*set_threads)(int) = (void (*)(int))dlsym(library, "openblas_set_num_threads");
    // Backprop splits the work itself, so results do not depend on BLAS's own threading.
    if (set_threads) set_threads(1);
    if (blas_sgemm && blas_dgemm) return;
    blas_sgemm = NULL;
    blas_dgemm = NULL;
  }
}

bool bp_blas_load(void) {
  pthread_once(&blas_once, load_blas);
  return blas_sgemm != NULL;
}

const char *bp_blas_coretype(void) { return bp_blas_load() ? blas_coretype : NULL; }

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

bool bp_blas_sgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
                   const float *a, size_t lda, const float *b, size_t ldb, bool accumulate,
                   float *c, size_t ldc) {
  if (!bp_blas_load()) return false;
  if (m == 0 || n == 0) return true;
  blas_sgemm(RowMajor, transpose_a ? Trans : NoTrans, transpose_b ? Trans : NoTrans, (int)m, (int)n,
             (int)k, alpha, a, (int)lda, b, (int)ldb, accumulate ? 1.0f : 0.0f, c, (int)ldc);
  return true;
}

bool bp_blas_dgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k,
                   double alpha, const double *a, size_t lda, const double *b, size_t ldb,
                   bool accumulate, double *c, size_t ldc) {
  if (!bp_blas_load()) return false;
  if (m == 0 || n == 0) return true;
  blas_dgemm(RowMajor, transpose_a ? Trans : NoTrans, transpose_b ? Trans : NoTrans, (int)m, (int)n,
             (int)k, alpha, a, (int)lda, b, (int)ldb, accumulate ? 1.0 : 0.0, c, (int)ldc);
  return true;
}

// MARK: - Activations: tanh and sigmoid with one exponential, vectorized and exact across levels

// Cephes expf: e^x = 2^n · e^r with n = round(x / ln 2), r = x − n·ln 2 in two parts, e^r by a
// degree-6 polynomial. Every step is one correctly rounded operation or an FMA, so each level
// gives the same bits. 2^n is applied as 2^⌊n/2⌋ · 2^(n − ⌊n/2⌋), two factors that are normal
// numbers for every n in [−151, 128]: results below 2^−126 then round once into the subnormals
// and reach 0 below about −103.9, as the C library's expf does, instead of stopping at the
// smallest normal number.
//
// The math is written once, on 16-lane vectors of the compiler's vector extension; each level
// below inlines it under its own target attribute (one zmm, two ymm or four xmm registers an
// operation), and a partial vector is computed in a zero-padded copy, so tails take the same
// steps as whole vectors. NaN propagates: comparisons with it are false, so it is never clamped.
typedef float f32x16 __attribute__((vector_size(64)));
typedef int32_t i32x16 __attribute__((vector_size(64)));
enum { lanes = 16 };

#define BP_LANES static inline __attribute__((always_inline))
// Every function taking or returning these vectors is inlined, so no call passes one and the
// calling convention the warning is about never applies.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"

static const float exp_high = 88.3762626647949f, exp_low = -104.0f;
static const float log2e = 1.44269504088896341f, ln2_high = 0.693359375f, ln2_low = -2.12194440e-4f;
static const float exp_poly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                  4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
static const float tanh_poly[5] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f,
                                   1.33314422036e-1f, -3.33332819422e-1f};

BP_LANES f32x16 splat(float value) { return (f32x16){0} + value; }

/// Lane by lane, `yes` where `mask` is set (all ones) and `no` where it is clear.
BP_LANES f32x16 select_lanes(i32x16 mask, f32x16 yes, f32x16 no) {
  return (f32x16)((mask & (i32x16)yes) | (~mask & (i32x16)no));
}

BP_LANES f32x16 magnitude(f32x16 x) { return (f32x16)((i32x16)x & 0x7fffffff); }

BP_LANES f32x16 fma_lanes(f32x16 a, f32x16 b, f32x16 c) { return __builtin_elementwise_fma(a, b, c); }

BP_LANES f32x16 exp_lanes(f32x16 x) {
  x = select_lanes(x > exp_high, splat(exp_high), x);
  x = select_lanes(x < exp_low, splat(exp_low), x);
  f32x16 n = __builtin_elementwise_floor(fma_lanes(x, splat(log2e), splat(0.5f)));
  f32x16 r = fma_lanes(-n, splat(ln2_high), x);
  r = fma_lanes(-n, splat(ln2_low), r);
  f32x16 p = splat(exp_poly[0]);
  for (int i = 1; i < 6; i++) p = fma_lanes(p, r, splat(exp_poly[i]));
  f32x16 y = fma_lanes(p, r * r, r) + 1.0f;
  // A NaN lane keeps y = NaN; its exponent is taken as 0 so that the conversion stays defined.
  i32x16 whole = __builtin_convertvector(select_lanes(n == n, n, splat(0)), i32x16);
  i32x16 half = whole >> 1;
  return y * (f32x16)((half + 127) << 23) * (f32x16)((whole - half + 127) << 23);
}

BP_LANES f32x16 tanh_lanes(f32x16 x) {
  f32x16 a = magnitude(x);
  f32x16 z = x * x;
  f32x16 p = splat(tanh_poly[0]);
  for (int i = 1; i < 5; i++) p = fma_lanes(p, z, splat(tanh_poly[i]));
  f32x16 small = fma_lanes(p * z, x, x);
  f32x16 large = 1.0f - 2.0f / (exp_lanes(a + a) + 1.0f);
  large = select_lanes(x < 0, -large, large);
  return select_lanes(a < 0.625f, small, large);
}

// σ(x) = 1/(1 + e^−|x|) for x ≥ 0 and e^−|x|/(1 + e^−|x|) below, so that e^−x never overflows
// and σ underflows to 0 with the exponential.
BP_LANES f32x16 sigmoid_lanes(f32x16 x) {
  f32x16 e = exp_lanes(-magnitude(x));
  return select_lanes(x < 0, e, splat(1.0f)) / (1.0f + e);
}

BP_LANES f32x16 activate_lanes(f32x16 x, BPActivation activation) {
  return activation == BPActivationTanh ? tanh_lanes(x) : sigmoid_lanes(x);
}

typedef enum { LaneTanh, LaneSigmoid, LaneExp } LaneFunction;

BP_LANES f32x16 apply_lanes(f32x16 x, LaneFunction function) {
  switch (function) {
    case LaneTanh: return tanh_lanes(x);
    case LaneSigmoid: return sigmoid_lanes(x);
    case LaneExp: return exp_lanes(x);
  }
  return x;
}

/// Applies `function` to each of `rows` rows of `width` floats, after adding `bias` (one value a
/// column) when it is given: whole vectors first, then the rest of a row in a zero-padded vector.
BP_LANES void apply_rows(float *values, size_t rows, size_t width, const float *bias,
                         LaneFunction function) {
  for (size_t row = 0; row < rows; row++) {
    float *line = values + row * width;
    for (size_t column = 0; column < width; column += lanes) {
      size_t bytes = (width - column < lanes ? width - column : lanes) * sizeof(float);
      f32x16 x = {0}, b = {0};
      memcpy(&x, line + column, bytes);
      if (bias) memcpy(&b, bias + column, bytes);
      x = apply_lanes(x + b, function);
      memcpy(line + column, &x, bytes);
    }
  }
}

#if BP_X86
__attribute__((target("avx512f"))) static void apply_rows_avx512(
    float *values, size_t rows, size_t width, const float *bias, LaneFunction function) {
  apply_rows(values, rows, width, bias, function);
}

__attribute__((target("avx2,fma"))) static void apply_rows_avx2(
    float *values, size_t rows, size_t width, const float *bias, LaneFunction function) {
  apply_rows(values, rows, width, bias, function);
}
#endif

static void apply_rows_at_level(float *values, size_t rows, size_t width, const float *bias,
                                LaneFunction function) {
#if BP_X86
  if (bp_level() == BPKernelAVX512) return apply_rows_avx512(values, rows, width, bias, function);
  if (bp_level() == BPKernelAVX2) return apply_rows_avx2(values, rows, width, bias, function);
#endif
  apply_rows(values, rows, width, bias, function);
}

void bp_activate_f32(float *values, size_t rows, size_t width, const float *bias,
                     BPActivation activation) {
  // Rows narrower than a vector take the bias first, then are activated as one line, which keeps
  // them in whole vectors.
  if (bias && width < lanes) {
    for (size_t row = 0; row < rows; row++) {
      for (size_t column = 0; column < width; column++) values[row * width + column] += bias[column];
    }
    bias = NULL;
  }
  if (!bias) {
    width *= rows;
    rows = 1;
  }
  apply_rows_at_level(values, rows, width, bias,
                      activation == BPActivationTanh ? LaneTanh : LaneSigmoid);
}

static void exp_in_place(float *values, size_t n) { apply_rows_at_level(values, 1, n, NULL, LaneExp); }
#pragma clang diagnostic pop

void bp_softmax_cross_entropy_f32(const float *logits, const float *targets, float *delta,
                                  float *losses, size_t rows, size_t width, float scale) {
  for (size_t row = 0; row < rows; row++) {
    const float *line = logits + row * width;
    const float *target = targets + row * width;
    float *gradient = delta + row * width;
    float top = line[0];
    for (size_t column = 1; column < width; column++) top = fmaxf(top, line[column]);
    // −Σ t·log p = −Σ t·(z − top) + (Σ t)·log Σ exp(z − top), without taking log of a p.
    float weighted = 0, mass = 0;
    for (size_t column = 0; column < width; column++) {
      gradient[column] = line[column] - top;
      weighted += target[column] * gradient[column];
      mass += target[column];
    }
    exp_in_place(gradient, width);
    float sum = 0;
    for (size_t column = 0; column < width; column++) sum += gradient[column];
    losses[row] = mass * logf(sum) - weighted;
    // ∂/∂z of the row's loss is p·Σt − t (p − t for targets that sum to 1).
    float inverse = 1.0f / sum;
    for (size_t column = 0; column < width; column++) {
      gradient[column] = (gradient[column] * inverse * mass - target[column]) * scale;
    }
  }
}

// MARK: - A small pool of persistent workers

enum { MaxWorkers = 63, SpinRounds = 20000 };

static struct {
  pthread_mutex_t lock;        // serializes callers
  pthread_mutex_t sleep_lock;  // guards the condition variables
  pthread_cond_t wake;
  pthread_cond_t done;
  size_t started;              // workers created so far
  _Atomic unsigned long generation;
  _Atomic size_t remaining;
  size_t parts;
  void (*work)(void *, size_t);
  void *context;
  unsigned long created_at[MaxWorkers];  // the generation current when each worker was made
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
          PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, NULL, NULL, {0}};

// Set on the workers and on a caller while it runs its own part: a bp_parallel_for from inside a
// part finds the pool busy with the enclosing call, so it runs its parts itself, in order.
static _Thread_local bool inside_part = false;

static void *worker_main(void *argument) {
  inside_part = true;
  size_t index = (size_t)(uintptr_t)argument;  // this worker runs part index + 1
  // Generations before this worker existed are not its to run.
  unsigned long seen = pool.created_at[index];
  for (;;) {
    unsigned long generation;
    int spins = 0;
    while ((generation = pool.generation) == seen && spins < SpinRounds) {
      spins++;
#if BP_X86
      _mm_pause();
#endif
    }
    if (generation == seen) {
      pthread_mutex_lock(&pool.sleep_lock);
      while ((generation = pool.generation) == seen) pthread_cond_wait(&pool.wake, &pool.sleep_lock);
      pthread_mutex_unlock(&pool.sleep_lock);
    }
    seen = generation;
    if (index + 1 < pool.parts) pool.work(pool.context, index + 1);
    // Every worker acknowledges every generation, so none can lag into the next call.
    if (--pool.remaining == 0) {
      pthread_mutex_lock(&pool.sleep_lock);
      pthread_cond_signal(&pool.done);
      pthread_mutex_unlock(&pool.sleep_lock);
    }
  }
  return NULL;
}

void bp_parallel_for(size_t parts, void (*work)(void *, size_t), void *context) {
  if (parts <= 1 || inside_part) {
    for (size_t part = 0; part < parts; part++) work(context, part);
    return;
  }
  if (parts > MaxWorkers + 1) parts = MaxWorkers + 1;
  pthread_mutex_lock(&pool.lock);
  while (pool.started < parts - 1) {
    pthread_t thread;
    pool.created_at[pool.started] = pool.generation;
    if (pthread_create(&thread, NULL, worker_main, (void *)(uintptr_t)pool.started) != 0) break;
    pthread_detach(thread);
    pool.started++;
  }
  size_t usable = pool.started + 1 < parts ? pool.started + 1 : parts;
  pool.parts = usable;
  pool.work = work;
  pool.context = context;
  // Every started worker wakes and acknowledges; those without a part do nothing else.
  pool.remaining = pool.started;
  pthread_mutex_lock(&pool.sleep_lock);
  pool.generation++;
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.sleep_lock);
  inside_part = true;
  work(context, 0);
  inside_part = false;
  int spins = 0;
  while (pool.remaining > 0 && spins < SpinRounds) {
    spins++;
#if BP_X86
    _mm_pause();
#endif
  }
  if (pool.remaining > 0) {
    pthread_mutex_lock(&pool.sleep_lock);
    while (pool.remaining > 0) pthread_cond_wait(&pool.done, &pool.sleep_lock);
    pthread_mutex_unlock(&pool.sleep_lock);
  }
  pthread_mutex_unlock(&pool.lock);
}

// MARK: - Memory

void bp_read_into_cache(const void *data, size_t bytes) {
  const volatile unsigned char *line = data;
  for (size_t offset = 0; offset < bytes; offset += 64) (void)line[offset];
}

size_t bp_peak_resident_bytes(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
#if defined(__APPLE__)
  return (size_t)usage.ru_maxrss;
#else
  return (size_t)usage.ru_maxrss * 1024;
#endif
}

// MARK: - Optimizer updates, vectorized (no contraction into FMAs: the same bits everywhere)

// Compiled for AVX-512, AVX2 and the x86-64 base, the widest chosen at load time: without FMA
// contraction every operation is one correctly rounded IEEE operation, so all three give the
// same bits, and on the wide benchmark's 1.9 million parameters the 16-lane update is the one
// that keeps up with memory.
#if BP_X86 && defined(__ELF__)
#define BP_WIDEST __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BP_WIDEST
#endif

// The L1 term is tested inside the loop, which the compiler unswitches: without it the loop is the
// same as before it existed.
#define BP_OPTIMIZER_UPDATES(T, SUFFIX)                                                            \
  BP_WIDEST void bp_adam_##SUFFIX(T *restrict w, const T *restrict g, T *restrict m, T *restrict v,          \
                        size_t n, T beta1, T beta2, T decay, T l1, T rate, T epsilon,              \
                        T first_correction, T second_correction) {                                 \
    _Pragma("STDC FP_CONTRACT OFF") for (size_t i = 0; i < n; i++) {                               \
      T gradient = g[i] + decay * w[i];                                                            \
      if (l1 != 0) gradient += l1 * (T)((w[i] > 0) - (w[i] < 0));                                  \
      m[i] = beta1 * m[i] + (1 - beta1) * gradient;                                                \
      v[i] = beta2 * v[i] + (1 - beta2) * gradient * gradient;                                     \
      w[i] -= rate * (m[i] / first_correction) /                                                   \
              (__builtin_elementwise_sqrt(v[i] / second_correction) + epsilon);                    \
    }                                                                                              \
  }                                                                                                \
  BP_WIDEST void bp_sgd_##SUFFIX(T *restrict w, const T *restrict g, T *restrict velocity, size_t n,         \
                       T rate, T momentum, T decay, T l1, bool nesterov, bool first) {             \
    _Pragma("STDC FP_CONTRACT OFF") if (!velocity) {                                               \
      for (size_t i = 0; i < n; i++) {                                                             \
        T gradient = g[i] + decay * w[i];                                                          \
        if (l1 != 0) gradient += l1 * (T)((w[i] > 0) - (w[i] < 0));                                \
        w[i] -= rate * gradient;                                                                   \
      }                                                                                            \
      return;                                                                                      \
    }                                                                                              \
    for (size_t i = 0; i < n; i++) {                                                               \
      T gradient = g[i] + decay * w[i];                                                            \
      if (l1 != 0) gradient += l1 * (T)((w[i] > 0) - (w[i] < 0));                                  \
      velocity[i] = first ? gradient : momentum * velocity[i] + gradient;                          \
      w[i] -= rate * (nesterov ? gradient + momentum * velocity[i] : velocity[i]);                 \
    }                                                                                              \
  }

BP_OPTIMIZER_UPDATES(float, f32)
BP_OPTIMIZER_UPDATES(double, f64)

// MARK: - Piecewise-linear activations: ReLU, leaky ReLU and the identity, vectorized

void bp_piecewise_linear_f32(float *restrict values, size_t rows, size_t width,
                             const float *restrict bias, float slope, bool identity) {
  for (size_t row = 0; row < rows; row++) {
    float *restrict line = values + row * width;
    if (bias) {
      for (size_t column = 0; column < width; column++) line[column] += bias[column];
    }
    if (identity) continue;
    if (slope == 0) {
      for (size_t column = 0; column < width; column++) {
        line[column] = line[column] > 0 ? line[column] : 0.0f;
      }
    } else {
      for (size_t column = 0; column < width; column++) {
        line[column] = line[column] > 0 ? line[column] : slope * line[column];
      }
    }
  }
}

// MARK: - Finiteness, checked at memory speed

#define BP_FIRST_NON_FINITE(T, BITS, MASK, SUFFIX)                                                 \
  size_t bp_first_non_finite_##SUFFIX(const T *values, size_t n) {                                 \
    const BITS *bits = (const BITS *)values;                                                       \
    for (size_t start = 0; start < n; start += 4096) {                                             \
      size_t end = start + 4096 < n ? start + 4096 : n;                                            \
      BITS found = 0;                                                                              \
      for (size_t i = start; i < end; i++) found |= (BITS)((bits[i] & MASK) == MASK);              \
      if (found) {                                                                                 \
        for (size_t i = start; i < end; i++) {                                                     \
          if ((bits[i] & MASK) == MASK) return i;                                                  \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
    return n;                                                                                      \
  }

BP_FIRST_NON_FINITE(float, uint32_t, 0x7F800000u, f32)
BP_FIRST_NON_FINITE(double, uint64_t, 0x7FF0000000000000ull, f64)
