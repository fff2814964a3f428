// Image nodes and the resampling they share. Each function follows ComfyUI's formula step by
// step with the same ATen operations in the same order, so CPU results are bit-identical to the
// Python nodes (float32 throughout, Python doubles where ComfyUI computes a Python float).
#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace comfy::kernels {

int64_t py_round(double v) { return static_cast<int64_t>(std::nearbyint(v)); }

bool upscale_method_is_native(const std::string& method) {
  return method == "nearest-exact" || method == "bilinear" || method == "area" ||
         method == "bicubic";
}

static at::Tensor interpolate(const at::Tensor& x, int64_t height, int64_t width,
                              const std::string& method) {
  std::vector<int64_t> size{height, width};
  if (method == "nearest-exact") return at::_upsample_nearest_exact2d(x, size, std::nullopt, std::nullopt);
  if (method == "bilinear") return at::upsample_bilinear2d(x, size, false, std::nullopt, std::nullopt);
  if (method == "bicubic") return at::upsample_bicubic2d(x, size, false, std::nullopt, std::nullopt);
  if (method == "area") return at::adaptive_avg_pool2d(x, size);
  throw std::invalid_argument("upscale method not available natively: " + method);
}

at::Tensor common_upscale(const at::Tensor& samples_in, int64_t width, int64_t height,
                          const std::string& method, const std::string& crop) {
  at::Tensor samples = samples_in;
  const auto orig = samples_in.sizes().vec();
  const int64_t nd = static_cast<int64_t>(orig.size());
  if (nd > 4) {  // [N, C, ..., H, W] -> [N * prod(...), C, H, W]
    samples = samples.reshape({orig[0], orig[1], -1, orig[nd - 2], orig[nd - 1]});
    samples = samples.movedim(2, 1).reshape({-1, orig[1], orig[nd - 2], orig[nd - 1]});
  }
  at::Tensor src = samples;
  if (crop == "center") {
    const int64_t old_w = samples.size(-1), old_h = samples.size(-2);
    const double old_aspect = static_cast<double>(old_w) / old_h;
    const double new_aspect = static_cast<double>(width) / height;
    int64_t x = 0, y = 0;
    if (old_aspect > new_aspect) {
      x = py_round((old_w - old_w * (new_aspect / old_aspect)) / 2);
    } else if (old_aspect < new_aspect) {
      y = py_round((old_h - old_h * (old_aspect / new_aspect)) / 2);
    }
    src = samples.narrow(-2, y, old_h - y * 2).narrow(-1, x, old_w - x * 2);
  } else if (crop != "disabled") {
    throw std::invalid_argument("unknown crop method: " + crop);
  }
  at::Tensor out = interpolate(src, height, width, method);
  if (nd == 4) return out;
  std::vector<int64_t> shape{orig[0], -1, orig[1], height, width};
  out = out.reshape(shape).movedim(2, 1);
  std::vector<int64_t> final_shape(orig.begin(), orig.end() - 2);
  final_shape.push_back(height);
  final_shape.push_back(width);
  return out.reshape(final_shape);
}

at::Tensor image_scale(const at::Tensor& image, const std::string& method, int64_t width,
                       int64_t height, const std::string& crop) {
  if (width == 0 && height == 0) return image;
  at::Tensor samples = image.movedim(-1, 1);
  if (width == 0) {
    width = std::max<int64_t>(1, py_round(static_cast<double>(samples.size(3) * height) / samples.size(2)));
  } else if (height == 0) {
    height = std::max<int64_t>(1, py_round(static_cast<double>(samples.size(2) * width) / samples.size(3)));
  }
  return common_upscale(samples, width, height, method, crop).movedim(1, -1);
}

at::Tensor image_scale_by(const at::Tensor& image, const std::string& method, double scale_by) {
  at::Tensor samples = image.movedim(-1, 1);
  const int64_t width = py_round(samples.size(3) * scale_by);
  const int64_t height = py_round(samples.size(2) * scale_by);
  return common_upscale(samples, width, height, method, "disabled").movedim(1, -1);
}

at::Tensor image_invert(const at::Tensor& image) { return at::rsub(image, 1.0); }

static at::Tensor soft_light_g(const at::Tensor& x) {
  return at::where(x <= 0.25, ((16 * x - 12) * x + 4) * x, at::sqrt(x));
}

at::Tensor image_blend(const at::Tensor& image1, const at::Tensor& image2_in, double blend_factor,
                       const std::string& mode) {
  at::Tensor image2 = image2_in.to(image1.device());
  if (image1.sizes() != image2.sizes()) {
    image2 = image2.permute({0, 3, 1, 2});
    image2 = common_upscale(image2, image1.size(2), image1.size(1), "bicubic", "center");
    image2 = image2.permute({0, 2, 3, 1});
  }
  at::Tensor blended;
  if (mode == "normal") {
    blended = image2;
  } else if (mode == "multiply") {
    blended = image1 * image2;
  } else if (mode == "screen") {
    blended = 1 - (1 - image1) * (1 - image2);
  } else if (mode == "overlay") {
    blended = at::where(image1 <= 0.5, 2 * image1 * image2, 1 - 2 * (1 - image1) * (1 - image2));
  } else if (mode == "soft_light") {
    blended = at::where(image2 <= 0.5, image1 - (1 - 2 * image2) * image1 * (1 - image1),
                        image1 + (2 * image2 - 1) * (soft_light_g(image1) - image1));
  } else if (mode == "difference") {
    blended = image1 - image2;
  } else {
    throw std::invalid_argument("Unsupported blend mode: " + mode);
  }
  blended = image1 * (1 - blend_factor) + blended * blend_factor;
  return at::clamp(blended, 0, 1);
}

at::Tensor repeat_to_batch_size(const at::Tensor& t, int64_t batch_size) {
  const int64_t have = t.size(0);
  if (have > batch_size) return t.narrow(0, 0, batch_size);
  if (have < batch_size) {
    std::vector<int64_t> reps(t.dim(), 1);
    reps[0] = (batch_size + have - 1) / have;
    return t.repeat(reps).narrow(0, 0, batch_size);
  }
  return t;
}

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

at::Tensor composite(at::Tensor destination, at::Tensor source, int64_t x, int64_t y,
                     const std::optional<at::Tensor>& mask_in, int64_t multiplier,
                     bool resize_source) {
  source = source.to(destination.device());
  if (resize_source) {
    source = at::upsample_bilinear2d(source, {destination.size(-2), destination.size(-1)}, false,
                                     std::nullopt, std::nullopt);
  }
  source = repeat_to_batch_size(source, destination.size(0));
  x = std::max(-source.size(-1) * multiplier, std::min(x, destination.size(-1) * multiplier));
  y = std::max(-source.size(-2) * multiplier, std::min(y, destination.size(-2) * multiplier));
  const int64_t left = floor_div(x, multiplier), top = floor_div(y, multiplier);
  const int64_t right = left + source.size(-1), bottom = top + source.size(-2);
  at::Tensor mask;
  if (!mask_in) {
    mask = at::ones_like(source);
  } else {
    mask = mask_in->to(destination.device(), mask_in->scalar_type(), false, true);
    mask = at::upsample_bilinear2d(mask.reshape({-1, 1, mask.size(-2), mask.size(-1)}),
                                   {source.size(-2), source.size(-1)}, false, std::nullopt,
                                   std::nullopt);
    mask = repeat_to_batch_size(mask, source.size(0));
  }
  const int64_t visible_width = destination.size(-1) - left + std::min<int64_t>(0, x);
  const int64_t visible_height = destination.size(-2) - top + std::min<int64_t>(0, y);
  mask = mask.slice(-2, 0, visible_height).slice(-1, 0, visible_width);
  if (mask.dim() < source.dim()) mask = mask.unsqueeze(1);
  at::Tensor inverse_mask = at::ones_like(mask) - mask;
  at::Tensor source_portion = mask * source.slice(-2, 0, visible_height).slice(-1, 0, visible_width);
  at::Tensor region = destination.slice(-2, top, bottom).slice(-1, left, right);
  at::Tensor destination_portion = inverse_mask * region;
  region.copy_(source_portion + destination_portion);
  return destination;
}

static std::pair<at::Tensor, at::Tensor> image_alpha_fix(at::Tensor destination, at::Tensor source) {
  if (destination.size(-1) < source.size(-1)) {
    source = source.slice(-1, 0, destination.size(-1));
  } else if (destination.size(-1) > source.size(-1)) {
    destination = at::constant_pad_nd(destination, {0, 1});
    destination.select(-1, -1).fill_(1.0);
  }
  return {destination, source};
}

at::Tensor image_composite_masked(const at::Tensor& destination_in, const at::Tensor& source_in,
                                  int64_t x, int64_t y, bool resize_source,
                                  const std::optional<at::Tensor>& mask) {
  auto [destination, source] = image_alpha_fix(destination_in, source_in);
  destination = destination.clone().movedim(-1, 1);
  return composite(destination, source.movedim(-1, 1), x, y, mask, 1, resize_source).movedim(1, -1);
}

at::Tensor image_crop(const at::Tensor& image, int64_t width, int64_t height, int64_t x, int64_t y) {
  x = std::min(x, image.size(2) - 1);
  y = std::min(y, image.size(1) - 1);
  return image.slice(1, y, height + y).slice(2, x, width + x);
}

std::tuple<at::Tensor, at::Tensor> image_pad_for_outpaint(const at::Tensor& image, int64_t left,
                                                          int64_t top, int64_t right,
                                                          int64_t bottom, int64_t feathering) {
  const int64_t d1 = image.size(0), d2 = image.size(1), d3 = image.size(2), d4 = image.size(3);
  auto opts = at::TensorOptions().dtype(at::kFloat).device(image.device());
  at::Tensor new_image = at::ones({d1, d2 + top + bottom, d3 + left + right, d4}, opts) * 0.5;
  new_image.slice(1, top, top + d2).slice(2, left, left + d3).copy_(image);
  // The feathered mask is a small loop over the original area with Python doubles per pixel.
  at::Tensor t = at::zeros({d2, d3}, at::kFloat);
  if (feathering > 0 && feathering * 2 < d2 && feathering * 2 < d3) {
    float* p = t.data_ptr<float>();
    for (int64_t i = 0; i < d2; ++i) {
      for (int64_t j = 0; j < d3; ++j) {
        const int64_t dt = top != 0 ? i : d2, db = bottom != 0 ? d2 - i : d2;
        const int64_t dl = left != 0 ? j : d3, dr = right != 0 ? d3 - j : d3;
        const int64_t d = std::min({dt, db, dl, dr});
        if (d >= feathering) continue;
        const double v = static_cast<double>(feathering - d) / feathering;
        p[i * d3 + j] = static_cast<float>(v * v);
      }
    }
  }
  at::Tensor mask = at::ones({d2 + top + bottom, d3 + left + right}, opts);
  mask.slice(0, top, top + d2).slice(1, left, left + d3).copy_(t);
  return {new_image, mask.unsqueeze(0)};
}

at::Tensor image_batch(const at::Tensor& image1_in, const at::Tensor& image2_in) {
  at::Tensor image1 = image1_in, image2 = image2_in;
  if (image1.size(-1) != image2.size(-1)) {
    if (image1.size(-1) > image2.size(-1)) {
      image2 = at::constant_pad_nd(image2, {0, 1}, 1.0);
    } else {
      image1 = at::constant_pad_nd(image1, {0, 1}, 1.0);
    }
  }
  if (image1.sizes().slice(1) != image2.sizes().slice(1)) {
    image2 = common_upscale(image2.movedim(-1, 1), image1.size(2), image1.size(1), "bilinear",
                            "center").movedim(1, -1);
  }
  return at::cat({image1, image2}, 0);
}

at::Tensor empty_image(int64_t width, int64_t height, int64_t batch_size, int64_t color) {
  at::Tensor out = at::empty({batch_size, height, width, 3}, at::kFloat);
  // Channel value is a Python double stored as float32.
  out.select(-1, 0).fill_(static_cast<double>((color >> 16) & 0xFF) / 0xFF);
  out.select(-1, 1).fill_(static_cast<double>((color >> 8) & 0xFF) / 0xFF);
  out.select(-1, 2).fill_(static_cast<double>(color & 0xFF) / 0xFF);
  return out;
}

}  // namespace comfy::kernels
