# liftoff — build, test and benchmark entry points. `make help` lists them.
#
# Every lib/*.c goes into one static library; every program directory with a
# main.c becomes bin/liftoff-<dir>; every tests/unit/test_*.c and
# tests/integration/test_*.c joins its runner. Adding a file needs no edit here.
#
# O=DIR and BIN=DIR put objects and binaries elsewhere (the sanitizer build
# uses build-san/), so several builds can live side by side.

O   ?= build
BIN ?= bin
CC  ?= cc

PKGS      := libcurl jansson hiredis yaml-0.1 openssl libwebsockets
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPT     ?= -O2
WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wno-unused-parameter
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SAN_FLAGS) -Ilib $(PKG_CFLAGS) -MMD -MP
LDLIBS_ALL = $(PKG_LIBS) -lm

ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

PROGRAMS := $(patsubst %/main.c,%,$(wildcard ingest/main.c predictor/main.c controller/main.c sidecar/main.c sim/main.c))
BINARIES := $(patsubst %,$(BIN)/liftoff-%,$(PROGRAMS))

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst %.c,$(O)/%.o,$(LIB_SRCS))
LIB_A    := $(O)/libliftoff.a

# Each program's objects except main.o also form an archive the test runners
# link, so tests reach program logic. Program-level symbols carry the program's
# prefix (ingest_, sidecar_, ...) so archives never clash.
PROG_DIRS     := $(sort $(patsubst %/,%,$(dir $(wildcard ingest/*.c predictor/*.c controller/*.c sidecar/*.c sim/*.c))))
PROG_ARCHIVES := $(patsubst %,$(O)/libliftoff-%.a,$(PROG_DIRS))
PROG_TEST_OBJS := $(PROG_ARCHIVES)

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
INTEG_SRCS := $(wildcard tests/integration/test_*.c)
SUPPORT_SRCS := $(wildcard tests/support/*.c)
UNIT_BIN   := $(O)/unit-tests
INTEG_BIN  := $(O)/integration-tests

# (bench-* are not listed: make never applies a pattern rule such as bench-%
# to a phony target.)
.PHONY: all deps test test-unit test-integration test-e2e sanitize valgrind lint fuzz \
        cluster-up cluster-down clean help
.DEFAULT_GOAL := all

all: $(BINARIES) $(UNIT_BIN) $(INTEG_BIN)

help:
	@echo "make            build bin/ and the test runners (CC=clang works too)"
	@echo "make deps       install the Debian packages the build and tests need"
	@echo "make test       unit + integration + e2e tests, sanitizer and valgrind runs"
	@echo "make sanitize   unit + integration tests built with ASan + UBSan"
	@echo "make valgrind   unit tests under valgrind (no errors, no leaks)"
	@echo "make lint       cppcheck with the checked-in configuration"
	@echo "make fuzz       run each libFuzzer target for FUZZ_SECONDS (default 60)"
	@echo "make bench-*    benchmarks (ingest, predictor, sidecar, controller)"

deps:
	@bash hack/deps.sh

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

.SECONDEXPANSION:
$(BIN)/liftoff-%: $(O)/%/main.o $(O)/libliftoff-%.a $(LIB_A)
	@mkdir -p $(BIN)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS_ALL)

# empty.o keeps an archive valid while its program has only main.c.
# (No % inside: in a pattern rule's prerequisites it would stand for the stem.)
$(O)/libliftoff-%.a: $(O)/empty.o $$(addprefix $(O)/,$$(addsuffix .o,$$(basename $$(filter-out $$*/main.c,$$(wildcard $$*/*.c)))))
	@rm -f $@
	ar rcs $@ $^

$(O)/empty.o:
	@mkdir -p $(O)
	echo 'typedef int liftoff_empty_unit;' | $(CC) -x c -c -o $@ -

$(UNIT_BIN): $(patsubst %.c,$(O)/%.o,$(UNIT_SRCS) tests/runner.c) $(PROG_TEST_OBJS) $(LIB_A)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS_ALL)

$(INTEG_BIN): $(patsubst %.c,$(O)/%.o,$(INTEG_SRCS) $(SUPPORT_SRCS) tests/runner.c) $(PROG_TEST_OBJS) $(LIB_A)
	$(CC) $(SAN_FLAGS) -o $@ $^ $(LDLIBS_ALL)

$(O)/tests/%.o: ALL_CFLAGS += -I. -Itests -Itests/support

# ---- tests ----

test: deps
	@bash tests/run-all.sh

test-unit: $(UNIT_BIN)
	$(UNIT_BIN) $(T)

test-integration: $(INTEG_BIN) $(BINARIES)
	LIFTOFF_BIN=$(abspath $(BIN)) $(INTEG_BIN) $(T)

test-e2e: $(BINARIES)
	LIFTOFF_BIN=$(abspath $(BIN)) bash tests/e2e/run.sh $(T)

sanitize:
	$(MAKE) O=build-san BIN=build-san/bin SAN=1 OPT=-O1 test-unit test-integration

valgrind: $(UNIT_BIN)
	valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible $(UNIT_BIN) $(T)

lint:
	@bash hack/lint.sh

FUZZ_SECONDS ?= 60
fuzz:
	@bash hack/fuzz.sh $(FUZZ_SECONDS)

# ---- local control plane ----

cluster-up:
	@bash hack/cluster.sh up
cluster-down:
	@bash hack/cluster.sh down

# ---- benchmarks (not tests) ----

bench-%: all
	@if [ -x bench/$*.sh ] || [ -f bench/$*.sh ]; then LIFTOFF_BIN=$(abspath $(BIN)) bash bench/$*.sh; \
	 else echo "bench-$*: not built yet (arrives with its issue)" >&2; exit 2; fi

clean:
	rm -rf build build-san build-fuzz bin

-include $(shell find $(O) -name '*.d' 2>/dev/null)
