# mapleak — plain GNU Makefile.
#   make            build build/mapleak
#   make check      install what is missing, build, run every test
#   make demo       install, build, record a bundled leaking example, report
#   make deps       install the Debian packages the build and tests need
#   make install    install binary, man page and bash completion
#                   (PREFIX=/usr/local, DESTDIR for staging); make uninstall
#   make lint       static analysis (clang-tidy's clang-analyzer checks)
#   make bpf-arm64  compile the BPF object for arm64 (compile only)
#   V=1             show full commands; SANITIZE=address,undefined

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
PKG_CONFIG ?= pkg-config
CLANG_TIDY ?= clang-tidy
O       := build

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install

# A target half written by a failed recipe is not left to look up to date.
.DELETE_ON_ERROR:

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wwrite-strings -Wno-unused-parameter
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -Isrc -I$(O) -MMD -MP \
                   -fno-omit-frame-pointer
# Libraries through pkg-config; libiberty (C++ demangling) has no .pc file.
PKGS   := libbpf libdw libelf zlib libbsd jansson libprotobuf-c ncursesw
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
PKG_LIBS   := -lbpf -ldw -lelf -lz -lbsd -ljansson -lprotobuf-c -lncursesw -ltinfo
endif
override CFLAGS += $(filter-out -I/usr/include/bsd -DLIBBSD_OVERLAY,$(PKG_CFLAGS))
LDLIBS := $(PKG_LIBS) -liberty -lpthread -lm

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

.PHONY: all deps check unit fixtures fuzz-bins demo bench clean install uninstall lint \
	bpf-arm64
all: $(O)/mapleak

# vmlinux.h: from the running kernel's BTF when bpftool can dump it, else
# the checked-in header of this architecture (CO-RE relocates either).
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
$(O)/vmlinux.h: src/collect/vmlinux_$(ARCH).h
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@)
	$(Q)if [ -r $(VMLINUX_BTF) ] && \
	    $(BPFTOOL) btf dump file $(VMLINUX_BTF) format c >$@.tmp 2>/dev/null; \
	then mv $@.tmp $@; else rm -f $@.tmp; cp $< $@; fi

# Compiled with warnings, then stripped of DWARF (BTF is kept: CO-RE
# needs it), as libbpf-tools do.
BPF_HDR  := src/collect/events.h $(wildcard src/arch/*.h)
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -Isrc/collect -Isrc
$(O)/mapleak.bpf.o: $(BPF_SRC) $(BPF_HDR) $(O)/vmlinux.h
	@mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -D__TARGET_ARCH_$(ARCH) \
		-include $(O)/vmlinux.h -c $< -o $@.full
	$(Q)$(LLVM_STRIP) -g $@.full -o $@ && rm -f $@.full

# The BPF object for arm64, compile only (no arm64 BTF here: the minimal
# checked-in vmlinux_arm64.h; CO-RE relocates it on the machine).
bpf-arm64: $(O)/arm64/mapleak.bpf.o
$(O)/arm64/mapleak.bpf.o: $(BPF_SRC) $(BPF_HDR) src/collect/vmlinux_arm64.h
	@mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -D__TARGET_ARCH_arm64 \
		-include src/collect/vmlinux_arm64.h -c $< -o $@

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
	$(Q)./tests/run-all.sh $(UNIT_BIN) $(FUZZ_TESTS) $(E2E_TESTS) \
		tests/lint.sh tests/deps.sh tests/install.sh tests/bpf-arm64.sh

# Static analysis: clang-tidy's path-sensitive analyzer over every C file
# of the tool; any finding fails (tests/lint.sh wraps it for make check).
TIDY_CHECKS := -*,clang-analyzer-*,-clang-analyzer-security.insecureAPI.DeprecatedOrUnsafeBufferHandling
# One clang-tidy process per file: clang-tidy 14 carries analyzer state
# from one file to the next (valist.Uninitialized then reports a list that
# va_start set up, in recorder.c after recsyms.c).
lint: $(SKEL) $(GEN_H)
	$(Q)fail=0; for f in $(ALL_SRC); do \
		$(CLANG_TIDY) --quiet --warnings-as-errors='*' -checks='$(TIDY_CHECKS)' \
			$$f -- -std=gnu11 -D_GNU_SOURCE -Isrc -I$(O) || fail=1; \
	done; exit $$fail

install: $(O)/mapleak
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0755 $(O)/mapleak $(DESTDIR)$(BINDIR)/mapleak
	$(INSTALL) -m 0644 docs/mapleak.1 $(DESTDIR)$(MANDIR)/man1/mapleak.1
	$(INSTALL) -m 0644 scripts/mapleak.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/mapleak

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mapleak $(DESTDIR)$(MANDIR)/man1/mapleak.1 \
		$(DESTDIR)$(BASHCOMPDIR)/mapleak

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(O)/fixtures/seed-fp
	$(Q)./scripts/demo.sh

clean:
	rm -rf $(O)

-include $(shell find $(O) -name '*.d' 2>/dev/null)
