#version 450
// Per Gaussian: cull, project (EWA), evaluate SH, and append a splat record and its depth
// key. The same function as project_gaussian() (engine/render/project.h) + sh_to_color()
// (sh.h) + splat_footprint() (tile_bounds.h), which the CPU and CUDA rasterizers call.
// GLSL cannot include those headers: tests/display/test_projection_pin.cpp pins this copy to
// them through the probe (splat_probe.glsl), constants included.
#extension GL_GOOGLE_include_directive : require
#define COUNTERS_BINDING 8
layout(local_size_x = 256) in;
#include "frame.glsl"
#include "raster_constants.glsl"
#include "splat_record.glsl"
#include "splat_probe.glsl"
#include "counters.glsl"

layout(std430, set = 0, binding = 0) readonly buffer Means { float means[]; };
layout(std430, set = 0, binding = 1) readonly buffer LogScales { float log_scales[]; };
layout(std430, set = 0, binding = 2) readonly buffer Rotations { float rotations[]; };
layout(std430, set = 0, binding = 3) readonly buffer Opacities { float opacities[]; };
layout(std430, set = 0, binding = 4) readonly buffer Sh { float sh[]; };
layout(std430, set = 0, binding = 5) writeonly buffer Splats { SplatRecord splats[]; };
layout(std430, set = 0, binding = 6) writeonly buffer Keys { uint keys[]; };
layout(std430, set = 0, binding = 7) writeonly buffer Values { uint values[]; };
layout(std430, set = 0, binding = 9) writeonly buffer Probe { ProbeRecord probe[]; };

// ---- tile_bounds.h ----------------------------------------------------------------------

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

const int kOffImage = 1, kFaint = 2, kListed = 3;  // enum class Footprint
struct SplatFootprint {
  int kind;
  ivec4 tiles;   // x0, x1, y0, y1
  ivec4 pixels;  // col0, col1, row0, row1 (inclusive)
  float q_max;
};

SplatFootprint splat_footprint(vec2 mean, int radius, vec3 cov, float opacity, int W, int H) {
  SplatFootprint f;
  f.kind = kOffImage;
  f.pixels = ivec4(0, -1, 0, -1);
  f.q_max = 0.0;
  // Tiles of the open 3σ box.
  const float r = float(radius);
  const int tiles_x = (W + kTileSize - 1) / kTileSize, tiles_y = (H + kTileSize - 1) / kTileSize;
  f.tiles = ivec4(floor_clamped((mean.x - r) / float(kTileSize), 0, tiles_x),
                  ceil_clamped((mean.x + r) / float(kTileSize), 0, tiles_x),
                  floor_clamped((mean.y - r) / float(kTileSize), 0, tiles_y),
                  ceil_clamped((mean.y + r) / float(kTileSize), 0, tiles_y));
  if (f.tiles.x >= f.tiles.y || f.tiles.z >= f.tiles.w) return f;
  // Pixels where α can reach 1/255: q <= ln(255 o) (+ margin).
  f.kind = kFaint;
  f.q_max = log(kMinAlphaReciprocal * opacity) + kCullMargin;
  if (!(f.q_max > 0.0)) return f;
  const float ex = sqrt(2.0 * f.q_max * cov.x), ey = sqrt(2.0 * f.q_max * cov.z);
  f.pixels = ivec4(ceil_clamped(mean.x - ex - 0.5, 0, W), floor_clamped(mean.x + ex - 0.5, -1, W - 1),
                   ceil_clamped(mean.y - ey - 0.5, 0, H), floor_clamped(mean.y + ey - 0.5, -1, H - 1));
  if (f.pixels.x > f.pixels.y || f.pixels.z > f.pixels.w) return f;
  f.tiles = ivec4(max(f.tiles.x, f.pixels.x / kTileSize), min(f.tiles.y, f.pixels.y / kTileSize + 1),
                  max(f.tiles.z, f.pixels.z / kTileSize), min(f.tiles.w, f.pixels.w / kTileSize + 1));
  if (f.tiles.x < f.tiles.y && f.tiles.z < f.tiles.w) f.kind = kListed;
  return f;
}

// ---- project.h, sh.h --------------------------------------------------------------------

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

// Projects Gaussian i; appends it when drawn. `rec` receives what the probe reports.
void project_splat(uint i, inout ProbeRecord rec) {
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
  const float ca = dot(g0, s0) + kCovarianceBlur, cb = dot(g0, s1), cc = dot(g1, s1) + kCovarianceBlur;
  const float det = ca * cc - cb * cb;
  rec.cov.xyz = vec3(ca, cb, cc);
  if (!(det > 0.0)) return;
  const float inv_det = 1.0 / det;
  const vec3 conic = vec3(cc * inv_det, -cb * inv_det, ca * inv_det);
  const vec2 mean2d = vec2(fx * p.x / p.z + cx, fy * p.y / p.z + cy);
  rec.mean.xyz = vec3(mean2d, p.z);
  rec.conic.xyz = conic;
  if (any(isinf(mean2d)) || any(isnan(mean2d)) || any(isinf(conic)) || any(isnan(conic))) return;

  // Radius ceil(3 sqrt(λmax)) (INRIA's floor of 0.1 under the discriminant), capped at 2^24.
  const float mid = 0.5 * (ca + cc);
  const float lambda = mid + sqrt(max(0.1, mid * mid - det));
  const float r3 = 3.0 * sqrt(lambda);
  const int radius = r3 < 16777216.0 ? int(ceil(r3)) : 16777216;
  rec.status.y = radius;

  // The tiles and pixels the CPU rasterizer lets the Gaussian colour.
  const float opacity = 1.0 / (1.0 + exp(-opacities[i]));
  rec.cov.w = opacity;
  const int W = int(frame.limits.z), H = int(frame.limits.w);
  const SplatFootprint f = splat_footprint(mean2d, radius, vec3(ca, cb, cc), opacity, W, H);
  rec.status.x = f.kind;
  rec.tiles = f.tiles;
  rec.pixels = f.pixels;
  rec.mean.w = f.q_max;
  if (f.kind != kListed) return;
  // The quad: the ellipse's pixel box within the kept tiles (footprint_pixels()).
  const ivec4 box = ivec4(max(f.pixels.x, f.tiles.x * kTileSize), min(f.pixels.y + 1, f.tiles.y * kTileSize),
                          max(f.pixels.z, f.tiles.z * kTileSize), min(f.pixels.w + 1, f.tiles.w * kTileSize));
  rec.rect = box;
  const vec4 rect = vec4(box.x, box.z, box.y, box.w);  // x0, y0, x1, y1

  // A quad along the ellipse's axes (semi-axes sqrt(2 q_max λ), + half a pixel) covers far
  // fewer pixels than the rectangle for thin, tilted splats; the fragment shader still
  // discards pixels outside `rect`, so either quad colours exactly the same pixels.
  const float q_max = f.q_max;
  const float disc = sqrt(max(mid * mid - det, 0.0));
  const float l1 = mid + disc, l2 = max(mid - disc, 0.0);
  vec2 axis = abs(cb) > 1e-12 * mid ? vec2(cb, l1 - ca) : (ca >= cc ? vec2(1.0, 0.0) : vec2(0.0, 1.0));
  axis /= max(length(axis), 1e-30);
  const float major = sqrt(2.0 * q_max * l1) + 0.5, minor = sqrt(2.0 * q_max * l2) + 0.5;
  const float rect_area = (rect.z - rect.x) * (rect.w - rect.y);
  const bool oriented = 4.0 * major * minor < rect_area;

  const vec3 rgb = sh_color(i, mean - frame.center_scale.xyz);
  const uint slot = atomicAdd(counters.visible, 1);
  rec.status.z = int(slot);
  splats[slot].mean_conic_a = vec4(mean2d, conic.x, conic.y);
  splats[slot].conic_c_major = vec4(conic.z, opacity, axis * major);
  splats[slot].color_minor = vec4(rgb, oriented ? minor : -1.0);
  splats[slot].rect = rect;
  keys[slot] = floatBitsToUint(p.z);  // p.z > near > 0: the bits order like the values
  values[slot] = slot;
}

void main() {
  const uint i = gl_GlobalInvocationID.x;
  const bool probing = (frame.info.w & kProbeBit) != 0u;
  if (probing && i == 0u) {  // the constants, for the test to compare with the C++ ones
    probe[0].status = ivec4(kTileSize, 0, 0, 0);
    probe[0].tiles = ivec4(0);
    probe[0].pixels = ivec4(0);
    probe[0].rect = ivec4(0);
    probe[0].mean = vec4(kCullMargin, kMinAlphaReciprocal, kMinAlpha, kMaxAlpha);
    probe[0].cov = vec4(kFarExponent, kCovarianceBlur, frame.limits.x, frame.limits.y);
    probe[0].conic = vec4(0.0);
  }
  if (i >= frame.info.x) return;
  ProbeRecord rec;
  rec.status = ivec4(0, 0, -1, 0);
  rec.tiles = ivec4(0);
  rec.pixels = ivec4(0, -1, 0, -1);
  rec.rect = ivec4(0);
  rec.mean = vec4(0.0);
  rec.cov = vec4(0.0);
  rec.conic = vec4(0.0);
  project_splat(i, rec);
  if (probing) probe[1 + i] = rec;
}
