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

# Bounded recordings (record/fold.c): `make bench-fold`.
FOLD_BENCH := $(O)/bench/fold-bench

.PHONY: bench-fold
bench-fold: $(FOLD_BENCH)
	$(Q)$(FOLD_BENCH)

$(FOLD_BENCH): bench/fold-bench.c $(O)/libmapleak.a
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(O)/libmapleak.a $(LDFLAGS) $(LDLIBS)

.PHONY: bench-fold-bpf
bench-fold-bpf: $(O)/mapleak $(BENCH_PROG)
	$(Q)MAPLEAK=$(O)/mapleak BENCH_PROG=$(BENCH_PROG) ./bench/fold-bpf.sh
