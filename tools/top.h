// `ormdb top`: a server's metrics in the terminal, refreshed
// (docs/reference/cli.md "top"). It scrapes GET /metrics on the server's
// HTTP port and shows rates over the last interval: requests and errors by
// kind with their latency percentiles (to the histogram's bucket), fetch
// volume, plan cache hits, commits, group sizes and commit times, the map,
// connections and change-stream subscribers.
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "observability/prometheus.h"

namespace ormdb::tools {

// One screen. `before` is the previous scrape (empty on the first: the
// rates are then over the server's whole life, shown as totals per
// `seconds` of nothing — so the first screen shows totals, not rates),
// `now` the latest, `seconds` the time between them.
std::string RenderTop(const observability::PrometheusText* before,
                      const observability::PrometheusText& now, double seconds,
                      const std::string& source);

// The q-quantile (0..1) of a histogram's observations between two scrapes
// (before may be null), from its cumulative buckets `name`_bucket with
// `labels`: the upper bound of the bucket that holds it (+Inf: the largest
// finite bound); 0 when there were none.
double HistogramQuantile(const observability::PrometheusText* before,
                         const observability::PrometheusText& now, const std::string& name,
                         const std::map<std::string, std::string>& labels, double q);

}  // namespace ormdb::tools
