#include "http/multipart.h"

#include "common/util.h"

namespace comfy::http {
namespace {

bool is_tchar(unsigned char c) {
  // RFC 9110 token characters (what aiohttp's TOKEN set holds).
  if (c <= 32 || c >= 127) return false;
  static constexpr std::string_view separators = "()<>@,;:\\\"/[]?={}";
  return separators.find(static_cast<char>(c)) == std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

bool is_bchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  static constexpr std::string_view extra = "'()+_,-./:=? ";
  return extra.find(static_cast<char>(c)) != std::string_view::npos;
}

// Splits on ';' outside quoted strings (aiohttp splits naively and re-joins one piece; honouring
// quotes gives the same result for every header it accepts and handles more ';' in names).
std::vector<std::string_view> split_params(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted && c == '\\' && i + 1 < s.size()) {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ';' && !quoted) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

std::string unescape_quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 128) {
      out += s[++i];
    } else {
      out += s[i];
    }
  }
  return out;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    if (c < 0x80) n = 0;
    else if (c >= 0xC2 && c <= 0xDF) n = 1;
    else if ((c >> 4) == 0xE) n = 2;
    else if (c >= 0xF0 && c <= 0xF4) n = 3;
    else return false;
    if (i + n >= s.size() && n > 0) return false;
    for (size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    i += n + 1;
  }
  return true;
}

std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// RFC 5987 ext-value: charset'language'percent-encoded. nullopt when aiohttp would skip it.
std::optional<std::string> decode_ext_value(std::string_view v) {
  if (!is_token(v)) return std::nullopt;
  size_t q1 = v.find('\''), q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos || v.find('\'', q2 + 1) != std::string_view::npos) return std::nullopt;
  std::string charset = to_lower(v.substr(0, q1));
  std::string decoded = percent_decode(v.substr(q2 + 1), false);
  if (charset.empty() || charset == "utf-8" || charset == "utf8") {
    if (!valid_utf8(decoded)) return std::nullopt;
    return decoded;
  }
  if (charset == "iso-8859-1" || charset == "latin-1" || charset == "latin1") return latin1_to_utf8(decoded);
  if (charset == "us-ascii" || charset == "ascii") {
    for (unsigned char c : decoded)
      if (c >= 0x80) return std::nullopt;
    return decoded;
  }
  return std::nullopt;  // unknown charset: skipped, as aiohttp does
}

void set_error(std::string* error, const char* msg) {
  if (error) *error = msg;
}

}  // namespace

std::optional<std::string> ContentDisposition::param(std::string_view key) const {
  for (const auto& [k, v] : params)
    if (k == key) return v;
  return std::nullopt;
}

std::optional<ContentDisposition> parse_content_disposition(std::string_view header) {
  auto pieces = split_params(header);
  ContentDisposition cd;
  std::string type = trim(pieces[0]);
  if (!is_token(type)) return std::nullopt;
  cd.type = to_lower(type);
  for (size_t i = 1; i < pieces.size(); ++i) {
    std::string_view item = pieces[i];
    if (item.empty()) continue;  // trailing ';'
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string key = to_lower(trim(item.substr(0, eq)));
    std::string value = trim(item.substr(eq + 1));
    if (cd.param(key)) return std::nullopt;  // a repeated key voids the header
    if (!is_token(key)) continue;
    if (key.back() == '*') {
      auto decoded = decode_ext_value(value);
      if (!decoded) continue;
      cd.params.emplace_back(key, std::move(*decoded));
    } else if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      std::string_view inner = std::string_view(value).substr(1, value.size() - 2);
      size_t skip = inner.find_first_not_of("\\/");
      inner = skip == std::string_view::npos ? std::string_view() : inner.substr(skip);
      cd.params.emplace_back(key, unescape_quoted(inner));
    } else if (is_token(value)) {
      cd.params.emplace_back(key, value);
    } else {
      return std::nullopt;
    }
  }
  return cd;
}

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  auto pieces = split_params(content_type);
  if (to_lower(trim(pieces[0])) != "multipart/form-data") return std::nullopt;
  std::optional<std::string> boundary;
  for (size_t i = 1; i < pieces.size(); ++i) {
    std::string_view item = pieces[i];
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (to_lower(trim(item.substr(0, eq))) != "boundary") continue;
    std::string value = trim(item.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = unescape_quoted(std::string_view(value).substr(1, value.size() - 2));
    boundary = value;
    break;
  }
  if (!boundary || boundary->empty() || boundary->size() > 70 || boundary->back() == ' ') return std::nullopt;
  for (unsigned char c : *boundary)
    if (!is_bchar(c)) return std::nullopt;
  return boundary;
}

const MultipartPart* find_part(const std::vector<MultipartPart>& parts, std::string_view name) {
  for (const auto& p : parts)
    if (p.name == name) return &p;
  return nullptr;
}

bool parse_multipart(std::string_view body, std::string_view boundary, std::vector<MultipartPart>& out,
                     std::string* error, size_t max_parts) {
  out.clear();
  const std::string dash = "--" + std::string(boundary);
  const std::string delim = "\r\n" + dash;
  size_t pos;
  if (body.substr(0, dash.size()) == dash) {
    pos = dash.size();
  } else {
    size_t d = body.find(delim);
    if (d == std::string_view::npos) return set_error(error, "no multipart boundary found"), false;
    pos = d + delim.size();
  }
  while (true) {
    // Just after a delimiter: "--" closes the body, else optional padding then CRLF.
    if (body.substr(pos, 2) == "--") return true;
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n") return set_error(error, "malformed multipart boundary line"), false;
    pos += 2;
    if (out.size() >= max_parts) return set_error(error, "too many multipart parts"), false;
    size_t next = body.find(delim, pos);
    if (next == std::string_view::npos) return set_error(error, "missing closing multipart boundary"), false;
    std::string_view part = body.substr(pos, next - pos);
    MultipartPart p;
    size_t content_at;
    if (part.substr(0, 2) == "\r\n") {
      content_at = 2;
    } else {
      size_t hend = part.find("\r\n\r\n");
      if (hend == std::string_view::npos) return set_error(error, "malformed multipart part headers"), false;
      std::string_view head = part.substr(0, hend);
      size_t ls = 0;
      while (ls <= head.size()) {
        size_t le = head.find("\r\n", ls);
        if (le == std::string_view::npos) le = head.size();
        std::string_view line = head.substr(ls, le - ls);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0 || line[0] == ' ' || line[0] == '\t')
          return set_error(error, "malformed multipart part header line"), false;
        p.headers.emplace_back(std::string(line.substr(0, colon)), trim(line.substr(colon + 1)));
        ls = le + 2;
      }
      content_at = hend + 4;
    }
    std::optional<std::string> cd_header;
    for (const auto& [k, v] : p.headers) {
      if (!cd_header && iequals(k, "Content-Disposition")) cd_header = v;
      if (p.content_type.empty() && iequals(k, "Content-Type")) p.content_type = v;
    }
    if (!cd_header) return set_error(error, "multipart part without Content-Disposition"), false;
    auto cd = parse_content_disposition(*cd_header);
    if (!cd || cd->type != "form-data") return set_error(error, "malformed multipart Content-Disposition"), false;
    p.name = cd->param("name").value_or("");
    if (auto f = cd->param("filename*")) p.filename = *f;
    else if (auto f2 = cd->param("filename")) p.filename = *f2;
    p.body = part.substr(content_at);
    out.push_back(std::move(p));
    pos = next + delim.size();
  }
}

}  // namespace comfy::http
