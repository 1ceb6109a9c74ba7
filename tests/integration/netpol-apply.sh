#!/usr/bin/env bash
# veilnet-policy apply / dry-run / flush against the kernel, in a scratch
# network namespace: the table after apply equals the dry-run; changes are
# incremental (set elements, rewritten chains); a transaction made to fail
# half-way leaves the previous ruleset intact; invalid input applies
# nothing; other tables are never touched.
source "$(dirname "$0")/../lib.sh"
source "$VN_ROOT/tests/netpol/lib.sh"
vnn_require

NS=vnn-apply-$$
FIX=$VN_ROOT/tests/netpol/fixtures
WORK=$(mktemp -d /tmp/vnn-apply.XXXXXX)
t_cleanup "rm -rf $WORK"
vnn_netns "$NS"
pol() { ip netns exec "$NS" "$VNN_POLICY" "$@"; }
listing() { ip netns exec "$NS" nft list table inet veilnet; }

# Changes on top of base.json (later objects replace earlier ones).
cat >"$WORK/relabel.json" <<'EOF'
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "d", "namespace": "z", "labels": {"app": "client"}},
 "spec": {"nodeName": "n2"}, "status": {"podIP": "10.77.3.1"}}
{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "z", "labels": {"team": "red"}}}
EOF
cat >"$WORK/policy.json" <<'EOF'
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "allow-web", "namespace": "x"},
 "spec": {"podSelector": {"matchLabels": {"app": "web"}},
  "ingress": [{"from": [{"podSelector": {}}], "ports": [{"port": 443}]}]}}
EOF
cat >"$WORK/delete.json" <<'EOF'
{"type": "DELETED", "object": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "allow-web", "namespace": "x"}, "spec": {}}}
EOF
cat >"$WORK/bad.json" <<'EOF'
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "broken", "namespace": "x"},
 "spec": {"ingress": [{"from": [{"podSelector": {}}, {"ipBlock": {"cidr": "10.0.0/8"}}]}]}}
EOF

# Another table in the same namespace, which must never change.
ip netns exec "$NS" nft -f - <<'EOF'
table inet vnnother {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 22 counter accept
	}
}
EOF
other_before=$(ip netns exec "$NS" nft list table inet vnnother)
[[ -n $other_before ]] || t_fail "set up another table"

# 1. cold apply: listing equals dry-run, member order included
"$VNN_POLICY" dry-run --node n1 -f "$FIX/base.json" >"$WORK/base.nft"
t_check "apply base world" pol apply --node n1 -f "$FIX/base.json"
t_check "table equals dry-run" vnn_same_table "$NS" "$WORK/base.nft"
t_check "nft -c accepts the dry-run" ip netns exec "$NS" nft -c -f "$WORK/base.nft"
out=$(pol apply --node n1 -f "$FIX/base.json")
t_check "applying the same world again sends nothing" grep -q "transaction: 0 messages" <<<"$out"

# 2. a pod entering a selector (namespace relabelled): elements only
"$VNN_POLICY" dry-run --node n1 -f "$FIX/base.json" -f "$WORK/relabel.json" >"$WORK/relabel.nft"
out=$(pol apply --node n1 -f "$FIX/base.json" -f "$WORK/relabel.json")
t_check "relabel: one element added, no rule touched" \
	grep -q "+1/-0 elements, +0 rules, chains +0/-0/~0, sets +0/-0" <<<"$out"
t_check "relabel: table equals dry-run" vnn_same_table "$NS" "$WORK/relabel.nft" sort

# 3. a policy changed: its profile chain is rewritten in place
"$VNN_POLICY" dry-run --node n1 -f "$FIX/base.json" -f "$WORK/policy.json" >"$WORK/policy.nft"
out=$(pol apply --node n1 -f "$FIX/base.json" -f "$WORK/policy.json")
t_check "policy change: a chain rewritten" grep -q "chains +0/-0/~1" <<<"$out"
t_check_not "policy change: table not rebuilt" grep -q "table rebuilt" <<<"$out"
t_check "policy change: table equals dry-run" vnn_same_table "$NS" "$WORK/policy.nft" sort

# 4. a policy deleted (watch event in a file): its chain and sets go
"$VNN_POLICY" dry-run --node n1 -f "$FIX/base.json" -f "$WORK/delete.json" >"$WORK/delete.nft"
t_check "delete event applied" pol apply --node n1 -f "$FIX/base.json" -f "$WORK/delete.json"
t_check "delete: table equals dry-run" vnn_same_table "$NS" "$WORK/delete.nft" sort
t_check_not "delete: its profile chain is gone" bash -c "ip netns exec $NS nft list table inet veilnet | grep -q 'chain in-x-'"
t_check_not "delete: its counters are gone" bash -c "ip netns exec $NS nft list table inet veilnet | grep -q 'counter x/allow-web'"
t_check "delete: x/a falls back to the namespace chain" bash -c "ip netns exec $NS nft list map inet veilnet in4 | grep -q '10.77.1.1 : jump nsin-x'"

# 5. failure injection: the transaction back to base, made to fail half-way
before=$(listing)
out=$(pol apply --node n1 -f "$FIX/base.json" -f "$WORK/policy.json" 2>&1)
msgs=$(sed -n 's/.*transaction: \([0-9]*\) messages.*/\1/p' <<<"$out")
[[ -n $msgs ]] || msgs=0
before=$(listing)
if ((msgs < 4)); then
	t_fail "failure injection" "too few messages ($msgs) to fail half-way"
else
	half=$((msgs / 2))
	err=$(VEILNET_POLICY_FAIL_AT=$half ip netns exec "$NS" "$VNN_POLICY" apply --node n1 \
		-f "$FIX/base.json" -f "$WORK/delete.json" 2>&1)
	rc=$?
	t_check "injected failure at message $half of $msgs: apply fails" test "$rc" -eq 1
	t_check "injected failure: error says nothing was applied" grep -q "nothing applied" <<<"$err"
	t_check "injected failure: previous ruleset intact" test "$before" == "$(listing)"
fi
# ... and on a cold start: no table appears, nothing fails open halfway
t_check "flush" pol flush
VEILNET_POLICY_FAIL_AT=7 ip netns exec "$NS" "$VNN_POLICY" apply --node n1 -f "$FIX/base.json" >/dev/null 2>&1
t_check_not "injected failure on a cold start leaves no table" ip netns exec "$NS" nft list table inet veilnet
t_check "apply after a failure works" pol apply --node n1 -f "$FIX/base.json"
t_check "... and equals the dry-run" vnn_same_table "$NS" "$WORK/base.nft"

# 6. invalid input: a clear error naming the object and field; nothing applied
before=$(listing)
err=$(pol apply --node n1 -f "$FIX/base.json" -f "$WORK/bad.json" 2>&1)
t_check "invalid input names object and field" grep -qF \
	'NetworkPolicy x/broken: spec.ingress[0].from[1].ipBlock.cidr: "10.0.0/8" is not a CIDR' <<<"$err"
t_check "invalid input: table unchanged" test "$before" == "$(listing)"

# 7. stdin input, and a world without --node (every pod enforced)
t_check "apply from stdin" bash -c "ip netns exec $NS $VNN_POLICY apply <$FIX/base.json"
"$VNN_POLICY" dry-run <"$FIX/base.json" >"$WORK/all.nft"
t_check "no --node: table equals dry-run" vnn_same_table "$NS" "$WORK/all.nft" sort
t_check "no --node: the pod of n2 is enforced too" grep -q "10.77.1.2 : jump" "$WORK/all.nft"
t_check_not "--node n1: the pod of n2 is not" grep -q "10.77.1.2 : jump" "$WORK/base.nft"

# 8. counters, logging option
"$VNN_POLICY" dry-run --log-drops 7 --node n1 -f "$FIX/base.json" >"$WORK/log.nft"
t_check "apply with --log-drops" pol apply --log-drops 7 --node n1 -f "$FIX/base.json"
t_check "log on drops with the policies" bash -c \
	"ip netns exec $NS nft list chain inet veilnet nsin-x | grep -q 'log prefix \"veilnet drop ingress x:deny-all \" group 7 drop'"
t_check "--log-drops: table equals dry-run" vnn_same_table "$NS" "$WORK/log.nft" sort
t_check "named counter per policy rule" ip netns exec "$NS" nft list counter inet veilnet x/allow-web/ingress-0

# 9. flush, and the other table never changed
t_check "flush removes the table" pol flush
t_check_not "table gone" ip netns exec "$NS" nft list table inet veilnet
t_check "flush without a table is fine" pol flush
t_check "the other table is untouched" test "$other_before" == "$(ip netns exec "$NS" nft list table inet vnnother)"

t_done
