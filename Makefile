# The two commands of the README, and a few conveniences. The build itself is CMake + Ninja.
BUILD  := build/release
CEP    := $(BUILD)/cli/cep
GEN    := $(BUILD)/tools/gen-events
JOBS   ?= 2

.PHONY: all setup build test demo asan fuzz difftest format format-check golden-update clean bench-interp bench

all: build

setup:
	@scripts/setup --no-build

build:
	@scripts/setup

# The whole suite: unit tests, golden tests, end-to-end CLI runs.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The main job on the bundled example.
demo: build
	@scripts/demo $(BUILD)

# The suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	@scripts/setup --preset asan-ubsan
	ctest --test-dir build/asan-ubsan --output-on-failure -j $(JOBS)

# Rewrites every golden expectation from the current build; review with git diff.
golden-update: build
	tests/run_golden --cep $(CEP) --update

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build

# Fuzz parse+check for FUZZ_SECONDS (default 600) with the golden files as seeds.
FUZZ_SECONDS ?= 600
fuzz:
	@scripts/setup --preset fuzz --no-build
	cmake --build build/fuzz --target parse_check_fuzz
	rm -rf build/fuzz/corpus && mkdir -p build/fuzz/corpus
	cp $$(find tests/golden examples tests/fuzz/regressions -name '*.cep') build/fuzz/corpus/
	cd build/fuzz && tests/fuzz/parse_check_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -dict=../../tests/fuzz/cep.dict -print_final_stats=1 corpus

# Differential tester, long mode: random cases for SECONDS (default 1800), failures kept.
SECONDS ?= 1800
difftest: build
	tests/fuzz/difftest_long $(CEP) $(SECONDS) $(JOBS)

# Interpreter baseline benchmark (bench/RESULTS.md); not part of make test.
bench-interp: build
	bench/interp_baseline $(BUILD) 3

# The benchmark suite of the LLVM-backend issue (bench/README.md): builds its own build/bench,
# generates the inputs, prints the table. Not part of make test. BENCH_ARGS=--large adds 10M.
bench:
	bench/run $(BENCH_ARGS)
