#version 450
// Per Gaussian: cull, project (EWA), evaluate SH, and append a splat record and its depth
// key. The same function as project_gaussian() + sh_to_color() + the tile/ellipse bounds of
// engine/render/tile_rasterizer_cpu.cpp (the CPU reference, compared in tests/display).
#extension GL_GOOGLE_include_directive : require
#define COUNTERS_BINDING 8
layout(local_size_x = 256) in;
#include "frame.glsl"
#include "splat_record.glsl"
#include "counters.glsl"

layout(std430, set = 0, binding = 0) readonly buffer Means { float means[]; };
layout(std430, set = 0, binding = 1) readonly buffer LogScales { float log_scales[]; };
layout(std430, set = 0, binding = 2) readonly buffer Rotations { float rotations[]; };
layout(std430, set = 0, binding = 3) readonly buffer Opacities { float opacities[]; };
layout(std430, set = 0, binding = 4) readonly buffer Sh { float sh[]; };
layout(std430, set = 0, binding = 5) writeonly buffer Splats { SplatRecord splats[]; };
layout(std430, set = 0, binding = 6) writeonly buffer Keys { uint keys[]; };
layout(std430, set = 0, binding = 7) writeonly buffer Values { uint values[]; };

const int kTile = 16;
const float kCullMargin = 0.01;

int floor_clamped(float v, int lo, int hi) {
  if (!(v > float(lo))) return lo;
  if (v >= float(hi)) return hi;
  const int i = int(v);
  return float(i) > v ? i - 1 : i;
}
int ceil_clamped(float v, int lo, int hi) {
  if (!(v > float(lo))) return lo;
  if (v >= float(hi)) return hi;
  const int i = int(v);
  return float(i) < v ? i + 1 : i;
}

mat3 quat_to_rotation(vec4 q) {  // q = (w, x, y, z); columns as in project.h
  const float n2 = q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w;
  if (!(n2 > 0.0)) return mat3(1.0);
  const float inv = 1.0 / sqrt(n2);
  const float w = q.x * inv, x = q.y * inv, y = q.z * inv, z = q.w * inv;
  mat3 R;
  R[0][0] = 1.0 - 2.0 * (y * y + z * z);
  R[1][0] = 2.0 * (x * y - w * z);
  R[2][0] = 2.0 * (x * z + w * y);
  R[0][1] = 2.0 * (x * y + w * z);
  R[1][1] = 1.0 - 2.0 * (x * x + z * z);
  R[2][1] = 2.0 * (y * z - w * x);
  R[0][2] = 2.0 * (x * z - w * y);
  R[1][2] = 2.0 * (y * z + w * x);
  R[2][2] = 1.0 - 2.0 * (x * x + y * y);
  return R;
}

vec3 sh_color(uint i, vec3 dir) {
  const uint K = frame.info.y;
  const uint degree = frame.info.z;
  const float n2 = dot(dir, dir);
  const vec3 n = n2 > 0.0 ? dir / sqrt(n2) : vec3(0.0, 0.0, 1.0);
  float Y[16];
  Y[0] = 0.28209479177387814;
  if (degree >= 1) {
    Y[1] = -0.4886025119029199 * n.y;
    Y[2] = 0.4886025119029199 * n.z;
    Y[3] = -0.4886025119029199 * n.x;
  }
  const float x = n.x, y = n.y, z = n.z;
  const float xx = x * x, yy = y * y, zz = z * z, xy = x * y, yz = y * z, xz = x * z;
  if (degree >= 2) {
    Y[4] = 1.0925484305920792 * xy;
    Y[5] = -1.0925484305920792 * yz;
    Y[6] = 0.31539156525252005 * (2.0 * zz - xx - yy);
    Y[7] = -1.0925484305920792 * xz;
    Y[8] = 0.5462742152960396 * (xx - yy);
  }
  if (degree >= 3) {
    Y[9] = -0.5900435899266435 * y * (3.0 * xx - yy);
    Y[10] = 2.890611442640554 * xy * z;
    Y[11] = -0.4570457994644658 * y * (4.0 * zz - xx - yy);
    Y[12] = 0.3731763325901154 * z * (2.0 * zz - 3.0 * xx - 3.0 * yy);
    Y[13] = -0.4570457994644658 * x * (4.0 * zz - xx - yy);
    Y[14] = 1.445305721320277 * z * (xx - yy);
    Y[15] = -0.5900435899266435 * x * (xx - 3.0 * yy);
  }
  const uint used = (degree + 1) * (degree + 1);
  vec3 rgb = vec3(0.5);
  const uint base = i * K * 3;
  for (uint k = 0; k < used; ++k)
    rgb += Y[k] * vec3(sh[base + k * 3], sh[base + k * 3 + 1], sh[base + k * 3 + 2]);
  return max(rgb, vec3(0.0));
}

void main() {
  const uint i = gl_GlobalInvocationID.x;
  if (i >= frame.info.x) return;
  const vec3 mean = vec3(means[i * 3], means[i * 3 + 1], means[i * 3 + 2]);
  const vec3 p = vec3(dot(frame.rot_row0.xyz, mean), dot(frame.rot_row1.xyz, mean), dot(frame.rot_row2.xyz, mean)) +
                 frame.trans_near.xyz;
  if (!(p.z > frame.trans_near.w)) return;

  // Σ = M Mᵀ, M = R(q) diag(scale)
  mat3 M = quat_to_rotation(vec4(rotations[i * 4], rotations[i * 4 + 1], rotations[i * 4 + 2], rotations[i * 4 + 3]));
  for (int c = 0; c < 3; ++c) M[c] *= exp(log_scales[i * 3 + c]) * frame.center_scale.w;
  const mat3 sigma = M * transpose(M);

  // EWA: rows of J R_cam with x/z and y/z clamped inside J.
  const float fx = frame.focal.x, fy = frame.focal.y, cx = frame.focal.z, cy = frame.focal.w;
  const float lim_x = frame.limits.x, lim_y = frame.limits.y;
  const float rz = 1.0 / p.z;
  const float u = clamp(p.x * rz, -lim_x, lim_x), v = clamp(p.y * rz, -lim_y, lim_y);
  const vec3 j0 = vec3(fx * rz, 0.0, -fx * u * rz), j1 = vec3(0.0, fy * rz, -fy * v * rz);
  const vec3 g0 = j0.x * frame.rot_row0.xyz + j0.y * frame.rot_row1.xyz + j0.z * frame.rot_row2.xyz;
  const vec3 g1 = j1.x * frame.rot_row0.xyz + j1.y * frame.rot_row1.xyz + j1.z * frame.rot_row2.xyz;
  const vec3 s0 = sigma * g0, s1 = sigma * g1;
  const float ca = dot(g0, s0) + 0.3, cb = dot(g0, s1), cc = dot(g1, s1) + 0.3;
  const float det = ca * cc - cb * cb;
  if (!(det > 0.0)) return;
  const float inv_det = 1.0 / det;
  const vec3 conic = vec3(cc * inv_det, -cb * inv_det, ca * inv_det);
  const vec2 mean2d = vec2(fx * p.x / p.z + cx, fy * p.y / p.z + cy);
  if (any(isinf(mean2d)) || any(isnan(mean2d)) || any(isinf(conic)) || any(isnan(conic))) return;

  // Radius ceil(3 sqrt(λmax)) (INRIA's floor of 0.1 under the discriminant).
  const float mid = 0.5 * (ca + cc);
  const float lambda = mid + sqrt(max(0.1, mid * mid - det));
  const float r3 = 3.0 * sqrt(lambda);
  const float radius = r3 < 16777216.0 ? ceil(r3) : 16777216.0;

  // Tiles of the open 3σ box, as the CPU bins them.
  const int W = int(frame.limits.z), H = int(frame.limits.w);
  const int tiles_x = (W + kTile - 1) / kTile, tiles_y = (H + kTile - 1) / kTile;
  int tx0 = floor_clamped((mean2d.x - radius) / float(kTile), 0, tiles_x);
  int tx1 = ceil_clamped((mean2d.x + radius) / float(kTile), 0, tiles_x);
  int ty0 = floor_clamped((mean2d.y - radius) / float(kTile), 0, tiles_y);
  int ty1 = ceil_clamped((mean2d.y + radius) / float(kTile), 0, tiles_y);
  if (tx0 >= tx1 || ty0 >= ty1) return;

  // Pixels where α can reach 1/255: q <= ln(255 o) (+ margin).
  const float opacity = 1.0 / (1.0 + exp(-opacities[i]));
  const float q_max = log(255.0 * opacity) + kCullMargin;
  if (!(q_max > 0.0)) return;
  const float ex = sqrt(2.0 * q_max * ca), ey = sqrt(2.0 * q_max * cc);
  const int col0 = ceil_clamped(mean2d.x - ex - 0.5, 0, W);
  const int col1 = floor_clamped(mean2d.x + ex - 0.5, -1, W - 1);
  const int row0 = ceil_clamped(mean2d.y - ey - 0.5, 0, H);
  const int row1 = floor_clamped(mean2d.y + ey - 0.5, -1, H - 1);
  if (col0 > col1 || row0 > row1) return;
  tx0 = max(tx0, col0 / kTile);
  tx1 = min(tx1, col1 / kTile + 1);
  ty0 = max(ty0, row0 / kTile);
  ty1 = min(ty1, row1 / kTile + 1);
  if (tx0 >= tx1 || ty0 >= ty1) return;
  // The quad: the ellipse's pixel box within the kept tiles.
  const vec4 rect = vec4(max(col0, tx0 * kTile), max(row0, ty0 * kTile), min(col1 + 1, tx1 * kTile),
                         min(row1 + 1, ty1 * kTile));

  // A quad along the ellipse's axes (semi-axes sqrt(2 q_max λ), + half a pixel) covers far
  // fewer pixels than the rectangle for thin, tilted splats; the fragment shader still
  // discards pixels outside `rect`, so either quad colours exactly the same pixels.
  const float disc = sqrt(max(mid * mid - det, 0.0));
  const float l1 = mid + disc, l2 = max(mid - disc, 0.0);
  vec2 axis = abs(cb) > 1e-12 * mid ? vec2(cb, l1 - ca) : (ca >= cc ? vec2(1.0, 0.0) : vec2(0.0, 1.0));
  axis /= max(length(axis), 1e-30);
  const float major = sqrt(2.0 * q_max * l1) + 0.5, minor = sqrt(2.0 * q_max * l2) + 0.5;
  const float rect_area = (rect.z - rect.x) * (rect.w - rect.y);
  const bool oriented = 4.0 * major * minor < rect_area;

  const vec3 rgb = sh_color(i, mean - frame.center_scale.xyz);
  const uint slot = atomicAdd(counters.visible, 1);
  splats[slot].mean_conic_a = vec4(mean2d, conic.x, conic.y);
  splats[slot].conic_c_major = vec4(conic.z, opacity, axis * major);
  splats[slot].color_minor = vec4(rgb, oriented ? minor : -1.0);
  splats[slot].rect = rect;
  keys[slot] = floatBitsToUint(p.z);  // p.z > near > 0: the bits order like the values
  values[slot] = slot;
}
