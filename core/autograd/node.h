// A node of the recorded graph: one op application. It holds the backward
// closure (which owns the tensors the op saved), edges to the nodes (or leaf
// tensors) that produced its inputs, and the metadata of its outputs. It never
// owns its own outputs (ops save `out.detach()` when backward needs them), so
// the graph has no reference cycles.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace heed::autograd {

class Node;

// Where the gradient of one input goes: to output `input_nr` of `node`, or
// into the `.grad` of a leaf tensor.
struct Edge {
  std::shared_ptr<Node> node;
  uint32_t input_nr = 0;
  std::shared_ptr<TensorImpl> leaf;
  bool valid() const { return node != nullptr || leaf != nullptr; }
};

struct TensorMeta {
  Shape shape;
  DType dtype;
  Device device;
};

// grads[i] is the gradient w.r.t. output i (never undefined: the engine fills
// zeros). needs[j] says whether input j wants a gradient; the result holds
// one tensor per input, undefined where not needed.
using BackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& grads,
                                                     const std::vector<bool>& needs)>;

class Node {
 public:
  Node(std::string name, std::vector<Edge> inputs, std::vector<TensorMeta> outputs,
       std::vector<TensorMeta> input_metas, BackwardFn fn);
  ~Node();  // iterative teardown: deep graphs must not overflow the stack

  const std::string& name() const { return name_; }
  const std::vector<Edge>& next_edges() const { return inputs_; }
  const std::vector<TensorMeta>& output_metas() const { return outputs_; }
  const std::vector<TensorMeta>& input_metas() const { return input_metas_; }
  bool released() const { return !fn_; }

  std::vector<Tensor> apply(const std::vector<Tensor>& grads);
  // Frees the saved tensors (after backward without retain_graph).
  void release() { fn_ = nullptr; }

 private:
  friend void destroy_edges_iteratively(std::vector<Edge>& edges);
  std::string name_;
  std::vector<Edge> inputs_;
  std::vector<TensorMeta> outputs_;
  std::vector<TensorMeta> input_metas_;
  std::vector<bool> needs_;
  BackwardFn fn_;
};

// True when grad mode is on and any defined input requires grad.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);

// Records an op: makes `outputs` non-leaf results of a node named `name`
// whose backward is `fn`. Call only when any_requires_grad(inputs).
void record(const char* name, const std::vector<Tensor>& inputs,
            const std::vector<Tensor>& outputs, BackwardFn fn);

// Single-output convenience: fn(grad, needs).
void record(const char* name, const std::vector<Tensor>& inputs, const Tensor& output,
            std::function<std::vector<Tensor>(const Tensor& grad, const std::vector<bool>& needs)>
                fn);

// Drops a reference to a node without recursing through deep graphs.
void release_node(std::shared_ptr<Node>&& node);

// Runs backward from `roots` with the given gradients (engine.cpp).
void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads,
                  bool retain_graph);

}  // namespace heed::autograd
