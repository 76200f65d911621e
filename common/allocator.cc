// Compiled into every executable that links mimalloc (ormdb_executable_allocator
// in the top-level CMakeLists.txt): the allocator's settings, applied before
// main.
//
// Large OS pages: mimalloc asks the kernel for transparent huge pages
// (madvise) on the memory it maps. A bulk import holds its batch and LMDB's
// dirty pages in memory (about 1 GB for 700,000 rows); with 4 KiB pages it
// took half a million page faults, and on a virtual machine a fault costs
// several microseconds (docs/PERFORMANCE.md, "Bulk import"). With 2 MiB pages
// it takes a fifth as many. MIMALLOC_LARGE_OS_PAGES=0 in the environment
// turns it off.
#include <mimalloc.h>

#include <cstdlib>

namespace {

struct AllocatorSettings {
  AllocatorSettings() {
    if (std::getenv("MIMALLOC_LARGE_OS_PAGES") == nullptr) {
      mi_option_enable(mi_option_large_os_pages);
    }
  }
};

const AllocatorSettings settings;

}  // namespace
