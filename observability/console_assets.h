// The web console's files (observability/console/: index.html, console.css,
// console.js), compiled into the binary by cmake/embed_assets.cmake; the
// server serves them (server/console.h).
//
// Thread-safety: constants.
#pragma once

#include <span>
#include <string_view>

namespace ormdb::observability {

struct ConsoleAsset {
  std::string_view path;          // "/index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

std::span<const ConsoleAsset> ConsoleAssets();

}  // namespace ormdb::observability
