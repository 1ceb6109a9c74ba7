# plugin/: the veilnet CNI plugin (build/veilnet).
plugin_PROG := veilnet
plugin_PKGS := libmnl jansson

# A runtime execs the plugin for every ADD/DEL/CHECK, so its start-up is
# part of every pod's latency: link Debian's static libjansson.a into the
# binary (one library less to map and relocate; Debian ships no libmnl.a,
# so libmnl and libc stay shared), drop libraries the plugin does not use
# (the Makefile's LIB_PKGS also lists libnftnl, which only veilnet-policy
# needs: lib/podguard.c talks nf_tables on libmnl) and link with -O1.
# The unit tests keep the shared libraries.
$(BUILD)/veilnet: LDFLAGS += -Wl,-O1 -Wl,--as-needed -Wl,--gc-sections
$(BUILD)/veilnet: plugin_LIBS = -l:libjansson.a $(call pkglibs,libmnl)
