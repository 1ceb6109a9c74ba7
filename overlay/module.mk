# veilnet-mesh: the WireGuard mesh between nodes (issue 4).
overlay_PROG := veilnet-mesh
overlay_PKGS := libmnl jansson libsodium libnftnl
