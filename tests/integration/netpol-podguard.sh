#!/usr/bin/env bash
# No open window: a pod the policy agent does not know yet, in a namespace
# whose policies isolate every pod, is isolated from its first packet once
# the CNI plugin has admitted it (lib/podguard.c, called here through
# build/vnn-podguard exactly as the plugin calls it at ADD), and the agent
# takes over when it learns about the pod.
source "$(dirname "$0")/../lib.sh"
source "$VN_ROOT/tests/netpol/lib.sh"
vnn_require

P=vnn-pg$$
NODE=$P-node
FIX=$VN_ROOT/tests/netpol/fixtures
WORK=$(mktemp -d /tmp/vnn-pg.XXXXXX)
t_cleanup "rm -rf $WORK"
export VNN_TIMEOUT=300
vnn_node "$NODE"
vnn_pod "$NODE" "$P-xa" "vnnpg${$}a" 10.77.1.1
vnn_pod "$NODE" "$P-yc" "vnnpg${$}c" 10.77.2.1
vnn_pod "$NODE" "$P-xn" "vnnpg${$}n" 10.77.1.9	# the new pod of x
vnn_pod "$NODE" "$P-qn" "vnnpg${$}q" 10.77.5.9	# the new pod of q
for ns in xa yc xn qn; do vnn_serve "$P-$ns" 80 || t_fail "server in $ns"; done
pg() { ip netns exec "$NODE" "$VNN_PODGUARD" "$@"; }
pol() { ip netns exec "$NODE" "$VNN_POLICY" "$@"; }
drops() { ip netns exec "$NODE" nft list chain inet veilnet "$1" | sed -n 's/.*counter packets \([0-9]*\).*drop.*/\1/p'; }
newpod() { ip netns exec "$NODE" nft list map inet veilnet "$1"; }

# Namespace q isolates every pod for egress.
cat >"$WORK/q.json" <<'EOF'
{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "q"}}
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "deny-egress", "namespace": "q"},
 "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
EOF
# What the API shows once the new pod of x is known.
cat >"$WORK/xnew.json" <<'EOF'
{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "new", "namespace": "x", "labels": {"app": "web"}},
 "spec": {"nodeName": "n1"}, "status": {"podIP": "10.77.1.9"}}
EOF
cat >"$WORK/nodeny.json" <<'EOF'
{"type": "DELETED", "object": {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "deny-all", "namespace": "x"}, "spec": {}}}
EOF

# No table yet: nothing to admit to, and that is not an error.
t_check "admit without a table succeeds" pg admit x 10.77.1.9
t_check_not "... and creates nothing" ip netns exec "$NODE" nft list table inet veilnet

t_check "apply (the new pods unknown)" pol apply -f "$FIX/base.json" -f "$WORK/q.json"
t_check "without podguard the unknown pod is open (the window)" vnn_tcp "$P-xa" 10.77.1.9 80

# The plugin's ADD: before the pod can send or receive anything.
t_check "podguard admits the new pod of x" pg admit x 10.77.1.9
t_check "it is in newpod_in4, towards nsin-x" bash -c "$(declare -f newpod); NODE=$NODE; newpod newpod_in4 | grep -q '10.77.1.9 : jump nsin-x'"
t_check_not "no nsout-x: x isolates no egress" bash -c "$(declare -f newpod); NODE=$NODE; newpod newpod_out4 | grep -q 10.77.1.9"
before=$(drops nsin-x)
t_check_not "its first packet is dropped" vnn_udp "$P-xa" 10.77.1.9 80
after=$(drops nsin-x)
t_check "exactly that packet was counted by the namespace chain" test "$((after - before))" -eq 1
t_check_not "no TCP either" vnn_tcp "$P-yc" 10.77.1.9 80
t_check "it may still connect out (egress not isolated)" vnn_tcp "$P-xn" 10.77.2.1 80

t_check "podguard admits the new pod of q" pg admit q 10.77.5.9
t_check_not "q's new pod cannot send: egress isolated from its first packet" vnn_tcp "$P-qn" 10.77.2.1 80
t_check "admitting twice is fine" pg admit q 10.77.5.9
t_check "a namespace without namespace-wide policies: nothing to do" pg admit y 10.77.2.9
t_check_not "... nothing added" bash -c "ip netns exec $NODE nft list table inet veilnet | grep -q 10.77.2.9"

# The agent learns about x/new (app=web: allow-web applies): it takes over.
t_check "apply with the new pod known" pol apply -f "$FIX/base.json" -f "$WORK/q.json" -f "$WORK/xnew.json"
t_check_not "its newpod element is gone" bash -c "$(declare -f newpod); NODE=$NODE; newpod newpod_in4 | grep -q 10.77.1.9"
t_check "q's unknown pod keeps its element" bash -c "$(declare -f newpod); NODE=$NODE; newpod newpod_out4 | grep -q 10.77.5.9"
t_check "x/new now gets its own policies: y/c -> x/new allowed" vnn_tcp "$P-yc" 10.77.1.9 80
t_check_not "x/a -> x/new still denied" vnn_tcp "$P-xa" 10.77.1.9 80
t_check "forget a pod the agent already handled is fine" pg forget 10.77.1.9

# A namespace chain that goes away takes the elements that jump to it.
t_check "admit another pod of x" pg admit x 10.77.1.8
t_check "apply without x's namespace-wide policy" pol apply -f "$FIX/base.json" -f "$WORK/q.json" -f "$WORK/xnew.json" -f "$WORK/nodeny.json"
t_check_not "nsin-x is gone" ip netns exec "$NODE" nft list chain inet veilnet nsin-x
t_check_not "and so is the element that used it" bash -c "$(declare -f newpod); NODE=$NODE; newpod newpod_in4 | grep -q 10.77.1.8"
t_check "the plugin's DEL: forget" pg forget 10.77.5.9
t_check_not "q's element is gone" bash -c "$(declare -f newpod); NODE=$NODE; newpod newpod_out4 | grep -q 10.77.5.9"
t_check "q's pod can send again" vnn_tcp "$P-qn" 10.77.2.1 80

t_done
