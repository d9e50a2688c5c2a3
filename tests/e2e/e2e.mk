# End-to-end tests: the fixture programs they trace and the list of scripts.
# Included by the top Makefile, which defines O (the build folder), CC, Q
# and msg. Everything is built into $(O)/fixtures/.
#
#   make fixtures        build every fixture (the .NET one only when the
#                        dotnet SDK is installed; otherwise its test skips)
#   E2E_TESTS            the scripts tests/run-all.sh runs
#
# Fixtures are built with gcc whatever CC is: their stacks are what the
# tests expect (noinline functions, no tail calls, no cloned or folded
# functions), and the seed article built its library with gcc.

FIX         := $(O)/fixtures
FIXTURE_CC  ?= gcc
DOTNET      ?= dotnet
FIX_CFLAGS  := -std=gnu11 -g -Wall -Wextra -fno-optimize-sibling-calls \
               -fno-ipa-icf
FIX_RPATH   := -L$(FIX) -lExample -Wl,-rpath,'$$ORIGIN'

E2E_TESTS   := $(sort $(wildcard tests/e2e/t[0-9][0-9][0-9][0-9]-*.sh))

# The scripts find the build folder through this (tests/e2e/lib.sh).
export MAPLEAK_BUILD := $(abspath $(O))

C_FIXTURES  := $(FIX)/libExample.so $(FIX)/seed-fp $(FIX)/seed-nofp \
               $(FIX)/workload $(FIX)/looper

.PHONY: fixtures fixtures-dotnet
fixtures: $(C_FIXTURES) fixtures-dotnet

# The seed library, built as in the article.
$(FIX)/libExample.so: tests/fixtures/Example.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) -shared -fPIC -g -O0 -o $@ $<

# main -> MyTest -> mmap_allocation, with frame pointers...
$(FIX)/seed-fp: tests/fixtures/seed.c $(FIX)/libExample.so
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(FIX_CFLAGS) -O0 -fno-omit-frame-pointer -o $@ $< \
		$(FIX_RPATH)

# ...and without them, optimized.
$(FIX)/seed-nofp: tests/fixtures/seed.c $(FIX)/libExample.so
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(FIX_CFLAGS) -O2 -fomit-frame-pointer -o $@ $< \
		$(FIX_RPATH)

$(FIX)/workload: tests/fixtures/workload.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(FIX_CFLAGS) -O2 -pthread -o $@ $<

$(FIX)/looper: tests/fixtures/looper.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(FIX_CFLAGS) -O2 -o $@ $<

# The .NET seed app. Its nuget.config lists no package source: the build
# uses only the SDK's own packs and never the network. Intermediate files
# go to $(FIX)/dotnet/artifacts, nothing is written into the source tree,
# and no build server is left running.
DOTNET_DIR  := tests/fixtures/dotnet/MyConsoleApp
DOTNET_OUT  := $(FIX)/dotnet/MyConsoleApp
DOTNET_APP  := $(DOTNET_OUT)/MyConsoleApp.dll
DOTNET_SRC  := $(wildcard $(DOTNET_DIR)/*.cs $(DOTNET_DIR)/*.csproj \
                          $(DOTNET_DIR)/nuget.config)
DOTNET_ENV  := DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
               DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
               DOTNET_CLI_USE_MSBUILD_SERVER=0 MSBUILDDISABLENODEREUSE=1

ifeq ($(shell command -v $(DOTNET) 2>/dev/null),)
fixtures-dotnet:
	@echo "  SKIP     $(DOTNET_APP): '$(DOTNET)' not found, the .NET test will skip"
else
fixtures-dotnet: $(DOTNET_APP)

$(DOTNET_APP): $(DOTNET_SRC)
	@mkdir -p $(FIX)/dotnet
	$(call msg,DOTNET,$@)
	$(Q)$(DOTNET_ENV) $(DOTNET) build $(DOTNET_DIR)/MyConsoleApp.csproj \
		-c Release -o $(DOTNET_OUT) \
		--artifacts-path $(FIX)/dotnet/artifacts \
		-nodeReuse:false -p:UseSharedCompilation=false \
		>$(FIX)/dotnet/build.log 2>&1 || \
		{ cat $(FIX)/dotnet/build.log; exit 1; }
	$(Q)touch $@
endif
