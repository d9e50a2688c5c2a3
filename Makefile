# mapleak — plain GNU Makefile.
#   make            build build/mapleak
#   make check      install what is missing, build, run every test
#   make demo       install, build, record a bundled leaking example, report
#   make deps       install the Debian packages the build and tests need
#   V=1             show full commands; SANITIZE=address,undefined

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
O       := build

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wwrite-strings -Wno-unused-parameter
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -Isrc -I$(O) -MMD -MP \
                   -fno-omit-frame-pointer
LDLIBS := -lbpf -ldw -lelf -lz -liberty -lbsd -ljansson -lpthread \
          $(shell pkg-config --libs libprotobuf-c 2>/dev/null || echo -lprotobuf-c)

ifneq ($(SANITIZE),)
override CFLAGS += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all
override LDFLAGS += -fsanitize=$(SANITIZE)
endif

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

BPF_SRC  := src/collect/mapleak.bpf.c
SKEL     := $(O)/mapleak.skel.h
ALL_SRC  := $(filter-out %.bpf.c,$(wildcard src/*.c src/*/*.c))
CMD_SRC  := src/main.c $(wildcard src/cmd-*.c)
LIB_SRC  := $(filter-out $(CMD_SRC),$(ALL_SRC))
LIB_OBJ  := $(patsubst %.c,$(O)/%.o,$(LIB_SRC)) $(O)/report/profile.pb-c.o
# Generated at build time: pprof's profile.proto in C (protoc-c), and the
# HTML flame graph page as a C array (xxd).
GEN_H    := $(O)/report/profile.pb-c.h $(O)/report/flamegraph-html.h
CMD_OBJ  := $(patsubst %.c,$(O)/%.o,$(CMD_SRC))

UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRC))

.PHONY: all deps check unit fixtures fuzz-bins demo bench clean
all: $(O)/mapleak

$(O)/mapleak.bpf.o: $(BPF_SRC) src/collect/events.h src/collect/vmlinux_$(ARCH).h
	@mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Isrc/collect \
		-include src/collect/vmlinux_$(ARCH).h -c $< -o $@

$(SKEL): $(O)/mapleak.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# Every object may include the skeleton; generate it first.
$(O)/%.o: %.c | $(SKEL)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(O)/report/profile.pb-c.c $(O)/report/profile.pb-c.h: src/report/profile.proto
	@mkdir -p $(dir $@)
	$(call msg,PROTOC-C,$@)
	$(Q)protoc-c --proto_path=src/report --c_out=$(O)/report $<

$(O)/report/profile.pb-c.o: $(O)/report/profile.pb-c.c $(O)/report/profile.pb-c.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(O)/report/flamegraph-html.h: src/report/flamegraph.html
	@mkdir -p $(dir $@)
	$(call msg,XXD,$@)
	$(Q)cd src/report && xxd -i flamegraph.html > $(abspath $@).tmp && \
		mv $(abspath $@).tmp $(abspath $@)

$(O)/libmapleak.a: $(LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/mapleak: $(CMD_OBJ) $(O)/libmapleak.a
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/tests/%: tests/unit/%.c tests/unit/harness.h $(O)/libmapleak.a
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(O)/libmapleak.a $(LDFLAGS) $(LDLIBS)

deps:
	$(Q)./scripts/install-deps.sh

unit: $(UNIT_BIN)
	$(Q)./tests/run-all.sh $(UNIT_BIN)

-include fuzz/fuzz.mk
-include tests/e2e/e2e.mk
-include bench/bench.mk

# The report formats include generated headers: make them first.
$(LIB_OBJ) $(FUZZ_LIB_OBJ): | $(GEN_H)

# Every test program: unit binaries, fuzz corpus replay, end-to-end scripts.
# tests/e2e/e2e.mk adds E2E_TESTS and the fixtures target; fuzz/fuzz.mk adds
# FUZZ_TESTS (corpus replays) and FUZZ_BIN.
check: deps
	$(Q)$(MAKE) --no-print-directory all fixtures $(UNIT_BIN) fuzz-bins
	$(Q)./tests/run-all.sh $(UNIT_BIN) $(FUZZ_TESTS) $(E2E_TESTS)

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(O)/fixtures/seed-fp
	$(Q)./scripts/demo.sh

clean:
	rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
