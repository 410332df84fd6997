// Whether ops record the graph. Thread-local, like PyTorch's.
#pragma once

namespace heed {

bool grad_mode_enabled();
void set_grad_mode(bool enabled);

// Turns recording off for a scope (evaluation, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(grad_mode_enabled()) { set_grad_mode(false); }
  ~NoGradGuard() { set_grad_mode(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

}  // namespace heed
