// imdb_pages: the six ORM pages of the imdbench shape as ormdb fetches, one
// Fetch per page, for the benchmarks that time them (imdb_bench embedded
// against SQLite, imdb_server_bench over the wire against PostgreSQL).
//
// Each kind comes twice: without averages (movie_page, person_page,
// user_page) and as imdbench shows it, with the average rating of every
// movie on the page (the *_avg pages: `avg_rating: avg(reviews.rating)` at
// the root of the movie page, on the person page's films, on the user
// page's reviewed movies). The *_avg page of a kind is timed with the same
// parameters as its plain page, so the difference is the averages' cost.
// imdbench's movie page lists every review; here it shows the newest 20
// (with "reviews@next" saying whether more remain), the page a site would
// serve.
#pragma once

#include <cstddef>

namespace ormdb::bench {

enum class PageKind { kMovie, kPerson, kUser };

struct PageSpec {
  PageKind kind;
  const char* name;
  const char* param;  // the $param of the fetch
  const char* fetch;  // the ormdb fetch, one per page
  bool limited;       // has a limited include (the reviews)
  bool avg_rating;    // each movie shows its average rating (imdbench's pages)
};

inline constexpr size_t kMovieReviews = 20;  // the movie page's newest reviews
inline constexpr size_t kUserReviews = 10;   // the user page's newest reviews

inline constexpr PageSpec kImdbPages[] = {
    {PageKind::kMovie, "movie_page", "m",
     "Movie(where: id == $m) { title, year, description, image, "
     "directors(order: [last_name, first_name]) { first_name, last_name, image }, "
     "cast(order: list_order) { list_order, person { first_name, last_name, image } }, "
     "reviews(order: creation_time desc, limit: 20) { body, rating, creation_time, "
     "author { name, image } } }",
     true, false},
    {PageKind::kMovie, "movie_page_avg", "m",
     "Movie(where: id == $m) { title, year, description, image, "
     "avg_rating: avg(reviews.rating), "
     "directors(order: [last_name, first_name]) { first_name, last_name, image }, "
     "cast(order: list_order) { list_order, person { first_name, last_name, image } }, "
     "reviews(order: creation_time desc, limit: 20) { body, rating, creation_time, "
     "author { name, image } } }",
     true, true},
    {PageKind::kPerson, "person_page", "p",
     "Person(where: id == $p) { first_name, last_name, bio, image, "
     "acted_in(order: [movie.year, movie.title]) { movie { title, year, image } }, "
     "directed(order: [year, title]) { title, year, image } }",
     false, false},
    {PageKind::kPerson, "person_page_avg", "p",
     "Person(where: id == $p) { first_name, last_name, bio, image, "
     "acted_in(order: [movie.year, movie.title]) { movie { title, year, image, "
     "avg_rating: avg(reviews.rating) } }, "
     "directed(order: [year, title]) { title, year, image, avg_rating: avg(reviews.rating) } }",
     false, true},
    {PageKind::kUser, "user_page", "u",
     "User(where: id == $u) { name, image, "
     "reviews(order: creation_time desc, limit: 10) { body, rating, creation_time, "
     "movie { title, image } } }",
     true, false},
    {PageKind::kUser, "user_page_avg", "u",
     "User(where: id == $u) { name, image, "
     "reviews(order: creation_time desc, limit: 10) { body, rating, creation_time, "
     "movie { title, image, avg_rating: avg(reviews.rating) } } }",
     true, true},
};

}  // namespace ormdb::bench
