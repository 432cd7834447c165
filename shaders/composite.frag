#version 450
// The splat target (Σ c α T, 1 − T) over the background: C = rgb + T bg, as the CPU
// rasterizer composites (SplatRenderer does the same on the CPU for headless renders), then
// the optional query heatmap (heatmap.glsl; CPU counterpart composite_heatmap).
#include "heatmap.glsl"
layout(set = 0, binding = 0) uniform sampler2D splat_target;
layout(set = 0, binding = 1) uniform sampler2D relevance;  // R32F, any size; 1x1 when unused
layout(push_constant) uniform Composite {
  vec4 background;
  vec4 heatmap;  // opacity, threshold, enabled (0/1), unused
} pc;
layout(location = 0) out vec4 out_color;

void main() {
  const ivec2 p = ivec2(gl_FragCoord.xy);
  const vec4 s = texelFetch(splat_target, p, 0);
  vec3 c = s.rgb + (1.0 - s.a) * pc.background.rgb;
  if (pc.heatmap.z > 0.5) {
    const ivec2 q = heatmap_texel(p, textureSize(splat_target, 0), textureSize(relevance, 0));
    c = heatmap_blend(clamp(c, 0.0, 1.0), texelFetch(relevance, q, 0).r, pc.heatmap.x, pc.heatmap.y);
  }
  out_color = vec4(c, 1.0);
}
