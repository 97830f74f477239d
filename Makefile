# scalelab — hand-written Makefile.
#   make                     build ./scalelab
#   make run                 prepare the default corpus and open the lab
#   make check               run every test
#   make bench               run the benchmarks (bench/RESULTS.md records them)
#   make install PREFIX=DIR  install the binary, presets, themes, man page and docs; the
#                            binary finds its presets and themes in ../share/scalelab
#   make NATIVE=0 ...        a binary for any x86-64 (the default, NATIVE=1, tunes it
#                            with -march=native to the building machine's CPU)
#   make SAN=address,undefined check  /  make SAN=thread check   sanitizer builds
#   make MPI=1               build with OpenMPI (cluster sweeps)
#   make fuzz [FUZZ_SECONDS=N]  build the libFuzzer harnesses (clang) and run each N s
#   make reproduce [PRESETS="quickstart ..."]  train the presets, fit, draw, update docs/REPRODUCTION.md
#   make reproduce TINY=1    the same pipeline on the tiny preset in seconds (docs untouched)

CC      ?= cc
PREFIX  ?= /usr/local
SAN     ?=
MPI     ?= 0
NATIVE  ?= 1

comma := ,
BUILD := build$(if $(SAN),-$(subst $(comma),-,$(SAN)))
# NATIVE=0 builds apart, so that `make install NATIVE=0` after a plain `make`
# does not install the -march=native binary
ifneq ($(NATIVE),1)
BUILD := $(BUILD)-generic
endif

ifeq ($(MPI),1)
CC := mpicc
BUILD := $(BUILD)-mpi
endif
# FUZZ=1 (set by `make fuzz`): the library built by clang for the libFuzzer
# harnesses of tests/fuzz, under AddressSanitizer and UBSan.
FUZZ ?= 0
FUZZ_SECONDS ?= 25
ifeq ($(FUZZ),1)
CC := clang
BUILD := build-fuzz
SAN := address,undefined
endif

OPT := -O3
ifeq ($(NATIVE),1)
OPT += -march=native
endif
ifneq ($(SAN),)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SAN)
ifneq ($(findstring undefined,$(SAN)),)
OPT += -fno-sanitize-recover=undefined
endif
endif
ifeq ($(FUZZ),1)
OPT += -fsanitize=fuzzer-no-link
endif

WARN    := -Wall -Wextra -Wstrict-prototypes -Wshadow -pedantic
ifeq ($(CI),true)
WARN    += -Werror
endif
# No install path is compiled in: an installed binary finds its presets and
# themes in ../share/scalelab beside itself (util.h, sl_search_dirs), so one
# build serves any PREFIX.
CPPFLAGS := -Iinclude $(shell pkg-config --cflags openblas 2>/dev/null) $(shell pkg-config --cflags cairo 2>/dev/null) \
            -D_POSIX_C_SOURCE=200809L
ifeq ($(MPI),1)
CPPFLAGS += -DSL_WITH_MPI=1
endif
# -fno-math-errno -fno-trapping-math: no code reads errno or the floating-point
# exception flags; without them sqrtf and the clamping selects of the exp
# kernels keep the AdamW, norm and GELU loops from vectorising (values are
# unchanged: no reassociation, NaN still propagates).
CFLAGS  := -std=c11 $(OPT) -fno-math-errno -fno-trapping-math $(WARN) -MMD -MP -pthread
# GSL is linked against OpenBLAS's CBLAS, not gslcblas.
LDLIBS  := -lgsl -lopenblas -ldnnl -lgomp -lcjson -lpanelw -lncursesw -ltinfo -lcairo -lm -lpthread
LDFLAGS := -pthread $(if $(SAN),-fsanitize=$(SAN))

LIB_SRC  := $(wildcard src/core/*.c src/engine/*.c src/report/*.c src/tui/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := $(wildcard tests/test_*.c)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

BIN   := $(BUILD)/scalelab
TESTS := $(BUILD)/unit_tests

.PHONY: all run check bench install clean deps reproduce fuzz fuzz-build
all: scalelab

scalelab: $(BIN)
	@if [ "$(BUILD)" = build ]; then cp $(BIN) scalelab.tmp && mv -f scalelab.tmp scalelab; fi

$(BUILD)/libscalelab.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	$(AR) rcs $@ $^

$(BIN): $(CLI_OBJ) $(BUILD)/libscalelab.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libscalelab.a $(LDLIBS)

$(TESTS): $(TEST_OBJ) $(BUILD)/libscalelab.a
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libscalelab.a -lcriterion $(LDLIBS)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DSL_TEST_BIN='"$(abspath $(BIN))"' -DSL_SOURCE_DIR='"$(CURDIR)"' \
	  -DSL_FAULT_LIB='"$(abspath $(FAULT_LIB))"' $(CFLAGS) -c -o $@ $<

# tests/fault_rename.c: a transient EIO on rename, preloaded into the binary by
# tests/test_resume.c; a plain shared object whatever SAN is.
FAULT_LIB := $(BUILD)/tests/libfault_rename.so
$(FAULT_LIB): tests/fault_rename.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -fPIC -shared -o $@ $< -ldl

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

deps:
	@scripts/install-deps.sh --if-missing

run: deps
	@$(MAKE) --no-print-directory scalelab
	./scalelab

# Under ThreadSanitizer (SAN=thread) the threaded paths run through the binary
# (tests/threads.sh): Criterion's runner cannot start in a TSan process.
ifneq ($(findstring thread,$(SAN)),)
check: deps
	@$(MAKE) --no-print-directory $(BIN)
	TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp" tests/threads.sh $(BIN)
else
check: deps
	@$(MAKE) --no-print-directory $(BIN) $(TESTS) $(FAULT_LIB)
	@if [ "$(BUILD)" = build ]; then cp $(BIN) scalelab.tmp && mv -f scalelab.tmp scalelab; fi
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 UBSAN_OPTIONS=print_stacktrace=1 $(TESTS) --jobs=2
	scripts/check-layers.sh
	@if [ "$(BUILD)" = build ]; then tests/reproduce_compact.sh; fi
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 tests/install.sh $(MAKE) --no-print-directory $(if $(SAN),SAN=$(SAN)) NATIVE=$(NATIVE) MPI=$(MPI)
endif

# The harnesses call the library and, for the points table, the CLI itself
# (main renamed, so that libFuzzer's main drives it).
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
CLI_NOMAIN_OBJ := $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ)) $(BUILD)/fuzz/cli_main.o

$(BUILD)/fuzz/cli_main.o: src/cli/main.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Dmain=sl_cli_main -c -o $@ $<

$(BUILD)/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(CLI_NOMAIN_OBJ) $(BUILD)/libscalelab.a
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $< $(CLI_NOMAIN_OBJ) $(BUILD)/libscalelab.a $(LDLIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: deps
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-build
	tests/fuzz/run.sh build-fuzz/fuzz $(FUZZ_SECONDS)

bench: scalelab
	./scalelab bench

reproduce: scalelab
	scripts/reproduce.sh $(if $(filter-out 0,$(TINY)),--tiny) $(PRESETS)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/scalelab/presets \
	  $(DESTDIR)$(PREFIX)/share/scalelab/themes $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/doc/scalelab
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/scalelab
	for f in presets/*.json; do [ ! -e "$$f" ] || install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/scalelab/presets/; done
	for f in themes/*.json; do [ ! -e "$$f" ] || install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/scalelab/themes/; done
	[ ! -e docs/scalelab.1 ] || install -m 644 docs/scalelab.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	for f in README.md docs/*.md; do [ ! -e "$$f" ] || install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/doc/scalelab/; done

clean:
	rm -rf build build-* scalelab

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(FUZZ_BIN:=.d)
