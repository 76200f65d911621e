// The Prometheus text exposition format (version 0.0.4): what GET /metrics
// answers, written from metric values, and read back by `ormdb top` and the
// tests.
//
//   # HELP ormdb_requests_total Requests answered, by kind and outcome.
//   # TYPE ormdb_requests_total counter
//   ormdb_requests_total{kind="fetch",outcome="ok"} 12
//
// A family (one name, one HELP and TYPE) is written in one go: every series
// of a family follows its header, as the format requires.
//
// Thread-safety: a writer is used by one thread; ParsePrometheusText is pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "observability/metrics.h"
#include "ormdb/status.h"

namespace ormdb::observability {

using Labels = std::vector<std::pair<std::string, std::string>>;

class PrometheusWriter {
 public:
  // The header of a family: `type` is "counter", "gauge" or "histogram".
  // Names are [a-zA-Z_:][a-zA-Z0-9_:]* (a programming error otherwise).
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family (`name` may carry a suffix such as
  // _total only if the family's name does).
  void Sample(std::string_view name, const Labels& labels, double value);
  // A histogram's series: _bucket{le=...} (cumulative), _sum and _count.
  // `scale` converts the histogram's unit to the exported one (1e-6 for
  // microseconds exported as seconds).
  void HistogramSamples(std::string_view name, const Labels& labels, const HistogramSnapshot& h,
                        double scale = 1);

  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// One parsed sample: its metric name (with _bucket/_sum/_count suffixes as
// written), labels and value.
struct PrometheusSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct PrometheusText {
  std::map<std::string, std::string> types;  // family -> counter, gauge, histogram, ...
  std::map<std::string, std::string> help;
  std::vector<PrometheusSample> samples;
  // The values of the samples named `name` whose labels include all of
  // `labels`, summed (0 when none matches; Has tells).
  double Sum(std::string_view name, const std::map<std::string, std::string>& labels = {}) const;
  bool Has(std::string_view name, const std::map<std::string, std::string>& labels = {}) const;
};

// Parses the text format strictly: INVALID_ARGUMENT with the line number for
// a malformed line, a sample without a preceding TYPE of its family, a
// family's samples split by another family, a duplicate series, a histogram
// whose buckets are not cumulative, lack +Inf, or disagree with _count.
Result<PrometheusText> ParsePrometheusText(std::string_view text);

}  // namespace ormdb::observability
