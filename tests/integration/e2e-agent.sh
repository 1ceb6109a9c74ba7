#!/usr/bin/env bash
# e2e-agent: the DaemonSet's node agent (deploy/node-agent.sh run) for real,
# one per node of a 2-node cluster in network namespaces, with veilnet-mesh
# watch and veilnet-policy watch fed by watch streams. The API server is a
# stand-in (e2e-agent-kubectl): a directory of JSON Lists that this test
# edits; its watches turn the edits into ADDED/MODIFIED/DELETED events as
# `kubectl get --watch --output-watch-events -o json` prints them.
#
# Checks: each agent creates its key (0600) and publishes it on its own Node;
# strict mode guards the cluster CIDRs (VEILNET_CLUSTER_CIDRS);
# the mesh forms from the published keys alone; policies, pod label changes
# and policy deletions reach the nodes' rulesets (measured with connections);
# a malformed object does not stop the agent; a node leaving and coming back
# in the Node stream; watches closed by the server are restarted and the
# agent stays in step; `health`; TERM stops every process of the agent,
# leaving mesh and policies in force; a restart keeps the node's key.
# Everything is named vnea-* (cluster) and wg-vnea* (WireGuard devices).
source "$(dirname "$0")/../lib.sh"
source "$VN_ROOT/netns-harness/demo-lib.sh"

[[ $EUID -eq 0 ]] || t_skip "needs root"
dl_init vnea
dl_require || t_fail "prerequisites" "$(dl_require 2>&1)"
command -v flock >/dev/null || t_fail "prerequisites" "flock (util-linux) missing"
((_t_fail == 0)) || t_done

AGENT=$VN_ROOT/deploy/node-agent.sh
FAKE=$VN_ROOT/tests/integration/e2e-agent-kubectl
dl_destroy
W=$(mktemp -d /tmp/vnea.XXXXXX)
KUBE=$W/kube
mkdir -p "$KUBE"
[[ -n "${VNEA_KEEP_LOGS:-}" ]] || t_cleanup rm -rf "$W" # VNEA_KEEP_LOGS=1: keep the agents' logs
t_cleanup dl_destroy
t_cleanup touch "$KUBE/stop"

# wait_for SECONDS CMD...: polls CMD every 0.1 s until it succeeds.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# kube_set RESOURCE JQ_FILTER [ARGS...]: edits the stand-in API's list.
kube_set() {
	local res=$1 tmp
	shift
	tmp=$(mktemp "$KUBE/.$res.XXXXXX")
	(
		flock 9
		jq "$@" "$KUBE/$res.json" >"$tmp" && mv -f "$tmp" "$KUBE/$res.json"
	) 9>"$KUBE/.lock"
}

# ---- cluster and stand-in API --------------------------------------------
t_check "cluster of 2 nodes" dl_cluster_create 2
for spec in "n1 x/a app=a" "n2 x/b app=b" "n2 y/b app=b"; do
	read -r node pod labels <<<"$spec"
	t_check "pod $pod on $node" dl_pod_add "$node" "$pod" "$labels"
done
((_t_fail == 0)) || t_done

# Nodes as the API shows them before any agent ran: no key annotation.
for node in n1 n2; do
	jq -n --arg n "$node" --argjson c "$(dl_node_cidrs "$node" | jq -R . | jq -s .)" \
		--arg ip "$(dl_node_ips "$node" | head -n 1)" \
		'{apiVersion: "v1", kind: "Node", metadata: {name: $n, annotations: {}},
		  spec: {podCIDR: $c[0], podCIDRs: $c},
		  status: {addresses: [{type: "InternalIP", address: $ip}]}}'
done | jq -s '{apiVersion: "v1", kind: "List", items: .}' >"$KUBE/nodes.json"
"$CNI_TEST" pod list vnea --json >"$W/pods-all.json"
jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.kind == "Namespace")]}' \
	"$W/pods-all.json" >"$KUBE/namespaces.json"
jq '{apiVersion: "v1", kind: "List", items: [.items[] | select(.kind == "Pod")]}' \
	"$W/pods-all.json" >"$KUBE/pods.json"
echo '{"apiVersion": "v1", "kind": "List", "items": []}' >"$KUBE/networkpolicies.json"

# ---- the agents -------------------------------------------------------------
start_agent() {
	local node=$1 k=${1#n}
	mkdir -p "$W/$node"
	setsid ip netns exec "vnea-$node" env NODE_NAME="$node" KUBECTL="$FAKE" FAKE_KUBE="$KUBE" \
		VEILNET_BIN_DIR="$VN_BUILD" VEILNET_KEY_FILE="$W/$node/keys/wireguard.key" \
		VEILNET_WG_IFNAME="wg-vnea$k" VEILNET_RUN_DIR="$W/$node/run" \
		VEILNET_CLUSTER_CIDRS="$DL_CLUSTER_CIDRS" \
		bash "$AGENT" run </dev/null >>"$W/$node/agent.log" 2>&1 &
	echo $! >"$W/$node/agent.pid"
}
stop_agent() {
	local pid
	pid=$(cat "$W/$1/agent.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null
	wait_for 5 bash -c "! kill -0 $pid" || kill -KILL -- "-$pid" 2>/dev/null
}
t_cleanup stop_agent n1
t_cleanup stop_agent n2
start_agent n1
start_agent n2

annotated() { jq -e --arg n "$1" '.items[] | select(.metadata.name == $n)
	| .metadata.annotations["veilnet.dev/wireguard-public-key"] | length == 44' "$KUBE/nodes.json"; }
wg_peers() { ip netns exec "vnea-$1" wg show "wg-vnea${1#n}" peers 2>/dev/null | grep -c .; }
has_peers() { [[ "$(wg_peers "$1")" -eq "$2" ]]; }
has_table() { ip netns exec "vnea-$1" nft list table inet veilnet >/dev/null 2>&1; }
for node in n1 n2; do
	t_check "$node: agent published its key on its own Node" wait_for 10 annotated "$node"
	t_check "$node: private key file is 0600" test "$(stat -c %a "$W/$node/keys/wireguard.key" 2>/dev/null)" = 600
	t_check "$node: published key = the key file's public key" test \
		"$(jq -r --arg n "$node" '.items[] | select(.metadata.name == $n)
			| .metadata.annotations["veilnet.dev/wireguard-public-key"]' "$KUBE/nodes.json")" = \
		"$("$VN_MESH" pubkey --key-file "$W/$node/keys/wireguard.key")"
	t_check "$node: mesh formed from the published keys (1 peer)" wait_for 10 has_peers "$node" 1
	t_check "$node: policy table in place" wait_for 10 has_table "$node"
	t_check "$node: health ok" env VEILNET_RUN_DIR="$W/$node/run" bash "$AGENT" health
done
# strict mode guards the whole pod network (VEILNET_CLUSTER_CIDRS), also
# addresses of nodes that do not exist
guards() { ip netns exec "vnea-$1" nft get element inet veilnet-mesh "$2" "{ $3 }"; }
t_check "n1: strict mode guards the cluster CIDR (v4, a node never seen)" wait_for 5 guards n1 guard4 10.244.200.1
t_check "n1: strict mode guards the cluster CIDR (v6, a node never seen)" wait_for 5 guards n1 guard6 fd00:10:244:c8::1
t_check_not "n1: strict mode leaves other addresses alone" guards n1 guard4 10.245.0.1
t_check "only patches of the agents' own nodes" bash -c \
	"! grep '^patch node' '$KUBE/calls' | grep -v -e '^patch node n1 ' -e '^patch node n2 '"
t_check "cross-node pod traffic through the agents' mesh" dl_probe y/b x/a "$DL_PORT" 3

# probe_is open|closed FROM TO: the connection's fate, now.
probe_is() {
	if dl_probe "$2" "$3" "$DL_PORT" 1; then [[ $1 == open ]]; else [[ $1 == closed ]]; fi
}

# ---- policies through the watch ---------------------------------------------
pol() { # pol NS NAME SPEC: the NetworkPolicy object
	jq -n --arg ns "$1" --arg n "$2" --argjson s "$3" '{apiVersion: "networking.k8s.io/v1",
		kind: "NetworkPolicy", metadata: {namespace: $ns, name: $n}, spec: $s}'
}
kube_set networkpolicies --argjson p "$(pol x deny '{"podSelector": {}, "policyTypes": ["Ingress"]}')" '.items += [$p]'
kube_set networkpolicies --argjson p "$(pol x friends '{"podSelector": {},
	"ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"role": "friend"}}}]}]}')" '.items += [$p]'
t_check "policy added: y/b -> x/a dropped (cross-node)" wait_for 10 probe_is closed y/b x/a
t_check "policy added: x/b -> x/a dropped too" probe_is closed x/b x/a

kube_set pods '.items |= map(if .metadata.namespace == "y" and .metadata.name == "b"
	then .metadata.labels.role = "friend" else . end)'
t_check "pod label added: y/b -> x/a allowed" wait_for 10 probe_is open y/b x/a
t_check "pod label added: x/b still dropped" probe_is closed x/b x/a

# A malformed object in the pod stream: the agent reports it and goes on.
touch "$KUBE/inject-garbage-pods"
kube_set pods '.items |= map(if .metadata.namespace == "y" and .metadata.name == "b"
	then .metadata.labels.role = "stranger" else . end)'
t_check "after a malformed object: label removal still applied" wait_for 10 probe_is closed y/b x/a
# (one of the two agents' pod watches gets it)
t_check "the malformed object was reported, naming what is wrong" wait_for 5 grep -qi \
	-e 'policy watch:.*\(error\|invalid\|skipped\)' "$W/n1/agent.log" "$W/n2/agent.log"

kube_set networkpolicies '.items |= map(select(.metadata.name != "deny" and .metadata.name != "friends"))'
t_check "policies deleted: y/b -> x/a allowed again" wait_for 10 probe_is open y/b x/a
t_check "policies deleted: x/b -> x/a allowed again" probe_is open x/b x/a

# ---- a node leaves the Node stream and comes back -------------------------------
cp "$KUBE/nodes.json" "$W/nodes-full.json"
kube_set nodes '.items |= map(select(.metadata.name != "n2"))'
t_check "n2 deleted from the API: n1 drops its peer" wait_for 10 has_peers n1 0
t_check "n2 gone: n1 -> n2 pod traffic stops" wait_for 5 probe_is closed x/a x/b
cp "$W/nodes-full.json" "$KUBE/nodes.json.new" && mv -f "$KUBE/nodes.json.new" "$KUBE/nodes.json"
t_check "n2 back in the API: n1 has its peer again" wait_for 10 has_peers n1 1
t_check "n2 back: n1 -> n2 pod traffic flows" wait_for 10 probe_is open x/a x/b

# ---- the API server ends every watch (as it does after its timeout) ---------------
touch "$KUBE/stop"
ended() { grep -q 'policy reconciler ended' "$W/n1/agent.log" && grep -q 'mesh reconciler ended' "$W/n1/agent.log"; }
t_check "watches closed: the agent notices" wait_for 10 ended
rm -f "$KUBE/stop"
kube_set networkpolicies --argjson p "$(pol x deny '{"podSelector": {}, "policyTypes": ["Ingress"]}')" '.items += [$p]'
t_check "after the watches restart: a new policy is applied" wait_for 15 probe_is closed y/b x/a
t_check "after the watches restart: the mesh is intact" has_peers n1 1
kube_set networkpolicies '.items = []'
t_check "after the watches restart: policy deletion applied" wait_for 10 probe_is open y/b x/a

# ---- stopping --------------------------------------------------------------------
pgid=$(cat "$W/n1/agent.pid")
stop_agent n1
t_check "TERM: the agent's processes are all gone" wait_for 5 bash -c "! pgrep -g $pgid"
t_check_not "health fails once the agent stopped" env VEILNET_RUN_DIR="$W/n1/run" bash "$AGENT" health
t_check "the mesh stays up after the agent stopped (pods keep talking)" probe_is open x/a x/b
t_check "the policy table stays after the agent stopped" has_table n1
before=$("$VN_MESH" pubkey --key-file "$W/n1/keys/wireguard.key")
start_agent n1
restarted() { [[ $(grep -c 'running on node n1' "$W/n1/agent.log") -ge 2 ]]; }
t_check "the agent restarts" wait_for 10 restarted
t_check "the restarted agent keeps the node's key" test \
	"$("$VN_MESH" pubkey --key-file "$W/n1/keys/wireguard.key")" = "$before"
t_check "the restarted agent keeps the mesh" probe_is open x/a x/b
t_done
