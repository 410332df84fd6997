// Math usable on the host and in CUDA device code (HEED_HD), so the kernels'
// per-element functions can also be run and tested on a machine without a
// GPU. The float overloads call the float functions (expf, ...) on purpose:
// CUDA has no std:: math in device code, and plain ::exp(float) would compute
// in double.
#pragma once

#include <math.h>

#include <cstdint>

#include "core/random_bits.h"

#define HEED_HD HEED_HOST_DEVICE inline

namespace heed::cuda::hd {

HEED_HD float exp(float x) {
  return ::expf(x);
}
HEED_HD double exp(double x) {
  return ::exp(x);
}
HEED_HD float log(float x) {
  return ::logf(x);
}
HEED_HD double log(double x) {
  return ::log(x);
}
HEED_HD float log1p(float x) {
  return ::log1pf(x);
}
HEED_HD double log1p(double x) {
  return ::log1p(x);
}
HEED_HD float sqrt(float x) {
  return ::sqrtf(x);
}
HEED_HD double sqrt(double x) {
  return ::sqrt(x);
}
HEED_HD float abs(float x) {
  return ::fabsf(x);
}
HEED_HD double abs(double x) {
  return ::fabs(x);
}
HEED_HD float sin(float x) {
  return ::sinf(x);
}
HEED_HD double sin(double x) {
  return ::sin(x);
}
HEED_HD float cos(float x) {
  return ::cosf(x);
}
HEED_HD double cos(double x) {
  return ::cos(x);
}
HEED_HD float erf(float x) {
  return ::erff(x);
}
HEED_HD double erf(double x) {
  return ::erf(x);
}
HEED_HD float tanh(float x) {
  return ::tanhf(x);
}
HEED_HD double tanh(double x) {
  return ::tanh(x);
}
HEED_HD float pow(float x, float y) {
  return ::powf(x, y);
}
HEED_HD double pow(double x, double y) {
  return ::pow(x, y);
}

// std::max / std::min exactly: (a < b) ? b : a and (b < a) ? b : a, so a NaN
// first argument is kept and a NaN second one dropped, as on the CPU.
template <typename T>
HEED_HD T max(T a, T b) {
  return (a < b) ? b : a;
}
template <typename T>
HEED_HD T min(T a, T b) {
  return (b < a) ? b : a;
}

template <typename T>
HEED_HD T infinity() {
  return T(1) / T(0);
}
template <typename T>
HEED_HD bool is_nan(T x) {
  return x != x;
}

// The CPU's overflow-safe logistic function.
template <typename T>
HEED_HD T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + hd::exp(-x));
  T e = hd::exp(x);
  return e / (T(1) + e);
}

}  // namespace heed::cuda::hd
