// Helpers shared by the benchmarks.
#pragma once

#include <sys/vfs.h>

#include <cstdio>
#include <string>

namespace ormdb::bench {

// The file system holding `path`, for the header of a benchmark report
// (durable-commit numbers mean nothing on tmpfs).
inline std::string FilesystemName(const std::string& path) {
  struct statfs fs;
  if (statfs(path.c_str(), &fs) != 0) return "unknown filesystem";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x01021994:
      return "tmpfs: fsync is free, commit numbers are not disk numbers";
    case 0x794C7630:
      return "overlayfs";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "fs type 0x%lx", static_cast<unsigned long>(fs.f_type));
      return buf;
    }
  }
}

}  // namespace ormdb::bench
