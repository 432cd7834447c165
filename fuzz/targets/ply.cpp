// Generic PLY: the header, then every property of every element read back (scalars
// converted to float, lists as stored).
#include "engine/io/ply.h"
#include "fuzz_target.h"

SPARSPLAT_FUZZ_TARGET({
  const sp::ply::PlyData d = sp::ply::read_ply_bytes(std::string(bytes), "m.ply");
  for (const auto& e : d.header().elements)
    for (const auto& p : e.properties) {
      if (p.is_list) d.list(e.name, p.name);
      else d.floats(e.name, p.name);
    }
})
