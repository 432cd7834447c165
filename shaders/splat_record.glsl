// One projected Gaussian as project.comp writes it and splat.vert reads it (16 floats).
struct SplatRecord {
  vec4 mean_conic_a;     // mean2d x, y (pixels), conic a, conic b
  vec4 conic_c_major;    // conic c, opacity, major half-axis of the quad (x, y pixels)
  vec4 color_minor;      // rgb after the clamp at 0, minor half-extent (< 0: draw `rect` instead)
  vec4 rect;             // pixel rectangle [x0, x1) x [y0, y1) that may receive the splat
};
