# Thin wrapper over CMake. `make run` and `make test` are the two commands a newcomer needs.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
DATA_DIR ?= ./data
LISTEN ?= 127.0.0.1:7700

.PHONY: all deps configure build run test bench clean

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

clean:
	rm -rf $(BUILD_DIR)
