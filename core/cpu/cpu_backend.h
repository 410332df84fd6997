// The CPU backend: OpenBLAS for GEMMs, vectorizable loops over contiguous
// memory elsewhere, all parallel work through heed::parallel_for. Each kernel
// family is defined in its own file in core/cpu/.
#pragma once

#include "core/allocator.h"
#include "core/backend.h"

namespace heed::cpu {

// A float32 tensor's data, or null when it is undefined (a kernel's optional
// input or output: a gate, a gradient nobody needs).
inline float* f32_data_or_null(const Tensor& t) {
  return t.defined() ? t.data_ptr<float>() : nullptr;
}

// CBAM's channel descriptor over float32 x (B, C, S): out (B, 2, S) holds
// the mean and the max over the channels of v = x · gate[b][c], or with
// center of v = (x - center[c])·gate[b][c] + offset[b][c]; argmax (B, S) the
// channel of each max (channel_mean_max.cpp; gate / center / offset may be null).
struct ChannelMeanMaxArgs {
  const float* x;
  const float* gate;    // (B, C)
  const float* center;  // (C)
  const float* offset;  // (B, C), with center
  int64_t B, C, S;
  bool max_first;
  float* out;
  int64_t* argmax;
};
void channel_mean_max_f32(const ChannelMeanMaxArgs& args);

// The caching host allocator (cpu_allocator.cpp).
Allocator& cpu_allocator();

class CpuBackend final : public Backend {
 public:
  Device device() const override { return kCPU; }

  // copy.cpp
  void copy(const Tensor& dst, const Tensor& src) override;
  void fill(const Tensor& dst, double value) override;
  // elementwise.cpp
  void unary(UnaryOp op, const Tensor& out, const Tensor& in, OpParams p) override;
  void binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b,
              OpParams p) override;
  void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) override;
  // random.cpp
  void fill_uniform(const Tensor& out, uint64_t seed, uint64_t counter, double low,
                    double high) override;
  void fill_normal(const Tensor& out, uint64_t seed, uint64_t counter, double mean,
                   double std) override;
  // reduce.cpp
  void reduce(ReduceOp op, const Tensor& out, const Tensor& in,
              const std::vector<int64_t>& dims) override;
  void sum_of_products(const Tensor& out, const Tensor& a, const Tensor& b,
                       const std::vector<int64_t>& dims) override;
  void reduce_with_index(ReduceOp op, const Tensor& values, const Tensor& indices, const Tensor& in,
                         int64_t dim) override;
  // gemm.cpp
  void gemm(const GemmArgs& args) override;
  // softmax.cpp
  void softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) override;
  void softmax_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out,
                        int64_t dim, bool log) override;
  // attention.cpp
  void attention(const Tensor& out, const Tensor& probs, const Tensor& q, const Tensor& k,
                 const Tensor& v, double scale) override;
  void attention_backward(const Tensor& grad_q, const Tensor& grad_k, const Tensor& grad_v,
                          const Tensor& grad_out, const Tensor& probs, const Tensor& q,
                          const Tensor& k, const Tensor& v, double scale) override;
  // conv.cpp
  void conv2d(const Tensor& out, const Tensor& input, const Tensor& weight, const Tensor& bias,
              const Conv2dParams& p) override;
  void conv2d_add_relu(const Tensor& out, const Tensor& input, const Tensor& weight,
                       const Tensor& bias, const Tensor& residual, const Conv2dParams& p) override;
  void conv2d_backward_input(const Tensor& grad_input, const Tensor& grad_out, const Tensor& weight,
                             const Conv2dParams& p) override;
  void conv2d_backward_weight(const Tensor& grad_weight, const Tensor& grad_bias,
                              const Tensor& grad_out, const Tensor& input,
                              const Conv2dParams& p) override;
  // pool.cpp
  void max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& input,
                  const Pool2dParams& p) override;
  void avg_pool2d(const Tensor& out, const Tensor& input, const Pool2dParams& p) override;
  void avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                           const Pool2dParams& p) override;
  void adaptive_avg_pool2d(const Tensor& out, const Tensor& input) override;
  void adaptive_avg_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out) override;
  void adaptive_max_pool2d(const Tensor& out, const Tensor& indices, const Tensor& input) override;
  void global_mean_max_pool2d(const Tensor& out, const Tensor& argmax,
                              const Tensor& input) override;
  void global_mean_max_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                                       const Tensor& argmax) override;
  void max_pool2d_backward(const Tensor& grad_input, const Tensor& grad_out,
                           const Tensor& indices) override;
  // norm.cpp
  void batch_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd,
                  const Tensor& input, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps) override;
  void batch_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                           const Tensor& grad_bias, const Tensor& grad_out, const Tensor& input,
                           const Tensor& weight, const Tensor& save_mean, const Tensor& save_invstd,
                           bool training) override;
  void batch_norm_relu(const Tensor& out, const Tensor& save_mean, const Tensor& save_invstd,
                       const Tensor& input, const Tensor& weight, const Tensor& bias,
                       const Tensor& residual, const Tensor& running_mean,
                       const Tensor& running_var, bool training, double momentum,
                       double eps) override;
  void batch_norm_relu_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                const Tensor& grad_bias, const Tensor& grad_residual,
                                const Tensor& grad_out, const Tensor& output, const Tensor& input,
                                const Tensor& weight, const Tensor& save_mean,
                                const Tensor& save_invstd, bool training) override;
  void batch_norm_spatial_mean(const Tensor& out, const Tensor& spatial_mean,
                               const Tensor& plane_dev, const Tensor& save_mean,
                               const Tensor& save_invstd, const Tensor& input, const Tensor& weight,
                               const Tensor& bias, const Tensor& running_mean,
                               const Tensor& running_var, bool training, double momentum,
                               double eps) override;
  void batch_norm_spatial_mean_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                        const Tensor& grad_bias, const Tensor& grad_out,
                                        const Tensor& grad_spatial_mean, const Tensor& input,
                                        const Tensor& weight, const Tensor& save_mean,
                                        const Tensor& save_invstd, const Tensor& plane_dev,
                                        bool training) override;
  // gate.cpp
  void batch_norm_gate_add_relu(const Tensor& out, const Tensor& input, const Tensor& weight,
                                const Tensor& bias, const Tensor& save_mean,
                                const Tensor& save_invstd, const Tensor& gate,
                                const Tensor& residual) override;
  void batch_norm_gate_add_relu_backward_gate(const Tensor& grad_masked, const Tensor& run_grad,
                                              const Tensor& run_grad_dev, const Tensor& grad_gate,
                                              const Tensor& grad_out, const Tensor& out,
                                              const Tensor& input, const Tensor& weight,
                                              const Tensor& bias, const Tensor& save_mean,
                                              const Tensor& save_invstd) override;
  void batch_norm_gate_backward(const Tensor& grad_input, const Tensor& grad_weight,
                                const Tensor& grad_bias, const Tensor& grad_masked,
                                const Tensor& gate, const Tensor& grad_spatial_mean,
                                const Tensor& run_grad, const Tensor& run_grad_dev,
                                const Tensor& plane_dev, const Tensor& input, const Tensor& weight,
                                const Tensor& save_mean, const Tensor& save_invstd,
                                bool training) override;
  bool fuses_batch_norm_cbam() const override { return true; }
  void batch_norm_cbam_stats(const BnCbamState& st, const Tensor& spatial_mean,
                             const Tensor& spatial_max, const Tensor& running_mean,
                             const Tensor& running_var, bool training, double momentum,
                             double eps) override;
  void batch_norm_cbam_descriptor(const BnCbamState& st, const Tensor& descriptor) override;
  void batch_norm_cbam_add_relu(const BnCbamState& st, const Tensor& out,
                                const Tensor& residual) override;
  void batch_norm_cbam_add_relu_backward(const BnCbamState& st, const Tensor& grad_masked,
                                         const Tensor& grad_channel_gate,
                                         const Tensor& grad_spatial_gate, const Tensor& run_grad,
                                         const Tensor& run_grad_dev, const Tensor& grad_out,
                                         const Tensor& out) override;
  void batch_norm_cbam_descriptor_backward(const BnCbamState& st, const Tensor& grad_channel_gate,
                                           const Tensor& run_grad, const Tensor& run_grad_dev,
                                           const Tensor& grad_descriptor) override;
  void batch_norm_cbam_backward(const BnCbamState& st, const Tensor& grad_input,
                                const Tensor& grad_weight, const Tensor& grad_bias,
                                const Tensor& grad_masked, const Tensor& out_run_grad,
                                const Tensor& out_run_grad_dev, const Tensor& grad_descriptor,
                                const Tensor& desc_run_grad, const Tensor& desc_run_grad_dev,
                                const Tensor& grad_spatial_mean, const Tensor& grad_spatial_max,
                                bool training) override;
  void gate_add_relu(const Tensor& out, const Tensor& x, const Tensor& channel_gate,
                     const Tensor& spatial_gate, const Tensor& residual) override;
  void gate_add_relu_backward(const Tensor& grad_x, const Tensor& grad_channel_gate,
                              const Tensor& grad_spatial_gate, const Tensor& grad_residual,
                              const Tensor& grad_out, const Tensor& out, const Tensor& x,
                              const Tensor& channel_gate, const Tensor& spatial_gate) override;
  // channel_mean_max.cpp
  void channel_mean_max(const Tensor& out, const Tensor& argmax, const Tensor& x,
                        const Tensor& gate, bool max_first) override;
  void channel_mean_max_backward(const Tensor& grad_x, const Tensor& grad_gate,
                                 const Tensor& grad_out, const Tensor& argmax, const Tensor& x,
                                 const Tensor& gate, bool max_first) override;
  void layer_norm(const Tensor& out, const Tensor& save_mean, const Tensor& save_rstd,
                  const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t normalized,
                  double eps) override;
  void layer_norm_backward(const Tensor& grad_input, const Tensor& grad_weight,
                           const Tensor& grad_bias, const Tensor& grad_out, const Tensor& input,
                           const Tensor& weight, const Tensor& save_mean, const Tensor& save_rstd,
                           int64_t normalized) override;
  // index.cpp
  void index_select(const Tensor& out, const Tensor& in, int64_t dim, const Tensor& index) override;
  void index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) override;
  void gather(const Tensor& out, const Tensor& in, int64_t dim, const Tensor& index) override;
  void scatter_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) override;
  // optim.cpp
  void sgd_update(const Tensor& param, const Tensor& grad, const Tensor& momentum_buf,
                  const SgdUpdate& args) override;
  void adam_update(const Tensor& param, const Tensor& grad, const Tensor& exp_avg,
                   const Tensor& exp_avg_sq, const Tensor& max_exp_avg_sq,
                   const AdamUpdate& args) override;
};

}  // namespace heed::cpu
