# plugin/: the veilnet CNI plugin (build/veilnet).
plugin_PROG := veilnet
plugin_PKGS := libmnl libnftnl jansson
