#version 450
// α = min(0.99, o e^−q) at the pixel centre, skipped below 1/255 (as the CPU blends);
// output premultiplied for "under" blending (src ONE_MINUS_DST_ALPHA, dst ONE), so the
// target holds Σ c α T in rgb and 1 − T in alpha; the background is added afterwards.
#extension GL_GOOGLE_include_directive : require
#include "raster_constants.glsl"
layout(location = 0) flat in vec4 v_mean_conic;
layout(location = 1) flat in vec2 v_conic_c_opacity;
layout(location = 2) flat in vec3 v_color;
layout(location = 3) flat in vec4 v_rect;
layout(location = 0) out vec4 out_color;

void main() {
  // Only pixels of the tiles the CPU rasterizer lists this Gaussian in (see project.comp).
  if (any(lessThan(gl_FragCoord.xy, v_rect.xy)) || any(greaterThanEqual(gl_FragCoord.xy, v_rect.zw))) discard;
  const vec2 d = v_mean_conic.xy - gl_FragCoord.xy;  // gl_FragCoord is the pixel centre (x + 0.5)
  const float a = v_mean_conic.z, b = v_mean_conic.w, c = v_conic_c_opacity.x;
  const float q = (0.5 * a * d.x + b * d.y) * d.x + 0.5 * c * d.y * d.y;
  if (q < 0.0 || q > kFarExponent) discard;
  const float alpha = min(kMaxAlpha, v_conic_c_opacity.y * exp(-q));
  if (alpha < kMinAlpha) discard;
  out_color = vec4(v_color * alpha, alpha);
}
