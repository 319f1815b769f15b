# Two commands for newcomers; both set up a fresh Debian 12 machine.
#   make demo   boot the default guest image and print the counters
#   make check  run every test
BUILD ?= build

.PHONY: all deps build demo check check-asan bench fuzz clean

all: build

deps:
	@./tools/setup-deps

$(BUILD)/build.ninja: | deps
	meson setup $(BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

demo: build
	./tools/demo $(BUILD)

# Every test on the platform the machine has (KVM, else ptrace); where KVM
# exists, the guest-facing suites run a second time on the ptrace platform.
GUEST_SUITES = --suite vmm --suite guest --suite trace --suite nested --suite hardening --suite programs
check: build
	meson test -C $(BUILD) --print-errorlogs
	@if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then \
		echo "check: /dev/kvm is usable: the guest suites again on the ptrace platform"; \
		DMTVM_TEST_PLATFORM=ptrace meson test -C $(BUILD) --print-errorlogs $(GUEST_SUITES); \
	fi

# The same code under ASan+UBSan (build-asan/; the freestanding guest kernel
# and test guest are built unsanitized) and the model, replay, vmm, guest,
# trace, hardening and nested suites on it. Leak checks are off (short-lived tools
# exit without freeing); any UBSan report fails. tests/hardening/README.md.
BUILD_ASAN ?= build-asan
ASAN_ENV = ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
$(BUILD_ASAN)/build.ninja: | deps
	meson setup $(BUILD_ASAN) -Db_sanitize=address,undefined

check-asan: deps $(BUILD_ASAN)/build.ninja
	$(ASAN_ENV) ninja -C $(BUILD_ASAN)
	$(ASAN_ENV) meson test -C $(BUILD_ASAN) --print-errorlogs --suite model --suite replay \
		--suite vmm --suite guest --suite trace --suite hardening --suite nested --suite programs

bench: build
	meson test -C $(BUILD) --benchmark --verbose

# libFuzzer runs of every parser of untrusted bytes, FUZZ_SECONDS each.
FUZZ_SECONDS ?= 30
fuzz: build
	tests/vmm/fuzz.sh $(FUZZ_SECONDS)
	tests/replay/fuzz.sh $(FUZZ_SECONDS)
	tests/hardening/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
