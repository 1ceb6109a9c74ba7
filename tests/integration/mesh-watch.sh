#!/usr/bin/env bash
# mesh-watch: `veilnet-mesh watch` fed recorded streams, as
# `kubectl get nodes --watch -o json` prints them: Node objects (pretty
# printed), watch events (ADDED, MODIFIED with a rotated key, DELETED), a
# malformed object and a syntax error (reported, skipped), a truncated
# stream (an error exit after reconciling what was complete). The node is
# a netns of build/cni-test; remote peers are keys only (no traffic).
source "$(dirname "$0")/../lib.sh"

C=vnmw
MESH=$VN_BUILD/veilnet-mesh
CT=$VN_BUILD/cni-test
W=vnmw1wg

[[ $EUID -eq 0 ]] || t_skip "needs root"
for p in wireguard-go wg nft; do
	command -v "$p" >/dev/null || t_skip "$p is not installed"
done
[[ -x $MESH && -x $CT ]] || t_skip "build first"

T=$(mktemp -d /tmp/vnmw.XXXXXX)
teardown() {
	ip netns exec "$C-n1" "$MESH" down --purge --ifname "$W" >/dev/null 2>&1
	"$CT" cluster destroy "$C" >/dev/null 2>&1
}
t_cleanup "rm -rf $T"
t_cleanup teardown
teardown

node() { ip netns exec "$C-n1" "$@"; }
key() { "$MESH" genkey --key-file "$T/$1.key" >"$T/$1.pub" && cat "$T/$1.pub"; }

# node_json NAME INDEX KEY [CIDR]: a pretty-printed Node object
node_json() {
	local cidr=${4:-10.244.$2.0/24}
	cat <<EOF
{
  "kind": "Node",
  "apiVersion": "v1",
  "metadata": {
    "name": "$1",
    "annotations": {"veilnet.dev/wireguard-public-key": "$3"}
  },
  "spec": {"podCIDRs": ["$cidr", "fd00:10:244:$2::/64"]},
  "status": {"addresses": [{"type": "InternalIP", "address": "172.30.0.$2"}]}
}
EOF
}
event() { printf '{"type":"%s","object":%s}\n' "$1" "$(node_json "${@:2}" | tr -d '\n')"; }

# watch STREAM: runs watch on node n1 with the stream on stdin
watch() {
	node "$MESH" watch --node n1 --ifname "$W" --key-file "$T/n1.key" --debounce-ms 100 --backend uapi \
		<"$1" >"$T/watch.out" 2>"$T/watch.err"
}
peers() { node wg show "$W" peers | sort | tr '\n' ' '; }
want() { for k in "$@"; do echo "$k"; done | sort | tr '\n' ' '; }

t_check "cluster created" "$CT" cluster create "$C" --nodes 1 --ipv4-only
K1=$(key n1) K2=$(key n2) K3=$(key n3) K4=$(key n4) K2B=$(key n2b) K6=$(key n6)

# ---- a whole history in one stream ----
{
	node_json n1 1 "$K1"
	node_json n2 2 "$K2"
	node_json n3 3 "$K3"
	event ADDED n4 4 "$K4"
	event MODIFIED n2 2 "$K2B"
	event DELETED n3 3 "$K3"
	event ADDED n5 5 "$K4" "10.244.x.0/24"
	echo '{"type":"ADDED","object":{"metadata":{"name":"n7"},"spec":{"podCIDRs":[,]}}}'
	event BOOKMARK n1 1 "$K1"
	node_json n6 6 "$K6"
} >"$T/stream1"
if watch "$T/stream1"; then t_pass "watch: the stream ends cleanly, status 0"
else t_fail "watch: the stream ends cleanly, status 0" "$(cat "$T/watch.err")"; fi
t_check "watch: the malformed node is reported by node and field" \
	grep -q 'node "n5".*spec.podCIDRs\[0\]' "$T/watch.err"
t_check "watch: the syntax error is reported" grep -q "skipped a malformed object.*line" "$T/watch.err"
t_check "watch: debounced into one reconcile" test "$(grep -c '^reconciled:' "$T/watch.out")" = 1
t_check "watch: peers are n2 (rotated key), n4 and n6" test "$(peers)" = "$(want "$K2B" "$K4" "$K6")"
t_check "watch: n2's old key is gone" bash -c "! ip netns exec $C-n1 wg show $W peers | grep -qF '$K2'"
t_check "watch: the deleted node's route is gone" \
	bash -c "! ip -n $C-n1 route show 10.244.3.0/24 | grep -q ."
t_check "watch: the added node's route goes through $W" \
	bash -c "ip -n $C-n1 route show 10.244.4.0/24 | grep -q 'dev $W'"
t_check "watch: the strict table is there" node nft list table inet veilnet-mesh

# ---- a truncated stream: what was complete is applied, then an error ----
# (each watch starts from nothing, as kubectl's watch starts with a listing)
{
	node_json n1 1 "$K1"
	node_json n2 2 "$K2B"
	node_json n4 4 "$K4"
	event DELETED n4 4 "$K4"
	event DELETED n6 6 "$K6"
	node_json n9 9 "$K4" | head -n 5
} >"$T/stream2"
watch "$T/stream2"
rc=$?
t_check "watch: a truncated stream exits with status 1" test "$rc" = 1
t_check "watch: it says the stream was truncated" grep -q "truncated" "$T/watch.err"
t_check "watch: the complete events before were reconciled" test "$(peers)" = "$(want "$K2B")"

# ---- a NodeList (kubectl get nodes -o json) replaces everything ----
{
	printf '{"kind":"NodeList","apiVersion":"v1","items":[%s,%s]}\n' \
		"$(node_json n1 1 "$K1" | tr -d '\n')" "$(node_json n3 3 "$K3" | tr -d '\n')"
} >"$T/stream3"
t_check "watch: a NodeList stream" watch "$T/stream3"
t_check "watch: the NodeList replaced the peers" test "$(peers)" = "$(want "$K3")"

# ---- the local node not in the stream: nothing is done ----
node "$MESH" down --purge --ifname "$W" >/dev/null 2>&1
node_json n2 2 "$K2" >"$T/stream4"
t_check "watch: a stream without this node ends cleanly" watch "$T/stream4"
t_check "watch: it says it waits for this node" grep -q 'node "n1" not seen yet' "$T/watch.err"
t_check_not "watch: and creates no device" ip -n "$C-n1" link show "$W"

# ---- the private key never shows ----
priv=$(cat "$T/n1.key")
t_check_not "the private key is in no output" grep -rqF "$priv" "$T/watch.out" "$T/watch.err"

t_done
