# The two commands of the README: `make demo` (main job) and `make test`. Each installs what it needs.
SWIFT ?= swift
RLHF  := .build/release/rlhf

.PHONY: demo test deps build release bench

demo: deps release
	$(RLHF) bench engine

test: deps
	@scripts/install-browser.sh
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
