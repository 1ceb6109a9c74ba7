#!/usr/bin/env bash
# mesh-kernel-tests: veilnet-mesh's kernel backend against a real
# wireguard.ko. Runs as root inside the kernel lane's VM
# (tests/integration/kernel-lane.sh, `make check-kernel`), or on any host
# whose kernel can create wireguard links; skips elsewhere.
#   - up --backend kernel: a wireguard link, configured over generic
#     netlink; idempotent; wg(8) reports the same state;
#   - pods on two nodes (build/cni-test, the veilnet plugin) ping through it;
#   - 1,000 peers: SET split over many messages, GET dump parts merged
#     (second up changes nothing);
#   - a peer with 1,500 allowed IPs (set by wg(8)): its dump spans several
#     messages; status reads them all; up puts the pod CIDRs back;
#   - leave (strict mode keeps guarding the pods of the node that left),
#     rotation, strict mode with the device down, down --purge.
# Names start with "vnmk". Exec is slow under TCG: few processes per check.
source "$(dirname "$0")/../lib.sh"

C=vnmk
MESH=$VN_BUILD/veilnet-mesh
CT=$VN_BUILD/cni-test
W1=vnmk1wg
W2=vnmk2wg

[[ $EUID -eq 0 ]] || t_skip "needs root"
[[ -x $MESH && -x $CT && -x $VN_BUILD/veilnet ]] || t_skip "build first"
command -v wg >/dev/null || t_skip "wg (wireguard-tools) is not installed"
if ! ip link add vnmk-probe type wireguard 2>/dev/null; then
	t_skip "this kernel cannot create wireguard links (no wireguard.ko)"
fi
ip link del vnmk-probe

T=$(mktemp -d /tmp/vnmk.XXXXXX)
teardown() {
	ip netns exec "$C-n1" "$MESH" down --purge --ifname "$W1" >/dev/null 2>&1
	ip netns exec "$C-n2" "$MESH" down --purge --ifname "$W2" >/dev/null 2>&1
	"$CT" cluster destroy "$C" >/dev/null 2>&1
}
t_cleanup "rm -rf $T"
t_cleanup teardown
teardown

node() { local n=$1; shift; ip netns exec "$C-n$n" "$@"; }
pod() { local p=$1; shift; "$CT" pod exec "$C" "default/$p" -- "$@"; }
up() {
	local n=$1 f=$2
	shift 2
	node "$n" "$MESH" up --node "n$n" -f "$f" --ifname "vnmk${n}wg" --key-file "$T/n$n.key" \
		--backend kernel "$@" >"$T/up.out" 2>"$T/up.err"
}
field() { sed -n "s/.* $1=\([0-9a-z]*\).*/\1/p" "$T/up.out"; }

# node_item I KEY: one Node of a NodeList (address 172.30.0.I on the
# cluster's underlay for I <= 2, fake beyond).
node_item() {
	local i=$1 a=$(($1 / 250)) b=$(($1 % 250))
	printf '{"kind":"Node","metadata":{"name":"n%d","annotations":{"veilnet.dev/wireguard-public-key":"%s"}},' "$i" "$2"
	if ((i <= 2)); then
		printf '"spec":{"podCIDRs":["10.244.%d.0/24","fd00:10:244:%d::/64"]},' "$i" "$i"
		printf '"status":{"addresses":[{"type":"InternalIP","address":"172.30.0.%d"}]}}' "$i"
	else
		printf '"spec":{"podCIDRs":["10.%d.%d.0/24","fd00:20:%x::/64"]},' $((100 + a)) "$b" "$i"
		printf '"status":{"addresses":[{"type":"InternalIP","address":"172.31.%d.%d"}]}}' "$a" "$b"
	fi
}

# fake_key I: a valid base64 key made from I (its first three bytes).
B64=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
fake_key() {
	local v=$(($1 + 0x424242))
	printf '%s%s%s%sVeilnetMeshKernelLaneFakePeerKeyAAAAAAA=' "${B64:$(((v >> 18) & 63)):1}" \
		"${B64:$(((v >> 12) & 63)):1}" "${B64:$(((v >> 6) & 63)):1}" "${B64:$((v & 63)):1}"
}

# nodelist K1 K2 [EXTRA]: nodes 1 and 2 with keys K1, K2, and EXTRA fake nodes
nodelist() {
	local items i
	items="$(node_item 1 "$1")"
	[[ -n $2 ]] && items+=",$(node_item 2 "$2")"
	for ((i = 3; i < 3 + ${3:-0}; i++)); do
		items+=",$(node_item "$i" "$(fake_key "$i")")"
	done
	printf '{"kind":"NodeList","apiVersion":"v1","items":[%s]}\n' "$items"
}

t_check "cluster created" "$CT" cluster create "$C" --nodes 2
"$CT" pod add "$C" n1 default/a >"$T/pod-a" 2>&1 || t_fail "pod a" "$(cat "$T/pod-a")"
"$CT" pod add "$C" n2 default/b >"$T/pod-b" 2>&1 || t_fail "pod b" "$(cat "$T/pod-b")"
read -r _ _ IPA4 IPA6 <"$T/pod-a"
read -r _ _ IPB4 IPB6 <"$T/pod-b"
K1=$("$MESH" genkey --key-file "$T/n1.key")
K2=$("$MESH" genkey --key-file "$T/n2.key")
nodelist "$K1" "$K2" >"$T/nodes.json"

# ---- the kernel backend ----
for n in 1 2; do
	if up "$n" "$T/nodes.json" && [[ $(field backend) == kernel ]]; then
		t_pass "up n$n with the kernel backend"
	else
		t_fail "up n$n with the kernel backend" "$(cat "$T/up.out" "$T/up.err")"
	fi
done
t_check "the device is a kernel wireguard link" bash -c "ip -n $C-n1 -d link show $W1 | grep -qw wireguard"
up 1 "$T/nodes.json"
t_check "second up changes nothing" test "$(field changes)" = 0
t_check "wg show: public key" test "$(node 1 wg show "$W1" public-key)" = "$K1"
t_check "wg show: the peer and its allowed IPs" \
	bash -c "ip netns exec $C-n1 wg show $W1 allowed-ips | grep -qF '$K2	10.244.2.0/24 fd00:10:244:2::/64'"
t_check "wg show: the endpoint" \
	bash -c "ip netns exec $C-n1 wg show $W1 endpoints | grep -qF '$K2	172.30.0.2:51820'"
node 1 "$MESH" status --ifname "$W1" --json >"$T/status.json"
t_check "status: kernel backend" grep -q '"backend": "kernel"' "$T/status.json"
t_check "ping pod a -> pod b through kernel WireGuard" pod a ping -c 1 -W 3 "$IPB4"
t_check "ping -6 pod b -> pod a through kernel WireGuard" pod b ping -6 -c 1 -W 3 "$IPA6"
t_check "wg show: a handshake and bytes" \
	bash -c "ip netns exec $C-n1 wg show $W1 transfer | awk '\$2 > 0 && \$3 > 0' | grep -q ."

# ---- 1,000 peers: SET split, GET dump merged ----
nodelist "$K1" "$K2" 999 >"$T/big.json"
start=$(date +%s%N)
up 1 "$T/big.json"
ms=$((($(date +%s%N) - start) / 1000000))
echo "# up with 1,000 peers (kernel backend, under TCG): ${ms} ms, $(field nl_messages) WireGuard netlink messages, $(field rt_messages) route messages"
t_check "1,000 peers: up succeeds" test "$(field peers)" = 1000
t_check "1,000 peers: SET took several netlink messages" test "$(field nl_messages)" -gt 3
t_check "1,000 peers: the kernel holds them" test "$(node 1 wg show "$W1" peers | wc -l)" = 1000
t_check "1,000 peers: and their 2,000 allowed IPs" \
	test "$(node 1 wg show "$W1" allowed-ips | awk '{n += NF - 1} END {print n}')" = 2000
up 1 "$T/big.json"
t_check "1,000 peers: second up changes nothing (the dump parts merge right)" test "$(field changes)" = 0
t_check "1,000 peers: routes to every remote pod CIDR" \
	test "$(ip -n "$C-n1" route show dev "$W1" | wc -l)" = 1000
up 1 "$T/nodes.json"
t_check "back to 1 peer: 999 removed" test "$(field peers_removed)" = 999
t_check "back to 1 peer: routes removed" test "$(ip -n "$C-n1" route show dev "$W1" | wc -l)" = 1

# ---- one peer whose allowed IPs span several dump messages ----
seq 0 1499 | awk '{printf "%s10.99.%d.%d/32", (NR > 1 ? "," : ""), int($1 / 250), $1 % 250}' >"$T/aips"
node 1 wg set "$W1" peer "$K2" allowed-ips "10.244.2.0/24,fd00:10:244:2::/64,$(cat "$T/aips")"
node 1 "$MESH" status --ifname "$W1" --json >"$T/status.json"
t_check "status reads all 1,502 allowed IPs of one peer" \
	test "$(grep -c '"10.99.' "$T/status.json")" = 1500
up 1 "$T/nodes.json"
t_check "up puts that peer's allowed IPs back (one update)" test "$(field peers_updated)" = 1
t_check "the peer has its 2 pod CIDRs again" \
	test "$(node 1 wg show "$W1" allowed-ips | awk '{print NF - 1}')" = 2

# ---- leave, rotation ----
nodelist "$K1" "" >"$T/alone.json"
up 1 "$T/alone.json"
t_check "n2 leaves: one peer removed" test "$(field peers_removed)" = 1
t_check "n2 left: strict mode still guards its pods" \
	node 1 nft get element inet veilnet-mesh guard4 "{ $IPB4 }"
K2=$("$MESH" genkey --force --key-file "$T/n2.key")
nodelist "$K1" "$K2" >"$T/nodes.json"
up 2 "$T/nodes.json"
t_check "n2 takes its new key" test "$(field device)" = 1
up 1 "$T/nodes.json"
t_check "n2 rejoins with its new key" test "$(field peers_added)" = 1
t_check "ping pod a -> pod b after the rotation" pod a ping -c 1 -W 3 "$IPB4"

# ---- strict mode ----
node 1 ip link set "$W1" down
node 1 ip route replace 10.244.2.0/24 via 172.30.0.2 dev eth0
t_check_not "device down: pod a cannot reach pod b" pod a ping -c 1 -W 1 "$IPB4"
t_check "device down: strict mode counted the drop" \
	bash -c "ip netns exec $C-n1 nft list chain inet veilnet-mesh forward | grep -q 'counter packets [1-9]'"
up 1 "$T/nodes.json"
t_check "up repairs it" pod a ping -c 1 -W 3 "$IPB4"

# ---- down ----
node 1 "$MESH" down --purge --ifname "$W1" >/dev/null
node 2 "$MESH" down --purge --ifname "$W2" >/dev/null
t_check_not "down: no wireguard link left on n1" ip -n "$C-n1" link show "$W1"
t_check_not "down: no strict table left on n1" node 1 nft list table inet veilnet-mesh
t_check_not "down: no route through the device left" bash -c "ip -n $C-n1 route | grep -q $W1"

t_done
