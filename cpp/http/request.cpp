#include "http/request.h"

#include <charconv>

#include "common/util.h"

namespace comfy::http {
namespace {
constexpr size_t kMaxHead = 64 * 1024;  // aiohttp's default line/field limits are of this order
}

std::optional<std::string> Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return std::nullopt;
}

std::optional<std::string> Request::query_value(std::string_view key) const {
  for (const auto& [k, v] : query)
    if (k == key) return v;
  return std::nullopt;
}

Pairs parse_query(std::string_view raw) {
  Pairs out;
  size_t i = 0;
  while (i <= raw.size() && !raw.empty()) {
    size_t amp = raw.find('&', i);
    if (amp == std::string_view::npos) amp = raw.size();
    auto part = raw.substr(i, amp - i);
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos)
        out.emplace_back(percent_decode(part, true), "");
      else
        out.emplace_back(percent_decode(part.substr(0, eq), true), percent_decode(part.substr(eq + 1), true));
    }
    i = amp + 1;
  }
  return out;
}

RequestParser::State RequestParser::fail(int status, std::string reason) {
  error_status_ = status;
  error_reason_ = std::move(reason);
  return State::Error;
}

bool RequestParser::wants_continue() {
  if (!have_head_ || continue_sent_) return false;
  auto e = cur_.header("Expect");
  if (e && iequals(trim(*e), "100-continue") && buf_.size() < body_len_ + 1) {
    continue_sent_ = true;
    return true;
  }
  return false;
}

RequestParser::State RequestParser::parse_head(size_t head_end) {
  std::string_view head(buf_.data(), head_end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return fail(400, "Bad request line");
  cur_ = Request{};
  cur_.method = std::string(line.substr(0, sp1));
  cur_.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  auto version = line.substr(sp2 + 1);
  if (version == "HTTP/1.1") cur_.version_minor = 1;
  else if (version == "HTTP/1.0") cur_.version_minor = 0;
  else return fail(400, "Bad HTTP version");
  if (cur_.target.empty()) return fail(400, "Empty target");
  auto q = cur_.target.find('?');
  cur_.raw_path = cur_.target.substr(0, q);
  if (q != std::string::npos) cur_.raw_query = cur_.target.substr(q + 1);
  cur_.path = percent_decode(cur_.raw_path, false);
  cur_.query = parse_query(cur_.raw_query);

  size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string_view::npos) e = head.size();
    auto l = head.substr(pos, e - pos);
    auto colon = l.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail(400, "Bad header line");
    cur_.headers.emplace_back(std::string(l.substr(0, colon)), trim(l.substr(colon + 1)));
    pos = e + 2;
  }

  auto conn = cur_.header("Connection");
  std::string c = conn ? to_lower(*conn) : "";
  // HTTP/1.1 defaults to keep-alive (Pistache 0.0.5 gets this wrong).
  cur_.keep_alive = cur_.version_minor == 1 ? c.find("close") == std::string::npos
                                            : c.find("keep-alive") != std::string::npos;
  chunked_ = false;
  body_len_ = 0;
  if (auto te = cur_.header("Transfer-Encoding")) {
    if (to_lower(*te).find("chunked") == std::string::npos) return fail(501, "Unsupported transfer encoding");
    chunked_ = true;
  } else if (auto cl = cur_.header("Content-Length")) {
    uint64_t n = 0;
    auto r = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (r.ec != std::errc() || r.ptr != cl->data() + cl->size()) return fail(400, "Bad Content-Length");
    if (n >= max_body_) return fail(413, "Request Entity Too Large");
    body_len_ = n;
  }
  buf_.erase(0, head_end + 4);
  have_head_ = true;
  continue_sent_ = false;
  return State::Incomplete;
}

RequestParser::State RequestParser::take_chunked(Request& out) {
  // Decodes only once the whole chunked body is buffered (bounded by max_body_ plus framing).
  size_t pos = 0;
  std::string body;
  while (true) {
    size_t e = buf_.find("\r\n", pos);
    if (e == std::string::npos) {
      if (buf_.size() > max_body_ + kMaxHead) return fail(413, "Request Entity Too Large");
      return State::Incomplete;
    }
    size_t n = 0;
    auto r = std::from_chars(buf_.data() + pos, buf_.data() + e, n, 16);
    if (r.ec != std::errc()) return fail(400, "Bad chunk size");
    if (body.size() + n >= max_body_) return fail(413, "Request Entity Too Large");
    if (n == 0) {
      size_t end = buf_.find("\r\n\r\n", e);
      if (end == std::string::npos) {
        if (buf_.size() - e > kMaxHead) return fail(400, "Bad trailer");
        return State::Incomplete;
      }
      buf_.erase(0, end + 4);
      break;
    }
    if (buf_.size() < e + 2 + n + 2) return State::Incomplete;
    body.append(buf_, e + 2, n);
    pos = e + 2 + n + 2;
  }
  out = std::move(cur_);
  out.body = std::move(body);
  have_head_ = false;
  return State::Complete;
}

RequestParser::State RequestParser::next(Request& out) {
  if (!have_head_) {
    size_t he = buf_.find("\r\n\r\n");
    if (he == std::string::npos) {
      if (buf_.size() > kMaxHead) return fail(431, "Request Header Fields Too Large");
      return State::Incomplete;
    }
    // Tolerate stray CRLFs between pipelined requests.
    size_t lead = 0;
    while (lead + 1 < buf_.size() && buf_[lead] == '\r' && buf_[lead + 1] == '\n') lead += 2;
    if (lead) {
      buf_.erase(0, lead);
      return next(out);
    }
    if (parse_head(he) == State::Error) return State::Error;
  }
  if (chunked_) return take_chunked(out);
  if (buf_.size() < body_len_) return State::Incomplete;
  out = std::move(cur_);
  out.body.assign(buf_, 0, body_len_);
  buf_.erase(0, body_len_);
  have_head_ = false;
  return State::Complete;
}
}  // namespace comfy::http
