#!/usr/bin/env bash
# veilnet CNI plugin: a failed ADD leaves nothing behind (taken ifname,
# exhausted range, bad netns, bad data dir), and STATUS says when ADD
# cannot succeed.
S=fail
source "$(dirname "$0")/plugin-common.bash"

node_setup || { t_fail "node setup"; t_done; }
T=/run/vnp-$S
# a range of exactly two addresses
write_conf "$CONF" 1.1.0 '.ipam.ranges = [[{subnet: "10.201.0.0/24", rangeStart: "10.201.0.10", rangeEnd: "10.201.0.11"}], [{subnet: "fd00:201::/64"}]]'

# nothing_of CID: no host link, no record, no reservation of the container.
nothing_of() {
	local h
	h=$(host_if "$1")
	! ip -n "$NODE" link show "$h" >/dev/null 2>&1 && [[ ! -e $DATA/$h.json ]] &&
		! grep -qs "$h" "$DATA"/ip-*
}

# --- taken ifname: the pod already has eth0
NS1=$(pod_ns p1)
ip -n vnp-$S-p1 link add eth0 type veth peer name eth1
out=$(cni ADD c1 "$NS1" eth0 "$CONF")
t_check "ADD into a taken ifname fails" test $? -ne 0
t_check "... with an error object" jq -e '.code and .msg and .details' <<<"$out"
t_check "... and leaves no link, record or reservation" nothing_of c1
t_check "... and no route on the node" bash -c "[ -z \"\$(ip -n $NODE route show | grep 10.201)\" ]"
t_check "... and the pod's own eth0 untouched" ip -n vnp-$S-p1 link show eth0
t_check "the range is intact after it" test -z "$(ls "$DATA" | grep '^ip-')"

# --- exhausted range
for i in 2 3; do
	ns=$(pod_ns p$i)
	cni ADD c$i "$ns" eth0 "$CONF" >"$T/r$i.json"
	t_check "ADD $i of a 2-address range succeeds" test $? -eq 0
done
t_check "the two pods got the two addresses" \
	test "$(jq -r '.ips[0].address' "$T"/r2.json "$T"/r3.json | sort | tr '\n' ' ')" = "10.201.0.10/32 10.201.0.11/32 "
NS4=$(pod_ns p4)
out=$(cni ADD c4 "$NS4" eth0 "$CONF")
t_check "ADD from an exhausted range fails with code 11" test "$(jq .code <<<"$out")" = 11
t_check "... and leaves nothing (not even its IPv6 reservation)" nothing_of c4
t_check "... and no pod interface" bash -c "! ip -n vnp-$S-p4 link show eth0"
t_check "ipv6 reservations: exactly the two pods'" test "$(ls "$DATA" | grep -c '^ip-fd00')" = 2
out=$(cni STATUS "" "" "" "$CONF")
t_check "STATUS on an exhausted range: code 50" test "$(jq .code <<<"$out")" = 50
t_check "... saying no IP addresses are available" grep -q "no IP addresses available" <<<"$(jq -r .details <<<"$out")"
cni DEL c2 "$NS4" eth0 "$CONF" >/dev/null
t_check "STATUS after a DEL is ready again" cni STATUS "" "" "" "$CONF"
t_check "ADD succeeds again after a DEL" cni ADD c4 "$NS4" eth0 "$CONF"

# --- bad netns
out=$(cni ADD c5 /run/netns/vnp-$S-does-not-exist eth0 "$CONF")
t_check "ADD with a missing netns fails with code 3" test "$(jq .code <<<"$out")" = 3
t_check "... and leaves nothing" nothing_of c5
: >"$T/not-a-netns"
out=$(cni ADD c6 "$T/not-a-netns" eth0 "$CONF")
t_check "ADD with a file that is no netns fails" test $? -ne 0
t_check "... naming CNI_NETNS" grep -q CNI_NETNS <<<"$(jq -r .details <<<"$out")"
t_check "... and leaves nothing" nothing_of c6

# --- unusable data directory
: >"$T/file"
write_conf "$T/baddir.json" 1.1.0 ".ipam.dataDir = \"$T/file/sub\""
NS7=$(pod_ns p7)
out=$(cni ADD c7 "$NS7" eth0 "$T/baddir.json")
t_check "ADD with an unusable data dir fails with code 5" test "$(jq .code <<<"$out")" = 5
t_check "... and creates no link" bash -c "! ip -n $NODE link show $(host_if c7)"
out=$(cni STATUS "" "" "" "$T/baddir.json")
t_check "STATUS with an unusable data dir: code 50" test "$(jq .code <<<"$out")" = 50

write_conf "$T/wide.json" 1.1.0 '.ipam.dataDir += "-wide"'

# --- podguard (include/veilnet/podguard.h) fails closed: a namespace chain
# without the newpod maps makes admission fail, and ADD undoes everything
ip netns exec "$NODE" nft -f - <<'NFT'
table inet veilnet {
	chain nsin-locked { }
	chain nsout-locked { }
}
NFT
NS9=$(pod_ns p9)
out=$(cni ADD c9 "$NS9" eth0 "$T/wide.json" "K8S_POD_NAMESPACE=locked;K8S_POD_NAME=p9")
t_check "ADD fails when podguard cannot admit the pod" test $? -ne 0
t_check "... with a podguard error" grep -q podguard <<<"$(jq -r .details <<<"$out")"
t_check "... and leaves no link, pod interface or record" bash -c \
	"! ip -n $NODE link show $(host_if c9) && ! ip -n vnp-$S-p9 link show eth0 && [ ! -e $DATA-wide/$(host_if c9).json ]"
t_check "a pod of another namespace is not affected" cni ADD c10 "$(pod_ns p10)" eth0 "$T/wide.json" "K8S_POD_NAMESPACE=open"
ip netns exec "$NODE" nft delete table inet veilnet

# --- double ADD of one attachment is refused and keeps the first
NS8=$(pod_ns p8)
cni ADD c8 "$NS8" eth0 "$T/wide.json" >"$T/r8.json"
out=$(cni ADD c8 "$NS8" eth0 "$T/wide.json")
t_check "a second ADD of the same attachment fails" test $? -ne 0
t_check "... and the first attachment survives" \
	bash -c "ip -n $NODE link show $(host_if c8) && ip -n vnp-$S-p8 link show eth0 && [ -e $DATA-wide/$(host_if c8).json ]"
t_done
