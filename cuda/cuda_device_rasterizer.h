#pragma once
// The CUDA tile rasterizer on DEVICE pointers (cuda/tile_rasterizer.cu): what the
// GPU-resident trainer (cuda/cuda_trainer.h) calls so that an iteration never copies the
// model, the images or the gradients to the host. make_cuda_rasterizer() (host pointers,
// the Rasterizer contract) is a thin upload/download wrapper around it.
// No CUDA types here: device memory travels as plain pointers.
#include <memory>

#include "engine/core/camera.h"
#include "engine/core/image.h"
#include "engine/render/rasterizer.h"
#include "engine/model/gaussian_model.h"

namespace sp {

// Device arrays the backward pass writes, each sized like its parameter array (means2d N x 2).
// extras may be null when E = 0.
struct DeviceGradientPointers {
  float* means = nullptr;
  float* log_scales = nullptr;
  float* rotations = nullptr;
  float* opacities = nullptr;
  float* sh = nullptr;
  float* extras = nullptr;
  float* means2d = nullptr;
};

class CudaDeviceRasterizer {
 public:
  CudaDeviceRasterizer();
  ~CudaDeviceRasterizer();
  CudaDeviceRasterizer(const CudaDeviceRasterizer&) = delete;
  CudaDeviceRasterizer& operator=(const CudaDeviceRasterizer&) = delete;

  // `params` point to DEVICE memory and must stay valid and unchanged until backward().
  // The outputs below stay on the device until the next forward(). Reads one scalar back
  // (the number of tile entries, to size the sort). Throws sp::Error (Internal) on CUDA errors.
  void forward(const Camera& camera, const GaussianParams& params, const RenderOptions& options);
  int width() const;
  int height() const;
  const float* color() const;   // H x W x 3
  const float* depth() const;   // H x W
  const float* alpha() const;   // H x W
  const float* extras() const;  // H x W x E (null when E = 0)
  const int* radii() const;     // N
  // dL/d(outputs) as device arrays (null = not in the loss); with the last forward()'s
  // camera, params and options. Overwrites every array of `out` (asynchronous: no sync).
  void backward(const float* d_color, const float* d_depth, const float* d_alpha, const float* d_extras,
                const DeviceGradientPointers& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A model's flat device buffers (cuda/flat_params.h: parameters, gradients, both Adam
// moments) plus the 2D-mean gradients and densification statistics: what one training
// iteration touches, for the benchmark (bench/bench_cuda.cpp) to compose the step itself.
class CudaDeviceModel {
 public:
  explicit CudaDeviceModel(const GaussianModel& model);  // uploads; zero moments and statistics
  ~CudaDeviceModel();
  CudaDeviceModel(const CudaDeviceModel&) = delete;
  CudaDeviceModel& operator=(const CudaDeviceModel&) = delete;

  size_t count() const;
  GaussianParams params();              // device pointers into the flat parameters
  DeviceGradientPointers gradients();   // device pointers into the flat gradients (+ means2d)
  float* flat_params();
  float* flat_gradients();
  float* adam_m();
  float* adam_v();
  float* grad_accum();
  float* visible_count();
  float* max_radius();
  // Uploads `image` into a device array owned by this object (slot 0 or 1) and returns it.
  float* upload_image(int slot, const Image& image);
  // A device array of `floats` floats owned by this object (slot 0 or 1; contents undefined).
  float* scratch(int slot, size_t floats);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Waits for all queued device work (timing with host clocks); throws on a device error.
void cuda_synchronize();

}  // namespace sp
