// Inner loops of the normalisation kernels (norm.cpp) over one contiguous
// run of values: a (b, c) plane of batch norm or a row of layer norm.
//
// The reductions accumulate in double whatever the element type, so float32
// statistics keep their digits over runs of any length. They are written
// with AVX-512 and AVX2 intrinsics for float (a double sum of a float loop
// never auto-vectorises: the compiler may not reassociate it), chosen at run
// time by cpu_isa(); double inputs and Isa::Scalar use the portable loops.
// Element-wise passes are plain loops, which the compiler vectorises.
#pragma once

#include <cstdint>

namespace heed::cpu {

// sum += Σ (x[i] - shift), sumsq += Σ (x[i] - shift)² over i < n.
//
// Why a shift: var = E[d²] - E[d]² for d = x - shift loses only about
// log2(1 + (mean - shift)² / var) bits to cancellation, so a shift drawn from
// the data (the run's first value) makes a one-pass variance as accurate as
// the two-pass one for data of any offset (Chan, Golub & LeVeque 1983).
void add_shifted_moments(const float* x, int64_t n, float shift, double* sum, double* sumsq);
void add_shifted_moments(const double* x, int64_t n, double shift, double* sum, double* sumsq);

// sum_dy += Σ dy[i], sum_dy_xmu += Σ dy[i]·(x[i] - mean) over i < n. With
// relu_out (else null), dy[i] counts only where relu_out[i] > 0: the gradient
// through a ReLU fused after batch norm.
void add_grad_moments(const float* dy, const float* x, const float* relu_out, int64_t n, float mean,
                      double* sum_dy, double* sum_dy_xmu);
void add_grad_moments(const double* dy, const double* x, const double* relu_out, int64_t n,
                      double mean, double* sum_dy, double* sum_dy_xmu);

// The first index of the max of x[0, n) (of the min when `minimum`), for
// the max pool that batch_norm_cbam_stats takes from the statistics pass.
// x must hold no NaN (the caller finds NaNs from the run's sum).
int64_t first_extreme(const float* x, int64_t n, bool minimum);
int64_t first_extreme(const double* x, int64_t n, bool minimum);

// One (b, c) run of CBAM's output backward (batch_norm_cbam_add_relu_backward):
// writes gm = dy where out > 0 (else 0), adds gm·u to dsg[i] for u = ((x -
// mean)·scale + shift)·gate, and adds Σ gm·sg to *sum, Σ gm·sg·(x - mean) to
// *sum_dev. sg and dsg are the image's spatial gate and its gradient.
template <typename T>
struct CbamOutRun {
  const T* dy;
  const T* out;
  const T* x;
  const T* sg;
  int64_t n;
  T mean, scale, shift, gate;
  T* gm;
  T* dsg;
};
// The AVX-512 loop: one pass, the four streams in registers. Call only when
// cpu_isa() is Isa::Avx512; norm_cbam.cpp keeps the portable loops.
void cbam_out_grad_run_avx512(const CbamOutRun<float>& r, double* sum, double* sum_dev);

// Layer norm backward over one row: with x̂ = (x - mean)·rstd and g = dy·w
// (w null: 1), adds Σ g to *sum_g and Σ g·x̂ to *sum_g_xhat, and, where
// col_dy_xhat / col_dy are non-null, dy·x̂ and dy to their per-column entries.
template <typename T>
struct LnRowGrad {
  const T* x;
  const T* dy;
  const T* w;  // may be null
  int64_t n;
  T mean, rstd;
};
void add_layer_norm_row_sums(const LnRowGrad<float>& r, double* sum_g, double* sum_g_xhat,
                             double* col_dy_xhat, double* col_dy);
void add_layer_norm_row_sums(const LnRowGrad<double>& r, double* sum_g, double* sum_g_xhat,
                             double* col_dy_xhat, double* col_dy);

}  // namespace heed::cpu
