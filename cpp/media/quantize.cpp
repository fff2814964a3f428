// float32 -> uint8 exactly as ComfyUI's `np.clip(255. * x, 0, 255).astype(np.uint8)`.
#include "media/media.h"

namespace comfy::media {

// Written as compare-selects so the loop below vectorises to mul/max/min/truncating convert.
// `v > 0 ? v : 0` also maps NaN to 0, which is what numpy's float->uint8 cast yields for the NaN
// that np.clip lets through (on x86: cvttps2dq gives INT_MIN, which saturates to 0).
uint8_t quantize_one(float x) {
  float v = 255.0f * x;
  v = v > 0.0f ? v : 0.0f;
  v = v < 255.0f ? v : 255.0f;
  return static_cast<uint8_t>(static_cast<int>(v));
}

void quantize(const float* src, size_t count, uint8_t* dst) {
  for (size_t i = 0; i < count; ++i) {
    float v = 255.0f * src[i];
    v = v > 0.0f ? v : 0.0f;
    v = v < 255.0f ? v : 255.0f;
    dst[i] = static_cast<uint8_t>(static_cast<int>(v));
  }
}

std::vector<uint8_t> quantize(const FloatPixels& img) {
  size_t n = static_cast<size_t>(img.width) * img.height * img.channels;
  std::vector<uint8_t> out(n);
  quantize(img.data, n, out.data());
  return out;
}

}  // namespace comfy::media
