# ormdb: the two commands a fresh Debian 12 machine needs are `make run` and
# `make test`; both install what they need first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
DATA       ?= ./ormdb-data

# Every Debian package the build, the tests and the benchmarks need.
APT_PACKAGES := build-essential cmake ccache pkg-config \
  liblmdb-dev lmdb-utils libcapnp-dev capnproto libnng-dev libmimalloc-dev \
  libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev postgresql libpq-dev openssl

.PHONY: deps build test asan bench run clean

# Installs the missing packages only; a no-op when everything is present.
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
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
	cd $(BUILD) && ctest --output-on-failure

# AddressSanitizer + UndefinedBehaviorSanitizer build (mimalloc off), all tests.
asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DORMDB_SANITIZE=ON -DORMDB_BENCH=OFF
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure

bench: build
	$(BUILD)/bench/storage_bench --benchmark_counters_tabular=true
	$(BUILD)/bench/import_bench
	$(BUILD)/bench/fetch_bench --benchmark_min_time=1
	$(BUILD)/bench/server_bench --benchmark_min_time=1

# Serves ./ormdb-data on tcp://127.0.0.1:7411 until Ctrl-C.
run: build
	$(BUILD)/ormdb serve --data $(DATA)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
