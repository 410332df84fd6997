// Attention maps as pictures: run a trained model on one image with every
// attention module keeping its maps, turn each map into an (H, W) heatmap
// and write it as a PNG overlaid on the input (stb_image_write).
//
//   heed attention-map --checkpoint runs/x/best.safetensors --dataset fashion-mnist --index 3
//   heed attention-map --checkpoint runs/x/best.safetensors --image shoe.png
//
// Which maps a module gives (attention/attention_module.h names them):
//   "spatial" (B, 1, h, w)       CBAM, BAM, ...: drawn as is
//   "h" (B, C, h, 1), "w" (B, C, 1, w)   coordinate attention: mean_C(h · w)
//   "weights" (B, heads, N, N)   self-attention (ViT blocks): the cls row
//                                (or the mean over queries) over the patch grid
//   "weights" (B, T)             attention pooling over rows (BiLSTM): one band per row
//   "channel" (B, C, 1, 1)       SE, ECA: no spatial map; the module's output
//                                energy mean_C |y| is drawn instead
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"

namespace heed::train {

struct Heatmap {
  std::string name;  // "layer3.0.attention.spatial"
  Tensor map;        // (h, w) float32, any range; normalised when drawn
};

// RGB bytes (H, W, 3) of a (C, H, W) image with values in [0, 1] (C = 1 or 3).
std::vector<uint8_t> to_rgb(const Tensor& chw);
// Bilinear upsampling of `map` (h, w) to (H, W), min-max normalised to [0, 1].
Tensor upsample_normalised(const Tensor& map, int64_t height, int64_t width);
// A jet-like colour for v in [0, 1].
void colormap(double v, uint8_t rgb[3]);
// `base` RGB (H, W, 3) blended with the colour-mapped `map` (H, W) in [0, 1].
std::vector<uint8_t> overlay(const std::vector<uint8_t>& base, const Tensor& map, double alpha);
// Writes RGB bytes (H, W, 3) as a PNG; heed::Error on failure.
void write_png(const std::string& path, const std::vector<uint8_t>& rgb, int64_t height,
               int64_t width);
// Nearest-neighbour enlargement of RGB bytes by an integer factor.
std::vector<uint8_t> enlarge(const std::vector<uint8_t>& rgb, int64_t height, int64_t width,
                             int64_t factor);

struct AttentionMapResult {
  std::vector<std::string> files;  // PNGs written
  int64_t predicted = -1;
  double confidence = 0;
  int64_t label = -1;  // the true class when the image came from a dataset
  std::vector<std::string> classes;
  std::vector<Heatmap> maps;
};

// Runs `checkpoint`'s model on one image (from --image or test set --index),
// writes <out>/input.png, <out>/<map name>.png for every map and
// <out>/attention_maps.png (input and all overlays side by side).
AttentionMapResult attention_map(const std::string& checkpoint, const std::string& image_path,
                                 const std::string& dataset, const std::string& data_dir,
                                 int64_t index, const std::string& out, int64_t scale = 8);

}  // namespace heed::train
