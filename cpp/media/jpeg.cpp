// JPEG through TurboJPEG with the settings Pillow's JpegEncoder uses by default.
#include <turbojpeg.h>

#include "media/media.h"

namespace comfy::media {

std::string encode_jpeg(const Pixels& img, int quality) {
  if (img.channels != 1 && img.channels != 3) throw MediaError("JPEG needs 1 or 3 channels");
  if (img.width <= 0 || img.height <= 0) throw MediaError("JPEG needs a non-empty image");
  // libjpeg's jpeg_quality_scaling clamps the same way (Pillow passes the number through).
  quality = quality < 1 ? 1 : quality > 100 ? 100 : quality;
  tjhandle h = tjInitCompress();
  if (!h) throw MediaError("cannot initialise TurboJPEG");
  unsigned char* buf = nullptr;
  unsigned long len = 0;
  const bool grey = img.channels == 1;
  // TurboJPEG would pick the fast integer DCT below quality 96; libjpeg's default (and Pillow's)
  // is the accurate one.
  int rc = tjCompress2(h, img.data, img.width, static_cast<int>(img.stride), img.height, grey ? TJPF_GRAY : TJPF_RGB,
                       &buf, &len, grey ? TJSAMP_GRAY : TJSAMP_420, quality, TJFLAG_ACCURATEDCT);
  std::string err = rc ? tjGetErrorStr2(h) : "";
  std::string out = rc ? std::string() : std::string(reinterpret_cast<char*>(buf), len);
  tjFree(buf);
  tjDestroy(h);
  if (rc) throw MediaError("JPEG encoding failed: " + err);
  return out;
}

}  // namespace comfy::media
