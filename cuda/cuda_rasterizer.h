#pragma once
// The CUDA tile rasterizer (cuda/tile_rasterizer.cu): the Rasterizer contract of
// engine/render/rasterizer.h on an NVIDIA GPU, computing the same function as the CPU
// reference (engine/render/tile_rasterizer_cpu.h). No CUDA types in this header.
//
// Groundwork stage: the interface still passes HOST pointers (the trainer owns host arrays),
// so forward() uploads the parameters, runs the kernels and downloads the images; backward()
// uploads dL/d(outputs) and downloads the gradients. A later step keeps the model and the
// optimizer on the device.
#include <memory>
#include <string>

#include "engine/render/rasterizer.h"

namespace sp {

// A rasterizer running on CUDA device 0. Construction never touches the GPU; forward()
// throws sp::Error (Internal) with the reason when no usable device is present.
std::unique_ptr<Rasterizer> make_cuda_rasterizer();

// Whether a CUDA device can be used (false with no driver, cudaErrorInsufficientDriver, or
// no device); `why` receives the reason when it cannot.
bool cuda_device_available(std::string* why = nullptr);

}  // namespace sp
