// IMAGE float32 -> uint8 with ComfyUI's truncation, on the CPU with ATen's thread pool and on
// CUDA with our kernel (cuda/quantize.cu) when this target is built with CUDA.
#include "kernels/ops.h"
#include "media/media.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <stdexcept>

#ifdef COMFY_KERNELS_CUDA
#include <ATen/cuda/CUDAContext.h>
#include "kernels/cuda/quantize.cuh"
#endif

namespace comfy::kernels {

bool built_with_cuda() {
#ifdef COMFY_KERNELS_CUDA
  return true;
#else
  return false;
#endif
}

at::Tensor to_uint8(const at::Tensor& image) {
  if (image.scalar_type() != at::kFloat) throw std::invalid_argument("to_uint8 expects float32");
  at::Tensor src = image.contiguous();
  at::Tensor out = at::empty(src.sizes(), src.options().dtype(at::kByte));
  const int64_t n = src.numel();
  if (src.is_cuda()) {
#ifdef COMFY_KERNELS_CUDA
    int err = cuda::quantize_u8(src.data_ptr<float>(), out.data_ptr<uint8_t>(),
                                static_cast<size_t>(n), at::cuda::getCurrentCUDAStream().stream());
    if (err != 0) throw std::runtime_error("quantize_u8 CUDA launch failed: " + std::to_string(err));
    return out;
#else
    // Built without CUDA: the same arithmetic with ATen ops on the tensor's device.
    return at::clamp(src * 255.0, 0, 255).nan_to_num(0).to(at::kByte);
#endif
  }
  const float* in = src.data_ptr<float>();
  uint8_t* o = out.data_ptr<uint8_t>();
  at::parallel_for(0, n, 1 << 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) o[i] = media::quantize_one(in[i]);
  });
  return out;
}

}  // namespace comfy::kernels
