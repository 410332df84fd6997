// Parameter initialisers, as torch.nn.init: same names, arguments, defaults
// and formulas. Each fills a tensor in place (not recorded by autograd) and
// returns it; `gen` picks the random stream (the default generator if null).
#pragma once

#include <string_view>
#include <utility>

#include "core/heed_core.h"

namespace heed::nn::init {

enum class FanMode { FanIn, FanOut };

// (fan_in, fan_out) of a weight (out, in, *kernel): in·∏kernel and out·∏kernel.
// Needs at least 2 dims.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

// The recommended gain for a nonlinearity: "linear", "conv1d", "conv2d",
// "sigmoid", "identity" → 1, "tanh" → 5/3, "relu" → √2,
// "leaky_relu" → √(2 / (1 + param²)) with param the slope (0.01 if < 0), "selu" → 3/4.
double calculate_gain(std::string_view nonlinearity, double param = -1);

Tensor uniform_(Tensor tensor, double a = 0.0, double b = 1.0, Generator* gen = nullptr);
Tensor normal_(Tensor tensor, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
// Normal(mean, std) restricted to [a, b] (by the inverse CDF, as PyTorch).
Tensor trunc_normal_(Tensor tensor, double mean = 0.0, double std = 1.0, double a = -2.0,
                     double b = 2.0, Generator* gen = nullptr);
Tensor constant_(Tensor tensor, double value);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);

// U(-bound, bound) with bound = gain·√(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0, Generator* gen = nullptr);
// N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor tensor, double gain = 1.0, Generator* gen = nullptr);
// U(-bound, bound) with bound = gain·√(3 / fan), gain = calculate_gain(nonlinearity, a).
// nn::Linear and nn::Conv use a = √5 (bound 1/√fan_in).
Tensor kaiming_uniform_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                        std::string_view nonlinearity = "leaky_relu", Generator* gen = nullptr);
// N(0, std²) with std = gain / √fan.
Tensor kaiming_normal_(Tensor tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                       std::string_view nonlinearity = "leaky_relu", Generator* gen = nullptr);

}  // namespace heed::nn::init
