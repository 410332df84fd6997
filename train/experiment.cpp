#include "train/experiment.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "attention/placement.h"
#include "train/plot.h"

namespace heed::train {

namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Splits on `sep` outside parentheses.
std::vector<std::string> split_top(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == sep && depth == 0) {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(trim(cur));
  return out;
}

const std::set<std::string> kAttentionKeys = {"pos", "stages", "blocks"};

// A folder-safe form of a run name.
std::string folder_name(const std::string& name) {
  std::string f;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')
      f += c;
    else if (c == '=')
      f += '-';
    else if (c == ',')
      f += '_';
    else
      f += '~';
  }
  return f;
}

// Sets one RunConfig field from text, converting to the field's JSON type.
void set_field(RunConfig& cfg, const std::string& key, const std::string& value) {
  nlohmann::json j = cfg.to_json();
  HEED_CHECK(j.contains(key), "experiment: unknown grid key '", key,
             "'; use a train setting (attention, model, width, lr, epochs, batch_size, "
             "optimizer, schedule, label_smoothing, weight_decay, ...) or pos, stages, blocks");
  nlohmann::json& f = j[key];
  try {
    size_t used = 0;
    if (f.is_boolean()) {
      HEED_CHECK(value == "true" || value == "false", "experiment: ", key,
                 " must be true or false, got '", value, "'");
      f = value == "true";
    } else if (f.is_number_unsigned()) {
      f = std::stoull(value, &used);
    } else if (f.is_number_integer()) {
      f = std::stoll(value, &used);
    } else if (f.is_number_float()) {
      f = std::stod(value, &used);
    } else {
      f = value;
    }
    HEED_CHECK(!f.is_number() || used == value.size(), "experiment: ", key,
               " must be a number, got '", value, "'");
  } catch (const std::logic_error&) {  // stoll/stod failures
    HEED_FAIL("experiment: ", key, " must be a number, got '", value, "'");
  }
  cfg = RunConfig::from_json(j);
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? NAN : s / double(v.size());
}
double std_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = mean_of(v), s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));  // sample std
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

}  // namespace

std::vector<GridAxis> parse_grid(const std::string& grid) {
  std::vector<GridAxis> axes;
  std::set<std::string> seen;
  for (const std::string& part : split_top(grid, ';')) {
    if (part.empty()) continue;
    size_t eq = part.find('=');
    HEED_CHECK(eq != std::string::npos && eq > 0, "experiment: grid part '", part,
               "' is not key=value,value,...");
    GridAxis a{trim(part.substr(0, eq)), split_top(part.substr(eq + 1), ',')};
    HEED_CHECK(seen.insert(a.key).second, "experiment: grid key '", a.key, "' appears twice");
    for (const auto& v : a.values)
      HEED_CHECK(!v.empty(), "experiment: empty value for grid key '", a.key, "'");
    axes.push_back(a);
  }
  HEED_CHECK(!axes.empty(), "experiment: the grid is empty; e.g. --grid \"attention=none,se\"");
  return axes;
}

std::vector<ExperimentRun> expand_grid(const RunConfig& base, const std::vector<GridAxis>& axes,
                                       int64_t seeds, const std::string& out) {
  HEED_CHECK(seeds >= 1, "experiment: --seeds must be >= 1, got ", seeds);
  std::vector<ExperimentRun> runs;
  std::set<std::string> names;
  std::vector<size_t> idx(axes.size(), 0);
  while (true) {
    std::map<std::string, std::string> values;
    for (size_t a = 0; a < axes.size(); ++a) values[axes[a].key] = axes[a].values[idx[a]];
    RunConfig cfg = base;
    for (const auto& [k, v] : values)
      if (!kAttentionKeys.count(k)) set_field(cfg, k, v);
    // pos/stages/blocks decorate the attention spec, when there is one.
    const bool has_attention = attention::Placement::parse(cfg.attention).enabled();
    std::string point;
    for (size_t a = 0; a < axes.size(); ++a) {
      const std::string& k = axes[a].key;
      if (kAttentionKeys.count(k)) {
        if (!has_attention) continue;
        cfg.attention += ":" + k + "=" + values[k];
      }
      point += (point.empty() ? "" : ",") + k + "=" + values[k];
    }
    cfg.attention = attention::Placement::parse(cfg.attention).str();  // canonical; checks it
    if (names.insert(point).second) {
      for (int64_t s = 0; s < seeds; ++s) {
        ExperimentRun r;
        r.point = point;
        r.values = values;
        r.seed = base.seed + uint64_t(s);
        r.name = point + ",seed=" + std::to_string(r.seed);
        r.config = cfg;
        r.config.seed = r.seed;
        r.config.out = (fs::path(out) / "runs" / folder_name(r.name)).string();
        runs.push_back(r);
      }
    }
    size_t a = axes.size();
    while (a > 0) {
      --a;
      if (++idx[a] < axes[a].values.size()) break;
      idx[a] = 0;
      if (a == 0) return runs;
    }
    if (axes.empty()) return runs;
  }
}

ExperimentSummary run_experiment(const RunConfig& base, const std::string& grid, int64_t seeds,
                                 const std::string& out, std::FILE* log) {
  const std::vector<GridAxis> axes = parse_grid(grid);
  const std::vector<ExperimentRun> runs = expand_grid(base, axes, seeds, out);
  std::error_code ec;
  fs::create_directories(out, ec);
  HEED_CHECK(!ec, "experiment: cannot create '", out, "': ", ec.message());

  // --- run (or read back) each run
  std::vector<nlohmann::json> results;
  for (size_t i = 0; i < runs.size(); ++i) {
    const ExperimentRun& r = runs[i];
    const fs::path result = fs::path(r.config.out) / "result.json";
    if (log) std::fprintf(log, "\n[%zu/%zu] %s\n", i + 1, runs.size(), r.name.c_str());
    if (fs::exists(result)) {
      std::ifstream f(result);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(f);
      } catch (const std::exception& e) {
        HEED_FAIL("experiment: cannot read '", result.string(), "': ", e.what());
      }
      if (log)
        std::fprintf(log, "done before: test accuracy %.2f%% (%s)\n",
                     100 * j.value("test_accuracy", 0.0), result.string().c_str());
      results.push_back(j);
      continue;
    }
    const bool resume = fs::exists(fs::path(r.config.out) / "last.safetensors");
    RunResult rr = run_training(r.config, resume, log);
    results.push_back(rr.to_json());
  }

  // --- one row per grid point
  ExperimentSummary sum;
  std::map<std::string, size_t> row_of;
  std::vector<std::vector<std::vector<double>>> curves;  // per row, per seed
  for (size_t i = 0; i < runs.size(); ++i) {
    const nlohmann::json& j = results[i];
    auto it = row_of.find(runs[i].point);
    if (it == row_of.end()) {
      it = row_of.emplace(runs[i].point, sum.rows.size()).first;
      ExperimentRow row;
      row.point = runs[i].point;
      row.values = runs[i].values;
      row.params = j.value("params", int64_t(0));
      row.macs = j.value("macs", int64_t(0));
      sum.rows.push_back(row);
      curves.emplace_back();
    }
    ExperimentRow& row = sum.rows[it->second];
    row.accuracies.push_back(j.value("test_accuracy", 0.0));
    row.images_per_second += j.value("images_per_second", 0.0);
    row.cpu_seconds_per_epoch += j.value("cpu_seconds_per_epoch", 0.0);
    std::vector<double> c;
    for (const auto& h : j.value("history", nlohmann::json::array()))
      c.push_back(h.value("val_accuracy", NAN));
    curves[it->second].push_back(c);
  }
  for (size_t k = 0; k < sum.rows.size(); ++k) {
    ExperimentRow& row = sum.rows[k];
    row.mean = mean_of(row.accuracies);
    row.std = std_of(row.accuracies);
    row.images_per_second /= double(row.accuracies.size());
    row.cpu_seconds_per_epoch /= double(row.accuracies.size());
    size_t epochs = 0;
    for (const auto& c : curves[k]) epochs = std::max(epochs, c.size());
    for (size_t e = 0; e < epochs; ++e) {
      std::vector<double> v;
      for (const auto& c : curves[k])
        if (e < c.size() && std::isfinite(c[e])) v.push_back(c[e]);
      row.curve.push_back(mean_of(v));
    }
  }
  // Step-time overhead against the attention=none point with the same other values.
  for (ExperimentRow& row : sum.rows) {
    row.overhead = NAN;
    for (const ExperimentRow& ref : sum.rows) {
      if (attention::Placement::parse(ref.values.count("attention") ? ref.values.at("attention")
                                                                    : base.attention)
              .enabled())
        continue;
      bool same = true;
      for (const auto& [k, v] : row.values)
        if (k != "attention" && !kAttentionKeys.count(k) && ref.values.at(k) != v) same = false;
      if (!same) continue;
      if (ref.cpu_seconds_per_epoch > 0 && row.cpu_seconds_per_epoch > 0)
        row.overhead = 100 * (row.cpu_seconds_per_epoch / ref.cpu_seconds_per_epoch - 1);
      else if (ref.images_per_second > 0 && row.images_per_second > 0)
        row.overhead = 100 * (ref.images_per_second / row.images_per_second - 1);
      break;
    }
  }

  // --- results.csv: one line per run
  {
    std::ofstream f(fs::path(out) / "results.csv");
    HEED_CHECK(f.good(), "experiment: cannot write results.csv in '", out, "'");
    f << "run";
    for (const auto& a : axes) f << "," << a.key;
    f << ",seed,test_accuracy,best_accuracy,params,macs,images_per_second,seconds_per_epoch,"
         "cpu_seconds_per_epoch\n";
    for (size_t i = 0; i < runs.size(); ++i) {
      const nlohmann::json& j = results[i];
      f << '"' << runs[i].name << '"';
      for (const auto& a : axes) f << ",\"" << runs[i].values.at(a.key) << '"';
      f << "," << runs[i].seed << "," << j.value("test_accuracy", 0.0) << ","
        << j.value("best_accuracy", 0.0) << "," << j.value("params", int64_t(0)) << ","
        << j.value("macs", int64_t(0)) << "," << j.value("images_per_second", 0.0) << ","
        << j.value("seconds_per_epoch", 0.0) << "," << j.value("cpu_seconds_per_epoch", 0.0)
        << "\n";
    }
  }

  // --- results.md
  std::ostringstream md;
  md << "# Experiment: " << base.model << " on " << base.dataset << ", " << base.epochs
     << " epoch(s), " << seeds << " seed(s)\n\n";
  md << "Grid: `" << grid << "`\n\n";
  md << "| ";
  for (const auto& a : axes) md << a.key << " | ";
  md << "test accuracy (%) | params | MACs (M) | train img/s | CPU s/epoch | step time vs none "
        "|\n|";
  for (size_t i = 0; i < axes.size() + 6; ++i) md << "---|";
  md << "\n";
  for (const ExperimentRow& row : sum.rows) {
    md << "| ";
    for (const auto& a : axes) {
      const bool skipped =
          kAttentionKeys.count(a.key) && row.point.find(a.key + "=") == std::string::npos;
      md << (skipped ? "-" : row.values.at(a.key)) << " | ";
    }
    md << fmt("%.2f", 100 * row.mean);
    if (row.accuracies.size() > 1) md << fmt(" ± %.2f", 100 * row.std);
    md << " | " << row.params << " | " << fmt("%.2f", double(row.macs) / 1e6) << " | "
       << fmt("%.0f", row.images_per_second) << " | " << fmt("%.0f", row.cpu_seconds_per_epoch)
       << " | " << (std::isfinite(row.overhead) ? fmt("%+.1f%%", row.overhead) : std::string("-"))
       << " |\n";
  }
  md << "\nAccuracy: top-1 on the test set after the last epoch, mean ± sample std over "
        "seeds. MACs per image (forward). img/s: training throughput, mean over epochs and "
        "seeds (wall clock, so it depends on the machine's load). CPU s/epoch: process CPU "
        "time of an epoch's training (all threads; steadier than wall time on a shared "
        "machine). Step time vs none: CPU time per epoch over that of the attention=none run "
        "with the same other settings, minus 1.\n";
  sum.markdown = md.str();
  {
    std::ofstream f(fs::path(out) / "results.md");
    HEED_CHECK(f.good(), "experiment: cannot write results.md in '", out, "'");
    f << sum.markdown;
  }

  // --- charts: one series (colour) per grid point
  std::vector<plot::Series> by_params, by_macs, by_speed, curve_series;
  for (const ExperimentRow& row : sum.rows) {
    auto point = [&](double x) {
      return plot::Series{
          .name = row.point, .x = {x}, .y = {100 * row.mean}, .y_err = {100 * row.std}};
    };
    by_params.push_back(point(double(row.params)));
    by_macs.push_back(point(double(row.macs) / 1e6));
    by_speed.push_back(point(row.images_per_second));
    plot::Series c{.name = row.point};
    for (size_t e = 0; e < row.curve.size(); ++e) {
      c.x.push_back(double(e + 1));
      c.y.push_back(100 * row.curve[e]);
    }
    curve_series.push_back(c);
  }
  plot::write_svg((fs::path(out) / "accuracy_vs_cost.svg").string(),
                  {plot::Chart{.title = "accuracy vs parameters",
                               .x_label = "parameters",
                               .y_label = "test accuracy (%)",
                               .series = by_params,
                               .lines = false},
                   plot::Chart{.title = "accuracy vs MACs",
                               .x_label = "M MACs per image",
                               .y_label = "test accuracy (%)",
                               .series = by_macs,
                               .lines = false}});
  plot::write_svg((fs::path(out) / "accuracy_vs_throughput.svg").string(),
                  {plot::Chart{.title = "accuracy vs training throughput",
                               .x_label = "train images / s",
                               .y_label = "test accuracy (%)",
                               .series = by_speed,
                               .lines = false}});
  plot::write_svg((fs::path(out) / "curves.svg").string(),
                  {plot::Chart{.title = "test accuracy per epoch (mean over seeds)",
                               .x_label = "epoch",
                               .y_label = "test accuracy (%)",
                               .series = curve_series}},
                  720, 420);
  if (log) {
    std::fprintf(log,
                 "\n%s\nresults: %s/results.md, results.csv, accuracy_vs_cost.svg, "
                 "accuracy_vs_throughput.svg, curves.svg\n",
                 sum.markdown.c_str(), out.c_str());
    std::fflush(log);
  }
  return sum;
}

}  // namespace heed::train
