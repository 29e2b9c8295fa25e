# The two commands of the README, and a few conveniences. The build itself is CMake + Ninja.
BUILD  := build/release
CEP    := $(BUILD)/cli/cep
GEN    := $(BUILD)/tools/gen-events
JOBS   ?= 2

PREFIX ?= /usr/local

.PHONY: all setup build install test demo asan tsan fuzz fuzz-artifacts difftest chaos chaos-kafka format format-check golden-update clean bench-interp bench bench-serve bench-state real-broker-mock

all: build

setup:
	@scripts/setup --no-build

build:
	@scripts/setup

# Puts `cep` on the PATH: $(PREFIX)/bin/cep, and the whole program it hands commands to in
# $(PREFIX)/libexec/cep/cep-full (`make install PREFIX=$$HOME/.local` needs no root).
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

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

# The tests that run threads (ctest label `threads`) under ThreadSanitizer (Debug, build/tsan):
# cep_thread_tests (incl. the [service] unit tests) and the serve scripts, which run an
# instrumented `cep`. Only the targets they need are built; a threaded test that needs another
# adds it here.
TSAN_TARGETS ?= cep_thread_tests cep
tsan:
	@scripts/setup --preset tsan --no-build
	cmake --build build/tsan --target $(TSAN_TARGETS)
	ctest --test-dir build/tsan -L threads --output-on-failure -j $(JOBS)

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

# Mutated .cepo artifacts through the whole load path (tests/fuzz/README.md). The fuzzer writes
# its seed (tests/fuzz/artifact_seed.cep compiled) into the corpus at start-up. One forked job
# that carries on after a crash (each is kept as build/fuzz/crash-*); leaks are not reported
# because LLVM's bitcode reader leaks placeholder values on some malformed inputs.
fuzz-artifacts:
	@scripts/setup --preset fuzz --no-build
	cmake --build build/fuzz --target artifact_load_fuzz
	rm -rf build/fuzz/artifact_corpus && mkdir -p build/fuzz/artifact_corpus
	cp tests/fuzz/regressions/*.cepo build/fuzz/artifact_corpus/
	cd build/fuzz && CEP_FUZZ_SEED_OUT=artifact_corpus/seed.cepo ASAN_OPTIONS=detect_leaks=0 \
	  tests/fuzz/artifact_load_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=4096 \
	  -timeout=30 -detect_leaks=0 -fork=1 -ignore_crashes=1 -print_final_stats=1 artifact_corpus

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

# The kill loop's long form (tests/chaos/README.md, docs/state.md): 1M events fed to
# `cep serve --state`, 100 SIGKILLs at random moments, a keep deploy in the middle; the outputs
# must equal an uninterrupted run's. Not part of make test (about 5-10 min). CHAOS_ARGS adds
# options (e.g. --seed N --work DIR).
chaos: build
	tests/chaos/kill_loop.py --cep $(CEP) --events 1000000 --kills 100 --swap --rate 20000 \
	  --max-life 1.0 $(CHAOS_ARGS)
	tests/chaos/kill_loop.py --cep $(CEP) --rules tests/chaos/rules_more.cep --keys 500 \
	  --events 1000000 --kills 50 --swap --rate 40000 --max-life 1.0 $(CHAOS_ARGS)

# The Kafka kill loop (tests/kafka/README.md): kafka.exactly_once's scene, `cep serve --state`
# from a kafka:// input to a transactional kafka:// output on the mock cluster, SIGKILLed
# KAFKA_KILLS times (default 40) at random moments while the fraud stream arrives, then on 2 and
# 1 workers in turn; the committed records must equal `cep run`'s, every other one a duplicate in
# an aborted transaction. Not part of make test (about 5 min). CHAOS_ARGS adds options (--seed N).
KAFKA_KILLS ?= 40
chaos-kafka: build
	tests/kafka/check_exactly_once.py --cep $(CEP) --mock $(BUILD)/tools/kafka-mock \
	  --example examples/fraud --workdir $(BUILD)/chaos-kafka --kills $(KAFKA_KILLS) $(CHAOS_ARGS)
	tests/kafka/check_exactly_once.py --cep $(CEP) --mock $(BUILD)/tools/kafka-mock \
	  --example examples/fraud --workdir $(BUILD)/chaos-kafka-workers2 --kills $(KAFKA_KILLS) \
	  --workers 2 $(CHAOS_ARGS)

# tests/kafka/real_broker.sh (the strict exactly-once and scale-out check for a real cluster) run
# whole against librdkafka's mock cluster without kills (tests/kafka/README.md): every step of the
# script is run although no broker is here. About 2 minutes; not part of make test.
real-broker-mock: build
	tests/kafka/real_broker_mock.py --cep $(CEP) --mock $(BUILD)/tools/kafka-mock

# The numbers of `cep serve` (bench/README.md): deploy pauses with 10k and 1M live runs,
# throughput against `cep run`, deploy latency (~5 min). Not part of make test.
bench-serve: build
	nice cmake --build $(BUILD) --target bench-gen-seq cep-bench
	bench/serve_bench.py --cep $(CEP) $(BENCH_ARGS)

# The numbers of `cep serve --state` (bench/README.md): checkpoint throughput on seq 10M, the
# cost of an incremental checkpoint with 1M keys, recovery (~10 min). Not part of make test.
bench-state: build
	nice cmake --build $(BUILD) --target bench-gen-seq
	bench/state_bench.py --cep $(CEP) $(BENCH_ARGS)
