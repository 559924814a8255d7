// Number formatting shared by every output writer.
#pragma once

#include <cmath>

namespace avrec {

// x rounded to `decimals` decimal places: the double nearest to that decimal,
// so JSON output prints it short ("0.1216", not "0.12160000000000001"), and
// never "-0".
inline double RoundDecimals(double x, int decimals) {
  const double scale = std::pow(10.0, decimals);
  const double r = std::round(x * scale) / scale;
  return r == 0 ? 0.0 : r;
}

}  // namespace avrec
