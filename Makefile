# eddy: build, test, bench, demo, deps, sanitizer and fuzz builds.
#   make            the eddy binary (./eddy) and build/libeddy.a
#   make test       installs what is missing (make deps), runs every suite
#   make SANITIZE=1 test   the same with ASan + UBSan, in build-san/
#   make bench      learner, detector and end-to-end figures
#   make demo       the embedded demo (broker, generator, pipeline, live view)
#   make peers      River, scikit-learn (PyPI) and MOA (Maven Central) into .cache/
#   make compare    eddy beside MOA, River and scikit-learn: docs/COMPARISON.md

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

DIRS := engine learners detectors connectors generators
LIB_SRC := $(filter-out engine/main.c,$(foreach d,$(DIRS),$(wildcard $(d)/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
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

.PHONY: all deps peers test unit integration bench demo compare reference clean check-deps
.DEFAULT_GOAL := all

all: check-deps $(BIN)

# Fails early, with the command that fixes it, when a library is missing.
check-deps:
	@pkg-config --exists $(PKGS) 2>/dev/null || { echo "missing libraries: run 'make deps'"; exit 1; }

deps:
	@tools/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@$(if $(Q),echo "  AR      $@")
	$(Q)ar rcs $@ $^

$(BIN): $(BUILD)/engine/main.o $(LIB)
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
	@$(MAKE) --no-print-directory unit integration

unit: $(UNIT_BIN) $(BIN)
	@EDDY_BIN=$(abspath $(BIN)) tools/run-tests.sh $(UNIT_BIN)

integration: $(BIN)
	@EDDY_BIN=$(abspath $(BIN)) BUILD=$(BUILD) tools/run-integration.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@EDDY_BIN=$(abspath $(BIN)) tools/run-bench.sh $(BENCH_BIN)

demo: deps
	@$(MAKE) --no-print-directory all
	./$(BIN) demo

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

clean:
	rm -rf build build-san eddy

-include $(LIB_OBJ:.o=.d) $(BUILD)/engine/main.d $(UNIT_BIN:=.d) $(BENCH_BIN:=.d)
