#!/usr/bin/env bash
# veilnet-policy watch fed recorded streams, as kubectl get --watch -o json
# prints them (plain objects, and {type, object} events): adds, updates,
# deletes, a malformed object (a clear error, the watch goes on), a
# truncated stream (an error once the rest is applied), and a live stream
# through a FIFO where each change is one small incremental transaction.
source "$(dirname "$0")/../lib.sh"
source "$VN_ROOT/tests/netpol/lib.sh"
vnn_require

NS=vnn-watch-$$
FIX=$VN_ROOT/tests/netpol/fixtures
WORK=$(mktemp -d /tmp/vnn-watch.XXXXXX)
t_cleanup "rm -rf $WORK"
vnn_netns "$NS"
watch_cmd=(ip netns exec "$NS" "$VNN_POLICY" watch --node n1 --debounce 50)

# The base world as a watch prints it: one indented object after another.
cp "$FIX/base.stream" "$WORK/base.stream"

cat "$WORK/base.stream" - >"$WORK/stream1" <<'EOF'
{"type": "MODIFIED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "z", "labels": {"team": "red"}}}}
{"type": "ADDED", "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "e", "namespace": "y", "labels": {"app": "client"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "10.77.2.5"}}}
{"kind": "NetworkPolicy", "metadata": {"name": "broken", "namespace": "x"}, "spec": {"policyTypes": ["Sideways"]}}
{"kind": "Pod", "metadata": {"name": "oops", "namespace": "x"}, "status": {"podIP": }}
{"type": "DELETED", "object": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "db-egress", "namespace": "x"}, "spec": {}}}
{"type": "BOOKMARK", "object": {"kind": "Pod", "metadata": {"resourceVersion": "12345"}}}
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "x", "labels": {"app": "db"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "10.77.1.2"}}
EOF
# The same end state as a plain world, for the dry-run.
cat "$FIX/base.json" - >"$WORK/final1.json" <<'EOF'
{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "z", "labels": {"team": "red"}}}
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "e", "namespace": "y", "labels": {"app": "client"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "10.77.2.5"}}
{"type": "DELETED", "object": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "db-egress", "namespace": "x"}, "spec": {}}}
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "x", "labels": {"app": "db"}}, "spec": {"nodeName": "n1"}, "status": {"podIP": "10.77.1.2"}}
EOF
"$VNN_POLICY" dry-run --node n1 -f "$WORK/final1.json" >"$WORK/final1.nft"

# 1. a whole recorded stream
"${watch_cmd[@]}" <"$WORK/stream1" >"$WORK/out1" 2>"$WORK/err1"
rc=$?
t_check "stream with bad objects: watch ends cleanly" test "$rc" -eq 0
t_check "invalid object reported with its field" grep -q \
	'NetworkPolicy x/broken: spec.policyTypes\[0\]: "Sideways" is not one of Ingress, Egress; skipped' "$WORK/err1"
t_check "malformed JSON reported" grep -q 'malformed JSON (line 1 column .*; skipped' "$WORK/err1"
t_check "the changes were applied" grep -q "^applied:" "$WORK/out1"
t_check "table equals the dry-run of the end state" vnn_same_table "$NS" "$WORK/final1.nft" sort
t_check "the deleted policy is gone" test "$(ip netns exec "$NS" nft list table inet veilnet | grep -c 'x/db-egress')" -eq 0

# 2. a truncated stream: what came before is applied, then an error
{ cat "$WORK/base.stream"; printf '{"kind": "Pod", "metadata": {"name": "cut", "nam'; } >"$WORK/stream2"
"$VNN_POLICY" dry-run --node n1 -f "$FIX/base.json" >"$WORK/base.nft"
t_check "flush" ip netns exec "$NS" "$VNN_POLICY" flush
"${watch_cmd[@]}" <"$WORK/stream2" >"$WORK/out2" 2>"$WORK/err2"
rc=$?
t_check "truncated stream: exit status 1" test "$rc" -eq 1
t_check "truncated stream: said so" grep -q "truncated stream: input ended inside a JSON value" "$WORK/err2"
t_check "truncated stream: the rest applied" vnn_same_table "$NS" "$WORK/base.nft"

# 3. live: a FIFO, one change at a time
mkfifo "$WORK/fifo"
"${watch_cmd[@]}" <"$WORK/fifo" >"$WORK/out3" 2>"$WORK/err3" &
wpid=$!
t_cleanup "kill $wpid 2>/dev/null"
exec 3>"$WORK/fifo"
wait_lines() {
	local i
	for ((i = 0; i < 300; i++)); do
		(($(grep -c '^applied:' "$WORK/out3") >= $1)) && return 0
		sleep 0.02
	done
	return 1
}
cat "$FIX/base.json" >&3
t_check "live: the initial List applied" wait_lines 1
t_check "live: table equals dry-run" vnn_same_table "$NS" "$WORK/base.nft" sort
echo '{"type": "MODIFIED", "object": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "z", "labels": {"team": "red"}}}}' >&3
t_check "live: the relabel applied" wait_lines 2
t_check "live: it was one element, nothing else" bash -c \
	"sed -n 2p $WORK/out3 | grep -q '+1/-0 elements, +0 rules, chains +0/-0/~0, sets +0/-0'"
t_check "live: the relabel took (z/d in the peer set)" bash -c \
	"ip netns exec $NS nft list table inet veilnet | grep -q 10.77.3.1"
echo '{"kind": "Pod", "metadata": {"name": "oops", "namespace": "x"}, "status": {"podIP": "10.77.1.300"}}' >&3
echo '{"type": "DELETED", "object": {"kind": "Pod", "metadata": {"name": "d", "namespace": "z"}}}' >&3
t_check "live: the delete applied" wait_lines 3
t_check "live: the bad pod was reported" grep -q 'Pod x/oops: status.podIP: "10.77.1.300" is not an IP address' "$WORK/err3"
t_check_not "live: z/d left the peer set" bash -c "ip netns exec $NS nft list table inet veilnet | grep -q 10.77.3.1"
exec 3>&-
for ((i = 0; i < 200; i++)); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.02; done
wait "$wpid"
t_check "live: end of input ends the watch cleanly" test "$?" -eq 0

# 4. SIGTERM stops it, leaving the ruleset in force
mkfifo "$WORK/fifo2"
"${watch_cmd[@]}" <"$WORK/fifo2" >"$WORK/out4" 2>&1 &
wpid=$!
t_cleanup "kill $wpid 2>/dev/null"
exec 4>"$WORK/fifo2"
cat "$WORK/base.stream" >&4
for ((i = 0; i < 300; i++)); do grep -q '^applied:' "$WORK/out4" && break; sleep 0.02; done
kill -TERM "$wpid"
wait "$wpid"
t_check "SIGTERM: clean exit" test "$?" -eq 0
exec 4>&-
t_check "SIGTERM: the table stays" vnn_same_table "$NS" "$WORK/base.nft" sort

t_done
