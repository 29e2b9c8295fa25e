// kafka-mock: librdkafka's mock cluster as a process of its own, the Kafka test bed of `cep
// serve` (README.md). Starts N mock brokers on 127.0.0.1, creates the topics asked for, prints
// the bootstrap address (one line on stdout, and into --bootstrap-file) once they exist, then
// runs until SIGTERM or SIGINT. Commands read from stdin (one a line, each answered `ok ...` or
// `error ...` on stdout) inject failures:
//
//   down BROKER | up BROKER                     a broker stops or starts answering
//   errors API_KEY ERROR_CODE COUNT             the next COUNT requests of that API fail
//   leader TOPIC PARTITION BROKER               a partition's leader moves
//
//   $ kafka-mock --topic payments:4 --topic alerts:1 --bootstrap-file bootstrap.txt
//   127.0.0.1:39521,127.0.0.1:41207,127.0.0.1:35719
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <random>
#include <sstream>
#include <string>
#include <sys/signalfd.h>
#include <unistd.h>
#include <vector>

namespace {

struct Topic {
  std::string name;
  int partitions = 1;
};

int usage(const std::string &why) {
  std::cerr << "kafka-mock: " << why << "\n"
            << "usage: kafka-mock [--brokers N] --topic NAME:PARTITIONS... [--bootstrap-file F]\n";
  return 2;
}

bool parseInt(const std::string &text, int &value) {
  char *end = nullptr;
  errno = 0;
  long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno != 0 || v < 0 || v > 1000000) {
    return false;
  }
  value = static_cast<int>(v);
  return true;
}

// One stdin command; the answer line.
std::string command(rd_kafka_mock_cluster_t *cluster, const std::string &line) {
  std::istringstream in(line);
  std::string verb;
  in >> verb;
  std::vector<std::string> args;
  for (std::string a; in >> a;) {
    args.push_back(a);
  }
  std::vector<int> n(args.size());
  auto numbers = [&](std::size_t from) {
    for (std::size_t i = from; i < args.size(); ++i) {
      if (!parseInt(args[i], n[i])) {
        return false;
      }
    }
    return true;
  };
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if ((verb == "down" || verb == "up") && args.size() == 1 && numbers(0)) {
    err = verb == "down" ? rd_kafka_mock_broker_set_down(cluster, n[0])
                         : rd_kafka_mock_broker_set_up(cluster, n[0]);
  } else if (verb == "errors" && args.size() == 3 && numbers(0)) {
    std::vector<rd_kafka_resp_err_t> codes(static_cast<std::size_t>(n[2]),
                                           static_cast<rd_kafka_resp_err_t>(n[1]));
    rd_kafka_mock_push_request_errors_array(cluster, static_cast<int16_t>(n[0]), codes.size(),
                                            codes.data());
  } else if (verb == "leader" && args.size() == 3 && numbers(1)) {
    err = rd_kafka_mock_partition_set_leader(cluster, args[0].c_str(), n[1], n[2]);
  } else {
    return "error unknown command: " + line;
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return "error " + line + ": " + rd_kafka_err2str(err);
  }
  return "ok " + line;
}

// librdkafka's mock names its cluster after the address of its cluster struct
// ("mockCluster<hex>"). AddressSanitizer's allocator gives a fresh process the same addresses
// every time, so two mocks built with ASan would report one cluster id, and `cep serve`'s
// check that a checkpoint is resumed on its own cluster could not tell them apart (the
// kafka.exactly_once test starts a second cluster to see that check refuse). Under ASan a
// random number of blocks of the cluster struct's size are taken first, so the cluster lands
// at another address and gets its own id. Elsewhere the addresses already differ (ASLR).
#if defined(__SANITIZE_ADDRESS__)
#define CEP_KAFKA_MOCK_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CEP_KAFKA_MOCK_UNDER_ASAN 1
#endif
#endif
#ifdef CEP_KAFKA_MOCK_UNDER_ASAN
} // namespace
// The sanitizer runtime's (GCC 12 ships no header declaring it; clang's allocator_interface.h).
extern "C" std::size_t __sanitizer_get_allocated_size(const volatile void *p);
namespace {
#endif
std::vector<std::vector<char>> scatterClusterId(rd_kafka_t *rk) {
  std::vector<std::vector<char>> taken;
#ifdef CEP_KAFKA_MOCK_UNDER_ASAN
  if (rd_kafka_mock_cluster_t *probe = rd_kafka_mock_cluster_new(rk, 1)) {
    std::size_t size = __sanitizer_get_allocated_size(probe);
    rd_kafka_mock_cluster_destroy(probe);
    std::random_device seed;
    taken.resize(seed() % 4096);
    for (std::vector<char> &block : taken) {
      block.resize(size);
    }
  }
#else
  (void)rk;
#endif
  return taken;
}

} // namespace

int main(int argc, char **argv) {
  int brokers = 3;
  std::vector<Topic> topics;
  std::string bootstrap_file;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc) {
        return false;
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "--brokers") {
      if (!value(v) || !parseInt(v, brokers) || brokers < 1 || brokers > 16) {
        return usage("--brokers expects a number from 1 to 16");
      }
    } else if (arg == "--topic") {
      if (!value(v)) {
        return usage("--topic expects NAME:PARTITIONS");
      }
      std::size_t colon = v.rfind(':');
      Topic topic;
      if (colon == std::string::npos || colon == 0 ||
          !parseInt(v.substr(colon + 1), topic.partitions) || topic.partitions < 1) {
        return usage("--topic " + v + ": expected NAME:PARTITIONS (a positive count)");
      }
      topic.name = v.substr(0, colon);
      topics.push_back(topic);
    } else if (arg == "--bootstrap-file") {
      if (!value(bootstrap_file)) {
        return usage("--bootstrap-file expects a path");
      }
    } else if (arg == "-h" || arg == "--help") {
      usage("the Kafka mock cluster of the tests");
      return 0;
    } else {
      return usage("unknown argument " + arg);
    }
  }

  // SIGTERM and SIGINT end the process through a signalfd (polled with stdin).
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  sigprocmask(SIG_BLOCK, &stop, nullptr);
  int signal_fd = signalfd(-1, &stop, SFD_CLOEXEC);
  std::signal(SIGPIPE, SIG_IGN);

  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    std::cerr << "kafka-mock: " << errstr << '\n';
    return 1;
  }
  std::vector<std::vector<char>> scattered = scatterClusterId(rk); // held until exit
  rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::cerr << "kafka-mock: cannot start the mock cluster\n";
    return 1;
  }
  for (const Topic &topic : topics) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster, topic.name.c_str(), topic.partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cerr << "kafka-mock: cannot create topic " << topic.name << ": " << rd_kafka_err2str(err)
                << '\n';
      return 1;
    }
  }
  std::string bootstrap = rd_kafka_mock_cluster_bootstraps(cluster);
  if (!bootstrap_file.empty()) {
    std::string tmp = bootstrap_file + ".tmp";
    std::ofstream(tmp) << bootstrap << '\n';
    if (std::rename(tmp.c_str(), bootstrap_file.c_str()) != 0) {
      std::cerr << "kafka-mock: cannot write " << bootstrap_file << ": " << std::strerror(errno)
                << '\n';
      return 1;
    }
  }
  std::cout << bootstrap << std::endl;

  bool stdin_open = true;
  std::string pending;
  for (;;) {
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {stdin_open ? 0 : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
      break;
    }
    if (fds[0].revents & POLLIN) {
      break;
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      char buffer[4096];
      ssize_t n = ::read(0, buffer, sizeof buffer);
      if (n <= 0) {
        stdin_open = false; // keep running until a signal
        continue;
      }
      pending.append(buffer, static_cast<std::size_t>(n));
      for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
        std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (!line.empty()) {
          std::cout << command(cluster, line) << std::endl;
        }
      }
    }
  }
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
