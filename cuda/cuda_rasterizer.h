#pragma once
// The CUDA tile rasterizer (cuda/tile_rasterizer.cu): the Rasterizer contract of
// engine/render/rasterizer.h on an NVIDIA GPU, computing the same function as the CPU
// reference (engine/render/tile_rasterizer_cpu.h). No CUDA types in this header.
//
// The interface passes HOST pointers (the CPU trainer owns host arrays),
// so forward() uploads the parameters, runs the kernels and downloads the images; backward()
// uploads dL/d(outputs) and downloads the gradients. The GPU-resident path (device pointers,
// no copies) is CudaDeviceRasterizer in cuda_device_rasterizer.h, used by cuda_trainer.h.
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

// Device 0 in words ("NVIDIA H200, 132 SMs, 140 GiB, CUDA 13.0 driver"); "" without one.
std::string cuda_device_description();

}  // namespace sp
