// The SPIR-V of shaders/*.{comp,vert,frag}, compiled by glslc at build time
// (shaders/shaders.cmake) and embedded here as arrays.
#include "engine/display/vulkan_device_vk.h"

namespace sp {
namespace {
const uint32_t kProject[] =
#include "project.comp.inc"
    ;
const uint32_t kPrepareIndirect[] =
#include "prepare_indirect.comp.inc"
    ;
const uint32_t kRadixHistogram[] =
#include "radix_histogram.comp.inc"
    ;
const uint32_t kRadixScan[] =
#include "radix_scan.comp.inc"
    ;
const uint32_t kRadixScatter[] =
#include "radix_scatter.comp.inc"
    ;
const uint32_t kSplatVert[] =
#include "splat.vert.inc"
    ;
const uint32_t kSplatFrag[] =
#include "splat.frag.inc"
    ;
const uint32_t kCompositeVert[] =
#include "composite.vert.inc"
    ;
const uint32_t kCompositeFrag[] =
#include "composite.frag.inc"
    ;
}  // namespace

std::span<const uint32_t> shader_spirv(ShaderId id) {
  switch (id) {
    case ShaderId::Project: return kProject;
    case ShaderId::PrepareIndirect: return kPrepareIndirect;
    case ShaderId::RadixHistogram: return kRadixHistogram;
    case ShaderId::RadixScan: return kRadixScan;
    case ShaderId::RadixScatter: return kRadixScatter;
    case ShaderId::SplatVert: return kSplatVert;
    case ShaderId::SplatFrag: return kSplatFrag;
    case ShaderId::CompositeVert: return kCompositeVert;
    case ShaderId::CompositeFrag: return kCompositeFrag;
  }
  return {};
}

}  // namespace sp
