// Small string/time helpers shared by the HTTP layer, the queue and the executor.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace comfy {
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string trim(std::string_view s);
// Percent-decodes; when `plus_as_space` (query strings) '+' becomes ' '. Invalid escapes are kept.
std::string percent_decode(std::string_view s, bool plus_as_space);
int64_t now_ms();  // wall-clock milliseconds since the epoch, like int(time.time() * 1000)
std::string uuid4();      // 36-char hyphenated, lower-case (str(uuid.uuid4()))
std::string uuid4_hex();  // 32 hex chars (uuid.uuid4().hex)
std::string base64_encode(const unsigned char* data, size_t len);
std::string sha1_base64(std::string_view text);  // WebSocket accept keys
std::string sha256_hex(std::string_view text);
std::string be32(uint32_t v);  // 4-byte big-endian (binary WebSocket frames, spec §3.4)
}  // namespace comfy
