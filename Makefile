# gssconform: build of the reference peer, the project's tests and the conformance report.
#
#   make            build peer/gsspeer
#   make check      install missing packages, build, run every test through prove
#   make report     install missing packages, build, run the whole suite into reports/
#   make mutation   the kill matrix of gsspeer's planted deviations into reports/mutation/
#   make install    PREFIX=/usr/local DESTDIR=
#   make SANITIZE=1 ...   the same with ASan + UBSan (objects kept apart in build-san/)
#   make bench      figures (never assertions) into reports/bench/ (docs/bench.md)
#   make fuzz       build the libFuzzer targets (clang, build-fuzz/) and run each FUZZ_SECONDS
#   make fuzz-smoke the same for FUZZ_SMOKE_SECONDS each plus its seed corpus (docs/fuzzing.md)

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(DESTDIR)$(PREFIX)/bin
LIBEXEC  = $(DESTDIR)$(PREFIX)/libexec/gssconform
DATADIR  = $(DESTDIR)$(PREFIX)/share/gssconform

VERSION := 0.1.0
PKGS    := krb5-gssapi krb5 libzmq libstrophe expat openssl libidn2 jansson

# Recursive (=) on purpose: pkg-config runs only when a compile needs it, after `deps` ran.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS))

CC      ?= cc
FUZZ_CC ?= clang
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
STD     := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
# BUILD may be overridden (BUILD=build-mine) to keep parallel builds of one tree apart.
ifeq ($(FUZZ),1)
# The fuzz build (make fuzz): clang, libFuzzer's coverage, ASan + UBSan; only fuzz/ links the
# fuzzer's main().
CC      := $(FUZZ_CC)
BUILD   ?= build-fuzz
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
            -fno-omit-frame-pointer
else ifeq ($(SANITIZE),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD   ?= build
SANFLAGS :=
endif
ALL_CFLAGS  = $(STD) $(WARN) $(CFLAGS) $(SANFLAGS) -DGSSCONFORM_VERSION='"$(VERSION)"' \
              -Ipeer $(PKG_CFLAGS) $(SHIM_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

# Every .c under peer/ is picked up: the engine and role modules go into one static library,
# gsspeer.c holds main(). Under peer/tests, tap.c is the emitter, *-t.c are TAP tests and any
# other .c is a helper program the Python tests drive.
PEER_MAIN   := peer/gsspeer.c
PEER_SRCS   := $(filter-out $(PEER_MAIN),$(shell find peer -name '*.c' -not -path 'peer/tests/*' | sort))
PEER_OBJS   := $(PEER_SRCS:%.c=$(BUILD)/%.o)
PEER_LIB    := $(BUILD)/libgsspeer.a
TAP_OBJ     := $(BUILD)/peer/tests/tap.o
TEST_SRCS   := $(shell find peer/tests -name '*.c' -not -name tap.c | sort)
TEST_PROGS  := $(TEST_SRCS:%.c=$(BUILD)/%)
C_TESTS     := $(filter %-t,$(TEST_PROGS))
PY_TESTS     = $(shell find tests -name '*-t.py' | sort)

# libFuzzer targets: fuzz/<name>.c -> build-fuzz/fuzz/<name>, each with its seed corpus in
# fuzz/corpus/<name>/ (fuzz/fakegss.c is the fake GSS table they share; docs/fuzzing.md).
# The ordinary build turns each corpus into a TAP test, $(BUILD)/fuzz/<name>-t (fuzz/replay.c).
FUZZ_SECONDS       ?= 60
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_SRCS    := $(filter-out fuzz/fakegss.c fuzz/replay.c,$(wildcard fuzz/*.c))
FUZZ_PROGS   := $(FUZZ_SRCS:%.c=$(BUILD)/%)
FUZZ_REPLAYS := $(FUZZ_SRCS:%.c=$(BUILD)/%-t)

# Bundled C candidate shims: candidates/<name>/*.c -> $(BUILD)/candidates/<name>/<name>-shim
SHIM_DIRS   := $(sort $(dir $(wildcard candidates/*/*.c)))
SHIMS       := $(foreach d,$(SHIM_DIRS),$(BUILD)/$(d)$(notdir $(patsubst %/,%,$(d)))-shim)
# pkg-config packages only one shim needs (its objects and its link, not gsspeer):
# SHIM_PKGS_<name> for candidates/<name>/.
SHIM_PKGS_cyrus := libsasl2
shim_pkgs    = $(SHIM_PKGS_$(firstword $(subst /, ,$(patsubst $(BUILD)/candidates/%,%,$@))))
SHIM_CFLAGS  = $(if $(shim_pkgs),$(shell pkg-config --cflags $(shim_pkgs)))
SHIM_LIBS    = $(if $(shim_pkgs),$(shell pkg-config --libs $(shim_pkgs)))

GSSPEER     := $(BUILD)/gsspeer

.PHONY: all deps check test test-memory report bench mutation install clean format fuzz fuzz-smoke fuzz-build fuzz-progs FORCE
all: $(GSSPEER) peer/gsspeer $(SHIMS)

deps:
	@deps/ensure

# `check` and `report` install what is missing first, then build in a fresh make so that
# pkg-config sees the installed packages.
check: deps
	@$(MAKE) --no-print-directory test

report: deps
	@$(MAKE) --no-print-directory all
	./gssconform report --out reports --build $(BUILD)

# The kill matrix (docs/mutation.md): the catalogue against gsspeer with each planted deviation.
mutation: all
	PYTHONPATH=$(CURDIR)/runner python3 -m gssconform.mutation --out reports/mutation -j 3 \
	    --build $(BUILD) $(if $(DEVIATIONS),--deviation $(DEVIATIONS))

# The Python tests import the runner, their helpers in tests/ and realm-setup/'s krbrealm through
# this one PYTHONPATH (one test by hand: PYTHONPATH=runner:tests:realm-setup prove tests/x-t.py).
TEST_PYTHONPATH = $(CURDIR)/runner:$(CURDIR)/tests:$(CURDIR)/realm-setup

test: all $(TEST_PROGS) $(FUZZ_REPLAYS)
	PYTHONPATH=$(TEST_PYTHONPATH) GSSCONFORM_BUILD=$(abspath $(BUILD)) \
	    prove $(if $(V),-v) $(C_TESTS) $(FUZZ_REPLAYS) $(PY_TESTS)

# What .ci/run runs again on the ASan + UBSan build (make SANITIZE=1 test-memory): every C test
# and corpus replay, and the Python tests that drive gsspeer's roles and engines without tight
# timing windows. The catalogue's 1-second bounds would measure a sanitized build's speed on a
# loaded machine, not its memory safety; `make SANITIZE=1 test` still runs everything.
SAN_PY_TESTS = tests/xmpp/cli-t.py tests/xmpp/sasl-roundtrip-t.py tests/xmpp/server-t.py \
               tests/xmpp/client-t.py tests/zmtp/server-t.py tests/zmtp/mechanism-t.py \
               tests/realm/gss-roundtrip-t.py tests/realm/rfc4121-t.py
test-memory: all $(TEST_PROGS) $(FUZZ_REPLAYS)
	PYTHONPATH=$(TEST_PYTHONPATH) GSSCONFORM_BUILD=$(abspath $(BUILD)) \
	    prove $(if $(V),-v) $(C_TESTS) $(FUZZ_REPLAYS) $(SAN_PY_TESTS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(PEER_LIB): $(PEER_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(GSSPEER): $(BUILD)/peer/gsspeer.o $(PEER_LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

# peer/gsspeer is what users call; it points at the last build made (the runner does not follow
# it: it uses build/ unless --build or GSSCONFORM_BUILD says otherwise). Checked on
# every make (a link's own time says nothing about which build it names).
peer/gsspeer: $(GSSPEER) FORCE
	@[ "$$(readlink $@)" = "../$(GSSPEER)" ] || ln -sfn ../$(GSSPEER) $@

FORCE:

$(BUILD)/peer/tests/%: $(BUILD)/peer/tests/%.o $(TAP_OBJ) $(PEER_LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

# Keep objects that pattern chains would delete as intermediates (tests, shims).
.SECONDARY:
.SECONDEXPANSION:
# (no % inside: make would put the stem there)
$(BUILD)/candidates/%-shim: $$(addprefix $(BUILD)/,$$(addsuffix .o,$$(basename $$(wildcard $$(dir candidates/$$*)*.c)))) $(PEER_LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) $(SHIM_LIBS) -o $@

fuzz-build:
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-progs

fuzz-progs: $(FUZZ_PROGS)

fuzz: fuzz-build
	fuzz/run --seconds $(FUZZ_SECONDS) --build build-fuzz $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	fuzz/run --seconds $(FUZZ_SMOKE_SECONDS) --build build-fuzz $(FUZZ_TARGETS)

$(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/fakegss.o $(PEER_LIB)
	$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer $^ $(PKG_LIBS) -o $@

$(BUILD)/fuzz/%-t: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/replay.o $(BUILD)/fuzz/fakegss.o $(PEER_LIB)
	$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

# Benchmarks: bench/*.c are helper programs (libzmq engine to engine); bench/throughput runs
# everything and writes reports/bench/. BENCH_ARGS passes options (e.g. --report, --reps 7).
BENCH_PROGS := $(patsubst %.c,$(BUILD)/%,$(wildcard bench/*.c))

$(BUILD)/bench/%: $(BUILD)/bench/%.o
	$(CC) $(ALL_LDFLAGS) $^ $(PKG_LIBS) -o $@

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_PROGS)
	bench/throughput --build $(BUILD) --out reports/bench $(BENCH_ARGS)

# Installed layout: programs in libexec (the runner finds them through GSSCONFORM_BUILD, the
# same way as in a checkout), the runner and its data in share, two commands in bin.
install: all
	install -d $(BINDIR) $(LIBEXEC) $(DATADIR)
	install -m 755 $(GSSPEER) $(BINDIR)/gsspeer
	install -m 755 $(GSSPEER) $(LIBEXEC)/gsspeer
	for shim in $(SHIMS); do install -D -m 755 $$shim $(LIBEXEC)/$${shim#$(BUILD)/}; done
	cp -R gssconform runner realm-setup scenarios candidates vectors $(DATADIR)/
	find $(DATADIR) -name __pycache__ -prune -exec rm -rf {} +
	printf '#!/bin/sh\nGSSCONFORM_BUILD="$${GSSCONFORM_BUILD:-%s}" exec python3 %s/gssconform "$$@"\n' \
	    "$(PREFIX)/libexec/gssconform" "$(PREFIX)/share/gssconform" > $(BINDIR)/gssconform
	chmod 755 $(BINDIR)/gssconform

format:
	clang-format -i $(shell find peer candidates -name '*.[ch]')

clean:
	rm -rf build build-san build-fuzz peer/gsspeer

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
