# eddy: build, test, bench, demo, deps, sanitizer and fuzz builds.
#   make            the eddy binary (./eddy) and build/libeddy.a
#   make test       installs what is missing (make deps), runs every suite
#   make SANITIZE=1 test   the same with ASan + UBSan, in build-san/
#   make bench      learner, detector and end-to-end figures
#   make python     the Python package (python/) installed in a fresh virtualenv and tested
#   make demo       the embedded demo (broker, generator, pipeline, live view)
#   make peers      River, scikit-learn (PyPI) and MOA (Maven Central) into .cache/
#   make compare    eddy beside MOA, River and scikit-learn: docs/COMPARISON.md
#   make fuzz       libFuzzer targets (clang, ASan + UBSan) in build-fuzz/, each
#                   run for FUZZ_SECONDS (60); FUZZ_TARGETS="csv json" picks some
#   make valgrind   the unit and integration suites under Valgrind's memcheck
#   make faults     the fault suite (tests/faults): crashes, broker and Redis
#                   failures, hostile input, each run checked by eddy verify;
#                   FAULTS=short is CI's quick version
#   make unit-clang the unit suites built by clang with ASan + UBSan
#   make install    PREFIX=/usr/local (DESTDIR too): bin/eddy, lib/libeddy.{a,so},
#                   include/eddy/, lib/pkgconfig/eddy.pc, share/man/man1/eddy.1
#   make uninstall  removes what install put there

SANITIZE ?= 0
PKGS := rdkafka hiredis libuv avro-c inih jansson libxxhash zlib libcrypto

ifeq ($(SANITIZE),1)
BUILD := build-san
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD := build
OPT := -O2 -g
endif

CC ?= cc
# V=1 shows the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lhttp_parser
CFLAGS += -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
          -pthread -MMD -MP -I. $(PKG_CFLAGS)
LDFLAGS += $(filter -fsanitize=%,$(OPT)) -pthread
LDLIBS += $(PKG_LIBS) -lm

# Every .c under these folders (and their subfolders) is part of the
# library, except the command line's main; and the dashboard's page,
# generated into $(BUILD)/gen/.
DIRS := core learners detectors generators connectors engine
LIB_SRC := $(filter-out engine/cli/main.c,$(sort $(shell find $(DIRS) -name '*.c')))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/dash_assets.o
LIB := $(BUILD)/libeddy.a
ifeq ($(SANITIZE),1)
BIN := $(BUILD)/eddy
else
BIN := eddy
endif

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps peers test layers unit integration python install uninstall man bench demo compare reference clean check-deps fuzz fuzz-build valgrind unit-clang faults
.DEFAULT_GOAL := all

all: check-deps $(BIN) $(BUILD)/eddy.1

# Fails early, with the command that fixes it, when a library is missing.
check-deps:
	@pkg-config --exists $(PKGS) 2>/dev/null || { echo "missing libraries: run 'make deps'"; exit 1; }

deps:
	@tools/deps.sh

# The trees and forests are the per-record hot path of the ensembles: -O3,
# and sqrt as one instruction (errno is never read); neither changes a
# result (no reassociation, no contraction on baseline x86-64).
ifneq ($(SANITIZE),1)
$(BUILD)/learners/trees/%.o $(BUILD)/learners/ensembles/%.o: OPT += -O3 -fno-math-errno
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# The dashboard's page (engine/dashboard/) and uPlot (npm, pinned in
# tools/deps.sh, fetched into .cache/npm) embedded in the binary as C arrays.
UPLOT := .cache/npm/node_modules/uplot/dist
DASH_FILES := /|text/html;charset=utf-8|engine/dashboard/index.html \
              /app.js|text/javascript;charset=utf-8|engine/dashboard/app.js \
              /style.css|text/css;charset=utf-8|engine/dashboard/style.css \
              /uplot.js|text/javascript;charset=utf-8|$(UPLOT)/uPlot.iife.min.js \
              /uplot.css|text/css;charset=utf-8|$(UPLOT)/uPlot.min.css

$(UPLOT)/uPlot.iife.min.js $(UPLOT)/uPlot.min.css:
	@tools/deps.sh npm

$(BUILD)/gen/dash_assets.c: $(foreach f,$(DASH_FILES),$(lastword $(subst |, ,$(f)))) tools/embed.sh
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  EMBED   $@")
	$(Q)tools/embed.sh $@ $(foreach f,$(DASH_FILES),'$(f)')

$(BUILD)/gen/dash_assets.o: $(BUILD)/gen/dash_assets.c
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/gen/dash_assets.o: $(BUILD)/gen/dash_assets.c
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@$(if $(Q),echo "  AR      $@")
	$(Q)ar rcs $@ $^

$(BIN): $(BUILD)/engine/cli/main.o $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcriterion

$(BUILD)/bench/%: tests/bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# Every suite runs even when one fails; the run fails if any did. Each
# Criterion binary prints its "Synthesis" line, kept visible here.
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory layers unit integration

# The folders' includes point one way (tests/check_layers.py).
layers:
	@python3 tests/check_layers.py > $(BUILD)/layers.log || { cat $(BUILD)/layers.log; exit 1; }
	@tail -1 $(BUILD)/layers.log

unit: $(UNIT_BIN) $(BIN)
	@EDDY_BIN=$(abspath $(BIN)) tools/run-tests.sh $(UNIT_BIN)

# Under SANITIZE=1 the suites that run a scenario against both brokers run
# it against eddy broker only (the plain `make test` covers Apache Kafka;
# eddy's code is the same under both), which keeps .ci/run within its hour;
# the Kafka-only suites (exactly once with threads, Kafka SASL) still run.
# EDDY_TEST_BROKERS="eddy kafka" runs both.
ifeq ($(SANITIZE),1)
SAN_BROKERS = EDDY_TEST_BROKERS="$${EDDY_TEST_BROKERS:-eddy}"
endif
integration: $(BIN)
	@EDDY_BIN=$(abspath $(BIN)) BUILD=$(BUILD) $(SAN_BROKERS) tools/run-integration.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@EDDY_BIN=$(abspath $(BIN)) tools/run-bench.sh $(BENCH_BIN)

demo: deps
	@$(MAKE) --no-print-directory all
	./$(BIN) demo

# The Python package (python/): `pip install` into a fresh virtualenv, then
# its tests (River's check_estimator, parity with eddy eval); `make test`
# runs the same script among the integration tests.
python: $(BIN)
	@EDDY_BIN=$(abspath $(BIN)) bash tests/integration/test_python.sh

# The peers eddy is measured against (tools/peers.sh): make deps, then MOA's
# jar (tools/moa/pom.xml) and its drivers, each only when absent.
peers:
	@tools/peers.sh

# eddy beside MOA, River and scikit-learn on the same files, in one run
# (tools/compare/run.py): docs/COMPARISON.md, docs/compare-*.png, README's
# headline. QUICK=1: 100,000-row streams, a smoke run of a few minutes.
compare: peers
	@$(MAKE) --no-print-directory all
	@QUICK=$(QUICK) .cache/venv/bin/python tools/compare/run.py

# configs/REFERENCE.md is generated from the option tables.
reference: $(BIN)
	./$(BIN) config --reference > configs/REFERENCE.md

# Fuzzing: libFuzzer targets tests/fuzz/fuzz_NAME.c over the library built
# by clang with coverage, ASan and UBSan (build-fuzz/). tests/fuzz/run.sh
# runs each for FUZZ_SECONDS on a copy of its seed corpus in
# build-fuzz/work/NAME/ and fails, naming the reproducer, on a crash, leak
# or timeout.
FUZZ_CC ?= clang
FUZZ_BUILD := build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
FUZZ_CFLAGS = -std=gnu11 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link \
              -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
              -pthread -MMD -MP -I. $(PKG_CFLAGS)
FUZZ_OBJ := $(LIB_SRC:%.c=$(FUZZ_BUILD)/%.o) $(FUZZ_BUILD)/gen/dash_assets.o
FUZZ_LIB := $(FUZZ_BUILD)/libeddy.a
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_BUILD)/%) $(FUZZ_BUILD)/make_corpus

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -DFUZZ_AVSC='"$(abspath tests/fuzz/fuzz.avsc)"' \
	  -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) -lm

$(FUZZ_BUILD)/make_corpus: tests/fuzz/make_corpus.c $(FUZZ_LIB)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) -lm

fuzz-build: check-deps $(FUZZ_BIN)

# The unit suites built by clang with ASan + UBSan over the fuzz library:
# clang's UBSan also reports arithmetic on NULL (NULL + 0), which gcc's
# does not.
CLANG_UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(FUZZ_BUILD)/tests/%)

$(FUZZ_BUILD)/tests/%: tests/unit/%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB) $(PKG_LIBS) -lm -lcriterion

unit-clang: check-deps $(CLANG_UNIT_BIN) $(BIN)
	@EDDY_BIN=$(abspath $(BIN)) tools/run-tests.sh $(CLANG_UNIT_BIN)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Valgrind's memcheck over the unit suites and, through EDDY_BIN, every
# eddy process the integration suites start (tests/valgrind.sh).
valgrind: all $(UNIT_BIN)
	@BUILD=$(BUILD) tests/valgrind.sh $(UNIT_BIN)

# The fault suite: every tests/faults/case_*.sh, one line per scenario
# (tools/run-faults.sh); FAULTS=full (100,000 records a scenario, Apache
# Kafka and eddy broker, exactly_once too) or short (CI: 5,000 records, one
# broker per case).
FAULTS ?= full
faults: deps
	@$(MAKE) --no-print-directory all
	@EDDY_BIN=$(abspath $(BIN)) BUILD=$(BUILD) tools/run-faults.sh $(FAULTS)


# ---- the installed library: libeddy.a, libeddy.so (objects built again
# with -fPIC in $(BUILD)/pic/), the public headers (include/eddy/eddy.h and
# what it includes, by their paths from the top: core/, learners/learners.h,
# detectors/detectors.h), eddy.pc and the man page.
PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^\#define EDDY_VERSION "\(.*\)"/\1/p' core/error.h)
SOVERSION := $(firstword $(subst ., ,$(VERSION)))
PIC_OBJ := $(LIB_SRC:%.c=$(BUILD)/pic/%.o) $(BUILD)/pic/gen/dash_assets.o
SHLIB := $(BUILD)/libeddy.so.$(VERSION)
PUBLIC_H := include/eddy/eddy.h $(filter-out core/core_int.h,$(wildcard core/*.h)) learners/learners.h \
            detectors/detectors.h

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -fPIC -c -o $@ $<

$(BUILD)/pic/gen/dash_assets.o: $(BUILD)/gen/dash_assets.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -fPIC -c -o $@ $<

$(SHLIB): $(PIC_OBJ)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) -shared -Wl,-soname,libeddy.so.$(SOVERSION) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The man page, from the binary's help and configs/REFERENCE.md: it is made
# again whenever either changes, so it cannot go stale.
$(BUILD)/eddy.1: $(BIN) configs/REFERENCE.md tools/gen_man.py
	@$(if $(Q),echo "  MAN     $@")
	$(Q)python3 tools/gen_man.py ./$(BIN) configs/REFERENCE.md > $@.tmp && mv $@.tmp $@

man: $(BUILD)/eddy.1

install: all $(LIB) $(SHLIB) $(BUILD)/eddy.1
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/include/eddy
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/eddy
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libeddy.a
	install -m 755 $(SHLIB) $(DESTDIR)$(PREFIX)/lib/libeddy.so.$(VERSION)
	ln -sf libeddy.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libeddy.so.$(SOVERSION)
	ln -sf libeddy.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libeddy.so
	for h in $(PUBLIC_H); do d=$(DESTDIR)$(PREFIX)/include/eddy/$$(dirname $${h#include/eddy/}); \
	  install -d $$d && install -m 644 $$h $$d/; done
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@PKGS@|$(PKGS)|' tools/eddy.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/eddy.pc
	install -m 644 $(BUILD)/eddy.1 $(DESTDIR)$(PREFIX)/share/man/man1/eddy.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/eddy $(DESTDIR)$(PREFIX)/lib/libeddy.a $(DESTDIR)$(PREFIX)/lib/libeddy.so* \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig/eddy.pc $(DESTDIR)$(PREFIX)/share/man/man1/eddy.1
	rm -rf $(DESTDIR)$(PREFIX)/include/eddy

clean:
	rm -rf build build-san build-fuzz eddy

-include $(LIB_OBJ:.o=.d) $(PIC_OBJ:.o=.d) $(BUILD)/engine/cli/main.d $(UNIT_BIN:=.d) $(BENCH_BIN:=.d)
-include $(wildcard $(FUZZ_BUILD)/*.d $(FUZZ_BUILD)/*/*.d)
