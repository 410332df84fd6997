// The shifted-tap convolution (see conv_shifted.h): layout, taps, threading.
//
// Layout of a chunk of nb images (per virtual channel, row stride wq):
//   gap_h zero rows, then per image: in_h rows of data, gap_h zero rows;
//   every row is gap_w zeros followed by in_w data values,
// so reading past the right end of a row lands in the next row's left zeros
// and reading above / below an image lands in zero rows. Output (image n,
// row r, column c) is position q = (n·blk + r)·wq + c with blk = in_h + gap_h;
// positions with c ≥ out_w or r ≥ out_h are computed too (that is the price
// of the layout: (wq·blk)/(out_w·out_h), 13 % on 16×16 images with 3×3
// kernels) and dropped when the result is stored. The direct forward
// (forward_direct) avoids both: it computes whole SIMD vectors along each
// output row and writes them straight into the output tensor, which pays
// whenever the rows fill their vectors (16 or 32 columns with AVX-512).
#include "core/cpu/conv_shifted.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "core/cpu/conv_kernels.h"
#include "core/cpu/prefetch.h"
#include "core/parallel.h"

namespace heed::cpu::conv {
namespace {

// Output positions a chunk aims at: its X and Y (about 4 bytes × channels ×
// this) stay in L2 while the kernels sweep them.
constexpr int64_t kTargetPositions = 1024;
// The weight gradient's dot products run over at most this many positions
// per call before their lanes are summed: keeps float32 rounding (which grows
// with the length of each lane's running sum) small on large images.
constexpr int64_t kWeightGradBlock = 2048;
// The widest DirectSlot of any kernel set (AVX-512: 16 floats).
constexpr int64_t kMaxVec = 16;

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
int64_t round_up(int64_t a, int64_t b) {
  return ceil_div(a, b) * b;
}

// Reads virtual channel `chan` at (output row + dr, output column + dc).
struct Tap {
  int64_t chan, dr, dc;
};

// A 64-byte aligned float buffer that only grows: a thread's scratch, reused
// across calls so the steady state allocates nothing.
class Scratch {
 public:
  float* get(int64_t n) {
    if (n > capacity_) {
      const int64_t cap = round_up(std::max<int64_t>(n, 16), 16);
      void* p = std::aligned_alloc(64, size_t(cap) * sizeof(float));
      if (!p) throw std::bad_alloc();
      data_.reset(static_cast<float*>(p));
      capacity_ = cap;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data_;
  int64_t capacity_ = 0;
};

// Which zero pattern a scratch buffer holds: the gaps of a layout are only
// ever written with zeros (the data goes elsewhere), so the next chunk with
// the same layout in the same buffer can skip zeroing them. On small images
// that fill is a large share of the copy work (many short rows).
struct GapKey {
  const float* buffer = nullptr;
  int64_t dims[8] = {};
  bool operator==(const GapKey& o) const {
    return buffer == o.buffer && std::equal(dims, dims + 8, o.dims);
  }
};

// Whether `buffer` already holds the zeros described by `key` (then true);
// otherwise records that the caller is about to write them.
bool gaps_already_zero(GapKey& cached, const GapKey& key) {
  if (cached == key) return true;
  cached = key;
  return false;
}

struct ThreadScratch {
  Scratch x, y, g, panels, partials;
  std::vector<int64_t> off;
  std::vector<DirectSlot> slots;
  GapKey x_gaps, g_gaps;
};

ThreadScratch& thread_scratch() {
  thread_local ThreadScratch s;
  return s;
}

// What the layout must hold: `chans` planes of in_h × in_w per image, outputs
// of at most out_h × out_w, taps shifted by dr ∈ [dr_lo, dr_hi], dc ∈ [dc_lo, dc_hi].
struct PlaneGeometry {
  int64_t chans, in_h, in_w, out_h, out_w;
  int64_t dr_lo, dr_hi, dc_lo, dc_hi;
};

PlaneGeometry geometry(int64_t chans, int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w,
                       const std::vector<Tap>& taps) {
  PlaneGeometry p{chans, in_h, in_w, out_h, out_w, 0, 0, 0, 0};
  for (const Tap& t : taps) {
    p.dr_lo = std::min(p.dr_lo, t.dr), p.dr_hi = std::max(p.dr_hi, t.dr);
    p.dc_lo = std::min(p.dc_lo, t.dc), p.dc_hi = std::max(p.dc_hi, t.dc);
  }
  return p;
}

struct Layout {
  int64_t chans, in_h, in_w, nb;
  int64_t gap_h, gap_w, wq, blk;
  int64_t cstride;   // floats per virtual channel
  int64_t q;         // output positions of the chunk (the last image's bottom gap excluded)
  int64_t q_padded;  // q rounded up to the kernels' q_align
  int64_t x_len;     // floats of X, with the zero tail that the last tiles read

  int64_t offset(const Tap& t) const {
    return t.chan * cstride + (gap_h + t.dr) * wq + gap_w + t.dc;
  }
  int64_t row_start(int64_t n, int64_t r) const { return (n * blk + r) * wq; }
};

Layout make_layout(const PlaneGeometry& p, int64_t nb, int q_align) {
  Layout l;
  l.chans = p.chans, l.in_h = p.in_h, l.in_w = p.in_w, l.nb = nb;
  // Enough zero rows for the furthest tap, and room for out_h rows per image.
  l.gap_h = std::max({int64_t(0), -p.dr_lo, p.out_h + p.dr_hi - p.in_h, p.out_h - p.in_h});
  l.gap_w = std::max({int64_t(0), -p.dc_lo, p.out_w + p.dc_hi - p.in_w, p.out_w - p.in_w});
  l.wq = p.in_w + l.gap_w;
  l.blk = p.in_h + l.gap_h;
  l.cstride = (l.gap_h + nb * l.blk) * l.wq;
  l.q = ((nb - 1) * l.blk + p.out_h) * l.wq;
  l.q_padded = round_up(l.q, q_align);
  const int64_t max_off =
      (p.chans - 1) * l.cstride + (l.gap_h + p.dr_hi) * l.wq + l.gap_w + p.dc_hi;
  // The direct forward reads whole vectors from its last slot (< q) on.
  l.x_len = std::max(p.chans * l.cstride, std::max(l.q_padded, l.q + kMaxVec) + max_off);
  return l;
}

int64_t images_per_chunk(const PlaneGeometry& p, int64_t images) {
  const Layout one = make_layout(p, 1, 1);
  return std::clamp<int64_t>(kTargetPositions / (one.blk * one.wq), 1,
                             std::max<int64_t>(images, 1));
}

// dst[0, n) = src[0, n) for the short rows of small images (often 8-32
// floats): fixed-size 32-byte copies that the compiler inlines as vector
// moves, where a memcpy call per row costs as much as the copy itself.
inline void copy_row(float* dst, const float* src, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) std::memcpy(dst + j, src + j, 8 * sizeof(float));
  for (; j < n; ++j) dst[j] = src[j];
}

// Splits one input row into its sw column phases: phase[bw][j] = src[j·sw + bw],
// zero up to in_w.
void split_row(const float* src, int64_t W, int64_t sw, float* const* phase, int64_t in_w) {
  prefetch_ahead(src, W);
  if (sw == 1) {
    copy_row(phase[0], src, W);
    std::fill(phase[0] + W, phase[0] + in_w, 0.0f);
    return;
  }
  if (sw == 2) {  // the common stride: a loop the compiler vectorises
    float* even = phase[0];
    float* odd = phase[1];
    const int64_t pairs = W / 2;
    for (int64_t j = 0; j < pairs; ++j) even[j] = src[2 * j], odd[j] = src[2 * j + 1];
    if (W % 2) even[pairs] = src[W - 1];
    std::fill(even + (W + 1) / 2, even + in_w, 0.0f);
    std::fill(odd + pairs, odd + in_w, 0.0f);
    return;
  }
  for (int64_t bw = 0; bw < sw; ++bw) {
    const int64_t cols = bw < W ? ceil_div(W - bw, sw) : 0;
    for (int64_t j = 0; j < cols; ++j) phase[bw][j] = src[j * sw + bw];
    std::fill(phase[bw] + cols, phase[bw] + in_w, 0.0f);
  }
}

// X ← images [n0, n0 + nb) of src (B, C, H, W), each channel split into its
// sh × sw stride phases: virtual channel (c·sh + bh)·sw + bw holds
// src[c][i·sh + bh][j·sw + bw], zero beyond the input. Each source row is
// read once and split into the sw phases of its row phase bh.
void fill_layout(const Layout& l, const float* src, int64_t C, int64_t H, int64_t W, int64_t sh,
                 int64_t sw, int64_t n0, float* x, GapKey& zeroed) {
  const GapKey key{x, {l.chans, l.in_h, l.in_w, l.nb, l.gap_h, l.gap_w, l.x_len, 0}};
  const bool gaps_zero = gaps_already_zero(zeroed, key);
  std::vector<float*> rows(static_cast<size_t>(sw));
  if (!gaps_zero) {
    for (int64_t v = 0; v < l.chans; ++v) {  // the zero rows above each image and at the end
      float* d = x + v * l.cstride;
      std::fill(d, d + l.gap_h * l.wq, 0.0f);
      for (int64_t n = 0; n < l.nb; ++n) {
        float* below = d + (l.gap_h + n * l.blk + l.in_h) * l.wq;
        std::fill(below, below + l.gap_h * l.wq, 0.0f);
      }
    }
    std::fill(x + l.chans * l.cstride, x + l.x_len, 0.0f);
  }
  for (int64_t c = 0; c < C; ++c)
    for (int64_t bh = 0; bh < sh; ++bh)
      for (int64_t n = 0; n < l.nb; ++n) {
        const float* plane = src + ((n0 + n) * C + c) * H * W;
        for (int64_t i = 0; i < l.in_h; ++i) {
          const int64_t row = (l.gap_h + n * l.blk + i) * l.wq;
          for (int64_t bw = 0; bw < sw; ++bw) {
            float* d = x + ((c * sh + bh) * sw + bw) * l.cstride + row;
            if (!gaps_zero) std::fill(d, d + l.gap_w, 0.0f);
            rows[size_t(bw)] = d + l.gap_w;
          }
          const int64_t ih = i * sh + bh;
          if (ih < H)
            split_row(plane + ih * W, W, sw, rows.data(), l.in_w);
          else
            for (float* r : rows) std::fill(r, r + l.in_w, 0.0f);
        }
      }
}

// Where a chunk's results go: channels [0, M) of images [n0, n0 + nb) of a
// (B, M, DH, DW) tensor, output (r, c) at row r·step_h + bh, column c·step_w + bw.
struct OutputPlane {
  float* data;
  int64_t M, DH, DW;
  int64_t out_h, out_w, step_h, step_w, bh, bw;
};

void store_output(const Layout& l, const float* y, int64_t ldy, const OutputPlane& o,
                  const float* bias, int64_t n0) {
  for (int64_t m = 0; m < o.M; ++m) {
    const float b = bias ? bias[m] : 0.0f;
    for (int64_t n = 0; n < l.nb; ++n) {
      float* plane = o.data + ((n0 + n) * o.M + m) * o.DH * o.DW + o.bh * o.DW + o.bw;
      for (int64_t r = 0; r < o.out_h; ++r) {
        const float* s = y + m * ldy + l.row_start(n, r);
        float* d = plane + r * o.step_h * o.DW;
        if (o.step_w == 1 && !bias)
          copy_row(d, s, o.out_w);
        else
          for (int64_t c = 0; c < o.out_w; ++c) d[c * o.step_w] = s[c] + b;
      }
    }
  }
}

// Whether the direct forward (whole vectors along each output row, written
// straight to the tensor) computes no more positions than the layout's rows
// with their gaps would; it also saves the copy of store_output.
bool direct_pays(const PlaneGeometry& p, int vec) {
  const Layout one = make_layout(p, 1, 1);
  return p.out_h * round_up(p.out_w, vec) <= one.blk * one.wq;
}

// The slots of a chunk's out_h × out_w outputs per image, in images of
// `image_floats` floats with rows of `row_floats` (offsets from the chunk's
// first image, output channel 0).
void direct_slots(const Layout& l, int64_t out_h, int64_t out_w, int64_t row_floats,
                  int64_t image_floats, int vec, std::vector<DirectSlot>& slots) {
  slots.clear();
  for (int64_t n = 0; n < l.nb; ++n)
    for (int64_t r = 0; r < out_h; ++r)
      for (int64_t c = 0; c < out_w; c += vec)
        slots.push_back({l.row_start(n, r) + c, n * image_floats + r * row_floats + c,
                         int(std::min<int64_t>(vec, out_w - c))});
}

// The direct forward of every panel: y (channel planes `ldy` apart) holds the
// chunk's first image, output channel 0.
void forward_direct_all_panels(const ShiftedKernels& k, const float* panels, int64_t M, int64_t T,
                               const int64_t* off, const float* x,
                               const std::vector<DirectSlot>& slots, const float* bias, float* y,
                               int64_t ldy) {
  for (int64_t p = 0; p < ceil_div(M, k.mr); ++p)
    k.forward(panels + p * T * k.mr, int(std::min<int64_t>(k.mr, M - p * k.mr)), off, T, x,
              slots.data(), int64_t(slots.size()), bias ? bias + p * k.mr : nullptr,
              y + p * k.mr * ldy, ldy);
}

// G (M × q_padded, row stride ldg) ← images [n0, n0 + nb) of gy (B, M, OH, OW)
// at their output positions, zero everywhere else.
void load_grad_output(const Layout& l, const float* gy, int64_t M, int64_t OH, int64_t OW,
                      int64_t n0, float* g, int64_t ldg, GapKey& zeroed) {
  const GapKey key{g, {M, OH, OW, ldg, l.nb, l.blk, l.wq, l.q}};
  const bool gaps_zero = gaps_already_zero(zeroed, key);
  for (int64_t m = 0; m < M; ++m) {
    float* d = g + m * ldg;
    for (int64_t n = 0; n < l.nb; ++n) {
      const float* s = gy + ((n0 + n) * M + m) * OH * OW;
      const int64_t rows = n + 1 < l.nb ? l.blk : OH;  // the last image stops at q
      for (int64_t r = 0; r < rows; ++r) {
        float* row = d + l.row_start(n, r);
        if (r < OH) {
          prefetch_ahead(s + r * OW, OW);
          copy_row(row, s + r * OW, OW);
          if (!gaps_zero) std::fill(row + OW, row + l.wq, 0.0f);
        } else if (!gaps_zero) {
          std::fill(row, row + l.wq, 0.0f);
        }
      }
    }
    if (!gaps_zero) std::fill(d + l.q, d + l.q_padded, 0.0f);
  }
}

// The inverse of split_row: dst[j·sw + bw] = phase[bw][j] for the W columns.
void merge_row(const float* const* phase, int64_t W, int64_t sw, float* dst) {
  if (sw == 1) {
    copy_row(dst, phase[0], W);
    return;
  }
  if (sw == 2) {
    const float* even = phase[0];
    const float* odd = phase[1];
    const int64_t pairs = W / 2;
    for (int64_t j = 0; j < pairs; ++j) dst[2 * j] = even[j], dst[2 * j + 1] = odd[j];
    if (W % 2) dst[W - 1] = even[pairs];
    return;
  }
  for (int64_t iw = 0; iw < W; ++iw) dst[iw] = phase[iw % sw][iw / sw];
}

// panels[p][t][i] = a(p·mr + i, t), zero for rows ≥ M.
template <typename A>
void pack_panels(int64_t M, int64_t T, int mr, A a, float* panels) {
  for (int64_t p = 0; p < ceil_div(M, mr); ++p)
    for (int64_t t = 0; t < T; ++t)
      for (int i = 0; i < mr; ++i) {
        const int64_t m = p * mr + i;
        panels[(p * T + t) * mr + i] = m < M ? a(m, t) : 0.0f;
      }
}

// Y (M rows, stride ldy) = panels · X shifted by off at all q_padded
// positions of the layout, gaps included (dropped when Y is stored).
void forward_all_panels(const ShiftedKernels& k, const float* panels, int64_t M, int64_t T,
                        const int64_t* off, const Layout& l, const float* x, float* y, int64_t ldy,
                        std::vector<DirectSlot>& slots) {
  slots.clear();
  for (int64_t q = 0; q < l.q_padded; q += k.vec) slots.push_back({q, q, k.vec});
  forward_direct_all_panels(k, panels, M, T, off, x, slots, nullptr, y, ldy);
}

// The taps of the forward convolution, in weight order (c, ki, kj): input row
// oh·sh + ki·dh - ph lies in stride phase bh = (ki·dh - ph) mod sh at phase row
// oh + floor((ki·dh - ph) / sh).
std::vector<Tap> forward_taps(const ConvShape& s) {
  std::vector<Tap> taps;
  taps.reserve(size_t(s.C * s.KH * s.KW));
  for (int64_t c = 0; c < s.C; ++c)
    for (int64_t ki = 0; ki < s.KH; ++ki)
      for (int64_t kj = 0; kj < s.KW; ++kj) {
        const int64_t eh = ki * s.dh - s.ph, ew = kj * s.dw - s.pw;
        const int64_t bh = eh - floor_div(eh, s.sh) * s.sh, bw = ew - floor_div(ew, s.sw) * s.sw;
        taps.push_back({(c * s.sh + bh) * s.sw + bw, floor_div(eh, s.sh), floor_div(ew, s.sw)});
      }
  return taps;
}

PlaneGeometry forward_geometry(const ConvShape& s, const std::vector<Tap>& taps) {
  return geometry(s.C * s.sh * s.sw, ceil_div(s.H, s.sh), ceil_div(s.W, s.sw), s.OH, s.OW, taps);
}

void compute_offsets(const Layout& l, const std::vector<Tap>& taps, std::vector<int64_t>& off) {
  off.resize(taps.size());
  for (size_t t = 0; t < taps.size(); ++t) off[t] = l.offset(taps[t]);
}

}  // namespace

bool shifted_supported(const ConvShape& s) {
  return s.B > 0 && s.C > 0 && s.O > 0 && s.OH > 0 && s.OW > 0 && s.sh > 0 && s.sw > 0;
}

void shifted_forward(const ConvShape& s, const float* x, const float* w, const float* bias,
                     const OutputEpilogue& epilogue, float* y) {
  const ShiftedKernels& k = shifted_kernels();
  const std::vector<Tap> taps = forward_taps(s);
  const PlaneGeometry pg = forward_geometry(s, taps);
  const int64_t T = int64_t(taps.size()), M = s.O;
  float* panels = thread_scratch().panels.get(round_up(M, k.mr) * T);
  pack_panels(
      M, T, k.mr, [&](int64_t m, int64_t t) { return w[m * T + t]; }, panels);
  const int64_t nb_max = images_per_chunk(pg, ceil_div(s.B, get_num_threads()));
  const OutputPlane out{y, s.O, s.OH, s.OW, s.OH, s.OW, 1, 1, 0, 0};
  const bool direct = direct_pays(pg, k.vec);
  const int64_t plane = s.OH * s.OW;
  parallel_for(0, s.B, 1, [&](int64_t lo, int64_t hi) {
    ThreadScratch& ts = thread_scratch();
    for (int64_t n0 = lo; n0 < hi; n0 += nb_max) {
      const Layout l = make_layout(pg, std::min(nb_max, hi - n0), k.q_align);
      compute_offsets(l, taps, ts.off);
      float* xb = ts.x.get(l.x_len);
      fill_layout(l, x, s.C, s.H, s.W, s.sh, s.sw, n0, xb, ts.x_gaps);
      if (direct) {
        direct_slots(l, s.OH, s.OW, s.OW, M * plane, k.vec, ts.slots);
        forward_direct_all_panels(k, panels, M, T, ts.off.data(), xb, ts.slots, bias,
                                  y + n0 * M * plane, plane);
      } else {
        float* yb = ts.y.get(round_up(M, k.mr) * l.q_padded);
        forward_all_panels(k, panels, M, T, ts.off.data(), l, xb, yb, l.q_padded, ts.slots);
        store_output(l, yb, l.q_padded, out, bias, n0);
      }
      epilogue(y, n0 * M * plane, l.nb * M * plane);
    }
  });
}

void shifted_backward_input(const ConvShape& s, const float* gy, const float* w, float* gx) {
  const ShiftedKernels& k = shifted_kernels();
  // One problem per stride phase (bh, bw) of gx: input row ih = r·sh + bh gets
  // gy row oh = r + dr from every tap ki with ki·dh - ph ≡ bh (mod sh), where
  // dr = -(ki·dh - ph - bh) / sh (likewise for columns). Its weights are
  // A[c][tap (o, ki, kj)] = w[o][c][ki][kj].
  struct Phase {
    std::vector<Tap> taps;
    std::vector<int64_t> weight_index;  // w index of (o, c = 0, ki, kj) per tap
    float* panels;
  };
  std::vector<Phase> phases;
  std::vector<Tap> all_taps;
  for (int64_t bh = 0; bh < std::min(s.sh, s.H); ++bh)
    for (int64_t bw = 0; bw < std::min(s.sw, s.W); ++bw) {
      Phase ph{{}, {}, nullptr};
      for (int64_t o = 0; o < s.O; ++o)
        for (int64_t ki = 0; ki < s.KH; ++ki)
          for (int64_t kj = 0; kj < s.KW; ++kj) {
            const int64_t eh = ki * s.dh - s.ph - bh, ew = kj * s.dw - s.pw - bw;
            if (eh - floor_div(eh, s.sh) * s.sh != 0 || ew - floor_div(ew, s.sw) * s.sw != 0)
              continue;
            ph.taps.push_back({o, -eh / s.sh, -ew / s.sw});
            ph.weight_index.push_back(((o * s.C) * s.KH + ki) * s.KW + kj);
          }
      all_taps.insert(all_taps.end(), ph.taps.begin(), ph.taps.end());
      phases.push_back(std::move(ph));
    }
  const PlaneGeometry pg =
      geometry(s.O, s.OH, s.OW, ceil_div(s.H, s.sh), ceil_div(s.W, s.sw), all_taps);
  const int64_t M = s.C, panel_floats = round_up(M, k.mr) * int64_t(all_taps.size());
  float* panels = thread_scratch().panels.get(std::max<int64_t>(panel_floats, 1));
  for (Phase& ph : phases) {
    ph.panels = panels;
    const int64_t T = int64_t(ph.taps.size()), KK = s.KH * s.KW;
    pack_panels(
        M, T, k.mr, [&](int64_t c, int64_t t) { return w[ph.weight_index[t] + c * KK]; }, panels);
    panels += round_up(M, k.mr) * T;
  }
  // Each phase's result goes to its own region of Y; gx rows are then written
  // once, interleaving the column phases.
  const int64_t nb_max = images_per_chunk(pg, ceil_div(s.B, get_num_threads()));
  const int64_t phase_cols = std::min(s.sw, s.W);
  // Stride 1 has one phase, whose outputs are gx's own rows: written directly.
  const bool direct = s.sh == 1 && s.sw == 1 && direct_pays(pg, k.vec);
  const int64_t plane = s.H * s.W;
  parallel_for(0, s.B, 1, [&](int64_t lo, int64_t hi) {
    ThreadScratch& ts = thread_scratch();
    std::vector<const float*> src(static_cast<size_t>(phase_cols));
    for (int64_t n0 = lo; n0 < hi; n0 += nb_max) {
      const Layout l = make_layout(pg, std::min(nb_max, hi - n0), k.q_align);
      float* xb = ts.x.get(l.x_len);
      fill_layout(l, gy, s.O, s.OH, s.OW, 1, 1, n0, xb, ts.x_gaps);
      if (direct) {
        compute_offsets(l, phases[0].taps, ts.off);
        direct_slots(l, s.H, s.W, s.W, M * plane, k.vec, ts.slots);
        forward_direct_all_panels(k, phases[0].panels, M, int64_t(phases[0].taps.size()),
                                  ts.off.data(), xb, ts.slots, nullptr, gx + n0 * M * plane, plane);
        continue;
      }
      const int64_t ldy = l.q_padded, phase_stride = round_up(M, k.mr) * ldy;
      float* yb = ts.y.get(int64_t(phases.size()) * phase_stride);
      for (size_t i = 0; i < phases.size(); ++i) {
        const Phase& ph = phases[i];
        compute_offsets(l, ph.taps, ts.off);
        forward_all_panels(k, ph.panels, M, int64_t(ph.taps.size()), ts.off.data(), l, xb,
                           yb + int64_t(i) * phase_stride, ldy, ts.slots);
      }
      for (int64_t c = 0; c < s.C; ++c)
        for (int64_t n = 0; n < l.nb; ++n)
          for (int64_t ih = 0; ih < s.H; ++ih) {
            const int64_t bh = ih % s.sh, r = ih / s.sh;
            for (int64_t bw = 0; bw < phase_cols; ++bw)
              src[size_t(bw)] =
                  yb + (bh * phase_cols + bw) * phase_stride + c * ldy + l.row_start(n, r);
            merge_row(src.data(), s.W, s.sw, gx + (((n0 + n) * s.C + c) * s.H + ih) * s.W);
          }
    }
  });
}

void shifted_backward_weight(const ConvShape& s, const float* gy, const float* x, float* gw) {
  const ShiftedKernels& k = shifted_kernels();
  const std::vector<Tap> taps = forward_taps(s);
  const PlaneGeometry pg = forward_geometry(s, taps);
  const int64_t T = int64_t(taps.size()), M = s.O;
  // Fixed image ranges, one per thread; range 0 sums into gw, the others into
  // partials added to gw in range order afterwards.
  const int64_t ranges = std::min<int64_t>(get_num_threads(), s.B);
  float* partials = ranges > 1 ? thread_scratch().partials.get((ranges - 1) * M * T) : nullptr;
  const int64_t nb_max = images_per_chunk(pg, ceil_div(s.B, ranges));
  parallel_for(0, ranges, 1, [&](int64_t lo, int64_t hi) {
    ThreadScratch& ts = thread_scratch();
    for (int64_t range = lo; range < hi; ++range) {
      float* sum = range == 0 ? gw : partials + (range - 1) * M * T;
      std::fill(sum, sum + M * T, 0.0f);
      const int64_t first = range * s.B / ranges, last = (range + 1) * s.B / ranges;
      for (int64_t n0 = first; n0 < last; n0 += nb_max) {
        const Layout l = make_layout(pg, std::min(nb_max, last - n0), k.q_align);
        compute_offsets(l, taps, ts.off);
        float* xb = ts.x.get(l.x_len);
        fill_layout(l, x, s.C, s.H, s.W, s.sh, s.sw, n0, xb, ts.x_gaps);
        float* gb = ts.g.get(M * l.q_padded);
        load_grad_output(l, gy, M, s.OH, s.OW, n0, gb, l.q_padded, ts.g_gaps);
        const int64_t block = round_up(kWeightGradBlock, k.q_align);
        for (int64_t q0 = 0; q0 < l.q_padded; q0 += block)
          k.weight_grad(gb + q0, l.q_padded, int(M), ts.off.data(), T, xb + q0,
                        std::min(block, l.q_padded - q0), sum, T);
      }
    }
  });
  for (int64_t r = 1; r < ranges; ++r) {
    const float* part = partials + (r - 1) * M * T;
    for (int64_t i = 0; i < M * T; ++i) gw[i] += part[i];
  }
}

}  // namespace heed::cpu::conv
