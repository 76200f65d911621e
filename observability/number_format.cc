#include "observability/number_format.h"

#include <cmath>
#include <cstdio>

namespace ormdb::observability {

std::string FormatEstimate(double v) {
  char buf[32];
  if (v >= 1e15) {
    std::snprintf(buf, sizeof buf, "%.3g", v);  // "%.0f" would not fit the buffer
  } else if (v >= 100 || v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2g", v);
  }
  return buf;
}

std::string FormatMillis(double micros) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f ms", micros / 1000);
  return buf;
}

}  // namespace ormdb::observability
