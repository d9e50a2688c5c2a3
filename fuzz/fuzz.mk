# libFuzzer targets, included by the top Makefile (which defines O, CLANG,
# LIB_SRC, SKEL, WARN, LDLIBS, Q and msg).
#
#   make fuzz-bins         build $(O)/fuzz/fuzz-NAME for every fuzz/fuzz-NAME.c
#   make fuzz              fuzz each for FUZZ_SECONDS, adding finds to
#                          fuzz/corpus/NAME/ (crashes: $(O)/fuzz/artifacts/)
#   make fuzz-long         fuzz each for 10 minutes (FUZZ_SECONDS given on
#                          the command line wins) in a scratch copy of its
#                          corpus, then merge into fuzz/corpus/NAME/ only
#                          the inputs that add coverage; every target runs,
#                          the crashes are listed at the end
#   fuzz/replay.sh         replay every corpus file plus a short random run
#                          (part of `make check` through FUZZ_TESTS)
#
# Needs clang's libFuzzer runtime: Debian package libclang-rt-14-dev.
# The library is compiled again with clang and the sanitizers into
# $(O)/fuzz/obj/, apart from the gcc objects of the normal build.

FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=gnu11 $(WARN) -D_GNU_SOURCE -Isrc -I$(O) -MMD -MP \
                -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN)

FUZZ_SRC     := $(wildcard fuzz/fuzz-*.c)
FUZZ_BIN     := $(patsubst fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRC))
FUZZ_LIB_OBJ := $(patsubst %.c,$(O)/fuzz/obj/%.o,$(LIB_SRC))
FUZZ_LIB     := $(O)/fuzz/libmapleak-fuzz.a
FUZZ_OBJ     := $(patsubst fuzz/%.c,$(O)/fuzz/obj/fuzz/%.o,$(FUZZ_SRC))
FUZZ_TESTS   := fuzz/replay.sh

# Keep the targets' objects: made by a pattern chain, make would delete them.
.SECONDARY: $(FUZZ_OBJ)

.PHONY: fuzz fuzz-bins fuzz-long
fuzz-bins: $(FUZZ_BIN)

# Library objects: instrumented for coverage, not linked with libFuzzer's main.
$(O)/fuzz/obj/%.o: %.c | $(SKEL)
	@mkdir -p $(dir $@)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

# An archive, so a target links only the modules it uses.
$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/fuzz/fuzz-%: $(O)/fuzz/obj/fuzz/fuzz-%.o $(FUZZ_LIB)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) -fsanitize=fuzzer $(FUZZ_SAN) -g -O1 -o $@ $^ $(LDLIBS)

# Each target in turn; new inputs land in its corpus, crashes stop make.
fuzz: fuzz-bins
	$(Q)set -e; for bin in $(FUZZ_BIN); do \
		name=$${bin##*/fuzz-}; \
		mkdir -p fuzz/corpus/$$name $(O)/fuzz/artifacts; \
		echo "  FUZZ     $$name ($(FUZZ_SECONDS) s)"; \
		$$bin -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(O)/fuzz/artifacts/$$name- \
			fuzz/corpus/$$name; \
	done

# Long runs (issue 7: every reader of target-controlled data, 10 minutes
# each). The repository's corpus only gets inputs that add coverage.
FUZZ_LONG_SECONDS := $(if $(filter file undefined,$(origin FUZZ_SECONDS)),600,$(FUZZ_SECONDS))

fuzz-long: fuzz-bins
	$(Q)failed=; for bin in $(FUZZ_BIN); do \
		name=$${bin##*/fuzz-}; \
		work=$(O)/fuzz/long/$$name; \
		rm -rf $$work && mkdir -p $$work fuzz/corpus/$$name $(O)/fuzz/artifacts; \
		cp -r fuzz/corpus/$$name/. $$work/; \
		echo "  FUZZ     $$name ($(FUZZ_LONG_SECONDS) s)"; \
		if ! $$bin -max_total_time=$(FUZZ_LONG_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(O)/fuzz/artifacts/$$name- \
			$$work >$(O)/fuzz/long/$$name.log 2>&1; then \
			failed="$$failed $$name"; \
			tail -n 30 $(O)/fuzz/long/$$name.log; \
		fi; \
		grep -E '^stat::(number_of_executed_units|peak_rss_mb)' \
			$(O)/fuzz/long/$$name.log | sed 's/^/           /'; \
		$$bin -merge=1 fuzz/corpus/$$name $$work >/dev/null 2>&1 || \
			failed="$$failed $$name(merge)"; \
	done; \
	if [ -n "$$failed" ]; then \
		echo "fuzz-long: failed:$$failed (reproducers in $(O)/fuzz/artifacts/)"; \
		exit 1; \
	fi
