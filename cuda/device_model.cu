// CudaDeviceModel and cuda_synchronize (cuda_device_rasterizer.h).
#include <cuda_runtime.h>

#include "cuda/cuda_device_rasterizer.h"
#include "cuda/device_buffer.cuh"
#include "cuda/flat_params.h"

namespace sp {

using cuda_detail::DeviceBuffer;

struct CudaDeviceModel::Impl {
  FlatLayout layout;
  DeviceBuffer<float> p, g, m, v, means2d, accum, visible, radius;
  DeviceBuffer<float> slots[2];
};

CudaDeviceModel::CudaDeviceModel(const GaussianModel& model) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.layout = FlatLayout::of(model.size(), model.sh_coeffs(), model.extra_channels);
  const std::vector<float> flat = flatten(model);
  s.p.upload(flat.data(), flat.size());
  for (DeviceBuffer<float>* b : {&s.g, &s.m, &s.v}) {
    b->resize(flat.size());
    b->zero();
  }
  s.means2d.resize(model.size() * 2);
  for (DeviceBuffer<float>* b : {&s.accum, &s.visible, &s.radius}) {
    b->resize(model.size());
    b->zero();
  }
}
CudaDeviceModel::~CudaDeviceModel() = default;

size_t CudaDeviceModel::count() const { return impl_->layout.count; }

GaussianParams CudaDeviceModel::params() {
  const FlatLayout& l = impl_->layout;
  float* p = impl_->p.get();
  GaussianParams g;
  g.count = l.count;
  g.sh_coeffs = l.sh_coeffs;
  g.extra_channels = l.extra_channels;
  g.means = p + l.offset[kSegMeans];
  g.log_scales = p + l.offset[kSegLogScales];
  g.rotations = p + l.offset[kSegRotations];
  g.opacities = p + l.offset[kSegOpacities];
  g.sh = p + l.offset[kSegSh];
  g.extras = l.extra_channels > 0 ? p + l.offset[kSegExtras] : nullptr;
  return g;
}

DeviceGradientPointers CudaDeviceModel::gradients() {
  const FlatLayout& l = impl_->layout;
  float* g = impl_->g.get();
  DeviceGradientPointers d;
  d.means = g + l.offset[kSegMeans];
  d.log_scales = g + l.offset[kSegLogScales];
  d.rotations = g + l.offset[kSegRotations];
  d.opacities = g + l.offset[kSegOpacities];
  d.sh = g + l.offset[kSegSh];
  d.extras = l.extra_channels > 0 ? g + l.offset[kSegExtras] : nullptr;
  d.means2d = impl_->means2d.get();
  return d;
}

float* CudaDeviceModel::flat_params() { return impl_->p.get(); }
float* CudaDeviceModel::flat_gradients() { return impl_->g.get(); }
float* CudaDeviceModel::adam_m() { return impl_->m.get(); }
float* CudaDeviceModel::adam_v() { return impl_->v.get(); }
float* CudaDeviceModel::grad_accum() { return impl_->accum.get(); }
float* CudaDeviceModel::visible_count() { return impl_->visible.get(); }
float* CudaDeviceModel::max_radius() { return impl_->radius.get(); }

float* CudaDeviceModel::upload_image(int slot, const Image& image) {
  DeviceBuffer<float>& b = impl_->slots[slot == 0 ? 0 : 1];
  b.upload(image.pixels.data(), image.pixels.size());
  return b.get();
}

float* CudaDeviceModel::scratch(int slot, size_t floats) {
  DeviceBuffer<float>& b = impl_->slots[slot == 0 ? 0 : 1];
  b.resize(floats);
  return b.get();
}

void cuda_synchronize() {
  SP_CUDA_CHECK(cudaDeviceSynchronize());
  SP_CUDA_CHECK(cudaGetLastError());
}

}  // namespace sp
