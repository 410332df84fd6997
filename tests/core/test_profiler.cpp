// The per-op profiler: one entry per forward op and backward node with the
// number of calls, nothing collected while it is off.
#include <catch2/catch.hpp>

#include "core/autograd/profiler.h"
#include "core/heed_core.h"

using namespace heed;
namespace profiler = heed::autograd::profiler;

namespace {

// Two conv + BN + ReLU layers, a pool and a loss: one training step's graph.
void small_net_step() {
  Tensor x = randn({2, 3, 6, 6});
  Tensor w1 = randn({4, 3, 3, 3}).requires_grad_(), w2 = randn({4, 4, 3, 3}).requires_grad_();
  Tensor g = ones({4}).requires_grad_(), b = zeros({4}).requires_grad_();
  Tensor h = x;
  for (const Tensor& w : {w1, w2})
    h = relu(batch_norm(conv2d(h, w, Tensor(), {1, 1}, {1, 1}), Tensor(), Tensor(), g, b, true));
  Tensor loss = cross_entropy(mean(h, {2, 3}), tensor({1.0, 3.0}, kInt64));
  loss.backward();
}

const profiler::Entry* find(const profiler::Profile& p, const std::string& name,
                            profiler::Phase phase) {
  for (const auto& e : p.entries)
    if (e.name == name && e.phase == phase) return &e;
  return nullptr;
}

}  // namespace

TEST_CASE("the profiler counts each forward op and backward node", "[autograd][profiler]") {
  (void)profiler::take();
  profiler::set_enabled(true);
  small_net_step();
  small_net_step();
  profiler::set_enabled(false);
  const profiler::Profile p = profiler::take();
  for (const char* op : {"conv2d", "batch_norm", "relu"}) {
    INFO(op);
    const profiler::Entry* f = find(p, op, profiler::Phase::Forward);
    const profiler::Entry* b = find(p, op, profiler::Phase::Backward);
    REQUIRE(f != nullptr);
    REQUIRE(b != nullptr);
    CHECK(f->count == 4);  // 2 layers x 2 steps
    CHECK(b->count == 4);
    CHECK(f->ms >= 0);
    CHECK(b->ms >= 0);
  }
  for (size_t i = 1; i < p.entries.size(); ++i) CHECK(p.entries[i - 1].ms >= p.entries[i].ms);
  const std::string t = p.table(2, 0);
  CHECK_THAT(t, Catch::Contains("fwd") && Catch::Contains("bwd") && Catch::Contains("conv2d") &&
                    Catch::Contains("batch_norm"));
  CHECK(profiler::take().entries.empty());  // take() empties it
}

TEST_CASE("the profiler collects nothing while off", "[autograd][profiler]") {
  (void)profiler::take();
  profiler::set_enabled(false);
  CHECK_FALSE(profiler::enabled());
  small_net_step();
  CHECK(profiler::take().entries.empty());
}

TEST_CASE("the profiler's own rows and the table", "[autograd][profiler]") {
  (void)profiler::take();
  profiler::add("optimizer.step", profiler::Phase::Other, 3.0);
  profiler::add("optimizer.step", profiler::Phase::Other, 1.0);
  profiler::add("conv2d", profiler::Phase::Backward, 6.0);
  const profiler::Profile p = profiler::take();
  REQUIRE(p.entries.size() == 2);
  CHECK(p.entries[0].name == "conv2d");  // longest first
  CHECK(p.entries[1].count == 2);
  CHECK(p.entries[1].ms == 4.0);
  CHECK(p.total_ms() == 10.0);
  // Per step over 2 steps of 10 ms: conv2d 3 ms = 30 %.
  CHECK_THAT(p.table(2, 10.0), Catch::Contains("30.0%") && Catch::Contains("other"));
}
