#include "service/control.hpp"

#include "runtime/io/json_writer.hpp"

namespace cep::service {

Control::~Control() = default;

std::string errorJson(std::string_view message, const std::vector<std::string> &reasons) {
  std::string out = "{\"error\":";
  runtime::appendJsonString(out, message);
  if (!reasons.empty()) {
    out += ",\"reasons\":[";
    for (std::size_t i = 0; i < reasons.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      runtime::appendJsonString(out, reasons[i]);
    }
    out += ']';
  }
  out += '}';
  return out;
}

namespace {
const char *const kNoTraces = R"({"error":"this server does not trace keys"})";
} // namespace

ControlResult Control::traceStart(const std::string &, const std::string &, const std::string &) {
  return {501, kNoTraces};
}
ControlResult Control::traceRead(const std::string &, std::string &) {
  return {501, kNoTraces};
}
ControlResult Control::traceStop(const std::string &) {
  return {501, kNoTraces};
}

bool parseDeployMode(std::string_view word, DeployMode &mode) {
  if (word == "keep") {
    mode = DeployMode::Keep;
  } else if (word == "drain") {
    mode = DeployMode::Drain;
  } else if (word == "fresh") {
    mode = DeployMode::Fresh;
  } else {
    return false;
  }
  return true;
}

bool parseUndeployMode(std::string_view word, UndeployMode &mode) {
  if (word == "drain") {
    mode = UndeployMode::Drain;
  } else if (word == "drop") {
    mode = UndeployMode::Drop;
  } else {
    return false;
  }
  return true;
}

const char *deployModeName(DeployMode mode) {
  switch (mode) {
  case DeployMode::Keep:
    return "keep";
  case DeployMode::Drain:
    return "drain";
  case DeployMode::Fresh:
    return "fresh";
  }
  return "keep";
}

const char *undeployModeName(UndeployMode mode) {
  return mode == UndeployMode::Drop ? "drop" : "drain";
}

} // namespace cep::service
