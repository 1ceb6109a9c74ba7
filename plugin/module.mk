# plugin/: the veilnet CNI plugin (build/veilnet).
plugin_PROG := veilnet
plugin_PKGS := libmnl libnftnl jansson
# Run once per pod: jansson and libnftnl come from their static archives
# (Debian ships both; libmnl has none, so it and libc stay shared), and
# unused sections are dropped. Saves the loader two shared objects.
plugin_STATIC := libnftnl jansson
plugin_LDFLAGS := -Wl,-O1,--as-needed,--gc-sections
