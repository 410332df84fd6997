// CPU copy and fill. Same-dtype copies move bytes: contiguous tensors with one
// (parallel) memcpy, rows that are contiguous on both sides with a memcpy per
// row, and transposes (a dim other than the last is the source's unit-stride
// dim, as in x.transpose(-1, -2).contiguous()) tile by tile, so both sides are
// read and written in cache-line-sized runs. Dtype conversions and everything
// else use an element loop. fill(0) is a memset.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/strided_loop.h"
#include "core/ops/internal.h"

namespace heed::cpu {
namespace {

// Bytes per parallel chunk of a flat memcpy / memset.
constexpr int64_t kByteGrain = int64_t(1) << 18;
// Side of the square tiles of a transposed copy.
constexpr int64_t kTile = 16;

void parallel_memcpy(char* dst, const char* src, int64_t bytes) {
  parallel_for(0, bytes, kByteGrain,
               [&](int64_t lo, int64_t hi) { std::memcpy(dst + lo, src + lo, size_t(hi - lo)); });
}

// dst(i, j) = src(i, j) over an (ni, nj) plane where dst is unit-stride along
// j and src along i; strides in elements.
template <typename T>
void transpose_plane(T* dst, const T* src, int64_t ni, int64_t nj, int64_t dst_si, int64_t src_sj) {
  for (int64_t i0 = 0; i0 < ni; i0 += kTile) {
    const int64_t i1 = std::min(ni, i0 + kTile);
    for (int64_t j0 = 0; j0 < nj; j0 += kTile) {
      const int64_t j1 = std::min(nj, j0 + kTile);
      for (int64_t i = i0; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) dst[i * dst_si + j] = src[i + j * src_sj];
    }
  }
}

template <typename T>
void transposed_copy(const Tensor& dst, const Tensor& src, int64_t di, int64_t dj) {
  // Outer view: the two plane dims set to size 1, iterated by strided_loop.
  Shape shape = dst.shape();
  const int64_t ni = shape[size_t(di)], nj = shape[size_t(dj)];
  shape[size_t(di)] = shape[size_t(dj)] = 1;
  Tensor dst_outer = ops::raw_view(dst, shape, dst.strides(), dst.offset());
  Tensor src_outer = ops::raw_view(src, shape, src.strides(), src.offset());
  const int64_t dst_si = dst.strides()[size_t(di)], src_sj = src.strides()[size_t(dj)];
  const int64_t plane = std::max<int64_t>(ni * nj, 1);
  strided_loop<2>(
      shape, {&dst_outer, &src_outer},
      [&](int64_t n, auto p, auto s) {
        for (int64_t k = 0; k < n; ++k)
          transpose_plane(reinterpret_cast<T*>(p[0]) + k * s[0],
                          reinterpret_cast<const T*>(p[1]) + k * s[1], ni, nj, dst_si, src_sj);
      },
      std::max<int64_t>(1, kElementwiseGrain / plane));
}

// The plane (i, j) of a transposed copy: j is dst's last non-trivial dim with
// unit stride, where src is strided, and i is a dim where src has unit stride.
bool find_transpose_plane(const Tensor& dst, const Tensor& src, int64_t& di, int64_t& dj) {
  const Shape& sh = dst.shape();
  dj = -1;
  for (int64_t d = dst.dim() - 1; d >= 0; --d)
    if (sh[size_t(d)] > 1) {
      dj = d;
      break;
    }
  if (dj < 0 || dst.strides()[size_t(dj)] != 1 || src.strides()[size_t(dj)] == 1) return false;
  for (int64_t d = 0; d < dj; ++d)
    if (sh[size_t(d)] > 1 && src.strides()[size_t(d)] == 1) {
      di = d;
      return sh[size_t(dj)] >= 4 && sh[size_t(di)] >= 4;
    }
  return false;
}

template <typename T>
void copy_same_dtype(const Tensor& dst, const Tensor& src) {
  if (dst.is_contiguous() && src.is_contiguous()) {
    parallel_memcpy(static_cast<char*>(dst.raw_data()), static_cast<const char*>(src.raw_data()),
                    dst.numel() * int64_t(sizeof(T)));
    return;
  }
  int64_t di = 0, dj = 0;
  if (find_transpose_plane(dst, src, di, dj)) return transposed_copy<T>(dst, src, di, dj);
  strided_loop<2>(dst.shape(), {&dst, &src}, [](int64_t n, auto p, auto s) {
    T* o = reinterpret_cast<T*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    if (s[0] == 1 && s[1] == 1) {
      std::memcpy(o, x, size_t(n) * sizeof(T));
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = x[i * s[1]];
    }
  });
}

template <typename O, typename I>
void convert(const Tensor& dst, const Tensor& src) {
  strided_loop<2>(dst.shape(), {&dst, &src}, [](int64_t n, auto p, auto s) {
    O* o = reinterpret_cast<O*>(p[0]);
    const I* x = reinterpret_cast<const I*>(p[1]);
    auto cast = [](I v) {
      if constexpr (std::is_same_v<O, bool>)
        return v != I(0);
      else
        return static_cast<O>(v);
    };
    if (s[0] == 1 && s[1] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = cast(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = cast(x[i * s[1]]);
    }
  });
}

}  // namespace

void CpuBackend::copy(const Tensor& dst, const Tensor& src) {
  if (dst.numel() == 0) return;
  dispatch_all(dst.dtype(), [&]<typename O>() {
    dispatch_all(src.dtype(), [&]<typename I>() {
      if constexpr (std::is_same_v<O, I>)
        copy_same_dtype<O>(dst, src);
      else
        convert<O, I>(dst, src);
    });
  });
}

void CpuBackend::fill(const Tensor& dst, double value) {
  if (dst.numel() == 0) return;
  dispatch_all(dst.dtype(), [&]<typename T>() {
    const T v = static_cast<T>(value);
    // All-zero bytes are 0 for every dtype (+0.0 for floats).
    if (value == 0 && !std::signbit(value) && dst.is_contiguous()) {
      char* p = static_cast<char*>(dst.raw_data());
      parallel_for(0, dst.numel() * int64_t(sizeof(T)), kByteGrain,
                   [&](int64_t lo, int64_t hi) { std::memset(p + lo, 0, size_t(hi - lo)); });
      return;
    }
    strided_loop<1>(dst.shape(), {&dst}, [&](int64_t n, auto p, auto s) {
      T* o = reinterpret_cast<T*>(p[0]);
      if (s[0] == 1) {
        for (int64_t i = 0; i < n; ++i) o[i] = v;
      } else {
        for (int64_t i = 0; i < n; ++i) o[i * s[0]] = v;
      }
    });
  });
}

}  // namespace heed::cpu
