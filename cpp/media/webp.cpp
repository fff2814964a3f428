// WebP through libwebp with Pillow's WebP defaults.
#include <webp/encode.h>

#include "media/media.h"

namespace comfy::media {

std::string encode_webp(const Pixels& img, float quality, bool lossless) {
  if (img.channels != 3 && img.channels != 4) throw MediaError("WebP needs 3 or 4 channels");
  if (img.width <= 0 || img.height <= 0) throw MediaError("WebP needs a non-empty image");
  WebPConfig config;
  if (!WebPConfigInit(&config)) throw MediaError("libwebp version mismatch");
  config.quality = quality;
  config.lossless = lossless ? 1 : 0;
  config.method = 4;  // Pillow's default `method`
  // A second thread for the analysis pass: the same bytes (checked), less latency for /view.
  config.thread_level = 1;
  if (!WebPValidateConfig(&config)) throw MediaError("invalid WebP configuration (quality must be 0..100)");

  WebPPicture pic;
  if (!WebPPictureInit(&pic)) throw MediaError("libwebp version mismatch");
  pic.width = img.width;
  pic.height = img.height;
  pic.use_argb = lossless ? 1 : 0;  // lossy goes straight to YUV, lossless stays ARGB
  int stride = static_cast<int>(img.stride);
  int ok = img.channels == 4 ? WebPPictureImportRGBA(&pic, img.data, stride) : WebPPictureImportRGB(&pic, img.data, stride);
  if (!ok) {
    WebPPictureFree(&pic);
    throw MediaError("out of memory importing a WebP picture");
  }
  WebPMemoryWriter writer;
  WebPMemoryWriterInit(&writer);
  pic.writer = WebPMemoryWrite;
  pic.custom_ptr = &writer;
  ok = WebPEncode(&config, &pic);
  int code = pic.error_code;
  WebPPictureFree(&pic);
  std::string out = ok ? std::string(reinterpret_cast<char*>(writer.mem), writer.size) : std::string();
  WebPMemoryWriterClear(&writer);
  if (!ok) throw MediaError("WebP encoding failed (libwebp error " + std::to_string(code) + ")");
  return out;
}

}  // namespace comfy::media
