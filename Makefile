# ormdb: the two commands a fresh Debian 12 machine needs are `make run` and
# `make test`; both install what they need first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSAN_BUILD ?= build-tsan
BENCH_BUILD ?= build-bench
TSA_BUILD  ?= build-thread-safety
JOBS       ?= 2
DATA       ?= ./ormdb-data
# make fuzz: seconds per fuzz target (tests/fuzz/run.sh has the other knobs).
FUZZ_SECONDS ?= 60

# Every Debian package the build and the tests need.
APT_PACKAGES := build-essential cmake ccache pkg-config \
  liblmdb-dev lmdb-utils libcapnp-dev capnproto libnng-dev libmimalloc-dev \
  libgtest-dev libgmock-dev libedit-dev openssl libssl-dev ca-certificates python3 libsqlite3-dev \
  pybind11-dev python3-dev python3-pytest python3-mypy python3-setuptools python3-wheel python3-pip python3-venv \
  prometheus chromium
# The TypeScript client's test needs node (18 or newer) and npm: Debian's,
# unless an npm is already on PATH (NodeSource's nodejs includes it).
NODE_PACKAGES := $(if $(shell command -v npm),,nodejs npm)
# What the benchmarks add (make bench only): Google Benchmark and the
# systems they measure against.
BENCH_PACKAGES := libbenchmark-dev libsqlite3-dev postgresql libpq-dev
# What fuzz, tsan and thread-safety add: clang with libFuzzer and the
# sanitizer runtimes.
CLANG_PACKAGES := clang-14 libclang-rt-14-dev

.PHONY: deps deps-clang deps-bench build test asan fuzz tsan thread-safety bench install run clean

# Installs the missing packages only; a no-op when everything is present.
deps: PACKAGES = $(APT_PACKAGES) $(NODE_PACKAGES)
deps-clang: PACKAGES = $(CLANG_PACKAGES)
deps-bench: PACKAGES = $(BENCH_PACKAGES)
deps deps-clang deps-bench:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# AddressSanitizer + UndefinedBehaviorSanitizer build (mimalloc off), all tests
# but layers_test (it reads the sources and runs no binary).
asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DORMDB_SANITIZE=ON -DORMDB_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -E '^layers_test$$'

# libFuzzer + ASan + UBSan (clang 14): builds the fuzz targets of tests/fuzz
# and runs each for FUZZ_SECONDS, two at a time; fails on a crash (input in
# $(FUZZ_BUILD)/fuzz-artifacts). Prints executions per target. The build also
# compiles the CLI and checks clang's thread-safety analysis as errors over
# every library (what `make thread-safety` checks), so CI compiles the
# sources with clang once.
fuzz: deps deps-clang
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -DORMDB_FUZZ=ON -DORMDB_THREAD_SAFETY=ON \
	  -DORMDB_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
	  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g"
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_targets ormdb
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# ThreadSanitizer (gcc 12, benchmarks and mimalloc off): the tests that run
# threads against each other (storage writer and crash tests, server, change
# streams, pagination under concurrent writes), by tests/tsan/run.sh. Any
# report fails the run; tests/tsan/tsan.supp silences third-party code only.
TSAN_TARGETS := storage_test storage_crash_child db_test server_test watch_server_test fetch_test \
  audit_test
tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORMDB_TSAN=ON -DORMDB_BENCH=OFF \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g"
	cmake --build $(TSAN_BUILD) -j$(JOBS) --target $(TSAN_TARGETS)
	tests/tsan/run.sh $(TSAN_BUILD)

# clang's thread-safety analysis as errors (-Wthread-safety
# -Werror=thread-safety, see common/mutex.h): the libraries and the CLI,
# compiled without optimization or debug information (only the diagnostics
# matter). `make fuzz` checks the same in its build; this is the quick check.
thread-safety: deps deps-clang
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(TSA_BUILD) -DORMDB_THREAD_SAFETY=ON -DORMDB_BENCH=OFF \
	  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g0" -DCMAKE_C_FLAGS_DEBUG="-O0 -g0"
	cmake --build $(TSA_BUILD) -j$(JOBS) --target ormdb

# The benchmarks, in a build of their own (ORMDB_BENCH is off in the test
# build, which stays lighter).
bench: deps deps-bench
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DORMDB_BENCH=ON
	cmake --build $(BENCH_BUILD) -j$(JOBS)
	$(BENCH_BUILD)/bench/storage_bench --benchmark_counters_tabular=true
	$(BENCH_BUILD)/bench/import_bench
	$(BENCH_BUILD)/bench/fetch_bench --benchmark_min_time=1
	$(BENCH_BUILD)/bench/server_bench --benchmark_min_time=1
	$(BENCH_BUILD)/bench/imdb_bench --benchmark_min_time=1
	$(BENCH_BUILD)/bench/imdb_server_bench --benchmark_min_time=1
	$(BENCH_BUILD)/bench/policy_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true

# Installs the headers, libraries, CMake package and the `ormdb` binary
# under PREFIX (default /usr/local, so `ormdb` is on the PATH).
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Serves ./ormdb-data on tcp://127.0.0.1:7411 until Ctrl-C.
run: build
	$(BUILD)/ormdb serve --data $(DATA)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSAN_BUILD) $(TSA_BUILD) $(BENCH_BUILD)
