# SPDX-License-Identifier: GPL-2.0-only
# faultline build: user space, BPF objects and skeletons, tests, fuzzing, install.

VERSION     := 0.1.0
CC          ?= cc
CLANG       ?= clang
BPFTOOL     ?= bpftool
PKG_CONFIG  ?= pkg-config
PREFIX      ?= /usr/local
DESTDIR     ?=
BINDIR      := $(PREFIX)/bin
MANDIR      := $(PREFIX)/share/man
COMPLDIR    := $(PREFIX)/share/bash-completion/completions
UNITDIR     := $(PREFIX)/lib/systemd/system
ARCH        := x86
FUZZ_TIME   ?= 20

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

SAN ?= 0
ifeq ($(SAN),1)
BUILD       := build-san
SANFLAGS    := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD       := build
SANFLAGS    :=
endif

PKGS        := libbpf yaml-0.1 jansson libnl-3.0 libnl-route-3.0 libnl-nf-3.0 libseccomp libcurl fuse3 \
	       openssl
PKG_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libcurl is loaded when first needed (reports/curl_dl.c): its headers, not its libraries
PKG_LIBS    := $(shell $(PKG_CONFIG) --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)

CFLAGS      ?= -O2 -g
CFLAGS      += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wformat=2 \
	       -D_GNU_SOURCE -DFL_VERSION='"$(VERSION)"' -I. -I$(BUILD) $(PKG_CFLAGS) $(SANFLAGS)
LDFLAGS     += $(SANFLAGS)
LDLIBS      += $(PKG_LIBS) -lelf -lz

# Every .c under these directories is part of the tool; cmd/main.c is the only entry point,
# so unit tests and the fuzzer link everything else.
SRCS        := $(sort $(wildcard cmd/*.c inject/*.c scenarios/*.c reports/*.c))
OBJS        := $(patsubst %.c,$(BUILD)/%.o,$(SRCS))
LIBOBJS     := $(filter-out $(BUILD)/cmd/main.o,$(OBJS))
BPF_SRCS    := $(sort $(wildcard bpf/*.bpf.c))
BPF_OBJS    := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))
UNIT_SRCS   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all deps quickstart test unit bats fuzz install uninstall clean format
.DELETE_ON_ERROR:

all: faultline

faultline: $(BUILD)/faultline
	$(Q)ln -sf $(BUILD)/faultline $@

$(BUILD)/faultline: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c $(BPF_SKELS) | $(BUILD)/.dirs
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/.dirs:
	$(Q)mkdir -p $(BUILD)/cmd $(BUILD)/inject $(BUILD)/scenarios $(BUILD)/reports \
		$(BUILD)/bpf $(BUILD)/tests $(BUILD)/fuzz
	$(Q)touch $@

# vmlinux.h: from the running kernel's BTF, else from a checked-in copy (bpf/vmlinux.h).
$(BUILD)/vmlinux.h: | $(BUILD)/.dirs
	$(call msg,GEN,$@)
	$(Q)if [ -r /sys/kernel/btf/vmlinux ]; then \
		$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@; \
	elif [ -r bpf/vmlinux.h ]; then cp bpf/vmlinux.h $@; \
	else echo "no /sys/kernel/btf/vmlinux and no bpf/vmlinux.h: cannot build BPF objects" >&2; exit 1; fi

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h $(wildcard bpf/*.h) | $(BUILD)/.dirs
	$(call msg,BPF,$<)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Ibpf -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# --- tests -------------------------------------------------------------------------------

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJS) | $(BUILD)/.dirs
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJS) $(LDLIBS) -lcmocka

unit: $(UNIT_BINS)
	$(Q)fail=0; total=0; for t in $(UNIT_BINS); do total=$$((total+1)); \
		$$t || fail=$$((fail+1)); done; \
	echo "unit: $$((total-fail))/$$total test programs passed"; [ $$fail -eq 0 ]

bats: faultline
	$(Q)bats --timing tests/bats

# Guest tier: tests/vm/guest/*.bats, each in a qemu (TCG) guest booted from a stock distribution
# kernel (tests/vm/README.md). Empty variables take tests/vm/vm.sh's defaults; VM_TESTS names
# suites (doctor, or tests/vm/guest/doctor.bats), all of them when empty.
VM_KERNEL_PKG ?=
VM_VMLINUX    ?=
VM_MODULES    ?=
VM_KCONFIG    ?=
VM_JOBS       ?=
VM_TIMEOUT    ?=
VM_FILTER     ?=
VM_APPEND     ?=
VM_TESTS      ?=

.PHONY: test-vm
test-vm: faultline
	$(Q)VM_KERNEL_PKG='$(VM_KERNEL_PKG)' VM_VMLINUX='$(VM_VMLINUX)' VM_MODULES='$(VM_MODULES)' \
		VM_KCONFIG='$(VM_KCONFIG)' VM_JOBS='$(VM_JOBS)' VM_TIMEOUT='$(VM_TIMEOUT)' \
		VM_FILTER='$(VM_FILTER)' VM_APPEND='$(VM_APPEND)' \
		VM_FAULTLINE='$(CURDIR)/$(BUILD)/faultline' tests/vm/vm.sh $(VM_TESTS)

# Benchmarks (figures in bench/RESULTS.md), not part of `make test`, as root. flperf links the
# tool's objects like the unit tests do, with the same -Werror flags; built by `make bench` only.
# --wrap: flperf times the BPF load inside a backend's apply (bench/flperf.c).
BENCH_RUNS  ?=

$(BUILD)/bench/flperf: bench/flperf.c $(LIBOBJS) | $(BUILD)/.dirs
	@mkdir -p $(dir $@)
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -Wl,--wrap=bpf_object__load_skeleton -o $@ $< $(LIBOBJS) \
		$(LDLIBS)

.PHONY: bench
bench: faultline $(BUILD)/bench/flperf $(BPF_OBJS)
	$(Q)FAULTLINE='$(CURDIR)/$(BUILD)/faultline' FLPERF='$(CURDIR)/$(BUILD)/bench/flperf' \
		NETFAULT_OBJ='$(CURDIR)/$(BUILD)/bpf/netfault.bpf.o' BENCH_RUNS='$(BENCH_RUNS)' \
		bench/run.sh

# libFuzzer target for the scenario loader, built with clang in its own object tree.
FUZZ_BUILD  := build-fuzz
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -DFL_VERSION='"$(VERSION)"' -I. -I$(BUILD) \
	       $(PKG_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_SRCS   := $(sort $(wildcard scenarios/*.c inject/*.c reports/*.c))
FUZZ_OBJS   := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(FUZZ_SRCS))

$(FUZZ_BUILD)/%.o: %.c $(BPF_SKELS)
	@mkdir -p $(dir $@)
	$(call msg,FUZZCC,$<)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_scenario: tests/fuzz/fuzz_scenario.c $(FUZZ_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

fuzz: $(FUZZ_BUILD)/fuzz_scenario
	$(Q)mkdir -p $(FUZZ_BUILD)/corpus
	$(Q)$(FUZZ_BUILD)/fuzz_scenario -max_total_time=$(FUZZ_TIME) -timeout=5 -rss_limit_mb=1024 \
		-artifact_prefix=tests/fuzz/ -print_final_stats=1 -dict=tests/fuzz/scenario.dict \
		$(FUZZ_BUILD)/corpus tests/fuzz/corpus 2>&1 | \
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|Done)' ; \
		st=$${PIPESTATUS[0]}; echo "fuzz: scenario loader, $(FUZZ_TIME)s, exit $$st"; exit $$st

test: SHELL := /bin/bash
fuzz: SHELL := /bin/bash
test:
	$(MAKE) deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) SAN=1 unit
	$(MAKE) fuzz
	$(MAKE) bats
	$(MAKE) test-vm
	@echo "make test: all tiers passed"

deps:
	@sh tests/lib/deps.sh

# The README's first command: install, build, run the embedded default (a lab on this host).
quickstart:
	$(MAKE) deps
	$(MAKE) all
	./faultline run scenarios/examples/quickstart.yaml

# --- install -----------------------------------------------------------------------------

install: faultline
	install -D -m 0755 $(BUILD)/faultline $(DESTDIR)$(BINDIR)/faultline
	install -D -m 0644 cmd/faultline.1 $(DESTDIR)$(MANDIR)/man1/faultline.1
	install -D -m 0644 cmd/faultline.bash-completion $(DESTDIR)$(COMPLDIR)/faultline
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/faultline|$(BINDIR)/faultline|' cmd/faultline-agent.service \
		>$(DESTDIR)$(UNITDIR)/faultline-agent.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/faultline $(DESTDIR)$(MANDIR)/man1/faultline.1 \
		$(DESTDIR)$(COMPLDIR)/faultline $(DESTDIR)$(UNITDIR)/faultline-agent.service

format:
	clang-format -i $(SRCS) $(wildcard */*.h tests/unit/*.c bpf/*.c)

clean:
	rm -rf build build-san build-fuzz faultline

-include $(OBJS:.o=.d)
