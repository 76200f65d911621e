#include "bench/imdb_data.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/blog_data.h"  // SplitMix64, ScaledCount, FormatRfc3339, AppendJsonString
#include "ormdb/database.h"

namespace ormdb::bench {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;
constexpr int64_t k2023 = 1'672'531'200;  // 2023-01-01T00:00:00Z, Unix seconds

constexpr uint64_t kSeed = 0x1bdb'e7c4'0000'0001ULL;

// Zipf–Mandelbrot ranks: P(rank k) proportional to 1/(k + q), integer
// weights so that sampling is exact and platform-independent.
class ZipfSampler {
 public:
  ZipfSampler(uint64_t n, uint64_t q) {
    cumulative_.reserve(n);
    uint64_t total = 0;
    for (uint64_t k = 0; k < n; ++k) {
      total += (uint64_t{1} << 40) / (k + q);
      cumulative_.push_back(total);
    }
  }
  uint64_t Sample(SplitMix64& rng) const {
    uint64_t x = rng.Below(cumulative_.back());
    return static_cast<uint64_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), x) -
                                 cumulative_.begin());
  }

 private:
  std::vector<uint64_t> cumulative_;
};

std::vector<int64_t> ShuffledIds(int64_t n, SplitMix64& rng) {
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i + 1;
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(ids[static_cast<size_t>(i)],
              ids[static_cast<size_t>(rng.Below(static_cast<uint64_t>(i) + 1))]);
  }
  return ids;
}

const char* const kFirstNames[] = {"Ann",  "Bob",   "Chloé",  "Dmitri", "Eve",  "Fatima", "Gus",
                                   "Hana", "Ivan",  "José",   "Kai",    "Lena", "Mia",    "Noor",
                                   "Olaf", "Priya", "Quinn",  "Rosa",   "Sven", "Tariq",  "Uma",
                                   "Vera", "Wei",   "Xavier", "Yuki",   "Zoë",  "Łukasz", "Søren"};
const char* const kLastNames[] = {"Smith",  "O'Brien", "Müller", "Nguyen",  "García", "Kowalski",
                                  "Tanaka", "Okafor",  "Rossi",  "Dubois",  "Singh",  "Kim",
                                  "Novak",  "Jensen",  "Costa",  "Li",      "Ahmed",  "Berg",
                                  "Cruz",   "Diaz",    "Evans",  "Fischer", "Gray",   "Hall"};
// Words of titles and texts; a few need escaping in JSON or are not ASCII.
const char* const kWords[] = {
    "the",    "a",           "of",          "night",     "city",    "love",   "war",      "return",
    "last",   "first",       "dark",        "river",     "king",    "queen",  "ghost",    "storm",
    "naïve",  "a \"quote\"", "back\\slash", "tab\there", "🎬",       "日本語", "café",     "story",
    "with",   "brilliant",   "dull",        "plot",      "actor",   "scene",  "music",    "score",
    "camera", "ending",      "sequel",      "classic",   "runtime", "cast",   "director", "script"};

template <size_t N>
const char* Pick(const char* const (&words)[N], SplitMix64& rng) {
  return words[rng.Below(N)];
}

// Words until the text is at least `min_bytes` long.
std::string Text(SplitMix64& rng, size_t min_bytes) {
  std::string s;
  while (s.size() < min_bytes) {
    if (!s.empty()) s += ' ';
    s += Pick(kWords, rng);
  }
  return s;
}

// A time in [start, start + days) with a fractional part: a third none, a
// third whole milliseconds, a third microseconds.
int64_t RandomTime(SplitMix64& rng, int64_t start_seconds, int64_t days) {
  int64_t s =
      start_seconds + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(days * kSecondsPerDay)));
  int64_t fraction = 0;
  switch (rng.Below(3)) {
    case 1:
      fraction = static_cast<int64_t>(rng.Below(1000)) * 1000;
      break;
    case 2:
      fraction = static_cast<int64_t>(rng.Below(1'000'000));
      break;
  }
  return s * kMicrosPerSecond + fraction;
}

bool WriteFile(const std::string& path, const std::string& content, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    *error = "cannot create " + path;
    return false;
  }
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) *error = "cannot write " + path;
  return ok;
}

void Field(std::string* s, const char* name, const std::string& value) {
  *s += ",\"";
  *s += name;
  *s += "\":";
  AppendJsonString(s, value);
}

void Field(std::string* s, const char* name, int64_t value) {
  *s += ",\"";
  *s += name;
  *s += "\":";
  *s += std::to_string(value);
}

bool Exec(sqlite3* db, const char* sql, std::string* error) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    *error = std::string("sqlite: ") + (msg ? msg : "?") + " in: " + sql;
    sqlite3_free(msg);
    return false;
  }
  return true;
}

}  // namespace

ImdbData GenerateImdb(double scale) {
  ImdbData d;
  d.scale = scale;
  const int64_t n_movies = ScaledCount(25'000, scale);
  const int64_t n_persons = std::max<int64_t>(100, ScaledCount(100'000, scale));
  const int64_t n_users = ScaledCount(100'000, scale);
  const int64_t n_reviews = ScaledCount(500'000, scale);
  SplitMix64 rng(kSeed);

  d.movies_by_rank = ShuffledIds(n_movies, rng);
  d.persons_by_rank = ShuffledIds(n_persons, rng);
  d.users_by_rank = ShuffledIds(n_users, rng);
  const std::vector<int64_t> directors_by_rank = ShuffledIds(n_persons, rng);

  d.movies.reserve(static_cast<size_t>(n_movies));
  for (int64_t i = 1; i <= n_movies; ++i) {
    ImdbMovie m;
    m.id = i;
    m.title = Text(rng, 1 + rng.Below(24));
    m.title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(m.title[0])));
    m.year = static_cast<int32_t>(1950 + rng.Below(75));
    m.description = Text(rng, 180 + rng.Below(40));
    m.image = "images/movie/" + std::to_string(i) + ".jpg";
    d.movies.push_back(std::move(m));
  }

  d.persons.reserve(static_cast<size_t>(n_persons));
  for (int64_t i = 1; i <= n_persons; ++i) {
    ImdbPerson p;
    p.id = i;
    p.first_name = Pick(kFirstNames, rng);
    p.last_name = Pick(kLastNames, rng);
    p.bio = Text(rng, 180 + rng.Below(40));
    p.image = "images/person/" + std::to_string(i) + ".jpg";
    d.persons.push_back(std::move(p));
  }

  d.users.reserve(static_cast<size_t>(n_users));
  for (int64_t i = 1; i <= n_users; ++i) {
    ImdbUser u;
    u.id = i;
    u.name = std::string(Pick(kFirstNames, rng)) + " " + Pick(kLastNames, rng);
    u.image = "images/user/" + std::to_string(i) + ".jpg";
    d.users.push_back(std::move(u));
  }

  // Directors and cast, movie by movie: distinct persons per list.
  const ZipfSampler director_zipf(static_cast<uint64_t>(n_persons), 50);
  const ZipfSampler actor_zipf(static_cast<uint64_t>(n_persons), 200);
  d.directors.reserve(static_cast<size_t>(n_movies) * 2);
  d.casts.reserve(static_cast<size_t>(n_movies) * 30);
  std::vector<int64_t> chosen;
  for (int64_t movie = 1; movie <= n_movies; ++movie) {
    const uint64_t n_directors = 1 + rng.Below(3);
    chosen.clear();
    while (chosen.size() < n_directors) {
      int64_t p = directors_by_rank[director_zipf.Sample(rng)];
      if (std::find(chosen.begin(), chosen.end(), p) == chosen.end()) chosen.push_back(p);
    }
    std::sort(chosen.begin(), chosen.end());
    for (int64_t p : chosen) d.directors.emplace_back(movie, p);

    const uint64_t n_cast = rng.Percent(20) ? 30 + rng.Below(71) : 10 + rng.Below(21);
    chosen.clear();
    while (chosen.size() < std::min<uint64_t>(n_cast, static_cast<uint64_t>(n_persons))) {
      int64_t p = d.persons_by_rank[actor_zipf.Sample(rng)];
      if (std::find(chosen.begin(), chosen.end(), p) == chosen.end()) chosen.push_back(p);
    }
    for (size_t k = 0; k < chosen.size(); ++k) {
      d.casts.push_back({static_cast<int64_t>(d.casts.size()) + 1, movie, chosen[k],
                         static_cast<int32_t>(k + 1)});
    }
  }

  // Reviews: movies and authors skewed.
  const ZipfSampler movie_zipf(static_cast<uint64_t>(n_movies), 10);
  const ZipfSampler user_zipf(static_cast<uint64_t>(n_users), 5);
  std::vector<int64_t> last_time(static_cast<size_t>(n_movies) + 1, -1);
  d.reviews.reserve(static_cast<size_t>(n_reviews));
  for (int64_t i = 1; i <= n_reviews; ++i) {
    ImdbReview r;
    r.id = i;
    r.movie = d.movies_by_rank[movie_zipf.Sample(rng)];
    r.author = d.users_by_rank[user_zipf.Sample(rng)];
    r.rating = static_cast<int32_t>(rng.Below(6));
    r.body = Text(rng, 270 + rng.Below(60));
    int64_t& last = last_time[static_cast<size_t>(r.movie)];
    r.creation_time = last >= 0 && rng.Percent(10) ? last : RandomTime(rng, k2023, 730);
    last = r.creation_time;
    d.reviews.push_back(std::move(r));
  }
  return d;
}

bool WriteImdbJsonl(const ImdbData& d, const std::string& dir, std::string* error) {
  std::string s;
  s.reserve(d.reviews.size() * 400);
  for (const ImdbMovie& m : d.movies) {
    s += "{\"id\":" + std::to_string(m.id);
    Field(&s, "title", m.title);
    Field(&s, "year", m.year);
    Field(&s, "description", m.description);
    Field(&s, "image", m.image);
    s += "}\n";
  }
  if (!WriteFile(dir + "/movies.jsonl", s, error)) return false;

  s.clear();
  for (const ImdbPerson& p : d.persons) {
    s += "{\"id\":" + std::to_string(p.id);
    Field(&s, "first_name", p.first_name);
    Field(&s, "last_name", p.last_name);
    Field(&s, "bio", p.bio);
    Field(&s, "image", p.image);
    s += "}\n";
  }
  if (!WriteFile(dir + "/persons.jsonl", s, error)) return false;

  s.clear();
  for (const ImdbUser& u : d.users) {
    s += "{\"id\":" + std::to_string(u.id);
    Field(&s, "name", u.name);
    Field(&s, "image", u.image);
    s += "}\n";
  }
  if (!WriteFile(dir + "/users.jsonl", s, error)) return false;

  s.clear();
  for (const auto& [movie, person] : d.directors) {
    s += "{\"from\":" + std::to_string(movie) + ",\"to\":" + std::to_string(person) + "}\n";
  }
  if (!WriteFile(dir + "/movie_directors.jsonl", s, error)) return false;

  s.clear();
  for (const ImdbCast& c : d.casts) {
    s += "{\"id\":" + std::to_string(c.id);
    Field(&s, "movie", c.movie);
    Field(&s, "person", c.person);
    Field(&s, "list_order", c.list_order);
    s += "}\n";
  }
  if (!WriteFile(dir + "/casts.jsonl", s, error)) return false;

  s.clear();
  for (const ImdbReview& r : d.reviews) {
    s += "{\"id\":" + std::to_string(r.id);
    Field(&s, "body", r.body);
    Field(&s, "rating", r.rating);
    Field(&s, "creation_time", FormatRfc3339(r.creation_time));
    Field(&s, "author", r.author);
    Field(&s, "movie", r.movie);
    s += "}\n";
  }
  return WriteFile(dir + "/reviews.jsonl", s, error);
}

bool ImportImdbJsonl(Database* db, const std::string& dir, const std::string& schema_path,
                     std::string* detail, std::string* error) {
  using Clock = std::chrono::steady_clock;
  std::ifstream schema_file(schema_path);
  if (!schema_file) {
    *error = "cannot read the schema " + schema_path;
    return false;
  }
  std::stringstream schema;
  schema << schema_file.rdbuf();
  auto applied = db->ApplySchema(schema.str());
  if (!applied.ok()) {
    *error = "schema " + schema_path + ": " + applied.status().ToString();
    return false;
  }
  detail->clear();
  for (const auto& [what, file] : kImdbImportFiles) {
    auto start = Clock::now();
    std::ifstream in(dir + "/" + file, std::ios::binary);
    if (!in) {
      *error = "cannot read " + dir + "/" + file;
      return false;
    }
    auto r = db->Import(what, in);
    if (!r.ok()) {
      *error = std::string("import ") + what + ": " + r.status().ToString();
      return false;
    }
    char part[96];
    std::snprintf(part, sizeof part, "%s%s %.2f s", detail->empty() ? "" : ", ", what,
                  std::chrono::duration<double>(Clock::now() - start).count());
    *detail += part;
  }
  return true;
}

const char* const kImdbSqliteSchema = R"(
CREATE TABLE movie (id INTEGER PRIMARY KEY, title TEXT NOT NULL, year INTEGER NOT NULL,
                    description TEXT NOT NULL, image TEXT NOT NULL);
CREATE TABLE person (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
                     bio TEXT NOT NULL, image TEXT NOT NULL);
CREATE TABLE user (id INTEGER PRIMARY KEY, name TEXT NOT NULL, image TEXT NOT NULL);
CREATE TABLE movie_directors (
  movie INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
  person INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
  PRIMARY KEY (movie, person)) WITHOUT ROWID;
CREATE INDEX movie_directors_person ON movie_directors(person, movie);
CREATE TABLE cast_member (id INTEGER PRIMARY KEY,
  movie INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE,
  person INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
  list_order INTEGER NOT NULL);
CREATE INDEX cast_member_movie_order ON cast_member(movie, list_order, person);
CREATE INDEX cast_member_person ON cast_member(person, movie);
CREATE TABLE review (id INTEGER PRIMARY KEY, body TEXT NOT NULL,
  rating INTEGER NOT NULL CHECK (rating >= 0 AND rating <= 5),
  creation_time INTEGER NOT NULL,
  author INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
  movie INTEGER NOT NULL REFERENCES movie(id) ON DELETE CASCADE);
CREATE INDEX review_movie_time ON review(movie, creation_time, rating);
CREATE INDEX review_author_time ON review(author, creation_time);
)";

bool LoadImdbSqlite(const ImdbData& d, sqlite3* db, std::string* error) {
  if (!Exec(db, "PRAGMA foreign_keys=ON", error) || !Exec(db, kImdbSqliteSchema, error) ||
      !Exec(db, "BEGIN", error)) {
    return false;
  }
  auto prepare = [&](const char* sql, sqlite3_stmt** stmt) {
    if (sqlite3_prepare_v2(db, sql, -1, stmt, nullptr) != SQLITE_OK) {
      *error = std::string("sqlite: ") + sqlite3_errmsg(db) + " in: " + sql;
      return false;
    }
    return true;
  };
  auto step = [&](sqlite3_stmt* stmt) {
    if (sqlite3_step(stmt) != SQLITE_DONE) {
      *error = std::string("sqlite insert: ") + sqlite3_errmsg(db);
      return false;
    }
    sqlite3_reset(stmt);
    return true;
  };
  auto text = [](sqlite3_stmt* stmt, int i, const std::string& s) {
    sqlite3_bind_text(stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
  };
  sqlite3_stmt *sm = nullptr, *sp = nullptr, *su = nullptr, *sd = nullptr, *sc = nullptr,
               *sr = nullptr;
  bool ok = prepare("INSERT INTO movie VALUES (?,?,?,?,?)", &sm) &&
            prepare("INSERT INTO person VALUES (?,?,?,?,?)", &sp) &&
            prepare("INSERT INTO user VALUES (?,?,?)", &su) &&
            prepare("INSERT INTO movie_directors VALUES (?,?)", &sd) &&
            prepare("INSERT INTO cast_member VALUES (?,?,?,?)", &sc) &&
            prepare("INSERT INTO review VALUES (?,?,?,?,?,?)", &sr);
  for (size_t i = 0; ok && i < d.movies.size(); ++i) {
    const ImdbMovie& m = d.movies[i];
    sqlite3_bind_int64(sm, 1, m.id);
    text(sm, 2, m.title);
    sqlite3_bind_int(sm, 3, m.year);
    text(sm, 4, m.description);
    text(sm, 5, m.image);
    ok = step(sm);
  }
  for (size_t i = 0; ok && i < d.persons.size(); ++i) {
    const ImdbPerson& p = d.persons[i];
    sqlite3_bind_int64(sp, 1, p.id);
    text(sp, 2, p.first_name);
    text(sp, 3, p.last_name);
    text(sp, 4, p.bio);
    text(sp, 5, p.image);
    ok = step(sp);
  }
  for (size_t i = 0; ok && i < d.users.size(); ++i) {
    const ImdbUser& u = d.users[i];
    sqlite3_bind_int64(su, 1, u.id);
    text(su, 2, u.name);
    text(su, 3, u.image);
    ok = step(su);
  }
  for (size_t i = 0; ok && i < d.directors.size(); ++i) {
    sqlite3_bind_int64(sd, 1, d.directors[i].first);
    sqlite3_bind_int64(sd, 2, d.directors[i].second);
    ok = step(sd);
  }
  for (size_t i = 0; ok && i < d.casts.size(); ++i) {
    const ImdbCast& c = d.casts[i];
    sqlite3_bind_int64(sc, 1, c.id);
    sqlite3_bind_int64(sc, 2, c.movie);
    sqlite3_bind_int64(sc, 3, c.person);
    sqlite3_bind_int(sc, 4, c.list_order);
    ok = step(sc);
  }
  for (size_t i = 0; ok && i < d.reviews.size(); ++i) {
    const ImdbReview& r = d.reviews[i];
    sqlite3_bind_int64(sr, 1, r.id);
    text(sr, 2, r.body);
    sqlite3_bind_int(sr, 3, r.rating);
    sqlite3_bind_int64(sr, 4, r.creation_time);
    sqlite3_bind_int64(sr, 5, r.author);
    sqlite3_bind_int64(sr, 6, r.movie);
    ok = step(sr);
  }
  for (sqlite3_stmt* s : {sm, sp, su, sd, sc, sr}) sqlite3_finalize(s);
  if (!ok) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return false;
  }
  return Exec(db, "COMMIT", error) && Exec(db, "ANALYZE", error);
}

}  // namespace ormdb::bench
