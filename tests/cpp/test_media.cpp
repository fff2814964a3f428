// cpp/media: ComfyUI's truncating float->uint8, the PNG writer's chunk layout and round trip
// (decoded by libpng, independently of our decoder), PNG decoding, JPEG/WebP and batches.
#include <gtest/gtest.h>
#include <png.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "media/media.h"

using namespace comfy::media;

namespace {

uint32_t be32(const std::string& s, size_t at) {
  auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(s[at + i])); };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

// Bitwise CRC-32 (PNG's polynomial), independent of the libdeflate one the writer uses.
uint32_t crc32_slow(const std::string& s, size_t at, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= static_cast<unsigned char>(s[at + i]);
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
  }
  return c ^ 0xFFFFFFFFu;
}

struct Chunk {
  std::string type, data;
};

std::vector<Chunk> chunks(const std::string& png) {
  std::vector<Chunk> out;
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  for (size_t pos = 8; pos < png.size();) {
    uint32_t len = be32(png, pos);
    EXPECT_LE(pos + 12 + len, png.size());
    EXPECT_EQ(be32(png, pos + 8 + len), crc32_slow(png, pos + 4, len + 4));
    out.push_back({png.substr(pos + 4, 4), png.substr(pos + 8, len)});
    pos += 12 + len;
  }
  return out;
}

// Decodes with libpng's simplified API into the image's own format: the reference reader.
std::vector<uint8_t> libpng_decode(const std::string& png, int& w, int& h, int& channels) {
  png_image img;
  std::memset(&img, 0, sizeof img);
  img.version = PNG_IMAGE_VERSION;
  EXPECT_TRUE(png_image_begin_read_from_memory(&img, png.data(), png.size())) << img.message;
  w = static_cast<int>(img.width);
  h = static_cast<int>(img.height);
  channels = PNG_IMAGE_PIXEL_CHANNELS(img.format);
  std::vector<uint8_t> out(PNG_IMAGE_SIZE(img));
  EXPECT_TRUE(png_image_finish_read(&img, nullptr, out.data(), 0, nullptr)) << img.message;
  return out;
}

// Smooth gradients plus noise: something deflate and the row filters can work on.
std::vector<uint8_t> natural(int w, int h, int c, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.f, 3.f);
  std::vector<uint8_t> out(static_cast<size_t>(w) * h * c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int k = 0; k < c; ++k) {
        float v = 128 + 100 * std::sin(0.05f * x * (k + 1) + 0.03f * y) + noise(rng);
        out[(static_cast<size_t>(y) * w + x) * c + k] = static_cast<uint8_t>(std::clamp(v, 0.f, 255.f));
      }
  return out;
}

Pixels view(const std::vector<uint8_t>& p, int w, int h, int c) {
  return {p.data(), w, h, c, static_cast<size_t>(w) * c};
}

}  // namespace

TEST(Quantize, TruncatesLikeComfyUI) {
  // EmptyImage 0x41 inverted: 1 - 65/255 in float32 is 0.745098, times 255 is 189.99998 -> 189.
  float inverted = 1.0f - 65.0f / 255.0f;
  EXPECT_EQ(255.0f * inverted, 189.99998f);
  EXPECT_EQ(quantize_one(inverted), 189);
  EXPECT_EQ(quantize_one(189.99998f / 255.0f), 189);
  EXPECT_EQ(quantize_one(0.0f), 0);
  EXPECT_EQ(quantize_one(1.0f), 255);
  EXPECT_EQ(quantize_one(0.5f), 127);  // 127.5 truncates
  EXPECT_EQ(quantize_one(-0.25f), 0);
  EXPECT_EQ(quantize_one(7.0f), 255);
  EXPECT_EQ(quantize_one(std::numeric_limits<float>::infinity()), 255);
  EXPECT_EQ(quantize_one(-std::numeric_limits<float>::infinity()), 0);
  EXPECT_EQ(quantize_one(std::numeric_limits<float>::quiet_NaN()), 0);  // numpy's cast gives 0 too
}

TEST(Quantize, VectorLoopMatchesScalar) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> d(-0.2f, 1.2f);
  std::vector<float> src(10007);
  for (auto& v : src) v = d(rng);
  src[5] = std::nanf("");
  src[6] = -0.0f;
  for (int i = 0; i < 256; ++i) src[100 + i] = i / 255.0f;  // every exact level
  std::vector<uint8_t> dst(src.size());
  quantize(src.data(), src.size(), dst.data());
  for (size_t i = 0; i < src.size(); ++i) ASSERT_EQ(dst[i], quantize_one(src[i])) << i;
  for (int i = 0; i < 256; ++i) EXPECT_LE(std::abs(dst[100 + i] - i), 1);
}

TEST(PngWriter, ChunkLayoutAsPillowWritesIt) {
  std::vector<uint8_t> px(5 * 4 * 3, 0);
  PngOptions opt;
  opt.compress_level = 4;
  opt.text = {{"prompt", "{}"}, {"k2", "h\xC3\xA9"}, {"k3", "\xE4\xB8\xAD"}, {"wf", "ascii", true, "en", "t"}};
  auto c = chunks(encode_png(view(px, 5, 4, 3), opt));
  ASSERT_EQ(c.size(), 7u);
  EXPECT_EQ(c[0].type, "IHDR");
  EXPECT_EQ(c[0].data, std::string("\0\0\0\5\0\0\0\4\x08\x02\0\0\0", 13));
  EXPECT_EQ(c[1].type, "tEXt");
  EXPECT_EQ(c[1].data, std::string("prompt\0{}", 9));
  EXPECT_EQ(c[2].type, "tEXt");  // latin-1 fits: é is one byte
  EXPECT_EQ(c[2].data, std::string("k2\0h\xE9", 5));
  EXPECT_EQ(c[3].type, "iTXt");  // outside latin-1: uncompressed iTXt, empty language and key
  EXPECT_EQ(c[3].data, std::string("k3\0\0\0\0\0\xE4\xB8\xAD", 10));
  EXPECT_EQ(c[4].type, "iTXt");  // read from an iTXt: stays iTXt with its language and key
  EXPECT_EQ(c[4].data, std::string("wf\0\0\0en\0t\0ascii", 15));
  EXPECT_EQ(c[5].type, "IDAT");
  EXPECT_EQ(c[6].type, "IEND");
  EXPECT_EQ(c[6].data, "");
}

TEST(PngWriter, KeyOutsideLatin1IsAnError) {
  EXPECT_THROW(png_text_chunk({"\xE4\xB8\xAD", "v"}), MediaError);
}

TEST(PngWriter, ColourTypesAndLevelsRoundTripThroughLibpng) {
  const int w = 37, h = 23;
  for (int c : {1, 2, 3, 4}) {
    auto px = natural(w, h, c, c);
    for (int level : {0, 1, 4, 6, 9, -1}) {
      std::string png = encode_png(view(px, w, h, c), {level, {}});
      static constexpr int kType[] = {0, 0, 4, 2, 6};
      EXPECT_EQ(static_cast<int>(static_cast<unsigned char>(png[25])), kType[c]);
      int dw, dh, dc;
      auto back = libpng_decode(png, dw, dh, dc);
      EXPECT_EQ(dw, w);
      EXPECT_EQ(dh, h);
      EXPECT_EQ(dc, c);
      EXPECT_EQ(back, px) << "channels " << c << " level " << level;
    }
  }
}

TEST(PngWriter, StridedInputAndRejections) {
  auto px = natural(10, 6, 3);
  std::vector<uint8_t> padded(6 * 40, 0xAB);
  for (int y = 0; y < 6; ++y) std::memcpy(&padded[y * 40], &px[y * 30], 30);
  Pixels v{padded.data(), 10, 6, 3, 40};
  int w, h, c;
  EXPECT_EQ(libpng_decode(encode_png(v, {}), w, h, c), px);
  EXPECT_THROW(encode_png(view(px, 10, 6, 5), {}), MediaError);
  EXPECT_THROW(encode_png(view(px, 0, 6, 3), {}), MediaError);
  EXPECT_THROW(encode_png(view(px, 10, 6, 3), {10, {}}), MediaError);
}

TEST(PngWriter, AdaptiveFilterChoice) {
  std::vector<uint8_t> ramp(30), out(30);
  for (int i = 0; i < 30; ++i) ramp[i] = static_cast<uint8_t>(100 + 3 * (i / 3));
  EXPECT_EQ(png_choose_filter(ramp.data(), nullptr, 30, 3, out.data()), 1);  // Sub: all 3s
  EXPECT_EQ(out[0], 100);
  EXPECT_EQ(out[5], 3);
  std::vector<uint8_t> noise = natural(10, 1, 3, 9);
  EXPECT_EQ(png_choose_filter(noise.data(), noise.data(), 30, 3, out.data()), 2);  // Up: all zeros
  EXPECT_EQ(out, std::vector<uint8_t>(30, 0));
  std::vector<uint8_t> zeros(30, 0);
  EXPECT_EQ(png_choose_filter(zeros.data(), nullptr, 30, 3, out.data()), 0);  // ties keep None
}

TEST(PngDecoder, PixelsAndTextInPillowsOrder) {
  auto px = natural(9, 7, 4);
  PngOptions opt{1, {{"a", "1"}, {"b", "\xE2\x82\xAC"}, {"a", "2"}}};
  std::string png = encode_png(view(px, 9, 7, 4), opt);
  auto d = decode_png(reinterpret_cast<const uint8_t*>(png.data()), png.size());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->width, 9);
  EXPECT_EQ(d->height, 7);
  EXPECT_EQ(d->channels, 4);
  EXPECT_EQ(d->pixels, px);
  ASSERT_EQ(d->text.size(), 2u);  // a dict: the second "a" replaces the first in place
  EXPECT_EQ(d->text[0].key, "a");
  EXPECT_EQ(d->text[0].value, "2");
  EXPECT_FALSE(d->text[0].itxt);
  EXPECT_EQ(d->text[1].key, "b");
  EXPECT_EQ(d->text[1].value, "\xE2\x82\xAC");
  EXPECT_TRUE(d->text[1].itxt);
}

TEST(PngDecoder, LeavesAnythingUnusualToPillow) {
  auto px = natural(8, 8, 3);
  std::string png = encode_png(view(px, 8, 8, 3), {});
  auto dec = [](const std::string& s, uint64_t limit = 178956970) {
    return decode_png(reinterpret_cast<const uint8_t*>(s.data()), s.size(), limit);
  };
  EXPECT_TRUE(dec(png));
  EXPECT_FALSE(dec(png.substr(0, png.size() - 20)));  // truncated
  std::string bad = png;
  bad[40] ^= 1;  // inside IDAT: CRC mismatch
  EXPECT_FALSE(dec(bad));
  EXPECT_FALSE(dec("GIF89a"));
  EXPECT_FALSE(dec(png, 63));  // over the pixel limit
  // A tRNS chunk (transparent colour) changes what Pillow reports: not ours to decode.
  std::string trns = png_chunk("tRNS", std::string("\0\0\0\0\0\0", 6));
  std::string with_trns = png.substr(0, 33) + trns + png.substr(33);
  EXPECT_FALSE(dec(with_trns));
}

TEST(Lossy, JpegAndWebpProduceTheirFormats) {
  auto rgb = natural(32, 16, 3);
  std::string j = encode_jpeg(view(rgb, 32, 16, 3), 95);
  EXPECT_EQ(j.substr(0, 2), "\xFF\xD8");
  EXPECT_EQ(j.substr(j.size() - 2), "\xFF\xD9");
  auto grey = natural(32, 16, 1);
  EXPECT_EQ(encode_jpeg(view(grey, 32, 16, 1), 0).substr(0, 2), "\xFF\xD8");  // quality clamps to 1
  EXPECT_THROW(encode_jpeg(view(rgb, 8, 8, 4), 90), MediaError);
  std::string w = encode_webp(view(rgb, 32, 16, 3), 90);
  EXPECT_EQ(w.substr(0, 4), "RIFF");
  EXPECT_EQ(w.substr(8, 4), "WEBP");
  auto rgba = natural(32, 16, 4);
  EXPECT_EQ(encode_webp(view(rgba, 32, 16, 4), 90, true).substr(8, 4), "WEBP");
  EXPECT_THROW(encode_webp(view(rgb, 32, 16, 3), 101), MediaError);
}

TEST(Batch, ParallelEqualsSequentialAndRethrows) {
  const int n = 5, h = 16, w = 24, c = 3;
  std::vector<float> batch(static_cast<size_t>(n) * h * w * c);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  for (auto& v : batch) v = d(rng);
  PngOptions opt{4, {{"prompt", "{}"}}};
  // As the bindings encode a batch: each worker quantizes and encodes its own images.
  const size_t per = static_cast<size_t>(h) * w * c;
  auto encode_one = [&](size_t i) {
    std::vector<uint8_t> px(per);
    quantize(batch.data() + i * per, per, px.data());
    return encode_png(Pixels{px.data(), w, h, c, static_cast<size_t>(w) * c}, opt);
  };
  auto par = parallel_encode(n, 4, encode_one);
  auto seq = parallel_encode(n, 1, encode_one);
  ASSERT_EQ(par.size(), 5u);
  EXPECT_EQ(par, seq);
  for (size_t i = 0; i < par.size(); ++i) EXPECT_EQ(par[i], encode_one(i));  // in index order
  EXPECT_NE(par[0], par[1]);
  EXPECT_THROW(parallel_encode(8, 3, [](size_t i) -> std::string {
                 if (i == 5) throw MediaError("boom");
                 return "x";
               }),
               MediaError);
  EXPECT_THROW(write_file("/nonexistent-dir/a.png", "x"), FileError);
}

namespace {
// An Adam7-interlaced PNG written by libpng's own writer (ours never interlaces).
std::string libpng_write_interlaced(const std::vector<uint8_t>& px, int w, int h, int c) {
  static constexpr int kType[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                  PNG_COLOR_TYPE_RGB_ALPHA};
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, size_t n) {
        static_cast<std::string*>(png_get_io_ptr(p))->append(reinterpret_cast<char*>(data), n);
      },
      nullptr);
  png_set_IHDR(png, info, w, h, 8, kType[c], PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_text text{};
  text.compression = PNG_TEXT_COMPRESSION_zTXt;
  text.key = const_cast<char*>("comment");
  text.text = const_cast<char*>("caf\xE9");
  png_set_text(png, info, &text, 1);
  std::vector<png_bytep> rows(h);
  for (int y = 0; y < h; ++y) rows[y] = const_cast<uint8_t*>(px.data()) + static_cast<size_t>(y) * w * c;
  png_set_rows(png, info, rows.data());
  png_write_png(png, info, PNG_TRANSFORM_IDENTITY, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}
}  // namespace

TEST(PngDecoder, InterlacedAndZtxtFromLibpng) {
  for (int c : {1, 2, 3, 4}) {
    auto px = natural(19, 11, c, c + 20);
    std::string png = libpng_write_interlaced(px, 19, 11, c);
    auto d = decode_png(reinterpret_cast<const uint8_t*>(png.data()), png.size());
    ASSERT_TRUE(d) << c;
    EXPECT_EQ(d->channels, c);
    EXPECT_EQ(d->pixels, px);
    ASSERT_EQ(d->text.size(), 1u);
    EXPECT_EQ(d->text[0].key, "comment");
    EXPECT_EQ(d->text[0].value, "caf\xC3\xA9");  // latin-1 on disk, UTF-8 here
    EXPECT_FALSE(d->text[0].itxt);
  }
}
