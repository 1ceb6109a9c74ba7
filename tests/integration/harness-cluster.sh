#!/usr/bin/env bash
# The cluster builder: `cni-test cluster|pod|namespace|node`, wired with
# Debian's ptp + host-local (so it does not depend on veilnet; the veilnet
# cluster is in harness-veilnet.sh). Clusters vnh-c (3 nodes, dual-stack),
# vnh-nr (--no-routes) and vnh-par (parallel pod adds).
source "$(dirname "$0")/../lib.sh"

CT=$VN_BUILD/cni-test
[[ $(id -u) == 0 ]] || t_skip "needs root (network namespaces)"
[[ -x $CT ]] || t_skip "$CT is not built"
[[ -x /usr/lib/cni/ptp ]] || t_skip "Debian's containernetworking-plugins are not installed"
command -v jq >/dev/null || t_skip "jq is missing"

for c in vnh-c vnh-nr vnh-par; do
	"$CT" cluster destroy $c
	t_cleanup "'$CT' cluster destroy $c"
done
ns_left() { ip netns list | awk '{print $1}' | grep -c "^$1-"; }
state() { jq -r "$2" "/run/cni-test/$1/state.json"; }
# wait_in_netns PID NETNS: until process PID has entered NETNS (bounded)
wait_in_netns() {
	local want i
	want=$(stat -L -c %i "/var/run/netns/$2")
	for ((i = 0; i < 250; i++)); do
		[[ $(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null) == "$want" ]] && return 0
		sleep 0.02
	done
	return 1
}

# ---- create: namespaces, underlay, addresses, routes
t_check "cluster create vnh-c with 3 nodes" "$CT" cluster create vnh-c --nodes 3 --plugin ptp
t_check "underlay + 3 node namespaces" test "$(ns_left vnh-c)" -eq 4
t_check "state file lists 3 nodes" test "$(state vnh-c '.nodes | length')" -eq 3
t_check "create twice fails" bash -c "! '$CT' cluster create vnh-c --nodes 1 --plugin ptp 2>/dev/null"
t_check "node n2 has 172.30.0.2/24 and fd30::2/64 on eth0" bash -c \
	"'$CT' node exec vnh-c n2 -- ip -o addr show dev eth0 | grep -q ' 172.30.0.2/24' &&
	 '$CT' node exec vnh-c n2 -- ip -o addr show dev eth0 | grep -q ' fd30::2/64'"
t_check "node n1 routes n3's pod CIDR via n3" bash -c \
	"'$CT' node exec vnh-c n1 -- ip route show 10.244.3.0/24 | grep -q 'via 172.30.0.3 dev eth0'"
t_check "node n1 routes n2's IPv6 pod CIDR via n2" bash -c \
	"'$CT' node exec vnh-c n1 -- ip -6 route show fd00:10:244:2::/64 | grep -q 'via fd30::2 dev eth0'"
t_check "node n1 pings node n3 over the underlay" "$CT" node exec vnh-c n1 -- ping -c1 -W2 172.30.0.3
t_check "node n3 pings node n1 over IPv6" "$CT" node exec vnh-c n3 -- ping -6 -c1 -W2 fd30::1
t_check "the underlay netns answers as the nodes' gateway" "$CT" node exec vnh-c n2 -- ping -c1 -W2 172.30.0.254
t_check "n1's conflist wires ptp with n1's pod CIDRs" jq -e \
	'.plugins[0].type == "ptp" and .plugins[0].ipam.ranges[0][0].subnet == "10.244.1.0/24" and .plugins[0].ipam.ranges[1][0].subnet == "fd00:10:244:1::/64"' \
	/run/cni-test/vnh-c/n1/net.conflist

# ---- pods on two nodes talk across nodes, v4 and v6
out=$("$CT" pod add vnh-c n1 front/web --labels app=web,tier=fe --ports http=80/tcp)
t_check "pod add prints NS/POD NODE IPV4 IPV6" \
	grep -Eq '^front/web n1 10\.244\.1\.[0-9]+ fd00:10:244:1::[0-9a-f]+$' <<<"$out"
out=$("$CT" pod add vnh-c n2 back/db)
t_check "second pod lands on n2's CIDR" grep -Eq '^back/db n2 10\.244\.2\.[0-9]+ fd00:10:244:2::' <<<"$out"
web4=$("$CT" pod ip vnh-c front/web)
db4=$("$CT" pod ip vnh-c back/db)
db6=$("$CT" pod ip vnh-c back/db -6)
web6=$("$CT" pod ip vnh-c front/web -6)
t_check "pod netns vnh-c-front-web exists" test -e /var/run/netns/vnh-c-front-web
t_check "the pod's address is in the kernel" bash -c \
	"ip -n vnh-c-front-web -o addr show dev eth0 | grep -q ' $web4/'"
t_check "pod n1 -> pod n2 over IPv4" "$CT" pod exec vnh-c front/web -- ping -c1 -W2 "$db4"
t_check "pod n2 -> pod n1 over IPv6" "$CT" pod exec vnh-c back/db -- ping -6 -c1 -w3 "$web6"
t_check "pod n1 -> pod n2 over IPv6" "$CT" pod exec vnh-c front/web -- ping -6 -c1 -w3 "$db6"
t_check_not "a pod that does not exist" "$CT" pod add vnh-c n9 front/x
t_check_not "the same pod twice" "$CT" pod add vnh-c n1 front/web
t_check "a failed add leaves no record" test "$(state vnh-c '.pods | length')" -eq 2

# ---- the Kubernetes view and labels
list=$("$CT" pod list vnh-c --json)
t_check "pod list --json is a v1 List" jq -e '.apiVersion == "v1" and .kind == "List"' <<<"$list"
t_check "it has both namespaces with their metadata.name label" jq -e \
	'[.items[] | select(.kind == "Namespace") | .metadata.labels["kubernetes.io/metadata.name"]] | sort == ["back", "front"]' <<<"$list"
t_check "pod front/web: labels, node, IPs, named port" jq -e --arg ip "$web4" --arg ip6 "$web6" \
	'.items[] | select(.kind == "Pod" and .metadata.name == "web") |
	 .metadata.namespace == "front" and .metadata.labels == {"app": "web", "tier": "fe"} and
	 .spec.nodeName == "n1" and .status.podIP == $ip and .status.podIPs == [{"ip": $ip}, {"ip": $ip6}] and
	 .spec.containers[0].ports[0] == {"containerPort": 80, "protocol": "TCP", "name": "http"}' <<<"$list"
t_check "pod list prints one line per pod" test "$("$CT" pod list vnh-c | wc -l)" -eq 2
t_check "pod label replaces the labels" "$CT" pod label vnh-c front/web app=api
t_check "namespace label merges with --merge" "$CT" namespace label vnh-c back team=red --merge
t_check "namespace label creates a namespace without pods" "$CT" namespace label vnh-c empty a=b
list=$("$CT" pod list vnh-c --json)
t_check "new pod labels are listed" jq -e \
	'.items[] | select(.kind == "Pod" and .metadata.name == "web") | .metadata.labels == {"app": "api"}' <<<"$list"
t_check "new namespace labels are listed" jq -e \
	'.items[] | select(.kind == "Namespace" and .metadata.name == "back") | .metadata.labels == {"kubernetes.io/metadata.name": "back", "team": "red"}' <<<"$list"
t_check "the empty namespace is listed" jq -e \
	'[.items[] | select(.kind == "Namespace")] | length == 3' <<<"$list"

# ---- pod del: kills what runs in the pod, DEL, netns and record gone
"$CT" pod exec vnh-c front/web -- sleep 300 &
sleeper=$!
disown $sleeper
t_cleanup "kill $sleeper"
t_check "a process runs in pod front/web" wait_in_netns $sleeper vnh-c-front-web
hostifs=$("$CT" node exec vnh-c n1 -- ip -o link show type veth | wc -l)
t_check "pod del" "$CT" pod del vnh-c front/web
t_check "the process in the pod was killed" bash -c "! kill -0 $sleeper 2>/dev/null || grep -q '^State:.*Z' /proc/$sleeper/status"
t_check_not "pod netns is gone" test -e /var/run/netns/vnh-c-front-web
veths_on_n1() { test "$("$CT" node exec vnh-c n1 -- ip -o link show type veth | wc -l)" -eq "$1"; }
t_check "host veth is gone from n1" wait_until veths_on_n1 $((hostifs - 1))
t_check "host-local released the address" bash -c "! test -e /run/cni-test/vnh-c/n1/ipam/vnh-c/$web4"
t_check "the pod left the state" test "$(state vnh-c '.pods | keys | join(",")')" = "back/db"
t_check_not "pod del of a missing pod fails" "$CT" pod del vnh-c front/web

# ---- --no-routes: no path between nodes' pods until someone adds one
t_check "cluster create --no-routes --ipv4-only" "$CT" cluster create vnh-nr --nodes 2 --plugin ptp --no-routes --ipv4-only
"$CT" pod add vnh-nr n1 a/p >/dev/null
"$CT" pod add vnh-nr n2 a/q >/dev/null
q=$("$CT" pod ip vnh-nr a/q)
t_check "no IPv6 with --ipv4-only" bash -c "! '$CT' pod ip vnh-nr a/q -6 2>/dev/null"
t_check_not "no route to n2's pod CIDR on n1" bash -c \
	"'$CT' node exec vnh-nr n1 -- ip route show 10.244.2.0/24 | grep -q ."
t_check_not "pods on different nodes cannot talk" "$CT" pod exec vnh-nr a/p -- ping -c1 -W1 "$q"
"$CT" node exec vnh-nr n1 -- ip route add 10.244.2.0/24 via 172.30.0.2
"$CT" node exec vnh-nr n2 -- ip route add 10.244.1.0/24 via 172.30.0.1
t_check "they can once routes are added" "$CT" pod exec vnh-nr a/p -- ping -c1 -W2 "$q"

# ---- parallel pod adds: every pod recorded, no address twice
t_check "cluster create vnh-par" "$CT" cluster create vnh-par --nodes 2 --plugin ptp --ipv4-only
pids=()
for i in 1 2 3 4 5 6 7 8; do
	"$CT" pod add vnh-par n$((i % 2 + 1)) ns$((i % 3))/p$i >/dev/null &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
t_check "8 parallel pod adds succeed" test $fails -eq 0
t_check "all 8 are in the state, Running" test "$(state vnh-par '[.pods[] | select(.phase == "Running")] | length')" -eq 8
t_check "8 distinct addresses" test "$(state vnh-par '[.pods[].ip4] | unique | length')" -eq 8

# ---- destroy: every netns, process and file
"$CT" node exec vnh-c n3 -- sleep 300 &
nsleeper=$!
disown $nsleeper
t_cleanup "kill $nsleeper"
t_check "a process runs in node n3" wait_in_netns $nsleeper vnh-c-n3
t_check "cluster destroy vnh-c" "$CT" cluster destroy vnh-c
t_check "no vnh-c namespace left" test "$(ns_left vnh-c)" -eq 0
t_check_not "no /run/cni-test/vnh-c" test -e /run/cni-test/vnh-c
t_check "the process in node n3 was killed" bash -c "! kill -0 $nsleeper 2>/dev/null || grep -q '^State:.*Z' /proc/$nsleeper/status"
t_check "destroy again is fine" "$CT" cluster destroy vnh-c
t_check "destroy vnh-nr and vnh-par" bash -c "'$CT' cluster destroy vnh-nr && '$CT' cluster destroy vnh-par"
t_check "no vnh-nr or vnh-par namespace left" test "$(( $(ns_left vnh-nr) + $(ns_left vnh-par) ))" -eq 0
t_check "destroy of a cluster that never was" "$CT" cluster destroy vnh-never
t_check_not "a bad cluster name is refused" "$CT" cluster create ../x --nodes 1
t_done
