# Two commands for newcomers; both set up a fresh Debian 12 machine.
#   make demo   boot the default guest image and print the counters
#   make check  run every test
BUILD ?= build

.PHONY: all deps build demo check bench fuzz clean

all: build

deps:
	@./tools/setup-deps

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	./tools/demo $(BUILD)

check: build
	meson test -C $(BUILD) --print-errorlogs

bench: build
	meson test -C $(BUILD) --benchmark --verbose

# libFuzzer runs of every parser of untrusted bytes, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 30
fuzz: build
	tests/vmm/fuzz.sh $(FUZZ_SECONDS)
	tests/replay/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD)
