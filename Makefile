# hull — build, guest assets and tests.
#   make            build/hull and build/hull-agent
#   make guest      build/guest/{vmlinuz,modules/,initramfs.img} from Debian's cloud kernel
#   make test       install deps, build, unit tests (sanitizers), integration in the right lane
#   make demo       the main job end to end: a container in a microVM
# Sources are picked up by directory, so adding a file needs no Makefile edit.

SHELL   := /bin/bash
CC      ?= gcc
BUILD   := build
CFLAGS_COMMON := -std=gnu11 -D_GNU_SOURCE -I. -Wall -Wextra -Werror \
                 -Wno-missing-field-initializers -fno-strict-aliasing -g
CFLAGS  ?= -O2
CFLAGS  += $(CFLAGS_COMMON)
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
HOST_LIBS  := -lyajl -lseccomp -lcap -lmnl -lpthread
AGENT_LIBS := -l:libyajl_s.a -l:libseccomp.a -l:libcap.a -lpthread

# runtime/sandbox_host_test.c is the test-only host backend: build/hull-test only.
LIB_SRC   := $(sort $(filter-out runtime/sandbox_host_test.c,$(wildcard runtime/*.c vmm/*.c)))
HULL_SRC  := $(sort $(wildcard cmd/hull/*.c))
AGENT_SRC := $(sort $(wildcard cmd/hull-agent/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))

LIB_OBJ      := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_SAN_OBJ  := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
HULL_OBJ     := $(HULL_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_OBJ    := $(AGENT_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ     := $(TEST_SRC:%.c=$(BUILD)/san/%.o)

BINS := $(BUILD)/hull $(if $(AGENT_SRC),$(BUILD)/hull-agent)

.PHONY: all deps guest test unit integration integration-clients demo fuzz bench clean
all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CFLAGS_VERSION) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O1 $(SAN) -MMD -MP -c $< -o $@

$(BUILD)/libhull.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/libhull-san.a: $(LIB_SAN_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/hull: $(HULL_OBJ) $(BUILD)/libhull.a
	$(CC) $(CFLAGS) -o $@ $(HULL_OBJ) $(BUILD)/libhull.a $(HOST_LIBS)

# `hull --version` reports the commit it was built from.
HULL_COMMIT := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
$(BUILD)/obj/cmd/hull/version.o $(BUILD)/test-obj/cmd/hull/version.o: CFLAGS_VERSION := -DHULL_COMMIT='"$(HULL_COMMIT)"'
$(BUILD)/obj/cmd/hull/version.o $(BUILD)/test-obj/cmd/hull/version.o: $(BUILD)/commit.stamp
# Rewritten only when the commit changes, so version.o rebuilds exactly then.
$(BUILD)/commit.stamp: FORCE
	@mkdir -p $(dir $@); echo '$(HULL_COMMIT)' | cmp -s - $@ || echo '$(HULL_COMMIT)' > $@
.PHONY: FORCE

# TEST ONLY: hull with the host process backend instead of the microVM, so
# integration/test-lifecycle.sh exercises the real CLI and supervisor
# without a VM.  Never installed; build/hull cannot reach that backend.
HULL_TEST_OBJ := $(HULL_SRC:%.c=$(BUILD)/test-obj/%.o) $(BUILD)/test-obj/runtime/sandbox_host_test.o
$(BUILD)/test-obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -O1 $(SAN) -DHULL_TEST_BACKEND $(CFLAGS_VERSION) -MMD -MP -c $< -o $@
$(BUILD)/hull-test: $(HULL_TEST_OBJ) $(BUILD)/libhull-san.a
	$(CC) $(SAN) -o $@ $(HULL_TEST_OBJ) $(BUILD)/libhull-san.a $(HOST_LIBS)

# PID 1 of the guest: static, so the initramfs needs no libc.
$(BUILD)/hull-agent: $(AGENT_OBJ) $(BUILD)/libhull.a
	$(CC) $(CFLAGS) -static -o $@ $(AGENT_OBJ) $(BUILD)/libhull.a $(AGENT_LIBS)

# One Criterion binary with every unit test, built with ASan+UBSan.  Command
# logic lives in the library (cmd/ files are thin), so tests link only that.
$(BUILD)/tests/unit: $(TEST_OBJ) $(BUILD)/libhull-san.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(TEST_OBJ) $(BUILD)/libhull-san.a $(HOST_LIBS) -lcriterion

# A single test file on its own, for quick iteration: make build/tests/test_foo
$(BUILD)/tests/test_%: $(BUILD)/san/tests/test_%.o $(BUILD)/libhull-san.a
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $< $(BUILD)/libhull-san.a $(HOST_LIBS) -lcriterion

# libFuzzer targets (clang): tests/fuzz/fuzz_<name>.c with seeds in
# tests/fuzz/corpus/<name>/.  They link only the pure sources below, so
# the rest of the tree need not build with clang.  `make fuzz` runs each
# for FUZZ_SECONDS; `make unit` replays the seeds.
FUZZ_SECONDS ?= 60
FUZZ_CC   ?= clang
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_LIB  := runtime/error.c $(wildcard runtime/protocol*.c runtime/container_mount_opts.c \
               runtime/json.c runtime/json_get.c runtime/json_gen.c runtime/log.c runtime/oci_*.c runtime/resources_map.c \
               vmm/virtqueue.c vmm/guest_mem.c)
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB) $(wildcard runtime/*.h vmm/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS_COMMON) -O1 -fsanitize=fuzzer,address,undefined -o $@ $< $(FUZZ_LIB) -lyajl
$(BUILD)/fuzz/gen_protocol_seeds: tests/fuzz/gen_protocol_seeds.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -o $@ $< $(FUZZ_LIB) -lyajl
fuzz: $(FUZZ_BINS)
	for f in $(FUZZ_BINS); do n=$${f##*/fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=131072 -print_final_stats=1 \
	    $(BUILD)/fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

deps:
	scripts/install-deps

# Criterion re-executes the test binary by path for every test, so the run
# uses a hard link of its own: a relink of build/tests/unit meanwhile (ld
# replaces the file) would otherwise fail a spawn with "Could not spawn
# test instance: Protocol error".  --jobs 2 (CI's cores); the suite is also
# clean with --jobs 1.  Criterion's .timeout is refused: tests/watchdog.h.
# test_container_agent runs build/hull-agent, hence that prerequisite.
unit: $(BUILD)/tests/unit $(FUZZ_BINS) $(if $(AGENT_SRC),$(BUILD)/hull-agent)
	@! grep -nE '^ *(Test|TestSuite|ParameterizedTest|Theory) *\(.*\.timeout *=' tests/test_*.c \
	  || { echo "tests: bound a test with test_watchdog() (tests/watchdog.h), not .timeout"; exit 1; }
	run=$(BUILD)/tests/.unit-run.$$$$; trap 'rm -f '$$run' '$$run.log EXIT; trap 'exit 130' INT TERM; \
	  ln -f $(BUILD)/tests/unit $$run && \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 $$run --jobs 2 \
	    2>&1 | tee $$run.log; rc=$${PIPESTATUS[0]}; \
	  if grep -q 'ERROR: LeakSanitizer' $$run.log; then \
	    echo "unit: LeakSanitizer reported a leak (Criterion does not fail the test for it)"; rc=1; fi; \
	  rm -f $$run.log; exit $$rc
	for f in $(FUZZ_BINS); do $$f tests/fuzz/corpus/$${f##*/fuzz_}/* || exit 1; done
	tests/check-schema.sh

guest: $(if $(AGENT_SRC),$(BUILD)/hull-agent)
	scripts/make-guest $(BUILD)/guest

integration: all $(BUILD)/hull-test
	integration/run

# Docker and containerd driving the production hull (issue: integration),
# alone; `make integration` runs them too (about 6 min in the nested lane).
integration-clients: all
	integration/run integration/client-docker.sh integration/client-containerd.sh

# Builds use every core; the test runs themselves manage their own parallelism.
JOBS := -j$(shell nproc 2>/dev/null || echo 2)

test: deps
	$(MAKE) $(JOBS) all $(BUILD)/tests/unit $(BUILD)/hull-test
	$(MAKE) unit
	$(MAKE) guest
	$(MAKE) integration

demo: deps
	$(MAKE) all guest
	scripts/demo

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
