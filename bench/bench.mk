# The overhead benchmark (bench/bench.sh): `make bench`.
# Included by the top Makefile, which defines O, Q and msg.

BENCH_PROG := $(O)/bench/mmap-loop

.PHONY: bench
bench: $(O)/mapleak $(BENCH_PROG)
	$(Q)MAPLEAK=$(O)/mapleak BENCH_PROG=$(BENCH_PROG) ./bench/bench.sh

$(BENCH_PROG): bench/mmap-loop.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)gcc -std=gnu11 -O2 -g -Wall -Wextra -o $@ $<
