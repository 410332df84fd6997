// The interface of placeable attention modules: a feature map (B, C, H, W)
// in, one of the same shape out, so host networks (ResNet blocks, plain
// CNNs) can insert any of them by name (see registry.h, placement.h).
#pragma once

#include <map>
#include <string>

#include "nn/module.h"

namespace heed::attention {

// Keeps the attention maps of the last forward, detached, when asked: off by
// default and free when off (keep_map returns at once).
class MapRecorder {
 public:
  void set_keep_maps(bool on) {
    keep_maps_ = on;
    if (!on) maps_.clear();
  }
  bool keeps_maps() const { return keep_maps_; }
  // Named maps, e.g. "channel" (B, C, 1, 1), "spatial" (B, 1, H, W),
  // "h" / "w" for coordinate attention, "weights" (B, heads, N, N).
  const std::map<std::string, Tensor>& maps() const { return maps_; }

 protected:
  void keep_map(const std::string& name, const Tensor& map) {
    if (keep_maps_) maps_[name] = map.detach();
  }

 private:
  bool keep_maps_ = false;
  std::map<std::string, Tensor> maps_;
};

class AttentionModuleImpl : public nn::Module, public MapRecorder {
 public:
  // x (B, C, H, W) -> (B, C, H, W)
  virtual Tensor forward(const Tensor& x) = 0;
  // relu(forward(x) + residual): the module at the end of a ResNet block's
  // branch, followed by the residual join. Gating modules (SE, ECA, CBAM)
  // override it with one fused gate_add_relu op instead of a product, a sum
  // and a ReLU in passes of their own.
  virtual Tensor forward(const Tensor& x, const Tensor& residual);
  // Modules whose forward(x) is x · gate_from_mean(mean(x, {2, 3})), a
  // channel gate that depends on x only through its (B, C) spatial mean
  // (SE, ECA), say so here: a ResNet block then runs the batch norm before
  // the module, the gate and the residual join as one op
  // (nn::conv_bn_gate_add_relu), with no pass of their own for the pool or
  // the product.
  virtual bool gates_from_spatial_mean() const { return false; }
  // The gate (B, C, 1, 1) for spatial_mean (B, C); the default throws (only
  // modules with gates_from_spatial_mean() have one).
  virtual Tensor gate_from_mean(const Tensor& spatial_mean);
  // Modules with CBAM's structure (forward(x) = x · gc · gs, gc from x's
  // spatial means and maxima, gs from the channel means and maxima of x ·
  // gc) return their two gate functions: a ResNet block then runs the batch
  // norm before the module, both gates and the join as one op
  // (nn::conv_bn_cbam_add_relu). The default: empty functions (no such form).
  virtual CbamGateFns cbam_gates() { return {}; }
};

HEED_MODULE(AttentionModule);

}  // namespace heed::attention
