#include "app/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "common/util.h"
#include "http/multipart.h"

namespace comfy {
namespace files {

std::string normpath(std::string_view p) {
  if (p.empty()) return ".";
  bool absolute = p.front() == '/';
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t e = p.find('/', i);
    if (e == std::string_view::npos) e = p.size();
    std::string_view comp = p.substr(i, e - i);
    i = e + 1;
    if (comp.empty() || comp == ".") continue;
    if (comp != ".." || (!absolute && out.empty()) || (!out.empty() && out.back() == "..")) out.push_back(comp);
    else if (!out.empty()) out.pop_back();
  }
  std::string r = absolute ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) {
    if (k) r += '/';
    r += out[k];
  }
  return r.empty() ? "." : r;
}

std::string join_path(std::string_view a, std::string_view b) {
  if (!b.empty() && b.front() == '/') return std::string(b);
  std::string r(a);
  if (r.empty() || r.back() != '/') r += '/';
  r += b;
  return r;
}

bool is_inside(std::string_view root, std::string_view path) {
  if (root == "/") return !path.empty() && path.front() == '/';
  if (path.size() < root.size() || path.substr(0, root.size()) != root) return false;
  return path.size() == root.size() || path[root.size()] == '/';
}

std::optional<std::string> real_path(const std::string& p) {
  if (p.find('\0') != std::string::npos) return std::nullopt;
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return std::nullopt;
  return std::string(buf);
}

std::string base_name(std::string_view p) {
  size_t s = p.rfind('/');
  return std::string(s == std::string_view::npos ? p : p.substr(s + 1));
}

std::pair<std::string, std::string> split_ext(std::string_view name) {
  size_t slash = name.rfind('/');
  size_t start = slash == std::string_view::npos ? 0 : slash + 1;
  size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot < start) return {std::string(name), ""};
  // Leading dots of the last component do not start an extension (".png" has none).
  size_t first = name.find_first_not_of('.', start);
  if (first == std::string_view::npos || dot < first) return {std::string(name), ""};
  return {std::string(name.substr(0, dot)), std::string(name.substr(dot))};
}

std::pair<std::string, std::optional<std::string>> annotated_name(std::string_view name) {
  for (const char* type : {"output", "input", "temp"}) {
    std::string tag = std::string("[") + type + "]";
    if (name.size() >= tag.size() && name.substr(name.size() - tag.size()) == tag) {
      size_t cut = tag.size() + 1;
      return {name.size() >= cut ? std::string(name.substr(0, name.size() - cut)) : std::string(), std::string(type)};
    }
  }
  return {std::string(name), std::nullopt};
}

std::optional<std::string> root_for(const Json& dirs, std::string_view type) {
  if (type != "input" && type != "output" && type != "temp") return std::nullopt;
  auto it = dirs.find(std::string(type));
  if (it == dirs.end() || !it->is_string()) return std::nullopt;
  std::string root = it->get<std::string>();
  if (root.empty() || root.front() != '/') return std::nullopt;
  return normpath(root);
}

const char* unsafe_name_reason(std::string_view s, bool allow_slash) {
  size_t comp = 0;
  for (unsigned char c : s) {
    if (c == 0) return "NUL byte in name";
    if (c < 0x20 || c == 0x7f) return "control character in name";
    if (c == '\\') return "backslash in name";
    if (c == '/') {
      if (!allow_slash) return "path separator in file name";
      comp = 0;
      continue;
    }
    if (++comp > 255) return "name too long";
  }
  if (s.size() > 4095) return "path too long";
  return nullptr;
}

std::string guess_mime(std::string_view filename) {
  // Python's mimetypes on Debian (built-in map plus /etc/mime.types) after ComfyUI's add_type
  // calls for .js and .webp.
  static const std::unordered_map<std::string, std::string> table = {
      {".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".jpe", "image/jpeg"},
      {".jfif", "image/jpeg"}, {".gif", "image/gif"}, {".webp", "image/webp"}, {".bmp", "image/bmp"},
      {".tif", "image/tiff"}, {".tiff", "image/tiff"}, {".ico", "image/vnd.microsoft.icon"},
      {".avif", "image/avif"}, {".heic", "image/heic"}, {".heif", "image/heif"}, {".jxl", "image/jxl"},
      {".apng", "image/apng"}, {".svg", "image/svg+xml"}, {".psd", "image/vnd.adobe.photoshop"},
      {".exr", "image/aces"}, {".hdr", "image/vnd.radiance"}, {".ppm", "image/x-portable-pixmap"},
      {".pgm", "image/x-portable-graymap"}, {".pbm", "image/x-portable-bitmap"},
      {".pnm", "image/x-portable-anymap"}, {".mp4", "video/mp4"}, {".m4v", "video/mp4"},
      {".webm", "video/webm"}, {".mkv", "video/x-matroska"}, {".mov", "video/quicktime"},
      {".avi", "video/x-msvideo"}, {".mpeg", "video/mpeg"}, {".mpg", "video/mpeg"}, {".ogv", "video/ogg"},
      {".wmv", "video/x-ms-wmv"}, {".flv", "video/x-flv"}, {".3gp", "audio/3gpp"}, {".mp3", "audio/mpeg"},
      {".wav", "audio/x-wav"}, {".flac", "audio/flac"}, {".ogg", "audio/ogg"}, {".oga", "audio/ogg"},
      {".opus", "audio/ogg"}, {".m4a", "audio/mp4"}, {".aac", "audio/aac"}, {".aiff", "audio/x-aiff"},
      {".aif", "audio/x-aiff"}, {".json", "application/json"}, {".txt", "text/plain"}, {".csv", "text/csv"},
      {".md", "text/markdown"}, {".html", "text/html"}, {".htm", "text/html"},
      {".xhtml", "application/xhtml+xml"}, {".xml", "application/xml"}, {".css", "text/css"},
      {".js", "application/javascript; charset=utf-8"}, {".mjs", "text/javascript"},
      {".pdf", "application/pdf"}, {".zip", "application/zip"}, {".tar", "application/x-tar"},
      {".7z", "application/x-7z-compressed"}, {".glb", "model/gltf-binary"}, {".gltf", "model/gltf+json"},
      {".obj", "model/obj"}, {".stl", "model/stl"}, {".woff", "font/woff"}, {".woff2", "font/woff2"},
      {".ttf", "font/ttf"}, {".otf", "font/otf"}, {".wasm", "application/wasm"}, {".vtt", "text/vtt"},
      {".srt", "text/plain"}, {".py", "text/x-python"}, {".sh", "text/x-sh"}};
  static const std::unordered_map<std::string, std::string> suffixes = {
      {".svgz", ".svg.gz"}, {".tgz", ".tar.gz"}, {".taz", ".tar.gz"}, {".tz", ".tar.gz"},
      {".tbz2", ".tar.bz2"}, {".txz", ".tar.xz"}};
  std::string base(filename);
  auto [stem, ext] = split_ext(base);
  for (auto it = suffixes.find(ext); it != suffixes.end(); it = suffixes.find(ext))
    std::tie(stem, ext) = split_ext(stem + it->second);
  if (ext == ".gz" || ext == ".Z" || ext == ".bz2" || ext == ".xz" || ext == ".br") std::tie(stem, ext) = split_ext(stem);
  auto it = table.find(to_lower(ext));
  return it == table.end() ? std::string() : it->second;
}

bool is_dangerous_type(std::string_view content_type) {
  std::string t = to_lower(trim(content_type.substr(0, content_type.find(';'))));
  static const char* bad[] = {"text/html", "text/html-sandboxed", "application/xhtml+xml", "text/javascript",
                              "application/javascript", "application/x-javascript", "application/ecmascript",
                              "text/css", "image/svg+xml", "application/xml", "text/xml", "message/rfc822"};
  for (const char* b : bad)
    if (t == b) return true;
  auto ends = [&](std::string_view s) { return t.size() >= s.size() && t.compare(t.size() - s.size(), s.size(), s) == 0; };
  return ends("+xml") || ends("/xml");
}

ViewTarget resolve_view(const Json& dirs, const std::optional<std::string>& filename,
                        const std::optional<std::string>& type, const std::optional<std::string>& subfolder) {
  ViewTarget t;
  auto fail = [&t](int status, std::string why = "") {
    t.status = status;
    t.error = std::move(why);
    return t;
  };
  if (!filename) return fail(404);
  auto [name, annotated_type] = annotated_name(*filename);
  if (name.empty()) return fail(400);
  if (name.front() == '/' || name.find("..") != std::string::npos) return fail(400);
  if (const char* why = unsafe_name_reason(name, true)) return fail(400, why);
  auto root = root_for(dirs, annotated_type ? *annotated_type : type.value_or("output"));
  if (!root) return fail(400);
  std::string dir = *root;
  if (subfolder) {
    if (const char* why = unsafe_name_reason(*subfolder, true)) return fail(400, why);
    dir = normpath(join_path(*root, *subfolder));
    if (!is_inside(*root, dir)) return fail(403);
  }
  t.name = base_name(name);
  auto real_root = real_path(*root);
  auto real = real_path(join_path(dir, t.name));
  if (!real_root || !real) return fail(404);
  if (!is_inside(*real_root, *real)) return fail(403, "path leaves the directory through a symlink");
  struct stat st {};
  if (::stat(real->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return fail(404);
  t.file = *real;
  t.status = 200;
  return t;
}

std::string check_upload_names(const std::string& root, const std::string& subfolder, const std::string& filename) {
  if (filename.empty()) return "empty file name";
  if (const char* why = unsafe_name_reason(filename, false)) return why;
  if (filename == "." || filename == "..") return "invalid file name";
  if (const char* why = unsafe_name_reason(subfolder, true)) return why;
  std::string dir = normpath(join_path(root, normpath(subfolder)));
  std::string path = normpath(join_path(dir, filename));
  if (!is_inside(root, dir) || !is_inside(root, path) || path == root) return "path outside the upload directory";
  return "";
}

namespace {

bool same_bytes(const std::string& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  bool same = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == bytes.size();
  std::vector<char> buf(1 << 16);
  size_t off = 0;
  while (same && off < bytes.size()) {
    ssize_t n = ::read(fd, buf.data(), std::min(buf.size(), bytes.size() - off));
    if (n <= 0) same = false;
    else if (std::memcmp(buf.data(), bytes.data() + off, static_cast<size_t>(n)) != 0) same = false;
    else off += static_cast<size_t>(n);
  }
  ::close(fd);
  return same;
}

// Walks `rel` below the real root, creating missing directories; every existing component must
// resolve inside the root. Returns the real directory or an error.
std::optional<std::string> make_dirs_inside(const std::string& real_root, const std::string& rel, std::string& err) {
  std::string cur = real_root;
  size_t i = 0;
  while (i < rel.size()) {
    size_t e = rel.find('/', i);
    if (e == std::string::npos) e = rel.size();
    std::string comp = rel.substr(i, e - i);
    i = e + 1;
    if (comp.empty() || comp == ".") continue;
    std::string next = cur + "/" + comp;
    struct stat st {};
    if (::lstat(next.c_str(), &st) != 0) {
      if (errno != ENOENT || (::mkdir(next.c_str(), 0777) != 0 && errno != EEXIST)) {
        err = std::string("cannot create subfolder: ") + std::strerror(errno);
        return std::nullopt;
      }
      if (::lstat(next.c_str(), &st) != 0) return err = "cannot create subfolder", std::nullopt;
    }
    if (!S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode)) return err = "subfolder is not a directory", std::nullopt;
    auto real = real_path(next);
    if (!real || !is_inside(real_root, *real)) return err = "subfolder leaves the directory", std::nullopt;
    if (::stat(real->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return err = "subfolder is not a directory", std::nullopt;
    cur = *real;
  }
  return cur;
}

}  // namespace

UploadPlan plan_upload(const std::string& root, const std::string& subfolder, const std::string& filename,
                       std::string_view bytes, bool overwrite) {
  UploadPlan plan;
  if (auto why = check_upload_names(root, subfolder, filename); !why.empty()) return plan.error = why, plan;
  std::error_code ec;
  std::filesystem::create_directories(root, ec);  // the root itself is configuration, trusted
  auto real_root = real_path(root);
  if (!real_root) {
    plan.status = 500;
    plan.error = "upload directory is missing";
    return plan;
  }
  std::string dir_rel = normpath(join_path(root, normpath(subfolder)));
  dir_rel = dir_rel.size() > root.size() ? dir_rel.substr(root.size() + (root == "/" ? 0 : 1)) : "";
  auto dir = make_dirs_inside(*real_root, dir_rel, plan.error);
  if (!dir) return plan;
  auto [stem, ext] = split_ext(filename);
  std::string name = filename;
  for (int i = 1;; ++i) {
    if (name.size() > 255) return plan.error = "name too long", plan;
    std::string path = *dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      plan.path = path;
      break;
    }
    std::string target = path;
    if (S_ISLNK(st.st_mode)) {
      auto real = real_path(path);
      if (!real || !is_inside(*real_root, *real)) return plan.error = "existing file is a symlink leaving the directory", plan;
      target = *real;
      ::stat(target.c_str(), &st);
    }
    if (overwrite) {
      if (!S_ISREG(st.st_mode)) return plan.error = "target exists and is not a regular file", plan;
      plan.path = target;
      break;
    }
    if (S_ISREG(st.st_mode) && same_bytes(target, bytes)) {
      plan.path = target;
      plan.duplicate = true;
      break;
    }
    name = stem + " (" + std::to_string(i) + ")" + ext;
  }
  plan.name = name;
  plan.status = 200;
  return plan;
}

int write_file(const std::string& path, std::string_view bytes) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) return errno;
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return e;
    }
    off += static_cast<size_t>(n);
  }
  return ::close(fd) == 0 ? 0 : errno;
}

std::optional<std::string> resolve_mask_original(const Json& dirs, const Json& ref) {
  if (!ref.is_object() || !ref.contains("filename") || !ref["filename"].is_string()) return std::nullopt;
  auto [name, annotated_type] = annotated_name(ref["filename"].get<std::string>());
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) return std::nullopt;
  if (unsafe_name_reason(name, true)) return std::nullopt;
  std::string type = "output";
  if (annotated_type) type = *annotated_type;
  else if (ref.contains("type")) {
    if (!ref["type"].is_string()) return std::nullopt;
    type = ref["type"].get<std::string>();
  }
  auto root = root_for(dirs, type);
  if (!root) return std::nullopt;
  std::string dir = *root;
  if (ref.contains("subfolder")) {
    if (!ref["subfolder"].is_string()) return std::nullopt;
    std::string sub = ref["subfolder"].get<std::string>();
    if (!sub.empty()) {
      if (unsafe_name_reason(sub, true)) return std::nullopt;
      dir = normpath(join_path(*root, sub));
      if (!is_inside(*root, dir)) return std::nullopt;
    }
  }
  auto real_root = real_path(*root);
  auto real = real_path(join_path(dir, name));
  if (!real_root || !real || !is_inside(*real_root, *real)) return std::nullopt;
  struct stat st {};
  if (::stat(real->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return real;
}

RangeResult parse_range(const std::optional<std::string>& header, uint64_t size) {
  RangeResult r;
  if (!header) return r;
  const std::string& h = *header;
  auto unsatisfiable = [&r] {
    r.status = 416;
    return r;
  };
  if (h.size() < 6 || to_lower(h.substr(0, 6)) != "bytes=") return unsatisfiable();
  size_t dash = h.find('-', 6);
  if (dash == std::string::npos) return unsatisfiable();
  auto number = [](std::string_view s, std::optional<uint64_t>& out) {
    if (s.empty()) return true;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v > (UINT64_MAX / 20) ? UINT64_MAX / 2 : v * 10 + static_cast<uint64_t>(c - '0');
    }
    out = v;
    return true;
  };
  std::optional<uint64_t> a, b;
  if (!number(std::string_view(h).substr(6, dash - 6), a) || !number(std::string_view(h).substr(dash + 1), b))
    return unsatisfiable();
  if (!a && !b) return unsatisfiable();
  if (!a) {  // suffix: the last n bytes (aiohttp serves the whole file for "-0")
    uint64_t n = *b;
    r.start = n == 0 ? 0 : (n >= size ? 0 : size - n);
    r.count = size - r.start;
  } else {
    if (b && *a >= *b + 1) return unsatisfiable();
    r.start = *a;
    uint64_t end = b ? std::min(*b + 1, size) : size;
    r.count = end > r.start ? end - r.start : 0;
  }
  if (r.start >= size) return unsatisfiable();
  r.status = 206;
  return r;
}

std::string content_range(uint64_t offset, uint64_t count, uint64_t size) {
  return "bytes " + std::to_string(offset) + "-" + std::to_string(offset + count - (count ? 1 : 0)) + "/" +
         std::to_string(size);
}

uint64_t sendfile_threshold(const char* env) {
  if (!env || !*env) return kSendfileMinBytes;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(env, &end, 10);
  if (errno || *end || env[0] == '-') return kSendfileMinBytes;
  return v;
}

uint64_t sendfile_min_bytes() {
  static const uint64_t v = sendfile_threshold(std::getenv("COMFY_SENDFILE_MIN_BYTES"));
  return v;
}

}  // namespace files

namespace {
using http::Response;
using http::Responder;
using http::RouteRequest;
using http::http_date;

std::mutex g_upload_mu;  // plan + write of uploads, one at a time (see files.h)

Response error_response(int status, const std::string& why) {
  if (why.empty()) return Response::empty(status);  // ComfyUI's bare web.Response(status=...)
  return Response::text(why, status);
}

std::string disposition(const std::string& name, bool attachment = false) {
  std::string escaped;
  for (char c : name) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return std::string(attachment ? "attachment; " : "") + "filename=\"" + escaped + "\"";
}

std::optional<double> parse_http_date(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  std::tm tm{};
  const char* end = strptime(s->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end) return std::nullopt;
  return static_cast<double>(timegm(&tm));
}

bool etag_matches(const std::string& header, const std::string& etag, bool weak) {
  for (size_t i = 0; i <= header.size();) {
    size_t e = header.find(',', i);
    if (e == std::string::npos) e = header.size();
    std::string tag = trim(std::string_view(header).substr(i, e - i));
    i = e + 1;
    if (tag == "*") return true;
    if (tag.rfind("W/", 0) == 0) {
      if (!weak) continue;
      tag = tag.substr(2);
    }
    if (tag == etag) return true;
  }
  return false;
}

// FileResponse's behaviour for a regular file: ETag/Last-Modified, 304 on a matching
// If-None-Match or If-Modified-Since, one byte range (206/416, If-Range by date), Accept-Ranges.
// `view_rules`: /view's extras (downgrade of executable types, Content-Disposition); off for the
// web root's static files.
void serve_file(const RouteRequest& r, const files::ViewTarget& t, const Responder& resp, bool view_rules = true) {
  int fd = ::open(t.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return resp.send(Response::empty(errno == EACCES ? 403 : 404));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return resp.send(Response::empty(404));
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const double mtime = static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec / 1e9;
  const uint64_t mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
  char etag_buf[64];
  std::snprintf(etag_buf, sizeof etag_buf, "\"%llx-%llx\"", static_cast<unsigned long long>(mtime_ns),
                static_cast<unsigned long long>(size));
  const std::string etag = etag_buf;

  Response out;
  out.content_type = files::guess_mime(t.name);
  if (out.content_type.empty()) out.content_type = "application/octet-stream";
  bool attachment = false;
  out.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (view_rules && files::is_dangerous_type(out.content_type)) {
    // HTML/JS/CSS become downloads as in ComfyUI; SVG/XML too unless an <img> asks (newer upstream).
    out.headers.emplace_back("Vary", "Sec-Fetch-Dest");
    out.headers.emplace_back("Cache-Control", "no-store");
    bool svg_as_image = out.content_type == "image/svg+xml" && r.req.header("Sec-Fetch-Dest") == "image";
    if (!svg_as_image) {
      out.content_type = "application/octet-stream";
      attachment = true;
    }
  }
  if (view_rules) out.headers.emplace_back("Content-Disposition", disposition(t.name, attachment));

  auto inm = r.req.header("If-None-Match");
  auto ims = parse_http_date(r.req.header("If-Modified-Since"));
  if ((inm && etag_matches(*inm, etag, true)) || (!inm && ims && mtime <= *ims)) {
    ::close(fd);
    out.status = 304;
    out.headers.emplace_back("ETag", etag);
    out.headers.emplace_back("Last-Modified", http_date(static_cast<time_t>(std::ceil(mtime))));
    return resp.send(std::move(out));
  }

  files::RangeResult range;
  auto if_range = parse_http_date(r.req.header("If-Range"));
  if (!if_range || mtime <= *if_range) range = files::parse_range(r.req.header("Range"), size);
  if (range.status == 416) {
    ::close(fd);
    out.status = 416;
    out.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
    return resp.send(std::move(out));
  }
  uint64_t offset = range.status == 206 ? range.start : 0;
  uint64_t count = range.status == 206 ? range.count : size;
  out.status = range.status == 206 ? 206 : 200;
  out.headers.emplace_back("ETag", etag);
  out.headers.emplace_back("Last-Modified", http_date(static_cast<time_t>(std::ceil(mtime))));
  out.headers.emplace_back("Accept-Ranges", "bytes");
  if (count >= files::sendfile_min_bytes() || (r.req.method == "HEAD" && count)) {
    // The server sends the region with sendfile from this very fd (opened after the path check);
    // a HEAD request never reads it.
    ::posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(count), POSIX_FADV_SEQUENTIAL);
    out.file = std::make_shared<http::FileBody>(fd, offset, count);
    if (out.status == 206) out.headers.emplace_back("Content-Range", files::content_range(offset, count, size));
    return resp.send(std::move(out));
  }
  out.body.resize(count);
  uint64_t done = 0;
  while (done < count) {
    ssize_t n = ::pread(fd, out.body.data() + done, count - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  out.body.resize(done);  // the file shrank meanwhile: send what is there
  if (out.status == 206) out.headers.emplace_back("Content-Range", files::content_range(offset, done, size));
  resp.send(std::move(out));
}


void get_view(App& app, RouteRequest& r, Responder resp) {
  auto q = [&r](const char* k) { return r.req.query_value(k); };
  files::ViewTarget t = files::resolve_view(app.dirs, q("filename"), q("type"), q("subfolder"));
  if (t.status != 200) return resp.send(error_response(t.status, t.error));
  auto channel = q("channel");
  if (!q("preview") && channel != "rgb" && channel != "a") return serve_file(r, t, resp);
  auto rr = std::make_shared<RouteRequest>();
  rr->req.method = r.req.method;
  rr->req.path = r.req.path;
  rr->req.query = r.req.query;
  rr->params = {{"file", t.file}, {"filename", t.name}};
  std::string name = t.name;
  run_python_route(app, "/view:image", rr, resp, [name](Response out) {
    if (out.status == 200) out.headers.emplace_back("Content-Disposition", disposition(name));
    return out;
  });
}

struct UploadForm {
  std::string filename, type, subfolder, root;
  bool overwrite = false;
};

// Shared front half of both upload routes: multipart parsing and the field checks.
bool read_upload_form(App& app, RouteRequest& r, const Responder& resp, std::vector<http::MultipartPart>& parts,
                      UploadForm& form) {
  auto ct = r.req.header("Content-Type");
  auto boundary = ct ? http::multipart_boundary(*ct) : std::nullopt;
  if (!boundary) return resp.send(Response::text("expected a multipart/form-data body", 400)), false;
  std::string err;
  if (!http::parse_multipart(r.req.body, *boundary, parts, &err)) return resp.send(Response::text(err, 400)), false;
  const auto* image = http::find_part(parts, "image");
  if (!image || !image->filename || image->filename->empty()) return resp.send(Response::empty(400)), false;
  form.filename = *image->filename;
  const auto* type = http::find_part(parts, "type");
  form.type = type ? std::string(type->body) : "input";
  auto root = files::root_for(app.dirs, form.type);
  if (!root) return resp.send(Response::text("unknown upload type", 400)), false;
  form.root = *root;
  const auto* sub = http::find_part(parts, "subfolder");
  form.subfolder = sub ? std::string(sub->body) : "";
  const auto* ow = http::find_part(parts, "overwrite");
  form.overwrite = ow && (ow->body == "true" || ow->body == "1");
  if (auto why = files::check_upload_names(form.root, form.subfolder, form.filename); !why.empty())
    return resp.send(Response::text(why, 400)), false;
  return true;
}

Response upload_reply(const UploadForm& f, const std::string& name) {
  return Response::json(Json{{"name", name}, {"subfolder", f.subfolder}, {"type", f.type}});
}

Response write_failure(int err) {
  return Response::text(std::string("cannot write the upload: ") + std::strerror(err), err == ENAMETOOLONG ? 400 : 500);
}

// Plans the upload's name and path and calls `write` unless the bytes are already stored, all
// under g_upload_mu; the lock is released before the caller sends (a send may run the
// connection's next pipelined request inline).
Response store_upload(const UploadForm& f, std::string_view bytes, const std::function<int(const std::string&)>& write) {
  std::lock_guard lk(g_upload_mu);
  auto plan = files::plan_upload(f.root, f.subfolder, f.filename, bytes, f.overwrite);
  if (plan.status != 200) return error_response(plan.status, plan.error);
  if (!plan.duplicate)
    if (int e = write(plan.path)) return write_failure(e);
  return upload_reply(f, plan.name);
}

void post_upload_image(App& app, RouteRequest& r, Responder resp) {
  std::vector<http::MultipartPart> parts;
  UploadForm f;
  if (!read_upload_form(app, r, resp, parts, f)) return;
  std::string_view bytes = http::find_part(parts, "image")->body;
  resp.send(store_upload(f, bytes, [bytes](const std::string& path) { return files::write_file(path, bytes); }));
}

void post_upload_mask(App& app, RouteRequest& r, Responder resp) {
  std::vector<http::MultipartPart> parts;
  UploadForm f;
  if (!read_upload_form(app, r, resp, parts, f)) return;
  const auto* ref_part = http::find_part(parts, "original_ref");
  Json ref;
  if (!ref_part || !parse_json(std::string(ref_part->body), ref) || !ref.is_object() || !ref.contains("filename") ||
      !ref["filename"].is_string())
    return resp.send(Response::text("original_ref must be a JSON object with a filename", 400));
  auto original = files::resolve_mask_original(app.dirs, ref);
  std::string mask(http::find_part(parts, "image")->body);
  if (!original) {
    // ComfyUI's save step refuses silently (unsafe or missing original) and still answers 200.
    std::fprintf(stderr, "WARNING: /upload/mask: original_ref %s not usable, nothing written\n", py_dumps(ref).c_str());
    return resp.send(store_upload(f, mask, [](const std::string&) { return 0; }));
  }
  auto rr = std::make_shared<RouteRequest>();
  rr->req.method = "POST";
  rr->req.path = r.req.path;
  rr->params = {{"original", *original}, {"target_ext", files::split_ext(f.filename).second}};
  rr->req.body = std::move(mask);
  run_python_route(app, "/upload/mask:composite", rr, resp, [f, rr](Response png) {
    // The duplicate check compares the uploaded mask, as ComfyUI does, not the composite.
    std::optional<Response> failed;
    Response out = store_upload(f, rr->req.body, [&](const std::string& path) {
      if (png.status == 200) return files::write_file(path, png.body);
      failed = png;  // undecodable mask or original: nothing written
      return 0;
    });
    return failed ? *failed : out;
  });
}

}  // namespace

namespace files {
void serve_regular_file(const http::RouteRequest& r, const std::string& path, const std::string& name,
                        const http::Responder& resp, bool view_rules) {
  ViewTarget t;
  t.status = 200;
  t.file = path;
  t.name = name;
  serve_file(r, t, resp, view_rules);
}
}  // namespace files

void register_file_routes(App& app) {
  auto& rt = *app.router;
  App* a = &app;
  auto bind = [a](void (*f)(App&, RouteRequest&, Responder)) {
    return [a, f](RouteRequest& r, Responder resp) { f(*a, r, std::move(resp)); };
  };
  rt.add("GET", "/view", bind(get_view));
  rt.add("POST", "/upload/image", bind(post_upload_image));
  rt.add("POST", "/upload/mask", bind(post_upload_mask));
}

}  // namespace comfy
