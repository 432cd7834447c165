#include "tools/sparsplat/recon_regularizers.h"

#include <cstdio>

namespace sp::cli {

std::string apply_regularizer_args(const RegularizerArgs& a, int train_views, TrainOptions& o) {
  if (a.preset != "off") o = sparse_view_defaults(o, train_views);
  SparseViewOptions& s = o.sparse;
  if (a.co_training != "auto") s.co_training = a.co_training == "on";
  if (a.unpooling != "auto") s.unpooling = a.unpooling == "on";
  if (a.pseudo_views >= 0) s.pseudo_views = a.pseudo_views;
  if (a.co_regularization >= 0) s.co_regularization = a.co_regularization;
  if (a.opacity_entropy >= 0) s.opacity_entropy = a.opacity_entropy;
  if (a.scale_penalty >= 0) s.scale_penalty = a.scale_penalty;
  if (a.anisotropy_penalty >= 0) s.anisotropy_penalty = a.anisotropy_penalty;
  if (a.depth_smoothness >= 0) s.depth_smoothness = a.depth_smoothness;
  if (a.max_angular_scale >= 0) s.max_angular_scale = a.max_angular_scale;
  if (a.densify_grad_threshold > 0) o.densify.grad_threshold = a.densify_grad_threshold;
  // Co-regularization needs somewhere to compare the fields.
  if (s.co_training && s.pseudo_views == 0) s.pseudo_views = 64;
  char line[400];
  std::snprintf(line, sizeof line,
                "co-training %s (weight %g), pseudo views %d, unpooling %s, opacity entropy %g, scale %g, "
                "anisotropy %g, depth smoothness %g, angular scale cap %g, densify threshold %g, Gaussian budget %zu",
                s.co_training ? "on" : "off", double(s.co_regularization), s.pseudo_views, s.unpooling ? "on" : "off",
                double(s.opacity_entropy), double(s.scale_penalty), double(s.anisotropy_penalty),
                double(s.depth_smoothness), double(s.max_angular_scale), double(o.densify.grad_threshold), o.densify.max_gaussians);
  return line;
}

}  // namespace sp::cli
