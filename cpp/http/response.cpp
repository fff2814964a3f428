#include "http/response.h"

#include <ctime>

#include "common/util.h"

namespace comfy::http {

Response Response::json(const Json& value, int status) {
  Response r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = py_dumps(value);
  return r;
}

Response Response::empty(int status) {
  Response r;
  r.status = status;
  return r;
}

Response Response::text(std::string body, int status, std::string type) {
  Response r;
  r.status = status;
  r.content_type = std::move(type);
  r.body = std::move(body);
  return r;
}

Response Response::error_envelope(int status, const std::string& type, const std::string& message,
                                  const std::string& details) {
  Json err = {{"type", type}, {"message", message}, {"details", details}, {"extra_info", Json::object()}};
  return json(Json{{"error", err}, {"node_errors", Json::object()}}, status);
}

const char* reason_phrase(int s) {
  switch (s) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

std::string http_date(std::time_t t) {
  char buf[64];
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string serialize(const Response& r, bool keep_alive, int version_minor, bool head_request) {
  std::string out;
  out.reserve(160 + r.body.size());
  out += version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out += reason_phrase(r.status);
  out += "\r\n";
  bool has_ct = false;
  for (const auto& [k, v] : r.headers)
    if (iequals(k, "Content-Type")) has_ct = true;
  if (!has_ct && r.status != 101) {
    out += "Content-Type: ";
    out += r.content_type.empty() ? "application/octet-stream" : r.content_type;
    out += "\r\n";
  }
  for (const auto& [k, v] : r.headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (r.status != 101 && r.status != 204 && r.status != 304) {
    out += "Content-Length: ";
    out += std::to_string(r.file ? r.file->length : r.body.size());
    out += "\r\n";
  }
  out += "Date: " + http_date(std::time(nullptr)) + "\r\n";
  out += "Server: comfy-native\r\n";
  if (!keep_alive) out += "Connection: close\r\n";
  else if (version_minor == 0) out += "Connection: keep-alive\r\n";
  out += "\r\n";
  if (!head_request && !r.file) out += r.body;
  return out;
}

static std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> segs;
  size_t i = 0;
  while (i < p.size()) {
    if (p[i] == '/') { ++i; continue; }
    size_t e = p.find('/', i);
    if (e == std::string::npos) e = p.size();
    segs.push_back(p.substr(i, e - i));
    i = e;
  }
  return segs;
}

void Router::add(const std::string& method, const std::string& pattern, RouteHandler h, bool mirror) {
  if (mirror) routes_.push_back({method, split_path("/api" + pattern), h});
  routes_.push_back({method, split_path(pattern), std::move(h)});
}

const RouteHandler* Router::match(const std::string& method, const std::string& path,
                                  std::unordered_map<std::string, std::string>& params,
                                  bool* method_mismatch) const {
  auto segs = split_path(path);
  bool trailing_slash_root = path == "/" || path == "/api/";
  for (const auto& r : routes_) {
    std::unordered_map<std::string, std::string> got;
    bool ok = true;
    size_t i = 0;
    for (; i < r.segs.size() && ok; ++i) {
      const auto& s = r.segs[i];
      if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
        auto name = s.substr(1, s.size() - 2);
        auto colon = name.find(':');
        if (colon != std::string::npos) {  // {name:.*}: the rest of the path
          std::string rest;
          for (size_t k = i; k < segs.size(); ++k) rest += (k > i ? "/" : "") + segs[k];
          got[name.substr(0, colon)] = rest;
          i = segs.size();
          break;
        }
        if (i >= segs.size()) ok = false;
        else got[name] = segs[i];
      } else if (i >= segs.size() || segs[i] != s) {
        ok = false;
      }
    }
    if (!ok || i != segs.size() || r.segs.size() < segs.size() && i == r.segs.size() && r.segs.size() != segs.size())
      continue;
    // "/" and "/api/" are distinct from "/api"; a pattern of zero segments matches only a root path.
    if (r.segs.empty() && !trailing_slash_root && path != "/") continue;
    if (r.method != method && !(method == "HEAD" && r.method == "GET")) {
      if (method_mismatch) *method_mismatch = true;
      continue;
    }
    params = std::move(got);
    return &r.handler;
  }
  return nullptr;
}

}  // namespace comfy::http
