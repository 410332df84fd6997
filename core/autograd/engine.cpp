// The backward pass: Kahn's topological order over the nodes reachable from
// the roots, with explicit stacks (no recursion), gradient buffers per node
// output, and accumulation into leaves' .grad.
#include <chrono>
#include <unordered_map>

#include "core/autograd/grad_mode.h"
#include "core/autograd/node.h"
#include "core/autograd/profiler.h"
#include "core/ops/ops.h"

namespace heed::autograd {
namespace {

void accumulate_leaf(TensorImpl* leaf, const Tensor& g) {
  if (!leaf->grad) {
    // Own the buffer: g may alias another leaf's gradient (add's backward
    // hands the same tensor to both inputs).
    leaf->grad = g.clone().impl_ptr();
  } else {
    Tensor(leaf->grad).add_(g);
  }
}

// slot += g for a node output's gradient buffer. In place when the engine
// holds the only reference to slot and its memory (no view, no other buffer,
// no saved tensor): no fresh full-size buffer for every tensor that feeds
// several ops (residual joins, attention gates).
void accumulate_buffer(Tensor& slot, const Tensor& g) {
  const auto& impl = slot.impl_ptr();
  if (impl.use_count() == 1 && impl->storage.use_count() == 1 && slot.is_contiguous() &&
      slot.dtype() == g.dtype() && slot.shape() == g.shape()) {
    slot.add_(g);
    return;
  }
  slot = add(slot, g);
}

void check_grad(const Tensor& g, const TensorMeta& meta, const std::string& where) {
  HEED_CHECK(g.shape() == meta.shape, "backward: ", where, " produced a gradient of shape ",
             shape_str(g.shape()), " for an input of shape ", shape_str(meta.shape));
  HEED_CHECK(g.dtype() == meta.dtype, "backward: ", where, " produced a ", g.dtype(),
             " gradient for a ", meta.dtype, " input");
  HEED_CHECK(g.device() == meta.device, "backward: ", where, " produced a gradient on ", g.device(),
             " for an input on ", meta.device);
}

}  // namespace

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                  bool retain_graph) {
  NoGradGuard no_grad;  // backward closures compute with plain ops

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  std::unordered_map<Node*, int> dependencies;
  std::vector<Node*> stack;

  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    HEED_CHECK(root.requires_grad(),
               "backward: the tensor does not require grad and has no "
               "grad_fn (did you call requires_grad_() on an input, or run under NoGradGuard?)");
    const Tensor& g = grads[i];
    HEED_CHECK(g.shape() == root.shape(), "backward: gradient has shape ", shape_str(g.shape()),
               " but the tensor has shape ", shape_str(root.shape()));
    if (!root.grad_fn()) {
      accumulate_leaf(root.impl(), g.to(root.dtype()));
      continue;
    }
    Node* node = root.grad_fn().get();
    auto& buf = buffers[node];
    buf.resize(node->output_metas().size());
    uint32_t nr = root.impl()->output_nr;
    buf[nr] = buf[nr].defined() ? add(buf[nr], g) : g.to(root.dtype());
    if (!dependencies.count(node)) {
      dependencies[node] = 0;
      stack.push_back(node);
    }
  }

  // Count, for each reachable node, the edges that point at it.
  std::vector<Node*> roots_nodes = stack;
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges()) {
      if (!e.node) continue;
      auto [it, inserted] = dependencies.try_emplace(e.node.get(), 0);
      it->second++;
      if (inserted) stack.push_back(e.node.get());
    }
  }

  std::vector<Node*> ready;
  for (Node* n : roots_nodes)
    if (dependencies[n] == 0) ready.push_back(n);

  while (!ready.empty()) {
    Node* node = ready.back();
    ready.pop_back();
    std::vector<Tensor> node_grads = std::move(buffers[node]);
    buffers.erase(node);
    node_grads.resize(node->output_metas().size());
    for (size_t i = 0; i < node_grads.size(); ++i) {
      if (!node_grads[i].defined()) {
        const TensorMeta& m = node->output_metas()[i];
        node_grads[i] = zeros(m.shape, {m.dtype, m.device});
      }
    }
    const bool profiling = profiler::enabled();
    const auto t0 =
        profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    std::vector<Tensor> input_grads = node->apply(node_grads);
    if (profiling)
      profiler::add(
          node->name(), profiler::Phase::Backward,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    node_grads.clear();
    if (!retain_graph) node->release();

    const auto& edges = node->next_edges();
    for (size_t i = 0; i < edges.size(); ++i) {
      const Edge& e = edges[i];
      if (!e.valid()) continue;
      const Tensor& g = input_grads[i];
      if (g.defined()) check_grad(g, node->input_metas()[i], "the backward of " + node->name());
      if (e.leaf) {
        if (g.defined()) accumulate_leaf(e.leaf.get(), g);
        continue;
      }
      Node* next = e.node.get();
      if (g.defined()) {
        auto& buf = buffers[next];
        buf.resize(next->output_metas().size());
        Tensor& slot = buf[e.input_nr];
        if (slot.defined())
          accumulate_buffer(slot, g);
        else
          slot = g;
      }
      if (--dependencies[next] == 0) ready.push_back(next);
    }
  }
  if (profiler::enabled()) profiler::clear_mark();
}

}  // namespace heed::autograd
