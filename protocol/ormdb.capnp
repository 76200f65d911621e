# The ormdb wire protocol (DESIGN.md §7; framing and evolution rules in
# docs/PROTOCOL.md).
#
# Every request and reply is one nng REQ/REP message: a 4-byte frame header
# ("OR", the protocol major version, flags), then one Cap'n Proto message in
# the standard flat form (segment table, then segments). The header makes
# the message 8-aligned where nng places received bodies, so replies are
# read in place.
#
# Evolution: fields and union members are only ever appended (Cap'n Proto
# keeps old readers working); a change that old peers cannot ignore bumps
# the major version in the frame header, and each side rejects a major
# version it does not speak with a clear error.

@0x8b789e91523c9e72;

$import "/capnp/c++.capnp".namespace("ormdb::wire");

struct Request {
  # Scopes request ids: a random number per client handle.
  client @0 :UInt64;
  # Unique per client. A request resent with the same (client, id) — by
  # nng after a lost pipe, or by the application — is answered from the
  # first execution, never applied twice.
  id @1 :UInt64;
  # The API key (empty when the server has none configured).
  key @2 :Text;

  union {
    hello @3 :Hello;
    fetch @4 :FetchRequest;
    more @5 :MoreRequest;
    mutate @6 :Text;                 # a mutation batch (DESIGN.md §4), JSON
    schemaApply @7 :SchemaApplyRequest;
    schemaShow @8 :SchemaShowRequest;
    schemaHistory @9 :Void;
    explain @10 :ExplainRequest;
    watch @11 :WatchRequest;
    stats @12 :Void;
    get @13 :GetRequest;
    exportRows @14 :Text;            # an entity or "Entity.relation"
    importRows @15 :ImportRequest;
    vacuum @16 :Void;
    check @17 :Void;
    currentVersion @18 :Void;
    upload @19 :UploadRequest;
    select @21 :SelectRequest;       # relational mode (DESIGN.md §11)
  }

  # A write's idempotency key, chosen by the application (empty: none).
  # A write whose key an earlier committed write of the same principal
  # carried, within the history retention, is not applied again: the
  # earlier outcome is returned, across server restarts too.
  requestKey @20 :Text;

  # A JSON Web Token naming the principal the request acts for in the
  # schema's access policies (DESIGN.md §10; docs/PROTOCOL.md "Principals").
  # Empty: none. Verified by the server (jwt in its config); a request with
  # a valid token needs no key when the server has keys but the token's
  # signer is trusted.
  token @22 :Text;
  # The principal to act for, as JSON ({"id": 7, "roles": ["user"],
  # "tenant": "acme"}, or null for anonymous). Empty: none. Only a key with
  # the server role impersonate or admin may send it (PERMISSION_DENIED
  # otherwise); a server that predates it ignores it, so clients send it
  # only to a server whose HelloReply says `principals`.
  actAs @23 :Text;
}

struct UploadRequest {
  # A request larger than the server's frame limit (HelloReply.
  # maxFrameBytes), sent in pieces. `total` is the size of the whole
  # request (a flat Cap'n Proto Request message, without frame header,
  # a whole number of 8-byte words); pieces come in order. Every piece is
  # authenticated before the server keeps it; the reply to the last piece
  # is the reply to the whole request, the others are `uploaded`.
  handle @0 :UInt64;                 # the client's random number for this upload
  offset @1 :UInt64;
  total @2 :UInt64;
  data @3 :Data;
}

struct Hello {
  # The protocol versions the client speaks.
  minVersion @0 :UInt16;
  maxVersion @1 :UInt16;
  clientName @2 :Text;
}

struct FetchOptions {
  # Each optional number is sent as value + 1; 0 means not given.
  asOf @0 :UInt64;
  maxEntities @1 :UInt64;
  maxEdges @2 :UInt64;
  maxDepth @3 :UInt64;
  maxBytes @4 :UInt64;
  onExceed @5 :UInt8;                # 0 not given, 1 error, 2 truncate
  maxScannedRows @6 :UInt64;
}

struct SelectOptions {
  # Each optional number is sent as value + 1; 0 means not given.
  asOf @0 :UInt64;
  maxScannedRows @1 :UInt64;
  maxRows @2 :UInt64;
}

struct SelectRequest {
  text @0 :Text;                     # a select statement
  params @1 :Text;                   # a JSON object
  options @2 :SelectOptions;
}

struct FetchRequest {
  query @0 :Text;                    # text form, or the JSON IR
  params @1 :Text;                   # a JSON object
  options @2 :FetchOptions;
}

struct MoreRequest {
  # A continuation of a reply too large for one frame.
  handle @0 :UInt64;
  offset @1 :UInt64;
}

struct SchemaApplyRequest {
  text @0 :Text;
  dryRun @1 :Bool;
  allowDestructive @2 :Bool;
  fileName @3 :Text;
}

struct SchemaShowRequest {
  json @0 :Bool;
}

struct ExplainRequest {
  query @0 :Text;
  params @1 :Text;
  options @2 :FetchOptions;
  analyze @3 :Bool;
  json @4 :Bool;
  select @5 :Bool;                   # `query` is a select statement
  selectOptions @6 :SelectOptions;   # its options (select only)
}

struct WatchRequest {
  entities @0 :List(Text);
  from @1 :UInt64;
  hasFrom @2 :Bool;                  # false: from the current version
  waitMillis @3 :UInt32;             # long-poll; capped by the server
  maxEvents @4 :UInt32;
  subscriber @5 :Text;
}

struct GetRequest {
  entity @0 :Text;
  id @1 :Text;
}

struct ImportRequest {
  what @0 :Text;
  csv @1 :Bool;
  data @2 :Data;
}

struct Reply {
  id @0 :UInt64;                     # the request's id
  union {
    error @1 :Error;
    hello @2 :HelloReply;
    fetch @3 :ResultBlocks;
    chunk @4 :Chunk;
    text @5 :Text;                   # schema text or JSON, explain, stats JSON, vacuum JSON
    mutate @6 :MutateReply;
    migration @7 :Migration;
    history @8 :List(SchemaVersion);
    watch @9 :WatchReply;
    get @10 :GetReply;
    exportRows @11 :List(Text);      # JSON lines
    importRows @12 :ImportReply;
    check @13 :CheckReply;
    version @14 :UInt64;
    uploaded @15 :UInt64;            # bytes of an upload received so far
    select @16 :SelectBlock;
  }
}

struct Error {
  code @0 :UInt16;                   # ormdb::ErrorCode (append-only numbering)
  message @1 :Text;
}

struct HelloReply {
  version @0 :UInt16;                # the protocol version chosen
  server @1 :Text;                   # "ormdb 0.5.0"
  currentVersion @2 :UInt64;
  maxRequestBytes @3 :UInt64;        # larger requests are refused
  # Request frames larger than this are refused (the connection is
  # closed): send larger requests as an upload. 0 from servers that
  # predate uploads.
  maxFrameBytes @4 :UInt64;
  # Whether the server honours Request.token and Request.actAs (false from
  # servers that predate them, which would ignore both).
  principals @5 :Bool;
}

struct Chunk {
  # A reply too large for one frame, in pieces: `data` holds bytes
  # [offset, offset + size) of the whole reply (a flat Cap'n Proto Reply
  # message, 8-aligned size `total`). Pull the rest with MoreRequest.
  handle @0 :UInt64;
  offset @1 :UInt64;
  total @2 :UInt64;
  data @3 :Data;
}

struct MutateReply {
  version @0 :UInt64;
  json @1 :Text;
}

struct Migration {
  grade @0 :UInt8;
  changes @1 :List(Change);
  applied @2 :Bool;
  schemaVersion @3 :UInt32;
  commitVersion @4 :UInt64;
  indexesBuilt @5 :UInt64;
  rowsIndexed @6 :UInt64;
  struct Change {
    grade @0 :UInt8;
    description @1 :Text;
  }
}

struct SchemaVersion {
  schemaVersion @0 :UInt32;
  commitVersion @1 :UInt64;
  timeMicros @2 :Int64;
  grade @3 :UInt8;
  summary @4 :Text;
}

struct WatchReply {
  events @0 :List(Text);
  token @1 :UInt64;
}

struct GetReply {
  found @0 :Bool;
  json @1 :Text;
}

struct ImportReply {
  rows @0 :UInt64;
  version @1 :UInt64;
}

struct CheckReply {
  problems @0 :List(Text);
  summary @1 :Text;
}

# A graph-fetch result: the engine's result blocks as they are, read by the
# client in place (docs/PROTOCOL.md "Result blocks").
struct ResultBlocks {
  version @0 :UInt64;
  next @1 :Text;
  hasNext @2 :Bool;
  stats @3 :FetchStats;
  entities @4 :List(EntityBlock);
  nodes @5 :List(NodeBlock);
}

struct FetchStats {
  entities @0 :UInt64;
  edges @1 :UInt64;
  bytes @2 :UInt64;
  truncated @3 :Bool;
  truncatedAt @4 :Text;
}

enum ValueKind {
  none @0;
  boolean @1;
  integer @2;
  real @3;
  string @4;
  bytes @5;
  timestamp @6;
  uuid @7;
  json @8;
}

# One column of an entity block: one value per row. The values live in the
# list of the column's kind; `nulls` is empty when no value is null.
struct Column {
  name @0 :Text;
  kind @1 :ValueKind;
  nulls @2 :List(Bool);
  ints @3 :List(Int64);              # integer, timestamp (µs), boolean (0/1)
  floats @4 :List(Float64);
  texts @5 :List(Text);              # string, json
  blobs @6 :List(Data);              # bytes
  uuids @7 :Data;                    # 16 bytes per row
}

struct EntityBlock {
  entity @0 :Text;
  ids @1 :Column;
  columns @2 :List(Column);
}

# One include of the query (node 0 is the root): the rows it reached, by
# parent row.
struct NodeBlock {
  entity @0 :Text;
  block @1 :UInt32;                  # its EntityBlock
  parent @2 :Int32;                  # -1 for the root
  path @3 :Text;                     # "User.posts.comments"
  relation @4 :Text;                 # the include's name in its parent
  toOne @5 :Bool;
  limited @6 :Bool;                  # renders "<relation>@next"
  processed @7 :Bool;                # false: not reached (truncation)
  items @8 :List(Item);              # the query's selection, in order
  # Per row of the parent's entity block: 1 + its slot, or 0 (no slot).
  slotOfRow @9 :List(UInt32);
  # Slots in order of first appearance: parent row, children range.
  slotParent @10 :List(UInt32);
  slotBegin @11 :List(UInt32);
  slotEnd @12 :List(UInt32);
  slotPartial @13 :List(Bool);
  slotNext @14 :List(Text);          # empty list when not limited
  slotHasNext @15 :List(Bool);
  children @16 :List(UInt32);        # rows of `block`

  struct Item {
    name @0 :Text;
    isInclude @1 :Bool;
    column @2 :Int32;                # a field's column in the block (-1: id)
    child @3 :UInt32;                # an include's node
  }
}

# A select's result (relational mode): one columnar block, read by the
# client in place. Every column has `rows` values (Column as in an entity
# block; an all-null column has kind none and only `nulls`).
struct SelectBlock {
  version @0 :UInt64;
  next @1 :Text;
  hasNext @2 :Bool;
  rows @3 :UInt64;
  columns @4 :List(Column);
}
