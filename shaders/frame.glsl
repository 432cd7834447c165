// Per-frame camera and model constants shared by project.comp and splat.vert (push constants,
// 128 bytes). Mirrors ProjectionCameraT in engine/render/project.h; filled by splat_pipeline.cpp.
layout(push_constant) uniform Frame {
  vec4 rot_row0;      // world -> camera rotation, row 0 (xyz)
  vec4 rot_row1;
  vec4 rot_row2;
  vec4 trans_near;    // t (xyz), near plane (w)
  vec4 center_scale;  // camera centre in world space (xyz), splat scale multiplier (w)
  vec4 focal;         // fx, fy, cx, cy (pixels, from the image corner)
  vec4 limits;        // 1.3 tan(fov_x/2), 1.3 tan(fov_y/2), width, height
  uvec4 info;         // Gaussian count, stored SH coefficients K, active degree, flags (splat_probe.glsl)
} frame;
