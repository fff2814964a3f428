// Mask and latent nodes (ComfyUI's nodes.py latent nodes and comfy_extras.nodes_mask), written
// with the same ATen operations and order as the Python formulas, so CPU results are identical.
#include "kernels/ops.h"

#include <algorithm>
#include <stdexcept>

namespace comfy::kernels {

static at::Tensor as_batch(const at::Tensor& mask) {
  return mask.reshape({-1, mask.size(-2), mask.size(-1)});
}

at::Tensor solid_mask(double value, int64_t width, int64_t height) {
  return at::full({1, height, width}, value, at::kFloat);
}

at::Tensor invert_mask(const at::Tensor& mask) { return at::rsub(mask, 1.0); }

at::Tensor mask_to_image(const at::Tensor& mask) {
  return mask.reshape({-1, 1, mask.size(-2), mask.size(-1)}).movedim(1, -1).expand({-1, -1, -1, 3});
}

at::Tensor image_to_mask(const at::Tensor& image, const std::string& channel) {
  int64_t idx;
  if (channel == "red") idx = 0;
  else if (channel == "green") idx = 1;
  else if (channel == "blue") idx = 2;
  else if (channel == "alpha") idx = 3;
  else throw std::invalid_argument("unknown channel: " + channel);
  return image.select(3, idx);
}

// One 3x3 grey dilation (or erosion) step; neighbours outside the mask are ignored, which is what
// scipy.ndimage's default 'reflect' border gives for a symmetric 3x3 footprint.
static at::Tensor morph_step(const at::Tensor& m, bool dilate, bool tapered) {
  at::Tensor x = dilate ? m : -m;  // erosion is a dilation of the negated mask
  at::Tensor out;
  if (!tapered) {
    out = at::max_pool2d(x.unsqueeze(1), {3, 3}, {1, 1}, {1, 1}).squeeze(1);
  } else {
    const int64_t h = x.size(-2), w = x.size(-1);
    at::Tensor p = at::constant_pad_nd(x, {1, 1, 1, 1}, -std::numeric_limits<double>::infinity());
    out = at::maximum(x, p.slice(-2, 0, h).slice(-1, 1, w + 1));            // up
    out = at::maximum(out, p.slice(-2, 2, h + 2).slice(-1, 1, w + 1));       // down
    out = at::maximum(out, p.slice(-2, 1, h + 1).slice(-1, 0, w));           // left
    out = at::maximum(out, p.slice(-2, 1, h + 1).slice(-1, 2, w + 2));       // right
  }
  return dilate ? out : -out;
}

at::Tensor grow_mask(const at::Tensor& mask, int64_t expand, bool tapered_corners) {
  at::Tensor out = as_batch(mask).contiguous();
  const int64_t steps = expand < 0 ? -expand : expand;
  for (int64_t i = 0; i < steps; ++i) out = morph_step(out, expand > 0, tapered_corners);
  return steps == 0 ? out.clone() : out;
}

at::Tensor threshold_mask(const at::Tensor& mask, double value) {
  return at::gt(mask, value).to(at::kFloat);
}

at::Tensor mask_composite(const at::Tensor& destination, const at::Tensor& source_in, int64_t x,
                          int64_t y, const std::string& operation) {
  at::Tensor output = as_batch(destination).clone();
  at::Tensor source = as_batch(source_in).to(output.device());
  const int64_t left = x, top = y;
  const int64_t right = std::min(left + source.size(-1), destination.size(-1));
  const int64_t bottom = std::min(top + source.size(-2), destination.size(-2));
  const int64_t visible_width = right - left, visible_height = bottom - top;
  at::Tensor src = source.slice(1, 0, visible_height).slice(2, 0, visible_width);
  at::Tensor region = output.slice(1, top, bottom).slice(2, left, right);
  at::Tensor dst = region.clone();
  at::Tensor result;
  if (operation == "multiply") result = dst * src;
  else if (operation == "add") result = dst + src;
  else if (operation == "subtract") result = dst - src;
  else if (operation == "and") result = at::bitwise_and(dst.round().to(at::kBool), src.round().to(at::kBool)).to(at::kFloat);
  else if (operation == "or") result = at::bitwise_or(dst.round().to(at::kBool), src.round().to(at::kBool)).to(at::kFloat);
  else if (operation == "xor") result = at::bitwise_xor(dst.round().to(at::kBool), src.round().to(at::kBool)).to(at::kFloat);
  else throw std::invalid_argument("unknown operation: " + operation);
  region.copy_(result);
  return at::clamp(output, 0.0, 1.0);
}

at::Tensor crop_mask(const at::Tensor& mask, int64_t x, int64_t y, int64_t width, int64_t height) {
  return as_batch(mask).slice(1, y, y + height).slice(2, x, x + width);
}

// Each of ComfyUI's four feather loops multiplies distinct rows or columns once, so one
// multiplication by a weight vector (1 elsewhere) per loop gives the same float32 products.
static at::Tensor ramp(int64_t size, int64_t n, bool from_end, bool plus_one_float) {
  at::Tensor w = at::ones({size}, at::kDouble);
  double* p = w.data_ptr<double>();
  for (int64_t i = 0; i < n; ++i) {
    const double rate = plus_one_float ? (i + 1.0) / n : static_cast<double>(i + 1) / n;
    // ComfyUI 0.3.64 indexes the far edge with -i: i = 0 lands on index 0, not on the last one.
    p[from_end ? (i == 0 ? 0 : size - i) : i] = rate;
  }
  return w.to(at::kFloat);
}

at::Tensor feather_mask(const at::Tensor& mask, int64_t left, int64_t top, int64_t right,
                        int64_t bottom) {
  at::Tensor output = as_batch(mask).clone();
  const int64_t h = output.size(-2), w = output.size(-1);
  left = std::min(left, w);
  right = std::min(right, w);
  top = std::min(top, h);
  bottom = std::min(bottom, h);
  auto dev = output.device();
  if (left > 0) output.mul_(ramp(w, left, false, true).to(dev).view({1, 1, w}));
  if (right > 0) output.mul_(ramp(w, right, true, false).to(dev).view({1, 1, w}));
  if (top > 0) output.mul_(ramp(h, top, false, false).to(dev).view({1, h, 1}));
  if (bottom > 0) output.mul_(ramp(h, bottom, true, false).to(dev).view({1, h, 1}));
  return output;
}

at::Tensor empty_latent_image(int64_t width, int64_t height, int64_t batch_size) {
  return at::zeros({batch_size, 4, height / 8, width / 8}, at::kFloat);
}

at::Tensor latent_upscale(const at::Tensor& samples, const std::string& method, int64_t width,
                          int64_t height, const std::string& crop) {
  if (width == 0 && height == 0) return samples;
  if (width == 0) {
    height = std::max<int64_t>(64, height);
    width = std::max<int64_t>(64, py_round(static_cast<double>(samples.size(-1) * height) / samples.size(-2)));
  } else if (height == 0) {
    width = std::max<int64_t>(64, width);
    height = std::max<int64_t>(64, py_round(static_cast<double>(samples.size(-2) * width) / samples.size(-1)));
  } else {
    width = std::max<int64_t>(64, width);
    height = std::max<int64_t>(64, height);
  }
  return common_upscale(samples, width / 8, height / 8, method, crop);
}

at::Tensor latent_upscale_by(const at::Tensor& samples, const std::string& method, double scale_by) {
  const int64_t width = py_round(samples.size(-1) * scale_by);
  const int64_t height = py_round(samples.size(-2) * scale_by);
  return common_upscale(samples, width, height, method, "disabled");
}

at::Tensor latent_composite(const at::Tensor& samples_to, const at::Tensor& samples_from, int64_t x,
                            int64_t y, int64_t feather) {
  x /= 8;
  y /= 8;
  feather /= 8;
  at::Tensor s = samples_to.clone();
  at::Tensor src = samples_from.slice(2, 0, samples_to.size(2) - y).slice(3, 0, samples_to.size(3) - x);
  at::Tensor region = s.slice(2, y, y + src.size(2)).slice(3, x, x + src.size(3));
  if (feather == 0) {
    region.copy_(src);
    return s;
  }
  at::Tensor mask = at::ones_like(src);
  const int64_t mh = mask.size(2), mw = mask.size(3);
  for (int64_t t = 0; t < feather; ++t) {
    const double r = (1.0 / feather) * (t + 1);
    if (y != 0) mask.slice(2, t, 1 + t).mul_(r);
    if (y + src.size(2) < samples_to.size(2)) mask.slice(2, mh - 1 - t, mh - t).mul_(r);
    if (x != 0) mask.slice(3, t, 1 + t).mul_(r);
    if (x + src.size(3) < samples_to.size(3)) mask.slice(3, mw - 1 - t, mw - t).mul_(r);
  }
  at::Tensor rev = at::ones_like(mask) - mask;
  region.copy_(src * mask + region * rev);
  return s;
}

at::Tensor latent_blend(const at::Tensor& samples1, const at::Tensor& samples2_in, double blend_factor) {
  at::Tensor samples2 = samples2_in;
  if (samples1.sizes() != samples2.sizes()) {
    samples2 = common_upscale(samples2, samples1.size(3), samples1.size(2), "bicubic", "center");
  }
  return samples1 * blend_factor + samples2 * (1 - blend_factor);
}

std::tuple<at::Tensor, std::optional<at::Tensor>, int64_t, int64_t> latent_from_batch(
    const at::Tensor& s_in, const std::optional<at::Tensor>& noise_mask, int64_t batch_index,
    int64_t length) {
  batch_index = std::min(s_in.size(0) - 1, batch_index);
  length = std::min(s_in.size(0) - batch_index, length);
  at::Tensor samples = s_in.slice(0, batch_index, batch_index + length).clone();
  std::optional<at::Tensor> mask_out;
  if (noise_mask) {
    at::Tensor masks = *noise_mask;
    if (masks.size(0) == 1) {
      mask_out = masks.clone();
    } else {
      if (masks.size(0) < s_in.size(0)) masks = repeat_to_batch_size(masks, s_in.size(0));
      mask_out = masks.slice(0, batch_index, batch_index + length).clone();
    }
  }
  return {samples, mask_out, batch_index, length};
}

std::tuple<at::Tensor, std::optional<at::Tensor>> repeat_latent_batch(
    const at::Tensor& samples, const std::optional<at::Tensor>& noise_mask, int64_t amount) {
  std::vector<int64_t> reps(samples.dim(), 1);
  reps[0] = amount;
  at::Tensor out = samples.repeat(reps);
  std::optional<at::Tensor> mask_out;
  if (noise_mask && noise_mask->size(0) > 1) {
    std::vector<int64_t> mreps(noise_mask->dim(), 1);
    mreps[0] = amount;
    mask_out = noise_mask->repeat(mreps);
  }
  return {out, mask_out};
}

at::Tensor latent_crop(const at::Tensor& samples, int64_t width, int64_t height, int64_t x, int64_t y) {
  x /= 8;
  y /= 8;
  x = std::min(x, samples.size(3) - 8);
  y = std::min(y, samples.size(2) - 8);
  return samples.slice(2, y, y + height / 8).slice(3, x, x + width / 8);
}

at::Tensor latent_flip(const at::Tensor& samples, const std::string& flip_method) {
  if (flip_method.rfind("x", 0) == 0) return at::flip(samples, {2});
  if (flip_method.rfind("y", 0) == 0) return at::flip(samples, {3});
  return samples;
}

at::Tensor latent_rotate(const at::Tensor& samples, const std::string& rotation) {
  int64_t turns = 0;
  if (rotation.rfind("90", 0) == 0) turns = 1;
  else if (rotation.rfind("180", 0) == 0) turns = 2;
  else if (rotation.rfind("270", 0) == 0) turns = 3;
  return at::rot90(samples, turns, {3, 2});
}

}  // namespace comfy::kernels
