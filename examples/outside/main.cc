// Uses the installed ormdb library: opens a data directory, applies a
// schema, writes and fetches. Prints the fetch's JSON.
#include <cstdio>

#include "ormdb/database.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: outside DATA_DIR\n");
    return 2;
  }
  auto db = ormdb::Database::Open(argv[1]);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  auto schema = (*db)->ApplySchema("entity Note { id: id\n text: string }\n");
  auto written = (*db)->Mutate(
      R"({"ops": [{"op": "insert", "entity": "Note", "values": {"text": "from outside"}}]})");
  auto fetched = (*db)->Fetch("Note { text }");
  if (!schema.ok() || !written.ok() || !fetched.ok()) {
    std::fprintf(stderr, "failed\n");
    return 1;
  }
  std::printf("%s\n", (*fetched)->ToJson().c_str());
  return 0;
}
