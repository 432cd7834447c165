#pragma once
// The noise schedule shared by training and sampling: continuous time t in [0, 1] with the
// cosine schedule of Nichol & Dhariwal, alpha_bar(t) = cos^2((t + s) / (1 + s) * pi / 2)
// normalized to alpha_bar(0) = 1, clamped to [1e-4, 1]. "Strength" in SDEdit is the start
// time t: 0 returns the input, 1 starts from (almost) pure noise.
namespace sp::prior {

float alpha_bar(float t);

}  // namespace sp::prior
