# hull — build, guest assets and tests.
#   make            build/hull and build/hull-agent
#   make guest      build/guest/{vmlinuz,modules/,initramfs.img} from Debian's cloud kernel
#   make test       install deps, build, unit tests (sanitizers), integration in the right lane
#   make demo       the main job end to end: a container in a microVM
# Sources are picked up by directory, so adding a file needs no Makefile edit.

CC      ?= gcc
BUILD   := build
CFLAGS_COMMON := -std=gnu11 -D_GNU_SOURCE -I. -Wall -Wextra -Werror \
                 -Wno-missing-field-initializers -fno-strict-aliasing -g
CFLAGS  ?= -O2
CFLAGS  += $(CFLAGS_COMMON)
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
HOST_LIBS  := -lyajl -lseccomp -lcap -lmnl -lpthread
AGENT_LIBS := -l:libyajl_s.a -l:libseccomp.a -l:libcap.a -lpthread

LIB_SRC   := $(sort $(wildcard runtime/*.c vmm/*.c))
HULL_SRC  := $(sort $(wildcard cmd/hull/*.c))
AGENT_SRC := $(sort $(wildcard cmd/hull-agent/*.c))
TEST_SRC  := $(sort $(wildcard tests/test_*.c))

LIB_OBJ      := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
LIB_SAN_OBJ  := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
HULL_OBJ     := $(HULL_SRC:%.c=$(BUILD)/obj/%.o)
AGENT_OBJ    := $(AGENT_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ     := $(TEST_SRC:%.c=$(BUILD)/san/%.o)

BINS := $(BUILD)/hull $(if $(AGENT_SRC),$(BUILD)/hull-agent)

.PHONY: all deps guest test unit integration demo fuzz bench clean
all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

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

deps:
	scripts/install-deps

unit: $(BUILD)/tests/unit
	$(BUILD)/tests/unit --jobs 2

guest: $(if $(AGENT_SRC),$(BUILD)/hull-agent)
	scripts/make-guest $(BUILD)/guest

integration: all
	integration/run

test: deps
	$(MAKE) all $(BUILD)/tests/unit
	$(MAKE) unit
	$(MAKE) guest
	$(MAKE) integration

demo: deps
	$(MAKE) all guest
	scripts/demo

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
