// Writes the seed corpus of frame_fuzz: one frame per kind of request, each
// built with the Cap'n Proto builders as the client builds it
// (client/remote_database.cc) and framed with protocol::EncodeFrame, so the
// files are the bytes a client sends.
//
//   build/tests/fuzz/make_frame_seeds tests/fuzz/corpus/frame
#include <capnp/message.h>
#include <nng/nng.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "protocol/frame.h"
#include "protocol/ormdb.capnp.h"

namespace wire = ormdb::wire;

namespace {

std::string dir;
int written = 0;

capnp::Text::Reader T(const std::string& s) { return capnp::Text::Reader(s.data(), s.size()); }

void Write(const std::string& name, const std::function<void(wire::Request::Builder)>& fill) {
  capnp::MallocMessageBuilder b;
  auto req = b.initRoot<wire::Request>();
  req.setClient(7);
  req.setId(static_cast<uint64_t>(written + 1));
  fill(req);
  auto msg = ormdb::protocol::EncodeFrame(b);
  if (!msg.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), msg.status().ToString().c_str());
    std::exit(1);
  }
  std::ofstream out(dir + "/" + name, std::ios::binary);
  auto bytes = msg->bytes();
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ++written;
}

void Fetch(const std::string& name, const std::string& query, const std::string& params,
           uint64_t max_entities = 0) {
  Write(name, [&](wire::Request::Builder r) {
    auto f = r.initFetch();
    f.setQuery(T(query));
    f.setParams(T(params));
    auto o = f.initOptions();
    o.setMaxEntities(max_entities);
    if (max_entities) o.setOnExceed(2);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_frame_seeds DIR\n");
    return 2;
  }
  dir = argv[1];
  Write("hello", [](wire::Request::Builder r) {
    auto h = r.initHello();
    h.setMinVersion(1);
    h.setMaxVersion(1);
    h.setClientName("ormdb-cli");
  });
  Fetch("fetch_include", "Post(where: id <= 2) { title, author { name } }", "{}");
  Fetch("fetch_params",
        "User(where: age >= $min and name like $p, order: [name desc], limit: 2) "
        "{ name, posts(order: created_at desc, limit: 1) { title, tags { name } } }",
        R"({"min": 25, "p": "%e%"})");
  Fetch("fetch_json_ir",
        R"({"entity": "Comment", "where": {"op": "in", "args": [{"path": "post"}], "list": [1, 4]},)"
        R"( "select": ["body", {"include": "author", "select": ["name"]}]})",
        "{}");
  Fetch("fetch_budget", "Tag { name, posts { title, comments { body } } }", "{}", 3);
  Write("explain", [](wire::Request::Builder r) {
    auto e = r.initExplain();
    e.setQuery("Post(where: author == 1, order: created_at desc) { title }");
    e.setParams("{}");
    e.initOptions();
    e.setAnalyze(true);
    e.setJson(true);
  });
  Write("more", [](wire::Request::Builder r) {
    auto m = r.initMore();
    m.setHandle(12345);
    m.setOffset(65536);
  });
  Write("mutate", [](wire::Request::Builder r) {
    r.setMutate(
        R"({"ops": [{"op": "insert", "entity": "User", "values": {"email": "f@x.io", "name": "F"}, "as": "f"},)"
        R"( {"op": "insert", "entity": "Post", "values": {"title": "T", "author": {"ref": "f"}}, "as": "p"},)"
        R"( {"op": "link", "relation": "Post.tags", "from": {"ref": "p"}, "to": 1},)"
        R"( {"op": "update", "entity": "User", "id": 2, "set": {"age": 26}},)"
        R"( {"op": "upsert", "entity": "Tag", "key": {"name": "new"}, "values": {"name": "new"}},)"
        R"( {"op": "delete", "entity": "Comment", "id": 3}]})");
  });
  Write("schema_apply_dry_run", [](wire::Request::Builder r) {
    auto a = r.initSchemaApply();
    a.setText(
        "enum Status { draft, published }\n"
        "entity User { id: id, email: string @unique, name: string @index, age: int32?,\n"
        "  created_at: timestamp @default(now), posts: [Post] @inverse(author) }\n"
        "entity Post { id: id, title: string @check(length(title) > 0),\n"
        "  status: Status @default(draft), created_at: timestamp @default(now),\n"
        "  author: User @on_delete(cascade), score: float64 @default(0.0) }\n");
    a.setDryRun(true);
    a.setFileName("blog.ormdb");
  });
  Write("schema_show_json", [](wire::Request::Builder r) { r.initSchemaShow().setJson(true); });
  Write("schema_history", [](wire::Request::Builder r) { r.setSchemaHistory(); });
  Write("watch", [](wire::Request::Builder r) {
    auto w = r.initWatch();
    auto e = w.initEntities(2);
    e.set(0, "Post");
    e.set(1, "Tag");
    w.setFrom(1);
    w.setHasFrom(true);
    w.setWaitMillis(10);
    w.setMaxEvents(5);
    w.setSubscriber("indexer");
  });
  Write("stats", [](wire::Request::Builder r) { r.setStats(); });
  Write("get", [](wire::Request::Builder r) {
    auto g = r.initGet();
    g.setEntity("User");
    g.setId("1");
  });
  Write("export_entity", [](wire::Request::Builder r) { r.setExportRows("Comment"); });
  Write("export_relation", [](wire::Request::Builder r) { r.setExportRows("Post.tags"); });
  Write("import_csv", [](wire::Request::Builder r) {
    auto i = r.initImportRows();
    i.setWhat("Tag");
    i.setCsv(true);
    std::string data = "id,name\n10,\"a,b\"\n11,\"say \"\"hi\"\"\"\n";
    i.setData(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(data.data()), data.size()));
  });
  Write("import_jsonl", [](wire::Request::Builder r) {
    auto i = r.initImportRows();
    i.setWhat("Post.tags");
    std::string data = "{\"from\": 2, \"to\": 3}\n{\"from\": 5, \"to\": 1}\n";
    i.setData(capnp::Data::Reader(reinterpret_cast<const capnp::byte*>(data.data()), data.size()));
  });
  Write("vacuum", [](wire::Request::Builder r) { r.setVacuum(); });
  Write("check", [](wire::Request::Builder r) { r.setCheck(); });
  Write("current_version", [](wire::Request::Builder r) { r.setCurrentVersion(); });
  Write("with_key", [](wire::Request::Builder r) {
    r.setKey("secret-key");
    r.setCurrentVersion();
  });
  std::printf("%d frames written to %s\n", written, dir.c_str());
  return 0;
}
