# veilnet - top-level build.
#
#   make            build every program into build/
#   make deps       install the Debian packages that are missing (.ci/packages)
#   make check      deps + build + every test suite (unit tests under ASan/UBSan)
#   make demo       deps + build + the 3-node demo cluster
#   make bench      benchmarks, side by side with the reference plugins
#   make fuzz       each fuzz target for FUZZ_SECONDS (default 60)
#   make install    DESTDIR/PREFIX aware; veilnet goes to /opt/cni/bin
#
# Each program lives in its own directory with a module.mk naming it; the
# code they share is lib/ (built once as build/libveilnet.a), with its
# headers in include/veilnet/.

BUILD    ?= build
CC       ?= cc
CLANG    ?= clang
PREFIX   ?= /usr/local
DESTDIR  ?=
CNI_BIN_DIR ?= /opt/cni/bin

PKGS      := libmnl libnftnl jansson libnl-3.0 libnl-route-3.0 libsodium
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
pkglibs    = $(shell pkg-config --libs $(1) 2>/dev/null)

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
BASEFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) -MMD -MP
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZFLAGS := -O1 -g -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer

# The test suites find the programs through VN_BUILD (default build/).
export VN_BUILD := $(abspath $(BUILD))

LIB_PKGS := libmnl libnftnl jansson libnl-3.0
LD_STATIC  := -Wl,-Bstatic
LD_DYNAMIC := -Wl,-Bdynamic
LIB_SRCS := $(wildcard lib/*.c)

# The CNI plugin is linked against musl (plugin/musl-libs.sh builds the
# libraries it needs); VEILNET_LIBC=glibc links it against static glibc
# instead, for a machine without access to Debian's source packages.
VEILNET_LIBC ?= musl
MUSL_CC  ?= musl-gcc
MUSL_DIR := $(BUILD)/musl
MUSL_BASEFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -fno-pie -Iinclude -isystem $(MUSL_DIR)/include -MMD -MP

MODULES  := plugin netpol overlay netns-harness
PROGS    :=
UNIT_TESTS :=
FUZZERS  :=

.PHONY: all deps check check-run check-unit check-integration demo bench fuzz install clean
# Keep intermediate objects: make would delete them after the tests ran, and
# its "rm ..." line would come after check's closing "N passed, M failed".
.SECONDARY:
all:

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BASEFLAGS) -c -o $@ $<

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(BASEFLAGS) -c -o $@ $<

$(BUILD)/libveilnet.a: $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
	$(AR) rcs $@ $^

$(BUILD)/san/libveilnet.a: $(patsubst %.c,$(BUILD)/san/%.o,$(LIB_SRCS))
	$(AR) rcs $@ $^

$(MUSL_DIR)/.built: plugin/musl-libs.sh
	bash plugin/musl-libs.sh $(MUSL_DIR)
	@touch $@

$(MUSL_DIR)/obj/%.o: %.c | $(MUSL_DIR)/.built
	@mkdir -p $(dir $@)
	$(MUSL_CC) $(CFLAGS) $(MUSL_BASEFLAGS) -c -o $@ $<

$(MUSL_DIR)/libveilnet.a: $(patsubst %.c,$(MUSL_DIR)/obj/%.o,$(LIB_SRCS))
	$(AR) rcs $@ $^

# Unit tests of lib/ itself: tests/unit/lib/test_*.c
LIB_TESTS := $(patsubst tests/unit/lib/%.c,$(BUILD)/san/tests/lib/%,$(wildcard tests/unit/lib/test_*.c))
$(BUILD)/san/tests/lib/%: tests/unit/lib/%.c $(BUILD)/san/libveilnet.a
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(BASEFLAGS) -o $@ $(filter %.c %.o %.a,$^) $(call pkglibs,$(LIB_PKGS) cmocka)
UNIT_TESTS += $(LIB_TESTS)

# module_rules(dir): the program dir/main.c + dir/*.c, its unit tests
# tests/unit/dir/test_*.c (linked with everything but main.c, under
# sanitizers, with -Idir so a test includes its module's headers by name)
# and its fuzz targets tests/fuzz/dir/fuzz_*.c (clang).
# dir/module.mk sets <dir>_PROG, <dir>_PKGS and optionally <dir>_LDLIBS,
# <dir>_LIB_PKGS (the packages the parts of lib/ it uses need; default
# all of LIB_PKGS), <dir>_STATIC (packages whose static archive the
# program links, so that the loader has fewer shared objects to map at
# each start), <dir>_LDFLAGS, and <dir>_FULLY_STATIC = yes for a program
# linked as one static-pie executable (every package's static archive), or
# <dir>_LIBC = musl for one linked statically against musl and the
# archives <dir>_MUSL_LIBS.
define module_rules
$(1)_SRCS := $$(filter-out $(1)/main.c,$$(wildcard $(1)/*.c))
$(1)_OBJS := $$(patsubst %.c,$(BUILD)/obj/%.o,$$($(1)_SRCS))
$(1)_SAN_OBJS := $$(patsubst %.c,$(BUILD)/san/%.o,$$($(1)_SRCS))
$(1)_LIB_PKGS ?= $(LIB_PKGS)
$(1)_LIBS = $$(call pkglibs,$$($(1)_PKGS) $$($(1)_LIB_PKGS)) $$($(1)_LDLIBS)
$(1)_PROG_LIBS = $$(if $$($(1)_FULLY_STATIC),-static-pie $$(call pkglibs,--static $$($(1)_PKGS) \
	$$($(1)_LIB_PKGS)) $$($(1)_LDLIBS),$$(if $$($(1)_STATIC),$$(LD_STATIC) \
	$$(call pkglibs,$$($(1)_STATIC)) $$(LD_DYNAMIC)) $$($(1)_LIBS))
ifneq ($$($(1)_PROG),)
ifeq ($$($(1)_LIBC),musl)
$(BUILD)/$$($(1)_PROG): $$(patsubst %.c,$(MUSL_DIR)/obj/%.o,$(1)/main.c $$($(1)_SRCS)) \
		$(MUSL_DIR)/libveilnet.a
	$$(MUSL_CC) -static $$(LDFLAGS) $$($(1)_LDFLAGS) -o $$@ $$(filter %.o %.a,$$^) $$($(1)_MUSL_LIBS)
else
$(BUILD)/$$($(1)_PROG): $(BUILD)/obj/$(1)/main.o $$($(1)_OBJS) $(BUILD)/libveilnet.a
	$$(CC) $$(LDFLAGS) $$($(1)_LDFLAGS) -o $$@ $$(filter %.o %.a,$$^) $$($(1)_PROG_LIBS)
endif
PROGS += $(BUILD)/$$($(1)_PROG)
endif
$(1)_TESTS := $$(patsubst tests/unit/$(1)/%.c,$(BUILD)/san/tests/$(1)/%,$$(wildcard tests/unit/$(1)/test_*.c))
$(BUILD)/san/tests/$(1)/%: tests/unit/$(1)/%.c $$($(1)_SAN_OBJS) $(BUILD)/san/libveilnet.a
	@mkdir -p $$(dir $$@)
	$$(CC) $$(SANFLAGS) $$(BASEFLAGS) -I$(1) -o $$@ $$(filter %.c %.o %.a,$$^) $$($(1)_LIBS) $$(call pkglibs,cmocka)
UNIT_TESTS += $$($(1)_TESTS)
$(1)_FUZZ := $$(patsubst tests/fuzz/$(1)/%.c,$(BUILD)/fuzz/%,$$(wildcard tests/fuzz/$(1)/fuzz_*.c))
$(BUILD)/fuzz/%: tests/fuzz/$(1)/%.c $$($(1)_SRCS) $(LIB_SRCS)
	@mkdir -p $$(dir $$@)
	$$(CLANG) $$(FUZZFLAGS) -std=gnu11 -D_GNU_SOURCE -Iinclude -I$(1) $$(PKG_CFLAGS) -o $$@ $$(filter %.c,$$^) $$($(1)_LIBS)
FUZZERS += $$($(1)_FUZZ)
endef

include $(wildcard $(addsuffix /module.mk,$(MODULES)))
$(foreach m,$(MODULES),$(eval $(call module_rules,$(m))))

# Extra build products a module or test area may add (helpers, probes).
include $(wildcard tests/*.mk)

all: $(PROGS) $(EXTRA_PROGS)

deps:
	@bash .ci/deps

# make check = deps, then a fresh make (so pkg-config sees what deps installed).
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all $(UNIT_TESTS) $(FUZZERS)
	@bash tests/run-suites $(UNIT_TESTS) $(sort $(wildcard tests/integration/*.sh)) $(addprefix fuzz:,$(FUZZERS))

check-unit: all $(UNIT_TESTS)
	@bash tests/run-suites $(UNIT_TESTS)

check-integration: all
	@bash tests/run-suites $(sort $(wildcard tests/integration/*.sh))

fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do echo "== $$f"; $$f -max_total_time=$${FUZZ_SECONDS:-60} -print_final_stats=1 $(BUILD)/fuzz-corpus-$$(basename $$f) || exit 1; done

install: all
	install -d $(DESTDIR)$(CNI_BIN_DIR) $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/veilnet $(DESTDIR)$(CNI_BIN_DIR)/veilnet
	for p in $(filter-out $(BUILD)/veilnet,$(PROGS)); do install -m 0755 $$p $(DESTDIR)$(PREFIX)/bin/; done

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -path $(MUSL_DIR)/src -prune -o -name '*.d' -print 2>/dev/null)

demo: deps
	@$(MAKE) --no-print-directory all
	@bash netns-harness/demo $(if $(KEEP),--keep)

bench: deps
	@$(MAKE) --no-print-directory all
	@bash tests/bench/run
