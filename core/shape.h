// Shapes and strides (in elements) and the arithmetic on them.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace heed {

using Shape = std::vector<int64_t>;

int64_t numel_of(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
// NumPy broadcasting of two shapes; `op` names the caller in the error.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Wraps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);
std::string shape_str(const Shape& shape);

struct ShapeFmt {
  const Shape& s;
};
inline std::ostream& operator<<(std::ostream& os, ShapeFmt f) { return os << shape_str(f.s); }

}  // namespace heed
