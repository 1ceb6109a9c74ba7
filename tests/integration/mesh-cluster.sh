#!/usr/bin/env bash
# mesh-cluster: three nodes on an underlay (build/cni-test), pods wired by
# the veilnet plugin, meshed by veilnet-mesh with wireguard-go (UAPI).
#   - up replaces the harness' plain underlay routes, is idempotent;
#   - wg(8) reports the state veilnet-mesh configured;
#   - ping, TCP and UDP between pods on different nodes, v4 and v6;
#   - a capture on the underlay sees plaintext markers before the mesh and
#     never with it, while WireGuard UDP flows;
#   - a node leaves and rejoins (only that peer changes, the others' traffic
#     goes on), a key is rotated;
#   - strict mode: wg device down or after `down`, pod traffic to remote
#     pods is dropped, never sent in plaintext;
#   - a node leaves: traffic to its pods is dropped, never seen in plaintext
#     on the underlay (remembered without --cluster-cidr; with it, the whole
#     pod network is guarded), pod to pod on one node still flows;
#   - down --purge leaves nothing.
source "$(dirname "$0")/../lib.sh"
source "$VN_ROOT/tests/mesh/lib.sh"

C=vnmc
MESH=$VN_BUILD/veilnet-mesh
CT=$VN_BUILD/cni-test
PROBE=$VN_BUILD/vn-probe
MARK=VNMESHPLAINTEXT
MARKHEX=$(printf %s "$MARK" | od -An -tx1 | tr -d ' \n' | cut -c1-32)

[[ $EUID -eq 0 ]] || t_skip "needs root"
for p in wireguard-go wg tcpdump nft; do
	command -v "$p" >/dev/null || t_skip "$p is not installed"
done
for b in "$MESH" "$CT" "$VN_BUILD/veilnet" "$PROBE"; do
	[[ -x $b ]] || t_skip "$b is not built"
done

T=$(mktemp -d /tmp/vnmc.XXXXXX)
teardown() {
	local i
	for i in 1 2 3; do
		ip netns exec "$C-n$i" "$MESH" down --purge --ifname "${C}${i}wg" >/dev/null 2>&1
	done
	"$CT" cluster destroy "$C" >/dev/null 2>&1
}
t_cleanup "rm -rf $T"
t_cleanup teardown
teardown

node() { local n=$1; shift; ip netns exec "$C-n$n" "$@"; }
pod() { local p=$1; shift; "$CT" pod exec "$C" "default/$p" -- "$@"; }
ifname() { echo "${C}${1}wg"; }

# nodelist N... : a NodeList of the given nodes, with their current keys
nodelist() {
	local items="" i pub
	for i in "$@"; do
		pub=$("$MESH" pubkey --key-file "$T/n$i.key")
		items+="${items:+,}{\"kind\":\"Node\",\"metadata\":{\"name\":\"n$i\",\"annotations\":"
		items+="{\"veilnet.dev/wireguard-public-key\":\"$pub\"}},\"spec\":{\"podCIDR\":\"10.244.$i.0/24\","
		items+="\"podCIDRs\":[\"10.244.$i.0/24\",\"fd00:10:244:$i::/64\"]},\"status\":{\"addresses\":"
		items+="[{\"type\":\"InternalIP\",\"address\":\"172.30.0.$i\"},{\"type\":\"Hostname\",\"address\":\"n$i\"}]}}"
	done
	printf '{"kind":"NodeList","apiVersion":"v1","items":[%s]}\n' "$items"
}

# up N FILE [OPTION...]: reconcile node N; the report line goes to $T/up.out
up() {
	local n=$1 f=$2
	shift 2
	node "$n" "$MESH" up --node "n$n" -f "$f" --ifname "$(ifname "$n")" \
		--key-file "$T/n$n.key" --backend uapi "$@" >"$T/up.out" 2>"$T/up.err"
}
field() { sed -n "s/.* $1=\([0-9a-z]*\).*/\1/p" "$T/up.out"; }

# capture start|stop: tcpdump on the underlay bridge into $T/cap.pcap
capture() {
	if [[ $1 == start ]]; then
		rm -f "$T/cap.pcap" "$T/cap.err"
		ip netns exec "$C-ul" tcpdump -i any -n -U --immediate-mode -s 0 -w "$T/cap.pcap" 2>"$T/cap.err" &
		CAP_PID=$!
		for _ in $(seq 100); do
			grep -q "listening on" "$T/cap.err" 2>/dev/null && return 0
			sleep 0.05
		done
		return 1
	fi
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
}
plaintext_seen() { grep -a -q -e "$MARK" -e "vn-probe " "$T/cap.pcap"; }
wg_udp_packets() { tcpdump -r "$T/cap.pcap" -n 'udp port 51820' 2>/dev/null | wc -l; }

# send_markers: ICMP (v4, v6), UDP and TCP payloads with markers, a -> b
send_markers() {
	pod a ping -c 2 -i 0.2 -W 1 -p "$MARKHEX" "$IPB4" >/dev/null 2>&1
	pod a ping -6 -c 2 -i 0.2 -W 1 -p "$MARKHEX" "$IPB6" >/dev/null 2>&1
	pod a "$PROBE" client --timeout 500 --retries 2 "udp:$IPB4:7001" >/dev/null 2>&1
	pod a timeout 2 bash -c "exec 3<>/dev/tcp/$IPB4/7000 && printf '$MARK tcp payload' >&3" >/dev/null 2>&1
	return 0
}

# ---- the cluster, with the harness' plain underlay routes ----
t_check "cluster created" "$CT" cluster create "$C" --nodes 3
for p in a:1 b:2 c:3 d:1; do
	"$CT" pod add "$C" "n${p#*:}" "default/${p%:*}" >"$T/pod-${p%:*}" 2>&1 ||
		t_fail "pod ${p%:*} added" "$(cat "$T/pod-${p%:*}")"
done
read -r _ _ IPA4 IPA6 <"$T/pod-a"
read -r _ _ IPB4 IPB6 <"$T/pod-b"
read -r _ _ IPC4 IPC6 <"$T/pod-c"
read -r _ _ IPD4 IPD6 <"$T/pod-d"
[[ -n $IPB4 && -n $IPC6 ]] || { t_fail "pods have addresses" "$(cat "$T"/pod-*)"; t_done; }

pod b "$PROBE" server --ports 7000,7001 --protos tcp,udp --ready >"$T/server.out" 2>&1 &
pod d "$PROBE" server --ports 7000 --protos tcp --ready >"$T/server-d.out" 2>&1 &
for _ in $(seq 100); do grep -qs ready "$T/server.out" && grep -qs ready "$T/server-d.out" && break; sleep 0.05; done

# Positive control: without the mesh the markers cross the underlay in plaintext.
capture start || t_fail "tcpdump started" "$(cat "$T/cap.err")"
send_markers
capture stop
if plaintext_seen; then t_pass "without the mesh, markers are visible on the underlay"
else t_fail "without the mesh, markers are visible on the underlay" "capture saw nothing"; fi

# ---- keys and up ----
for i in 1 2 3; do
	"$MESH" genkey --key-file "$T/n$i.key" >"$T/n$i.pub" || t_fail "genkey n$i"
done
nodelist 1 2 3 >"$T/nodes.json"
for i in 1 2 3; do
	if up "$i" "$T/nodes.json" && [[ $(field backend) == uapi && $(field peers) == 2 ]]; then
		t_pass "up n$i (wireguard-go backend, 2 peers)"
	else
		t_fail "up n$i (wireguard-go backend, 2 peers)" "$(cat "$T/up.out" "$T/up.err")"
	fi
done
for i in 1 2 3; do
	up "$i" "$T/nodes.json"
	if [[ $(field changes) == 0 ]]; then t_pass "second up on n$i changes nothing"
	else t_fail "second up on n$i changes nothing" "$(cat "$T/up.out")"; fi
done

# ---- the state, as wg(8) and the kernel see it ----
W=$(ifname 1)
t_check "wg show: the device's public key" \
	test "$(node 1 wg show "$W" public-key)" = "$(cat "$T/n1.pub")"
t_check "wg show: listening on 51820" test "$(node 1 wg show "$W" listen-port)" = 51820
t_check "wg show: one peer per remote node" \
	test "$(node 1 wg show "$W" peers | sort | tr '\n' ' ')" = "$(sort "$T/n2.pub" "$T/n3.pub" | tr '\n' ' ')"
node 1 wg show "$W" allowed-ips >"$T/aips"
node 1 wg show "$W" endpoints >"$T/eps"
t_check "wg show: n2's allowed IPs are its pod CIDRs" \
	grep -qE "^$(sed 's/[+/]/\\&/g' "$T/n2.pub")[[:space:]]+(10.244.2.0/24 fd00:10:244:2::/64|fd00:10:244:2::/64 10.244.2.0/24)$" "$T/aips"
t_check "wg show: n3's endpoint is its InternalIP:51820" \
	grep -qE "^$(sed 's/[+/]/\\&/g' "$T/n3.pub")[[:space:]]+172.30.0.3:51820$" "$T/eps"
node 1 "$MESH" status --ifname "$W" -f "$T/nodes.json" --json >"$T/status.json"
t_check "status --json names the peers' nodes" grep -q '"node": "n3"' "$T/status.json"
t_check "routes to remote pods go through the wg device (v4)" \
	bash -c "ip -n $C-n1 route get $IPB4 | grep -q 'dev $W'"
t_check "routes to remote pods go through the wg device (v6)" \
	bash -c "ip -n $C-n1 -6 route get $IPC6 | grep -q 'dev $W'"
t_check_not "the harness' plain underlay route is gone" \
	bash -c "ip -n $C-n1 route show 10.244.2.0/24 | grep -q via"
mtu_up=$(ip -n "$C-n1" -o link show eth0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
mtu_wg=$(ip -n "$C-n1" -o link show "$W" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
t_check "wg MTU $mtu_wg = eth0 MTU $mtu_up - 80" test "$mtu_wg" -eq $((mtu_up - 80))

# ---- traffic through the mesh, and what the underlay sees ----
capture start || t_fail "tcpdump started" "$(cat "$T/cap.err")"
t_check "ping pod a (n1) -> pod b (n2)" pod a ping -c 1 -W 2 "$IPB4"
t_check "ping pod a (n1) -> pod c (n3)" pod a ping -c 1 -W 2 "$IPC4"
t_check "ping -6 pod c (n3) -> pod a (n1)" pod c ping -6 -c 1 -W 2 "$IPA6"
t_check "ping -6 pod a (n1) -> pod b (n2)" pod a ping -6 -c 1 -W 2 "$IPB6"
t_check "TCP pod a -> pod b" pod a "$PROBE" client --timeout 2000 "tcp:$IPB4:7000"
t_check "UDP pod a -> pod b" pod a "$PROBE" client --timeout 500 --retries 4 "udp:$IPB4:7001"
t_check "TCP over IPv6 pod a -> pod b" pod a "$PROBE" client --timeout 2000 "tcp:[$IPB6]:7000"
send_markers
capture stop
t_check_not "with the mesh, no plaintext marker on the underlay" plaintext_seen
n=$(wg_udp_packets)
t_check "with the mesh, WireGuard UDP on the underlay ($n packets)" test "$n" -gt 0
node 1 wg show "$W" latest-handshakes >"$T/hs"
t_check "wg show: handshakes with both peers" test "$(awk '$2 > 0' "$T/hs" | wc -l)" = 2

# ---- a node leaves and rejoins ----
nodelist 1 2 >"$T/nodes12.json"
pod a ping -c 30 -i 0.05 -W 1 "$IPB4" >"$T/ping-during" 2>&1 &
ping_pid=$!
up 1 "$T/nodes12.json"
if [[ $(field peers_removed) == 1 && $(field peers_added) == 0 && $(field peers_updated) == 0 && $(field device) == 0 ]]; then
	t_pass "n3 leaves: n1 removes exactly that peer"
else
	t_fail "n3 leaves: n1 removes exactly that peer" "$(cat "$T/up.out")"
fi
t_check "n3's peer is gone from wg show" \
	bash -c "! ip netns exec $C-n1 wg show $W peers | grep -qF '$(cat "$T/n3.pub")'"
up 1 "$T/nodes.json"
if [[ $(field peers_added) == 1 && $(field peers_removed) == 0 && $(field peers_updated) == 0 ]]; then
	t_pass "n3 rejoins: n1 adds exactly that peer"
else
	t_fail "n3 rejoins: n1 adds exactly that peer" "$(cat "$T/up.out")"
fi
wait "$ping_pid"
t_check "traffic to n2 went on while n3 left and rejoined (no loss)" \
	grep -q " 0% packet loss" "$T/ping-during"
t_check "ping pod a -> pod c after the rejoin" pod a ping -c 1 -W 2 "$IPC4"

# ---- key rotation on n2 ----
old2=$(cat "$T/n2.pub")
"$MESH" genkey --force --key-file "$T/n2.key" >"$T/n2.pub"
t_check "n2 has a new key" test "$(cat "$T/n2.pub")" != "$old2"
nodelist 1 2 3 >"$T/nodes.json"
up 2 "$T/nodes.json"
t_check "n2 picks its new private key up (one device change)" test "$(field device)" = 1
up 1 "$T/nodes.json"
if [[ $(field peers_removed) == 1 && $(field peers_added) == 1 ]]; then
	t_pass "n1 replaces n2's peer by its new key"
else
	t_fail "n1 replaces n2's peer by its new key" "$(cat "$T/up.out")"
fi
up 3 "$T/nodes.json"
t_check "n1 knows n2 only by its new key" \
	bash -c "ip netns exec $C-n1 wg show $W peers | grep -qF '$(cat "$T/n2.pub")' && ! ip netns exec $C-n1 wg show $W peers | grep -qF '$old2'"
t_check "ping pod a -> pod b after the rotation" pod a ping -c 1 -W 3 "$IPB4"
t_check "ping pod c -> pod b after the rotation" pod c ping -c 1 -W 3 "$IPB4"

# ---- strict mode ----
drops() { node 1 nft list chain inet veilnet-mesh forward | sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}'; }
before=$(drops)
node 1 ip link set "$W" down
node 1 ip route replace 10.244.2.0/24 via 172.30.0.2 dev eth0	# a plain route in the way
capture start
t_check_not "wg device down: pod a cannot reach pod b" pod a ping -c 2 -i 0.2 -W 1 -p "$MARKHEX" "$IPB4"
send_markers
capture stop
t_check_not "wg device down: no plaintext marker on the underlay" plaintext_seen
after=$(drops)
t_check "wg device down: strict mode dropped the packets ($before -> $after)" test "$after" -gt "$before"
up 1 "$T/nodes.json"
t_check "up again repairs the device and the route" pod a ping -c 1 -W 3 "$IPB4"
t_check "up again brought the device up" bash -c "ip -n $C-n1 link show $W | grep -q ',UP'"

node 1 "$MESH" up --node n1 -f "$T/nodes.json" --ifname "$W" --key-file "$T/n1.key" \
	--backend uapi --no-strict >"$T/up.out" 2>&1
t_check_not "up --no-strict removes the strict table" node 1 nft list table inet veilnet-mesh
t_check "traffic flows without strict mode" pod a ping -c 1 -W 3 "$IPB4"
up 1 "$T/nodes.json"
t_check "up (strict) puts the table back" node 1 nft list table inet veilnet-mesh

# ---- a node leaves: strict mode keeps guarding its pods ----
# n_plain: packets to or from n3's pod CIDRs (or 10.244.77.0/24, a node never
# seen) in the capture, i.e. in plaintext on the underlay
n_plain() { plain | wc -l; }
no_plain() { local seen; seen=$(plain); [[ -z $seen ]] || { head -n 3 <<<"$seen"; return 1; }; }
plain() {
	tcpdump -r "$T/cap.pcap" -n 'net 10.244.3.0/24 or net fd00:10:244:3::/64 or net 10.244.77.0/24' 2>/dev/null
}
# to_n3: marked ping (v4, v6) and a TCP SYN from pod a to pod c; all fail
to_n3() {
	! pod a ping -c 2 -i 0.2 -W 1 -p "$MARKHEX" "$IPC4" >/dev/null 2>&1 &&
		! pod a ping -6 -c 2 -i 0.2 -W 1 -p "$MARKHEX" "$IPC6" >/dev/null 2>&1 &&
		! pod a "$PROBE" client --timeout 500 "tcp:$IPC4:7000" >/dev/null 2>&1
}
# to_unseen: the same to a pod address of a node never seen (10.244.77.7)
to_unseen() { ! pod a ping -c 1 -W 1 -p "$MARKHEX" 10.244.77.7 >/dev/null 2>&1; }
up 1 "$T/nodes.json"
nodelist 1 2 >"$T/nodes12.json"
up 1 "$T/nodes12.json"
t_check "n3 leaves (no --cluster-cidr): its peer and routes go" \
	test "$(field peers_removed)" = 1 -a "$(field routes)" = 2
t_check "n3 left: n1 still guards n3's pods (v4, remembered in the set)" \
	node 1 nft get element inet veilnet-mesh guard4 "{ $IPC4 }"
t_check "n3 left: n1 still guards n3's pods (v6)" \
	node 1 nft get element inet veilnet-mesh guard6 "{ $IPC6 }"
up 1 "$T/nodes12.json"
t_check "n3 left: the next up changes nothing and still remembers" bash -c \
	"[[ \$(sed -n 's/.* changes=\([0-9]*\).*/\1/p' '$T/up.out') == 0 ]] && ip netns exec $C-n1 nft get element inet veilnet-mesh guard4 '{ $IPC4 }'"
# plain routes in the way, as the harness had them before the mesh
node 1 ip route replace 10.244.3.0/24 via 172.30.0.3 dev eth0
node 1 ip -6 route replace fd00:10:244:3::/64 via fd30::3 dev eth0
node 1 ip route replace 10.244.77.0/24 via 172.30.0.3 dev eth0
before=$(drops)
capture start || t_fail "tcpdump started" "$(cat "$T/cap.err")"
t_check "n3 left: pod a cannot reach pod c (ping v4/v6, TCP)" to_n3
capture stop
t_check_not "n3 left: no plaintext marker on the underlay" plaintext_seen
t_check "n3 left: no packet of n3's pods on the underlay ($(n_plain) seen)" no_plain
after=$(drops)
t_check "n3 left: strict mode dropped them ($before -> $after)" test "$after" -gt "$before"

up 1 "$T/nodes12.json" --cluster-cidr 10.244.0.0/16 --cluster-cidr fd00:10:244::/48
t_check "--cluster-cidr: up succeeds, only the strict table changes" \
	test "$(field changes)" = 1 -a "$(field strict)" = 1
t_check "--cluster-cidr: a node never seen is guarded" \
	node 1 nft get element inet veilnet-mesh guard4 "{ 10.244.77.7 }"
before=$(drops)
capture start || t_fail "tcpdump started" "$(cat "$T/cap.err")"
t_check "--cluster-cidr: pod a cannot reach pod c" to_n3
t_check "--cluster-cidr: pod a cannot reach a node never seen" to_unseen
capture stop
t_check_not "--cluster-cidr: no plaintext marker on the underlay" plaintext_seen
t_check "--cluster-cidr: no packet of those pods on the underlay ($(n_plain) seen)" no_plain
after=$(drops)
t_check "--cluster-cidr: strict mode dropped them ($before -> $after)" test "$after" -gt "$before"
t_check "--cluster-cidr: pod to pod on one node flows (v4)" pod a ping -c 1 -W 2 "$IPD4"
t_check "--cluster-cidr: pod to pod on one node flows (v6)" pod a ping -6 -c 1 -W 2 "$IPD6"
t_check "--cluster-cidr: pod to pod on one node flows (TCP)" pod a "$PROBE" client --timeout 2000 "tcp:$IPD4:7000"
t_check "--cluster-cidr: pod a -> pod b through the mesh" pod a ping -c 1 -W 2 "$IPB4"
# Control: without strict mode the very same traffic leaks (the capture
# would have seen it).
up 1 "$T/nodes12.json" --no-strict
capture start || t_fail "tcpdump started" "$(cat "$T/cap.err")"
pod a ping -c 2 -i 0.2 -W 1 -p "$MARKHEX" "$IPC4" >/dev/null 2>&1
capture stop
t_check "control: without strict mode that traffic crosses in plaintext ($(n_plain) packets)" \
	test "$(n_plain)" -gt 0
node 1 ip route del 10.244.77.0/24
up 1 "$T/nodes.json"
# (a lost first handshake initiation is retried by WireGuard after 5 s)
t_check "n3 rejoins: pod a -> pod c through the mesh again" wait_until pod a ping -c 1 -W 1 "$IPC4"
t_check "n3 rejoins: the plain routes were replaced" \
	bash -c "ip -n $C-n1 route get $IPC4 | grep -q 'dev $W' && ip -n $C-n1 -6 route get $IPC6 | grep -q 'dev $W'"

# down without --purge keeps strict mode: nothing from n3's pods in plaintext
node 3 "$MESH" down --ifname "$(ifname 3)" >"$T/down.out" 2>&1
t_check "down (no purge) removes the device" bash -c "! ip -n $C-n3 link show $(ifname 3) 2>/dev/null"
t_check "down (no purge) keeps the strict table" node 3 nft list table inet veilnet-mesh
node 3 ip route replace 10.244.1.0/24 via 172.30.0.1 dev eth0
capture start
t_check_not "after down, pod c cannot reach pod a" pod c ping -c 2 -i 0.2 -W 1 -p "$MARKHEX" "$IPA4"
capture stop
t_check_not "after down, no plaintext from pod c on the underlay" plaintext_seen

# ---- down --purge leaves nothing ----
mesh_purge_check "$C" 1 2 3

t_done
