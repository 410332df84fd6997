// summary(): a model's layers, output shapes, parameters and cost, from one
// forward pass on zeros (in eval mode, without grad; modes are restored).
//
//   auto s = nn::summary(model, {1, 3, 32, 32});
//   std::cout << s.table();           // or s.rows / s.total_macs
//
// Each module called through a holder gets a row, in call order, with its
// nesting depth. MACs count Linear, Conv, LSTM and whatever a module reports
// through Module::cost() (attention modules report their matmuls there);
// FLOPs = 2·MACs + the element-wise work modules report (activations, pools,
// norms, LSTM gates), the convention of attention_spec.md.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "nn/module.h"

namespace heed::nn {

struct SummaryRow {
  std::string name;  // dotted path ("layer1.0.conv1"); "" for the model itself
  std::string type;  // "Conv2d"
  int depth = 0;     // call nesting (0 = the model)
  std::vector<Shape> output_shapes;
  int64_t params = 0;  // of this module and its submodules, each tensor once
  int64_t macs = 0;    // of this call, nested calls included
  int64_t flops = 0;
};

struct Summary {
  std::vector<SummaryRow> rows;
  Shape input_shape;
  int64_t total_params = 0;
  int64_t trainable_params = 0;
  int64_t total_macs = 0;
  int64_t total_flops = 0;
  // The rows and totals as an aligned text table.
  std::string table() const;
};

std::ostream& operator<<(std::ostream& os, const Summary& s);

// Runs `forward` (which calls `model` once) while recording every holder call
// beneath it. The general form; summary() below is the common one.
Summary summarize(Module& model, const std::function<void()>& forward);

// Runs model(zeros(input_shape, options)) and summarises it. `model` is a
// holder or an AnyModule.
template <typename Model>
Summary summary(const Model& model, const Shape& input_shape, TensorOptions options = {}) {
  Summary s = summarize(*model, [&] { (void)model(zeros(input_shape, options)); });
  s.input_shape = input_shape;
  return s;
}

}  // namespace heed::nn
