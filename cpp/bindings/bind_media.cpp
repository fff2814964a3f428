// Binds cpp/media as comfy._core.media. Translation only: arrays come in through the buffer
// protocol without copies (C-contiguous float32 or uint8), bytes go out; the GIL is released for
// all pixel work, so encodes on other Python threads (or the server) run alongside.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings/pyconv.h"
#include "media/media.h"

namespace comfy::py {
namespace {

namespace media = comfy::media;

// A borrowed image or batch: the buffer stays held (and must be released with the GIL) while the
// pointer is used.
struct ArrayIn {
  pyb::buffer_info info;
  bool is_float = false;
  size_t count = 1;
  int height = 0, width = 0, channels = 1;
  const void* ptr() const { return info.ptr; }
  size_t image_elems() const { return static_cast<size_t>(height) * width * channels; }
};

// C-contiguous only: the encoders and the quantizer read rows straight from this memory.
void require_c_contiguous(const pyb::buffer_info& info) {
  pyb::ssize_t expect = info.itemsize;
  for (pyb::ssize_t d = info.ndim - 1; d >= 0; --d) {
    if (info.shape[d] > 1 && info.strides[d] != expect) throw pyb::type_error("expected a C-contiguous array");
    expect *= info.shape[d];
  }
}

ArrayIn take_array(const pyb::buffer& b, bool batch) {
  ArrayIn a{b.request()};
  const auto& fmt = a.info.format;
  if (a.info.itemsize == 4 && (fmt == "f" || fmt == "<f" || fmt == "=f")) {
    a.is_float = true;
  } else if (a.info.itemsize != 1 || (fmt != "B" && fmt != "=B" && fmt != "<B")) {
    throw pyb::type_error("expected a float32 or uint8 array, got format '" + fmt + "'");
  }
  auto nd = a.info.ndim;
  int base = batch ? 1 : 0;
  if (nd != base + 2 && nd != base + 3) throw pyb::type_error(batch ? "expected N x H x W (x C)" : "expected H x W (x C)");
  require_c_contiguous(a.info);
  if (batch) a.count = static_cast<size_t>(a.info.shape[0]);
  a.height = static_cast<int>(a.info.shape[base]);
  a.width = static_cast<int>(a.info.shape[base + 1]);
  a.channels = nd == base + 3 ? static_cast<int>(a.info.shape[base + 2]) : 1;
  return a;
}

// (key, value) or (key, value, itxt, lang, tkey) tuples -> PngText.
std::vector<media::PngText> take_text(const pyb::object& text) {
  std::vector<media::PngText> out;
  if (text.is_none()) return out;
  for (const auto& item : text) {
    auto t = pyb::reinterpret_borrow<pyb::tuple>(item);
    media::PngText e;
    e.key = pyb::cast<std::string>(t[0]);
    e.value = pyb::cast<std::string>(t[1]);
    if (t.size() >= 5) {
      e.itxt = pyb::cast<bool>(t[2]);
      e.lang = pyb::cast<std::string>(t[3]);
      e.tkey = pyb::cast<std::string>(t[4]);
    } else if (t.size() != 2) {
      throw pyb::value_error("text entries are (key, value) or (key, value, itxt, lang, tkey)");
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Runs `fn(pixels)` on image `index` of `a` as uint8 (quantizing float input first). No GIL needed.
template <class Fn>
auto with_pixels(const ArrayIn& a, size_t index, Fn&& fn) {
  size_t n = a.image_elems();
  std::vector<uint8_t> tmp;
  const uint8_t* p;
  if (a.is_float) {
    tmp.resize(n);
    media::quantize(static_cast<const float*>(a.ptr()) + index * n, n, tmp.data());
    p = tmp.data();
  } else {
    p = static_cast<const uint8_t*>(a.ptr()) + index * n;
  }
  media::Pixels px{p, a.width, a.height, a.channels, static_cast<size_t>(a.width) * a.channels};
  return fn(px);
}

pyb::bytes to_bytes(const std::string& s) { return pyb::bytes(s.data(), s.size()); }

pyb::array_t<uint8_t> quantize(const pyb::buffer& b) {
  pyb::buffer_info info = b.request();
  if (info.itemsize != 4 || (info.format != "f" && info.format != "<f" && info.format != "=f"))
    throw pyb::type_error("expected a float32 array");
  require_c_contiguous(info);
  pyb::array_t<uint8_t> out(info.shape);
  const auto* src = static_cast<const float*>(info.ptr);
  uint8_t* dst = out.mutable_data();
  size_t n = static_cast<size_t>(info.size);
  {
    pyb::gil_scoped_release nogil;
    media::quantize(src, n, dst);
  }
  return out;
}

pyb::bytes encode_png(const pyb::buffer& b, int level, const pyb::object& text) {
  ArrayIn a = take_array(b, false);
  media::PngOptions opt{level, take_text(text)};
  std::string out;
  {
    pyb::gil_scoped_release nogil;
    out = with_pixels(a, 0, [&](const media::Pixels& px) { return media::encode_png(px, opt); });
  }
  return to_bytes(out);
}

pyb::bytes encode_jpeg(const pyb::buffer& b, int quality) {
  ArrayIn a = take_array(b, false);
  std::string out;
  {
    pyb::gil_scoped_release nogil;
    out = with_pixels(a, 0, [&](const media::Pixels& px) { return media::encode_jpeg(px, quality); });
  }
  return to_bytes(out);
}

pyb::bytes encode_webp(const pyb::buffer& b, float quality, bool lossless) {
  ArrayIn a = take_array(b, false);
  std::string out;
  {
    pyb::gil_scoped_release nogil;
    out = with_pixels(a, 0, [&](const media::Pixels& px) { return media::encode_webp(px, quality, lossless); });
  }
  return to_bytes(out);
}

pyb::list encode_png_batch(const pyb::buffer& b, int level, const pyb::object& text, unsigned threads) {
  ArrayIn a = take_array(b, true);
  media::PngOptions opt{level, take_text(text)};
  std::vector<std::string> out;
  {
    pyb::gil_scoped_release nogil;
    out = media::parallel_encode(a.count, threads, [&](size_t i) {
      return with_pixels(a, i, [&](const media::Pixels& px) { return media::encode_png(px, opt); });
    });
  }
  pyb::list result;
  for (const auto& s : out) result.append(to_bytes(s));
  return result;
}

void save_png_batch(const pyb::buffer& b, const std::vector<std::string>& paths, int level, const pyb::object& text,
                    unsigned threads) {
  ArrayIn a = take_array(b, true);
  if (paths.size() != a.count) throw pyb::value_error("one path per image is needed");
  media::PngOptions opt{level, take_text(text)};
  pyb::gil_scoped_release nogil;
  media::parallel_encode(a.count, threads, [&](size_t i) {
    media::write_file(paths[i], with_pixels(a, i, [&](const media::Pixels& px) { return media::encode_png(px, opt); }));
    return std::string();
  });
}

// bytes-like -> None, or (H x W x C uint8 array, [(key, value, itxt, lang, tkey), ...]).
pyb::object decode_png(const pyb::buffer& b, uint64_t max_pixels) {
  pyb::buffer_info info = b.request();
  std::optional<media::DecodedPng> d;
  {
    pyb::gil_scoped_release nogil;
    d = media::decode_png(static_cast<const uint8_t*>(info.ptr), static_cast<size_t>(info.size * info.itemsize),
                          max_pixels);
  }
  if (!d) return pyb::none();
  auto* pixels = new std::vector<uint8_t>(std::move(d->pixels));
  pyb::capsule owner(pixels, [](void* p) { delete static_cast<std::vector<uint8_t>*>(p); });
  pyb::array_t<uint8_t> arr({d->height, d->width, d->channels}, pixels->data(), owner);
  pyb::list text;
  for (const auto& t : d->text) text.append(pyb::make_tuple(t.key, t.value, t.itxt, t.lang, t.tkey));
  return pyb::make_tuple(arr, text);
}

}  // namespace

void bind_media(pyb::module_& parent) {
  auto m = parent.def_submodule("media", "Native image encoding (cpp/media): PNG, JPEG, WebP, PNG decoding");
  pyb::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const media::FileError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const media::MediaError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  m.def("quantize", &quantize, pyb::arg("array"),
        "float32 array -> uint8 array of the same shape, as np.clip(255. * x, 0, 255).astype(np.uint8)");
  m.def("encode_png", &encode_png, pyb::arg("array"), pyb::arg("compress_level") = 6, pyb::arg("text") = pyb::none(),
        "H x W (x C) float32 (quantized as SaveImage does) or uint8 -> PNG bytes");
  m.def("encode_jpeg", &encode_jpeg, pyb::arg("array"), pyb::arg("quality") = 75);
  m.def("encode_webp", &encode_webp, pyb::arg("array"), pyb::arg("quality") = 80.0f, pyb::arg("lossless") = false);
  m.def("encode_png_batch", &encode_png_batch, pyb::arg("array"), pyb::arg("compress_level") = 6,
        pyb::arg("text") = pyb::none(), pyb::arg("threads") = 0u,
        "N x H x W (x C) -> list of PNG bytes, images encoded in parallel");
  m.def("save_png_batch", &save_png_batch, pyb::arg("array"), pyb::arg("paths"), pyb::arg("compress_level") = 6,
        pyb::arg("text") = pyb::none(), pyb::arg("threads") = 0u,
        "N x H x W (x C) -> one PNG file per path, encoded and written in parallel");
  m.def("decode_png", &decode_png, pyb::arg("data"), pyb::arg("max_pixels") = uint64_t{178956970},
        "PNG bytes -> (uint8 H x W x C, text entries), or None where Pillow must decode it");
}

}  // namespace comfy::py
