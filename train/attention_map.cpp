#include "train/attention_map.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "attention/attention_module.h"
#include "core/autograd/grad_mode.h"
#include "core/ops/ops.h"
#include "data/image.h"
#include "data/transforms.h"
#include "nn/safetensors.h"
#include "train/run.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace heed::train {

namespace fs = std::filesystem;

std::vector<uint8_t> to_rgb(const Tensor& chw) {
  HEED_CHECK(chw.dim() == 3 && (chw.size(0) == 1 || chw.size(0) == 3),
             "attention-map: expected a (1 or 3, H, W) image, got ", shape_str(chw.shape()));
  const int64_t C = chw.size(0), H = chw.size(1), W = chw.size(2);
  std::vector<float> v = chw.to_vector<float>();
  std::vector<uint8_t> rgb(size_t(H * W * 3));
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        float f = v[size_t((C == 1 ? 0 : c) * H * W + y * W + x)];
        rgb[size_t((y * W + x) * 3 + c)] = uint8_t(std::clamp(f, 0.0f, 1.0f) * 255.0f + 0.5f);
      }
  return rgb;
}

Tensor upsample_normalised(const Tensor& map, int64_t H, int64_t W) {
  HEED_CHECK(map.dim() == 2, "attention-map: a map must be (h, w), got ", shape_str(map.shape()));
  const int64_t h = map.size(0), w = map.size(1);
  std::vector<double> m = map.to_vector<double>();
  std::vector<float> out(size_t(H * W));
  // Bilinear, align_corners = false (sample at (dst + 0.5) * in / out - 0.5).
  for (int64_t y = 0; y < H; ++y) {
    double sy = std::clamp((double(y) + 0.5) * double(h) / double(H) - 0.5, 0.0, double(h - 1));
    int64_t y0 = int64_t(sy), y1 = std::min(y0 + 1, h - 1);
    double fy = sy - double(y0);
    for (int64_t x = 0; x < W; ++x) {
      double sx = std::clamp((double(x) + 0.5) * double(w) / double(W) - 0.5, 0.0, double(w - 1));
      int64_t x0 = int64_t(sx), x1 = std::min(x0 + 1, w - 1);
      double fx = sx - double(x0);
      double v = (1 - fy) * ((1 - fx) * m[size_t(y0 * w + x0)] + fx * m[size_t(y0 * w + x1)]) +
                 fy * ((1 - fx) * m[size_t(y1 * w + x0)] + fx * m[size_t(y1 * w + x1)]);
      out[size_t(y * W + x)] = float(v);
    }
  }
  auto [lo, hi] = std::minmax_element(out.begin(), out.end());
  const float a = *lo, range = *hi - *lo;
  for (float& v : out) v = range > 0 ? (v - a) / range : 0.5f;
  return from_vector(out, {H, W});
}

void colormap(double v, uint8_t rgb[3]) {
  v = std::clamp(v, 0.0, 1.0);
  // Jet: blue -> cyan -> yellow -> red.
  auto ch = [&](double offset) {
    return uint8_t(std::clamp(1.5 - std::abs(4.0 * v - offset), 0.0, 1.0) * 255.0 + 0.5);
  };
  rgb[0] = ch(3.0);
  rgb[1] = ch(2.0);
  rgb[2] = ch(1.0);
}

std::vector<uint8_t> overlay(const std::vector<uint8_t>& base, const Tensor& map, double alpha) {
  std::vector<float> m = map.to_vector<float>();
  HEED_CHECK(base.size() == m.size() * 3, "attention-map: overlay sizes differ");
  std::vector<uint8_t> out(base.size());
  for (size_t i = 0; i < m.size(); ++i) {
    uint8_t c[3];
    colormap(m[i], c);
    for (int k = 0; k < 3; ++k)
      out[i * 3 + size_t(k)] = uint8_t((1 - alpha) * base[i * 3 + size_t(k)] + alpha * c[k] + 0.5);
  }
  return out;
}

std::vector<uint8_t> enlarge(const std::vector<uint8_t>& rgb, int64_t H, int64_t W, int64_t f) {
  std::vector<uint8_t> out(size_t(H * f * W * f * 3));
  for (int64_t y = 0; y < H * f; ++y)
    for (int64_t x = 0; x < W * f; ++x)
      for (int k = 0; k < 3; ++k)
        out[size_t((y * W * f + x) * 3 + k)] = rgb[size_t(((y / f) * W + x / f) * 3 + k)];
  return out;
}

void write_png(const std::string& path, const std::vector<uint8_t>& rgb, int64_t H, int64_t W) {
  HEED_CHECK(rgb.size() == size_t(H * W * 3), "write_png: ", rgb.size(), " bytes for ", H, "x", W,
             " RGB");
  HEED_CHECK(stbi_write_png(path.c_str(), int(W), int(H), 3, rgb.data(), int(W * 3)) != 0,
             "write_png: cannot write '", path, "'");
}

namespace {

std::string file_safe(std::string s) {
  for (char& c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) c = '_';
  return s;
}

// (h, w) heatmaps of one module's named map, or none.
void maps_of(const std::string& module, const std::string& key, const Tensor& t,
             std::vector<Heatmap>& out) {
  const std::string name = module + "." + key;
  Tensor m = t.to(kFloat32);
  if (key == "spatial" && m.dim() == 4) {
    out.push_back({name, mean(select(m, 0, 0), {0})});  // (h, w)
  } else if (key == "weights" && m.dim() == 4) {        // (B, heads, N, N)
    Tensor a = mean(select(m, 0, 0), {0});              // (N, N) mean over heads
    const int64_t N = a.size(0);
    auto side = [](int64_t n) {
      int64_t s = int64_t(std::lround(std::sqrt(double(n))));
      return s * s == n ? s : 0;
    };
    Tensor keys;
    int64_t s = 0;
    if ((s = side(N - 1)) > 0)
      keys = slice(select(a, 0, 0), 0, 1, N);  // cls row over patches
    else if ((s = side(N)) > 0)
      keys = mean(a, {0});  // mean over queries
    if (s > 0) out.push_back({name, reshape(keys, {s, s})});
  } else if (key == "weights" && m.dim() == 2) {  // (B, T): one band per step (row)
    out.push_back({name, reshape(select(m, 0, 0), {m.size(1), 1})});
  } else if (key == "h" && m.dim() == 4) {
    out.push_back({name, mean(select(m, 0, 0), {0})});  // (h, 1)
  } else if (key == "w" && m.dim() == 4) {
    out.push_back({name, mean(select(m, 0, 0), {0})});  // (1, w)
  }
}

}  // namespace

AttentionMapResult attention_map(const std::string& checkpoint, const std::string& image_path,
                                 const std::string& dataset, const std::string& data_dir,
                                 int64_t index, const std::string& out, int64_t scale) {
  HEED_CHECK(scale >= 1 && scale <= 64, "attention-map: --scale must be in [1, 64], got ", scale);
  RunConfig cfg;
  nn::AnyModule model = load_model(checkpoint, &cfg);
  nn::Metadata md;
  (void)nn::load(checkpoint, &md);
  const auto shape = nlohmann::json::parse(md.at("heed.input_shape")).get<std::vector<int64_t>>();
  const int64_t C = shape[0], H = shape[1], W = shape[2];

  // The raw image (values 0..255) and its label when from a dataset.
  data::Image img;
  int64_t label = -1;
  std::vector<std::string> classes;
  if (!image_path.empty()) {
    std::ifstream f(image_path, std::ios::binary);
    HEED_CHECK(f.good(), "attention-map: cannot read image '", image_path, "'");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
    data::DecodedImage d =
        data::decode_image(bytes.data(), bytes.size(), image_path, {.channels = int(C)});
    if (d.height != H || d.width != W)
      d = data::resize_image(d, H, W, data::Interpolation::Bilinear);
    img.assign_hwc(d.pixels.data(), C, H, W);
    try {
      classes = nlohmann::json::parse(md.at("heed.class_names")).get<std::vector<std::string>>();
    } catch (const std::exception&) {
    }
  } else {
    auto set = open_dataset(dataset.empty() ? cfg.dataset : dataset,
                            data_dir.empty() && dataset.empty() ? cfg.data_dir : data_dir, false,
                            cfg.image_size);
    HEED_CHECK(index >= 0 && index < set->size(), "attention-map: --index ", index,
               " is outside the test set [0, ", set->size(), ")");
    label = set->load(index, img);
    classes = set->classes();
    HEED_CHECK(img.channels == C && img.height == H && img.width == W,
               "attention-map: the dataset's images are ", img.channels, "x", img.height, "x",
               img.width, " but the model takes ", C, "x", H, "x", W);
  }
  Tensor raw = img.to_tensor();  // (C, H, W), 0..255
  const std::vector<uint8_t> base = to_rgb(raw / 255.0);

  // The model's input, normalised as in training.
  data::transforms::Compose t{data::transforms::ToFloat()};
  if (const data::transforms::Stats* s = data::transforms::standard_stats(cfg.dataset))
    t.then(data::transforms::Normalize(s->mean, s->std));
  Generator gen(0);
  t.apply(img, gen);
  Tensor x = unsqueeze(img.to_tensor(), 0);  // (1, C, H, W)

  // Keep every map; record attention modules' outputs for channel-only ones.
  std::vector<std::pair<std::string, attention::MapRecorder*>> recorders;
  std::vector<std::pair<std::string, std::shared_ptr<Tensor>>> outputs;
  std::vector<std::pair<nn::Module*, int64_t>> hooks;
  for (const auto& [name, m] : model->named_modules(false)) {
    if (auto* r = dynamic_cast<attention::MapRecorder*>(m.get())) {
      r->set_keep_maps(true);
      recorders.emplace_back(name, r);
    }
    if (dynamic_cast<attention::AttentionModuleImpl*>(m.get())) {
      auto slot = std::make_shared<Tensor>();
      outputs.emplace_back(name, slot);
      hooks.emplace_back(m.get(),
                         m->register_forward_hook([slot](nn::Module&, const std::vector<Tensor>&,
                                                         const std::vector<Tensor>& outs) {
                           if (!outs.empty()) *slot = outs[0].detach();
                         }));
    }
  }
  AttentionMapResult res;
  {
    NoGradGuard no_grad;
    Tensor probs = softmax(model(x), 1);  // (1, K)
    res.predicted = int64_t(argmax(probs, 1).item());
    res.confidence = max(probs).item();
  }
  for (auto& [m, id] : hooks) m->remove_forward_hook(id);

  for (const auto& [name, r] : recorders) {
    for (const auto& [key, t] : r->maps()) maps_of(name, key, t, res.maps);
    // Coordinate attention: combine its two strips into one (h, w) map.
    if (r->maps().count("h") && r->maps().count("w")) {
      Tensor h = select(r->maps().at("h").to(kFloat32), 0, 0);  // (C, h, 1)
      Tensor w = select(r->maps().at("w").to(kFloat32), 0, 0);  // (C, 1, w)
      res.maps.push_back({name + ".hw", mean(h * w, {0})});
    }
  }
  for (const auto& [name, slot] : outputs) {
    bool has_spatial = false;
    for (const auto& hm : res.maps)
      if (hm.name.rfind(name + ".", 0) == 0 && hm.map.size(0) > 1 && hm.map.size(1) > 1)
        has_spatial = true;
    if (!has_spatial && slot->defined() && slot->dim() == 4)
      res.maps.push_back({name + ".output_energy", mean(abs(select(*slot, 0, 0)), {0})});
  }
  HEED_CHECK(!res.maps.empty(), "attention-map: the model of '", checkpoint,
             "' has no attention modules that keep maps (trained with --attention none?)");

  std::error_code ec;
  fs::create_directories(out, ec);
  HEED_CHECK(!ec, "attention-map: cannot create '", out, "': ", ec.message());
  const int64_t BH = H * scale, BW = W * scale;
  const std::vector<uint8_t> big = enlarge(base, H, W, scale);
  const std::string input_png = (fs::path(out) / "input.png").string();
  write_png(input_png, big, BH, BW);
  res.files.push_back(input_png);
  std::vector<std::vector<uint8_t>> tiles{big};
  for (const Heatmap& hm : res.maps) {
    std::vector<uint8_t> ov = overlay(big, upsample_normalised(hm.map, BH, BW), 0.5);
    const std::string p = (fs::path(out) / (file_safe(hm.name) + ".png")).string();
    write_png(p, ov, BH, BW);
    res.files.push_back(p);
    tiles.push_back(std::move(ov));
  }
  // All side by side, 4 white pixels apart.
  const int64_t gap = 4, n = int64_t(tiles.size()), TW = n * BW + (n - 1) * gap;
  std::vector<uint8_t> strip(size_t(BH * TW * 3), 255);
  for (int64_t k = 0; k < n; ++k)
    for (int64_t y = 0; y < BH; ++y)
      std::copy_n(&tiles[size_t(k)][size_t(y * BW * 3)], BW * 3,
                  &strip[size_t((y * TW + k * (BW + gap)) * 3)]);
  const std::string all = (fs::path(out) / "attention_maps.png").string();
  write_png(all, strip, BH, TW);
  res.files.push_back(all);
  res.label = label;
  res.classes = classes;
  return res;
}

}  // namespace heed::train
