#version 450
// The splat target (Σ c α T, 1 − T) over the background: C = rgb + T bg, as the CPU
// rasterizer composites (SplatRenderer does the same on the CPU for headless renders).
layout(set = 0, binding = 0) uniform sampler2D splat_target;
layout(push_constant) uniform Composite { vec4 background; } pc;
layout(location = 0) out vec4 out_color;

void main() {
  const vec4 s = texelFetch(splat_target, ivec2(gl_FragCoord.xy), 0);
  out_color = vec4(s.rgb + (1.0 - s.a) * pc.background.rgb, 1.0);
}
