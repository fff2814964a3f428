// comfy._kernels: the libtorch node kernels for Python. Its own extension module (torch's
// pybind11 and at::Tensor casters), so comfy._core stays free of torch. Tensors cross without
// copies; the GIL is released while a kernel runs.
#include <pybind11/stl.h>
#include <torch/csrc/utils/pybind.h>

#include "kernels/ops.h"

namespace py = pybind11;
namespace k = comfy::kernels;

PYBIND11_MODULE(_kernels, m) {
  m.doc() = "Native image, mask and latent node kernels (ATen; CPU and CUDA)";
  using release = py::call_guard<py::gil_scoped_release>;
  m.def("built_with_cuda", &k::built_with_cuda);
  m.def("upscale_method_is_native", &k::upscale_method_is_native);
  m.def("common_upscale", &k::common_upscale, release());
  m.def("image_scale", &k::image_scale, release());
  m.def("image_scale_by", &k::image_scale_by, release());
  m.def("image_invert", &k::image_invert, release());
  m.def("image_blend", &k::image_blend, release());
  m.def("image_composite_masked", &k::image_composite_masked, release());
  m.def("image_crop", &k::image_crop, release());
  m.def("image_pad_for_outpaint", &k::image_pad_for_outpaint, release());
  m.def("image_batch", &k::image_batch, release());
  m.def("empty_image", &k::empty_image, release());
  m.def("solid_mask", &k::solid_mask, release());
  m.def("invert_mask", &k::invert_mask, release());
  m.def("mask_to_image", &k::mask_to_image, release());
  m.def("image_to_mask", &k::image_to_mask, release());
  m.def("grow_mask", &k::grow_mask, release());
  m.def("threshold_mask", &k::threshold_mask, release());
  m.def("mask_composite", &k::mask_composite, release());
  m.def("crop_mask", &k::crop_mask, release());
  m.def("feather_mask", &k::feather_mask, release());
  m.def("empty_latent_image", &k::empty_latent_image, release());
  m.def("latent_upscale", &k::latent_upscale, release());
  m.def("latent_upscale_by", &k::latent_upscale_by, release());
  m.def("latent_composite", &k::latent_composite, release());
  m.def("latent_blend", &k::latent_blend, release());
  m.def("latent_from_batch", &k::latent_from_batch, release());
  m.def("repeat_latent_batch", &k::repeat_latent_batch, release());
  m.def("latent_crop", &k::latent_crop, release());
  m.def("latent_flip", &k::latent_flip, release());
  m.def("latent_rotate", &k::latent_rotate, release());
  m.def("to_uint8", &k::to_uint8, release());
  // Lets a test prove the GIL is released: sleeps in C++ for `ms` milliseconds.
  m.def("_sleep_ms", [](int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); },
        release());
}
