#include "common/uuid.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>
#include <vector>

namespace ormdb {
namespace {

std::string ParseError(std::string_view text) {
  Result<Uuid> r = ParseUuid(text);
  EXPECT_FALSE(r.ok()) << "parsed: " << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  return r.status().message();
}

TEST(UuidTest, ParseAndFormat) {
  Result<Uuid> r = ParseUuid("123e4567-e89b-12d3-a456-426614174000");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bytes[0], 0x12);
  EXPECT_EQ(r->bytes[15], 0x00);
  EXPECT_EQ(r->bytes[6], 0x12);
  EXPECT_EQ(FormatUuid(*r), "123e4567-e89b-12d3-a456-426614174000");
  // Either case in, lowercase out; matches Value::DebugString.
  Result<Uuid> upper = ParseUuid("ABCDEF01-2345-6789-ABCD-EF0123456789");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(FormatUuid(*upper), "abcdef01-2345-6789-abcd-ef0123456789");
  EXPECT_EQ(Value::MakeUuid(*upper).DebugString(), FormatUuid(*upper));
  EXPECT_EQ(*ParseUuid("abcdef01-2345-6789-abcd-ef0123456789"), *upper);
  EXPECT_EQ(FormatUuid(Uuid{}), "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(FormatUuid(*ParseUuid("ffffffff-ffff-ffff-ffff-ffffffffffff")),
            "ffffffff-ffff-ffff-ffff-ffffffffffff");
}

TEST(UuidTest, Errors) {
  EXPECT_EQ(ParseError(""),
            "invalid uuid \"\": expected 36 characters: 8-4-4-4-12 hex digits separated by '-', "
            "found 0");
  EXPECT_NE(ParseError("123e4567e89b12d3a456426614174000").find("found 32"), std::string::npos);
  EXPECT_NE(ParseError("{123e4567-e89b-12d3-a456-426614174000}").find("found 38"),
            std::string::npos);
  EXPECT_EQ(ParseError("123e4567-e89b-12d3-a456_426614174000"),
            "invalid uuid \"123e4567-e89b-12d3-a456_426614174000\": expected '-' at column 24");
  EXPECT_NE(ParseError("123e4567-e89b-12d3-a4g6-426614174000").find("hex digit at column 22"),
            std::string::npos);
  EXPECT_NE(ParseError("g23e4567-e89b-12d3-a456-426614174000").find("hex digit at column 1"),
            std::string::npos);
  EXPECT_NE(ParseError("123e4567-e89b-12d3-a456-42661417400 ").find("hex digit at column 36"),
            std::string::npos);
  EXPECT_NE(ParseError("123e4567--89b-12d3-a456-426614174000").find("hex digit at column 10"),
            std::string::npos);
  EXPECT_NE(ParseError(std::string(36, '\xff')).find("\\xff"), std::string::npos);
}

TEST(UuidTest, RandomV4HasVersionAndVariant) {
  std::set<Uuid> seen;
  for (int i = 0; i < 10000; ++i) {
    Uuid u = RandomUuidV4();
    EXPECT_EQ(u.bytes[6] >> 4, 4);
    EXPECT_EQ(u.bytes[8] >> 6, 2);
    std::string text = FormatUuid(u);
    EXPECT_EQ(text[14], '4');
    Result<Uuid> back = ParseUuid(text);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, u);
    EXPECT_TRUE(seen.insert(u).second) << "duplicate " << text;
  }
}

TEST(UuidTest, RandomV4IsUniqueAcrossThreads) {
  constexpr int kThreads = 4, kPerThread = 5000;
  std::vector<std::vector<Uuid>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&results, t] {
      for (int i = 0; i < kPerThread; ++i) results[t].push_back(RandomUuidV4());
    });
  }
  for (auto& th : threads) th.join();
  std::set<Uuid> all;
  for (const auto& r : results) all.insert(r.begin(), r.end());
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
}

TEST(UuidTest, ForkedChildDoesNotRepeatParent) {
  RandomUuidV4();  // seed this thread's generator before forking
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    Uuid u = RandomUuidV4();
    ssize_t n = write(fds[1], u.bytes.data(), u.bytes.size());
    _exit(n == 16 ? 0 : 1);
  }
  close(fds[1]);
  Uuid parent = RandomUuidV4();
  Uuid child;
  ASSERT_EQ(read(fds[0], child.bytes.data(), child.bytes.size()), 16);
  close(fds[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(parent, child);
}

}  // namespace
}  // namespace ormdb
