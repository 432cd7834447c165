#pragma once
// Standard base64 (RFC 4648, with padding): embeds images in self-contained HTML as data: URLs.
#include <string>
#include <string_view>

namespace sp {

std::string base64_encode(std::string_view bytes);

}  // namespace sp
