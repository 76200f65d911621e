// Test helper: a Database that is a real server on tcp loopback plus a
// remote client connected to it. Every call goes over the wire; the server
// lives as long as the handle.
#pragma once

#include <memory>
#include <string>

#include "ormdb/database.h"
#include "server/server.h"

namespace ormdb::testing {

class ServedDatabase final : public Database {
 public:
  // Opens `dir` embedded, serves it on tcp://127.0.0.1 (a free port) and
  // connects to it.
  static Result<std::unique_ptr<ServedDatabase>> Start(
      const std::string& dir, const OpenOptions& open = {},
      server::ServerOptions serve = server::ServerOptions{}, const ConnectOptions& connect = {}) {
    ORMDB_ASSIGN_OR_RETURN(auto db, db::Engine::Open(dir, open));
    if (serve.listen == server::ServerOptions{}.listen) serve.listen = "tcp://127.0.0.1:0";
    ORMDB_ASSIGN_OR_RETURN(auto srv, server::Server::Start(std::move(db), serve));
    ORMDB_ASSIGN_OR_RETURN(auto remote, Database::Connect(srv->url(), connect));
    auto out = std::unique_ptr<ServedDatabase>(new ServedDatabase());
    out->server_ = std::move(srv);
    out->remote_ = std::move(remote);
    return out;
  }
  ~ServedDatabase() override {
    remote_.reset();
    server_.reset();
  }

  server::Server& server() { return *server_; }
  const std::string& url() const { return server_->url(); }

  Result<MigrationReport> ApplySchema(std::string_view text,
                                      const ApplySchemaOptions& options = {}) override {
    return remote_->ApplySchema(text, options);
  }
  Result<std::string> SchemaText() override { return remote_->SchemaText(); }
  Result<std::string> SchemaJson() override { return remote_->SchemaJson(); }
  Result<std::vector<SchemaVersionInfo>> SchemaHistory() override {
    return remote_->SchemaHistory();
  }
  Result<MutationResult> Mutate(std::string_view batch_json,
                                const WriteOptions& options = {}) override {
    return remote_->Mutate(batch_json, options);
  }
  Result<std::optional<std::string>> Get(std::string_view entity, std::string_view id) override {
    return remote_->Get(entity, id);
  }
  Status Export(std::string_view what,
                const std::function<Status(std::string_view line)>& sink) override {
    return remote_->Export(what, sink);
  }
  Result<ImportReport> Import(std::string_view what, std::istream& in,
                              const ImportOptions& options = {}) override {
    return remote_->Import(what, in, options);
  }
  Result<std::unique_ptr<FetchResult>> Fetch(std::string_view query,
                                             std::string_view params_json = "{}",
                                             const FetchOptions& options = {}) override {
    return remote_->Fetch(query, params_json, options);
  }
  Result<std::string> Explain(std::string_view query, std::string_view params_json = "{}",
                              const ExplainOptions& options = {}) override {
    return remote_->Explain(query, params_json, options);
  }
  Result<std::unique_ptr<SelectResult>> Select(std::string_view text,
                                               std::string_view params_json = "{}",
                                               const SelectOptions& options = {}) override {
    return remote_->Select(text, params_json, options);
  }
  Result<std::string> ExplainSelect(std::string_view text, std::string_view params_json = "{}",
                                    const ExplainOptions& options = {}) override {
    return remote_->ExplainSelect(text, params_json, options);
  }
  Result<WatchBatch> Watch(const WatchOptions& options) override { return remote_->Watch(options); }
  Result<std::string> Stats() override { return remote_->Stats(); }
  Result<std::string> Vacuum() override { return remote_->Vacuum(); }
  Result<CheckResult> Check() override { return remote_->Check(); }
  uint64_t CurrentVersion() override { return remote_->CurrentVersion(); }
  Result<std::unique_ptr<Database>> As(const Principal& principal) override {
    return remote_->As(principal);
  }
  uint64_t WaitForVersionAfter(uint64_t version, std::chrono::milliseconds timeout) override {
    return remote_->WaitForVersionAfter(version, timeout);
  }

 private:
  ServedDatabase() = default;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<Database> remote_;
};

}  // namespace ormdb::testing
