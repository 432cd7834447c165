// The rasterizer contract's constants, as the C++ defines them (engine/render/tile_bounds.h,
// engine/render/project.h); project.comp and splat.frag use them. project.comp's probe
// writes them back, and tests/display/test_projection_pin.cpp compares them with the C++.
const int kTileSize = 16;                 // tile_bounds.h kTileSize
const float kCullMargin = 0.01;           // tile_bounds.h kCullMargin
const float kMinAlphaReciprocal = 255.0;  // tile_bounds.h kMinAlphaReciprocal: α < 1/255 is skipped
const float kMinAlpha = 1.0 / kMinAlphaReciprocal;  // BlendConstants::kMinAlpha
const float kMaxAlpha = 0.99;             // BlendConstants::kMaxAlpha
const float kFarExponent = 30.0;          // BlendConstants::kFarExponent: e^−q = 0 beyond
const float kCovarianceBlur = 0.3;        // project.h kCovarianceBlur (Σ2D += 0.3 I)
// project.h's kFrustumClamp (1.3) reaches the shaders only through frame.limits.xy, which
// splat_pipeline.cpp takes from projection_camera().
