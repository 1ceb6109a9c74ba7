# plugin/: the veilnet CNI plugin (build/veilnet).
plugin_PROG := veilnet
plugin_PKGS := libmnl jansson

# The plugin is exec'd for every pod, so its start-up counts. It is linked
# fully statically when the static archives are there (Debian: libc6-dev,
# libjansson-dev, libnftnl-dev): no ld.so work at exec and only touched
# pages resident (~0.9 MB peak RSS instead of ~2 MB). Debian ships libmnl
# only as a shared object, so plugin/mnl.c implements its API and is also
# archived as a libmnl.a for the -lmnl on the link line. Without the
# archives the plugin links dynamically as usual.
plugin_LIBDIR := $(shell pkg-config --variable=libdir jansson 2>/dev/null)
plugin_STATIC_OK := $(and $(wildcard $(plugin_LIBDIR)/libjansson.a),$(wildcard $(plugin_LIBDIR)/libnftnl.a),$(wildcard $(plugin_LIBDIR)/libc.a))
ifneq ($(plugin_STATIC_OK),)
$(BUILD)/plugin-static/libmnl.a: $(BUILD)/obj/plugin/mnl.o
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^
$(BUILD)/veilnet: $(BUILD)/plugin-static/libmnl.a
$(BUILD)/veilnet: LDFLAGS += -static -L$(BUILD)/plugin-static
endif
