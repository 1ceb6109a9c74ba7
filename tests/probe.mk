# tests/probe.mk - vn-probe, the reachability probe of the conformance runner
# (tests/conformance/). A standalone program linking nothing but libc:
# tests/probe/main.c + tests/probe/*.c -> build/vn-probe. The pure parts
# (SCTP packets, argument parsing) have unit tests in tests/unit/probe/.

PROBE_SRCS := $(wildcard tests/probe/*.c)
PROBE_CORE := $(filter-out tests/probe/main.c,$(PROBE_SRCS))

$(BUILD)/vn-probe: $(patsubst %.c,$(BUILD)/obj/%.o,$(PROBE_SRCS))
	$(CC) $(LDFLAGS) -o $@ $^
EXTRA_PROGS += $(BUILD)/vn-probe

PROBE_TESTS := $(patsubst tests/unit/probe/%.c,$(BUILD)/san/tests/probe/%,$(wildcard tests/unit/probe/test_*.c))
$(PROBE_TESTS): $(BUILD)/san/tests/probe/%: tests/unit/probe/%.c $(patsubst %.c,$(BUILD)/san/%.o,$(PROBE_CORE))
	@mkdir -p $(dir $@)
	$(CC) $(SANFLAGS) $(BASEFLAGS) -Itests/probe -o $@ $(filter %.c %.o,$^) $(call pkglibs,cmocka)
UNIT_TESTS += $(PROBE_TESTS)
