// imdb_data: a deterministic movie database in the shape of the public
// imdbench benchmark (movies, persons, users, reviews), for
// bench/imdb_bench.cc. The ormdb schema is bench/imdb.ormdb; the SQLite
// schema below has the same tables and the same indexes.
//
// At scale S: 25,000·S movies, 100,000·S persons, 100,000·S users,
// 500,000·S reviews; 1 to 3 directors per movie (the movie_directors
// many-to-many relation) and a cast of about 30 per movie (Cast link rows
// carrying the credit order `list_order`, 1..n per movie). Fanouts are
// skewed (Zipf–Mandelbrot weights 1/(rank+q), ranks shuffled over the ids):
// reviews per movie (q = 10) and per user (q = 5), cast credits per person
// (q = 200: the busiest actor has ~600 films at S=1, the median ~2),
// directing credits per person (q = 50); a fifth of the movies have large
// casts (30–100), the rest 10–30. Texts: movie descriptions and person bios
// of about 200 bytes, review bodies of about 300, with quotes, backslashes,
// tabs and non-ASCII words. Review times spread over 2023–2024 in whole
// seconds, milliseconds and microseconds, with deliberate ties within a
// movie (so orders depend on the `id asc` tie-break).
//
// Only integer arithmetic and splitmix64 (bench/blog_data.h): the same data
// on every platform.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ormdb {
class Database;
}

namespace ormdb::bench {

struct ImdbMovie {
  int64_t id = 0;
  std::string title;
  int32_t year = 0;
  std::string description;
  std::string image;
};

struct ImdbPerson {
  int64_t id = 0;
  std::string first_name;
  std::string last_name;
  std::string bio;
  std::string image;
};

struct ImdbUser {
  int64_t id = 0;
  std::string name;
  std::string image;
};

// One credit of a movie's cast: `person` plays in `movie` at position
// `list_order` (1 = top billing).
struct ImdbCast {
  int64_t id = 0;
  int64_t movie = 0;
  int64_t person = 0;
  int32_t list_order = 0;
};

struct ImdbReview {
  int64_t id = 0;
  std::string body;
  int32_t rating = 0;         // 0..5
  int64_t creation_time = 0;  // UTC microseconds
  int64_t author = 0;         // a user
  int64_t movie = 0;
};

struct ImdbData {
  double scale = 1;
  std::vector<ImdbMovie> movies;    // movies[i].id == i + 1
  std::vector<ImdbPerson> persons;  // persons[i].id == i + 1
  std::vector<ImdbUser> users;      // users[i].id == i + 1
  std::vector<ImdbCast> casts;      // casts[i].id == i + 1, by movie then list_order
  std::vector<ImdbReview> reviews;  // reviews[i].id == i + 1
  std::vector<std::pair<int64_t, int64_t>> directors;  // (movie, person), by movie then person
  // Ids from the most to the least popular by weight (reviews per movie,
  // cast credits per person, reviews per user), to pick benchmark
  // parameters of varied sizes.
  std::vector<int64_t> movies_by_rank, persons_by_rank, users_by_rank;
};

// Generates the data set at `scale` (> 0). Same scale, same data.
ImdbData GenerateImdb(double scale);

// The version of the generated data and file formats: part of the cache
// directory's name, so bump it whenever GenerateImdb or the files change.
inline constexpr int kImdbDataVersion = 1;

// Writes movies.jsonl, persons.jsonl, users.jsonl, movie_directors.jsonl
// ({"from": movie, "to": person}), casts.jsonl and reviews.jsonl into `dir`
// (which must exist), one JSON object per line with explicit ids, as
// `ormdb export` writes them and Database::Import reads them. False with
// *error set on an I/O error.
bool WriteImdbJsonl(const ImdbData& data, const std::string& dir, std::string* error);

// What ImportImdbJsonl loads, in order (parents first): the name given to
// Database::Import and the file.
inline constexpr std::pair<const char*, const char*> kImdbImportFiles[] = {
    {"Movie", "movies.jsonl"}, {"Person", "persons.jsonl"},
    {"User", "users.jsonl"},   {"Movie.directors", "movie_directors.jsonl"},
    {"Cast", "casts.jsonl"},   {"Review", "reviews.jsonl"}};

// Applies the schema file `schema_path` (bench/imdb.ormdb) to `db`, an empty
// database, then loads the files of `dir` with Database::Import, one call
// (one durable transaction) per file. *detail gets the time of each
// ("Movie 0.31 s, ..."). False with *error set on failure.
bool ImportImdbJsonl(Database* db, const std::string& dir, const std::string& schema_path,
                     std::string* detail, std::string* error);

// The SQLite schema, with the indexes bench/imdb.ormdb declares or implies:
// movie_directors both ways, cast_member(movie, list_order) and
// cast_member(person), review(movie, creation_time) and
// review(author, creation_time); foreign keys as declared there.
// Timestamps are INTEGER microseconds. (`cast` is an SQL keyword, hence
// the table name cast_member.)
extern const char* const kImdbSqliteSchema;

// Creates the schema in `db` (an empty database) and inserts `data` with
// prepared statements binding the in-memory values, in one transaction,
// foreign keys and checks enforced (as ormdb checks references and checks
// on import), then runs ANALYZE. False with *error set on failure.
bool LoadImdbSqlite(const ImdbData& data, sqlite3* db, std::string* error);

}  // namespace ormdb::bench
