# make setup: Debian packages, .venv, torch (local CPU build), pinned deps, the package (no build isolation).
# make run:   setup, then python -m comfy on 127.0.0.1:8188.
# make test:  setup, then GoogleTest (ctest) and pytest.
# make bench: setup (and wrk), then bench/run.py: one table, ours next to baselines run in the same command.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
APT_PACKAGES := build-essential cmake pkg-config ccache libpistache-dev nlohmann-json3-dev libssl-dev libgtest-dev \
  libdeflate-dev libturbojpeg0-dev libwebp-dev libpng-dev
# Only the tests need a browser (the end-to-end UI test drives Debian's chromium).
TEST_APT_PACKAGES := chromium
# The benchmarks drive HTTP with wrk.
BENCH_APT_PACKAGES := wrk
BUILD_DIR := build/cp311
HOST ?= 127.0.0.1
PORT ?= 8188

.PHONY: setup run test test-cpp test-py bench apt venv install clean

setup: apt venv install

apt:
	@missing=""; for p in $(APT_PACKAGES) $(EXTRA_APT); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(VPY):
	$(PY) -m venv $(VENV)

venv: $(VPY)
	@$(VPY) -c "import torch, sys; sys.exit(0 if torch.__version__.startswith('2.13.0') else 1)" 2>/dev/null || \
	  $(VPY) -m pip install -q torch==2.13.0
	@$(VPY) -m pip install -q -r requirements.txt

# One CMake build dir, kept between runs (ccache underneath): a one-line change rebuilds in seconds.
install: venv
	@$(VPY) -m pip install -q --no-build-isolation --no-deps \
	  -Cbuild-dir=$(BUILD_DIR) -Ccmake.define.CMAKE_MAKE_PROGRAM=$(CURDIR)/$(VENV)/bin/ninja -e .

run: setup
	@echo "Open http://$(HOST):$(PORT) in your browser"
	$(VPY) -m comfy --listen $(HOST) --port $(PORT)

test-cpp:
	cd $(BUILD_DIR) && ctest --output-on-failure

test-py:
	$(VPY) -m pytest -q tests/python

test:
	$(MAKE) --no-print-directory setup EXTRA_APT="$(TEST_APT_PACKAGES)"
	$(MAKE) --no-print-directory test-cpp
	$(MAKE) --no-print-directory test-py

bench:
	$(MAKE) --no-print-directory setup EXTRA_APT="$(BENCH_APT_PACKAGES)"
	cmake --build $(BUILD_DIR) --target comfy_bench_executor
	$(VPY) bench/run.py

clean:
	rm -rf build
