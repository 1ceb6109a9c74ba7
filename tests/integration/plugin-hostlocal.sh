#!/usr/bin/env bash
# veilnet CNI plugin: IPAM delegated to Debian's host-local per the spec
# (found in CNI_PATH, same env and stdin; DEL and CHECK delegated; a failed
# ADD releases the delegated reservation).
S=hl
source "$(dirname "$0")/plugin-common.bash"

[[ -x /usr/lib/cni/host-local ]] || t_skip "host-local not installed (containernetworking-plugins)"
node_setup || { t_fail "node setup"; t_done; }
T=/run/vnp-$S
HL=$DATA	# host-local and veilnet share ipam.dataDir
jq -n --arg d "$HL" '{cniVersion: "1.0.0", name: "vnp-net", type: "veilnet",
	ipam: {type: "host-local", dataDir: $d,
	       ranges: [[{subnet: "10.203.0.0/24", rangeStart: "10.203.0.50"}], [{subnet: "fd00:203::/64"}]]}}' >"$CONF"

NS1=$(pod_ns p1)
cni ADD c1 "$NS1" eth0 "$CONF" >"$T/r1.json"
t_check "ADD with host-local IPAM succeeds" test $? -eq 0
A4=$(jq -r '.ips[0].address' "$T/r1.json")
A6=$(jq -r '.ips[1].address' "$T/r1.json")
t_check "the address comes from host-local's range" test "$A4" = 10.203.0.50/32
t_check "host-local recorded the reservation" grep -q c1 "$HL/vnp-net/10.203.0.50"
t_check "host-local recorded the IPv6 one too" test -e "$HL/vnp-net/${A6%/*}"
t_check "the pod holds it as a /32" ip -n vnp-$S-p1 -4 addr show dev eth0 to 10.203.0.50/32
t_check "and the /128" bash -c "ip -n vnp-$S-p1 -6 addr show dev eth0 | grep -q '$A6'"
t_check "the node routes to it" bash -c "ip -n $NODE route show 10.203.0.50 | grep -q $(host_if c1)"
t_check "veilnet keeps a record for it" test "$(jq -r .ipam "$DATA/$(host_if c1).json")" = host-local
with_prev "$CONF" "$T/r1.json" "$T/c1.json"
t_check "CHECK (delegated too) passes" cni CHECK c1 "$NS1" eth0 "$T/c1.json"

NS2=$(pod_ns p2)
cni ADD c2 "$NS2" eth0 "$CONF" >"$T/r2.json"
t_check "second pod gets the next host-local address" test "$(jq -r '.ips[0].address' "$T/r2.json")" = 10.203.0.51/32
t_check "pods talk over IPv4" ip netns exec vnp-$S-p1 ping -c1 -W2 10.203.0.51
t_check "pods talk over IPv6" ip netns exec vnp-$S-p2 ping -6 -c1 -W2 "${A6%/*}"

# a failed ADD (taken ifname) gives the delegated address back
NS3=$(pod_ns p3)
ip -n vnp-$S-p3 link add eth0 type veth peer name eth1
out=$(cni ADD c3 "$NS3" eth0 "$CONF")
t_check "ADD into a taken ifname fails" test $? -ne 0
t_check "... and host-local holds nothing for c3" bash -c "! grep -rqs c3 $HL/vnp-net"
t_check "... and veilnet no record" test ! -e "$DATA/$(host_if c3).json"

t_check "DEL with host-local" cni DEL c1 "$NS1" eth0 "$T/c1.json"
t_check "host-local released the address" test ! -e "$HL/vnp-net/10.203.0.50"
t_check "veilnet's record is gone" test ! -e "$DATA/$(host_if c1).json"
t_check "DEL twice with host-local" cni DEL c1 "$NS1" eth0 "$T/c1.json"

CNI_PATH_DIRS=$T/empty
out=$(cni ADD c4 "$(pod_ns p4)" eth0 "$CONF")
t_check "an IPAM plugin missing from CNI_PATH is an error naming it" grep -q host-local <<<"$(jq -r .details <<<"$out")"
unset CNI_PATH_DIRS
t_check "... and leaves nothing" bash -c "! ip -n $NODE link show $(host_if c4) && [ ! -e $DATA/$(host_if c4).json ]"
t_check "DEL of the rest" cni DEL c2 "$NS2" eth0 "$CONF"
t_check "host-local is empty" test -z "$(ls "$HL/vnp-net" | grep -v -e lock -e last_reserved)"
t_done
