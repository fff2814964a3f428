// float32 -> uint8 exactly as ComfyUI's `np.clip(255. * x, 0, 255).astype(np.uint8)`.
#include "media/media.h"

namespace comfy::media {

void quantize(const float* src, size_t count, uint8_t* dst) {
  for (size_t i = 0; i < count; ++i) dst[i] = quantize_one(src[i]);
}

}  // namespace comfy::media
