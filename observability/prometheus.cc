#include "observability/prometheus.h"

#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

namespace ormdb::observability {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}

void AppendLabels(std::string& out, const Labels& labels, std::string_view le = {}) {
  if (labels.empty() && le.empty()) return;
  out += '{';
  bool first = true;
  auto one = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out.append(k);
    out += "=\"";
    for (char c : v) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  };
  for (const auto& [k, v] : labels) one(k, v);
  if (!le.empty()) one("le", le);
  out += '}';
}

Status LineError(size_t line, const std::string& what) {
  return InvalidArgument("metrics text line " + std::to_string(line) + ": " + what);
}

// The family a sample name belongs to (a histogram's _bucket, _sum, _count).
std::string FamilyOf(const std::string& name, const std::map<std::string, std::string>& types) {
  if (types.count(name)) return name;
  for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      std::string base = name.substr(0, name.size() - suffix.size());
      auto it = types.find(base);
      if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
  }
  return name;
}

}  // namespace

void PrometheusWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  if (!ValidName(name)) throw std::logic_error("metric name " + std::string(name));
  out_ += "# HELP ";
  out_.append(name);
  out_ += ' ';
  for (char c : help) out_ += c == '\n' ? ' ' : c;
  out_ += "\n# TYPE ";
  out_.append(name);
  out_ += ' ';
  out_.append(type);
  out_ += '\n';
}

void PrometheusWriter::Sample(std::string_view name, const Labels& labels, double value) {
  out_.append(name);
  AppendLabels(out_, labels);
  out_ += ' ';
  out_ += FormatValue(value);
  out_ += '\n';
}

void PrometheusWriter::HistogramSamples(std::string_view name, const Labels& labels,
                                        const HistogramSnapshot& h, double scale) {
  std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    cumulative += h.counts[i];
    out_ += bucket;
    AppendLabels(out_, labels, FormatValue(static_cast<double>(h.bounds[i]) * scale));
    out_ += ' ' + FormatValue(static_cast<double>(cumulative)) + '\n';
  }
  cumulative += h.counts.empty() ? 0 : h.counts.back();
  out_ += bucket;
  AppendLabels(out_, labels, "+Inf");
  out_ += ' ' + FormatValue(static_cast<double>(cumulative)) + '\n';
  Sample(std::string(name) + "_sum", labels, static_cast<double>(h.sum) * scale);
  Sample(std::string(name) + "_count", labels, static_cast<double>(cumulative));
}

double PrometheusText::Sum(std::string_view name,
                           const std::map<std::string, std::string>& labels) const {
  double total = 0;
  for (const PrometheusSample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) total += s.value;
  }
  return total;
}

bool PrometheusText::Has(std::string_view name,
                         const std::map<std::string, std::string>& labels) const {
  for (const PrometheusSample& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) match = false;
    }
    if (match) return true;
  }
  return false;
}

Result<PrometheusText> ParsePrometheusText(std::string_view text) {
  PrometheusText out;
  std::set<std::string> finished;  // families whose samples are over
  std::string current;             // the family being read
  std::set<std::string> series;    // name + labels, for duplicates
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) return LineError(line_no + 1, "no final newline");
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      // "# HELP name text" or "# TYPE name type"; other comments are allowed.
      std::string_view rest = line.substr(1);
      while (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
      bool is_help = rest.starts_with("HELP ");
      bool is_type = rest.starts_with("TYPE ");
      if (!is_help && !is_type) continue;
      rest.remove_prefix(5);
      size_t sp = rest.find(' ');
      std::string name(rest.substr(0, sp));
      std::string value(sp == std::string_view::npos ? "" : rest.substr(sp + 1));
      if (!ValidName(name)) return LineError(line_no, "bad metric name '" + name + "'");
      if (finished.count(name) && name != current) {
        return LineError(line_no, "family " + name + " appears twice");
      }
      if (name != current) {
        if (!current.empty()) finished.insert(current);
        current = name;
      }
      if (is_type) {
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!kTypes.count(value)) return LineError(line_no, "unknown type '" + value + "'");
        if (out.types.count(name)) return LineError(line_no, "second TYPE for " + name);
        out.types[name] = value;
      } else {
        out.help[name] = value;
      }
      continue;
    }
    PrometheusSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (!ValidName(s.name)) return LineError(line_no, "bad metric name '" + s.name + "'");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string_view::npos) return LineError(line_no, "label without '='");
        std::string key(line.substr(i, eq - i));
        if (!ValidName(key) || key.find(':') != std::string::npos) {
          return LineError(line_no, "bad label name '" + key + "'");
        }
        if (eq + 1 >= line.size() || line[eq + 1] != '"') {
          return LineError(line_no, "label value not quoted");
        }
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            if (++j >= line.size()) return LineError(line_no, "bad escape");
            char c = line[j];
            if (c == 'n') {
              value += '\n';
            } else if (c == '\\' || c == '"') {
              value += c;
            } else {
              return LineError(line_no, "bad escape");
            }
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) return LineError(line_no, "unterminated label value");
        if (s.labels.count(key)) return LineError(line_no, "label " + key + " twice");
        s.labels[key] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return LineError(line_no, "unterminated labels");
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') return LineError(line_no, "no value");
    std::string value(line.substr(i + 1));
    size_t ts = value.find(' ');
    if (ts != std::string::npos) value.resize(ts);  // a timestamp follows
    if (value == "+Inf") {
      s.value = INFINITY;
    } else if (value == "-Inf") {
      s.value = -INFINITY;
    } else if (value == "NaN") {
      s.value = NAN;
    } else {
      char* endp = nullptr;
      s.value = std::strtod(value.c_str(), &endp);
      if (value.empty() || *endp != '\0') return LineError(line_no, "bad value '" + value + "'");
    }
    std::string family = FamilyOf(s.name, out.types);
    if (!out.types.count(family)) {
      return LineError(line_no, "sample " + s.name + " without a TYPE line");
    }
    if (family != current) {
      return LineError(line_no, "sample " + s.name + " outside its family's block");
    }
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "\x01" + k + "=" + v;
    if (!series.insert(key).second) return LineError(line_no, "duplicate series " + s.name);
    out.samples.push_back(std::move(s));
  }
  // Histograms: cumulative buckets ending in +Inf equal to _count.
  for (const auto& [family, type] : out.types) {
    if (type != "histogram") continue;
    std::map<std::string, std::vector<std::pair<double, double>>> buckets;  // series -> (le, n)
    std::map<std::string, double> counts;
    auto series_of = [](const PrometheusSample& s) {
      std::string k;
      for (const auto& [n, v] : s.labels) {
        if (n != "le") k += n + "=" + v + ",";
      }
      return k;
    };
    for (const PrometheusSample& s : out.samples) {
      if (s.name == family + "_bucket") {
        auto le = s.labels.find("le");
        if (le == s.labels.end()) return InvalidArgument(family + "_bucket without le");
        double bound = le->second == "+Inf" ? INFINITY : std::strtod(le->second.c_str(), nullptr);
        buckets[series_of(s)].push_back({bound, s.value});
      } else if (s.name == family + "_count") {
        counts[series_of(s)] = s.value;
      }
    }
    for (auto& [key, list] : buckets) {
      for (size_t i = 1; i < list.size(); ++i) {
        if (list[i].first <= list[i - 1].first || list[i].second < list[i - 1].second) {
          return InvalidArgument(family + "{" + key + "}: buckets not increasing");
        }
      }
      if (list.empty() || !std::isinf(list.back().first)) {
        return InvalidArgument(family + "{" + key + "}: no +Inf bucket");
      }
      auto c = counts.find(key);
      if (c == counts.end() || c->second != list.back().second) {
        return InvalidArgument(family + "{" + key + "}: +Inf bucket differs from _count");
      }
    }
  }
  return out;
}

}  // namespace ormdb::observability
