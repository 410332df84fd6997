// Learning-rate schedules in closed form; formulas and checks follow
// torch.optim.lr_scheduler (1.13).
#include "optim/lr_scheduler.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace heed::optim {

using nlohmann::json;

// ------------------------------------------------------------------ base

LRScheduler::LRScheduler(Optimizer& optimizer) : opt_(&optimizer) {
  for (const auto& g : optimizer.param_groups()) base_lrs_.push_back(g.options.lr);
}

void LRScheduler::apply(int64_t step) {
  std::vector<double> lrs = lr_at(step);
  std::vector<double> momenta = momentum_at(step);
  auto& groups = opt_->param_groups();
  HEED_CHECK(lrs.size() == groups.size(), name(), ": the optimizer has ", groups.size(),
             " param groups but the schedule was made for ", lrs.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    groups[g].options.lr = lrs[g];
    if (momenta.empty()) continue;
    if (opt_->uses_betas()) {
      groups[g].options.betas.first = momenta[g];
    } else {
      groups[g].options.momentum = momenta[g];
    }
  }
  last_lr_ = std::move(lrs);
}

void LRScheduler::step() {
  apply(last_epoch_ + 1);  // throws before counting when the schedule is over
  ++last_epoch_;
}

json LRScheduler::state_dict() const {
  json j = {{"scheduler", std::string(name())},
            {"last_epoch", last_epoch_},
            {"base_lrs", base_lrs_},
            {"last_lr", last_lr_}};
  options_to_json(j);
  return j;
}

void LRScheduler::load_state_dict(const json& j) {
  const std::string op = std::string(name()) + ".load_state_dict";
  try {
    HEED_CHECK(j.is_object() && j.contains("scheduler"), op,
               ": expected an object with \"scheduler\", got ", j.dump());
    const std::string saved = j.at("scheduler").get<std::string>();
    HEED_CHECK(saved == name(), op, ": the state was saved by ", saved, ", not ", name());
    auto base = j.at("base_lrs").get<std::vector<double>>();
    auto last_lr = j.at("last_lr").get<std::vector<double>>();
    const auto last_epoch = j.at("last_epoch").get<int64_t>();
    const size_t groups = opt_->param_groups().size();
    HEED_CHECK(base.size() == groups && last_lr.size() == groups, op, ": the state is for ",
               base.size(), " param groups, the optimizer has ", groups);
    HEED_CHECK(last_epoch >= 0, op, ": last_epoch must be >= 0, got ", last_epoch);
    options_from_json(j);  // checks everything before changing anything
    base_lrs_ = std::move(base);
    last_lr_ = std::move(last_lr);
    last_epoch_ = last_epoch;
  } catch (const json::exception& e) {
    HEED_FAIL(op, ": malformed state: ", e.what());
  }
}

// ---------------------------------------------------------------- StepLR

namespace {
void check_step_size(const char* who, int64_t step_size) {
  HEED_CHECK(step_size > 0, who, ": step_size must be > 0, got ", step_size);
}
void check_finite(const char* who, const char* what, double v) {
  HEED_CHECK(std::isfinite(v), who, ": ", what, " must be finite, got ", v);
}
}  // namespace

StepLR::StepLR(Optimizer& optimizer, int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  check_step_size("StepLR", step_size);
  check_finite("StepLR", "gamma", gamma);
  initial_step();
}

std::vector<double> StepLR::lr_at(int64_t step) const {
  std::vector<double> out;
  for (double b : base_lrs()) out.push_back(b * std::pow(gamma_, double(step / step_size_)));
  return out;
}

void StepLR::options_to_json(json& j) const {
  j["step_size"] = step_size_;
  j["gamma"] = gamma_;
}

void StepLR::options_from_json(const json& j) {
  const auto step_size = j.at("step_size").get<int64_t>();
  const auto gamma = j.at("gamma").get<double>();
  check_step_size("StepLR", step_size);
  check_finite("StepLR", "gamma", gamma);
  step_size_ = step_size;
  gamma_ = gamma;
}

// ----------------------------------------------------------- MultiStepLR

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  check_finite("MultiStepLR", "gamma", gamma);
  std::sort(milestones_.begin(), milestones_.end());
  initial_step();
}

std::vector<double> MultiStepLR::lr_at(int64_t step) const {
  // bisect_right: milestones <= step have been passed.
  const auto passed =
      std::upper_bound(milestones_.begin(), milestones_.end(), step) - milestones_.begin();
  std::vector<double> out;
  for (double b : base_lrs()) out.push_back(b * std::pow(gamma_, double(passed)));
  return out;
}

void MultiStepLR::options_to_json(json& j) const {
  j["milestones"] = milestones_;
  j["gamma"] = gamma_;
}

void MultiStepLR::options_from_json(const json& j) {
  auto milestones = j.at("milestones").get<std::vector<int64_t>>();
  const auto gamma = j.at("gamma").get<double>();
  check_finite("MultiStepLR", "gamma", gamma);
  std::sort(milestones.begin(), milestones.end());
  milestones_ = std::move(milestones);
  gamma_ = gamma;
}

// ----------------------------------------------------- CosineAnnealingLR

namespace {
void check_cosine(int64_t T_max, double eta_min) {
  HEED_CHECK(T_max > 0, "CosineAnnealingLR: T_max must be > 0, got ", T_max);
  check_finite("CosineAnnealingLR", "eta_min", eta_min);
}
}  // namespace

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, int64_t T_max, double eta_min)
    : LRScheduler(optimizer), T_max_(T_max), eta_min_(eta_min) {
  check_cosine(T_max, eta_min);
  initial_step();
}

std::vector<double> CosineAnnealingLR::lr_at(int64_t step) const {
  const double c = (1 + std::cos(std::numbers::pi * double(step) / double(T_max_))) / 2;
  std::vector<double> out;
  for (double b : base_lrs()) out.push_back(eta_min_ + (b - eta_min_) * c);
  return out;
}

void CosineAnnealingLR::options_to_json(json& j) const {
  j["T_max"] = T_max_;
  j["eta_min"] = eta_min_;
}

void CosineAnnealingLR::options_from_json(const json& j) {
  const auto T_max = j.at("T_max").get<int64_t>();
  const auto eta_min = j.at("eta_min").get<double>();
  check_cosine(T_max, eta_min);
  T_max_ = T_max;
  eta_min_ = eta_min;
}

// ---------------------------------------------------------- LinearWarmup

namespace {
void check_warmup(int64_t warmup_steps, double start_factor) {
  HEED_CHECK(warmup_steps >= 0, "LinearWarmup: warmup_steps must be >= 0, got ", warmup_steps);
  HEED_CHECK(start_factor >= 0 && start_factor <= 1,
             "LinearWarmup: start_factor must be in [0, 1], got ", start_factor);
}
Optimizer& optimizer_of(const std::unique_ptr<LRScheduler>& after) {
  HEED_CHECK(after != nullptr, "LinearWarmup: the schedule to hand over to is null");
  return after->optimizer();
}
}  // namespace

LinearWarmup::LinearWarmup(std::unique_ptr<LRScheduler> after, int64_t warmup_steps,
                           double start_factor)
    : LRScheduler(optimizer_of(after)),
      after_(std::move(after)),
      warmup_steps_(warmup_steps),
      start_factor_(start_factor) {
  check_warmup(warmup_steps, start_factor);
  initial_step();
}

LinearWarmup::LinearWarmup(Optimizer& optimizer, int64_t warmup_steps, double start_factor)
    : LRScheduler(optimizer), warmup_steps_(warmup_steps), start_factor_(start_factor) {
  check_warmup(warmup_steps, start_factor);
  initial_step();
}

std::vector<double> LinearWarmup::lr_at(int64_t step) const {
  if (step >= warmup_steps_) return after_ ? after_->lr_at(step - warmup_steps_) : base_lrs();
  const double f = start_factor_ + (1 - start_factor_) * double(step) / double(warmup_steps_);
  std::vector<double> out = after_ ? after_->lr_at(0) : base_lrs();
  for (double& lr : out) lr *= f;
  return out;
}

std::vector<double> LinearWarmup::momentum_at(int64_t step) const {
  if (!after_) return {};
  return after_->momentum_at(std::max<int64_t>(0, step - warmup_steps_));
}

void LinearWarmup::options_to_json(json& j) const {
  j["warmup_steps"] = warmup_steps_;
  j["start_factor"] = start_factor_;
  j["after"] = after_ ? after_->state_dict() : json(nullptr);
}

void LinearWarmup::options_from_json(const json& j) {
  const auto warmup_steps = j.at("warmup_steps").get<int64_t>();
  const auto start_factor = j.at("start_factor").get<double>();
  check_warmup(warmup_steps, start_factor);
  const json& after = j.at("after");
  HEED_CHECK(after.is_null() == (after_ == nullptr), "LinearWarmup.load_state_dict: the state ",
             after.is_null() ? "has no" : "has a", " schedule after the warm-up, this one ",
             after_ ? "has one" : "has none");
  if (after_) after_->load_state_dict(after);
  warmup_steps_ = warmup_steps;
  start_factor_ = start_factor;
}

// ------------------------------------------------------------ OneCycleLR

std::pair<int64_t, std::vector<OneCycleLR::Phase>> OneCycleLR::plan(const OneCycleOptions& o) {
  int64_t total = o.total_steps;
  if (total == 0) {
    HEED_CHECK(o.epochs != 0 || o.steps_per_epoch != 0,
               "OneCycleLR: give total_steps, or epochs and steps_per_epoch");
    HEED_CHECK(o.epochs > 0, "OneCycleLR: epochs must be > 0, got ", o.epochs);
    HEED_CHECK(o.steps_per_epoch > 0, "OneCycleLR: steps_per_epoch must be > 0, got ",
               o.steps_per_epoch);
    total = o.epochs * o.steps_per_epoch;
  }
  HEED_CHECK(total > 0, "OneCycleLR: total_steps must be > 0, got ", total);
  HEED_CHECK(o.pct_start >= 0 && o.pct_start <= 1, "OneCycleLR: pct_start must be in [0, 1], got ",
             o.pct_start);
  HEED_CHECK(std::isfinite(o.div_factor) && o.div_factor > 0,
             "OneCycleLR: div_factor must be > 0, got ", o.div_factor);
  HEED_CHECK(std::isfinite(o.final_div_factor) && o.final_div_factor > 0,
             "OneCycleLR: final_div_factor must be > 0, got ", o.final_div_factor);
  check_finite("OneCycleLR", "base_momentum", o.base_momentum);
  check_finite("OneCycleLR", "max_momentum", o.max_momentum);
  const double T = double(total), up = o.pct_start * T - 1;
  std::vector<Phase> phases;
  if (o.three_phase) {
    phases = {{up, kInitial, kMax, kMaxMomentum, kBaseMomentum},
              {2 * o.pct_start * T - 2, kMax, kInitial, kBaseMomentum, kMaxMomentum},
              {T - 1, kInitial, kMin, kMaxMomentum, kMaxMomentum}};
  } else {
    phases = {{up, kInitial, kMax, kMaxMomentum, kBaseMomentum},
              {T - 1, kMax, kMin, kBaseMomentum, kMaxMomentum}};
  }
  return {total, phases};
}

void OneCycleLR::check_max_lrs(const std::vector<double>& max_lrs) const {
  const size_t groups = base_lrs().size();
  HEED_CHECK(max_lrs.size() == groups, "OneCycleLR: expected ", groups,
             " values for max_lr (one per param group), got ", max_lrs.size());
  for (double m : max_lrs)
    HEED_CHECK(std::isfinite(m) && m >= 0, "OneCycleLR: max_lr must be >= 0, got ", m);
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, double max_lr, const OneCycleOptions& options)
    : OneCycleLR(optimizer, std::vector<double>(optimizer.param_groups().size(), max_lr), options) {
}

OneCycleLR::OneCycleLR(Optimizer& optimizer, std::vector<double> max_lrs,
                       const OneCycleOptions& options)
    : LRScheduler(optimizer), max_lrs_(std::move(max_lrs)), options_(options) {
  check_max_lrs(max_lrs_);
  std::tie(total_steps_, phases_) = plan(options_);
  initial_step();
}

double OneCycleLR::level(Level l, size_t g) const {
  const double initial = max_lrs_[g] / options_.div_factor;
  switch (l) {
    case kInitial:
      return initial;
    case kMax:
      return max_lrs_[g];
    case kMin:
      return initial / options_.final_div_factor;
    case kBaseMomentum:
      return options_.base_momentum;
    case kMaxMomentum:
      return options_.max_momentum;
  }
  return 0;
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (options_.anneal_strategy == Anneal::Linear) return (end - start) * pct + start;
  return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
}

std::pair<const OneCycleLR::Phase*, double> OneCycleLR::locate(int64_t step) const {
  HEED_CHECK(step <= total_steps_, "OneCycleLR: step ", step, " is past total_steps ", total_steps_,
             " (step() once per batch; total_steps = epochs * steps_per_epoch)");
  double start = 0;
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& p = phases_[i];
    if (double(step) <= p.end_step || i + 1 == phases_.size()) {
      // A phase of length 0 (pct_start * total_steps == 1) is complete at once;
      // PyTorch divides by zero there.
      const double pct = p.end_step > start ? (double(step) - start) / (p.end_step - start) : 1.0;
      return {&p, pct};
    }
    start = p.end_step;
  }
  return {&phases_.back(), 1.0};  // unreachable: the last phase always matches
}

std::vector<double> OneCycleLR::lr_at(int64_t step) const {
  auto [phase, pct] = locate(step);
  std::vector<double> out;
  for (size_t g = 0; g < max_lrs_.size(); ++g)
    out.push_back(anneal(level(phase->start_lr, g), level(phase->end_lr, g), pct));
  return out;
}

std::vector<double> OneCycleLR::momentum_at(int64_t step) const {
  if (!options_.cycle_momentum) return {};
  auto [phase, pct] = locate(step);
  std::vector<double> out;
  for (size_t g = 0; g < max_lrs_.size(); ++g)
    out.push_back(anneal(level(phase->start_momentum, g), level(phase->end_momentum, g), pct));
  return out;
}

void OneCycleLR::options_to_json(json& j) const {
  j["max_lr"] = max_lrs_;
  j["total_steps"] = total_steps_;
  j["pct_start"] = options_.pct_start;
  j["anneal_strategy"] = options_.anneal_strategy == Anneal::Cos ? "cos" : "linear";
  j["cycle_momentum"] = options_.cycle_momentum;
  j["base_momentum"] = options_.base_momentum;
  j["max_momentum"] = options_.max_momentum;
  j["div_factor"] = options_.div_factor;
  j["final_div_factor"] = options_.final_div_factor;
  j["three_phase"] = options_.three_phase;
}

void OneCycleLR::options_from_json(const json& j) {
  OneCycleOptions o;
  auto max_lrs = j.at("max_lr").get<std::vector<double>>();
  o.total_steps = j.at("total_steps").get<int64_t>();
  o.pct_start = j.at("pct_start").get<double>();
  const auto anneal = j.at("anneal_strategy").get<std::string>();
  HEED_CHECK(anneal == "cos" || anneal == "linear",
             "OneCycleLR: anneal_strategy must be \"cos\" or \"linear\", got \"", anneal, "\"");
  o.anneal_strategy = anneal == "cos" ? Anneal::Cos : Anneal::Linear;
  o.cycle_momentum = j.at("cycle_momentum").get<bool>();
  o.base_momentum = j.at("base_momentum").get<double>();
  o.max_momentum = j.at("max_momentum").get<double>();
  o.div_factor = j.at("div_factor").get<double>();
  o.final_div_factor = j.at("final_div_factor").get<double>();
  o.three_phase = j.at("three_phase").get<bool>();
  check_max_lrs(max_lrs);
  auto [total, phases] = plan(o);
  max_lrs_ = std::move(max_lrs);
  options_ = o;
  total_steps_ = total;
  phases_ = std::move(phases);
}

}  // namespace heed::optim
