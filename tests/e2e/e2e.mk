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

C_FIXTURES  := $(FIX)/libExample.so $(FIX)/libExample-small.so \
               $(FIX)/seed-fp $(FIX)/seed-nofp $(FIX)/workload $(FIX)/looper \
               $(FIX)/growth $(FIX)/hostile-jit \
               $(FIX)/lld/libExample.so $(FIX)/lld/seed $(FIX)/libhidden.so \
               $(FIX)/headline

.PHONY: fixtures fixtures-dotnet fixtures-java
fixtures: $(C_FIXTURES) fixtures-dotnet fixtures-java

# The seed library, built as in the article.
$(FIX)/libExample.so: tests/fixtures/Example.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) -shared -fPIC -g -O0 -o $@ $<

# The same leak in 64 MiB, for a program that exits right after it.
$(FIX)/libExample-small.so: tests/fixtures/Example.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) -shared -fPIC -g -O0 -DBLOCKS=16 -o $@ $<

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

# The seed again, library and program linked by lld (clang): segments
# share file pages there, the layout .NET's libraries have
# (t0600-native-names.sh). clang knows no -fno-ipa-icf.
LLD_CFLAGS  := -std=gnu11 -g -Wall -Wextra -fno-optimize-sibling-calls \
               -fuse-ld=lld
$(FIX)/lld/libExample.so: tests/fixtures/Example.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(CLANG) $(LLD_CFLAGS) -shared -fPIC -O0 -o $@ $<

$(FIX)/lld/seed: tests/fixtures/seed.c $(FIX)/lld/libExample.so
	$(call msg,FIXTURE,$@)
	$(Q)$(CLANG) $(LLD_CFLAGS) -O0 -fno-omit-frame-pointer -o $@ $< \
		-L$(FIX)/lld -lExample -Wl,-rpath,'$$ORIGIN'

# A library stripped after linking, and a program leaking through it and
# through malloc (t0600-native-names.sh: the headline).
$(FIX)/libhidden.so: tests/fixtures/hidden.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(FIX_CFLAGS) -O1 -shared -fPIC -o $@ $< && strip $@

$(FIX)/headline: tests/fixtures/headline.c $(FIX)/libhidden.so
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(FIX_CFLAGS) -O1 -o $@ $< -L$(FIX) -lhidden \
		-Wl,-rpath,'$$ORIGIN'

$(FIX)/workload: tests/fixtures/workload.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(FIX_CFLAGS) -O2 -pthread -o $@ $<

$(FIX)/growth: tests/fixtures/growth.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(FIX_CFLAGS) -O2 -o $@ $<

# Writes hostile perf map and jitdump files (t0710): frame pointers for the
# walk through its JIT trampoline.
$(FIX)/hostile-jit: tests/fixtures/hostile-jit.c
	@mkdir -p $(dir $@)
	$(call msg,FIXTURE,$@)
	$(Q)$(FIXTURE_CC) $(FIX_CFLAGS) -O2 -fno-omit-frame-pointer -o $@ $<

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
# The tiering app (t0320-dotnet-tiering.sh), built the same way.
TIERING_DIR := tests/fixtures/dotnet/Tiering
TIERING_OUT := $(FIX)/dotnet/Tiering
TIERING_APP := $(TIERING_OUT)/Tiering.dll
TIERING_SRC := $(wildcard $(TIERING_DIR)/*.cs $(TIERING_DIR)/*.csproj \
                          $(TIERING_DIR)/nuget.config)
# The app that keeps compiling methods (t0310-dotnet-ondemand.sh).
CHURN_DIR   := tests/fixtures/dotnet/JitChurn
CHURN_OUT   := $(FIX)/dotnet/JitChurn
CHURN_APP   := $(CHURN_OUT)/JitChurn.dll
CHURN_SRC   := $(wildcard $(CHURN_DIR)/*.cs $(CHURN_DIR)/*.csproj \
                          $(CHURN_DIR)/nuget.config)
# The app leaking MemoryMappedFile views (t0370-dotnet-r2r.sh).
MMF_DIR     := tests/fixtures/dotnet/MmfLeak
MMF_OUT     := $(FIX)/dotnet/MmfLeak
MMF_APP     := $(MMF_OUT)/MmfLeak.dll
MMF_SRC     := $(wildcard $(MMF_DIR)/*.cs $(MMF_DIR)/*.csproj \
                          $(MMF_DIR)/nuget.config)
# The ASP.NET Core app leaking through P/Invoke (t0380-aspnet-onesite.sh):
# Microsoft.AspNetCore.App is the SDK's shared framework, no package.
ASP_DIR     := tests/fixtures/dotnet/AspLeak
ASP_OUT     := $(FIX)/dotnet/AspLeak
ASP_APP     := $(ASP_OUT)/AspLeak.dll
ASP_SRC     := $(wildcard $(ASP_DIR)/*.cs $(ASP_DIR)/*.csproj \
                          $(ASP_DIR)/nuget.config)
# The seed app again on .NET 8, self-contained (the SDK has only .NET 10):
# the .NET 8 runtime pack comes from NuGet through the SDK's default
# package source, so this one build needs the registry.
NET8_DIR    := tests/fixtures/dotnet/MyConsoleApp8
NET8_OUT    := $(FIX)/dotnet/MyConsoleApp8
NET8_APP    := $(NET8_OUT)/MyConsoleApp
NET8_SRC    := $(wildcard $(NET8_DIR)/*.csproj $(DOTNET_DIR)/*.cs)
DOTNET_ENV  := DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 \
               DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
               DOTNET_CLI_USE_MSBUILD_SERVER=0 MSBUILDDISABLENODEREUSE=1

ifeq ($(shell command -v $(DOTNET) 2>/dev/null),)
fixtures-dotnet:
	@echo "  SKIP     $(DOTNET_APP): '$(DOTNET)' not found, the .NET test will skip"
else
fixtures-dotnet: $(DOTNET_APP) $(TIERING_APP) $(CHURN_APP) $(MMF_APP) $(NET8_APP) \
                 $(ASP_APP)

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

$(NET8_APP): $(NET8_SRC)
	@mkdir -p $(FIX)/dotnet
	$(call msg,DOTNET,$@)
	$(Q)$(DOTNET_ENV) $(DOTNET) build $(NET8_DIR)/MyConsoleApp8.csproj \
		-c Release -o $(NET8_OUT) \
		--artifacts-path $(FIX)/dotnet/artifacts \
		-nodeReuse:false -p:UseSharedCompilation=false \
		>$(FIX)/dotnet/build-net8.log 2>&1 || \
		{ cat $(FIX)/dotnet/build-net8.log; exit 1; }
	$(Q)touch $@

$(TIERING_APP): $(TIERING_SRC)
	@mkdir -p $(FIX)/dotnet
	$(call msg,DOTNET,$@)
	$(Q)$(DOTNET_ENV) $(DOTNET) build $(TIERING_DIR)/Tiering.csproj \
		-c Release -o $(TIERING_OUT) \
		--artifacts-path $(FIX)/dotnet/artifacts \
		-nodeReuse:false -p:UseSharedCompilation=false \
		>$(FIX)/dotnet/build-tiering.log 2>&1 || \
		{ cat $(FIX)/dotnet/build-tiering.log; exit 1; }
	$(Q)touch $@

$(CHURN_APP): $(CHURN_SRC)
	@mkdir -p $(FIX)/dotnet
	$(call msg,DOTNET,$@)
	$(Q)$(DOTNET_ENV) $(DOTNET) build $(CHURN_DIR)/JitChurn.csproj \
		-c Release -o $(CHURN_OUT) \
		--artifacts-path $(FIX)/dotnet/artifacts \
		-nodeReuse:false -p:UseSharedCompilation=false \
		>$(FIX)/dotnet/build-churn.log 2>&1 || \
		{ cat $(FIX)/dotnet/build-churn.log; exit 1; }
	$(Q)touch $@

$(MMF_APP): $(MMF_SRC)
	@mkdir -p $(FIX)/dotnet
	$(call msg,DOTNET,$@)
	$(Q)$(DOTNET_ENV) $(DOTNET) build $(MMF_DIR)/MmfLeak.csproj \
		-c Release -o $(MMF_OUT) \
		--artifacts-path $(FIX)/dotnet/artifacts \
		-nodeReuse:false -p:UseSharedCompilation=false \
		>$(FIX)/dotnet/build-mmf.log 2>&1 || \
		{ cat $(FIX)/dotnet/build-mmf.log; exit 1; }
	$(Q)touch $@

$(ASP_APP): $(ASP_SRC)
	@mkdir -p $(FIX)/dotnet
	$(call msg,DOTNET,$@)
	$(Q)$(DOTNET_ENV) $(DOTNET) build $(ASP_DIR)/AspLeak.csproj \
		-c Release -o $(ASP_OUT) \
		--artifacts-path $(FIX)/dotnet/artifacts \
		-nodeReuse:false -p:UseSharedCompilation=false \
		>$(FIX)/dotnet/build-asp.log 2>&1 || \
		{ cat $(FIX)/dotnet/build-asp.log; exit 1; }
	$(Q)touch $@
endif

# The Java leak (t0500-java.sh). javac's notes about sun.misc.Unsafe go to
# a log; the test skips when javac is missing.
JAVAC       ?= javac
JAVA_OUT    := $(FIX)/java
JAVA_CLASS  := $(JAVA_OUT)/MapLeak.class

ifeq ($(shell command -v $(JAVAC) 2>/dev/null),)
fixtures-java:
	@echo "  SKIP     $(JAVA_CLASS): '$(JAVAC)' not found, the Java test will skip"
else
fixtures-java: $(JAVA_CLASS)

$(JAVA_CLASS): tests/fixtures/java/MapLeak.java
	@mkdir -p $(JAVA_OUT)
	$(call msg,JAVAC,$@)
	$(Q)$(JAVAC) -d $(JAVA_OUT) $< >$(JAVA_OUT)/build.log 2>&1 || \
		{ cat $(JAVA_OUT)/build.log; exit 1; }
endif
