// Query heatmap overlay (docs/viewer.md); CPU counterpart: engine/display/heatmap_overlay.cpp,
// compared in tests/display/test_heatmap_overlay.cpp.
// The ramp is `sparsplat query`'s heatmap PNG ramp (blue -> green -> red), so the overlay
// and the query tool's images read the same.
vec3 heatmap_ramp(float t) {
  return clamp(vec3(2.0 * t - 0.5, 2.0 - abs(4.0 * t - 2.0), 1.5 - 2.0 * t), 0.0, 1.0);
}

// rgb: the composited splat colour; r: relevance in [0, 1]. Only r above the threshold
// tints, with alpha = opacity * r.
vec3 heatmap_blend(vec3 rgb, float r, float opacity, float threshold) {
  const float a = r > threshold ? opacity * r : 0.0;
  return rgb + a * (heatmap_ramp(r) - rgb);
}

// The relevance texel under a pixel: nearest, integer scaling of the pixel index (the map
// may be smaller than the window).
ivec2 heatmap_texel(ivec2 pixel, ivec2 image_size, ivec2 map_size) {
  return min(pixel * map_size / image_size, map_size - 1);
}
