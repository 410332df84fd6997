// scaled_dot_product_attention: a hand-computed case, agreement with the
// composed ops (matmul, softmax) forward and backward on every ISA, the
// backend's composite default (what CUDA runs) against the CPU kernel, the
// output and gradient layouts, errors, and the gradcheck cases.
#include <catch2/catch.hpp>

#include <cmath>

#include "core/backend.h"
#include "core/cpu/isa.h"
#include "support/fixtures.h"
#include "support/gradcheck_cases.h"

using namespace heed;
using namespace heed::testing;

namespace {

using In = std::vector<Tensor>;

// The slow, readable reference from the composed ops.
Tensor composed(const Tensor& q, const Tensor& k, const Tensor& v, double scale) {
  return matmul(softmax(matmul(q, k.transpose(2, 3)) * scale, -1), v);
}

struct Shapes {
  int64_t B, H, nq, nk, d, dv;
};

}  // namespace

TEST_CASE("scaled_dot_product_attention by hand", "[attention_op]") {
  // One query against keys 0 and ln 3: probabilities 1/4 and 3/4 of the
  // values 4 and 8, so the output is 1 + 6 = 7.
  Tensor q = tensor({1}).view({1, 1, 1, 1});
  Tensor k = tensor({0, std::log(3.0)}).view({1, 1, 2, 1});
  Tensor v = tensor({4, 8}).view({1, 1, 2, 1});
  auto [out, probs] = scaled_dot_product_attention(q, k, v, 1.0);
  CHECK(out.item() == Approx(7.0).epsilon(1e-6));
  CHECK(probs.to_vector<float>()[0] == Approx(0.25).epsilon(1e-6));
  CHECK(probs.to_vector<float>()[1] == Approx(0.75).epsilon(1e-6));
  CHECK_FALSE(probs.requires_grad());
}

TEST_CASE("scaled_dot_product_attention matches the composed ops on every ISA",
          "[attention_op][kernel]") {
  // Rows of 1, 17 and 65 keys: masked tails and whole vectors on every ISA.
  for (Shapes s :
       {Shapes{2, 3, 65, 65, 8, 8}, Shapes{1, 2, 5, 17, 3, 6}, Shapes{3, 1, 4, 1, 2, 5}}) {
    INFO("B " << s.B << " heads " << s.H << " nq " << s.nq << " nk " << s.nk);
    Tensor q = randn({s.B, s.nq, s.H, s.d}).transpose(1, 2);  // a linear's output layout
    Tensor k = randn({s.B, s.H, s.nk, s.d});
    Tensor v = randn({s.B, s.H, s.dv, s.nk}).transpose(2, 3);  // rows not contiguous
    Tensor g = randn({s.B, s.H, s.nq, s.dv});
    const double scale = 0.3;
    Tensor qr = q.detach().requires_grad_(), kr = k.detach().requires_grad_(),
           vr = v.detach().requires_grad_();
    Tensor want = composed(qr, kr, vr, scale);
    sum(want * g).backward();
    for (cpu::Isa isa : {cpu::Isa::Scalar, cpu::Isa::Avx2, cpu::Isa::Avx512}) {
      cpu::IsaCapGuard cap(isa);
      INFO("isa cap " << cpu::isa_name(isa));
      Tensor q1 = q.detach().requires_grad_(), k1 = k.detach().requires_grad_(),
             v1 = v.detach().requires_grad_();
      auto [out, probs] = scaled_dot_product_attention(q1, k1, v1, scale);
      CHECK(max_abs_diff(out, want) <= 1e-5);
      CHECK(max_abs_diff(probs, softmax(matmul(q, k.transpose(2, 3)) * scale, -1)) <= 1e-6);
      sum(out * g).backward();
      CHECK(max_abs_diff(q1.grad(), qr.grad()) <= 1e-5);
      CHECK(max_abs_diff(k1.grad(), kr.grad()) <= 1e-5);
      CHECK(max_abs_diff(v1.grad(), vr.grad()) <= 1e-5);
    }
  }
}

TEST_CASE("scaled_dot_product_attention stores its output as (B, n, h, d)", "[attention_op]") {
  Tensor q = randn({2, 3, 4, 5}).requires_grad_(), k = randn({2, 3, 6, 5}).requires_grad_(),
         v = randn({2, 3, 6, 7}).requires_grad_();
  auto [out, probs] = scaled_dot_product_attention(q, k, v, 0.5);
  CHECK(out.shape() == Shape{2, 3, 4, 7});
  CHECK(out.transpose(1, 2).is_contiguous());  // the heads' merge is a view
  CHECK(probs.shape() == Shape{2, 3, 4, 6});
  CHECK(probs.is_contiguous());
  sum(out * out).backward();
  CHECK(q.grad().shape() == q.shape());
}

TEST_CASE("the backend's composite attention (CUDA's path) agrees with the CPU kernel",
          "[attention_op]") {
  for (DType dt : {kFloat32, kFloat64}) {
    INFO("dtype " << dt);
    Tensor q = randn({2, 5, 3, 4}, {dt}).transpose(1, 2);
    Tensor k = randn({2, 3, 7, 4}, {dt}), v = randn({2, 7, 3, 6}, {dt}).transpose(1, 2);
    Tensor go = randn({2, 3, 5, 6}, {dt});
    const double scale = 0.7, tol = dt == kFloat32 ? 1e-5 : 1e-12;
    Backend& be = backend_of(q);
    auto run = [&](bool composite) {
      In r{empty({2, 3, 5, 6}, {dt}), empty({2, 3, 5, 7}, {dt}), empty({2, 3, 5, 4}, {dt}),
           empty({2, 3, 7, 4}, {dt}), empty({2, 3, 7, 6}, {dt})};
      if (composite) {
        be.Backend::attention(r[0], r[1], q, k, v, scale);
        be.Backend::attention_backward(r[2], r[3], r[4], go, r[1], q, k, v, scale);
      } else {
        be.attention(r[0], r[1], q, k, v, scale);
        be.attention_backward(r[2], r[3], r[4], go, r[1], q, k, v, scale);
      }
      return r;
    };
    In fused = run(false), reference = run(true);
    for (size_t i = 0; i < fused.size(); ++i) {
      INFO("tensor " << i << " (out, probs, grad q, grad k, grad v)");
      CHECK(max_abs_diff(fused[i], reference[i]) <= tol);
    }
    // Undefined gradients are skipped; the others are unchanged.
    Tensor gv = empty({2, 3, 7, 6}, {dt});
    be.attention_backward(Tensor(), Tensor(), gv, go, fused[1], q, k, v, scale);
    CHECK(max_abs_diff(gv, fused[4]) == 0);
  }
}

TEST_CASE("scaled_dot_product_attention edge sizes", "[attention_op]") {
  // No queries: an empty output, zero gradients for k and v.
  Tensor q = randn({1, 2, 0, 3}).requires_grad_(), k = randn({1, 2, 4, 3}).requires_grad_(),
         v = randn({1, 2, 4, 5}).requires_grad_();
  auto [out, probs] = scaled_dot_product_attention(q, k, v, 1.0);
  CHECK(out.shape() == Shape{1, 2, 0, 5});
  (sum(out) + sum(k) * 0).backward();
  CHECK(max_abs_diff(k.grad(), zeros({1, 2, 4, 3})) == 0);
  CHECK(max_abs_diff(v.grad(), zeros({1, 2, 4, 5})) == 0);
  // An empty batch.
  auto [e, ep] = scaled_dot_product_attention(randn({0, 2, 3, 4}), randn({0, 2, 5, 4}),
                                              randn({0, 2, 5, 4}), 1.0);
  CHECK(e.shape() == Shape{0, 2, 3, 4});
}

TEST_CASE("scaled_dot_product_attention rejects bad input", "[attention_op]") {
  Tensor q = randn({2, 3, 4, 5}), k = randn({2, 3, 6, 5}), v = randn({2, 3, 6, 7});
  CHECK_THROWS_WITH(scaled_dot_product_attention(randn({3, 4, 5}), k, v, 1.0),
                    Catch::Contains("expected q, k and v of shape (B, heads, n, d)"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, randn({2, 3, 6, 4}), v, 1.0),
                    Catch::Contains("disagree"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, randn({2, 3, 5, 7}), 1.0),
                    Catch::Contains("disagree"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, randn({2, 2, 6, 5}), v, 1.0),
                    Catch::Contains("disagree"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, v.to(kFloat64), 1.0),
                    Catch::Contains("must share a dtype"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q.to(kInt64), k, v, 1.0),
                    Catch::Contains("scaled_dot_product_attention"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, randn({2, 3, 0, 5}), randn({2, 3, 0, 7}), 1.0),
                    Catch::Contains("keys, d and dv must be positive"));
  CHECK_THROWS_WITH(scaled_dot_product_attention(q, k, v, std::nan("")),
                    Catch::Contains("scale must be finite"));
}

HEED_GRADCHECK_CASE({"scaled_dot_product_attention", "nq != nk, d != dv",
                     [] {
                       return In{gc_input({2, 2, 3, 4}), gc_input({2, 2, 5, 4}, -1, 1, 2),
                                 gc_input({2, 2, 5, 3}, -1, 1, 3)};
                     },
                     [](const In& i) {
                       return scaled_dot_product_attention(i[0], i[1], i[2], 0.6).first;
                     }});
HEED_GRADCHECK_CASE({"scaled_dot_product_attention", "heads split from (B, n, h, d), strided v",
                     [] {
                       return In{gc_input({2, 4, 3, 2}), gc_input({2, 4, 3, 2}, -1, 1, 2),
                                 gc_strided_input({2, 3, 4, 2}, -1, 1, 3)};
                     },
                     [](const In& i) {
                       return scaled_dot_product_attention(i[0].transpose(1, 2),
                                                           i[1].transpose(1, 2), i[2], 1.3)
                           .first;
                     }});
