#include "app/frontend.h"

#include <sys/stat.h>

#include "app/files.h"

namespace comfy {
namespace {
// The real path of a file under `root` for a request path, or "" (not a safe regular file).
std::string static_file(const std::string& real_root, const std::string& url_path) {
  if (url_path.empty() || url_path[0] != '/' || files::unsafe_name_reason(url_path, true)) return {};
  std::string rel = files::normpath(url_path.substr(1));
  if (rel == "." || rel.rfind("..", 0) == 0) return {};
  auto real = files::real_path(files::join_path(real_root, rel));
  if (!real || !files::is_inside(real_root, *real)) return {};
  struct stat st {};
  if (::stat(real->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return {};
  return *real;
}
}  // namespace

void register_frontend(App& app) {
  // Mounts in ComfyUI's order: /templates, /docs, then the web root at "/".
  std::vector<std::pair<std::string, std::string>> mounts;
  for (const auto& [prefix, dir] : app.static_mounts)
    if (auto real = files::real_path(dir)) mounts.emplace_back(prefix, *real);
  auto root = app.web_root.empty() ? std::nullopt : files::real_path(app.web_root);
  if (root) mounts.emplace_back("", *root);
  if (!mounts.empty())
    app.server_opts.static_fallback = [mounts](http::RouteRequest& r, const http::Responder& resp) {
      if (r.req.method != "GET" && r.req.method != "HEAD") return false;
      for (const auto& [prefix, dir] : mounts) {
        const std::string& p = r.req.path;
        if (!prefix.empty() && !(p.size() > prefix.size() && p.compare(0, prefix.size(), prefix) == 0 && p[prefix.size()] == '/'))
          continue;
        std::string file = static_file(dir, p.substr(prefix.size()));
        if (file.empty()) continue;
        files::serve_regular_file(r, file, files::base_name(file), resp, false);
        return true;
      }
      return false;
    };
  if (!root) return;
  std::string real_root = *root;
  app.router->add("GET", "/", [real_root](http::RouteRequest& r, http::Responder resp) {
    std::string index = static_file(real_root, "/index.html");
    if (index.empty()) return resp.send(http::Response::text("404: Not Found", 404));
    // ComfyUI's index route: never cached, so a frontend upgrade shows at once.
    resp.add_header("Cache-Control", "no-cache");
    resp.add_header("Pragma", "no-cache");
    resp.add_header("Expires", "0");
    files::serve_regular_file(r, index, "index.html", resp, false);
  });
}

}  // namespace comfy
