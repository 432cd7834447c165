// What project.comp computed for one Gaussian, written when frame.info.w has kProbeBit (a test
// hook: tests/display/test_projection_pin.cpp compares it with the C++ functions). Record 0
// holds the shader's constants, record 1 + i Gaussian i. Mirrors SplatProbe in
// engine/display/splat_renderer.h (112 bytes).
struct ProbeRecord {
  ivec4 status;   // status (0 culled by the projection, 1 off the image, 2 faint, 3 drawn), radius, slot, 0
  ivec4 tiles;    // tx0, tx1, ty0, ty1
  ivec4 pixels;   // col0, col1, row0, row1 (inclusive)
  ivec4 rect;     // the quad's pixel rectangle [x0, x1) x [y0, y1)
  vec4 mean;      // mean2d x, y (pixels), view-space depth, q_max
  vec4 cov;       // Σ2D a, b, c (low-pass included), opacity
  vec4 conic;     // conic a, b, c, 0
};
const uint kProbeBit = 1u;  // frame.info.w: write the probe
const uint kDepthBit = 2u;  // frame.info.w: splat.vert draws view-space depth as the red colour
