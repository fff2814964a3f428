// Native image encoding for SaveImage, PreviewImage, progress previews and /view re-encoding:
// ComfyUI's float -> uint8 conversion, a PNG writer of our own (chunks as Pillow writes them, IDAT
// deflated by libdeflate), JPEG through TurboJPEG, WebP through libwebp, and PNG decoding through
// libpng. No Python and no torch here: the bindings (cpp/bindings/bind_media.cpp) only translate.
//
// Pixels are interleaved, row-major, 8 bits per sample: 1 channel (grey, Pillow "L"), 2 (grey +
// alpha, "LA"), 3 ("RGB") or 4 ("RGBA"). Every function is reentrant and may run on any thread at
// once; none keeps a reference to its input after it returns. Failures throw MediaError.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace comfy::media {

struct MediaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A file could not be written (the bindings raise OSError for it, ValueError for MediaError).
struct FileError : MediaError {
  using MediaError::MediaError;
};

// A borrowed view of uint8 pixels; rows are `stride` bytes apart (>= width * channels).
struct Pixels {
  const uint8_t* data = nullptr;
  int width = 0, height = 0, channels = 0;
  size_t stride = 0;
};

// ---- float -> uint8 -------------------------------------------------------------------------
// ComfyUI's `np.clip(255. * x, 0, 255).astype(np.uint8)` in float32: the product is truncated, not
// rounded (189.99998 -> 189); NaN and negatives give 0, +inf and anything >= 255 give 255.
// Written as compare-selects so loops over it vectorise to mul/max/min/truncating convert.
// `v > 0 ? v : 0` also maps NaN to 0, which is what numpy's float->uint8 cast yields for the NaN
// that np.clip lets through (on x86: cvttps2dq gives INT_MIN, which saturates to 0).
inline uint8_t quantize_one(float x) {
  float v = 255.0f * x;
  v = v > 0.0f ? v : 0.0f;
  v = v < 255.0f ? v : 255.0f;
  return static_cast<uint8_t>(static_cast<int>(v));
}
void quantize(const float* src, size_t count, uint8_t* dst);

// ---- PNG ------------------------------------------------------------------------------------
// One text entry as Pillow's PngInfo.add_text writes it. `key` and `value` are UTF-8. A value whose
// characters all fit latin-1 becomes a tEXt chunk (key NUL value, both latin-1); any other value,
// or an entry marked `itxt` (a text that Pillow read from an iTXt chunk), becomes an uncompressed
// iTXt chunk (key NUL 0 0 lang NUL translated-key NUL utf-8 value). A key outside latin-1 is an
// error, as in Pillow.
struct PngText {
  std::string key, value;
  bool itxt = false;
  std::string lang, tkey;  // iTXt only
};

// Pillow/zlib compress_level 0..9 (-1 = zlib's default, 6). The IDAT data is one zlib stream from
// libdeflate at a level chosen so the file size stays close to Pillow's at the same level; rows get
// libpng's adaptive filter choice (the filter whose output has the least sum of |signed bytes|;
// none at level 0, as zlib stores the bytes anyway).
struct PngOptions {
  int compress_level = 6;
  std::vector<PngText> text;  // written in order, after IHDR and before IDAT
};

std::string encode_png(const Pixels& img, const PngOptions& opt);

// The chunk layer, exposed for tests: a whole chunk (length, type, data, CRC-32).
std::string png_chunk(const char type[4], const std::string& data);
// The chunk for one text entry (tEXt or iTXt, see PngText).
std::string png_text_chunk(const PngText& t);
// Filter type (0..4) the adaptive heuristic picks for one row; `prev` is nullptr for the first row.
int png_choose_filter(const uint8_t* row, const uint8_t* prev, size_t row_bytes, int bpp, uint8_t* out);

// A decoded 8-bit PNG and its text chunks in file order, read as Pillow's PngImageFile.text does
// (tEXt and zTXt latin-1, iTXt utf-8 with itxt=true; later duplicates replace earlier ones in
// place).
struct DecodedPng {
  int width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;  // height * width * channels
  std::vector<PngText> text;
};
// Decodes with libpng, without gamma or colour transforms (Pillow applies none), only the layouts
// whose Pillow pixels are exactly the stored bytes: 8-bit grey, grey+alpha, RGB and RGBA, no
// tRNS or iCCP chunk, not animated, interlaced or not. Returns nullopt for anything else (palette,
// 16-bit, tRNS, iCCP, APNG, not a PNG, a text chunk Pillow would refuse) and for any corrupt or truncated file,
// so the caller can fall back to Pillow and get exactly Pillow's result or error. `max_pixels`
// (Pillow's decompression-bomb limit) bounds width * height the same way. Never throws.
std::optional<DecodedPng> decode_png(const uint8_t* data, size_t size, uint64_t max_pixels = 178956970);

// ---- JPEG and WebP --------------------------------------------------------------------------
// JPEG as Pillow saves it by default: baseline, 4:2:0 chroma subsampling for colour (grey stays
// one channel), accurate DCT. `quality` is clamped to 1..100 as libjpeg does. 1 or 3 channels.
std::string encode_jpeg(const Pixels& img, int quality);
// WebP with Pillow's defaults (method 4, alpha quality 100): lossy at `quality` (0..100, anything
// else is an error as in libwebp), or lossless. 3 or 4 channels.
std::string encode_webp(const Pixels& img, float quality, bool lossless = false);

// ---- batches --------------------------------------------------------------------------------
// Encodes images [0, count) with `encode_one(i)` on up to `threads` worker threads (0 = one per
// hardware thread, never more than count); results in index order. The first exception thrown
// by any worker is rethrown after all workers stop.
std::vector<std::string> parallel_encode(size_t count, unsigned threads,
                                         const std::function<std::string(size_t)>& encode_one);

// Writes `bytes` to `path` (created or truncated); throws FileError with errno's text on failure.
void write_file(const std::string& path, const std::string& bytes);

}  // namespace comfy::media
