#include "storage/change_log.h"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace ormdb::storage {
namespace {

// Entry format (little-endian, unaligned):
//   u8 format (1), i64 commit time, u32 record count, records...
//   record: u8 kind, then
//     kind 1 row:   u32 type, u64 id, u8 flags (1 = before, 2 = after,
//                   4 = the before image is the row as of version - 1 in the
//                   rows table, 8 = the after image is the row as of this
//                   version), [u32 len, bytes] before unless 4,
//                   [u32 len, bytes] after unless 8 (4 and 8: format-2 data
//                   files only)
//     kind 2 edge:  u32 relation, u64 from, u64 to, u8 linked
//     kind 3 note:  u32 len, bytes
//     kind 4 request: u32 len, key bytes (added with the `requests` table;
//                   a build that predates it reports such an entry as
//                   corrupted: "unknown record kind")
constexpr uint8_t kFormat = 1;
enum : uint8_t { kKindRow = 1, kKindEdge = 2, kKindAnnotation = 3, kKindRequest = 4 };
enum : uint8_t { kHasBefore = 1, kHasAfter = 2, kBeforeByRef = 4, kAfterByRef = 8 };

// Whether a row record's flags are well-formed: a by-reference bit only with
// its image.
bool ValidRowFlags(uint8_t flags) {
  return flags <= 15 && (!(flags & kBeforeByRef) || (flags & kHasBefore)) &&
         (!(flags & kAfterByRef) || (flags & kHasAfter));
}

template <typename T>
void PutLE(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

void PutBlob(std::string* out, std::string_view b) {
  PutLE<uint32_t>(out, static_cast<uint32_t>(b.size()));
  out->append(b);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool GetBlob(std::string* out) {
    uint32_t n;
    if (!Get(&n) || in_.size() < n) return false;
    out->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  // Skips a blob without copying it.
  bool SkipBlob() {
    uint32_t n;
    if (!Get(&n) || in_.size() < n) return false;
    in_.remove_prefix(n);
    return true;
  }
  bool Skip(size_t n) {
    if (in_.size() < n) return false;
    in_.remove_prefix(n);
    return true;
  }
  bool empty() const { return in_.empty(); }

 private:
  std::string_view in_;
};

Status Corrupted(Version v, const char* what) {
  return Internal("corrupted change log entry at version " + std::to_string(v) + ": " + what);
}

}  // namespace

std::string EncodeChangeSet(const ChangeSet& cs, bool images_by_reference) {
  // by_ref[i]: the by-reference bits of record i.
  std::vector<uint8_t> by_ref(cs.records.size(), 0);
  if (images_by_reference) {
    std::vector<std::tuple<uint32_t, RowId, uint32_t>> rows;
    for (uint32_t i = 0; i < cs.records.size(); ++i) {
      if (const auto* row = std::get_if<RowDelta>(&cs.records[i])) {
        rows.emplace_back(row->type.value, row->id, i);
      }
    }
    std::sort(rows.begin(), rows.end());
    for (size_t a = 0; a < rows.size();) {
      size_t b = a;
      while (b + 1 < rows.size() && std::get<0>(rows[b + 1]) == std::get<0>(rows[a]) &&
             std::get<1>(rows[b + 1]) == std::get<1>(rows[a])) {
        ++b;
      }
      by_ref[std::get<2>(rows[a])] |= kBeforeByRef;
      by_ref[std::get<2>(rows[b])] |= kAfterByRef;
      a = b + 1;
    }
  }
  std::string out;
  out.push_back(static_cast<char>(kFormat));
  PutLE<int64_t>(&out, cs.commit_time_micros);
  PutLE<uint32_t>(&out, static_cast<uint32_t>(cs.records.size()));
  for (size_t i = 0; i < cs.records.size(); ++i) {
    const ChangeRecord& r = cs.records[i];
    if (const auto* row = std::get_if<RowDelta>(&r)) {
      out.push_back(static_cast<char>(kKindRow));
      PutLE<uint32_t>(&out, row->type.value);
      PutLE<uint64_t>(&out, row->id);
      uint8_t flags = (row->before ? kHasBefore : 0) | (row->after ? kHasAfter : 0);
      if (row->before && (by_ref[i] & kBeforeByRef)) flags |= kBeforeByRef;
      if (row->after && (by_ref[i] & kAfterByRef)) flags |= kAfterByRef;
      out.push_back(static_cast<char>(flags));
      if (row->before && !(flags & kBeforeByRef)) PutBlob(&out, *row->before);
      if (row->after && !(flags & kAfterByRef)) PutBlob(&out, *row->after);
    } else if (const auto* edge = std::get_if<EdgeDelta>(&r)) {
      out.push_back(static_cast<char>(kKindEdge));
      PutLE<uint32_t>(&out, edge->relation.value);
      PutLE<uint64_t>(&out, edge->from);
      PutLE<uint64_t>(&out, edge->to);
      out.push_back(edge->linked ? 1 : 0);
    } else if (const auto* note = std::get_if<Annotation>(&r)) {
      out.push_back(static_cast<char>(kKindAnnotation));
      PutBlob(&out, note->data);
    } else {
      out.push_back(static_cast<char>(kKindRequest));
      PutBlob(&out, std::get<RequestRecord>(r).key);
    }
  }
  return out;
}

Result<int64_t> PeekCommitTime(std::string_view bytes) {
  Reader in(bytes);
  uint8_t format;
  int64_t t;
  if (!in.Get(&format) || format != kFormat || !in.Get(&t)) {
    return Internal("corrupted change log entry header");
  }
  return t;
}

Result<ChangeSet> DecodeChangeSet(Version version, std::string_view bytes,
                                  const RowImageReader* images) {
  Reader in(bytes);
  ChangeSet cs;
  cs.version = version;
  uint8_t format;
  uint32_t count;
  if (!in.Get(&format)) return Corrupted(version, "empty");
  if (format != kFormat) return Corrupted(version, "unknown entry format");
  if (!in.Get(&cs.commit_time_micros) || !in.Get(&count))
    return Corrupted(version, "truncated header");
  // Each record takes at least 5 bytes: a bound on count before reserving.
  if (count > bytes.size() / 5) return Corrupted(version, "record count exceeds entry size");
  cs.records.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t kind;
    if (!in.Get(&kind)) return Corrupted(version, "truncated record");
    switch (kind) {
      case kKindRow: {
        RowDelta row;
        uint8_t flags;
        if (!in.Get(&row.type.value) || !in.Get(&row.id) || !in.Get(&flags) ||
            !ValidRowFlags(flags)) {
          return Corrupted(version, "bad row record");
        }
        // The image of the row as of version `at`, read from the rows table.
        auto by_ref = [&](Version at, std::optional<std::string>* image) -> Status {
          if (images == nullptr || !*images) {
            return Internal("change log entry at version " + std::to_string(version) +
                            " names row images in the rows table, and no reader was given");
          }
          ORMDB_ASSIGN_OR_RETURN(*image, (*images)(row.type, row.id, at));
          if (!image->has_value()) {
            return Internal("change log entry at version " + std::to_string(version) +
                            ": the image of row " + std::to_string(row.id) + " of type " +
                            std::to_string(row.type.value) + " as of version " +
                            std::to_string(at) + " is gone");
          }
          return Status::Ok();
        };
        if (flags & kBeforeByRef) {
          ORMDB_RETURN_IF_ERROR(by_ref(version - 1, &row.before));
        } else if (flags & kHasBefore) {
          row.before.emplace();
          if (!in.GetBlob(&*row.before)) return Corrupted(version, "bad before image");
        }
        if (flags & kAfterByRef) {
          ORMDB_RETURN_IF_ERROR(by_ref(version, &row.after));
        } else if (flags & kHasAfter) {
          row.after.emplace();
          if (!in.GetBlob(&*row.after)) return Corrupted(version, "bad after image");
        }
        cs.records.emplace_back(std::move(row));
        break;
      }
      case kKindEdge: {
        EdgeDelta edge;
        uint8_t linked;
        if (!in.Get(&edge.relation.value) || !in.Get(&edge.from) || !in.Get(&edge.to) ||
            !in.Get(&linked) || linked > 1) {
          return Corrupted(version, "bad edge record");
        }
        edge.linked = linked == 1;
        cs.records.emplace_back(edge);
        break;
      }
      case kKindAnnotation: {
        Annotation a;
        if (!in.GetBlob(&a.data)) return Corrupted(version, "bad annotation");
        cs.records.emplace_back(std::move(a));
        break;
      }
      case kKindRequest: {
        RequestRecord r;
        if (!in.GetBlob(&r.key)) return Corrupted(version, "bad request record");
        cs.records.emplace_back(std::move(r));
        break;
      }
      default:
        return Corrupted(version, "unknown record kind");
    }
  }
  if (!in.empty()) return Corrupted(version, "trailing bytes");
  return cs;
}

Result<std::vector<std::string>> PeekRequestKeys(Version version, std::string_view bytes) {
  Reader in(bytes);
  uint8_t format;
  int64_t time;
  uint32_t count;
  if (!in.Get(&format)) return Corrupted(version, "empty");
  if (format != kFormat) return Corrupted(version, "unknown entry format");
  if (!in.Get(&time) || !in.Get(&count)) return Corrupted(version, "truncated header");
  std::vector<std::string> keys;
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t kind;
    if (!in.Get(&kind)) return Corrupted(version, "truncated record");
    switch (kind) {
      case kKindRow: {
        uint8_t flags;
        if (!in.Skip(4 + 8) || !in.Get(&flags) || !ValidRowFlags(flags)) {
          return Corrupted(version, "bad row record");
        }
        if ((flags & kHasBefore) && !(flags & kBeforeByRef) && !in.SkipBlob()) {
          return Corrupted(version, "bad before image");
        }
        if ((flags & kHasAfter) && !(flags & kAfterByRef) && !in.SkipBlob()) {
          return Corrupted(version, "bad after image");
        }
        break;
      }
      case kKindEdge: {
        uint8_t linked;
        if (!in.Skip(4 + 8 + 8) || !in.Get(&linked) || linked > 1) {
          return Corrupted(version, "bad edge record");
        }
        break;
      }
      case kKindAnnotation:
        if (!in.SkipBlob()) return Corrupted(version, "bad annotation");
        break;
      case kKindRequest: {
        std::string key;
        if (!in.GetBlob(&key)) return Corrupted(version, "bad request record");
        keys.push_back(std::move(key));
        break;
      }
      default:
        return Corrupted(version, "unknown record kind");
    }
  }
  if (!in.empty()) return Corrupted(version, "trailing bytes");
  return keys;
}

}  // namespace ormdb::storage
