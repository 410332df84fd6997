// The thread pool: parallel_for covers its range once, whatever the thread
// count; exceptions come back to the caller; nesting runs
// inline.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "core/parallel.h"

using namespace heed;

namespace {

// Runs parallel_for over [0, n) and checks that every index was visited once.
void check_covers_once(int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
  parallel_for(0, n, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) hits[size_t(i)].fetch_add(1);
  });
  for (int64_t i = 0; i < n; ++i) {
    INFO("index " << i);
    REQUIRE(hits[size_t(i)].load() == 1);
  }
}

}  // namespace

TEST_CASE("parallel_for visits every index once", "[parallel]") {
  const int threads = get_num_threads();
  for (int t : {1, 2, 3}) {
    DYNAMIC_SECTION("threads=" << t) {
      set_num_threads(t);
      for (int rep = 0; rep < 50; ++rep) check_covers_once(1000, 7);
      check_covers_once(1, 1);
      check_covers_once(5, 100);  // below the grain: inline
    }
  }
  set_num_threads(threads);
}

TEST_CASE("parallel_for rethrows a chunk's exception and stays usable", "[parallel]") {
  const int threads = get_num_threads();
  set_num_threads(2);
  CHECK_THROWS_AS(parallel_for(0, 100, 1,
                               [](int64_t lo, int64_t) {
                                 if (lo > 0) throw std::runtime_error("chunk failed");
                               }),
                  std::runtime_error);
  check_covers_once(100, 1);
  SECTION("nested calls run inline on the calling thread") {
    std::atomic<int> inner{0};
    parallel_for(0, 2, 1, [&](int64_t, int64_t) {
      CHECK(in_parallel_region());
      parallel_for(0, 10, 1, [&](int64_t lo, int64_t hi) { inner += int(hi - lo); });
    });
    CHECK(inner.load() == 20);
  }
  set_num_threads(threads);
}
