#include "tools/top.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <vector>

namespace ormdb::tools {
namespace {

using observability::PrometheusText;

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Bytes(double v) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return Fixed(v, u == 0 ? 0 : 1) + " " + units[u];
}

std::string Pad(std::string s, size_t width, bool right = true) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

}  // namespace

double HistogramQuantile(const PrometheusText* before, const PrometheusText& now,
                         const std::string& name, const std::map<std::string, std::string>& labels,
                         double q) {
  // Bounds in order, with the count at or below each over the interval.
  std::vector<std::pair<double, double>> buckets;
  for (const auto& s : now.samples) {
    if (s.name != name + "_bucket") continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (!match) continue;
    const std::string& le = s.labels.at("le");
    double bound = le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr);
    std::map<std::string, std::string> exact = labels;
    exact["le"] = le;
    double n = s.value - (before ? before->Sum(name + "_bucket", exact) : 0);
    buckets.push_back({bound, n});
  }
  std::sort(buckets.begin(), buckets.end());
  if (buckets.empty() || buckets.back().second <= 0) return 0;
  double total = buckets.back().second;
  double largest_finite = 0;
  for (const auto& [bound, n] : buckets) {
    if (!std::isinf(bound)) largest_finite = bound;
    if (n >= q * total) return std::isinf(bound) ? largest_finite : bound;
  }
  return largest_finite;
}

std::string RenderTop(const PrometheusText* before, const PrometheusText& now, double seconds,
                      const std::string& source) {
  const bool rates = before != nullptr && seconds > 0;
  auto delta = [&](const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    double d = now.Sum(name, labels) - (before ? before->Sum(name, labels) : 0);
    return d;
  };
  auto rate = [&](const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    double d = delta(name, labels);
    return rates ? d / seconds : d;
  };
  std::string out;
  out += "ormdb top: " + source +
         (rates ? "  (per second over " + Fixed(seconds, 1) + " s)"
                : "  (totals since start; rates from the next refresh)");
  out += "\n\n";
  out += "version " + Fixed(now.Sum("ormdb_current_version"), 0) + "   connections " +
         Fixed(now.Sum("ormdb_connections"), 0) + "   map " +
         Bytes(now.Sum("ormdb_map_used_bytes")) + " used of " +
         Bytes(now.Sum("ormdb_map_size_bytes")) + "   subscribers " +
         Fixed(now.Sum("ormdb_change_stream_subscribers"), 0) + " (max lag " +
         Fixed(now.Sum("ormdb_change_stream_max_lag_versions"), 0) + ")   watches " +
         Fixed(now.Sum("ormdb_waiting_watches"), 0) + "\n";
  double hits = delta("ormdb_plan_cache_hits_total");
  double misses = delta("ormdb_plan_cache_misses_total");
  out += "fetches " + Fixed(rate("ormdb_fetches_total"), 1) + "   entities " +
         Fixed(rate("ormdb_fetch_entities_total"), 1) + "   edges " +
         Fixed(rate("ormdb_fetch_edges_total"), 1) + "   bytes " +
         Bytes(rate("ormdb_fetch_bytes_total")) + "   plan cache hits " +
         (hits + misses > 0 ? Fixed(100 * hits / (hits + misses), 1) + "%" : "-") +
         "   slow queries " + Fixed(rate("ormdb_slow_queries_total"), 1) + "\n";
  double groups = delta("ormdb_commit_group_size_count");
  out +=
      "commits " + Fixed(rate("ormdb_commits_total"), 1) + "   failed " +
      Fixed(rate("ormdb_commits_failed_total"), 1) + "   group size avg " +
      (groups > 0 ? Fixed(delta("ormdb_commit_group_size_sum") / groups, 2) : "-") +
      "   commit p50 " +
      Fixed(1000 * HistogramQuantile(before, now, "ormdb_commit_duration_seconds", {}, 0.5), 2) +
      " ms p99 " +
      Fixed(1000 * HistogramQuantile(before, now, "ormdb_commit_duration_seconds", {}, 0.99), 2) +
      " ms\n\n";
  // Requests by kind, busiest first.
  std::set<std::string> kinds;
  for (const auto& s : now.samples) {
    if (s.name == "ormdb_requests_total") kinds.insert(s.labels.at("kind"));
  }
  std::vector<std::pair<double, std::string>> order;
  for (const std::string& k : kinds)
    order.push_back({-delta("ormdb_requests_total", {{"kind", k}}), k});
  std::sort(order.begin(), order.end());
  out += Pad("kind", 16, false) + Pad("requests", 12) + Pad("errors", 10) + Pad("p50 ms", 10) +
         Pad("p99 ms", 10) + Pad("total", 12) + "\n";
  for (const auto& [neg, k] : order) {
    double all = rate("ormdb_requests_total", {{"kind", k}});
    double ok = rate("ormdb_requests_total", {{"kind", k}, {"outcome", "ok"}});
    out += Pad(k, 16, false) + Pad(Fixed(all, 1), 12) + Pad(Fixed(all - ok, 1), 10) +
           Pad(Fixed(1000 * HistogramQuantile(before, now, "ormdb_request_duration_seconds",
                                              {{"kind", k}}, 0.5),
                     2),
               10) +
           Pad(Fixed(1000 * HistogramQuantile(before, now, "ormdb_request_duration_seconds",
                                              {{"kind", k}}, 0.99),
                     2),
               10) +
           Pad(Fixed(now.Sum("ormdb_requests_total", {{"kind", k}}), 0), 12) + "\n";
  }
  if (order.empty()) out += "(no requests yet)\n";
  return out;
}

}  // namespace ormdb::tools
