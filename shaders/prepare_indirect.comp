#version 450
// One thread: turns the visible count into the radix passes' dispatch size and the splat
// pass's instanced draw, so the CPU never reads the count back.
#extension GL_GOOGLE_include_directive : require
#define COUNTERS_BINDING 0
layout(local_size_x = 1) in;
#include "counters.glsl"

void main() {
  const uint n = counters.visible;
  counters.sort_groups_x = (n + 2047) / 2048;  // BLOCK_KEYS of radix_common.glsl
  counters.sort_groups_y = 1;
  counters.sort_groups_z = 1;
  counters.draw_vertices = 4;  // one triangle-strip quad per splat, instanced
  counters.draw_instances = n;
  counters.draw_first_vertex = 0;
  counters.draw_first_instance = 0;
}
