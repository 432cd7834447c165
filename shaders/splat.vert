#version 450
// One instanced quad per visible splat, drawn front to back (the sorted order): a rectangle
// along the ellipse's axes, or the pixel rectangle `rect` when that is smaller (project.comp).
// With kDepthBit in frame.info.w the colour is (view-space depth, 0, 0): the same blend then
// accumulates the depth output Σ z α T (SplatRenderer's depth, the Vulkan rasterizer's).
#extension GL_GOOGLE_include_directive : require
#include "frame.glsl"
#include "splat_record.glsl"
#include "splat_probe.glsl"

layout(std430, set = 0, binding = 5) readonly buffer Splats { SplatRecord splats[]; };
layout(std430, set = 0, binding = 6) readonly buffer Keys { uint keys[]; };  // sorted depth bits
layout(std430, set = 0, binding = 7) readonly buffer Values { uint values[]; };

layout(location = 0) flat out vec4 v_mean_conic;  // mean x, y, conic a, b
layout(location = 1) flat out vec2 v_conic_c_opacity;
layout(location = 2) flat out vec3 v_color;
layout(location = 3) flat out vec4 v_rect;

void main() {
  const SplatRecord s = splats[values[gl_InstanceIndex]];
  vec2 p;
  if (s.color_minor.w >= 0.0) {  // oriented quad: corners mean ± major ± minor
    const vec2 major = s.conic_c_major.zw;
    const vec2 minor = normalize(vec2(-major.y, major.x)) * s.color_minor.w;
    p = s.mean_conic_a.xy + ((gl_VertexIndex & 1) != 0 ? major : -major) + ((gl_VertexIndex & 2) != 0 ? minor : -minor);
  } else {
    p = vec2((gl_VertexIndex & 1) != 0 ? s.rect.z : s.rect.x, (gl_VertexIndex & 2) != 0 ? s.rect.w : s.rect.y);
  }
  gl_Position = vec4(2.0 * p.x / frame.limits.z - 1.0, 2.0 * p.y / frame.limits.w - 1.0, 0.0, 1.0);
  v_mean_conic = s.mean_conic_a;
  v_conic_c_opacity = s.conic_c_major.xy;
  v_color = (frame.info.w & kDepthBit) != 0u ? vec3(uintBitsToFloat(keys[gl_InstanceIndex]), 0.0, 0.0)
                                             : s.color_minor.rgb;
  v_rect = s.rect;
}
