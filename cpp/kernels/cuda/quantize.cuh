// CUDA kernels that need no torch: raw device pointers and a stream, so this file compiles with
// nvcc alone (CI compiles it on machines without a GPU) and the torch glue stays in C++.
#pragma once

#include <cstddef>
#include <cstdint>

namespace comfy::kernels::cuda {

// out[i] = uint8(clip(255 * in[i], 0, 255)) in float32, truncating; NaN -> 0. Returns the CUDA
// error code of the launch (0 on success). `stream` is a cudaStream_t passed as void*.
int quantize_u8(const float* in, uint8_t* out, size_t n, void* stream);

}  // namespace comfy::kernels::cuda
