// Loading the JSON fixtures that tools/gen_*_fixtures.py write from PyTorch.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "core/heed_core.h"

namespace heed::testing {

// tests/fixtures/<relative_path>, parsed; fails the test when missing.
inline nlohmann::json load_json_fixture(const std::string& relative_path) {
  std::string path = std::string(HEED_FIXTURES_DIR) + "/" + relative_path;
  std::ifstream f(path);
  INFO("fixture " << path << " (regenerate with the matching tools/gen_*_fixtures.py)");
  REQUIRE(f.good());
  return nlohmann::json::parse(f);
}

// {"shape": [...], "data": [...], "dtype": "int64"?} -> a float64 (or int64) tensor.
inline Tensor tensor_from_json(const nlohmann::json& j) {
  Shape shape = j.at("shape").get<Shape>();
  if (j.contains("dtype") && j.at("dtype") == "int64")
    return from_vector(j.at("data").get<std::vector<int64_t>>(), shape);
  return from_vector(j.at("data").get<std::vector<double>>(), shape);
}

// Largest |a - b|; infinity when the shapes differ.
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return std::numeric_limits<double>::infinity();
  std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

}  // namespace heed::testing
