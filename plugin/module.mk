# plugin/: the veilnet CNI plugin (build/veilnet).
plugin_PROG := veilnet
# Run once per pod, so built to start fast: one static-pie executable
# (static glibc, jansson and libnl-3), which the kernel maps with no
# loader, no shared objects and no symbol lookups: ~0.6 ms less per
# invocation than a dynamic build on a 2-core VM, and half the memory.
# libmnl and libnftnl are out of reach here (Debian ships no libmnl.a and
# libnftnl needs libmnl): the plugin builds its rtnetlink and nf_tables
# messages with libnl-3 and sends them with lib/nl.c. Unused sections are
# dropped. The linker warns that libnl-3's unused address helpers would
# need glibc's NSS at run time (getaddrinfo, getprotobyname): the plugin
# never calls them.
plugin_PKGS := jansson libnl-3.0
plugin_LIB_PKGS := jansson libnl-3.0
plugin_FULLY_STATIC := yes
plugin_LDFLAGS := -Wl,-O1,--gc-sections
