# netpol/: veilnet-policy, Kubernetes NetworkPolicy on nftables (build/veilnet-policy).
netpol_PROG := veilnet-policy
netpol_PKGS := libmnl libnftnl jansson
