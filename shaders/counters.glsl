// The counter buffer: visible count written by project.comp, indirect arguments written by
// prepare_indirect.comp and consumed by vkCmdDispatchIndirect / vkCmdDrawIndirect.
layout(std430, set = 0, binding = COUNTERS_BINDING) buffer Counters {
  uint visible;          // [0]
  uint sort_groups_x;    // [1..3] VkDispatchIndirectCommand of the radix passes
  uint sort_groups_y;
  uint sort_groups_z;
  uint draw_vertices;    // [4..7] VkDrawIndirectCommand of the splat pass
  uint draw_instances;
  uint draw_first_vertex;
  uint draw_first_instance;
} counters;
