// Math built-ins (native.hpp).
#include "stdlib/native.hpp"

#include <cmath>

extern "C" {

double cep_stdlib_round(double x) {
  return std::round(x);
} // half away from zero
double cep_stdlib_floor(double x) {
  return std::floor(x);
}
double cep_stdlib_ceil(double x) {
  return std::ceil(x);
}
double cep_stdlib_sqrt(double x) {
  return std::sqrt(x);
}
double cep_stdlib_ln(double x) {
  return std::log(x);
}
double cep_stdlib_exp(double x) {
  return std::exp(x);
}
double cep_stdlib_pow(double x, double y) {
  return std::pow(x, y);
}

std::int64_t cep_stdlib_abs_int(std::int64_t x) {
  // Two's complement wrap for INT64_MIN, without signed overflow.
  return x < 0 ? static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(x)) : x;
}

double cep_stdlib_abs_float(double x) {
  return std::fabs(x);
}

} // extern "C"
