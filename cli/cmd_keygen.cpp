// `cep keygen -o NAME`: an Ed25519 key pair for signing artifacts (compiler/artifact/signing.hpp):
// NAME.key, the secret key (mode 0600, for cep compile --sign), and NAME.pub, the public key
// (for cep run --trust). Neither file is ever replaced.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "compiler/artifact/signing.hpp"

#include <iostream>
#include <string>

namespace cep::cli {

int runKeygen(const KeygenOptions &options) {
  if (options.name.empty()) {
    std::cerr << "cep keygen: -o NAME must not be empty\n";
    return kUsage;
  }
  compiler::artifact::PublicKey public_key;
  compiler::artifact::SecretKey secret_key;
  std::string error;
  if (!compiler::artifact::generateKeyPair(public_key, secret_key, error) ||
      !compiler::artifact::writeKeyPair(options.name, public_key, secret_key, error)) {
    std::cerr << "cep keygen: " << error << '\n';
    return kRuntimeFailure;
  }
  std::cout << "key " << compiler::artifact::keyId(public_key) << ": secret " << options.name
            << ".key (keep it private), public " << options.name << ".pub\n";
  return kOk;
}

} // namespace cep::cli
