#ifndef CBACKPROP_KERNELS_H
#define CBACKPROP_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

/// The instruction set the float kernels run with: chosen once, at first use, by a CPU check.
typedef enum {
  BPKernelGeneric = 0,
  BPKernelAVX2 = 1,
  BPKernelAVX512 = 2,
} BPKernelLevel;

/// The best level this CPU supports.
BPKernelLevel bp_detect_level(void);

/// The level the kernels use now (the detected one unless bp_set_level lowered it).
BPKernelLevel bp_level(void);

/// Forces a level no higher than the CPU supports (for tests and benchmarks); returns the level set.
BPKernelLevel bp_set_level(BPKernelLevel level);

/// C[m×n] = alpha·op(A)·op(B), or C += alpha·op(A)·op(B) when accumulate, row-major with
/// leading dimensions (the distance between rows): op(A) is m×k (A stored k×m when transpose_a),
/// op(B) is k×n (B stored n×k when transpose_b). Each element of C is summed over k in the same
/// order wherever it lies, so a caller may split the rows or columns of C (by offsetting the
/// pointers) across threads without changing a result.
void bp_sgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
              const float *a, size_t lda, const float *b, size_t ldb, bool accumulate, float *c,
              size_t ldc);

/// The double-precision product, same contract, with a portable kernel.
void bp_dgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, double alpha,
              const double *a, size_t lda, const double *b, size_t ldb, bool accumulate,
              double *c, size_t ldc);

/// The float kernel's tile: splits of C's rows should fall on multiples of rows, splits of its
/// columns on multiples of columns.
size_t bp_sgemm_tile_rows(void);
size_t bp_sgemm_tile_columns(void);

/// Loads OpenBLAS at run time (libopenblas.so.0 and the usual names), first setting
/// OPENBLAS_CORETYPE to this CPU's kind when it is unset, because OpenBLAS 0.3.21 does not
/// recognise newer CPUs and would fall back to SSE3 kernels. Returns whether cblas_sgemm and
/// cblas_dgemm were found. Thread-safe; later calls return the first result.
bool bp_blas_load(void);

/// The OpenBLAS core type that was set or found, or NULL.
const char *bp_blas_coretype(void);

/// The same products through the loaded BLAS (single-threaded); false when no BLAS is loaded.
bool bp_blas_sgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k, float alpha,
                   const float *a, size_t lda, const float *b, size_t ldb, bool accumulate,
                   float *c, size_t ldc);
bool bp_blas_dgemm(bool transpose_a, bool transpose_b, size_t m, size_t n, size_t k,
                   double alpha, const double *a, size_t lda, const double *b, size_t ldb,
                   bool accumulate, double *c, size_t ldc);

/// The element-wise activations with a vectorized kernel.
typedef enum {
  BPActivationTanh = 0,
  BPActivationSigmoid = 1,
} BPActivation;

/// values[r][c] ← f(values[r][c] + bias[c]) over rows × width values, in place; bias may be NULL.
/// tanh is Cephes' single-precision method (an odd polynomial below |x| = 0.625,
/// 1 − 2/(e^{2|x|} + 1) above), the sigmoid 1/(1 + e^{−|x|}) (e^{−|x|}/(1 + e^{−|x|}) for x < 0),
/// both from one exponential (Cephes' expf, which underflows into the subnormals and to 0 as the
/// C library's does) with fused multiply-adds: within 3 ulp, and the same bits at every instruction-set level
/// and on every platform.
void bp_activate_f32(float *values, size_t rows, size_t width, const float *bias,
                     BPActivation activation);

/// values[r][c] ← f(values[r][c] + bias[c]) over rows × width values, in place, for the identity
/// (f(x) = x), ReLU (slope 0: max(x, 0), never −0) and the leaky ReLU (x for x > 0, slope·x
/// otherwise); bias may be NULL. Exact: each value is one addition and at most one product.
void bp_piecewise_linear_f32(float *values, size_t rows, size_t width, const float *bias,
                             float slope, bool identity);

/// Softmax cross-entropy of rows × width logits against targets of the same shape, row by row:
/// losses[row] = −Σ t·log p, computed as (Σ t)·log Σ exp(z − max z) − Σ t·(z − max z), and
/// delta = scale·(p·Σt − t), the derivative of the row's loss times scale. The logits are left
/// as they are. The exponential is the one of bp_activate_f32, so the results are the same at
/// every level.
void bp_softmax_cross_entropy_f32(const float *logits, const float *targets, float *delta,
                                  float *losses, size_t rows, size_t width, float scale);

/// Runs work(context, part) for part in [0, parts): part 0 on the calling thread, the others on
/// persistent worker threads that spin briefly before sleeping, so that a split product pays
/// no thread wake-up when products come in quick succession. Returns when all parts are done.
/// Calls from several threads at once are serialized. A call made from inside a part (on a
/// worker, or on the caller while it runs part 0) runs all its parts on that thread, in order.
void bp_parallel_for(size_t parts, void (*work)(void *context, size_t part), void *context);

/// Reads one byte of every 64-byte line of the region, so that it is in this core's cache.
void bp_read_into_cache(const void *data, size_t bytes);

/// Peak resident memory of the process in bytes.
size_t bp_peak_resident_bytes(void);

/// Adam as PyTorch defines it, over n parameters in place: g = ∇ + decay·w + l1·sign(w);
/// m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²; w ← w − rate·(m/c₁)/(√(v/c₂) + ε), with
/// c₁ = 1 − β₁ᵗ and c₂ = 1 − β₂ᵗ. Vectorized, with no fused multiply-adds, so every platform gives
/// the same bits.
void bp_adam_f32(float *w, const float *g, float *m, float *v, size_t n, float beta1, float beta2,
                 float decay, float l1, float rate, float epsilon, float first_correction,
                 float second_correction);
/// bp_adam_f32 in double precision.
void bp_adam_f64(double *w, const double *g, double *m, double *v, size_t n, double beta1,
                 double beta2, double decay, double l1, double rate, double epsilon,
                 double first_correction, double second_correction);

/// SGD as PyTorch defines it (no dampening), over n parameters in place: g = ∇ + decay·w
/// + l1·sign(w) (sign 0 at 0); without
/// a velocity w ← w − rate·g; with one, v ← g at the first step and μv + g after it, then
/// w ← w − rate·(g + μv) (Nesterov) or w ← w − rate·v. Vectorized, with no fused multiply-adds.
void bp_sgd_f32(float *w, const float *g, float *velocity, size_t n, float rate, float momentum,
                float decay, float l1, bool nesterov, bool first);
/// bp_sgd_f32 in double precision.
void bp_sgd_f64(double *w, const double *g, double *velocity, size_t n, double rate,
                double momentum, double decay, double l1, bool nesterov, bool first);

/// The index of the first NaN or infinity among n values (n when there is none), read by
/// integer operations on the exponent bits, vectorized.
size_t bp_first_non_finite_f32(const float *values, size_t n);
/// bp_first_non_finite_f32 in double precision.
size_t bp_first_non_finite_f64(const double *values, size_t n);

#endif
