#include "http/response_framing.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include "common/util.h"

namespace comfy::http {

namespace {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Calls f(token) for each comma-separated element of a header value, trimmed, empty ones skipped.
template <class F>
void for_each_token(std::string_view v, F f) {
  while (true) {
    auto comma = v.find(',');
    auto t = trim_ows(v.substr(0, comma));
    if (!t.empty()) f(t);
    if (comma == std::string_view::npos) return;
    v.remove_prefix(comma + 1);
  }
}

}  // namespace

size_t ResponseFraming::line_limit() const {
  switch (phase_) {
    case Phase::ChunkSize: return kMaxChunkLine;
    case Phase::ChunkDataEnd: return 2;  // CRLF (or a bare LF)
    default: return kMaxHead - std::min(section_bytes_, kMaxHead);
  }
}

size_t ResponseFraming::feed(const char* data, size_t n) {
  size_t i = 0;
  while (i < n) {
    switch (phase_) {
      case Phase::Done:
      case Phase::Error:
        return i;
      case Phase::UntilClose:
        offset_ += n - i;
        return n;
      case Phase::Length:
      case Phase::ChunkData: {
        uint64_t take = std::min<uint64_t>(remaining_, n - i);
        i += take;
        offset_ += take;
        remaining_ -= take;
        if (remaining_ == 0) phase_ = phase_ == Phase::Length ? Phase::Done : Phase::ChunkDataEnd;
        break;
      }
      default: {  // a line: status line, header, chunk size, the CRLF after a chunk, trailer
        auto* nl = static_cast<const char*>(std::memchr(data + i, '\n', n - i));
        size_t end = nl ? static_cast<size_t>(nl - data) : n;
        size_t len = end - i;
        if (line_.size() + len + (nl ? 1 : 0) > line_limit()) {
          fail(phase_ == Phase::ChunkDataEnd ? "chunk data not followed by CRLF" : "line too long");
          return i;
        }
        if (!nl) {
          line_.append(data + i, len);
          offset_ += len;
          i = n;
          break;
        }
        std::string_view l(data + i, len);
        if (!line_.empty()) {
          line_.append(data + i, len);
          l = line_;
        }
        section_bytes_ += l.size() + 1;
        offset_ += len + 1;
        i = end + 1;
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        line(l);
        line_.clear();
        if (phase_ == Phase::Error) return i;
      }
    }
  }
  return i;
}

void ResponseFraming::line(std::string_view l) {
  switch (phase_) {
    case Phase::StatusLine: return status_line(l);
    case Phase::Headers: return header_line(l);
    case Phase::ChunkSize: return chunk_size_line(l);
    case Phase::ChunkDataEnd:
      if (!l.empty()) return fail("chunk data not followed by CRLF");
      phase_ = Phase::ChunkSize;
      return;
    case Phase::Trailers:
      if (l.empty()) {
        phase_ = Phase::Done;
        return;
      }
      if (l.find(':') == std::string_view::npos || l.front() == ':') return fail("malformed trailer field");
      return;
    default: return;
  }
}

void ResponseFraming::status_line(std::string_view l) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (l.size() < 12 || l.substr(0, 7) != "HTTP/1." || (l[7] != '0' && l[7] != '1') || l[8] != ' ' ||
      !is_digit(l[9]) || !is_digit(l[10]) || !is_digit(l[11]) || (l.size() > 12 && l[12] != ' '))
    return fail("malformed status line");
  version_minor_ = l[7] - '0';
  status_ = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
  if (status_ < 100) return fail("malformed status line");
  phase_ = Phase::Headers;
}

void ResponseFraming::header_line(std::string_view l) {
  if (l.empty()) return end_of_head();
  if (l.front() == ' ' || l.front() == '\t') return fail("obsolete line folding");
  auto colon = l.find(':');
  if (colon == std::string_view::npos || colon == 0) return fail("malformed header field");
  std::string_view name = l.substr(0, colon);
  if (name.find_first_of(" \t") != std::string_view::npos) return fail("whitespace in a header name");
  std::string_view value = trim_ows(l.substr(colon + 1));
  if (iequals(name, "Content-Length")) {
    if (value.empty() || value.size() > 18 || !std::all_of(value.begin(), value.end(), is_digit))
      return fail("malformed Content-Length");
    uint64_t v = 0;
    std::from_chars(value.data(), value.data() + value.size(), v);  // at most 18 digits: fits
    if (content_length_ && *content_length_ != v) return fail("conflicting Content-Length");
    content_length_ = v;
  } else if (iequals(name, "Transfer-Encoding")) {
    transfer_encoding_ = true;
    bool bad = false;
    for_each_token(value, [&](std::string_view coding) {
      if (chunked_) bad = true;  // chunked must be the last coding
      chunked_ = iequals(coding, "chunked");
    });
    if (bad) return fail("chunked is not the last transfer coding");
  } else if (iequals(name, "Connection")) {
    for_each_token(value, [&](std::string_view option) {
      if (iequals(option, "close")) close_ = true;
      if (iequals(option, "keep-alive")) keep_alive_token_ = true;
    });
  }
}

void ResponseFraming::end_of_head() {
  if (status_ < 200 && status_ != 101) {  // interim (100 Continue, 103 Early Hints): the final head follows
    content_length_.reset();
    chunked_ = transfer_encoding_ = close_ = keep_alive_token_ = false;
    section_bytes_ = 0;
    head_start_ = offset_;
    phase_ = Phase::StatusLine;
    return;
  }
  head_complete_ = true;
  final_head_start_ = head_start_;
  head_end_ = offset_;
  section_bytes_ = 0;
  if (status_ == 101) {  // switching protocols: what follows is no longer HTTP
    body_ = Body::UntilClose;
    phase_ = Phase::UntilClose;
  } else if (head_request_ || status_ == 204 || status_ == 304) {
    body_ = Body::None;
    phase_ = Phase::Done;
  } else if (transfer_encoding_) {
    if (content_length_) close_ = true;  // both: Transfer-Encoding wins; never trust the connection again
    body_ = chunked_ ? Body::Chunked : Body::UntilClose;
    phase_ = chunked_ ? Phase::ChunkSize : Phase::UntilClose;
  } else if (content_length_) {
    body_ = Body::Length;
    remaining_ = *content_length_;
    phase_ = remaining_ ? Phase::Length : Phase::Done;
  } else {
    body_ = Body::UntilClose;
    phase_ = Phase::UntilClose;
  }
}

void ResponseFraming::chunk_size_line(std::string_view l) {
  // 1*HEXDIG [BWS ";" extensions]; the extensions are not interpreted.
  uint64_t size = 0;
  auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), size, 16);
  size_t i = static_cast<size_t>(end - l.data());
  if (i == 0) return fail("malformed chunk size");
  if (i > 15 || ec != std::errc()) return fail("chunk size too large");
  while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
  if (i < l.size() && l[i] != ';') return fail("malformed chunk size");
  if (size == 0) {
    section_bytes_ = 0;
    phase_ = Phase::Trailers;
  } else {
    remaining_ = size;
    phase_ = Phase::ChunkData;
  }
}

void ResponseFraming::eof() {
  if (phase_ == Phase::UntilClose) phase_ = Phase::Done;
  else if (phase_ != Phase::Done && phase_ != Phase::Error) fail("the upstream closed before the response ended");
}

void ResponseFraming::fail(const char* why) {
  phase_ = Phase::Error;
  error_ = why;
}

bool ResponseFraming::reusable() const {
  return phase_ == Phase::Done && body_ != Body::UntilClose && !close_ && (version_minor_ == 1 || keep_alive_token_);
}

}  // namespace comfy::http
