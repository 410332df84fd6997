#include "train/trainer.h"

#include <time.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "core/autograd/grad_mode.h"
#include "core/generator.h"
#include "core/ops/ops.h"
#include "optim/clip_grad.h"

namespace heed::train {

namespace {

constexpr const char* kMetaKey = "heed.trainer";
constexpr const char* kOptimPrefix = "optimizer/";
constexpr const char* kEmaPrefix = "ema/";
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// CPU time of the whole process (every thread), in seconds.
double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

// Index of the first non-finite element of a CPU floating tensor, or -1.
int64_t first_non_finite(const Tensor& t) {
  Tensor c = t.contiguous();
  const int64_t n = c.numel();
  if (c.dtype() == kFloat32) {
    const float* p = c.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(p[i])) return i;
  } else if (c.dtype() == kFloat64) {
    const double* p = c.data_ptr<double>();
    for (int64_t i = 0; i < n; ++i)
      if (!std::isfinite(p[i])) return i;
  }
  return -1;
}

// JSON numbers cannot be NaN: store null.
nlohmann::json num(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
double num(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

}  // namespace

nlohmann::json EpochRecord::to_json() const {
  return {{"epoch", epoch},
          {"step", step},
          {"train_loss", num(train_loss)},
          {"train_accuracy", num(train_accuracy)},
          {"val_loss", num(val_loss)},
          {"val_accuracy", num(val_accuracy)},
          {"lr", num(lr)},
          {"seconds", num(seconds)},
          {"cpu_seconds", num(cpu_seconds)},
          {"images_per_second", num(images_per_second)}};
}

EpochRecord EpochRecord::from_json(const nlohmann::json& j) {
  EpochRecord r;
  r.epoch = j.at("epoch").get<int64_t>();
  r.step = j.at("step").get<int64_t>();
  r.train_loss = num(j, "train_loss");
  r.train_accuracy = num(j, "train_accuracy");
  r.val_loss = num(j, "val_loss");
  r.val_accuracy = num(j, "val_accuracy");
  r.lr = num(j, "lr");
  r.seconds = num(j, "seconds");
  r.cpu_seconds = num(j, "cpu_seconds");
  r.images_per_second = num(j, "images_per_second");
  return r;
}

Trainer::Trainer(nn::AnyModule model, optim::Optimizer& optimizer, optim::LRScheduler* schedule,
                 TrainerOptions options)
    : model_(std::move(model)), optimizer_(optimizer), schedule_(schedule), options_(options) {
  HEED_CHECK(!model_.is_empty() && model_.callable(),
             "Trainer: the model must be a module with forward(Tensor) -> Tensor");
  HEED_CHECK(options_.label_smoothing >= 0 && options_.label_smoothing < 1,
             "Trainer: label_smoothing must be in [0, 1), got ", options_.label_smoothing);
  HEED_CHECK(options_.clip_grad_norm >= 0, "Trainer: clip_grad_norm must be >= 0, got ",
             options_.clip_grad_norm);
  HEED_CHECK(options_.ema_decay >= 0 && options_.ema_decay < 1,
             "Trainer: ema_decay must be in [0, 1), got ", options_.ema_decay);
  params_ = model_->named_parameters();
  if (options_.ema_decay > 0) {
    NoGradGuard no_grad;
    for (const auto& [name, p] : params_) ema_.emplace_back(name, p.detach().clone());
    for (const auto& [name, b] : model_->named_buffers())
      if (b.is_floating_point()) ema_.emplace_back(name, b.detach().clone());
  }
}

void Trainer::add_callback(std::shared_ptr<Callback> callback) {
  HEED_CHECK(callback != nullptr, "Trainer: add_callback got a null callback");
  callbacks_.push_back(std::move(callback));
}

void Trainer::check_finite_grads(double loss) {
  const bool loss_ok = std::isfinite(loss);
  std::string bad;
  for (const auto& [name, p] : params_) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    int64_t i = first_non_finite(g);
    if (i >= 0) {
      bad = "'" + name + "' " + shape_str(g.shape()) + " at flat index " + std::to_string(i);
      break;
    }
  }
  if (loss_ok && bad.empty()) return;
  std::string where = "epoch " + std::to_string(epoch_ + 1) + ", step " + std::to_string(step_ + 1);
  if (!loss_ok)
    throw NonFiniteError("training stopped at " + where + ": the loss is " + std::to_string(loss) +
                         (bad.empty() ? "" : "; first non-finite gradient: " + bad) +
                         " (try a lower --lr or --clip-grad)");
  throw NonFiniteError("training stopped at " + where + ": the gradient of " + bad +
                       " is not finite (loss " + std::to_string(loss) +
                       "; try a lower --lr or --clip-grad)");
}

void Trainer::update_ema() {
  if (ema_.empty()) return;
  NoGradGuard no_grad;
  // timm-style warm-up: small decay early so the average is not dominated by init.
  const double d = std::min(options_.ema_decay, (1.0 + double(step_)) / (10.0 + double(step_)));
  std::map<std::string, Tensor> live;
  for (const auto& [n, p] : params_) live[n] = p;
  for (const auto& [n, b] : model_->named_buffers()) live[n] = b;
  for (auto& [name, e] : ema_) {
    e.mul_(d);
    e.add_(live.at(name).detach(), 1.0 - d);
  }
}

void Trainer::swap_ema() {
  if (ema_.empty()) return;
  NoGradGuard no_grad;
  std::map<std::string, Tensor> live;
  for (const auto& [n, p] : params_) live[n] = p;
  for (const auto& [n, b] : model_->named_buffers()) live[n] = b;
  for (auto& [name, e] : ema_) {
    Tensor& m = live.at(name);
    Tensor tmp = m.detach().clone();
    m.copy_(e);
    e.copy_(tmp);
  }
}

void Trainer::train_epoch(data::DataLoader& loader, EpochRecord& rec) {
  model_->train();
  loader.set_epoch(epoch_);
  const int64_t n =
      options_.max_batches > 0 ? std::min(options_.max_batches, loader.size()) : loader.size();
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = cpu_now();
  double loss_sum = 0;
  int64_t correct = 0, seen = 0, b = 0;
  for (auto& batch : loader) {
    if (b >= n) break;
    const int64_t bs = batch.y.size(0);
    Tensor logits = model_(batch.x);  // (B, K)
    Tensor loss = cross_entropy(logits, batch.y, Reduction::Mean, -100, options_.label_smoothing);
    optimizer_.zero_grad();
    loss.backward();
    const double l = loss.item();
    if (options_.check_finite) check_finite_grads(l);
    if (options_.clip_grad_norm > 0) optim::clip_grad_norm_(params_, options_.clip_grad_norm);
    optimizer_.step();
    if (schedule_) schedule_->step();
    ++step_;
    update_ema();
    {
      NoGradGuard no_grad;
      correct += int64_t(sum(eq(argmax(logits.detach(), 1), batch.y)).item());
    }
    loss_sum += l * double(bs);
    seen += bs;
    ++b;
    BatchInfo info;
    info.epoch = epoch_ + 1;
    info.batch = b;
    info.batches = n;
    info.step = step_;
    info.loss = l;
    info.running_loss = loss_sum / double(seen);
    info.running_accuracy = double(correct) / double(seen);
    info.lr = optimizer_.param_groups().front().options.lr;
    info.seconds = seconds_since(t0);
    info.images = seen;
    for (auto& cb : callbacks_) cb->on_batch_end(*this, info);
    if (stop_requested_) break;
  }
  rec.seconds = seconds_since(t0);
  rec.cpu_seconds = cpu_now() - cpu0;
  rec.train_loss = seen ? loss_sum / double(seen) : kNaN;
  rec.train_accuracy = seen ? double(correct) / double(seen) : kNaN;
  rec.images_per_second = rec.seconds > 0 ? double(seen) / rec.seconds : 0;
  rec.lr = optimizer_.param_groups().front().options.lr;
  rec.step = step_;
  rec.val_loss = rec.val_accuracy = kNaN;
  if (b < n) stop_requested_ = true;  // cut short: the epoch does not count
}

const std::vector<EpochRecord>& Trainer::fit(data::DataLoader& train_loader,
                                             data::DataLoader* val_loader, int64_t epochs) {
  HEED_CHECK(epochs >= 0, "Trainer: epochs must be >= 0, got ", epochs);
  total_epochs_ = epochs;
  stop_requested_ = false;
  for (auto& cb : callbacks_) cb->on_train_begin(*this);
  while (epoch_ < epochs && !stop_requested_) {
    for (auto& cb : callbacks_) cb->on_epoch_begin(*this, epoch_ + 1);
    EpochRecord rec;
    rec.epoch = epoch_ + 1;
    train_epoch(train_loader, rec);
    if (stop_requested_) break;
    ++epoch_;
    if (val_loader) {
      last_eval_ = evaluate(*val_loader);
      rec.val_loss = last_eval_.loss;
      rec.val_accuracy = last_eval_.accuracy;
      if (rec.val_accuracy > best_accuracy_ || best_epoch_ == 0) {
        best_accuracy_ = rec.val_accuracy;
        best_epoch_ = rec.epoch;
      }
    }
    history_.push_back(rec);
    for (auto& cb : callbacks_) cb->on_epoch_end(*this, rec);
  }
  for (auto& cb : callbacks_) cb->on_train_end(*this);
  return history_;
}

EvalResult evaluate(nn::AnyModule& model, data::DataLoader& loader) {
  const bool was_training = model->is_training();
  model->eval();
  EvalResult r;
  const auto t0 = std::chrono::steady_clock::now();
  double loss_sum = 0;
  try {
    NoGradGuard no_grad;
    for (auto& batch : loader) {
      Tensor logits = model(batch.x);  // (B, K)
      if (r.confusion.num_classes() == 0) r.confusion = ConfusionMatrix(logits.size(1));
      loss_sum += cross_entropy(logits, batch.y).item() * double(batch.y.size(0));
      r.confusion.add(logits, batch.y);
    }
  } catch (...) {
    model->train(was_training);
    throw;
  }
  model->train(was_training);
  r.samples = r.confusion.total();
  r.loss = r.samples ? loss_sum / double(r.samples) : kNaN;
  r.accuracy = r.confusion.accuracy();
  r.seconds = seconds_since(t0);
  return r;
}

EvalResult Trainer::evaluate(data::DataLoader& loader) {
  swap_ema();
  try {
    EvalResult r = train::evaluate(model_, loader);
    swap_ema();
    return r;
  } catch (...) {
    swap_ema();
    throw;
  }
}

void Trainer::save_checkpoint(const std::string& path, const nn::Metadata& extra) const {
  nn::StateDict sd = model_->state_dict();
  optim::OptimizerState os = optimizer_.state_dict();
  for (const auto& [k, t] : os.tensors) sd.insert(kOptimPrefix + k, t);
  for (const auto& [k, t] : ema_) sd.insert(kEmaPrefix + k, t);
  const Generator& g = default_generator();
  nlohmann::json hist = nlohmann::json::array();
  for (const auto& r : history_) hist.push_back(r.to_json());
  nlohmann::json meta = {{"version", 1},
                         {"epoch", epoch_},
                         {"step", step_},
                         {"total_epochs", total_epochs_},
                         {"optimizer", os.meta},
                         {"schedule", schedule_ ? schedule_->state_dict() : nlohmann::json()},
                         {"rng", {{"seed", g.seed()}, {"counter", g.counter()}}},
                         {"best_accuracy", best_accuracy_},
                         {"best_epoch", best_epoch_},
                         {"ema", !ema_.empty()},
                         {"history", hist}};
  nn::Metadata md = extra;
  md[kMetaKey] = meta.dump();
  nn::save(sd, path, md);
}

nn::Metadata Trainer::load_checkpoint(const std::string& path) {
  nn::Metadata md;
  nn::StateDict sd = nn::load(path, &md);
  auto it = md.find(kMetaKey);
  HEED_CHECK(it != md.end(), "checkpoint: '", path, "' is not a heed training checkpoint (no \"",
             kMetaKey, "\" metadata); to load weights only use nn::load + load_state_dict");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(it->second);
  } catch (const std::exception& e) {
    HEED_FAIL("checkpoint: '", path, "': bad ", kMetaKey, " metadata: ", e.what());
  }
  nn::StateDict model_sd, ema_sd;
  optim::OptimizerState os;
  for (const auto& [k, t] : sd) {
    if (starts_with(k, kOptimPrefix))
      os.tensors[k.substr(std::string(kOptimPrefix).size())] = t;
    else if (starts_with(k, kEmaPrefix))
      ema_sd.insert(k.substr(std::string(kEmaPrefix).size()), t);
    else
      model_sd.insert(k, t);
  }
  try {
    HEED_CHECK(meta.value("ema", false) == !ema_.empty(), "checkpoint: '", path, "' ",
               meta.value("ema", false) ? "has" : "has no", " EMA weights but the trainer ",
               ema_.empty() ? "keeps none" : "keeps them");
    model_->load_state_dict(model_sd, /*strict=*/true);
    os.meta = meta.at("optimizer");
    optimizer_.load_state_dict(os);
    if (schedule_) {
      HEED_CHECK(!meta.at("schedule").is_null(), "checkpoint: '", path,
                 "' has no schedule state but the trainer has a schedule");
      schedule_->load_state_dict(meta.at("schedule"));
    }
    {
      NoGradGuard no_grad;
      for (auto& [name, e] : ema_) e.copy_(ema_sd.at(name));
    }
    default_generator().set_state(meta.at("rng").at("seed").get<uint64_t>(),
                                  meta.at("rng").at("counter").get<uint64_t>());
    epoch_ = meta.at("epoch").get<int64_t>();
    step_ = meta.at("step").get<int64_t>();
    best_accuracy_ = meta.at("best_accuracy").get<double>();
    best_epoch_ = meta.at("best_epoch").get<int64_t>();
    history_.clear();
    for (const auto& r : meta.at("history")) history_.push_back(EpochRecord::from_json(r));
  } catch (const Error& e) {
    throw Error(std::string("checkpoint: cannot restore '") + path + "': " + e.what());
  } catch (const nlohmann::json::exception& e) {
    HEED_FAIL("checkpoint: '", path, "': incomplete ", kMetaKey, " metadata: ", e.what());
  }
  return md;
}

std::vector<EpochRecord> fit(nn::AnyModule model, data::DataLoader& train_loader,
                             data::DataLoader* val_loader, optim::Optimizer& optimizer,
                             optim::LRScheduler* schedule, int64_t epochs, TrainerOptions options,
                             std::vector<std::shared_ptr<Callback>> callbacks) {
  Trainer t(std::move(model), optimizer, schedule, options);
  for (auto& cb : callbacks) t.add_callback(std::move(cb));
  return t.fit(train_loader, val_loader, epochs);
}

}  // namespace heed::train
