// imdb_server_bench: the six ORM pages of imdb_bench (bench/imdb_pages.h:
// movie_page, person_page, user_page and their *_avg forms with average
// ratings) over the wire: ormdb's server in this process, reached over nng
// (tcp://127.0.0.1) and over the direct transport (ormdb://127.0.0.1),
// against PostgreSQL 15 over TCP loopback answering each page with one
// prepared statement, on the same generated movie database (bench/imdb_data,
// schema bench/imdb.ormdb).
//
// Strategies, each timed per page (BM_ImdbServer/<page>/<strategy>):
//   embedded       Database::Fetch on the served engine itself, in process
//                  (what the wire adds is the other columns minus this one)
//   embedded_json  the same plus FetchResult::ToJson()
//   direct         Database::Fetch on a client connected over ormdb://,
//                  the result blocks in hand
//   direct_json    the same plus FetchResult::ToJson()
//   nng            Database::Fetch on a client connected over nng (tcp://)
//   pg             PQexecPrepared of one statement that builds the page's
//                  "data" array as one JSON value (json_agg /
//                  json_build_object, correlated subqueries, the per-parent
//                  LIMIT inside; an average is `(SELECT avg(rating)::float8
//                  FROM review WHERE movie = m.id)` in each movie object),
//                  the JSON text in hand (not parsed), on a PostgreSQL 15
//                  cluster this program starts on 127.0.0.1 (bench/pg_cluster)
// BM_ImdbServer/tcp_rtt/echo: a 64-byte round trip over a plain TCP
// loopback socket to an echo thread in this process (the floor any
// transport pays).
//
// PostgreSQL holds the tables and indexes of imdb_bench's SQLite side
// (bench/imdb_data.h: movie, person, users, movie_directors both ways,
// cast_member(movie, list_order, person) and (person, movie),
// review(movie, creation_time, rating) and (author, creation_time), the
// foreign keys), loaded with COPY from the generated rows, then VACUUM
// (FREEZE, ANALYZE). Timestamps are timestamptz.
//
// Before timing, for the timed parameters and ORMDB_BENCH_EXTRA_CHECKS more
// per page, the "data" of ormdb's ToJson() over ormdb:// is compared with
// the embedded one and nng's (byte for byte) and with PostgreSQL's JSON as
// canonical trees (bench/json_canonical.h: member order kept; "@next"
// members as null or true; averages, float64 on both sides, within a
// relative 1e-12; PostgreSQL's timestamps "...T12:00:00.12+00:00" rewritten
// first as ormdb writes them, "...T12:00:00.120Z"); any difference stops the
// run with the page, the parameter and where the two part.
//
// Each iteration is one page, timed alone; the parameters cycle over 64
// pseudo-random ids of varied sizes (VariedIds: a quarter from the top 1%,
// a quarter from the top 10%, half uniform), the same as imdb_bench's. The
// console output ends with p50 / p95 per page and strategy, the ratio to
// PostgreSQL, and what the wire adds over the TCP round trip.
//
// Environment: ORMDB_BENCH_SCALE (default 1; 0.1 for a quick run),
// ORMDB_BENCH_CACHE (default /tmp/ormdb_imdb_bench_cache: the JSONL files,
// shared with imdb_bench), ORMDB_BENCH_DIR (default /tmp: the ormdb data
// directory, removed at exit unless ORMDB_BENCH_KEEP=1),
// ORMDB_BENCH_PG_DIR (default ORMDB_BENCH_DIR: where the PostgreSQL
// cluster's temporary directory is made; always removed),
// ORMDB_BENCH_PG_BIN (default /usr/lib/postgresql/15/bin),
// ORMDB_BENCH_PG_EXPLAIN=1 (print PostgreSQL's plans),
// ORMDB_BENCH_EXTRA_CHECKS (default 32), ORMDB_BENCH_INLINE_READS=0 (the
// server answers reads on its read pool instead of inline).
#include <benchmark/benchmark.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/bench_util.h"
#include "bench/blog_data.h"     // FormatRfc3339, SplitMix64
#include "bench/blog_queries.h"  // VariedIds
#include "bench/imdb_data.h"
#include "bench/imdb_pages.h"
#include "bench/json_canonical.h"
#include "bench/pg_cluster.h"
#include "bench/tcp_echo.h"
#include "bench/timing.h"
#include "ormdb/database.h"
#include "server/server.h"

#ifndef ORMDB_IMDB_SCHEMA
#define ORMDB_IMDB_SCHEMA "bench/imdb.ormdb"
#endif

namespace ormdb::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kParamsPerPage = 64;  // the timed parameter list
size_t g_extra_checks = 32;            // parameters checked but not timed, per page

// Averages (float64) may differ in their last bits and in how they are
// printed; anything further apart is a wrong average.
constexpr double kAvgTolerance = 1e-12;

// ------------------------------------------------------ PostgreSQL: load

// imdb_bench's SQLite schema in PostgreSQL ("user" is reserved: users),
// timestamps as timestamptz. The keys, indexes and foreign keys come after
// the COPY (kPgIndexes).
constexpr const char* kPgTables = R"(
CREATE TABLE movie (id bigint NOT NULL, title text NOT NULL, year integer NOT NULL,
                    description text NOT NULL, image text NOT NULL);
CREATE TABLE person (id bigint NOT NULL, first_name text NOT NULL, last_name text NOT NULL,
                     bio text NOT NULL, image text NOT NULL);
CREATE TABLE users (id bigint NOT NULL, name text NOT NULL, image text NOT NULL);
CREATE TABLE movie_directors (movie bigint NOT NULL, person bigint NOT NULL);
CREATE TABLE cast_member (id bigint NOT NULL, movie bigint NOT NULL, person bigint NOT NULL,
                          list_order integer NOT NULL);
CREATE TABLE review (id bigint NOT NULL, body text NOT NULL,
                     rating integer NOT NULL CHECK (rating >= 0 AND rating <= 5),
                     creation_time timestamptz NOT NULL, author bigint NOT NULL,
                     movie bigint NOT NULL);
)";

constexpr const char* kPgIndexes[] = {
    "ALTER TABLE movie ADD PRIMARY KEY (id)",
    "ALTER TABLE person ADD PRIMARY KEY (id)",
    "ALTER TABLE users ADD PRIMARY KEY (id)",
    "ALTER TABLE movie_directors ADD PRIMARY KEY (movie, person)",
    "CREATE INDEX movie_directors_person ON movie_directors (person, movie)",
    "ALTER TABLE cast_member ADD PRIMARY KEY (id)",
    "CREATE INDEX cast_member_movie_order ON cast_member (movie, list_order, person)",
    "CREATE INDEX cast_member_person ON cast_member (person, movie)",
    "ALTER TABLE review ADD PRIMARY KEY (id)",
    "CREATE INDEX review_movie_time ON review (movie, creation_time, rating)",
    "CREATE INDEX review_author_time ON review (author, creation_time)",
    "ALTER TABLE movie_directors ADD FOREIGN KEY (movie) REFERENCES movie (id) ON DELETE CASCADE",
    "ALTER TABLE movie_directors ADD FOREIGN KEY (person) REFERENCES person (id) "
    "ON DELETE CASCADE",
    "ALTER TABLE cast_member ADD FOREIGN KEY (movie) REFERENCES movie (id) ON DELETE CASCADE",
    "ALTER TABLE cast_member ADD FOREIGN KEY (person) REFERENCES person (id) ON DELETE CASCADE",
    "ALTER TABLE review ADD FOREIGN KEY (author) REFERENCES users (id) ON DELETE CASCADE",
    "ALTER TABLE review ADD FOREIGN KEY (movie) REFERENCES movie (id) ON DELETE CASCADE",
};

struct PgLoadTimes {
  double copy = 0, indexes = 0, vacuum = 0;
};

PgLoadTimes LoadPostgres(PGconn* c, const ImdbData& d) {
  PgLoadTimes t;
  auto start = Clock::now();
  PgExec(c, "BEGIN");
  PgExec(c, kPgTables);
  {
    CopyIn in(c, "COPY movie (id, title, year, description, image) FROM STDIN");
    for (const ImdbMovie& m : d.movies) {
      in.Int(m.id);
      in.Text(m.title);
      in.Int(m.year);
      in.Text(m.description);
      in.Text(m.image);
      in.EndRow();
    }
    in.Finish();
  }
  {
    CopyIn in(c, "COPY person (id, first_name, last_name, bio, image) FROM STDIN");
    for (const ImdbPerson& p : d.persons) {
      in.Int(p.id);
      in.Text(p.first_name);
      in.Text(p.last_name);
      in.Text(p.bio);
      in.Text(p.image);
      in.EndRow();
    }
    in.Finish();
  }
  {
    CopyIn in(c, "COPY users (id, name, image) FROM STDIN");
    for (const ImdbUser& u : d.users) {
      in.Int(u.id);
      in.Text(u.name);
      in.Text(u.image);
      in.EndRow();
    }
    in.Finish();
  }
  {
    CopyIn in(c, "COPY movie_directors (movie, person) FROM STDIN");
    for (const auto& [movie, person] : d.directors) {
      in.Int(movie);
      in.Int(person);
      in.EndRow();
    }
    in.Finish();
  }
  {
    CopyIn in(c, "COPY cast_member (id, movie, person, list_order) FROM STDIN");
    for (const ImdbCast& k : d.casts) {
      in.Int(k.id);
      in.Int(k.movie);
      in.Int(k.person);
      in.Int(k.list_order);
      in.EndRow();
    }
    in.Finish();
  }
  {
    CopyIn in(c, "COPY review (id, body, rating, creation_time, author, movie) FROM STDIN");
    for (const ImdbReview& r : d.reviews) {
      in.Int(r.id);
      in.Text(r.body);
      in.Int(r.rating);
      in.Text(FormatRfc3339(r.creation_time));
      in.Int(r.author);
      in.Int(r.movie);
      in.EndRow();
    }
    in.Finish();
  }
  PgExec(c, "COMMIT");
  t.copy = Since(start);
  start = Clock::now();
  for (const char* sql : kPgIndexes) PgExec(c, sql);
  t.indexes = Since(start);
  start = Clock::now();
  PgExec(c, "VACUUM (FREEZE, ANALYZE)");
  PgExec(c, "CHECKPOINT");
  t.vacuum = Since(start);
  return t;
}

// ------------------------------------------------- PostgreSQL: the pages

// "CASE WHEN <more than n rows of `from_where`> THEN true END": the @next of
// a limited include, reading at most n + 1 index entries.
std::string MoreThan(const std::string& from_where, size_t n) {
  return "CASE WHEN (SELECT count(*) FROM (SELECT 1 FROM " + from_where + " LIMIT " +
         std::to_string(n + 1) + ") x) > " + std::to_string(n) + " THEN true END";
}

// The page's "data" array as one JSON value, members in ormdb's order (id,
// then the selection as written, "<relation>@next" after a limited
// include), children in ormdb's order (the order keys, then id asc). To-one
// rows are read by their primary key in a scalar subquery per row (as
// ormdb reads them), the rows an order needs from a to-one joined.
std::string PgSql(PageKind kind, bool avg_rating) {
  // ", 'avg_rating', <average of movie `movie_id`>" or nothing.
  auto avg = [avg_rating](const char* movie_id) -> std::string {
    if (!avg_rating) return "";
    return std::string(", 'avg_rating', (SELECT avg(rating)::float8 FROM review WHERE movie = ") +
           movie_id + ")";
  };
  const std::string person_obj =
      "json_build_object('id', p.id, 'first_name', p.first_name, 'last_name', p.last_name,"
      " 'image', p.image)";
  switch (kind) {
    case PageKind::kMovie:
      return "SELECT coalesce(json_agg(json_build_object('id', m.id, 'title', m.title,"
             " 'year', m.year, 'description', m.description, 'image', m.image" +
             avg("m.id") + ", 'directors', (SELECT coalesce(json_agg(" + person_obj +
             " ORDER BY p.last_name, p.first_name, p.id), '[]'::json)"
             " FROM movie_directors md JOIN person p ON p.id = md.person WHERE md.movie = m.id),"
             " 'cast', (SELECT coalesce(json_agg(json_build_object('id', c.id, 'list_order',"
             " c.list_order, 'person', (SELECT " +
             person_obj +
             " FROM person p WHERE p.id = c.person)) ORDER BY c.list_order, c.id), '[]'::json)"
             " FROM cast_member c WHERE c.movie = m.id),"
             " 'reviews', (SELECT coalesce(json_agg(json_build_object('id', r.id, 'body', r.body,"
             " 'rating', r.rating, 'creation_time', r.creation_time, 'author',"
             " (SELECT json_build_object('id', a.id, 'name', a.name, 'image', a.image)"
             " FROM users a WHERE a.id = r.author)) ORDER BY r.creation_time DESC, r.id),"
             " '[]'::json) FROM (SELECT id, body, rating, creation_time, author FROM review"
             " WHERE movie = m.id ORDER BY creation_time DESC, id LIMIT " +
             std::to_string(kMovieReviews) + ") r), 'reviews@next', " +
             MoreThan("review WHERE movie = m.id", kMovieReviews) +
             ")), '[]'::json) FROM movie m WHERE m.id = $1";
    case PageKind::kPerson:
      return "SELECT coalesce(json_agg(json_build_object('id', p.id, 'first_name', p.first_name,"
             " 'last_name', p.last_name, 'bio', p.bio, 'image', p.image,"
             " 'acted_in', (SELECT coalesce(json_agg(json_build_object('id', c.id, 'movie',"
             " json_build_object('id', m.id, 'title', m.title, 'year', m.year, 'image', m.image" +
             avg("m.id") +
             ")) ORDER BY m.year, m.title, c.id), '[]'::json)"
             " FROM cast_member c JOIN movie m ON m.id = c.movie WHERE c.person = p.id),"
             " 'directed', (SELECT coalesce(json_agg(json_build_object('id', m.id, 'title',"
             " m.title, 'year', m.year, 'image', m.image" +
             avg("m.id") +
             ") ORDER BY m.year, m.title, m.id), '[]'::json)"
             " FROM movie_directors md JOIN movie m ON m.id = md.movie WHERE md.person = p.id)"
             ")), '[]'::json) FROM person p WHERE p.id = $1";
    case PageKind::kUser:
      return "SELECT coalesce(json_agg(json_build_object('id', u.id, 'name', u.name,"
             " 'image', u.image,"
             " 'reviews', (SELECT coalesce(json_agg(json_build_object('id', r.id, 'body', r.body,"
             " 'rating', r.rating, 'creation_time', r.creation_time, 'movie',"
             " (SELECT json_build_object('id', m.id, 'title', m.title, 'image', m.image" +
             avg("m.id") +
             ") FROM movie m WHERE m.id = r.movie)) ORDER BY r.creation_time DESC, r.id),"
             " '[]'::json) FROM (SELECT id, body, rating, creation_time, movie FROM review"
             " WHERE author = u.id ORDER BY creation_time DESC, id LIMIT " +
             std::to_string(kUserReviews) + ") r), 'reviews@next', " +
             MoreThan("review WHERE author = u.id", kUserReviews) +
             ")), '[]'::json) FROM users u WHERE u.id = $1";
  }
  return "";
}

// ------------------------------------------------------------- the state

struct Query {
  const PageSpec* spec = nullptr;
  std::vector<int64_t> params;           // timed, cycled
  std::vector<int64_t> check_params;     // compared before timing (params + extra)
  std::vector<std::string> params_json;  // per check param: {"m":17}
  std::vector<std::string> params_text;  // per check param: "17"
  std::string pg_sql, pg_statement;      // the prepared statement
  std::vector<size_t> json_bytes;        // ormdb ToJson() bytes per timed param
};

using Stat = LatencyStat;

struct Bench {
  double scale = 1;
  ImdbData data;
  PgCluster cluster;
  PGconn* pg = nullptr;
  std::unique_ptr<server::Server> server;
  db::Engine* engine = nullptr;      // served by `server`
  std::unique_ptr<Database> nng;     // a client over tcp://
  std::unique_ptr<Database> direct;  // a client over ormdb://
  std::vector<Query> queries;
  std::map<std::string, Stat> stats;  // "page/strategy", "tcp_rtt"
  // Every iteration's time per key, across repetitions.
  std::map<std::string, LatencySamples> samples;
  std::vector<std::pair<std::string, std::string>> context;
};

Bench* g = nullptr;

void Note(const std::string& key, const std::string& value) {
  std::fprintf(stderr, "  %-30s %s\n", key.c_str(), value.c_str());
  g->context.emplace_back(key, value);
}

// --------------------------------------------------------- PostgreSQL side

// Runs a page's prepared statement; the result holds one row, one column.
PGresult* PgRun(const Query& q, size_t i) {
  const char* values[1] = {q.params_text[i].c_str()};
  PGresult* r = PQexecPrepared(g->pg, q.pg_statement.c_str(), 1, values, nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) != 1) {
    std::string m = PQerrorMessage(g->pg);
    PQclear(r);
    Die("PostgreSQL " + std::string(q.spec->name) + " (" + q.params_text[i] + "): " + m);
  }
  return r;
}

std::string PgJson(const Query& q, size_t i) {
  PGresult* r = PgRun(q, i);
  std::string s(PQgetvalue(r, 0, 0), static_cast<size_t>(PQgetlength(r, 0, 0)));
  PQclear(r);
  return s;
}

void StartPostgres() {
  g->pg = StartPgCluster(g->cluster, Note);
  PgLoadTimes t = LoadPostgres(g->pg, g->data);
  Note("PostgreSQL load", "COPY " + FormatSeconds(t.copy) + ", keys + indexes + foreign keys " +
                              FormatSeconds(t.indexes) +
                              ", VACUUM (FREEZE, ANALYZE) + CHECKPOINT " + FormatSeconds(t.vacuum));
  Note("PostgreSQL data size",
       Mb(std::stoull(PgValue(g->pg, "SELECT pg_database_size(current_database())"))));
}

void PreparePostgres() {
  for (Query& q : g->queries) {
    q.pg_sql = PgSql(q.spec->kind, q.spec->avg_rating);
    q.pg_statement = q.spec->name;
    PGresult* r = PQprepare(g->pg, q.pg_statement.c_str(), q.pg_sql.c_str(), 0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      std::string m = PQerrorMessage(g->pg);
      PQclear(r);
      Die("PostgreSQL cannot prepare " + q.pg_statement + ": " + m + "in: " + q.pg_sql);
    }
    PQclear(r);
  }
  if (Env("ORMDB_BENCH_PG_EXPLAIN", "0") == "1") {
    for (const Query& q : g->queries) {
      std::string sql = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE " + q.pg_statement + "(" +
                        q.params_text[0] + ")";
      std::fprintf(stderr, "\n-- %s, $1 = %s:\n%s\n%s\n", q.spec->name, q.params_text[0].c_str(),
                   q.pg_sql.c_str(), PgValue(g->pg, sql, /*all_rows=*/true).c_str());
    }
  }
}

// ------------------------------------------------------------ ormdb side

// The generated JSONL files of this scale, in imdb_bench's cache layout
// (written once, reused by either benchmark).
std::string PrepareCache() {
  char key[64];
  std::snprintf(key, sizeof key, "/scale-%s-v%d", ScaleText(g->scale).c_str(), kImdbDataVersion);
  const std::string dir = Env("ORMDB_BENCH_CACHE", "/tmp/ormdb_imdb_bench_cache") + key;
  const std::string stamp = dir + "/complete";
  if (fs::exists(stamp)) {
    Note("cache", dir + " (reused JSONL files)");
    return dir;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) Die("cannot create " + dir + ": " + ec.message());
  auto start = Clock::now();
  std::string error;
  if (!WriteImdbJsonl(g->data, dir, &error)) Die(error);
  std::ofstream(stamp) << "ok\n";
  Note("cache", dir + " (new: JSONL written in " + FormatSeconds(Since(start)) + ")");
  return dir;
}

std::unique_ptr<db::Engine> OpenOrDie(const std::string& dir) {
  auto opened = db::Engine::Open(dir, OpenOptions{});
  if (!opened.ok()) Die("open " + dir + ": " + opened.status().ToString());
  return std::move(opened).value();
}

std::unique_ptr<Database> ConnectClient(const std::string& url) {
  auto c = Database::Connect(url, ConnectOptions{});
  if (!c.ok()) Die("Database::Connect(" + url + "): " + c.status().ToString());
  return std::move(c).value();
}

void StartOrmdb(const std::string& cache) {
  const std::string parent = Env("ORMDB_BENCH_DIR", "/tmp");
  auto tmp = MakeTempDir(parent, "ormdb_imdb_server_bench_");
  if (!tmp) Die("cannot create a directory in " + parent);
  AddTempDir(*tmp);
  const std::string dir = *tmp + "/db";
  Note("ormdb data_dir", dir + " (" + FilesystemName(*tmp) + ")");
  auto start = Clock::now();
  {
    std::unique_ptr<Database> db = OpenOrDie(dir);
    std::string detail, error;
    if (!ImportImdbJsonl(db.get(), cache, ORMDB_IMDB_SCHEMA, &detail, &error)) Die(error);
    Note("ormdb import", FormatSeconds(Since(start)) + " (" + detail + ")");
  }
  Note("ormdb data size", Mb(DirectoryBytes(dir)));

  server::ServerOptions options;
  options.listen = "tcp://127.0.0.1:0";
  options.listen_direct = "ormdb://127.0.0.1:0";
  if (const char* v = std::getenv("ORMDB_BENCH_INLINE_READS")) options.inline_reads = *v != '0';
  std::unique_ptr<db::Engine> engine = OpenOrDie(dir);
  g->engine = engine.get();
  auto started = server::Server::Start(std::move(engine), options);
  if (!started.ok()) Die("cannot start an ormdb server: " + started.status().ToString());
  g->server = std::move(started).value();
  g->nng = ConnectClient(g->server->url());
  g->direct = ConnectClient(g->server->direct_url());
  Note("ormdb server", g->server->url() + " and " + g->server->direct_url() +
                           " (in this process, reads " +
                           (options.inline_reads ? "inline" : "on the read pool") + ")");
}

std::string OrmdbJson(Database* db, const Query& q, size_t i) {
  auto r = db->Fetch(q.spec->fetch, q.params_json[i]);
  if (!r.ok()) {
    Die("ormdb Fetch failed: " + r.status().ToString() + "\n  query: " + q.spec->fetch +
        "\n  params: " + q.params_json[i]);
  }
  return (*r)->ToJson();
}

// ---------------------------------------------------------------- checks

std::string Canonical(std::string_view json, const char* what) {
  std::string out;
  Canonicalizer c(json);
  if (!c.Document(&out)) Die(std::string("bad JSON from ") + what + ": " + c.error());
  return out;
}

// The canonical "data" of an ormdb ToJson() text.
std::string OrmdbData(std::string_view json) {
  std::string data;
  Canonicalizer c(json);
  if (!c.Member("data", &data)) {
    Die("bad ToJson() from ormdb: " + c.error() + "\n" + std::string(json.substr(0, 500)));
  }
  return data;
}

// PostgreSQL's timestamptz JSON text "YYYY-MM-DDTHH:MM:SS[.f{1,6}]+00:00"
// as ormdb writes the instant (FormatRfc3339: "Z", a fraction only when
// non-zero, 3 digits for whole milliseconds, else 6); nullopt for any other
// string.
std::optional<std::string> OrmdbTimestamp(std::string_view s) {
  auto digit = [&](size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  if (s.size() < 25 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      !s.ends_with("+00:00")) {
    return std::nullopt;
  }
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (!digit(i)) return std::nullopt;
  }
  std::string_view rest = s.substr(19, s.size() - 19 - 6);
  int64_t micros = 0;
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() < 2 || rest.size() > 7) return std::nullopt;
    for (size_t i = 1; i < 7; ++i) {
      if (i < rest.size() && !(rest[i] >= '0' && rest[i] <= '9')) return std::nullopt;
      micros = micros * 10 + (i < rest.size() ? rest[i] - '0' : 0);
    }
  }
  std::string out(s.substr(0, 19));
  if (micros != 0) {
    char buf[32];
    if (micros % 1000 == 0) {
      std::snprintf(buf, sizeof buf, ".%03" PRId64, micros / 1000);
    } else {
      std::snprintf(buf, sizeof buf, ".%06" PRId64, micros);
    }
    out += buf;
  }
  return out + "Z";
}

// A canonical text with every PostgreSQL timestamp string rewritten by
// OrmdbTimestamp (a canonical string holds no raw quote, only \").
std::string WithOrmdbTimestamps(std::string_view canonical) {
  std::string out;
  out.reserve(canonical.size());
  size_t i = 0;
  while (i < canonical.size()) {
    if (canonical[i] != '"') {
      out += canonical[i++];
      continue;
    }
    size_t j = i + 1;
    while (j < canonical.size() && canonical[j] != '"') j += canonical[j] == '\\' ? 2 : 1;
    std::string_view body = canonical.substr(i + 1, j - i - 1);
    if (auto t = OrmdbTimestamp(body)) {
      out += '"';
      out += *t;
      out += '"';
    } else {
      out.append(canonical.substr(i, j + 1 - i));
    }
    i = j + 1;
  }
  return out;
}

[[noreturn]] void Mismatch(const Query& q, size_t i, const std::string& ref,
                           const std::string& name, const std::string& got, CanonicalMismatch at) {
  size_t ref_from = at.a > 300 ? at.a - 300 : 0;
  size_t got_from = at.b > 300 ? at.b - 300 : 0;
  std::string base = Env("ORMDB_BENCH_DIR", "/tmp") + "/imdb_server_bench_mismatch_" + q.spec->name;
  std::ofstream(base + "_ormdb.json") << ref << "\n";
  std::ofstream(base + "_" + name + ".json") << got << "\n";
  std::fprintf(stderr,
               "\nRESULTS DIFFER: page %s, params %s: ormdb (ormdb://) and %s differ at byte %zu\n"
               "  query: %s\n"
               "  ormdb: ...%s\n"
               "  %s: ...%s\n"
               "  PostgreSQL statement: %s\n"
               "  full canonical results: %s_{ormdb,%s}.json\n",
               q.spec->name, q.params_json[i].c_str(), name.c_str(), at.a, q.spec->fetch,
               ref.substr(ref_from, at.a - ref_from + 300).c_str(), name.c_str(),
               got.substr(got_from, at.b - got_from + 300).c_str(), q.pg_sql.c_str(), base.c_str(),
               name.c_str());
  Die("results differ; not timing anything");
}

// ormdb over ormdb:// against ormdb embedded, over nng, and PostgreSQL, for
// every check parameter. Doubles as the warm-up.
void CheckResults() {
  auto start = Clock::now();
  size_t compared = 0, nonempty = 0, objects = 0;
  for (Query& q : g->queries) {
    for (size_t i = 0; i < q.check_params.size(); ++i) {
      std::string json = OrmdbJson(g->direct.get(), q, i);
      if (i < q.params.size()) q.json_bytes.push_back(json.size());
      std::string ref = OrmdbData(json);
      auto check = [&](const char* name, const std::string& got) {
        if (auto at = CanonicalDifference(ref, got, kAvgTolerance)) {
          Mismatch(q, i, ref, name, got, *at);
        }
        ++compared;
      };
      check("embedded", OrmdbData(OrmdbJson(g->engine, q, i)));
      check("nng", OrmdbData(OrmdbJson(g->nng.get(), q, i)));
      check("postgres", WithOrmdbTimestamps(Canonical(PgJson(q, i), "PostgreSQL")));
      nonempty += ref != "[]";
      objects += static_cast<size_t>(std::count(ref.begin(), ref.end(), '{'));
    }
  }
  Note("results checked", std::to_string(compared) + " comparisons, " + std::to_string(nonempty) +
                              " non-empty pages (" + std::to_string(objects) +
                              " objects), all equal (" + FormatSeconds(Since(start)) + ")");
}

// --------------------------------------------------------------- setup

void Setup(double scale) {
  g->scale = scale;
  auto start = Clock::now();
  g->data = GenerateImdb(scale);
  const ImdbData& d = g->data;
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%zu movies, %zu persons, %zu users, %zu reviews, %zu cast rows, %zu director "
                "links",
                d.movies.size(), d.persons.size(), d.users.size(), d.reviews.size(), d.casts.size(),
                d.directors.size());
  Note("scale " + ScaleText(scale), buf);
  Note("generate (in memory)", FormatSeconds(Since(start)));

  StartPostgres();
  StartOrmdb(PrepareCache());

  // imdb_bench's parameters: drawn per kind in page order from the same
  // seed, shared by a kind's plain and *_avg pages.
  SplitMix64 rng(0x1bdb'bec4'0000'0002ULL);
  std::map<PageKind, std::pair<std::vector<int64_t>, std::vector<int64_t>>> params_of;
  for (const PageSpec& spec : kImdbPages) {
    const std::vector<int64_t>& by_rank = spec.kind == PageKind::kMovie    ? d.movies_by_rank
                                          : spec.kind == PageKind::kPerson ? d.persons_by_rank
                                                                           : d.users_by_rank;
    auto [it, fresh] = params_of.try_emplace(spec.kind);
    auto& [timed, checked] = it->second;
    if (fresh) {
      timed = VariedIds(by_rank, kParamsPerPage, rng);
      checked = timed;
      std::vector<int64_t> extra = VariedIds(by_rank, g_extra_checks, rng);
      checked.insert(checked.end(), extra.begin(), extra.end());
    }
    Query q;
    q.spec = &spec;
    q.params = timed;
    q.check_params = checked;
    for (int64_t v : q.check_params) {
      q.params_json.push_back("{\"" + std::string(spec.param) + "\":" + std::to_string(v) + "}");
      q.params_text.push_back(std::to_string(v));
    }
    g->queries.push_back(std::move(q));
  }
  PreparePostgres();
  CheckResults();
}

void Teardown() {
  g->nng.reset();
  g->direct.reset();
  if (g->server) g->server->Stop();
  g->server.reset();
  if (g->pg) PQfinish(g->pg);
  g->pg = nullptr;
  Cleanup();
}

// ------------------------------------------------------------ benchmarks

// Times each iteration alone (manual time) and records p50 / p95 under
// `key`, over every repetition of the benchmark (bench/timing.h).
template <class F>
void TimeEach(benchmark::State& state, const std::string& key, F&& run) {
  std::optional<Stat> st = TimeEachIteration(state, &g->samples[key], run);
  if (st) g->stats[key] = *st;
}

enum Strategy { kEmbedded, kEmbeddedJson, kDirect, kDirectJson, kNng, kPg, kStrategyCount };
const char* const kStrategies[] = {"embedded",    "embedded_json", "direct",
                                   "direct_json", "nng",           "pg"};

void Register() {
  benchmark::RegisterBenchmark("BM_ImdbServer/tcp_rtt/echo",
                               [](benchmark::State& state) {
                                 LoopbackEcho echo;
                                 TimeEach(state, "tcp_rtt", [&](size_t) { echo.RoundTrip(); });
                               })
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  for (size_t qi = 0; qi < g->queries.size(); ++qi) {
    for (int s = 0; s < kStrategyCount; ++s) {
      std::string key = std::string(g->queries[qi].spec->name) + "/" + kStrategies[s];
      benchmark::RegisterBenchmark(("BM_ImdbServer/" + key).c_str(),
                                   [qi, s, key](benchmark::State& state) {
                                     const Query& q = g->queries[qi];
                                     Database* db = s == kEmbedded || s == kEmbeddedJson ? g->engine
                                                    : s == kNng ? g->nng.get()
                                                                : g->direct.get();
                                     TimeEach(state, key, [&](size_t n) {
                                       size_t i = n % q.params.size();
                                       if (s == kPg) {
                                         PGresult* r = PgRun(q, i);
                                         benchmark::DoNotOptimize(PQgetvalue(r, 0, 0));
                                         PQclear(r);
                                         return;
                                       }
                                       auto r = db->Fetch(q.spec->fetch, q.params_json[i]);
                                       if (!r.ok()) Die("ormdb Fetch: " + r.status().ToString());
                                       if (s == kEmbeddedJson || s == kDirectJson) {
                                         std::string json = (*r)->ToJson();
                                         benchmark::DoNotOptimize(json.data());
                                       } else {
                                         benchmark::DoNotOptimize(r->get());
                                       }
                                     });
                                   })
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

std::optional<double> P50(const std::string& key) {
  auto it = g->stats.find(key);
  if (it == g->stats.end()) return std::nullopt;
  return it->second.p50;
}

std::string Cell(const std::string& key) {
  auto it = g->stats.find(key);
  if (it == g->stats.end()) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f / %.1f", it->second.p50, it->second.p95);
  return buf;
}

std::string Ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fx", *a / *b);
  return buf;
}

// "median / max" of the JSON bytes of a page's timed parameters.
std::string Sizes(const Query& q) {
  if (q.json_bytes.empty()) return "-";
  std::vector<size_t> v = q.json_bytes;
  std::sort(v.begin(), v.end());
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f / %.1f", static_cast<double>(v[(v.size() - 1) / 2]) / 1e3,
                static_cast<double>(v.back()) / 1e3);
  return buf;
}

void Summary(std::FILE* out) {
  std::fprintf(out,
               "\nPage latency in microseconds, p50 / p95 per page (scale %s; parameters cycle "
               "over %zu values). embedded: the served engine in process; ormdb://: the direct "
               "transport; nng: tcp://; PostgreSQL: one json_agg statement over TCP loopback:\n",
               ScaleText(g->scale).c_str(), kParamsPerPage);
  std::fprintf(out, "%-16s %-16s %-16s %-16s %-16s %-16s %-16s %-9s %-9s %-9s %-13s\n", "page",
               "embedded", "embedded+ToJson", "ormdb://", "ormdb://+ToJson", "nng", "PostgreSQL",
               "direct/pg", "+json/pg", "wire/rtt", "JSON KB");
  std::optional<double> rtt = P50("tcp_rtt");
  for (const Query& q : g->queries) {
    const std::string n = q.spec->name;
    std::optional<double> wire;
    if (auto d = P50(n + "/direct"), e = P50(n + "/embedded"); d && e) wire = *d - *e;
    std::fprintf(out, "%-16s %-16s %-16s %-16s %-16s %-16s %-16s %-9s %-9s %-9s %-13s\n", n.c_str(),
                 Cell(n + "/embedded").c_str(), Cell(n + "/embedded_json").c_str(),
                 Cell(n + "/direct").c_str(), Cell(n + "/direct_json").c_str(),
                 Cell(n + "/nng").c_str(), Cell(n + "/pg").c_str(),
                 Ratio(P50(n + "/direct"), P50(n + "/pg")).c_str(),
                 Ratio(P50(n + "/direct_json"), P50(n + "/pg")).c_str(), Ratio(wire, rtt).c_str(),
                 Sizes(q).c_str());
  }
  std::fprintf(out,
               "Plain TCP loopback round trip (64 bytes): %s us p50 / p95.\n"
               "direct/pg, +json/pg: ormdb:// p50 (without, with ToJson) / PostgreSQL p50 "
               "(above 1: ormdb is slower); wire/rtt: (ormdb:// p50 - embedded p50) / the TCP "
               "round trip p50 (target: at most 1.5); JSON KB: ormdb's ToJson() size, median / "
               "max over the timed parameters. PostgreSQL's time ends with the JSON text in "
               "hand, unparsed.\n",
               Cell("tcp_rtt").c_str());
}

}  // namespace
}  // namespace ormdb::bench

int main(int argc, char** argv) {
  using namespace ormdb::bench;
  // Before any thread exists: the signals go to the cleanup thread only.
  StartSignalThread();
  SetProgramName("imdb_server_bench");

  bool console = ConsoleOutput(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::optional<double> scale = BenchScale("imdb_server_bench");
  if (!scale) return 2;
  const bool keep = Env("ORMDB_BENCH_KEEP", "0") == "1";
  SetKeepTempDirs(keep);
  g_extra_checks = std::strtoull(Env("ORMDB_BENCH_EXTRA_CHECKS", "32").c_str(), nullptr, 10);
  static Bench bench;  // never destroyed before Cleanup
  g = &bench;
  RegisterCluster(&bench.cluster);
  std::fprintf(stderr, "imdb_server_bench setup:\n");
  Setup(*scale);
  for (const auto& [k, v] : bench.context) benchmark::AddCustomContext(k, v);
  Register();

  RunBenchmarks(console, Summary);
  benchmark::Shutdown();
  if (keep) {
    for (const std::string& d : TempDirs()) std::fprintf(stderr, "kept %s\n", d.c_str());
  }
  Teardown();
  return 0;
}
