#!/usr/bin/env bash
# mesh-audit: veilnet-mesh against real clients and cluster shapes that
# mesh-cluster.sh does not build: wg(8) and wireguard-go (UAPI), and
# NodeLists as the API server sends them. Three nodes on a bridge, each
# with its own underlay: n1 IPv4 only, n2 dual-stack, n3 IPv6 only; pods
# are plain netns behind "vnma*" veths.
#   - raw NodeList input (items without kind, Hostname entries, a cordoned
#     and a NotReady node, annotations with whitespace around them);
#   - the endpoint of a dual-stack node is its address of the local node's
#     family, whichever it lists first; an IPv6 underlay gives
#     "[addr]:port" in wg show and status; a node with an ExternalIP only
#     is reached there;
#   - the device's MTU follows the underlay's (a route's own MTU too);
#   - status --json reports what `wg show dump` reports;
#   - whatever is changed by hand with wg(8) (port, fwmark, a peer removed
#     or added, allowed IPs, a preshared key) is undone by the next up,
#     and the one after changes nothing; a peer's port change;
#   - a pod CIDR claimed by two nodes: the device settles (changes=0);
#   - a NodeList whose strict-mode sets exceed one netlink send buffer;
#   - a taken listen port is reported as wireguard-go says it (EADDRINUSE);
#   - a UAPI socket served by another user never gets the private key;
#   - key files as wg(8) reads them (CRLF), Secret-style symlinks;
#   - watch: a DELETED event with a malformed object, bookmarks;
#   - strict mode while wireguard-go is dead and a plain route is in the
#     way: no plaintext on the underlay (v4, v6), same-node pods unaffected;
#   - down --purge leaves nothing.
# Every name starts with "vnma"; traffic stays between these namespaces.
source "$(dirname "$0")/../lib.sh"
source "$VN_ROOT/tests/mesh/lib.sh"

P=vnma
MESH=$VN_BUILD/veilnet-mesh
MARK=VNMAPLAINTEXT
MARKHEX=$(printf %s "$MARK" | od -An -tx1 | tr -d ' \n' | cut -c1-32)

[[ $EUID -eq 0 ]] || t_skip "needs root"
for p in wireguard-go wg tcpdump nft jq setpriv; do
	command -v "$p" >/dev/null || t_skip "$p is not installed"
done
PY=/usr/bin/python3	# Debian's: also runs as another user
[[ -x $PY ]] || t_skip "$PY is not installed"
[[ -x $MESH ]] || t_skip "$MESH is not built"

T=$(mktemp -d /tmp/vnma.XXXXXX)
chmod 755 "$T"
PIDS=()
teardown() {
	local i
	for i in "${PIDS[@]}"; do kill "$i" 2>/dev/null; done
	for i in 1 2 3; do
		ip netns exec "$P-n$i" "$MESH" down --purge --ifname "${P}${i}wg" >/dev/null 2>&1
	done
	for i in p1 q1 p2 p3 n1 n2 n3 ul; do ip netns del "$P-$i" 2>/dev/null; done
}
t_cleanup "rm -rf $T"
t_cleanup teardown
teardown

node() { local n=$1; shift; ip netns exec "$P-n$n" "$@"; }
pod() { local p=$1; shift; ip netns exec "$P-$p" "$@"; }
ifname() { echo "${P}${1}wg"; }
W1=$(ifname 1) W2=$(ifname 2) W3=$(ifname 3)

# ---- the underlay: a bridge, n1 v4, n2 v4+v6, n3 v6 ----
mk_node() {	# I V4|- V6|-
	local i=$1
	ip netns add "$P-n$i" || return 1
	ip -n "$P-n$i" link set lo up
	node "$i" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$P-ul" link add "${P}u$i" type veth peer name eth0 netns "$P-n$i" || return 1
	ip -n "$P-ul" link set "${P}u$i" master br0 up
	ip -n "$P-n$i" link set eth0 up
	[[ $2 == - ]] || ip -n "$P-n$i" addr add "$2/24" dev eth0
	[[ $3 == - ]] || ip -n "$P-n$i" addr add "$3/64" dev eth0 nodad
}
# mk_pod NAME NODE V4 V6: a pod netns behind veth "vnma<NAME>" on node NODE
mk_pod() {
	local n=$1 i=$2 mac
	ip netns add "$P-$n" || return 1
	ip -n "$P-$n" link set lo up
	ip -n "$P-n$i" link add "$P$n" type veth peer name eth0 netns "$P-$n" || return 1
	node "$i" sysctl -qw "net.ipv6.conf.$P$n.accept_dad=0"
	pod "$n" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
	ip -n "$P-n$i" link set "$P$n" up
	ip -n "$P-n$i" addr add fe80::1/64 dev "$P$n" nodad
	mac=$(ip -n "$P-n$i" -o link show "$P$n" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	ip -n "$P-$n" link set eth0 up
	ip -n "$P-$n" addr add "$3/32" dev eth0
	ip -n "$P-$n" addr add "$4/128" dev eth0 nodad
	ip -n "$P-$n" route add 169.254.1.1 dev eth0
	ip -n "$P-$n" neigh add 169.254.1.1 lladdr "$mac" dev eth0 nud permanent
	ip -n "$P-$n" route add default via 169.254.1.1 dev eth0
	ip -n "$P-$n" -6 route add default via fe80::1 dev eth0
	ip -n "$P-n$i" route add "$3/32" dev "$P$n"
	ip -n "$P-n$i" -6 route add "$4/128" dev "$P$n"
}
setup() {
	ip netns add "$P-ul" && ip -n "$P-ul" link set lo up &&
		ip -n "$P-ul" link add br0 type bridge && ip -n "$P-ul" link set br0 up &&
		mk_node 1 172.31.250.1 - && mk_node 2 172.31.250.2 fd31::2 && mk_node 3 - fd31::3 &&
		mk_pod p1 1 10.250.1.2 fd50:1::2 && mk_pod q1 1 10.250.1.3 fd50:1::3 &&
		mk_pod p2 2 10.250.2.2 fd50:2::2 && mk_pod p3 3 10.250.3.2 fd50:3::2
}
t_check "underlay and pods set up" setup
t_check "control: the underlay has no v6 on n1" bash -c "! ip netns exec $P-n1 ping -6 -c1 -W1 fd31::2"

for i in 1 2 3; do
	"$MESH" genkey --key-file "$T/n$i.key" >"$T/n$i.pub" || t_fail "genkey n$i"
done

# The NodeList, as the API server sends it (GET /api/v1/nodes): items
# without kind/apiVersion, managedFields, Hostname addresses, conditions.
# Variables: ADDR2 (n2's status.addresses), PORT2 (its port annotation,
# JSON), WS1 (whitespace around n1's key annotation), EXTRA (more items,
# JSON, with a leading comma).
ADDR2='[{"type":"InternalIP","address":"172.31.250.2"},{"type":"InternalIP","address":"fd31::2"},{"type":"Hostname","address":"n2"}]'
PORT2='"51820"'
WS1=""
EXTRA=""
nodelist() {
	jq -n --arg k1 "$WS1$(cat "$T/n1.pub")$WS1" --arg k2 "$(cat "$T/n2.pub")" --arg k3 "$(cat "$T/n3.pub")" \
		--argjson a2 "$ADDR2" --argjson p2 "$PORT2" --argjson extra "[${EXTRA#,}]" '
	def node($n; $ann; $cidrs; $addrs; $spec; $ready): {
		metadata: {name: $n, uid: "u-\($n)", resourceVersion: "42",
			annotations: $ann, labels: {"kubernetes.io/hostname": $n},
			managedFields: [{manager: "kubelet", operation: "Update"}]},
		spec: ($spec + {podCIDR: $cidrs[0], podCIDRs: $cidrs}),
		status: {addresses: $addrs,
			conditions: [{type: "Ready", status: $ready}]}};
	{kind: "NodeList", apiVersion: "v1", metadata: {resourceVersion: "4711"},
	 items: ([
	  node("n1"; {"veilnet.dev/wireguard-public-key": $k1};
	       ["10.250.1.0/24", "fd50:1::/64"];
	       [{type: "Hostname", address: "n1"}, {type: "InternalIP", address: "172.31.250.1"}];
	       {}; "True"),
	  node("n2"; {"veilnet.dev/wireguard-public-key": $k2, "veilnet.dev/wireguard-port": $p2};
	       ["10.250.2.0/24", "fd50:2::/64"]; $a2; {unschedulable: true}; "True"),
	  node("n3"; {"veilnet.dev/wireguard-public-key": $k3};
	       ["10.250.3.0/24", "fd50:3::/64"];
	       [{type: "InternalIP", address: "fd31::3"}, {type: "Hostname", address: "n3"}];
	       {}; "Unknown")
	 ] + $extra)}'
}
# up N [FILE] [OPTION...]: the report line in $T/up.out, warnings in $T/up.err
up() {
	local n=$1 f=${2:-$T/nodes.json}
	shift
	(($#)) && shift
	node "$n" "$MESH" up --node "n$n" -f "$f" --ifname "$(ifname "$n")" --key-file "$T/n$n.key" \
		--backend uapi --cluster-cidr 10.250.0.0/16,fd50::/16 "$@" >"$T/up.out" 2>"$T/up.err"
}
field() { sed -n "s/.* $1=\([0-9a-z]*\).*/\1/p" "$T/up.out"; }
up_all() { local i; for i in 1 2 3; do up "$i" || return 1; done; }
changes0() { up "$@" && [[ $(field changes) == 0 ]] || { cat "$T/up.out" "$T/up.err"; return 1; }; }
# endpoint N KEYFILE: the endpoint wg show gives for that peer on node N
endpoint() { node "$1" wg show "$(ifname "$1")" endpoints | awk -v k="$(cat "$2")" '$1 == k {print $2}'; }
# reach POD ADDR: a ping answered within ~8 s (a first handshake may take a retry)
reach() { local i; for i in 1 2 3 4 5 6 7 8; do pod "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0; done; return 1; }

nodelist >"$T/nodes.json"
if up_all; then t_pass "up on 3 nodes from a raw NodeList (no kind on items, Hostname addresses)"
else t_fail "up on 3 nodes from a raw NodeList (no kind on items, Hostname addresses)" \
	"$(cat "$T/up.out" "$T/up.err")"; fi
t_check "n2 (cordoned) and n3 (NotReady) are peers of n1" \
	test "$(node 1 wg show "$W1" peers | sort | tr '\n' ' ')" = "$(sort "$T/n2.pub" "$T/n3.pub" | tr '\n' ' ')"

# ---- dual-stack and IPv6 underlays ----
# (n3 first: a handshake n2 started would let n3 learn n2's address)
t_check "v6-only n3 reaches dual-stack n2 (v4 listed first) at its IPv6 address" \
	test "$(endpoint 3 "$T/n2.pub")" = "[fd31::2]:51820"
t_check "ping -6 pod p3 (n3) -> p2 (n2) over the IPv6 underlay" reach p3 fd50:2::2
t_check "ping pod p3 (n3) -> p2 (n2) over the IPv6 underlay" reach p3 10.250.2.2
t_check "wg show: n2 reaches v6-only n3 at [fd31::3]:51820" test "$(endpoint 2 "$T/n3.pub")" = "[fd31::3]:51820"
t_check "MTU of the wg device on the IPv6 underlay: eth0 - 80" \
	test "$(ip -n $P-n3 -o link show "$W3" | sed -n 's/.* mtu \([0-9]*\).*/\1/p')" = 1420

mtu() { ip -n "$P-n$1" -o link show "$(ifname "$1")" | sed -n 's/.* mtu \([0-9]*\).*/\1/p'; }
ip -n "$P-n1" link set eth0 mtu 1400
up 1
t_check "the underlay's MTU drops to 1400: the device follows (1320, one link change)" \
	test "$(mtu 1):$(field link):$(field changes)" = 1320:1:1
ip -n "$P-n1" link set eth0 mtu 1500
node 1 ip route replace 172.31.250.0/24 dev eth0 mtu 1380 proto kernel scope link src 172.31.250.1
up 1
t_check "a route to the nodes with its own MTU 1380: the device follows (1300)" test "$(mtu 1)" = 1300
node 1 ip route replace 172.31.250.0/24 dev eth0 proto kernel scope link src 172.31.250.1
up 1
t_check "n1 (v4 only) reaches n2 at its IPv4 address" test "$(endpoint 1 "$T/n2.pub")" = 172.31.250.2:51820
t_check "ping pod p1 (n1) -> p2 (n2) through the tunnel" reach p1 10.250.2.2
t_check "ping -6 pod p1 (n1) -> p2 (n2) through the tunnel" reach p1 fd50:2::2
# n2 now listed IPv6 first (kubelet --node-ip fd31::2,172.31.250.2)
ADDR2='[{"type":"InternalIP","address":"fd31::2"},{"type":"InternalIP","address":"172.31.250.2"}]'
nodelist >"$T/nodes.json"
up 1
t_check "n2 listed v6 first: v4-only n1 keeps its IPv4 endpoint (changes=0)" \
	test "$(field changes):$(endpoint 1 "$T/n2.pub")" = 0:172.31.250.2:51820
t_check "n2 listed v6 first: p1 -> p2 still flows" reach p1 10.250.2.2
# annotations with whitespace around them (a YAML block scalar's newline)
WS1=$'\n' PORT2='" 51820 "'
nodelist >"$T/ws.json"
t_check "a key and a port annotation with whitespace around them: n2 changes nothing" changes0 2 "$T/ws.json"
t_check "... n3 neither" changes0 3 "$T/ws.json"
WS1="" PORT2='"51820"'

# status --json against wg show dump, peer by peer
# (key endpoint allowed-ips handshake keepalive; the interface's key, port, fwmark)
SORTED_IPS='function sorted(list,   a, n, i, j, t, s) {
	n = split(list, a, ",")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	for (i = 1; i <= n; i++) s = s (i > 1 ? "," : "") a[i]
	return s
}'
from_dump() { node "$1" wg show "$(ifname "$1")" dump | awk -F'\t' "$SORTED_IPS"'
	NR == 1 {print $2, $3, $4; next} {print $1, $3, sorted($4), $5, $8}' | sort; }
from_status() {
	node "$1" "$MESH" status --ifname "$(ifname "$1")" --json | jq -r '
		"\(.publicKey) \(.listenPort) \(if .fwmark == 0 then "off" else "0x\(.fwmark)" end)",
		(.peers[] | "\(.publicKey) \(.endpoint // "(none)") \(.allowedIPs | sort | join(",") |
			if . == "" then "(none)" else . end) \(.latestHandshake) \(if .persistentKeepalive == 0
			then "off" else .persistentKeepalive end)")' | sort
}
same_view() { diff <(from_dump "$1") <(from_status "$1") >"$T/view.diff" || { cat "$T/view.diff"; return 1; }; }
t_check "status --json = wg show dump (n2: v4 and v6 endpoints, handshakes)" same_view 2
t_check "status --json = wg show dump (n3)" same_view 3
t_check "second up changes nothing (n1)" changes0 1
t_check "second up changes nothing (n2)" changes0 2
t_check "second up changes nothing (n3)" changes0 3

# ---- whatever wg(8) changed by hand, up undoes ----
# state N: the device as wg show dump gives it, without the private key,
# handshakes and counters, allowed IPs sorted
state() { node "$1" wg show "$(ifname "$1")" dump | awk -F'\t' "$SORTED_IPS"'
	NR == 1 {print $2, $3, $4; next} {print $1, $2, $3, sorted($4), $8}' | sort; }
state 1 >"$T/state.before"
K2=$(cat "$T/n2.pub") K3=$(cat "$T/n3.pub")
(umask 077 && wg genpsk >"$T/psk")
node 1 wg set "$W1" listen-port 40000 fwmark 0x1234 peer "$K2" preshared-key "$T/psk" \
	peer "$K3" allowed-ips 10.250.3.0/24,10.99.0.0/16 peer "$(wg genkey | wg pubkey)" allowed-ips 10.98.0.0/16
node 2 wg set "$W2" peer "$(cat "$T/n1.pub")" remove
t_check "by hand: n1 has a fwmark, a PSK and an extra peer" bash -c \
	"ip netns exec $P-n1 wg show $W1 fwmark | grep -q 0x1234 && [[ \$(ip netns exec $P-n1 wg show $W1 peers | wc -l) == 3 ]]"
up 1
repaired() { [[ $(field device) == 2 ]] && diff <(state 1) "$T/state.before"; }
t_check "up undoes it: port, fwmark, PSK, allowed IPs, the extra peer" repaired
t_check "wg show: no fwmark any more" test "$(node 1 wg show "$W1" fwmark)" = off
t_check "wg show: no preshared key any more" \
	bash -c "! ip netns exec $P-n1 wg show $W1 preshared-keys | grep -v '(none)'"
up 2
t_check "up on n2 puts back the peer removed by hand" test "$(field peers_added)" = 1
t_check "the next up changes nothing (n1)" changes0 1
# (from n2, whose peer is new: it starts the handshake at once)
t_check "ping p2 -> p1 after the repair (a handshake, the PSK gone)" reach p2 10.250.1.2

# ---- a peer's port changes ----
PORT2='"51821"'
nodelist >"$T/nodes.json"
up 2
t_check "n2 listens on its new port" test "$(node 2 wg show "$W2" listen-port)" = 51821
up 1
t_check "n1 updates n2's peer in place (one update)" \
	test "$(field peers_updated):$(field peers_added):$(field peers_removed)" = 1:0:0
t_check "n1's endpoint for n2 is :51821" test "$(endpoint 1 "$T/n2.pub")" = 172.31.250.2:51821
t_check "ping p1 -> p2 on the new port" reach p1 10.250.2.2

# ---- a node known by its ExternalIP only ----
ADDR2='[{"type":"Hostname","address":"n2"},{"type":"ExternalIP","address":"172.31.250.2"},{"type":"ExternalIP","address":"fd31::2"}]'
nodelist >"$T/nodes.json"
up 1
t_check "a node with an ExternalIP only gets a peer there" test "$(endpoint 1 "$T/n2.pub")" = 172.31.250.2:51821
t_check "ping p1 -> p2 (ExternalIP only)" reach p1 10.250.2.2
ADDR2='[{"type":"InternalIP","address":"fd31::2"},{"type":"InternalIP","address":"172.31.250.2"}]'

# ---- a pod CIDR claimed by two nodes ----
K4=$(wg genkey | wg pubkey)
EXTRA=",{\"metadata\":{\"name\":\"n4\",\"annotations\":{\"veilnet.dev/wireguard-public-key\":\"$K4\"}},
	\"spec\":{\"podCIDRs\":[\"10.250.2.0/24\"]},\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"172.31.250.4\"}]}}"
nodelist >"$T/dup.json"
up 1 "$T/dup.json"
t_check "duplicate pod CIDR: a warning names both nodes" grep -q '"n2" and "n4" both claim pod CIDR 10.250.2.0/24' "$T/up.err"
t_check "duplicate pod CIDR: the device settles (second up changes=0)" changes0 1 "$T/dup.json"
t_check "duplicate pod CIDR: no peer has it (wg show)" \
	bash -c "! ip netns exec $P-n1 wg show $W1 allowed-ips | grep -q '10.250.2.0/24'"
t_check "duplicate pod CIDR: still routed into the device (dropped there)" \
	bash -c "ip -n $P-n1 route get 10.250.2.2 | grep -q 'dev $W1'"
EXTRA=""
nodelist >"$T/nodes.json"
up 1
t_check "without n4, p1 -> p2 again" reach p1 10.250.2.2

# ---- a NodeList larger than one netlink send buffer of set elements ----
# (pod CIDRs that do not merge: 10,000 interval elements, ~330 KB)
$PY - "$T/nodes.json" "$T/big.json" <<'EOF'
import base64, json, sys
d = json.load(open(sys.argv[1]))
for i in range(3, 2503):
    key = base64.b64encode(b"vnma" + i.to_bytes(4, "big") + b"\x07" * 24).decode()
    d["items"].append({"metadata": {"name": "big%d" % i, "annotations": {
        "veilnet.dev/wireguard-public-key": key}},
        "spec": {"podCIDRs": ["10.%d.%d.0/25" % (100 + i // 200, i % 200), "fd60:%x::/64" % i]},
        "status": {"addresses": [{"type": "InternalIP", "address": "172.20.%d.%d" % (i // 250, i % 250)}]}})
json.dump(d, open(sys.argv[2], "w"))
EOF
up 1 "$T/big.json"
if [[ $? == 0 && $(field strict) == 1 ]]; then t_pass "2,500 nodes: up installs the strict table (> 208 KiB batch)"
else t_fail "2,500 nodes: up installs the strict table (> 208 KiB batch)" "$(cat "$T/up.out" "$T/up.err")"; fi
t_check "2,500 nodes: a far node's v6 CIDR is guarded" node 1 nft get element inet veilnet-mesh guard6 '{ fd60:9c3::1 }'
t_check "2,500 nodes: 2,502 peers" test "$(node 1 wg show "$W1" peers | wc -l)" = 2502
t_check "2,500 nodes: the second up changes nothing" changes0 1 "$T/big.json"
up 1
t_check "back to 3 nodes: 2,500 peers removed at once" test "$(field peers_removed)" = 2500

# ---- errors as wireguard-go gives them ----
ip netns exec "$P-n1" "$PY" -c 'import socket,sys,time
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::", 51999)); print("bound", flush=True); time.sleep(30)' \
	>"$T/hold.out" 2>&1 &
PIDS+=($!)
wait_until grep -q bound "$T/hold.out"
up 1 "" --port 51999
port_taken() { grep -q "Address already in use" "$T/up.err" || { cat "$T/up.out" "$T/up.err"; return 1; }; }
t_check "a taken port: up fails with EADDRINUSE, as wg(8) says" port_taken
kill "${PIDS[-1]}" 2>/dev/null
t_check "with the port free again, up recovers" up 1

# a UAPI socket served by another user: no private key for it
U=$T/uapi
mkdir -p "$U" && chown nobody "$U"
cat >"$T/fake.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
print("ready", flush=True)
while True:
    c, _ = s.accept(); data = b""; c.settimeout(2)
    try:
        while not data.endswith(b"\n\n"):
            d = c.recv(65536)
            if not d: break
            data += d
    except OSError: pass
    open(sys.argv[2], "ab").write(data)
    try: c.sendall(b"errno=0\n\n")
    except OSError: pass
    c.close()
EOF
ip -n "$P-n1" tuntap add vnmafake mode tun
setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" "$T/fake.py" "$U/vnmafake.sock" "$U/log" \
	>"$U/out" 2>&1 &
PIDS+=($!)
wait_until grep -q ready "$U/out"
node 1 env WG_UAPI_DIR="$U" "$MESH" up --node n1 -f "$T/nodes.json" --ifname vnmafake \
	--key-file "$T/n1.key" --backend uapi --no-strict >"$T/up.out" 2>"$T/up.err"
t_check_not "a socket served by uid 65534: up refuses" test $? = 0
t_check "the refusal names the uid" grep -q "uid 65534" "$T/up.err"
t_check_not "that server never got the private key" grep -q private_key "$U/log"
kill "${PIDS[-1]}" 2>/dev/null
ip -n "$P-n1" link del vnmafake

# ---- key files ----
K=$T/keys
mkdir -p "$K/..data" && chmod 700 "$K"
(umask 077 && printf '%s\r\n' "$(cat "$T/n1.key")" >"$K/crlf.key")
t_check "a key file with CRLF: pubkey = wg pubkey" \
	test "$("$MESH" pubkey --key-file "$K/crlf.key")" = "$(wg pubkey <"$K/crlf.key")"
(umask 077 && cp "$T/n1.key" "$K/..data/mesh.key") && chmod 400 "$K/..data/mesh.key"
ln -s ..data/mesh.key "$K/mesh.key"
t_check "a Secret-style symlinked key (0400): up works" \
	node 1 "$MESH" up --node n1 -f "$T/nodes.json" --ifname "$W1" --key-file "$K/mesh.key" --backend uapi \
	--cluster-cidr 10.250.0.0/16,fd50::/16
chmod 644 "$K/..data/mesh.key"
"$MESH" pubkey --key-file "$K/mesh.key" >"$T/out" 2>"$T/err"
t_check "its target readable by others: refused, naming the mode" grep -q "mode 0644" "$T/err"
(umask 077 && printf 'not-a-key %s\n' "$(cat "$T/n1.key" | cut -c1-20)" >"$K/bad.key")
"$MESH" pubkey --key-file "$K/bad.key" >"$T/out" 2>"$T/err"
t_check "bad content: a clear error" grep -q "does not hold one base64 WireGuard key" "$T/err"
t_check_not "bad content: not echoed" grep -qF "$(cut -c1-20 "$T/n1.key")" "$T/err" "$T/out"

# ---- watch: a DELETED event with a malformed object, a bookmark ----
{
	jq -c '.items[] | {type: "ADDED", object: (. + {kind: "Node", apiVersion: "v1"})}' "$T/nodes.json"
	echo '{"type":"BOOKMARK","object":{"kind":"Node","apiVersion":"v1","metadata":{"resourceVersion":"4800","annotations":{"k8s.io/initial-events-end":"true"}}}}'
	jq -c '.items[] | select(.metadata.name == "n3") |
		.metadata.annotations["veilnet.dev/wireguard-public-key"] = "gone" | {type: "DELETED", object: .}' "$T/nodes.json"
} >"$T/stream"
node 1 "$MESH" watch --node n1 --ifname "$W1" --key-file "$T/n1.key" --backend uapi --debounce-ms 50 \
	--cluster-cidr 10.250.0.0/16,fd50::/16 <"$T/stream" >"$T/watch.out" 2>"$T/watch.err"
t_check "watch: a malformed DELETED object still removes the node" \
	test "$(node 1 wg show "$W1" peers | tr '\n' ' ')" = "$K2 "
t_check_not "watch: nothing skipped" grep -q skipped "$T/watch.err"
up 1

# ---- strict mode with wireguard-go dead and a plain route in the way ----
capture() {
	if [[ $1 == start ]]; then
		rm -f "$T/cap.pcap" "$T/cap.err"
		ip netns exec "$P-ul" tcpdump -i br0 -n -U --immediate-mode -s 0 -w "$T/cap.pcap" 2>"$T/cap.err" &
		CAP=$!
		PIDS+=("$CAP")
		wait_until grep -q "listening on" "$T/cap.err"
		return
	fi
	kill -INT "$CAP" 2>/dev/null
	wait "$CAP" 2>/dev/null
}
plain() { tcpdump -r "$T/cap.pcap" -n 'net 10.250.0.0/16 or net fd50::/16' 2>/dev/null | wc -l; }
no_plain() { [[ $(plain) == 0 ]]; }
# the wireguard-go processes veilnet-mesh started for n1 and n3 die
for i in 1 3; do
	pid=$(cat "/run/veilnet/mesh-$(ifname "$i").pid" 2>/dev/null)
	[[ -n $pid ]] && kill -9 "$pid"
done
wait_until bash -c "! ip -n $P-n1 link show $W1 && ! ip -n $P-n3 link show $W3"
# plain underlay routes, as before any mesh (both ways)
node 1 ip route replace 10.250.2.0/24 via 172.31.250.2 dev eth0
node 2 ip route replace 10.250.1.0/24 via 172.31.250.1 dev eth0
node 3 ip -6 route replace fd50:2::/64 via fd31::2 dev eth0
node 2 ip -6 route replace fd50:3::/64 via fd31::3 dev eth0
capture start
t_check_not "wireguard-go dead: p1 cannot reach p2 (v4)" pod p1 ping -c 2 -i 0.2 -W 1 -p "$MARKHEX" 10.250.2.2
t_check_not "wireguard-go dead: p3 cannot reach p2 (v6)" pod p3 ping -6 -c 2 -i 0.2 -W 1 -p "$MARKHEX" fd50:2::2
capture stop
t_check "wireguard-go dead: nothing of the pods on the underlay ($(plain) packets)" no_plain
t_check "wireguard-go dead: same-node pods still talk (v4)" pod p1 ping -c 1 -W 1 10.250.1.3
t_check "wireguard-go dead: same-node pods still talk (v6)" pod p1 ping -6 -c 1 -W 1 fd50:1::3
# control: the capture does see that traffic once strict mode is gone
node 1 nft delete table inet veilnet-mesh
capture start
pod p1 ping -c 2 -i 0.2 -W 1 -p "$MARKHEX" 10.250.2.2 >/dev/null 2>&1
capture stop
t_check "control: without the strict table it leaves in plaintext ($(plain) packets)" test "$(plain)" -gt 0
up_all
t_check "up restarts wireguard-go and replaces the plain routes" bash -c \
	"ip -n $P-n1 route get 10.250.2.2 | grep -q 'dev $W1' && ip -n $P-n3 -6 route get fd50:2::2 | grep -q 'dev $W3'"
t_check "p1 -> p2 through the tunnel again" reach p1 10.250.2.2
t_check "p3 -> p2 through the tunnel again (v6)" reach p3 fd50:2::2
t_check "and the next up changes nothing" changes0 1

# ---- down --purge leaves nothing ----
mesh_purge_check "$P" 1 2 3
t_check_not "the private keys are in no output" grep -rqF -e "$(cat "$T/n1.key")" -e "$(cat "$T/n2.key")" \
	"$T/up.out" "$T/up.err" "$T/watch.out" "$T/watch.err" "$T/down.out"

t_done
