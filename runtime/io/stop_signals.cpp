#include "runtime/io/stop_signals.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace cep::runtime {

namespace {

std::atomic<int> g_signal{0};
int g_wake[2] = {-1, -1};
bool g_installed = false;

static_assert(std::atomic<int>::is_always_lock_free, "the handler needs a lock-free flag");

void wake() {
  if (g_wake[1] >= 0) {
    int saved = errno; // the interrupted code may be about to read errno
    char byte = 1;
    [[maybe_unused]] ssize_t ignored = ::write(g_wake[1], &byte, 1);
    errno = saved;
  }
}

void onStopSignal(int signal) {
  g_signal.store(signal, std::memory_order_relaxed);
  wake();
}

} // namespace

bool installStopSignals(std::string &error) {
  if (g_installed) {
    return true;
  }
  if (::pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = std::string("cannot create the signal pipe: ") + std::strerror(errno);
    return false;
  }
  struct sigaction action {};
  action.sa_handler = onStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND; // no SA_RESTART: a blocked read returns EINTR
  for (int signal : {SIGINT, SIGTERM}) {
    if (::sigaction(signal, &action, nullptr) != 0) {
      error = std::string("cannot handle ") + signalName(signal) + ": " + std::strerror(errno);
      return false;
    }
  }
  g_installed = true;
  return true;
}

int stopSignal() {
  return g_signal.load(std::memory_order_relaxed);
}

int stopWakeFd() {
  return g_wake[0];
}

void requestStop(int signal) {
  g_signal.store(signal, std::memory_order_relaxed);
  if (signal != 0) {
    wake();
  } else if (g_wake[0] >= 0) {
    char drain[64];
    while (::read(g_wake[0], drain, sizeof drain) > 0) {
    }
  }
}

std::string signalName(int signal) {
  switch (signal) {
  case SIGINT:
    return "SIGINT";
  case SIGTERM:
    return "SIGTERM";
  default:
    return "signal " + std::to_string(signal);
  }
}

} // namespace cep::runtime
