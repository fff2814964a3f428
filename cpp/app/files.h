// File routes (spec §2.5, §13): GET /view, POST /upload/image, POST /upload/mask, each also under
// /api. Plain files are served natively (Range, ETag/Last-Modified, 304); image re-encoding
// (`preview`, `channel=rgb|a`) and the mask composite run on the Python thread (comfy._media: native
// encoders, libpng or Pillow to decode; python/comfy/_routes.py, route names "/view:image" and
// "/upload/mask:composite").
//
// Every path built from a request goes through the helpers below before the filesystem sees it:
// names are checked for NUL, control characters, backslashes and overlong components, joined and
// normalised lexically against the type's root (ComfyUI's commonpath check), then resolved with
// realpath so a symlink cannot lead outside the root. Only the roots "input", "output" and "temp"
// of App::dirs are reachable ("user" never is).
//
// Handlers run on reactor threads. A served file is opened once, after the path check; a region
// of at least sendfile_min_bytes() goes out with sendfile from that fd (http/file_sender.h: no
// copy, constant memory, the reactor never blocks on the socket), a smaller one is read into the
// response (one write of head and body is faster there). Uploads are planned and written under
// one mutex, so concurrent uploads of the same name get distinct names, as in ComfyUI where
// image_upload runs synchronously on the event loop.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "app/app.h"

namespace comfy {

void register_file_routes(App& app);

namespace files {

// posixpath.normpath: collapses "//", "." and ".." ("" -> "."; ".." above "/" is dropped).
std::string normpath(std::string_view p);
// os.path.join of two parts: an absolute `b` replaces `a`.
std::string join_path(std::string_view a, std::string_view b);
// True when `path` is `root` or below it (both normalised; compares whole components).
bool is_inside(std::string_view root, std::string_view path);
// realpath(3); nullopt when a component is missing or unreadable.
std::optional<std::string> real_path(const std::string& p);
// os.path.basename and os.path.splitext.
std::string base_name(std::string_view p);
std::pair<std::string, std::string> split_ext(std::string_view name);
// folder_paths.annotated_filepath: "x.png [output]" -> ("x.png", "output"); the tag plus one
// preceding character is removed. The type is nullopt when there is no tag.
std::pair<std::string, std::optional<std::string>> annotated_name(std::string_view name);
// The root for "input", "output" or "temp" (normalised); nullopt for any other type.
std::optional<std::string> root_for(const Json& dirs, std::string_view type);

// Why a name or subfolder from a request cannot be used, or nullptr when it can: NUL bytes,
// control characters (they would reach response headers), backslashes (Windows separators:
// refused rather than taken literally), a component over 255 bytes or a path over 4095.
// With allow_slash=false a '/' is refused too (a bare file name is expected).
const char* unsafe_name_reason(std::string_view s, bool allow_slash);

// Python mimetypes.guess_type as ComfyUI configures it (.js and .webp tweaks) for the common
// extensions, "" when unknown.
std::string guess_mime(std::string_view filename);
// Types a browser could execute or render as a document (HTML, XHTML, JS, CSS, SVG, XML).
bool is_dangerous_type(std::string_view content_type);

// Outcome of resolving a GET /view request: status 200 with the real path of a regular file
// inside its root, or the error status (400 bad name/type, 403 escapes the root, 404 missing).
struct ViewTarget {
  int status = 404;
  std::string file;  // realpath of the file (status 200)
  std::string name;  // basename used in Content-Disposition
  std::string error;
};
ViewTarget resolve_view(const Json& dirs, const std::optional<std::string>& filename,
                        const std::optional<std::string>& type, const std::optional<std::string>& subfolder);

// Where an upload goes: status 200 with the final name and path (duplicate=true when an existing
// file with identical bytes is reused, nothing to write), or 400/500 with a reason. Creates the
// missing subfolders (inside the root only), as ComfyUI does before writing.
struct UploadPlan {
  int status = 400;
  std::string error;
  std::string name;
  std::string path;
  bool duplicate = false;
};
UploadPlan plan_upload(const std::string& root, const std::string& subfolder, const std::string& filename,
                       std::string_view bytes, bool overwrite);
// Lexical checks of plan_upload only (no filesystem access): "" when fine, else the reason.
std::string check_upload_names(const std::string& root, const std::string& subfolder, const std::string& filename);
// Writes `bytes` to `path` (created or truncated, never through a symlink). 0 or an errno value.
int write_file(const std::string& path, std::string_view bytes);

// The original image of /upload/mask from its `original_ref` object (filename may be annotated,
// type defaults to "output", optional subfolder), or nullopt when ComfyUI would skip the write:
// unsafe name, unknown type, subfolder or symlink leaving the root, not an existing regular file.
std::optional<std::string> resolve_mask_original(const Json& dirs, const Json& original_ref);

// Byte range of a Range header as aiohttp's FileResponse handles it: `bytes=a-b`, `bytes=a-`,
// `bytes=-n` (one range only). status 200 (no Range), 206 (start/count set) or 416.
struct RangeResult {
  int status = 200;
  uint64_t start = 0;
  uint64_t count = 0;
};
RangeResult parse_range(const std::optional<std::string>& header, uint64_t size);
// The Content-Range value of a 206: "bytes first-last/size" ("bytes offset-offset/size" when empty).
std::string content_range(uint64_t offset, uint64_t count, uint64_t size);

// Bodies of at least sendfile_min_bytes() are sent with sendfile, smaller ones from memory.
// Measured with bench/bench_sendfile.py --sweep (2 vCPU, loopback, wrk -t1 -c8, req/s, buffered
// vs sendfile forced on): 4 KiB 41.1k / 35.5k, 16 KiB 33.1k / 29.3k, 32 KiB 26.4k / 21.7k,
// 64 KiB 15.8k / 16.5k, 128 KiB 9.9k / 11.0k, 256 KiB 3.6k / 11.4k, 1 MiB 0.9k / 4.1k. Below
// 64 KiB one write of head and body beats the handoff to the sender; above it the buffered path
// falls off (Pistache copies what is left of a buffer at each EAGAIN).
inline constexpr uint64_t kSendfileMinBytes = 64 * 1024;
// kSendfileMinBytes, or COMFY_SENDFILE_MIN_BYTES when set (a number of bytes; a huge one turns
// sendfile off, which bench/bench_sendfile.py uses as "before").
uint64_t sendfile_min_bytes();
// The threshold for a value of that variable (nullptr, empty or not a number: the default).
uint64_t sendfile_threshold(const char* env);

// Serves a regular file as aiohttp's FileResponse does (ETag, 304, one Range). `view_rules` adds
// /view's Content-Disposition and the download of executable types.
void serve_regular_file(const http::RouteRequest& r, const std::string& path, const std::string& name,
                        const http::Responder& resp, bool view_rules);

}  // namespace files
}  // namespace comfy
