# plugin/: the veilnet CNI plugin (build/veilnet).
plugin_PROG := veilnet
# Run once per pod verb, so built to start fast: one static executable
# linked against musl, jansson and libnl-3 (built for musl from Debian's
# sources by plugin/musl-libs.sh). The kernel maps it with no loader, no
# shared objects and no symbol lookups, and musl's start-up runs no cpuid
# (glibc's runs 41, each a trap to the hypervisor in a VM) and touches few
# pages: VERSION takes ~0.5 ms of CPU against ~1.1 ms for the same code on
# static glibc, and 0.3 MB.
# It is not position-independent, like Debian's Go-built reference plugins:
# a static PIE relocates itself at every start, which costs another ~0.4 ms
# here in copied pages. Stack, heap and mmap stay randomized.
# libmnl and libnftnl are out of reach here (Debian ships no libmnl.a and
# libnftnl needs libmnl): the plugin builds its rtnetlink and nf_tables
# messages with libnl-3 and sends them with lib/nl.c. Unused sections are
# dropped.
# VEILNET_LIBC=glibc builds the same code as a static-pie glibc executable
# (the linker then warns that libnl-3's unused address helpers would need
# glibc's NSS at run time: the plugin never calls them).
plugin_PKGS := jansson libnl-3.0
plugin_LIB_PKGS := jansson libnl-3.0
plugin_LIBC := $(VEILNET_LIBC)
plugin_MUSL_LIBS = $(MUSL_DIR)/lib/libnl-3.a $(MUSL_DIR)/lib/libjansson.a
plugin_FULLY_STATIC := yes
plugin_LDFLAGS := -Wl,-O1,--gc-sections
