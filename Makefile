# Thin wrapper over CMake. `make run` and `make test` are the two commands a newcomer needs.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
DATA_DIR ?= ./data
LISTEN ?= 127.0.0.1:7700

.PHONY: all deps configure build run test bench sanitize clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > /dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# On an empty data directory the demo projects are seeded once the server is up.
run: build
	@if [ ! -d "$(DATA_DIR)" ]; then \
	  (ACCORD_TARGET=$(LISTEN) $(BUILD_DIR)/client/accord demo --wait 60 || true) & \
	fi; \
	exec $(BUILD_DIR)/server/accordd --listen=$(LISTEN) --data_dir=$(DATA_DIR)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(JOBS)

bench: build
	bench/run_standard.sh $(BUILD_DIR)

# Every test under AddressSanitizer and UndefinedBehaviorSanitizer, in its own build
# directory (a full build takes ≈15 min on 2 cores; not part of `make test`). ThreadSanitizer
# is left out: Debian's Abseil, gRPC and RocksDB are not built with it, so it cannot see
# their locks and would report races that are not there.
SANITIZE_DIR ?= build-sanitize
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
sanitize: deps
	@cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS="$(SANITIZE_FLAGS)" -DCMAKE_EXE_LINKER_FLAGS="$(SANITIZE_FLAGS)" \
	  -DCMAKE_SHARED_LINKER_FLAGS="$(SANITIZE_FLAGS)" > /dev/null
	@cmake --build $(SANITIZE_DIR) -j $(JOBS)
	cd $(SANITIZE_DIR) && ctest --output-on-failure --timeout 900 -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR)
