// Geo built-ins (native.hpp).
#include "stdlib/native.hpp"

#include <cmath>

namespace {
constexpr double kEarthRadiusKm = 6371.0;
constexpr double kPi = 3.14159265358979323846;
double radians(double degrees) {
  return degrees * kPi / 180.0;
}
} // namespace

extern "C" {

double cep_stdlib_haversine_km(double lat1, double lon1, double lat2, double lon2) {
  double phi1 = radians(lat1);
  double phi2 = radians(lat2);
  double dphi = radians(lat2 - lat1);
  double dlambda = radians(lon2 - lon1);
  double s1 = std::sin(dphi / 2);
  double s2 = std::sin(dlambda / 2);
  double a = s1 * s1 + std::cos(phi1) * std::cos(phi2) * s2 * s2;
  a = a < 0 ? 0 : (a > 1 ? 1 : a);
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(a));
}

} // extern "C"
