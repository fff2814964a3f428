// Native image, mask and latent operations: ComfyUI's node formulas written with ATen, so one
// implementation runs on whatever device the input tensors live on (CPU here, CUDA where torch
// has it). Every function is pure: inputs are never modified, results are new tensors (or views
// where ComfyUI returns views). Thread-safety: none needed, no state. Called with the GIL released.
//
// Layouts as in ComfyUI: IMAGE [B, H, W, C] float32, MASK [H, W] or [B, H, W], LATENT samples
// [B, C, H, W] (or 5-D [B, C, T, H, W]). Integer arguments are the node's widget values; string
// arguments are the node's combo values (an unknown value throws std::invalid_argument).
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <tuple>

namespace comfy::kernels {

// Python's round(): halves go to the even neighbour.
int64_t py_round(double v);
// comfy.utils.repeat_to_batch_size along dim 0: cut, or tile then cut, to `batch_size` entries.
at::Tensor repeat_to_batch_size(const at::Tensor& t, int64_t batch_size);

// comfy.utils.common_upscale for NCHW (or N,C,...,H,W) samples; methods nearest-exact,
// bilinear, area, bicubic; crop "disabled" or "center". Throws for bislerp/lanczos, which the
// Python layer keeps.
at::Tensor common_upscale(const at::Tensor& samples, int64_t width, int64_t height,
                          const std::string& method, const std::string& crop);
bool upscale_method_is_native(const std::string& method);

// Image nodes.
at::Tensor image_scale(const at::Tensor& image, const std::string& method, int64_t width,
                       int64_t height, const std::string& crop);
at::Tensor image_scale_by(const at::Tensor& image, const std::string& method, double scale_by);
at::Tensor image_invert(const at::Tensor& image);
at::Tensor image_blend(const at::Tensor& image1, const at::Tensor& image2, double blend_factor,
                       const std::string& mode);
at::Tensor image_composite_masked(const at::Tensor& destination, const at::Tensor& source,
                                  int64_t x, int64_t y, bool resize_source,
                                  const std::optional<at::Tensor>& mask);
at::Tensor image_crop(const at::Tensor& image, int64_t width, int64_t height, int64_t x, int64_t y);
std::tuple<at::Tensor, at::Tensor> image_pad_for_outpaint(const at::Tensor& image, int64_t left,
                                                          int64_t top, int64_t right,
                                                          int64_t bottom, int64_t feathering);
at::Tensor image_batch(const at::Tensor& image1, const at::Tensor& image2);
at::Tensor empty_image(int64_t width, int64_t height, int64_t batch_size, int64_t color);

// Shared compositing (comfy_extras.nodes_mask.composite): destination and source [B, C, H, W],
// destination is written in place and returned.
at::Tensor composite(at::Tensor destination, at::Tensor source, int64_t x, int64_t y,
                     const std::optional<at::Tensor>& mask, int64_t multiplier, bool resize_source);

// Mask nodes.
at::Tensor solid_mask(double value, int64_t width, int64_t height);
at::Tensor invert_mask(const at::Tensor& mask);
at::Tensor mask_to_image(const at::Tensor& mask);
at::Tensor image_to_mask(const at::Tensor& image, const std::string& channel);
at::Tensor grow_mask(const at::Tensor& mask, int64_t expand, bool tapered_corners);
at::Tensor threshold_mask(const at::Tensor& mask, double value);
at::Tensor mask_composite(const at::Tensor& destination, const at::Tensor& source, int64_t x,
                          int64_t y, const std::string& operation);
at::Tensor crop_mask(const at::Tensor& mask, int64_t x, int64_t y, int64_t width, int64_t height);
at::Tensor feather_mask(const at::Tensor& mask, int64_t left, int64_t top, int64_t right,
                        int64_t bottom);

// Latent nodes: the `samples` tensor of the LATENT dict (the Python layer copies the dict).
at::Tensor empty_latent_image(int64_t width, int64_t height, int64_t batch_size);
at::Tensor latent_upscale(const at::Tensor& samples, const std::string& method, int64_t width,
                          int64_t height, const std::string& crop);
at::Tensor latent_upscale_by(const at::Tensor& samples, const std::string& method, double scale_by);
at::Tensor latent_composite(const at::Tensor& samples_to, const at::Tensor& samples_from, int64_t x,
                            int64_t y, int64_t feather);
at::Tensor latent_blend(const at::Tensor& samples1, const at::Tensor& samples2, double blend_factor);
// Returns (samples, noise_mask or undefined); batch_index/length already clamped as ComfyUI does.
std::tuple<at::Tensor, std::optional<at::Tensor>, int64_t, int64_t> latent_from_batch(
    const at::Tensor& samples, const std::optional<at::Tensor>& noise_mask, int64_t batch_index,
    int64_t length);
std::tuple<at::Tensor, std::optional<at::Tensor>> repeat_latent_batch(
    const at::Tensor& samples, const std::optional<at::Tensor>& noise_mask, int64_t amount);
at::Tensor latent_crop(const at::Tensor& samples, int64_t width, int64_t height, int64_t x, int64_t y);
at::Tensor latent_flip(const at::Tensor& samples, const std::string& flip_method);
at::Tensor latent_rotate(const at::Tensor& samples, const std::string& rotation);

// IMAGE float32 [..., C] -> uint8 with ComfyUI's truncation uint8(clip(255 * x, 0, 255)) in
// float32; NaN becomes 0. On CUDA tensors this runs our CUDA kernel (when built with CUDA), so
// only a quarter of the bytes cross to the host for encoding.
at::Tensor to_uint8(const at::Tensor& image);
bool built_with_cuda();

}  // namespace comfy::kernels
