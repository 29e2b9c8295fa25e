// `cep lsp`: a Language Server Protocol server on stdin/stdout (lsp_protocol.hpp's framing).
// Diagnostics come from the same front end as `cep check` (lang::loadProgram, lang::checkTests)
// over the editor's open buffers (LoadOptions::overlays), imports read from disk next to the file
// or from another open buffer; go to definition and hover from lsp_index.hpp. Logs on stderr.
#include "cli/commands.hpp"
#include "cli/exit_codes.hpp"
#include "cli/lsp_index.hpp"
#include "cli/lsp_protocol.hpp"
#include "lang/check_tests.hpp"
#include "lang/frontend.hpp"
#include "lang/json_value.hpp"

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

namespace cep::cli {

namespace {

namespace fs = std::filesystem;
namespace json = lang::json;
using lang::jsonEscape;

// JSON-RPC error codes.
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;
constexpr int kInternalError = -32603;

// As the loader keys its files (lang/frontend.cpp): absolute, links resolved where they exist.
std::string canonicalPath(const std::string &path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec).lexically_normal();
  if (ec) {
    return fs::path(path).lexically_normal().string();
  }
  fs::path c = fs::weakly_canonical(absolute, ec);
  return ec ? absolute.string() : c.string();
}

// One checked buffer: what diagnostics, definition and hover read.
struct Analysis {
  std::unique_ptr<lang::SourceManager> sources = std::make_unique<lang::SourceManager>();
  std::unique_ptr<lang::DiagnosticEngine> diags =
      std::make_unique<lang::DiagnosticEngine>(*sources);
  lang::Frontend frontend;
  std::optional<std::size_t> module; // the buffer's own module
};

class Server {
public:
  int run() {
    while (auto frame = lsp::readFrame(std::cin)) {
      if (!frame->error.empty()) {
        log("bad message: " + frame->error);
        continue;
      }
      json::Value message;
      json::ParseError error;
      if (!json::parse(frame->body, message, error)) {
        log("a message that is not JSON (byte " + std::to_string(error.offset) +
            "): " + error.message);
        reply("null", kParseError, "not JSON: " + error.message);
        continue;
      }
      try {
        handle(message);
      } catch (const std::exception &e) { // a bug here: said as one, and the server carries on
        log(std::string("internal error: ") + e.what());
        const json::Value *id = message.find("id");
        if (id != nullptr) {
          reply(json::toText(*id), kInternalError, std::string("internal error: ") + e.what());
        }
      }
      if (exit_) {
        return shutdown_ ? kOk : kRuntimeFailure;
      }
    }
    log(shutdown_ ? "input closed after shutdown" : "input closed without shutdown and exit");
    return shutdown_ ? kOk : kRuntimeFailure;
  }

private:
  std::map<std::string, std::string> texts_; // open buffers: canonical path -> text
  std::map<std::string, std::string> paths_; // uri -> canonical path
  // The workspace folders (initialize's workspaceFolders, else rootUri) and
  // initializationOptions.importPaths: imports may lead into them, as with `--import-path`.
  std::vector<std::string> import_paths_;
  bool shutdown_ = false;
  bool exit_ = false;

  static void log(const std::string &line) { std::cerr << "cep lsp: " << line << '\n'; }

  static void send(const std::string &body) { lsp::writeFrame(std::cout, body); }

  static void result(const std::string &id, const std::string &value) {
    send("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"result\":" + value + "}");
  }

  static void reply(const std::string &id, int code, const std::string &message) {
    send("{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":{\"code\":" + std::to_string(code) +
         ",\"message\":\"" + jsonEscape(message) + "\"}}");
  }

  static const json::Value *member(const json::Value *v, std::string_view key) {
    return v == nullptr ? nullptr : v->find(key);
  }
  static const std::string *str(const json::Value *v) {
    return v != nullptr && v->kind == json::Kind::String ? &v->text : nullptr;
  }

  void handle(const json::Value &message) {
    const json::Value *id = message.find("id");
    const std::string *method = str(message.find("method"));
    std::string id_text = id == nullptr ? "null" : json::toText(*id);
    if (message.kind != json::Kind::Object || method == nullptr) {
      if (message.kind == json::Kind::Object && method == nullptr && message.find("result")) {
        return; // a response to a request of ours (we send none)
      }
      log("a message without a method");
      reply(id_text, kInvalidRequest, "a request needs a `method` string");
      return;
    }
    const json::Value *params = message.find("params");
    if (*method == "initialize") {
      initialize(params);
      result(id_text, R"({"capabilities":{"textDocumentSync":{"openClose":true,"change":1},)"
                      R"("hoverProvider":true,"definitionProvider":true},)"
                      R"("serverInfo":{"name":"cep lsp"}})");
    } else if (*method == "initialized" || *method == "$/cancelRequest" ||
               *method == "workspace/didChangeConfiguration" || *method == "textDocument/didSave") {
      // notifications with nothing to do
    } else if (*method == "shutdown") {
      shutdown_ = true;
      result(id_text, "null");
    } else if (*method == "exit") {
      exit_ = true;
    } else if (*method == "textDocument/didOpen" || *method == "textDocument/didChange" ||
               *method == "textDocument/didClose") {
      document(*method, params);
    } else if (*method == "textDocument/definition" || *method == "textDocument/hover") {
      position(*method, id_text, params);
    } else if (id != nullptr) {
      reply(id_text, kMethodNotFound, "`cep lsp` does not handle `" + *method + "`");
    } else if (method->rfind("$/", 0) != 0) {
      log("ignored notification `" + *method + "`");
    }
  }

  void initialize(const json::Value *params) {
    auto add = [&](const json::Value *uri) {
      if (const std::string *text = str(uri)) {
        if (auto path = lsp::uriToPath(*text)) {
          import_paths_.push_back(*path);
          log("workspace folder " + *path);
        }
      }
    };
    const json::Value *folders = member(params, "workspaceFolders");
    if (folders != nullptr && folders->kind == json::Kind::Array && !folders->items.empty()) {
      for (const json::Value &folder : folders->items) {
        add(folder.find("uri"));
      }
    } else {
      add(member(params, "rootUri"));
    }
    const json::Value *extra = member(member(params, "initializationOptions"), "importPaths");
    if (extra != nullptr && extra->kind == json::Kind::Array) {
      for (const json::Value &path : extra->items) {
        if (path.kind == json::Kind::String) {
          import_paths_.push_back(path.text);
        }
      }
    }
  }

  void document(const std::string &method, const json::Value *params) {
    const json::Value *doc = member(params, "textDocument");
    const std::string *uri = str(member(doc, "uri"));
    std::optional<std::string> path = uri ? lsp::uriToPath(*uri) : std::nullopt;
    if (!path) {
      log(method + " without a file:// textDocument.uri");
      return;
    }
    std::string key = canonicalPath(*path);
    if (method == "textDocument/didClose") {
      texts_.erase(key);
      paths_.erase(*uri);
      send(R"({"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":")" +
           jsonEscape(*uri) + R"(","diagnostics":[]}})");
      return;
    }
    const std::string *text = nullptr;
    if (method == "textDocument/didOpen") {
      text = str(member(doc, "text"));
    } else if (const json::Value *changes = member(params, "contentChanges");
               changes != nullptr && changes->kind == json::Kind::Array &&
               !changes->items.empty()) {
      text = str(changes->items.back().find("text")); // full sync: the last is the whole text
    }
    if (text == nullptr) {
      log(method + " for " + *path + " without the document's text");
      return;
    }
    texts_[key] = *text;
    paths_[*uri] = key;
    publish(*uri, key);
  }

  Analysis analyse(const std::string &key) const {
    Analysis a;
    lang::LoadOptions options;
    options.overlays = texts_;
    options.import_paths = import_paths_;
    a.frontend = lang::loadProgram({key}, *a.sources, *a.diags, options);
    if (a.frontend.program) {
      lang::checkTests(a.frontend.modules, *a.frontend.program, *a.sources, *a.diags);
    }
    for (std::size_t i = 0; i < a.frontend.modules.size(); ++i) {
      if (canonicalPath(a.sources->file(a.frontend.modules[i].file).path()) == key) {
        a.module = i;
        break;
      }
    }
    return a;
  }

  void publish(const std::string &uri, const std::string &key) const {
    Analysis a = analyse(key);
    const std::string &text = texts_.at(key);
    std::string list;
    for (const lang::Diagnostic *d : a.diags->sorted()) {
      std::string message = d->message, range;
      if (d->range && canonicalPath(a.sources->file(d->range->file).path()) == key) {
        range = lsp::rangeJson(text, d->range->begin, d->range->end);
      } else {
        // In an imported file, or about a file that cannot be read: shown at the file's start.
        range = lsp::rangeJson(text, 0, 0);
        if (d->range) {
          const lang::SourceFile &f = a.sources->file(d->range->file);
          lang::LineCol lc = f.lineCol(d->range->begin);
          message = "in " + f.path() + ":" + std::to_string(lc.line) + ":" +
                    std::to_string(lc.column) + ": " + message;
        }
      }
      for (const lang::Note &n : d->notes) {
        message += "\nnote: " + n.message;
      }
      int severity = d->severity == lang::Severity::Error ? 1 : 2;
      list += (list.empty() ? "" : ",") + std::string("{") + range +
              ",\"severity\":" + std::to_string(severity) + ",\"source\":\"cep\",\"message\":\"" +
              jsonEscape(message) + "\"}";
    }
    send(R"({"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":")" +
         jsonEscape(uri) + R"(","diagnostics":[)" + list + "]}}");
  }

  void position(const std::string &method, const std::string &id, const json::Value *params) {
    const std::string *uri = str(member(member(params, "textDocument"), "uri"));
    const json::Value *line = member(member(params, "position"), "line");
    const json::Value *character = member(member(params, "position"), "character");
    auto key = uri ? paths_.find(*uri) : paths_.end();
    if (key == paths_.end() || texts_.count(key->second) == 0 || line == nullptr ||
        !line->integer || line->int_value < 0 || character == nullptr || !character->integer ||
        character->int_value < 0) {
      reply(id, kInvalidParams,
            method + " needs the uri of an open document and a position {line, character}");
      return;
    }
    Analysis a = analyse(key->second);
    const std::string &text = texts_.at(key->second);
    std::optional<lsp::Lookup> found;
    if (a.module) {
      std::uint32_t offset =
          lsp::offsetOf(text, {static_cast<std::uint32_t>(line->int_value),
                               static_cast<std::uint32_t>(character->int_value)});
      found = lsp::lookupAt(a.frontend.modules, *a.module, *a.sources, offset);
    }
    if (!found) {
      result(id, "null");
    } else if (method == "textDocument/hover") {
      result(id, R"({"contents":{"kind":"plaintext","value":")" + jsonEscape(found->hover) +
                     "\"}," + lsp::rangeJson(text, found->at.begin, found->at.end) + "}");
    } else if (found->definition) {
      const lang::SourceFile &file = a.sources->file(found->definition->file);
      std::string path = canonicalPath(file.path());
      result(id, R"({"uri":")" + jsonEscape(lsp::pathToUri(path)) + "\"," +
                     lsp::rangeJson(file.text(), found->definition->begin, found->definition->end) +
                     "}");
    } else if (found->definition_file) {
      result(id, R"({"uri":")" +
                     jsonEscape(lsp::pathToUri(canonicalPath(*found->definition_file))) + "\"," +
                     lsp::rangeJson("", 0, 0) + "}");
    } else {
      result(id, "null");
    }
  }
};

} // namespace

int runLsp() {
  std::ios::sync_with_stdio(false);
  return Server().run();
}

} // namespace cep::cli
