#include "core/autograd/node.h"

#include "core/autograd/grad_mode.h"
#include "core/autograd/profiler.h"

namespace heed::autograd {
namespace {

thread_local bool g_tearing_down = false;
thread_local std::vector<std::shared_ptr<Node>> g_pending;

}  // namespace

// Drops one reference to a node. When it is the last one, the node is queued
// and destroyed by the outermost call in a loop, so a chain of 100,000 nodes
// is freed without 100,000 nested destructors.
void release_node(std::shared_ptr<Node>&& node) {
  if (!node) return;
  if (node.use_count() > 1) {
    node.reset();
    return;
  }
  g_pending.push_back(std::move(node));
  if (g_tearing_down) return;
  g_tearing_down = true;
  while (!g_pending.empty()) {
    std::shared_ptr<Node> n = std::move(g_pending.back());
    g_pending.pop_back();
    n.reset();  // ~Node queues its children here instead of recursing
  }
  g_tearing_down = false;
}

Node::Node(std::string name, std::vector<Edge> inputs, std::vector<TensorMeta> outputs,
           std::vector<TensorMeta> input_metas, BackwardFn fn)
    : name_(std::move(name)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      input_metas_(std::move(input_metas)),
      fn_(std::move(fn)) {
  needs_.reserve(inputs_.size());
  for (const Edge& e : inputs_) needs_.push_back(e.valid());
}

Node::~Node() {
  // Saved tensors may hold other nodes; free them under the same queue.
  bool outer = !g_tearing_down;
  if (outer) g_tearing_down = true;
  fn_ = nullptr;
  for (Edge& e : inputs_) {
    if (e.node) {
      if (e.node.use_count() == 1)
        g_pending.push_back(std::move(e.node));
      else
        e.node.reset();
    }
  }
  inputs_.clear();
  if (outer) {
    while (!g_pending.empty()) {
      std::shared_ptr<Node> n = std::move(g_pending.back());
      g_pending.pop_back();
      n.reset();
    }
    g_tearing_down = false;
  }
}

std::vector<Tensor> Node::apply(const std::vector<Tensor>& grads) {
  HEED_CHECK(fn_ != nullptr, "backward: trying to backward through the graph a second time (at ",
             name_,
             "); the saved tensors were freed after the first backward. Pass retain_graph=true "
             "to the first backward if you need to call it twice");
  std::vector<Tensor> result = fn_(grads, needs_);
  HEED_CHECK(result.size() == inputs_.size(), "backward of ", name_, " returned ", result.size(),
             " gradients for ", inputs_.size(), " inputs");
  return result;
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!grad_mode_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_mode_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(const char* name, const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
            BackwardFn fn) {
  std::vector<Edge> edges(inputs.size());
  std::vector<TensorMeta> in_metas(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) continue;
    in_metas[i] = {t.shape(), t.dtype(), t.device()};
    if (!t.requires_grad()) continue;
    if (t.grad_fn())
      edges[i] = Edge{t.grad_fn(), t.impl()->output_nr, nullptr};
    else
      edges[i] = Edge{nullptr, 0, t.impl_ptr()};
  }
  std::vector<TensorMeta> out_metas;
  out_metas.reserve(outputs.size());
  for (const Tensor& o : outputs) out_metas.push_back({o.shape(), o.dtype(), o.device()});
  auto node = std::make_shared<Node>(name, std::move(edges), std::move(out_metas),
                                     std::move(in_metas), std::move(fn));
  for (size_t i = 0; i < outputs.size(); ++i) {
    TensorImpl* impl = outputs[i].impl();
    impl->grad_fn = node;
    impl->output_nr = uint32_t(i);
    impl->requires_grad = true;
  }
  if (profiler::enabled()) profiler::forward_op(name);
}

void record(const char* name, const std::vector<Tensor>& inputs, const Tensor& output,
            std::function<std::vector<Tensor>(const Tensor&, const std::vector<bool>&)> fn) {
  record(name, inputs, std::vector<Tensor>{output},
         [fn = std::move(fn)](const std::vector<Tensor>& grads, const std::vector<bool>& needs) {
           return fn(grads[0], needs);
         });
}

}  // namespace heed::autograd
