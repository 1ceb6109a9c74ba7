#!/usr/bin/env bash
# cni-test drives veilnet (build/veilnet): one pod by hand (ADD, CHECK,
# STATUS, GC, DEL) and a 3-node cluster whose pods ping across nodes over
# IPv4 and IPv6. Namespaces vnh-vn-*, cluster vnh-v.
source "$(dirname "$0")/../lib.sh"

CT=$VN_BUILD/cni-test
NODE=vnh-vn-node
[[ $(id -u) == 0 ]] || t_skip "needs root (network namespaces)"
[[ -x $CT ]] || t_skip "$CT is not built"
[[ -x $VN_BUILD/veilnet ]] || t_skip "$VN_BUILD/veilnet is not built yet (the plugin issue); nothing to drive"
command -v jq >/dev/null || t_skip "jq is missing"

cleanup() {
	local ns
	"$CT" cluster destroy vnh-v
	for ns in $(ip netns list | awk '/^vnh-vn-/ {print $1}'); do ip netns del "$ns"; done
}
cleanup
t_cleanup cleanup
W=$(mktemp -d /tmp/vnh-vn.XXXXXX)
t_cleanup "rm -rf '$W'"
ip netns add $NODE
ip -n $NODE link set lo up
ip -n $NODE link add eth0 type veth peer name eth0-peer	# the node's uplink and address
ip -n $NODE addr add 10.250.3.1/24 dev eth0
ip -n $NODE link set eth0-peer up
ip -n $NODE link set eth0 up
ct() { "$CT" exec-in $NODE -- "$CT" "$@" --cache-dir "$W/cache"; }

cat >"$W/vn.conflist" <<JSON
{"cniVersion": "1.1.0", "name": "vnh-vn", "plugins": [
 {"type": "veilnet", "ipam": {"ranges": [[{"subnet": "10.250.2.0/24"}], [{"subnet": "fd00:250:2::/64"}]],
  "dataDir": "$W/ipam"}}]}
JSON

# ---- one pod by hand; cni-test finds veilnet next to itself (build/)
t_check "VERSION lists 1.1.0 and 0.4.0" bash -c \
	"'$CT' version --conf '$W/vn.conflist' | jq -e '.supportedVersions | index(\"1.1.0\") and index(\"0.4.0\")'"
out=$(ct add --conf "$W/vn.conflist" --netns-create vnh-vn-a --args "K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=a")
t_check "ADD exits 0 with a result" jq -e '.ips | length == 2' <<<"$out"
ip4=$(jq -r '.ips[] | select(.address | contains(".")) | .address | split("/")[0]' <<<"$out")
ip6=$(jq -r '.ips[] | select(.address | contains(":")) | .address | split("/")[0]' <<<"$out")
host=$(jq -r '.interfaces[] | select(.sandbox == null) | .name' <<<"$out")
t_check "pod has $ip4/32 and $ip6/128" bash -c \
	"ip -n vnh-vn-a -o addr show dev eth0 | grep -q ' $ip4/32' && ip -n vnh-vn-a -o addr show dev eth0 | grep -q ' $ip6/128'"
t_check "host end $host starts with vn and is in the node" bash -c "[[ $host == vn* ]] && ip -n $NODE link show $host"
t_check "node routes the pod through $host" bash -c "ip -n $NODE route show $ip4 | grep -q 'dev $host'"
t_check "node pings the pod" ip netns exec $NODE ping -c1 -W2 "$ip4"
t_check "CHECK" ct check --conf "$W/vn.conflist" --netns-create vnh-vn-a
t_check "STATUS" ct status --conf "$W/vn.conflist"
t_check "GC with the cached attachment keeps the pod" ct gc --conf "$W/vn.conflist"
t_check "the pod's link survived GC" ip -n $NODE link show "$host"
# the runtime loses track of the pod (its cache entry goes): a leak that
# only the plugin's own GC can find (a cached one would get a DEL first)
rm "$W/cache/results/vnh-vn-vnh-vn-a-eth0"
t_check "GC with no valid attachment" ct gc --conf "$W/vn.conflist" --valid ""
t_check_not "veilnet's GC removes the leaked link" ip -n $NODE link show "$host"
t_check "DEL" ct del --conf "$W/vn.conflist" --netns-create vnh-vn-a
t_check_not "the netns is gone" test -e /var/run/netns/vnh-vn-a
t_check "no reservation left" bash -c "! ls '$W/ipam' | grep -q '10\.250\.2\.'"

# ---- podman writes 0.4.0 conflists
jq '.cniVersion = "0.4.0"' "$W/vn.conflist" >"$W/vn04.conflist"
out=$(ct add --conf "$W/vn04.conflist" --netns-create vnh-vn-b)
t_check "0.4.0: ADD answers in 0.4.0" jq -e '.cniVersion == "0.4.0" and (.ips | length == 2)' <<<"$out"
t_check "0.4.0: CHECK" ct check --conf "$W/vn04.conflist" --netns-create vnh-vn-b
t_check "0.4.0: DEL" ct del --conf "$W/vn04.conflist" --netns-create vnh-vn-b

# ---- a veilnet cluster: pods on two nodes talk, v4 and v6
t_check "cluster create vnh-v (veilnet is the default plugin)" "$CT" cluster create vnh-v --nodes 3
t_check "the conflist names veilnet" jq -e '.plugins[0].type == "veilnet"' /run/cni-test/vnh-v/n2/net.conflist
# nine pods, as the conformance runner makes them: x/a on n1, x/b on n2, ...
start=$(date +%s%N)
i=0
for ns in x y z; do
	for p in a b c; do
		out=$("$CT" pod add vnh-v n$((i % 3 + 1)) $ns/$p 2>&1) || t_fail "pod add $ns/$p" "$out"
		i=$((i + 1))
	done
done
echo "# 9 pod adds took $((($(date +%s%N) - start) / 1000000)) ms"
t_check "9 pods added" test "$("$CT" pod list vnh-v | wc -l)" -eq 9
xa=$("$CT" pod ip vnh-v x/a)
t_check "x/a has a /32 from n1's CIDR" bash -c \
	"[[ $xa == 10.244.1.* ]] && ip -n vnh-v-x-a -o addr show dev eth0 | grep -q ' $xa/32'"
t_check "pod x/a (n1) -> pod x/b (n2) over IPv4" "$CT" pod exec vnh-v x/a -- ping -c1 -w3 "$("$CT" pod ip vnh-v x/b)"
t_check "pod x/c (n3) -> pod x/a (n1) over IPv6" "$CT" pod exec vnh-v x/c -- ping -6 -c1 -w3 "$("$CT" pod ip vnh-v x/a -6)"
t_check "pod y/b (n2) -> pod z/c (n3) over IPv6" "$CT" pod exec vnh-v y/b -- ping -6 -c1 -w3 "$("$CT" pod ip vnh-v z/c -6)"
t_check "node n2 reaches pod x/a on n1" "$CT" node exec vnh-v n2 -- ping -c1 -w3 "$xa"
links=$("$CT" node exec vnh-v n1 -- ip -o link show type veth | wc -l)
t_check "pod del x/a" "$CT" pod del vnh-v x/a
veths_on_n1() { test "$("$CT" node exec vnh-v n1 -- ip -o link show type veth | wc -l)" -eq "$1"; }
t_check "x/a's host veth is gone from n1" wait_until veths_on_n1 $((links - 1))
t_check_not "n1 has no route to x/a" bash -c "'$CT' node exec vnh-v n1 -- ip route show $xa | grep -q ."
t_check "cluster destroy" "$CT" cluster destroy vnh-v
t_check "no vnh-v namespace left" bash -c "! ip netns list | grep -q '^vnh-v-'"
t_check_not "no state left" test -e /run/cni-test/vnh-v
t_done
