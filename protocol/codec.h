// Requests and replies of protocol/ormdb.capnp as plain C++ values: the
// server decodes a request frame into a Request and answers through a
// ReplyWriter; the remote client encodes a Request and decodes the reply.
// Cap'n Proto stays behind this header.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ormdb/database.h"
#include "ormdb/status.h"
#include "protocol/message.h"
#include "query/result_blocks.h"
#include "query/select_result.h"

namespace ormdb::protocol {

class Frame;

// The operations of a request (protocol/ormdb.capnp Request's union).
enum class RequestKind : uint8_t {
  kHello,
  kFetch,
  kMore,
  kMutate,
  kSchemaApply,
  kSchemaShow,
  kSchemaHistory,
  kExplain,
  kWatch,
  kStats,
  kGet,
  kExportRows,
  kImportRows,
  kVacuum,
  kCheck,
  kCurrentVersion,
  kUpload,
  kSelect,
  kUnknown,  // from a newer client
};

// A decoded request. Only the fields of its kind are set.
struct Request {
  uint64_t client = 0;
  uint64_t id = 0;
  std::string key;          // the API key ("" when none)
  std::string request_key;  // the write's idempotency key ("" when none)
  std::string token;        // a JWT naming the principal ("" when none)
  std::string act_as;       // a principal's JSON to act for ("" when none)
  RequestKind kind = RequestKind::kUnknown;
  unsigned wire_kind = 0;  // the union tag as received (kUnknown names it)

  // hello
  uint16_t min_version = 0, max_version = 0;
  std::string client_name;
  // fetch, select, explain (query, params, options; explain's analyze/json)
  std::string query, params;
  // explain.fetch is the fetch's options too, explain.select the select's
  ExplainOptions explain;
  bool select = false;  // explain: of a select statement
  // more, upload
  uint64_t handle = 0, offset = 0, total = 0;
  // mutate: the batch; exportRows and importRows: what; schemaApply: the text
  std::string text;
  ApplySchemaOptions schema;  // schemaApply (no progress over the wire)
  bool json = false;          // schemaShow
  // watch (wait: as asked, the server caps it)
  WatchOptions watch;
  // get
  std::string entity, row_id;
  // importRows (csv) and upload pieces (data)
  bool csv = false;
  std::string data;
};

// Decodes a request frame: header, size and segment table checked, limits
// set (docs/PROTOCOL.md "Frames"). INVALID_ARGUMENT says what is wrong; the
// frame's protocol version must be this one's.
Result<Request> DecodeRequest(Message frame, size_t max_bytes, FrameCounters* counters);
// The same over a whole request assembled from an upload (no header).
Result<Request> DecodeRequestWords(Words words);
// Encodes a request as a frame.
Result<Message> EncodeRequest(const Request& request);
// A request as a flat message without frame header (to be uploaded in
// pieces), and its size as one frame.
Words FlattenRequest(const Request& request);
size_t RequestFrameBytes(const Request& request);

// Builds one reply. Not thread-safe.
class ReplyWriter {
 public:
  explicit ReplyWriter(uint64_t id);
  ~ReplyWriter();
  ReplyWriter(const ReplyWriter&) = delete;
  ReplyWriter& operator=(const ReplyWriter&) = delete;

  void Error(const Status& status);
  void Hello(uint16_t version, std::string_view server, uint64_t current_version,
             uint64_t max_request_bytes, uint64_t max_frame_bytes, bool principals = true);
  void Fetch(const query::ResultBlocks& blocks);
  void Select(const query::SelectBlock& block);
  void Text(std::string_view text);
  void Mutate(const MutationResult& result);
  void Migration(const MigrationReport& report);
  void History(const std::vector<SchemaVersionInfo>& history);
  void Watch(const WatchBatch& batch);
  void Get(const std::optional<std::string>& row);
  void ExportRows(const std::vector<std::string>& lines);
  void ImportRows(const ImportReport& report);
  void Check(const CheckResult& result);
  void Version(uint64_t version);
  void Uploaded(uint64_t bytes);

  bool is_error() const;
  // The error's code; ErrorCode::kOk when the reply is not an error.
  ErrorCode error_code() const;
  // The reply as one frame: its size (header included), and the frame.
  size_t FrameBytes();
  Result<Message> ToFrame();
  // The reply as a flat message (no header), to be sent in chunks.
  Words ToWords();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Small replies built directly.
Result<Message> ErrorFrame(uint64_t id, const Status& status);
Result<Message> ChunkFrame(uint64_t id, uint64_t handle, uint64_t offset, uint64_t total,
                           std::span<const uint8_t> data);

// The kinds of reply (protocol/ormdb.capnp Reply's union).
enum class ReplyKind : uint8_t {
  kError,
  kHello,
  kFetch,
  kChunk,
  kText,
  kMutate,
  kMigration,
  kHistory,
  kWatch,
  kGet,
  kExportRows,
  kImportRows,
  kCheck,
  kVersion,
  kUploaded,
  kSelect,
  kUnknown,
};

// A decoded reply (the client side). A fetch reply keeps its frame inside
// the FetchResult that reads it in place (protocol/wire_result).
struct Reply {
  uint64_t id = 0;
  ReplyKind kind = ReplyKind::kUnknown;
  Status error;  // kError
  // hello
  uint16_t hello_version = 0;
  uint64_t current_version = 0, max_request_bytes = 0, max_frame_bytes = 0;
  bool principals = false;  // the server honours Request::token and act_as
  // chunk
  uint64_t handle = 0, offset = 0, total = 0;
  std::string data;
  std::string text;  // text
  MutationResult mutate;
  MigrationReport migration;
  std::vector<SchemaVersionInfo> history;
  WatchBatch watch;
  std::optional<std::string> row;  // get
  std::vector<std::string> lines;  // exportRows
  ImportReport import;
  CheckResult check;
  uint64_t version = 0;                  // version
  uint64_t uploaded = 0;                 // uploaded
  std::unique_ptr<FetchResult> fetch;    // fetch: the result, over the reply frame
  std::unique_ptr<SelectResult> select;  // select: the block, over the reply frame
};

// Decodes a reply frame from a trusted server (no traversal limit). An
// error reply is a Reply of kind kError, not a failed Result; a malformed
// one is INTERNAL.
Result<Reply> DecodeReply(std::unique_ptr<Frame> frame, std::string_view from);
// Opens a reply frame received from the server, or reassembled from chunks.
Result<std::unique_ptr<Frame>> OpenReplyFrame(Message msg, size_t max_bytes,
                                              FrameCounters* counters);
Result<std::unique_ptr<Frame>> OpenReplyWords(Words words);
// What the remote client calls, so that it never holds a Frame: a reply
// frame from the server at `from` opened (OpenReplyFrame), its protocol
// version checked against this one's, and decoded (DecodeReply).
Result<Reply> ReceiveReply(Message msg, size_t max_bytes, FrameCounters* counters,
                           std::string_view from);
// A reply reassembled from chunks, opened and decoded.
Result<Reply> DecodeReplyWords(Words words, std::string_view from);

}  // namespace ormdb::protocol
