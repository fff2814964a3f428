// multipart/form-data (RFC 7578 / RFC 2046) parsing for the upload routes. Pistache has none
// (architecture §2). Strict framing: the body must hold a dash-boundary line, well-formed part
// headers and the close delimiter; anything else is an error the route answers with 400.
// Content-Disposition parameters are read the way aiohttp reads them (quoted values unescaped and
// stripped of leading '/' and '\', `filename*` in RFC 5987 form preferred over `filename`), so
// the names a client sends end up as the names ComfyUI would have seen. Pure functions:
// thread-safe.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.h"

namespace comfy::http {

struct MultipartPart {
  std::string name;                     // Content-Disposition `name` ("" when absent)
  std::optional<std::string> filename;  // present when the part carried filename / filename*
  std::string content_type;             // part Content-Type as sent, "" when absent
  Pairs headers;                        // all part headers, names as sent
  // Points into the body passed to parse_multipart: valid only while that buffer lives unchanged.
  std::string_view body;
};

// The boundary of a `multipart/form-data; boundary=...` Content-Type (token or quoted-string,
// 1..70 characters of RFC 2046's bchars, not ending in a space). nullopt when the media type is
// something else or the boundary is missing or invalid.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Splits `body` into parts. Returns false with a short reason in *error on malformed input
// (no opening delimiter, part headers without a blank line or with a line lacking ':', a part
// without Content-Disposition: form-data, no close delimiter, more than `max_parts` parts).
// A preamble before the first delimiter and an epilogue after the last are ignored.
bool parse_multipart(std::string_view body, std::string_view boundary, std::vector<MultipartPart>& out,
                     std::string* error = nullptr, size_t max_parts = 1000);

// Content-Disposition as aiohttp parses it: the lower-cased type and the parameters (keys
// lower-cased). nullopt when the header is malformed in a way aiohttp rejects as a whole.
struct ContentDisposition {
  std::string type;
  Pairs params;
  std::optional<std::string> param(std::string_view key) const;
};
std::optional<ContentDisposition> parse_content_disposition(std::string_view header);

// The first part with this name, or nullptr.
const MultipartPart* find_part(const std::vector<MultipartPart>& parts, std::string_view name);

}  // namespace comfy::http
