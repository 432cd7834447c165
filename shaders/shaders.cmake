# GLSL in shaders/ -> SPIR-V as C array initializers (glslc -mfmt=c) in the build folder;
# engine/display/shader_code.cpp includes them, so the binaries carry their shaders.
# Included by engine/CMakeLists.txt after the display module is declared.
set(_sparsplat_shader_dir ${PROJECT_SOURCE_DIR}/shaders)
set(_sparsplat_spirv_dir ${CMAKE_BINARY_DIR}/shaders)
file(MAKE_DIRECTORY ${_sparsplat_spirv_dir})
set(_sparsplat_spirv_outputs)
foreach(_shader project.comp prepare_indirect.comp radix_histogram.comp radix_scan.comp radix_scatter.comp
                splat.vert splat.frag composite.vert composite.frag)
  set(_out ${_sparsplat_spirv_dir}/${_shader}.inc)
  add_custom_command(
    OUTPUT ${_out}
    COMMAND Vulkan::glslc --target-env=vulkan1.1 -O -mfmt=c -MD -MF ${_out}.d -I ${_sparsplat_shader_dir}
            -o ${_out} ${_sparsplat_shader_dir}/${_shader}
    DEPENDS ${_sparsplat_shader_dir}/${_shader}
    DEPFILE ${_out}.d
    COMMENT "glslc ${_shader}"
    VERBATIM)
  list(APPEND _sparsplat_spirv_outputs ${_out})
endforeach()
add_custom_target(sparsplat_shaders DEPENDS ${_sparsplat_spirv_outputs})
add_dependencies(sparsplat_display sparsplat_shaders)
target_include_directories(sparsplat_display PRIVATE ${_sparsplat_spirv_dir})
# Vulkan structs are initialized as {VK_STRUCTURE_TYPE_...} (the rest zero): not a mistake here.
target_compile_options(sparsplat_display PRIVATE -Wno-missing-field-initializers)
