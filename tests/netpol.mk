# tests/netpol.mk - helpers of the netpol suites and bench (tests/netpol/):
#   build/vnn-probe      TCP/UDP servers, one-shot probes, connection rate
#   build/vnn-podguard   calls lib/podguard.c like the CNI plugin does
#   build/vnn-gen        synthetic clusters for tests/bench/policy

$(BUILD)/vnn-probe: $(BUILD)/obj/tests/netpol/vnn_probe.o
	$(CC) $(LDFLAGS) -o $@ $^
$(BUILD)/vnn-podguard: $(BUILD)/obj/tests/netpol/vnn_podguard.o $(BUILD)/libveilnet.a
	$(CC) $(LDFLAGS) -o $@ $^ $(call pkglibs,$(LIB_PKGS))
$(BUILD)/vnn-gen: $(BUILD)/obj/tests/netpol/vnn_gen.o
	$(CC) $(LDFLAGS) -o $@ $^
EXTRA_PROGS += $(BUILD)/vnn-probe $(BUILD)/vnn-podguard $(BUILD)/vnn-gen
