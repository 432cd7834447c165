// engine/core/base64.h against RFC 4648's test vectors, and every byte value.
#include <gtest/gtest.h>

#include <string>

#include "engine/core/base64.h"

namespace sp {
namespace {

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, HighBytesAndLength) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += char(b);
  const std::string e = base64_encode(all);
  EXPECT_EQ(e.size(), (all.size() + 2) / 3 * 4);
  EXPECT_EQ(e.substr(0, 8), "AAECAwQF");             // 00 01 02 03 04 05
  EXPECT_EQ(e.substr(e.size() - 8), "/P3+/w==");  // fc fd fe ff: 256 = 85 * 3 + 1, two pads
  EXPECT_EQ(base64_encode(std::string("\xff\xff\xff", 3)), "////");
}

}  // namespace
}  // namespace sp
