#include "train/callbacks.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <vector>

#include "train/plot.h"

namespace heed::train {

namespace fs = std::filesystem;

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  int64_t t = int64_t(s + 0.5);
  char b[32];
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%lld:%02lld:%02lld", static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60), static_cast<long long>(t % 60));
  else
    std::snprintf(b, sizeof b, "%02lld:%02lld", static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  return b;
}

namespace {

double wall_now() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100 * v);
  return std::isfinite(v) ? b : "-";
}

void ensure_parent(const std::string& path) {
  fs::path p = fs::path(path).parent_path();
  if (!p.empty()) {
    std::error_code ec;
    fs::create_directories(p, ec);
    HEED_CHECK(!ec, "cannot create folder '", p.string(), "': ", ec.message());
  }
}

}  // namespace

// ---------------------------------------------------------------- progress

ProgressBar::ProgressBar(std::FILE* stream, Mode mode, int64_t every)
    : stream_(stream), mode_(mode), every_(every) {
  if (mode_ == Mode::Auto) mode_ = isatty(fileno(stream_)) ? Mode::Bar : Mode::Lines;
}

void ProgressBar::on_epoch_begin(Trainer&, int64_t) {
  last_draw_ = -1;
}

void ProgressBar::on_batch_end(Trainer& t, const BatchInfo& i) {
  if (mode_ == Mode::Quiet) return;
  const double rate = i.seconds > 0 ? double(i.batch) / i.seconds : 0;
  const double eta = rate > 0 ? double(i.batches - i.batch) / rate : NAN;
  const double ips = i.seconds > 0 ? double(i.images) / i.seconds : 0;
  if (mode_ == Mode::Bar) {
    const double now = wall_now();
    if (i.batch != i.batches && last_draw_ >= 0 && now - last_draw_ < 0.1) return;
    last_draw_ = now;
    const int width = 24;
    int filled = int(double(width) * double(i.batch) / double(std::max<int64_t>(i.batches, 1)));
    std::string bar(size_t(filled), '#');
    bar += std::string(size_t(width - filled), '.');
    std::fprintf(stream_,
                 "\r\033[Kepoch %lld/%lld |%s| %lld/%lld [%s<%s, %.2f it/s, %.0f img/s] "
                 "loss %.4f acc %s",
                 static_cast<long long>(i.epoch), static_cast<long long>(t.total_epochs()),
                 bar.c_str(), static_cast<long long>(i.batch), static_cast<long long>(i.batches),
                 format_duration(i.seconds).c_str(), format_duration(eta).c_str(), rate, ips,
                 i.running_loss, pct(i.running_accuracy).c_str());
    std::fflush(stream_);
    return;
  }
  const int64_t every = every_ > 0 ? every_ : std::max<int64_t>(1, (i.batches + 9) / 10);
  if (i.batch % every != 0 && i.batch != i.batches) return;
  std::fprintf(stream_,
               "epoch %lld/%lld batch %lld/%lld  loss %.4f  acc %s  lr %.4g  %.1f img/s  "
               "elapsed %s  eta %s\n",
               static_cast<long long>(i.epoch), static_cast<long long>(t.total_epochs()),
               static_cast<long long>(i.batch), static_cast<long long>(i.batches), i.running_loss,
               pct(i.running_accuracy).c_str(), i.lr, ips, format_duration(i.seconds).c_str(),
               format_duration(eta).c_str());
  std::fflush(stream_);
}

void ProgressBar::on_epoch_end(Trainer& t, const EpochRecord& r) {
  if (mode_ == Mode::Quiet) return;
  if (mode_ == Mode::Bar) std::fprintf(stream_, "\n");
  std::fprintf(stream_,
               "epoch %lld/%lld done in %s (%.1f img/s): train loss %.4f acc %s | val loss %.4f "
               "acc %s%s\n",
               static_cast<long long>(r.epoch), static_cast<long long>(t.total_epochs()),
               format_duration(r.seconds).c_str(), r.images_per_second, r.train_loss,
               pct(r.train_accuracy).c_str(), r.val_loss, pct(r.val_accuracy).c_str(),
               t.best_epoch() == r.epoch && std::isfinite(r.val_accuracy) ? " (best)" : "");
  std::fflush(stream_);
}

// --------------------------------------------------------------------- CSV

static const char* kCsvHeader =
    "epoch,step,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,cpu_seconds,"
    "images_per_second";

void CSVLogger::on_train_begin(Trainer& t) {
  ensure_parent(path_);
  // Keep the rows of epochs already done (resume), drop later ones.
  std::vector<std::string> keep;
  std::ifstream in(path_);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (first) {
      first = false;
      continue;
    }
    if (std::atoll(line.c_str()) <= t.epoch() && !line.empty()) keep.push_back(line);
  }
  in.close();
  std::ofstream out(path_, std::ios::trunc);
  HEED_CHECK(out.good(), "CSVLogger: cannot write '", path_, "'");
  out << kCsvHeader << "\n";
  for (const auto& l : keep) out << l << "\n";
}

void CSVLogger::on_epoch_end(Trainer&, const EpochRecord& r) {
  std::ofstream out(path_, std::ios::app);
  HEED_CHECK(out.good(), "CSVLogger: cannot write '", path_, "'");
  char b[512];
  std::snprintf(b, sizeof b, "%lld,%lld,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f,%.3f,%.2f",
                static_cast<long long>(r.epoch), static_cast<long long>(r.step), r.train_loss,
                r.train_accuracy, r.val_loss, r.val_accuracy, r.lr, r.seconds, r.cpu_seconds,
                r.images_per_second);
  out << b << "\n";
}

// ------------------------------------------------------------------- JSONL

void JSONLLogger::on_train_begin(Trainer&) {
  ensure_parent(path_);
  out_.open(path_, std::ios::app);
  HEED_CHECK(out_.good(), "JSONLLogger: cannot write '", path_, "'");
}

void JSONLLogger::on_batch_end(Trainer&, const BatchInfo& i) {
  if (every_ <= 0 || i.batch % every_ != 0) return;
  nlohmann::json j = {{"type", "batch"},
                      {"epoch", i.epoch},
                      {"batch", i.batch},
                      {"step", i.step},
                      {"loss", i.loss},
                      {"running_loss", i.running_loss},
                      {"running_accuracy", i.running_accuracy},
                      {"lr", i.lr}};
  out_ << j.dump() << "\n";
  out_.flush();
}

void JSONLLogger::on_epoch_end(Trainer& t, const EpochRecord& r) {
  nlohmann::json j = r.to_json();
  j["type"] = "epoch";
  if (t.last_eval().samples > 0) {
    nlohmann::json pc = nlohmann::json::array();
    for (double a : t.last_eval().confusion.per_class_accuracy())
      pc.push_back(std::isfinite(a) ? nlohmann::json(a) : nlohmann::json(nullptr));
    j["val_per_class_accuracy"] = pc;
  }
  out_ << j.dump() << "\n";
  out_.flush();
}

// ------------------------------------------------------------- TensorBoard

void TensorBoardLogger::on_train_begin(Trainer&) {
  if (!writer_) writer_ = std::make_unique<TensorBoardWriter>(dir_);
}

void TensorBoardLogger::on_batch_end(Trainer&, const BatchInfo& i) {
  if (every_ <= 0 || i.step % every_ != 0) return;
  writer_->add_scalar("train/loss", i.loss, i.step);
  writer_->add_scalar("train/lr", i.lr, i.step);
}

void TensorBoardLogger::on_epoch_end(Trainer&, const EpochRecord& r) {
  writer_->add_scalar("epoch/train_loss", r.train_loss, r.epoch);
  writer_->add_scalar("epoch/train_accuracy", r.train_accuracy, r.epoch);
  if (std::isfinite(r.val_accuracy)) {
    writer_->add_scalar("epoch/val_loss", r.val_loss, r.epoch);
    writer_->add_scalar("epoch/val_accuracy", r.val_accuracy, r.epoch);
  }
  writer_->add_scalar("epoch/images_per_second", r.images_per_second, r.epoch);
  writer_->flush();
}

void TensorBoardLogger::on_train_end(Trainer&) {
  if (writer_) writer_->flush();
}

// -------------------------------------------------------------- checkpoint

std::string Checkpointer::last_path() const {
  return (fs::path(dir_) / "last.safetensors").string();
}
std::string Checkpointer::best_path() const {
  return (fs::path(dir_) / "best.safetensors").string();
}

void Checkpointer::on_epoch_end(Trainer& t, const EpochRecord& r) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  HEED_CHECK(!ec, "Checkpointer: cannot create folder '", dir_, "': ", ec.message());
  t.save_checkpoint(last_path(), metadata_);
  if (t.best_epoch() == r.epoch) t.save_checkpoint(best_path(), metadata_);
}

// ------------------------------------------------------------------ curves

void write_curves_svg(const std::string& path, const std::vector<EpochRecord>& h,
                      const std::string& title) {
  plot::Series tl{.name = "train"}, vl{.name = "validation"}, ta{.name = "train"},
      va{.name = "validation"};
  for (const auto& r : h) {
    tl.x.push_back(double(r.epoch));
    tl.y.push_back(r.train_loss);
    vl.x.push_back(double(r.epoch));
    vl.y.push_back(r.val_loss);
    ta.x.push_back(double(r.epoch));
    ta.y.push_back(100 * r.train_accuracy);
    va.x.push_back(double(r.epoch));
    va.y.push_back(100 * r.val_accuracy);
  }
  std::string prefix = title.empty() ? "" : title + ": ";
  plot::Chart loss{
      .title = prefix + "loss", .x_label = "epoch", .y_label = "cross-entropy", .series = {tl, vl}};
  plot::Chart acc{
      .title = prefix + "accuracy", .x_label = "epoch", .y_label = "top-1 (%)", .series = {ta, va}};
  ensure_parent(path);
  plot::write_svg(path, {loss, acc});
}

void CurvesPlot::on_epoch_end(Trainer& t, const EpochRecord&) {
  write_curves_svg(path_, t.history(), title_);
}

}  // namespace heed::train
