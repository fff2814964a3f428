// PNG decoding: our own chunk walk (structure, CRCs, layout, text as Pillow reads it), then libpng
// for the pixels. Anything Pillow might treat differently returns nullopt, and the caller asks Pillow.
#include <libdeflate.h>
#include <png.h>

#include <csetjmp>
#include <cstring>

#include "media/media.h"

namespace comfy::media {
namespace {

constexpr size_t kMaxTextChunk = 1024 * 1024;        // PngImagePlugin.MAX_TEXT_CHUNK
constexpr size_t kMaxTextMemory = 64 * 1024 * 1024;  // PngImagePlugin.MAX_TEXT_MEMORY

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::string latin1_to_utf8(const uint8_t* p, size_t n) {
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] < 0x80) {
      out.push_back(static_cast<char>(p[i]));
    } else {
      out.push_back(static_cast<char>(0xC0 | (p[i] >> 6)));
      out.push_back(static_cast<char>(0x80 | (p[i] & 0x3F)));
    }
  }
  return out;
}

// Python's strict UTF-8 decoder: no overlongs, no surrogates, nothing above U+10FFFF.
bool valid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    uint8_t c = p[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (!len || i + len > n) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// zlib-decompresses a text payload of at most MAX_TEXT_CHUNK bytes; nullopt when the stream is
// corrupt, truncated or larger (Pillow's answers there vary with LOAD_TRUNCATED_IMAGES).
std::optional<std::string> inflate_text(const uint8_t* p, size_t n) {
  thread_local struct Holder {
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    ~Holder() { libdeflate_free_decompressor(d); }
  } holder;
  if (!holder.d) return std::nullopt;
  for (size_t cap = 4096;; cap *= 4) {
    if (cap > kMaxTextChunk) cap = kMaxTextChunk;
    std::string out(cap, '\0');
    size_t in_used = 0, got = 0;
    auto r = libdeflate_zlib_decompress_ex(holder.d, p, n, out.data(), cap, &in_used, &got);
    if (r == LIBDEFLATE_SUCCESS) {
      out.resize(got);
      return out;
    }
    if (r != LIBDEFLATE_INSUFFICIENT_SPACE || cap == kMaxTextChunk) return std::nullopt;
  }
}

struct TextTable {
  std::vector<PngText> entries;
  size_t memory = 0;
  // Pillow keeps a dict: a repeated key replaces the value where the key first appeared.
  void put(PngText t) {
    memory += t.value.size();
    for (auto& e : entries)
      if (e.key == t.key) {
        e = std::move(t);
        return;
      }
    entries.push_back(std::move(t));
  }
};

// One text chunk as PngImagePlugin's chunk_tEXt / chunk_zTXt / chunk_iTXt; false when Pillow would
// raise (or its result depends on LOAD_TRUNCATED_IMAGES).
bool read_text(const char* type, const uint8_t* d, size_t n, TextTable& table) {
  const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(d, 0, n));
  size_t klen = nul ? static_cast<size_t>(nul - d) : n;
  const uint8_t* rest = nul ? nul + 1 : d + n;
  size_t rlen = nul ? n - klen - 1 : 0;
  if (!std::strcmp(type, "tEXt")) {
    if (klen) table.put({latin1_to_utf8(d, klen), latin1_to_utf8(rest, rlen), false, {}, {}});
    return true;
  }
  if (!std::strcmp(type, "zTXt")) {
    if (rlen && rest[0] != 0) return false;  // unknown compression method: Pillow raises
    auto v = inflate_text(rest + (rlen ? 1 : 0), rlen ? rlen - 1 : 0);
    if (!v) return false;
    if (klen) table.put({latin1_to_utf8(d, klen),
                         latin1_to_utf8(reinterpret_cast<const uint8_t*>(v->data()), v->size()), false, {}, {}});
    return true;
  }
  // iTXt: key NUL flag method lang NUL tkey NUL text; malformed ones are skipped, as Pillow does.
  if (!nul || rlen < 2) return true;
  uint8_t flag = rest[0], method = rest[1];
  std::string r(reinterpret_cast<const char*>(rest + 2), rlen - 2);
  size_t a = r.find('\0');
  if (a == std::string::npos) return true;
  size_t b = r.find('\0', a + 1);
  if (b == std::string::npos) return true;
  PngText t{latin1_to_utf8(d, klen), r.substr(b + 1), true, r.substr(0, a), r.substr(a + 1, b - a - 1)};
  if (flag != 0) {
    if (method != 0) return true;
    auto v = inflate_text(reinterpret_cast<const uint8_t*>(t.value.data()), t.value.size());
    if (!v) return false;
    t.value = std::move(*v);
  }
  if (!valid_utf8(t.lang) || !valid_utf8(t.tkey) || !valid_utf8(t.value)) return true;
  table.put(std::move(t));
  return true;
}

struct Header {
  uint32_t width = 0, height = 0;
  int depth = 0, ctype = -1, interlace = 0;
};

// Walks every chunk up to IEND checking lengths and CRCs; collects the header and the text.
bool walk_chunks(const uint8_t* data, size_t size, Header& h, TextTable& text) {
  if (size < 8 || std::memcmp(data, "\x89PNG\r\n\x1a\n", 8) != 0) return false;
  size_t pos = 8;
  bool first = true;
  while (true) {
    if (size - pos < 12) return false;  // truncated: no IEND
    uint32_t len = be32(data + pos);
    if (len > 0x7fffffffu || size - pos - 12 < len) return false;
    char type[5] = {};
    std::memcpy(type, data + pos + 4, 4);
    const uint8_t* body = data + pos + 8;
    if (libdeflate_crc32(0, data + pos + 4, len + 4) != be32(body + len)) return false;
    if (first != !std::strcmp(type, "IHDR")) return false;
    first = false;
    if (!std::strcmp(type, "IHDR")) {
      if (len != 13) return false;
      h.width = be32(body);
      h.height = be32(body + 4);
      h.depth = body[8];
      h.ctype = body[9];
      h.interlace = body[12];
    } else if (!std::strcmp(type, "tRNS") || !std::strcmp(type, "acTL") || !std::strcmp(type, "iCCP")) {
      // A transparency key or APNG changes Pillow's pixels; an ICC profile rides along in Pillow's
      // info and into the PNGs it writes from the image. Pillow handles those files.
      return false;
    } else if (!std::strcmp(type, "tEXt") || !std::strcmp(type, "zTXt") || !std::strcmp(type, "iTXt")) {
      if (!read_text(type, body, len, text) || text.memory > kMaxTextMemory) return false;
    } else if (!std::strcmp(type, "IEND")) {
      return true;
    }
    pos += 12 + len;
  }
}

struct MemReader {
  const uint8_t* data;
  size_t size, pos;
};

// libpng callbacks. They run inside libpng's C frames, so they hold nothing that needs a destructor
// and leave through png_error / longjmp only.
void read_mem(png_structp png, png_bytep out, size_t len) {
  auto* r = static_cast<MemReader*>(png_get_io_ptr(png));
  if (r->size - r->pos < len) png_error(png, "truncated");
  std::memcpy(out, r->data + r->pos, len);
  r->pos += len;
}
void on_error(png_structp png, png_const_charp) { std::longjmp(png_jmpbuf(png), 1); }
void on_warning(png_structp, png_const_charp) {}

// Decodes the pixels into `out.pixels` (already sized); false on any libpng error. Every object
// with a destructor lives outside this frame, so the longjmp back to setjmp skips none.
bool read_pixels(const uint8_t* data, size_t size, png_bytep* rows, size_t row_bytes) {
  MemReader reader{data, size, 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, nullptr, on_error, on_warning);
  if (!png) return false;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &reader, read_mem);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);  // the caller applied Pillow's pixel limit
  // Ancillary chunks (text, colour profiles, gamma) are Pillow's business, not the pixels': skip all.
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);
  png_read_info(png, info);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != row_bytes) png_error(png, "unexpected row size");
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

}  // namespace

std::optional<DecodedPng> decode_png(const uint8_t* data, size_t size, uint64_t max_pixels) {
  Header h;
  TextTable text;
  if (!walk_chunks(data, size, h, text)) return std::nullopt;
  int channels = h.ctype == 0 ? 1 : h.ctype == 4 ? 2 : h.ctype == 2 ? 3 : h.ctype == 6 ? 4 : 0;
  if (h.depth != 8 || !channels || h.interlace > 1) return std::nullopt;
  if (h.width == 0 || h.height == 0 || h.width > 0x7fffffffu || h.height > 0x7fffffffu) return std::nullopt;
  if (uint64_t{h.width} * h.height > max_pixels) return std::nullopt;
  DecodedPng out;
  out.width = static_cast<int>(h.width);
  out.height = static_cast<int>(h.height);
  out.channels = channels;
  size_t row_bytes = size_t{h.width} * channels;
  out.pixels.resize(row_bytes * h.height);
  std::vector<png_bytep> rows(h.height);
  for (size_t y = 0; y < h.height; ++y) rows[y] = out.pixels.data() + y * row_bytes;
  if (!read_pixels(data, size, rows.data(), row_bytes)) return std::nullopt;
  out.text = std::move(text.entries);
  return out;
}

}  // namespace comfy::media
