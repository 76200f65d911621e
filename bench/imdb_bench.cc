// imdb_bench: the page fetches of the public imdbench benchmark (a movie
// page, a person page, a user page) on a generated movie database
// (bench/imdb_data, schema bench/imdb.ormdb), through the embedded
// Database::Fetch, against SQLite answering the same questions the two ways
// an ORM does, in the same run. One Fetch per page:
//
//   movie_page   Movie(where: id == $m) { title, year, description, image,
//                directors(order: [last_name, first_name]) { first_name,
//                last_name, image }, cast(order: list_order) { list_order,
//                person { first_name, last_name, image } },
//                reviews(order: creation_time desc, limit: 20) { body,
//                rating, creation_time, author { name, image } } }
//   person_page  Person(where: id == $p) { first_name, last_name, bio, image,
//                acted_in(order: [movie.year, movie.title]) { movie { title,
//                year, image } }, directed(order: [year, title]) { title,
//                year, image } }
//   user_page    User(where: id == $u) { name, image,
//                reviews(order: creation_time desc, limit: 10) { body,
//                rating, creation_time, movie { title, image } } }
//
// and each again with imdbench's average ratings, an aggregate over all of
// a movie's reviews (not only the ones shown):
//
//   movie_page_avg   movie_page with `avg_rating: avg(reviews.rating)` after
//                    the movie's image
//   person_page_avg  person_page with `avg_rating: avg(reviews.rating)` on
//                    every film (acted_in's movie and directed)
//   user_page_avg    user_page with `avg_rating: avg(reviews.rating)` on each
//                    review's movie
//
// An *_avg page times the same parameters as its plain page, so the
// difference between the two is the cost of the averages. imdbench's movie
// page lists every review; here it shows the newest 20 (with
// "reviews@next" saying whether more remain), the page a site would serve.
//
// Strategies, each timed per page:
//   ormdb_fetch        Database::Fetch (the result blocks)
//   ormdb_fetch_json   Database::Fetch + FetchResult::ToJson()
//   sqlite_per_level   one prepared statement per include level with IN (...)
//                      batches (padded to a power of two), the tree assembled
//                      in C++ structs; to-one rows needed only for an order
//                      (a person's films by year) are joined in the same
//                      statement, as an ORM's select_related does; the
//                      limited reviews either per parent (`WHERE movie = ?
//                      ORDER BY .. LIMIT n+1`) or with ROW_NUMBER() over the
//                      batch, whichever was faster in this run; the averages
//                      by one more statement over the page's movie ids,
//                      `SELECT movie, avg(rating) FROM review WHERE movie IN
//                      (...) GROUP BY movie`
//   sqlite_json        one statement building the whole page as JSON with
//                      json_object / json_group_array and correlated
//                      subqueries; an average is `(SELECT avg(rating) FROM
//                      review WHERE movie = m.id)` in each movie object
//
// Before timing, every strategy's result is rendered as a canonical JSON tree
// (bench/json_canonical.h) and compared with ormdb's ToJson() "data" for the
// timed parameters and ORMDB_BENCH_EXTRA_CHECKS more per page; any
// difference stops the run. Integers and strings must match exactly; the
// averages (float64s, which ormdb prints shortest-round-trip and SQLite's
// JSON functions to 15 digits) must match within a relative 1e-12. Each
// iteration is one page, timed alone; the parameters cycle over 64 fixed
// pseudo-random ids (a quarter from the top 1% by size, a quarter from the
// top 10%, half uniform). The console output
// ends with p50 / p95 per page and strategy, the ratio of ormdb's p50 to the
// better SQLite strategy's, and the load: ormdb's Database::Import of the
// JSONL files against SQLite's bulk load, time and size.
//
// Environment: ORMDB_BENCH_SCALE (default 1; 0.1 for a quick run),
// ORMDB_BENCH_DIR (default /tmp: a fresh directory holding the ormdb data
// directory and the SQLite database, loaded every run so both load times
// are measured; removed at exit unless ORMDB_BENCH_KEEP=1),
// ORMDB_BENCH_CACHE (default /tmp/ormdb_imdb_bench_cache: the generated
// JSONL files, reused by scale), ORMDB_BENCH_EXTRA_CHECKS (default 32),
// ORMDB_BENCH_PARAMS_OUT (a directory: each page's timed parameters are
// written to <page>.ids there, for fetch_loop on a kept data directory).
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
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
#include "bench/blog_data.h"
#include "bench/blog_queries.h"  // VariedIds
#include "bench/imdb_data.h"
#include "bench/imdb_pages.h"
#include "bench/json_canonical.h"
#include "bench/sqlite_conn.h"
#include "bench/timing.h"
#include "ormdb/database.h"

#ifndef ORMDB_IMDB_SCHEMA
#define ORMDB_IMDB_SCHEMA "bench/imdb.ormdb"
#endif

namespace ormdb::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr size_t kParamsPerPage = 64;  // the timed parameter list
size_t g_extra_checks = 32;            // parameters checked but not timed, per page

std::string g_work_dir;  // the fresh directory of this run
bool g_keep = false;

void Cleanup() {
  if (!g_work_dir.empty() && !g_keep) {
    std::error_code ec;
    fs::remove_all(g_work_dir, ec);
  }
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "imdb_bench: %s\n", message.c_str());
  Cleanup();
  std::exit(1);
}

std::string Canonical(std::string_view json, const char* what) {
  std::string out;
  Canonicalizer c(json);
  if (!c.Document(&out)) Die(std::string("bad JSON from ") + what + ": " + c.error());
  return out;
}

// ---------------------------------------------------------------- SQLite

// Sorted distinct ids.
std::vector<int64_t> Distinct(std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// ----------------------------------------------------- the result trees

struct PersonRef {
  int64_t id = 0;
  std::string first_name, last_name, image;
};

struct UserRef {
  int64_t id = 0;
  std::string name, image;
};

struct MovieRef {
  int64_t id = 0;
  std::string title;
  int64_t year = 0;
  std::string image;
  std::optional<double> avg_rating;  // on the *_avg pages; none: no reviews
};

struct CastNode {
  int64_t id = 0;
  int64_t list_order = 0;
  int64_t person_id = 0;
  std::optional<PersonRef> person;
};

struct ReviewNode {
  int64_t id = 0;
  std::string body;
  int64_t rating = 0;
  int64_t creation_time = 0;
  int64_t author_id = 0;
  int64_t movie_id = 0;
  std::optional<UserRef> author;  // on the movie page
  std::optional<MovieRef> movie;  // on the user page
};

struct MoviePage {
  int64_t id = 0;
  std::string title;
  int64_t year = 0;
  std::string description, image;
  std::optional<double> avg_rating;  // on movie_page_avg; none: no reviews
  std::vector<PersonRef> directors;
  std::vector<CastNode> cast;
  std::vector<ReviewNode> reviews;
  bool reviews_more = false;
};

struct ActedNode {
  int64_t id = 0;  // the Cast row
  MovieRef movie;
};

struct PersonPage {
  int64_t id = 0;
  std::string first_name, last_name, bio, image;
  std::vector<ActedNode> acted_in;
  std::vector<MovieRef> directed;
};

struct UserPage {
  int64_t id = 0;
  std::string name, image;
  std::vector<ReviewNode> reviews;
  bool reviews_more = false;
};

// What the per-level strategy builds: the roots of one page kind.
struct Tree {
  bool avg_rating = false;  // every movie on the page carries its average rating
  std::vector<MoviePage> movies;
  std::vector<PersonPage> persons;
  std::vector<UserPage> users;
};

// How a limited to-many include (the reviews) is read.
enum class Form { kPerParent, kWindow };

const char* FormName(Form f) { return f == Form::kPerParent ? "per-parent LIMIT" : "window"; }

// --------------------------------------------- SQLite: one query per level

constexpr const char* kSqlMovie =
    "SELECT id, title, year, description, image FROM movie WHERE id = ?1";
constexpr const char* kSqlPerson =
    "SELECT id, first_name, last_name, bio, image FROM person WHERE id = ?1";
constexpr const char* kSqlUser = "SELECT id, name, image FROM user WHERE id = ?1";
constexpr const char* kSqlDirectorsOfMovies =
    "SELECT md.movie, p.id, p.first_name, p.last_name, p.image FROM movie_directors md"
    " JOIN person p ON p.id = md.person WHERE md.movie IN (@IN)"
    " ORDER BY md.movie, p.last_name, p.first_name, p.id";
constexpr const char* kSqlCastOfMovies =
    "SELECT movie, id, list_order, person FROM cast_member WHERE movie IN (@IN)"
    " ORDER BY movie, list_order, id";
constexpr const char* kSqlPersonsIn =
    "SELECT id, first_name, last_name, image FROM person WHERE id IN (@IN)";
constexpr const char* kSqlUsersIn = "SELECT id, name, image FROM user WHERE id IN (@IN)";
constexpr const char* kSqlMoviesIn = "SELECT id, title, year, image FROM movie WHERE id IN (@IN)";
// The reviews of one movie or one user, newest first.
constexpr const char* kSqlMovieReviewsOne =
    "SELECT id, body, rating, creation_time, author, movie FROM review WHERE movie = ?1"
    " ORDER BY creation_time DESC, id LIMIT ?2";
constexpr const char* kSqlUserReviewsOne =
    "SELECT id, body, rating, creation_time, author, movie FROM review WHERE author = ?1"
    " ORDER BY creation_time DESC, id LIMIT ?2";
// The same for a batch of parents: (parent, review columns...).
constexpr const char* kSqlMovieReviewsWindow =
    "SELECT movie, id, body, rating, creation_time, author, movie FROM (SELECT id, body, rating,"
    " creation_time, author, movie, ROW_NUMBER() OVER (PARTITION BY movie"
    " ORDER BY creation_time DESC, id) AS rn FROM review WHERE movie IN (@IN))"
    " WHERE rn <= ? ORDER BY movie, rn";
constexpr const char* kSqlUserReviewsWindow =
    "SELECT author, id, body, rating, creation_time, author, movie FROM (SELECT id, body, rating,"
    " creation_time, author, movie, ROW_NUMBER() OVER (PARTITION BY author"
    " ORDER BY creation_time DESC, id) AS rn FROM review WHERE author IN (@IN))"
    " WHERE rn <= ? ORDER BY author, rn";
// A person's films: the Cast rows with their movies joined for the order.
constexpr const char* kSqlActedInOfPersons =
    "SELECT c.person, c.id, m.id, m.title, m.year, m.image FROM cast_member c"
    " JOIN movie m ON m.id = c.movie WHERE c.person IN (@IN)"
    " ORDER BY c.person, m.year, m.title, c.id";
constexpr const char* kSqlDirectedOfPersons =
    "SELECT md.person, m.id, m.title, m.year, m.image FROM movie_directors md"
    " JOIN movie m ON m.id = md.movie WHERE md.person IN (@IN)"
    " ORDER BY md.person, m.year, m.title, m.id";
// The average rating of a batch of movies; a movie without reviews has no row.
constexpr const char* kSqlAvgRatingOfMovies =
    "SELECT movie, avg(rating) FROM review WHERE movie IN (@IN) GROUP BY movie";

// Index of rows by id: (id, position) sorted, for attaching children to
// their parents.
template <class T>
class ById {
 public:
  explicit ById(std::vector<T>* rows) : rows_(rows) {
    for (size_t i = 0; i < rows->size(); ++i) index_.emplace_back((*rows)[i].id, i);
    std::sort(index_.begin(), index_.end());
  }
  std::vector<int64_t> Ids() const {
    std::vector<int64_t> ids;
    for (const auto& [id, i] : index_) {
      if (ids.empty() || ids.back() != id) ids.push_back(id);
    }
    return ids;
  }
  template <class F>
  void ForEach(int64_t id, F&& f) {
    auto it = std::lower_bound(index_.begin(), index_.end(), std::make_pair(id, size_t{0}));
    for (; it != index_.end() && it->first == id; ++it) f(&(*rows_)[it->second]);
  }

 private:
  std::vector<T>* rows_;
  std::vector<std::pair<int64_t, size_t>> index_;
};

template <class T>
std::optional<T> Find(const std::vector<T>& sorted, int64_t id) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), id,
                             [](const T& r, int64_t v) { return r.id < v; });
  if (it == sorted.end() || it->id != id) return std::nullopt;
  return *it;
}

class PerLevel {
 public:
  explicit PerLevel(Sqlite& db) : db_(db) {}

  // The page of `param`; with `avg_rating`, each movie on it carries its
  // average rating (one more statement, over all the page's movies).
  Tree Run(PageKind kind, int64_t param, Form form, bool avg_rating) {
    Tree t;
    t.avg_rating = avg_rating;
    switch (kind) {
      case PageKind::kMovie: {
        sqlite3_stmt* s = db_.Prepare(kSqlMovie);
        sqlite3_bind_int64(s, 1, param);
        Rows(db_, s, [&](sqlite3_stmt* r) {
          MoviePage m;
          m.id = Int(r, 0);
          m.title = Text(r, 1);
          m.year = Int(r, 2);
          m.description = Text(r, 3);
          m.image = Text(r, 4);
          t.movies.push_back(std::move(m));
        });
        if (t.movies.empty()) return t;
        LoadDirectors(&t.movies);
        LoadCast(&t.movies);
        LoadMovieReviews(&t.movies, form);
        if (avg_rating) {
          std::vector<int64_t> ids;
          for (const MoviePage& m : t.movies) ids.push_back(m.id);
          AvgRatings ratings = LoadAvgRatings(std::move(ids));
          for (MoviePage& m : t.movies) m.avg_rating = ratings.Of(m.id);
        }
        return t;
      }
      case PageKind::kPerson: {
        sqlite3_stmt* s = db_.Prepare(kSqlPerson);
        sqlite3_bind_int64(s, 1, param);
        Rows(db_, s, [&](sqlite3_stmt* r) {
          PersonPage p;
          p.id = Int(r, 0);
          p.first_name = Text(r, 1);
          p.last_name = Text(r, 2);
          p.bio = Text(r, 3);
          p.image = Text(r, 4);
          t.persons.push_back(std::move(p));
        });
        if (t.persons.empty()) return t;
        LoadFilmography(&t.persons);
        if (avg_rating) {
          std::vector<int64_t> ids;
          for (const PersonPage& p : t.persons) {
            for (const ActedNode& a : p.acted_in) ids.push_back(a.movie.id);
            for (const MovieRef& m : p.directed) ids.push_back(m.id);
          }
          AvgRatings ratings = LoadAvgRatings(std::move(ids));
          for (PersonPage& p : t.persons) {
            for (ActedNode& a : p.acted_in) a.movie.avg_rating = ratings.Of(a.movie.id);
            for (MovieRef& m : p.directed) m.avg_rating = ratings.Of(m.id);
          }
        }
        return t;
      }
      case PageKind::kUser: {
        sqlite3_stmt* s = db_.Prepare(kSqlUser);
        sqlite3_bind_int64(s, 1, param);
        Rows(db_, s, [&](sqlite3_stmt* r) {
          UserPage u;
          u.id = Int(r, 0);
          u.name = Text(r, 1);
          u.image = Text(r, 2);
          t.users.push_back(std::move(u));
        });
        if (t.users.empty()) return t;
        LoadUserReviews(&t.users, form);
        if (avg_rating) {
          std::vector<int64_t> ids;
          for (const UserPage& u : t.users) {
            for (const ReviewNode& r : u.reviews) {
              if (r.movie) ids.push_back(r.movie->id);
            }
          }
          AvgRatings ratings = LoadAvgRatings(std::move(ids));
          for (UserPage& u : t.users) {
            for (ReviewNode& r : u.reviews) {
              if (r.movie) r.movie->avg_rating = ratings.Of(r.movie->id);
            }
          }
        }
        return t;
      }
    }
    return t;
  }

 private:
  // (movie, average rating) sorted by movie, for the movies that have reviews.
  struct AvgRatings {
    std::vector<std::pair<int64_t, double>> by_movie;
    std::optional<double> Of(int64_t movie) const {
      auto it = std::lower_bound(by_movie.begin(), by_movie.end(), movie,
                                 [](const auto& e, int64_t v) { return e.first < v; });
      if (it == by_movie.end() || it->first != movie) return std::nullopt;
      return it->second;
    }
  };

  AvgRatings LoadAvgRatings(std::vector<int64_t> movie_ids) {
    AvgRatings out;
    movie_ids = Distinct(std::move(movie_ids));
    if (movie_ids.empty()) return out;
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(kSqlAvgRatingOfMovies, movie_ids.size(), &padded);
    BindIn(s, movie_ids, padded);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      out.by_movie.emplace_back(Int(r, 0), sqlite3_column_double(r, 1));
    });
    std::sort(out.by_movie.begin(), out.by_movie.end());
    return out;
  }

  // A movie's (id, title, year, image) from columns col..col+3; its average
  // rating, if the page shows one, comes from LoadAvgRatings.
  static MovieRef ReadMovie(sqlite3_stmt* r, int col) {
    MovieRef m;
    m.id = Int(r, col);
    m.title = Text(r, col + 1);
    m.year = Int(r, col + 2);
    m.image = Text(r, col + 3);
    return m;
  }

  static ReviewNode ReadReview(sqlite3_stmt* r, int col) {
    ReviewNode v;
    v.id = Int(r, col);
    v.body = Text(r, col + 1);
    v.rating = Int(r, col + 2);
    v.creation_time = Int(r, col + 3);
    v.author_id = Int(r, col + 4);
    v.movie_id = Int(r, col + 5);
    return v;
  }

  void LoadDirectors(std::vector<MoviePage>* movies) {
    ById<MoviePage> by_id(movies);
    std::vector<int64_t> ids = by_id.Ids();
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(kSqlDirectorsOfMovies, ids.size(), &padded);
    BindIn(s, ids, padded);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      by_id.ForEach(Int(r, 0), [&](MoviePage* m) {
        m->directors.push_back({Int(r, 1), Text(r, 2), Text(r, 3), Text(r, 4)});
      });
    });
  }

  void LoadCast(std::vector<MoviePage>* movies) {
    ById<MoviePage> by_id(movies);
    std::vector<int64_t> ids = by_id.Ids();
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(kSqlCastOfMovies, ids.size(), &padded);
    BindIn(s, ids, padded);
    std::vector<int64_t> person_ids;
    Rows(db_, s, [&](sqlite3_stmt* r) {
      by_id.ForEach(Int(r, 0), [&](MoviePage* m) {
        CastNode c;
        c.id = Int(r, 1);
        c.list_order = Int(r, 2);
        c.person_id = Int(r, 3);
        person_ids.push_back(c.person_id);
        m->cast.push_back(std::move(c));
      });
    });
    person_ids = Distinct(std::move(person_ids));
    if (person_ids.empty()) return;
    std::vector<PersonRef> persons;
    s = db_.PrepareIn(kSqlPersonsIn, person_ids.size(), &padded);
    BindIn(s, person_ids, padded);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      persons.push_back({Int(r, 0), Text(r, 1), Text(r, 2), Text(r, 3)});
    });
    std::sort(persons.begin(), persons.end(),
              [](const PersonRef& a, const PersonRef& b) { return a.id < b.id; });
    for (MoviePage& m : *movies) {
      for (CastNode& c : m.cast) c.person = Find(persons, c.person_id);
    }
  }

  // The newest reviews of each parent (movies by movie, users by author):
  // `limit` each, and whether more remain.
  template <class Parent>
  void LoadReviews(std::vector<Parent>* parents, const char* one_sql, const char* window_sql,
                   size_t limit, Form form) {
    if (form == Form::kPerParent) {
      sqlite3_stmt* s = db_.Prepare(one_sql);
      for (Parent& p : *parents) {
        sqlite3_bind_int64(s, 1, p.id);
        sqlite3_bind_int64(s, 2, static_cast<int64_t>(limit) + 1);
        Rows(db_, s, [&](sqlite3_stmt* r) {
          if (p.reviews.size() < limit) {
            p.reviews.push_back(ReadReview(r, 0));
          } else {
            p.reviews_more = true;
          }
        });
      }
      return;
    }
    ById<Parent> by_id(parents);
    std::vector<int64_t> ids = by_id.Ids();
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(window_sql, ids.size(), &padded);
    BindIn(s, ids, padded);
    sqlite3_bind_int64(s, static_cast<int>(padded + 1), static_cast<int64_t>(limit) + 1);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      by_id.ForEach(Int(r, 0), [&](Parent* p) {
        if (p->reviews.size() < limit) {
          p->reviews.push_back(ReadReview(r, 1));
        } else {
          p->reviews_more = true;
        }
      });
    });
  }

  void LoadMovieReviews(std::vector<MoviePage>* movies, Form form) {
    LoadReviews(movies, kSqlMovieReviewsOne, kSqlMovieReviewsWindow, kMovieReviews, form);
    std::vector<int64_t> ids;
    for (const MoviePage& m : *movies) {
      for (const ReviewNode& r : m.reviews) ids.push_back(r.author_id);
    }
    ids = Distinct(std::move(ids));
    if (ids.empty()) return;
    std::vector<UserRef> users;
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(kSqlUsersIn, ids.size(), &padded);
    BindIn(s, ids, padded);
    Rows(db_, s, [&](sqlite3_stmt* r) { users.push_back({Int(r, 0), Text(r, 1), Text(r, 2)}); });
    std::sort(users.begin(), users.end(),
              [](const UserRef& a, const UserRef& b) { return a.id < b.id; });
    for (MoviePage& m : *movies) {
      for (ReviewNode& r : m.reviews) r.author = Find(users, r.author_id);
    }
  }

  void LoadUserReviews(std::vector<UserPage>* users, Form form) {
    LoadReviews(users, kSqlUserReviewsOne, kSqlUserReviewsWindow, kUserReviews, form);
    std::vector<int64_t> ids;
    for (const UserPage& u : *users) {
      for (const ReviewNode& r : u.reviews) ids.push_back(r.movie_id);
    }
    ids = Distinct(std::move(ids));
    if (ids.empty()) return;
    std::vector<MovieRef> movies;
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(kSqlMoviesIn, ids.size(), &padded);
    BindIn(s, ids, padded);
    Rows(db_, s, [&](sqlite3_stmt* r) { movies.push_back(ReadMovie(r, 0)); });
    std::sort(movies.begin(), movies.end(),
              [](const MovieRef& a, const MovieRef& b) { return a.id < b.id; });
    for (UserPage& u : *users) {
      for (ReviewNode& r : u.reviews) r.movie = Find(movies, r.movie_id);
    }
  }

  void LoadFilmography(std::vector<PersonPage>* persons) {
    ById<PersonPage> by_id(persons);
    std::vector<int64_t> ids = by_id.Ids();
    size_t padded;
    sqlite3_stmt* s = db_.PrepareIn(kSqlActedInOfPersons, ids.size(), &padded);
    BindIn(s, ids, padded);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      by_id.ForEach(Int(r, 0), [&](PersonPage* p) {
        p->acted_in.push_back({Int(r, 1), ReadMovie(r, 2)});
      });
    });
    s = db_.PrepareIn(kSqlDirectedOfPersons, ids.size(), &padded);
    BindIn(s, ids, padded);
    Rows(db_, s, [&](sqlite3_stmt* r) {
      by_id.ForEach(Int(r, 0), [&](PersonPage* p) { p->directed.push_back(ReadMovie(r, 1)); });
    });
  }

  Sqlite& db_;
};

// The per-level tree as ormdb renders "data" (docs/reference/json.md): id
// first, then the selection in order; "<relation>@next" after a limited
// include; on the *_avg pages "avg_rating" after a movie's image.
class Renderer {
 public:
  std::string Render(PageKind kind, const Tree& t) {
    avg_rating_ = t.avg_rating;
    o_ = "[";
    switch (kind) {
      case PageKind::kMovie:
        for (size_t i = 0; i < t.movies.size(); ++i) {
          if (i) o_ += ',';
          Movie(t.movies[i]);
        }
        break;
      case PageKind::kPerson:
        for (size_t i = 0; i < t.persons.size(); ++i) {
          if (i) o_ += ',';
          Person(t.persons[i]);
        }
        break;
      case PageKind::kUser:
        for (size_t i = 0; i < t.users.size(); ++i) {
          if (i) o_ += ',';
          User(t.users[i]);
        }
        break;
    }
    o_ += ']';
    return std::move(o_);
  }

 private:
  void Id(int64_t id) { o_ += "{\"id\":" + std::to_string(id); }
  void Str(const char* name, const std::string& v) {
    o_ += ",\"";
    o_ += name;
    o_ += "\":";
    AppendJsonString(&o_, v);
  }
  void Num(const char* name, int64_t v) {
    o_ += ",\"";
    o_ += name;
    o_ += "\":" + std::to_string(v);
  }
  void Key(const char* name) {
    o_ += ",\"";
    o_ += name;
    o_ += "\":";
  }
  void Next(const char* name, bool more) {
    Key(name);
    o_ += more ? "true" : "null";
  }
  // A float64 as ormdb prints one (shortest round trip, "4.0" not "4"); null
  // for the average of no rows. Only on the pages that ask for averages.
  void AvgRating(const std::optional<double>& v) {
    if (!avg_rating_) return;
    Key("avg_rating");
    if (!v) {
      o_ += "null";
      return;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *v);
    std::string_view text(buf, static_cast<size_t>(end - buf));
    o_ += text;
    if (text.find_first_of(".e") == std::string_view::npos) o_ += ".0";
  }
  template <class T, class F>
  void List(const char* name, const std::vector<T>& items, F&& each) {
    Key(name);
    o_ += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) o_ += ',';
      each(items[i]);
    }
    o_ += ']';
  }
  void PersonRefObj(const std::optional<PersonRef>& p) {
    if (!p) {
      o_ += "null";
      return;
    }
    Id(p->id);
    Str("first_name", p->first_name);
    Str("last_name", p->last_name);
    Str("image", p->image);
    o_ += '}';
  }

  void Movie(const MoviePage& m) {
    Id(m.id);
    Str("title", m.title);
    Num("year", m.year);
    Str("description", m.description);
    Str("image", m.image);
    AvgRating(m.avg_rating);
    List("directors", m.directors, [&](const PersonRef& p) { PersonRefObj(p); });
    List("cast", m.cast, [&](const CastNode& c) {
      Id(c.id);
      Num("list_order", c.list_order);
      Key("person");
      PersonRefObj(c.person);
      o_ += '}';
    });
    List("reviews", m.reviews, [&](const ReviewNode& r) {
      Id(r.id);
      Str("body", r.body);
      Num("rating", r.rating);
      Str("creation_time", FormatRfc3339(r.creation_time));
      Key("author");
      if (r.author) {
        Id(r.author->id);
        Str("name", r.author->name);
        Str("image", r.author->image);
        o_ += '}';
      } else {
        o_ += "null";
      }
      o_ += '}';
    });
    Next("reviews@next", m.reviews_more);
    o_ += '}';
  }

  void Person(const PersonPage& p) {
    Id(p.id);
    Str("first_name", p.first_name);
    Str("last_name", p.last_name);
    Str("bio", p.bio);
    Str("image", p.image);
    auto movie = [&](const MovieRef& m) {
      Id(m.id);
      Str("title", m.title);
      Num("year", m.year);
      Str("image", m.image);
      AvgRating(m.avg_rating);
      o_ += '}';
    };
    List("acted_in", p.acted_in, [&](const ActedNode& a) {
      Id(a.id);
      Key("movie");
      movie(a.movie);
      o_ += '}';
    });
    List("directed", p.directed, movie);
    o_ += '}';
  }

  void User(const UserPage& u) {
    Id(u.id);
    Str("name", u.name);
    Str("image", u.image);
    List("reviews", u.reviews, [&](const ReviewNode& r) {
      Id(r.id);
      Str("body", r.body);
      Num("rating", r.rating);
      Str("creation_time", FormatRfc3339(r.creation_time));
      Key("movie");
      if (r.movie) {
        Id(r.movie->id);
        Str("title", r.movie->title);
        Str("image", r.movie->image);
        AvgRating(r.movie->avg_rating);
        o_ += '}';
      } else {
        o_ += "null";
      }
      o_ += '}';
    });
    Next("reviews@next", u.reviews_more);
    o_ += '}';
  }

  bool avg_rating_ = false;
  std::string o_;
};

std::string RenderTree(PageKind kind, const Tree& t) { return Renderer().Render(kind, t); }

// ------------------------------------------------ SQLite: one JSON statement

// "CASE WHEN <more than n rows of `from_where`> THEN true END": the @next of
// a limited include, counting at most n + 1 index entries.
std::string MoreThan(const std::string& from_where, size_t n) {
  return "CASE WHEN (SELECT count(*) FROM (SELECT 1 " + from_where + " LIMIT " +
         std::to_string(n + 1) + ")) > " + std::to_string(n) + " THEN json('true') END";
}

// The page of kind `kind` as one JSON statement; with `avg_rating`, each
// movie object gets "avg_rating" by a correlated avg() over its reviews.
std::string JsonSql(PageKind kind, bool avg_rating) {
  // ", 'avg_rating', <average of movie `movie_id`>" or nothing.
  auto avg = [avg_rating](const char* movie_id) -> std::string {
    if (!avg_rating) return "";
    return std::string(", 'avg_rating', (SELECT avg(rating) FROM review WHERE movie = ") +
           movie_id + ")";
  };
  const std::string person_obj =
      "json_object('id', p.id, 'first_name', p.first_name, 'last_name', p.last_name,"
      " 'image', p.image)";
  switch (kind) {
    case PageKind::kMovie:
      return "SELECT json_group_array(json_object('id', m.id, 'title', m.title, 'year', m.year,"
             " 'description', m.description, 'image', m.image" +
             avg("m.id") + ", 'directors', (SELECT json_group_array(" + person_obj +
             ") FROM (SELECT p.id AS id, p.first_name AS first_name, p.last_name AS last_name,"
             " p.image AS image FROM movie_directors md JOIN person p ON p.id = md.person"
             " WHERE md.movie = m.id ORDER BY p.last_name, p.first_name, p.id) p),"
             " 'cast', (SELECT json_group_array(json_object('id', c.id, 'list_order',"
             " c.list_order, 'person', (SELECT " +
             person_obj +
             " FROM person p WHERE p.id = c.person))) FROM (SELECT id, list_order, person"
             " FROM cast_member WHERE movie = m.id ORDER BY list_order, id) c),"
             " 'reviews', (SELECT json_group_array(json_object('id', r.id, 'body', r.body,"
             " 'rating', r.rating, 'creation_time', rfc3339(r.creation_time), 'author',"
             " (SELECT json_object('id', a.id, 'name', a.name, 'image', a.image) FROM user a"
             " WHERE a.id = r.author))) FROM (SELECT id, body, rating, creation_time, author"
             " FROM review WHERE movie = m.id ORDER BY creation_time DESC, id LIMIT " +
             std::to_string(kMovieReviews) + ") r), 'reviews@next', " +
             MoreThan("FROM review WHERE movie = m.id", kMovieReviews) +
             ")) FROM movie m WHERE m.id = ?1";
    case PageKind::kPerson:
      return "SELECT json_group_array(json_object('id', p.id, 'first_name', p.first_name,"
             " 'last_name', p.last_name, 'bio', p.bio, 'image', p.image,"
             " 'acted_in', (SELECT json_group_array(json_object('id', a.cid, 'movie',"
             " json_object('id', a.mid, 'title', a.title, 'year', a.year, 'image', a.image" +
             avg("a.mid") +
             "))) FROM (SELECT c.id AS cid, m.id AS mid, m.title AS title, m.year AS year,"
             " m.image AS image FROM cast_member c JOIN movie m ON m.id = c.movie"
             " WHERE c.person = p.id ORDER BY m.year, m.title, c.id) a),"
             " 'directed', (SELECT json_group_array(json_object('id', d.id, 'title', d.title,"
             " 'year', d.year, 'image', d.image" +
             avg("d.id") +
             ")) FROM (SELECT m.id AS id, m.title AS title, m.year AS year, m.image AS image"
             " FROM movie_directors md JOIN movie m ON m.id = md.movie WHERE md.person = p.id"
             " ORDER BY m.year, m.title, m.id) d))) FROM person p WHERE p.id = ?1";
    case PageKind::kUser:
      return "SELECT json_group_array(json_object('id', u.id, 'name', u.name, 'image', u.image,"
             " 'reviews', (SELECT json_group_array(json_object('id', r.id, 'body', r.body,"
             " 'rating', r.rating, 'creation_time', rfc3339(r.creation_time), 'movie',"
             " (SELECT json_object('id', m.id, 'title', m.title, 'image', m.image" +
             avg("m.id") +
             ") FROM movie m WHERE m.id = r.movie)))"
             " FROM (SELECT id, body, rating, creation_time, movie FROM review WHERE author = u.id"
             " ORDER BY creation_time DESC, id LIMIT " +
             std::to_string(kUserReviews) + ") r), 'reviews@next', " +
             MoreThan("FROM review WHERE author = u.id", kUserReviews) +
             ")) FROM user u WHERE u.id = ?1";
  }
  return "";
}

class JsonStrategy {
 public:
  explicit JsonStrategy(Sqlite& db) : db_(db) {
    for (PageKind k : {PageKind::kMovie, PageKind::kPerson, PageKind::kUser}) {
      for (bool avg_rating : {false, true}) {
        int i = Index(k, avg_rating);
        sql_[i] = JsonSql(k, avg_rating);
        stmt_[i] = db_.Prepare(sql_[i].c_str());
      }
    }
  }

  std::string Run(PageKind kind, int64_t param, bool avg_rating) {
    sqlite3_stmt* s = stmt_[Index(kind, avg_rating)];
    sqlite3_bind_int64(s, 1, param);
    std::string out;
    Rows(db_, s, [&](sqlite3_stmt* r) { out = Text(r, 0); });
    return out;
  }

 private:
  static int Index(PageKind kind, bool avg_rating) {
    return static_cast<int>(kind) * 2 + (avg_rating ? 1 : 0);
  }

  Sqlite& db_;
  std::string sql_[6];
  sqlite3_stmt* stmt_[6] = {};
};

// ------------------------------------------------------------- the pages

// The pages (bench/imdb_pages.h), each one Fetch. SQLite adds the averages
// of the *_avg pages per level as one `GROUP BY movie` statement over the
// page's movie ids, in JSON as a correlated `(SELECT avg(rating) ...)` per
// movie object. Averages are float64s that the two sides print their own
// way, so they are compared numerically (CanonicalDifference).
constexpr const auto& kPages = kImdbPages;

struct Query {
  const PageSpec* spec;
  std::vector<int64_t> params;        // timed, cycled
  std::vector<int64_t> check_params;  // compared before timing (params + extra)
  std::vector<std::string> params_json;
  Form form = Form::kPerParent;  // the per-level form timed
};

// ------------------------------------------------------------- the state

using Stat = LatencyStat;

struct Bench {
  double scale = 1;
  ImdbData data;
  std::unique_ptr<Sqlite> sqlite;
  std::unique_ptr<PerLevel> per_level;
  std::unique_ptr<JsonStrategy> json;
  std::unique_ptr<Database> db;
  std::vector<Query> queries;
  std::map<std::string, Stat> stats;  // "page/strategy"
  // Every iteration's time per "page/strategy", across repetitions.
  std::map<std::string, LatencySamples> samples;
  std::vector<std::pair<std::string, std::string>> context;
  double sqlite_load_s = 0, ormdb_load_s = 0;
  uint64_t sqlite_bytes = 0, ormdb_bytes = 0, jsonl_bytes = 0;
};

Bench* g = nullptr;

void Note(const std::string& key, const std::string& value) {
  std::fprintf(stderr, "  %-30s %s\n", key.c_str(), value.c_str());
  g->context.emplace_back(key, value);
}

// The generated JSONL files of this scale, written once and reused.
std::string PrepareCache() {
  char key[64];
  std::snprintf(key, sizeof key, "/scale-%s-v%d", ScaleText(g->scale).c_str(), kImdbDataVersion);
  const std::string dir = Env("ORMDB_BENCH_CACHE", "/tmp/ormdb_imdb_bench_cache") + key;
  const std::string stamp = dir + "/complete";
  if (fs::exists(stamp)) {
    Note("cache", dir + " (reused JSONL files)");
  } else {
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) Die("cannot create " + dir + ": " + ec.message());
    auto start = Clock::now();
    std::string error;
    if (!WriteImdbJsonl(g->data, dir, &error)) Die(error);
    std::ofstream(stamp) << "ok\n";
    Note("cache", dir + " (new: JSONL written in " + FormatSeconds(Since(start)) + ")");
  }
  for (const auto& [what, file] : kImdbImportFiles)
    g->jsonl_bytes += fs::file_size(dir + "/" + file);
  Note("JSONL size", Mb(g->jsonl_bytes));
  return dir;
}

void LoadSqlite() {
  const std::string path = g_work_dir + "/imdb.sqlite";
  auto start = Clock::now();
  {
    Sqlite s(path, Die);
    s.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    std::string error;
    if (!LoadImdbSqlite(g->data, s.db(), &error)) Die(error);
    s.Exec("PRAGMA wal_checkpoint(TRUNCATE);");
  }
  g->sqlite_load_s = Since(start);
  g->sqlite_bytes = fs::file_size(path);
  Note("SQLite load", FormatSeconds(g->sqlite_load_s) +
                          " (from memory: prepared INSERTs, 1 txn, foreign keys and checks on, "
                          "ANALYZE, WAL checkpoint)");
  Note("SQLite size", Mb(g->sqlite_bytes) + ", " + SQLITE_VERSION);

  g->sqlite = std::make_unique<Sqlite>(path, Die);
  // Reads through mmap with a large page cache, as LMDB reads through its map.
  g->sqlite->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA mmap_size=17179869184; PRAGMA cache_size=-1048576;");
  g->per_level = std::make_unique<PerLevel>(*g->sqlite);
  g->json = std::make_unique<JsonStrategy>(*g->sqlite);
}

void ImportOrmdb(const std::string& cache) {
  const std::string dir = g_work_dir + "/ormdb";
  Note("ormdb data_dir", dir + " (" + FilesystemName(g_work_dir) + ")");
  auto opened = Database::Open(dir);
  if (!opened.ok()) Die("open " + dir + ": " + opened.status().ToString());
  g->db = std::move(opened).value();
  auto start = Clock::now();
  std::string detail, error;
  if (!ImportImdbJsonl(g->db.get(), cache, ORMDB_IMDB_SCHEMA, &detail, &error)) Die(error);
  g->ormdb_load_s = Since(start);
  g->ormdb_bytes = DirectoryBytes(dir);
  Note("ormdb import", FormatSeconds(g->ormdb_load_s) +
                           " (Database::Import of the JSONL, one "
                           "durable transaction per file: " +
                           detail + ")");
  Note("ormdb data size", Mb(g->ormdb_bytes));
}

std::string OrmdbData(const Query& q, size_t i) {
  auto r = g->db->Fetch(q.spec->fetch, q.params_json[i]);
  if (!r.ok()) {
    Die("ormdb Fetch failed: " + r.status().ToString() + "\n  query: " + q.spec->fetch +
        "\n  params: " + q.params_json[i]);
  }
  std::string json = (*r)->ToJson();
  std::string data;
  Canonicalizer c(json);
  if (!c.Member("data", &data)) Die("bad ToJson() from ormdb: " + c.error() + "\n" + json);
  return data;
}

// Averages (float64) may differ in their last bits and in how they are
// printed; anything further apart is a wrong average.
constexpr double kAvgTolerance = 1e-12;

[[noreturn]] void Mismatch(const Query& q, size_t i, const std::string& ref,
                           const std::string& name, const std::string& got, CanonicalMismatch at) {
  size_t ref_from = at.a > 300 ? at.a - 300 : 0;
  size_t got_from = at.b > 300 ? at.b - 300 : 0;
  std::string base = Env("ORMDB_BENCH_DIR", "/tmp") + "/imdb_bench_mismatch_" + q.spec->name;
  std::ofstream(base + "_ormdb.json") << ref << "\n";
  std::ofstream(base + "_" + name + ".json") << got << "\n";
  std::fprintf(stderr,
               "\nRESULTS DIFFER: page %s, params %s: ormdb and %s differ at byte %zu\n"
               "  query: %s\n"
               "  ormdb: ...%s\n"
               "  %s: ...%s\n"
               "  full canonical results: %s_{ormdb,%s}.json\n",
               q.spec->name, q.params_json[i].c_str(), name.c_str(), at.a, q.spec->fetch,
               ref.substr(ref_from, at.a - ref_from + 300).c_str(), name.c_str(),
               got.substr(got_from, at.b - got_from + 300).c_str(), base.c_str(), name.c_str());
  Die("results differ; not timing anything");
}

// Every SQLite strategy against ormdb for every check parameter. Doubles as
// the warm-up.
// The number of non-null "avg_rating" members in a canonical text.
size_t CountAverages(std::string_view canonical) {
  constexpr std::string_view kKey = "\"avg_rating\":";
  size_t n = 0;
  for (size_t at = canonical.find(kKey); at != std::string_view::npos;
       at = canonical.find(kKey, at + kKey.size())) {
    n += canonical.substr(at + kKey.size(), 4) != "null";
  }
  return n;
}

void CheckResults() {
  auto start = Clock::now();
  size_t compared = 0, nonempty = 0, rows = 0, averages = 0;
  for (const Query& q : g->queries) {
    const PageKind kind = q.spec->kind;
    const bool avg = q.spec->avg_rating;
    for (size_t i = 0; i < q.check_params.size(); ++i) {
      int64_t p = q.check_params[i];
      std::string ref = OrmdbData(q, i);
      auto check = [&](const char* name, const std::string& got) {
        if (auto at = CanonicalDifference(ref, got, kAvgTolerance)) {
          Mismatch(q, i, ref, name, got, *at);
        }
      };
      check("sqlite_per_parent",
            Canonical(RenderTree(kind, g->per_level->Run(kind, p, Form::kPerParent, avg)),
                      "per-level"));
      check("sqlite_window",
            Canonical(RenderTree(kind, g->per_level->Run(kind, p, Form::kWindow, avg)), "window"));
      check("sqlite_json", Canonical(g->json->Run(kind, p, avg), "sqlite json"));
      compared += 3;
      nonempty += ref != "[]";
      rows += static_cast<size_t>(std::count(ref.begin(), ref.end(), '{'));
      averages += CountAverages(ref);
    }
  }
  Note("results checked",
       std::to_string(compared) + " comparisons, " + std::to_string(nonempty) +
           " non-empty pages (" + std::to_string(rows) + " objects, " + std::to_string(averages) +
           " average ratings compared to 1e-12), all equal (" + FormatSeconds(Since(start)) + ")");
}

// Picks the faster per-level form for the pages with limited includes.
void ChooseForms() {
  for (Query& q : g->queries) {
    if (!q.spec->limited) continue;
    double t[2] = {0, 0};
    for (int round = 0; round < 3; ++round) {
      for (Form f : {Form::kPerParent, Form::kWindow}) {
        auto start = Clock::now();
        for (int64_t p : q.params) {
          Tree tree = g->per_level->Run(q.spec->kind, p, f, q.spec->avg_rating);
          benchmark::DoNotOptimize(&tree);
        }
        t[static_cast<int>(f)] += Since(start);
      }
    }
    q.form = t[0] <= t[1] ? Form::kPerParent : Form::kWindow;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s (per-parent %.0f us, window %.0f us per page)",
                  FormName(q.form), t[0] / 3 / q.params.size() * 1e6,
                  t[1] / 3 / q.params.size() * 1e6);
    Note(std::string("per-level form, ") + q.spec->name, buf);
  }
}

// ---------------------------------------------------- relational mode

// A report over every review (docs/reference/select.md): the number of
// reviews per movie, by `Database::Select` and by SQLite's GROUP BY on the
// same data, checked equal before timing.
constexpr const char* kSelectCount =
    "select movie, count() as n from Review group by movie order by movie";
constexpr const char* kSqlSelectCount =
    "SELECT movie, count(*) FROM review GROUP BY movie ORDER BY movie";
constexpr const char* kSelectAvg =
    "select movie, count() as n, avg(rating) as r from Review group by movie order by movie";
constexpr const char* kSqlSelectAvg =
    "SELECT movie, count(*), avg(rating) FROM review GROUP BY movie ORDER BY movie";

struct ReportRow {
  int64_t movie = 0, n = 0;
  double avg = 0;
  bool operator==(const ReportRow&) const = default;
};

std::vector<ReportRow> OrmdbReport(const char* text, bool with_avg) {
  auto r = g->db->Select(text);
  if (!r.ok()) Die(std::string("ormdb Select: ") + r.status().ToString());
  const SelectResult& s = **r;
  std::vector<ReportRow> out(s.row_count());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].movie = s.Get(i, 0).int_value;
    out[i].n = s.Get(i, 1).int_value;
    if (with_avg) out[i].avg = s.Get(i, 2).float_value;
  }
  return out;
}

std::vector<ReportRow> SqliteReport(const char* sql, bool with_avg) {
  std::vector<ReportRow> out;
  sqlite3_stmt* stmt = g->sqlite->Prepare(sql);
  Rows(*g->sqlite, stmt, [&](sqlite3_stmt* st) {
    ReportRow r{Int(st, 0), Int(st, 1), with_avg ? sqlite3_column_double(st, 2) : 0.0};
    out.push_back(r);
  });
  return out;
}

void CheckReports() {
  for (bool avg : {false, true}) {
    std::vector<ReportRow> a = OrmdbReport(avg ? kSelectAvg : kSelectCount, avg);
    std::vector<ReportRow> b = SqliteReport(avg ? kSqlSelectAvg : kSqlSelectCount, avg);
    bool same = a.size() == b.size();
    for (size_t i = 0; same && i < a.size(); ++i) {
      same = a[i].movie == b[i].movie && a[i].n == b[i].n &&
             std::abs(a[i].avg - b[i].avg) <= 1e-9 * std::max(1.0, std::abs(b[i].avg));
    }
    if (!same) {
      Die(std::string("select report differs from SQLite's: ") + (avg ? kSelectAvg : kSelectCount) +
          " (" + std::to_string(a.size()) + " rows against " + std::to_string(b.size()) + ")");
    }
  }
  Note("select reports checked", "count and avg per movie: equal to SQLite's");
}

void RegisterReports() {
  struct Report {
    const char* key;
    std::function<void()> run;
  };
  const Report reports[] = {
      {"reviews_per_movie/ormdb_select",
       [] { benchmark::DoNotOptimize(OrmdbReport(kSelectCount, false).data()); }},
      {"reviews_per_movie/sqlite",
       [] { benchmark::DoNotOptimize(SqliteReport(kSqlSelectCount, false).data()); }},
      {"rating_per_movie/ormdb_select",
       [] { benchmark::DoNotOptimize(OrmdbReport(kSelectAvg, true).data()); }},
      {"rating_per_movie/sqlite",
       [] { benchmark::DoNotOptimize(SqliteReport(kSqlSelectAvg, true).data()); }},
  };
  for (const Report& r : reports) {
    std::string key = r.key;
    std::function<void()> run = r.run;
    benchmark::RegisterBenchmark(("BM_ImdbSelect/" + key).c_str(),
                                 [key, run](benchmark::State& state) {
                                   std::optional<Stat> st = TimeEachIteration(
                                       state, &g->samples[key], [&](size_t) { run(); });
                                   if (st) g->stats[key] = *st;
                                 })
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond);
  }
}

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
  const std::string cache = PrepareCache();

  std::string pattern = Env("ORMDB_BENCH_DIR", "/tmp") + "/ormdb_imdb_bench_XXXXXX";
  std::vector<char> dir(pattern.begin(), pattern.end());
  dir.push_back('\0');
  if (!mkdtemp(dir.data())) Die("mkdtemp " + pattern + " failed");
  g_work_dir = dir.data();

  LoadSqlite();
  ImportOrmdb(cache);

  // The parameters of a kind, drawn when its first page comes (in kind
  // order, so the plain pages keep the parameters they had before the
  // *_avg pages), shared by its plain and *_avg pages.
  SplitMix64 rng(0x1bdb'bec4'0000'0002ULL);
  std::map<PageKind, std::pair<std::vector<int64_t>, std::vector<int64_t>>> params_of;
  for (const PageSpec& spec : kPages) {
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
    if (const std::string out = Env("ORMDB_BENCH_PARAMS_OUT", ""); !out.empty()) {
      std::ofstream ids(out + "/" + spec.name + ".ids");
      for (int64_t v : timed) ids << v << '\n';
    }
    Query q;
    q.spec = &spec;
    q.params = timed;
    q.check_params = checked;
    for (int64_t v : q.check_params) {
      q.params_json.push_back("{\"" + std::string(spec.param) + "\":" + std::to_string(v) + "}");
    }
    g->queries.push_back(std::move(q));
  }
  CheckResults();
  CheckReports();
  ChooseForms();
}

// ------------------------------------------------------------- benchmarks

using RunFn = std::function<void(const Query& q, size_t i)>;

void TimePages(benchmark::State& state, const Query& q, const std::string& key, const RunFn& run) {
  // Over every repetition of this benchmark (bench/timing.h).
  std::optional<Stat> st =
      TimeEachIteration(state, &g->samples[key], [&](size_t i) { run(q, i % q.params.size()); });
  if (st) g->stats[key] = *st;
}

const char* const kStrategies[] = {"ormdb_fetch", "ormdb_fetch_json", "sqlite_per_level",
                                   "sqlite_json"};

void Register() {
  RunFn runs[4] = {
      [](const Query& q, size_t i) {
        auto r = g->db->Fetch(q.spec->fetch, q.params_json[i]);
        if (!r.ok()) Die("ormdb Fetch: " + r.status().ToString());
        benchmark::DoNotOptimize(r->get());
      },
      [](const Query& q, size_t i) {
        auto r = g->db->Fetch(q.spec->fetch, q.params_json[i]);
        if (!r.ok()) Die("ormdb Fetch: " + r.status().ToString());
        std::string json = (*r)->ToJson();
        benchmark::DoNotOptimize(json.data());
      },
      [](const Query& q, size_t i) {
        Tree t = g->per_level->Run(q.spec->kind, q.params[i], q.form, q.spec->avg_rating);
        benchmark::DoNotOptimize(&t);
      },
      [](const Query& q, size_t i) {
        std::string json = g->json->Run(q.spec->kind, q.params[i], q.spec->avg_rating);
        benchmark::DoNotOptimize(json.data());
      },
  };
  for (size_t qi = 0; qi < g->queries.size(); ++qi) {
    for (int s = 0; s < 4; ++s) {
      std::string key = std::string(g->queries[qi].spec->name) + "/" + kStrategies[s];
      RunFn run = runs[s];
      benchmark::RegisterBenchmark(
          ("BM_Imdb/" + key).c_str(),
          [qi, key, run](benchmark::State& state) { TimePages(state, g->queries[qi], key, run); })
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

std::string Cell(const std::string& key) {
  auto it = g->stats.find(key);
  if (it == g->stats.end()) return "-";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f / %.1f", it->second.p50, it->second.p95);
  return buf;
}

void Summary(std::FILE* out) {
  std::fprintf(out,
               "\nPage latency in microseconds, p50 / p95 per page (scale %s; parameters cycle "
               "over %zu values):\n",
               ScaleText(g->scale).c_str(), kParamsPerPage);
  std::fprintf(out, "%-16s %-20s %-20s %-24s %-20s %-12s %-12s\n", "page", "ormdb Fetch",
               "ormdb Fetch+ToJson", "SQLite per-level", "SQLite JSON", "Fetch/best",
               "+ToJson/best");
  for (const Query& q : g->queries) {
    const std::string name = q.spec->name;
    auto p50 = [&](const char* s) -> std::optional<double> {
      auto it = g->stats.find(name + "/" + s);
      if (it == g->stats.end()) return std::nullopt;
      return it->second.p50;
    };
    std::optional<double> a = p50("sqlite_per_level"), b = p50("sqlite_json");
    std::optional<double> best = a && b ? std::min(*a, *b) : a ? a : b;
    auto ratio = [&](const char* s) {
      std::optional<double> v = p50(s);
      if (!v || !best || *best <= 0) return std::string("-");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2fx", *v / *best);
      return std::string(buf);
    };
    std::string level = Cell(name + "/sqlite_per_level");
    if (q.spec->limited && level != "-") level += q.form == Form::kWindow ? " (w)" : " (pp)";
    std::fprintf(out, "%-16s %-20s %-20s %-24s %-20s %-12s %-12s\n", name.c_str(),
                 Cell(name + "/ormdb_fetch").c_str(), Cell(name + "/ormdb_fetch_json").c_str(),
                 level.c_str(), Cell(name + "/sqlite_json").c_str(), ratio("ormdb_fetch").c_str(),
                 ratio("ormdb_fetch_json").c_str());
  }
  std::fprintf(out,
               "Ratios: ormdb p50 / p50 of the better SQLite strategy (above 1: ormdb is "
               "slower). (pp) per-parent LIMIT, (w) ROW_NUMBER() window.\n");
  std::fprintf(out, "\nReports over all reviews (select vs SQLite GROUP BY), p50 / p95 in ms:\n");
  for (const char* report : {"reviews_per_movie", "rating_per_movie"}) {
    auto a = g->stats.find(std::string(report) + "/ormdb_select");
    auto b = g->stats.find(std::string(report) + "/sqlite");
    if (a == g->stats.end() || b == g->stats.end()) continue;
    std::fprintf(out, "%-20s ormdb %.2f / %.2f   SQLite %.2f / %.2f   ratio %.2fx\n", report,
                 a->second.p50 / 1000, a->second.p95 / 1000, b->second.p50 / 1000,
                 b->second.p95 / 1000, a->second.p50 / b->second.p50);
  }
  std::fprintf(
      out,
      "\nLoad (JSONL %s): ormdb Database::Import %.2f s, %s; SQLite bulk load %.2f s, "
      "%s; ormdb/SQLite: time %.2fx, size %.2fx\n",
      Mb(g->jsonl_bytes).c_str(), g->ormdb_load_s, Mb(g->ormdb_bytes).c_str(), g->sqlite_load_s,
      Mb(g->sqlite_bytes).c_str(), g->sqlite_load_s > 0 ? g->ormdb_load_s / g->sqlite_load_s : 0.0,
      g->sqlite_bytes ? static_cast<double>(g->ormdb_bytes) / static_cast<double>(g->sqlite_bytes)
                      : 0.0);
}

}  // namespace
}  // namespace ormdb::bench

int main(int argc, char** argv) {
  using namespace ormdb::bench;
  bool console = ConsoleOutput(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::optional<double> scale = BenchScale("imdb_bench");
  if (!scale) return 2;
  g_keep = Env("ORMDB_BENCH_KEEP", "0") == "1";
  g_extra_checks = std::strtoull(Env("ORMDB_BENCH_EXTRA_CHECKS", "32").c_str(), nullptr, 10);
  Bench bench;
  g = &bench;
  std::fprintf(stderr, "imdb_bench setup:\n");
  Setup(*scale);
  for (const auto& [k, v] : bench.context) benchmark::AddCustomContext(k, v);
  Register();
  RegisterReports();

  RunBenchmarks(console, Summary);
  benchmark::Shutdown();
  bench.db.reset();
  bench.json.reset();
  bench.per_level.reset();
  bench.sqlite.reset();
  if (g_keep) std::fprintf(stderr, "kept %s\n", g_work_dir.c_str());
  Cleanup();
  return 0;
}
