#include "engine/prior/schedule.h"

#include <algorithm>
#include <cmath>

namespace sp::prior {

float alpha_bar(float t) {
  constexpr double s = 0.008;
  constexpr double half_pi = 1.5707963267948966;
  const double tt = std::clamp(double(t), 0.0, 1.0);
  const double c0 = std::cos(s / (1 + s) * half_pi);
  const double c = std::cos((tt + s) / (1 + s) * half_pi);
  return float(std::clamp(c * c / (c0 * c0), 1e-4, 1.0));
}

}  // namespace sp::prior
