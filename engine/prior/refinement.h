#pragma once
// The refinement loop's engine side (docs/prior.md): at pseudo poses, render the current
// Gaussians, refine each render with a Denoiser (SDEdit/DDIM from the sampler, the nearest
// training photo as reference) and mask it by the render's alpha, giving pseudo ground
// truth the trainer mixes into its views (Trainer::set_pseudo_targets). Difix3D+ does this
// every few thousand iterations, moving pseudo poses part of the way from the train
// cameras toward the target poses; the SDEdit strength decreases over training as the
// renders improve.
#include <cstdint>
#include <vector>

#include "engine/core/camera.h"
#include "engine/core/image.h"
#include "engine/prior/denoiser.h"
#include "engine/prior/sampler.h"
#include "engine/render/rasterizer.h"

namespace sp::prior {

struct RefinementOptions {
  long start_iteration = 500;   // first refinement round after this many iterations
  long every = 500;             // then every this many
  int views = 6;                // pseudo views per round (interpolated poses)
  float pose_fraction = 0.5f;   // with target poses: per round, this much more of the way there
  std::vector<Camera> target_poses;  // empty: interpolated between train cameras
  float sample_probability = 0.3f;   // chance a training step takes a pseudo view
  float loss_weight = 0.3f;          // its loss weight relative to a photo's
  float alpha_threshold = 0.5f;      // pixels with render alpha below are not supervised
  // Pixels the prior changed by less than this (mean |refined - render| over channels, in
  // [0, 1] pixel units, averaged over 3x3 neighbours) are not supervised either: there the
  // render already agrees with the prior, and its target would only add the network's
  // residual noise and blur to detail the photos did constrain. 0: off.
  float min_change = 0.0f;
  float strength_start = 0.5f;       // SDEdit start time at the first round ...
  float strength_end = 0.2f;         // ... decreasing linearly to this at the last iteration
  SamplerOptions sampler;            // steps, one-step mode, cache; strength is set per round
  uint64_t seed = 0;
};

struct RefinedView {
  Camera camera;
  Image render;   // what the Gaussians showed (3 channels)
  Image refined;  // the denoiser's version: the pseudo target
  Image mask;     // 1 channel, 1 where the target applies (pseudo_target_mask)
};

// The pseudo target's mask (1 channel, 0 or 1): render alpha >= alpha_threshold and, when
// min_change > 0, a 3x3-averaged mean absolute change of at least min_change.
Image pseudo_target_mask(const Image& render, const Image& refined, const Image& alpha, float alpha_threshold,
                         float min_change);

// Whether a round runs after `iteration` iterations.
bool refinement_due(const RefinementOptions& options, long iteration);
// SDEdit strength of a round at `iteration` of `total_iterations`.
float refinement_strength(const RefinementOptions& options, long iteration, long total_iterations);
// The pseudo cameras of round `round` (0, 1, ...).
std::vector<Camera> refinement_cameras(const RefinementOptions& options, const std::vector<Camera>& train_cameras,
                                       int round);
// Index into train_cameras of the camera whose centre and viewing direction are nearest.
int nearest_camera(const Camera& camera, const std::vector<Camera>& train_cameras);

// One round. `train_images[i]` is train_cameras[i]'s photo (the reference; any size, it is
// resampled to the pseudo view's size when they differ).
std::vector<RefinedView> refine_pseudo_views(Denoiser& denoiser, Rasterizer& rasterizer, const GaussianParams& params,
                                             const RenderOptions& render_options,
                                             const std::vector<Camera>& train_cameras,
                                             const std::vector<const Image*>& train_images,
                                             const RefinementOptions& options, long iteration,
                                             long total_iterations, int round);

}  // namespace sp::prior
