# The two commands of the README: `make demo` (main job) and `make test`. Each installs what it needs.
SWIFT ?= swift
RLHF  := .build/release/rlhf
# Optimised tensor kernels in every build of this checkout (see Package.swift).
export RLHFKIT_DEVELOPMENT := 1

.PHONY: demo test deps build release bench

# The whole RLHF pipeline on the built-in assistant task (about 5 minutes on 2 cores); results in rlhf-demo/.
DEMO_OUT ?= rlhf-demo
demo: deps release
	$(RLHF) demo --out $(DEMO_OUT)$(if $(wildcard $(DEMO_OUT)/stages), --resume)

# Beyond the build: a headless browser for the labeling page's browser test, Open MPI for the data-parallel tests.
test: deps
	@scripts/apt-install.sh chromium chromium-driver openmpi-bin
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product rlhf

bench: release
	$(RLHF) bench engine --json

# OpenBLAS on Debian/Ubuntu (Accelerate on macOS needs nothing).
deps:
	@scripts/install-deps.sh
