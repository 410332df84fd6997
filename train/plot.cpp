#include "train/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/check.h"

namespace heed::train::plot {

namespace {

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<')
      o += "&lt;";
    else if (c == '>')
      o += "&gt;";
    else if (c == '&')
      o += "&amp;";
    else if (c == '"')
      o += "&quot;";
    else
      o += c;
  }
  return o;
}

// Tick labels: 0.25, 12, 75.2k, 1.5M, with enough decimals for the tick
// spacing `step` (9.1455, not 9.145 twice).
std::string num(double v, double step = 0) {
  char b[32];
  const double a = std::abs(v);
  if (a >= 1e6) {
    std::snprintf(b, sizeof b, "%.4gM", v / 1e6);
  } else if (a >= 1e4) {
    std::snprintf(b, sizeof b, "%.4gk", v / 1e3);
  } else if (step > 0) {
    int decimals = std::clamp(int(-std::floor(std::log10(step) + 1e-9)), 0, 8);
    const double scaled = step * std::pow(10.0, decimals);
    if (std::abs(scaled - std::round(scaled)) > 1e-6) ++decimals;  // steps of 2.5
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
  } else {
    std::snprintf(b, sizeof b, "%.4g", v);
  }
  return b;
}

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

void render(std::ostringstream& o, const Chart& c, double x0, double y0, double w, double h) {
  const double left = 62, right = 14, top = 28, bottom = 44;
  const double pw = w - left - right, ph = h - top - bottom;
  auto tx = [&](double v) { return c.log_x ? std::log10(std::max(v, 1e-300)) : v; };
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const Series& s : c.series)
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      double e = i < s.y_err.size() ? s.y_err[i] : 0;
      xmin = std::min(xmin, tx(s.x[i]));
      xmax = std::max(xmax, tx(s.x[i]));
      ymin = std::min(ymin, s.y[i] - e);
      ymax = std::max(ymax, s.y[i] + e);
    }
  o << "<g transform=\"translate(" << x0 << "," << y0 << ")\">\n";
  o << "<text x=\"" << w / 2 << "\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">"
    << esc(c.title) << "</text>\n";
  if (!std::isfinite(xmin)) {
    o << "<text x=\"" << w / 2 << "\" y=\"" << h / 2
      << "\" text-anchor=\"middle\">no data</text></g>\n";
    return;
  }
  if (xmax - xmin < 1e-12) xmin -= 0.5, xmax += 0.5;
  if (ymax - ymin < 1e-12) ymin -= 0.5, ymax += 0.5;
  double ypad = 0.05 * (ymax - ymin), xpad = c.lines ? 0 : 0.06 * (xmax - xmin);
  ymin -= ypad, ymax += ypad, xmin -= xpad, xmax += xpad;
  auto px = [&](double v) { return left + (tx(v) - xmin) / (xmax - xmin) * pw; };
  auto pxt = [&](double t) { return left + (t - xmin) / (xmax - xmin) * pw; };
  auto py = [&](double v) { return top + (1 - (v - ymin) / (ymax - ymin)) * ph; };
  o << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"#444\"/>\n";
  const std::vector<double> yticks = nice_ticks(ymin, ymax);
  const double ystep = yticks.size() > 1 ? yticks[1] - yticks[0] : 0;
  for (double t : yticks) {
    o << "<line x1=\"" << left << "\" x2=\"" << left + pw << "\" y1=\"" << fmt(py(t)) << "\" y2=\""
      << fmt(py(t)) << "\" stroke=\"#ddd\"/>";
    o << "<text x=\"" << left - 4 << "\" y=\"" << fmt(py(t) + 4)
      << "\" text-anchor=\"end\" font-size=\"10\">" << num(t, ystep) << "</text>\n";
  }
  // Whole-number x data (epochs) get whole-number ticks only.
  bool integer_x = !c.log_x;
  for (const Series& s : c.series)
    for (double x : s.x) integer_x = integer_x && x == std::round(x);
  std::vector<double> xticks;
  for (double t : nice_ticks(xmin, xmax))
    if (!integer_x || std::abs(t - std::round(t)) < 1e-9) xticks.push_back(t);
  if (integer_x && xticks.size() < 2)
    for (double t = std::ceil(xmin); t <= xmax; t += 1) xticks.push_back(t);
  const double xstep = xticks.size() > 1 && !c.log_x ? xticks[1] - xticks[0] : 0;
  for (double t : xticks) {
    o << "<line x1=\"" << fmt(pxt(t)) << "\" x2=\"" << fmt(pxt(t)) << "\" y1=\"" << top
      << "\" y2=\"" << top + ph << "\" stroke=\"#eee\"/>";
    o << "<text x=\"" << fmt(pxt(t)) << "\" y=\"" << top + ph + 14
      << "\" text-anchor=\"middle\" font-size=\"10\">" << num(c.log_x ? std::pow(10, t) : t, xstep)
      << "</text>\n";
  }
  o << "<text x=\"" << left + pw / 2 << "\" y=\"" << h - 8
    << "\" text-anchor=\"middle\" font-size=\"11\">" << esc(c.x_label) << "</text>\n";
  o << "<text transform=\"translate(14," << top + ph / 2
    << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">" << esc(c.y_label) << "</text>\n";
  for (size_t k = 0; k < c.series.size(); ++k) {
    const Series& s = c.series[k];
    const char* col = kColors[k % 10];
    std::string pts;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      pts += fmt(px(s.x[i])) + "," + fmt(py(s.y[i])) + " ";
      if (i < s.y_err.size() && s.y_err[i] > 0)
        o << "<line x1=\"" << fmt(px(s.x[i])) << "\" x2=\"" << fmt(px(s.x[i])) << "\" y1=\""
          << fmt(py(s.y[i] - s.y_err[i])) << "\" y2=\"" << fmt(py(s.y[i] + s.y_err[i]))
          << "\" stroke=\"" << col << "\"/>";
      o << "<circle cx=\"" << fmt(px(s.x[i])) << "\" cy=\"" << fmt(py(s.y[i])) << "\" r=\""
        << (c.lines ? 2.5 : 4) << "\" fill=\"" << col << "\"/>";
      if (i < s.labels.size() && !s.labels[i].empty())
        o << "<text x=\"" << fmt(px(s.x[i]) + 6) << "\" y=\"" << fmt(py(s.y[i]) - 4)
          << "\" font-size=\"9\" fill=\"" << col << "\">" << esc(s.labels[i]) << "</text>";
    }
    if (c.lines && !pts.empty())
      o << "\n<polyline fill=\"none\" stroke=\"" << col << "\" stroke-width=\"1.8\" points=\""
        << pts << "\"/>\n";
  }
  // Legend in the corner with the fewest points under it, on a white box.
  if (c.series.size() > 1 || !c.series.front().name.empty()) {
    size_t longest = 0;
    for (const Series& s : c.series) longest = std::max(longest, s.name.size());
    const double lw = 24 + 6.0 * double(longest), lh = 6 + 14.0 * double(c.series.size());
    struct Corner {
      double x, y;
    };
    const Corner corners[] = {{left + pw - lw - 6, top + 6},
                              {left + pw - lw - 6, top + ph - lh - 6},
                              {left + 6, top + 6},
                              {left + 6, top + ph - lh - 6}};
    Corner best = corners[0];
    int fewest = -1;
    for (const Corner& k : corners) {
      // Points, and samples along the lines between them, under the box.
      int n = 0;
      auto under = [&](double x, double y) {
        return x >= k.x - 4 && x <= k.x + lw + 4 && y >= k.y - 4 && y <= k.y + lh + 4;
      };
      for (const Series& s : c.series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
          if (!std::isfinite(s.y[i])) continue;
          n += under(px(s.x[i]), py(s.y[i])) ? 4 : 0;
          if (c.lines && i + 1 < s.x.size() && i + 1 < s.y.size() && std::isfinite(s.y[i + 1]))
            for (int t = 1; t < 16; ++t) {
              double f = t / 16.0;
              n += under((1 - f) * px(s.x[i]) + f * px(s.x[i + 1]),
                         (1 - f) * py(s.y[i]) + f * py(s.y[i + 1]));
            }
        }
      if (fewest < 0 || n < fewest) fewest = n, best = k;
    }
    o << "<rect x=\"" << fmt(best.x) << "\" y=\"" << fmt(best.y) << "\" width=\"" << fmt(lw)
      << "\" height=\"" << fmt(lh) << "\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#ccc\"/>\n";
    for (size_t k = 0; k < c.series.size(); ++k) {
      const double ly = best.y + 14 + 14 * double(k);
      o << "<rect x=\"" << fmt(best.x + 6) << "\" y=\"" << fmt(ly - 9)
        << "\" width=\"10\" height=\"10\" fill=\"" << kColors[k % 10] << "\"/><text x=\""
        << fmt(best.x + 20) << "\" y=\"" << fmt(ly) << "\" font-size=\"10\">"
        << esc(c.series[k].name) << "</text>\n";
    }
  }
  o << "</g>\n";
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int count) {
  std::vector<double> out;
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return out;
  double raw = (hi - lo) / std::max(count, 1);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step)
    out.push_back(std::abs(t) < 1e-12 * step ? 0.0 : t);
  return out;
}

std::string svg(const std::vector<Chart>& charts, int width, int height) {
  std::ostringstream o;
  const int n = std::max<int>(1, int(charts.size()));
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width * n << "\" height=\"" << height
    << "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" "
    << "fill=\"white\"/>\n";
  for (size_t i = 0; i < charts.size(); ++i)
    render(o, charts[i], double(i) * width, 0, width, height);
  o << "</svg>\n";
  return o.str();
}

void write_svg(const std::string& path, const std::vector<Chart>& charts, int width, int height) {
  std::ofstream f(path);
  HEED_CHECK(f.good(), "plot: cannot write '", path, "'");
  f << svg(charts, width, height);
  HEED_CHECK(f.good(), "plot: write to '", path, "' failed");
}

}  // namespace heed::train::plot
