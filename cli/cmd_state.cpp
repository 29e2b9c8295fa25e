// `cep state`: the partial matches in flight (docs/state.md "Looking inside"), from a
// `cep serve --state` folder opened read-only (the latest usable checkpoint, as recovery would
// find it; the folder may belong to a running server and is never written) or from a running
// server's `GET /state`. The listing itself is service/state_listing.hpp.
//
// Exit codes: 0 listed; 2 a bad command line (neither or both of DIR and --server); 3 the folder
// is not a readable state folder or holds no checkpoint, the server is down or refuses, the
// pattern is not served, or the key has no partial or held match nor open window.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "compiler/artifact/cepo.hpp"
#include "runtime/state/key_record.hpp"
#include "runtime/state/store/checkpoint_store.hpp"
#include "service/admin_client.hpp"
#include "service/serve_checkpoint.hpp"
#include "service/state_listing.hpp"

#include <algorithm>
#include <iostream>
#include <map>
#include <stdexcept>

namespace cep::cli {

namespace {

int print(const service::StateListing &listing, const StateOptions &options) {
  std::cout << (options.format == "json" ? service::stateListingJson(listing)
                                         : service::formatStateListing(listing));
  return kOk;
}

std::string servedNames(const std::vector<service::ServedState> &served) {
  std::string names;
  for (const auto &s : served) {
    if (names.find("`" + s.pattern + "`") == std::string::npos) {
      names += (names.empty() ? "" : ", ") + ("`" + s.pattern + "`");
    }
  }
  return names.empty() ? "none" : names;
}

// Refuses a listing that found nothing for the key asked for.
bool keyFound(const service::StateListing &listing, const StateOptions &options) {
  if (!options.key || listing.keys_listed > 0) {
    return true;
  }
  std::cerr << "cep state: no partial match for key " << *options.key;
  if (options.pattern) {
    std::cerr << " in pattern `" << *options.pattern << "`";
  }
  std::cerr << " and no open window (a key's state goes when its matches complete or time out)\n";
  return false;
}

int fromFolder(const StateOptions &options) {
  const std::string &dir = *options.dir;
  std::string error;
  auto store = runtime::store::CheckpointStore::openReadOnly(dir, {}, error);
  if (!store) {
    std::cerr << "cep state: " << error << '\n';
    return kRuntimeFailure;
  }
  auto reader = store->read(error);
  if (!reader) {
    std::cerr << "cep state: "
              << (error.empty() ? "checkpoint store \"" + dir + "\": it holds no checkpoint yet"
                                : error)
              << '\n';
    return kRuntimeFailure;
  }
  service::ServeMeta meta;
  try {
    meta = service::decodeServeMeta(reader->meta);
  } catch (const std::runtime_error &e) {
    std::cerr << "cep state: \"" << dir << "\": " << e.what() << '\n';
    return kRuntimeFailure;
  }
  service::StateListing listing;
  listing.checkpoint = reader->id;
  listing.taken_at = meta.taken_at;
  listing.fallback = reader->fallback_reason;
  service::StateFilter filter;
  if (options.pattern) {
    filter.pattern = *options.pattern;
    bool served = false;
    for (const auto &s : meta.served) {
      served = served || s.pattern == filter.pattern;
    }
    if (!served) {
      std::cerr << "cep state: checkpoint " << reader->id << " of \"" << dir
                << "\" serves no pattern `" << filter.pattern
                << "` (patterns: " << servedNames(meta.served) << ")\n";
      return kRuntimeFailure;
    }
  }
  if (options.key) {
    filter.keys = service::keyCandidates(*options.key);
    filter.max_runs = 0;
  }
  auto schema = std::make_shared<const runtime::Schema>(meta.schema);
  // The artifacts give each state's `within` (the deadlines); the key records have the rest.
  std::map<std::string, compiler::artifact::Artifact> artifacts;
  // As `GET /state` orders them: by name, the active version before a draining one.
  std::vector<service::ServedState> served = meta.served;
  std::stable_sort(served.begin(), served.end(), [](const auto &a, const auto &b) {
    return a.pattern != b.pattern ? a.pattern < b.pattern : !a.draining && b.draining;
  });
  for (const service::ServedState &s : served) {
    if (!filter.pattern.empty() && s.pattern != filter.pattern) {
      continue;
    }
    const runtime::native::PatternImage *image = nullptr;
    auto a = artifacts.find(s.artifact_hash);
    if (a == artifacts.end()) {
      std::optional<std::string> bytes = reader->artifact(s.artifact_hash, error);
      compiler::artifact::Artifact decoded;
      if (bytes) {
        try {
          decoded = compiler::artifact::decodeArtifact(*bytes, "artifact " + s.version);
        } catch (const compiler::artifact::ArtifactError &e) {
          error = e.what();
        }
      }
      if (!error.empty() || !bytes) {
        std::cerr << "cep state: warning: pattern `" << s.pattern << "` " << s.version
                  << ": its artifact cannot be read ("
                  << (error.empty() ? "not in the store" : error) << "): deadlines not shown\n";
        error.clear();
      }
      a = artifacts.emplace(s.artifact_hash, std::move(decoded)).first;
    }
    for (const auto &p : a->second.patterns) {
      if (p.name == s.pattern) {
        image = &p;
      }
    }
    std::vector<std::string> records;
    if (!reader->forEach(
            s.operator_id,
            [&](std::string_view, std::string_view value) { records.emplace_back(value); },
            error)) {
      std::cerr << "cep state: " << error << '\n';
      return kRuntimeFailure;
    }
    std::vector<std::string_view> views(records.begin(), records.end());
    if (s.matcher_header.rfind("CEPASNAP", 0) == 0) {
      // An aggregate's window state (runtime/native/native_aggregate.hpp "Key records").
      try {
        service::listAggregate(listing, s.matcher_header, views, s.version, s.draining, filter);
      } catch (const std::runtime_error &e) {
        std::cerr << "cep state: aggregate `" << s.pattern << "` " << s.version << ": " << e.what()
                  << '\n';
        return kRuntimeFailure;
      }
      continue;
    }
    try {
      runtime::MatcherState state =
          runtime::assembleMatcherState(s.matcher_header, views, schema, s.pattern);
      service::listVersion(listing, state, image, s.version, s.draining, filter);
    } catch (const std::runtime_error &e) {
      std::cerr << "cep state: pattern `" << s.pattern << "` " << s.version << ": " << e.what()
                << '\n';
      return kRuntimeFailure;
    }
  }
  if (!keyFound(listing, options)) {
    return kRuntimeFailure;
  }
  return print(listing, options);
}

int fromServer(const StateOptions &options) {
  std::string error;
  std::optional<service::Endpoint> ep = service::parseEndpoint(options.admin.server, error);
  if (!ep || ep->port == 0) {
    std::cerr << "cep state: --server " << options.admin.server << ": "
              << (ep ? "give the port the server listens on (not 0)" : error) << '\n';
    return kUsage;
  }
  service::AdminClientOptions client;
  client.server = *ep;
  if (options.admin.token_file) {
    try {
      client.token = service::readTokenFile(*options.admin.token_file);
    } catch (const service::TokenFileError &e) {
      std::cerr << "cep state: --token-file: " << e.what() << '\n';
      return kUsage;
    }
  }
  std::string target = "/state";
  char sep = '?';
  if (options.pattern) {
    target += sep + ("pattern=" + service::encodeQueryValue(*options.pattern));
    sep = '&';
  }
  if (options.key) {
    target += sep + ("key=" + service::encodeQueryValue(*options.key));
  }
  service::AdminReply reply = service::adminRequest(client, "GET", target);
  if (!reply.ok()) {
    std::cerr << "cep state: " << reply.reason() << '\n';
    return kRuntimeFailure;
  }
  service::StateListing listing;
  if (!service::parseStateListing(reply.body, listing, error)) {
    std::cerr << "cep state: the server's answer is " << error << '\n';
    return kRuntimeFailure;
  }
  if (options.format == "json") {
    std::cout << reply.body;
    return kOk;
  }
  return print(listing, options);
}

} // namespace

int runState(const StateOptions &options) {
  if (!options.dir && options.admin.server.empty()) {
    std::cerr << "cep state: give a state folder (cep state DIR) or a running server (cep state "
                 "--server HOST:PORT)\n";
    return kUsage;
  }
  if (options.dir && !options.admin.server.empty()) {
    std::cerr << "cep state: give a state folder or --server, not both\n";
    return kUsage;
  }
  if (options.dir && options.admin.token_file) {
    std::cerr << "cep state: --token-file goes with --server\n";
    return kUsage;
  }
  return options.dir ? fromFolder(options) : fromServer(options);
}

} // namespace cep::cli
