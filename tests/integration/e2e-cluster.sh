#!/usr/bin/env bash
# e2e-cluster: a whole veilnet cluster in network namespaces (the demo's
# cluster builder, netns-harness/demo-lib.sh): 3 nodes, the WireGuard mesh,
# NetworkPolicies applied with veilnet-policy, real TCP connections.
#
#  - pods added and removed while policies are in force; a pod added after
#    the policies is isolated from its first packet (podguard), on a node
#    that already has pods of its namespace and on one that has none, for
#    ingress and for egress;
#  - policy, pod label and namespace label changes show in connectivity;
#  - a node leaves the mesh (no plaintext: strict mode drops traffic to its
#    pods; no disturbance to the others) and rejoins;
#  - after teardown every node is clean: links, routes, nft tables, IPAM
#    reservations, wg peers and sockets.
# Everything is named vne-*.
source "$(dirname "$0")/../lib.sh"
source "$VN_ROOT/netns-harness/demo-lib.sh"

[[ $EUID -eq 0 ]] || t_skip "needs root"
dl_init vne
dl_require || t_fail "e2e prerequisites" "$(dl_require 2>&1)"
((_t_fail == 0)) || t_done

dl_destroy
t_cleanup dl_destroy
W=$(mktemp -d /tmp/vne.XXXXXX)
t_cleanup rm -rf "$W"

# ---- checks ---------------------------------------------------------------
# reach NAME FROM TO open|closed [PORT]: queued; run_reach probes them all at
# once (a closed probe costs its 1 s timeout) and records the results.
_reach=()
reach() { local IFS='|'; _reach+=("$*"); }
run_reach() {
	local i name from to want port dir got jobs=()
	dir=$(mktemp -d "$W/reach.XXXXXX")
	for ((i = 0; i < ${#_reach[@]}; i++)); do
		IFS='|' read -r name from to want port <<<"${_reach[i]}"
		(
			if [[ $want == open ]]; then
				# open: up to 3 tries of 2 s (the first packet may start a handshake)
				for _ in 1 2 3; do dl_probe "$from" "$to" "${port:-$DL_PORT}" 2 && { echo open; exit; }; done
				echo closed
			else
				dl_probe "$from" "$to" "${port:-$DL_PORT}" 1 && echo open || echo closed
			fi
		) >"$dir/$i" &
		jobs+=($!)
	done
	wait "${jobs[@]}" # not a bare wait: the pods' servers are our children too
	for ((i = 0; i < ${#_reach[@]}; i++)); do
		IFS='|' read -r name from to want port <<<"${_reach[i]}"
		got=$(cat "$dir/$i")
		if [[ $got == "$want" ]]; then
			t_pass "$name: $from -> $to $want"
		else
			t_fail "$name: $from -> $to" "expected $want, got $got"
		fi
	done
	_reach=()
	rm -rf "$dir"
}

policy() { # policy NS NAME SPEC_JSON: a NetworkPolicy file in $W/pol/
	mkdir -p "$W/pol"
	jq -n --arg ns "$1" --arg name "$2" --argjson spec "$3" \
		'{apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy",
		  metadata: {namespace: $ns, name: $name}, spec: $spec}' >"$W/pol/$1-$2.json"
}
unpolicy() { rm -f "$W/pol/$1-$2.json"; }
apply() { dl_policy_apply "$W"/pol/*.json; }

# ---- the cluster ------------------------------------------------------------
t_check "cluster of 3 nodes" dl_cluster_create 3
for spec in "n1 x/a app=a" "n2 x/b app=b" "n1 y/a app=a" "n2 y/b app=b" "n3 y/c app=c" "n3 z/c app=c"; do
	read -r node pod labels <<<"$spec"
	t_check "pod $pod on $node" dl_pod_add "$node" "$pod" "$labels"
done
t_check "mesh keys" dl_mesh_keys
t_check "mesh up on every node" dl_mesh_up_all
((_t_fail == 0)) || t_done

reach "no policy, cross-node" x/a y/b open
reach "no policy, cross-node" y/c x/a open
reach "no policy, same node" y/a x/a open
run_reach

# x: ingress only from x.  z: no egress at all.
policy x deny-ingress '{"podSelector": {}, "policyTypes": ["Ingress"]}'
policy x allow-from-x '{"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]}'
policy z deny-egress '{"podSelector": {}, "policyTypes": ["Egress"]}'
t_check "policies applied on every node" apply
reach "x isolated" y/a x/a closed
reach "x isolated, cross-node" y/b x/a closed
reach "x to x, cross-node" x/b x/a open
reach "z egress denied" z/c y/c closed
reach "z egress denied, cross-node" z/c x/b closed
reach "y still open" x/a y/c open
run_reach

# ---- pods added while policies are in force: isolated from the first packet
# No veilnet-policy run between the ADD and the probes: only the plugin's
# podguard admission stands between the new pod and the others.
t_check "x/new on n1 (node with x pods), no policy re-run" dl_pod_add n1 x/new app=new
t_check "x/far on n3 (node without x pods), no policy re-run" dl_pod_add n3 x/far app=far
t_check "z/new on n2 (node without z pods), no policy re-run" dl_pod_add n2 z/new app=new
reach "new pod isolated" y/a x/new closed
reach "new pod isolated, cross-node" y/b x/new closed
reach "new pod on a node without its namespace isolated" y/c x/far closed
reach "new pod on a node without its namespace isolated, cross-node" y/a x/far closed
reach "new pod gets its namespace's allow rule" x/a x/new open
reach "new pod gets its namespace's allow rule, cross-node" x/b x/far open
reach "new pod's egress denied" z/new y/b closed
reach "new pod's egress denied, cross-node" z/new y/a closed
run_reach
t_check "policies re-applied with the new pods" apply
reach "after re-apply: new pod isolated" y/b x/new closed
reach "after re-apply: new pod reaches x" x/new x/a open
reach "after re-apply: x reaches far pod" x/a x/far open
reach "after re-apply: z/new egress denied" z/new y/c closed
run_reach

# ---- pods removed while policies are in force
xb_ip=$(dl_pod_ip x/b)
t_check "x/b deleted" dl_pod_del x/b
t_check "policies re-applied without x/b" apply
node_mentions() { # node_mentions NODE IP: the node's ruleset names IP
	ip netns exec "$(dl_node_netns "$1")" nft list table inet veilnet 2>/dev/null | grep -qw -- "$2"
}
for node in n1 n2 n3; do
	t_check_not "deleted pod's address gone from $node's ruleset" node_mentions "$node" "$xb_ip"
done
t_check "y/d added on n2 where x/b was" dl_pod_add n2 y/d app=b
reach "pod in x's freed place is not in x" y/d x/a closed
reach "remaining x pods unaffected" x/new x/a open
run_reach

# ---- policy changes
policy x allow-y-b '{"podSelector": {"matchLabels": {"app": "a"}},
	"ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "y"}},
	"podSelector": {"matchLabels": {"app": "b"}}}], "ports": [{"port": '"$DL_PORT"', "protocol": "TCP"}]}]}'
t_check "policy allow-y-b added" apply
reach "policy added: allowed peer" y/b x/a open
reach "policy added: another pod with the label" y/d x/a open
reach "policy added: other labels still denied" y/a x/a closed
reach "policy added: only the selected pod" y/b x/new closed
run_reach
unpolicy x allow-y-b
t_check "policy allow-y-b removed" apply
reach "policy removed" y/b x/a closed
run_reach

# ---- label changes: pod labels and namespace labels
policy x allow-friends '{"podSelector": {}, "ingress": [{"from": [{"namespaceSelector":
	{"matchLabels": {"team": "friend"}}, "podSelector": {"matchLabels": {"role": "client"}}}]}]}'
t_check "policy allow-friends added" apply
reach "before labels" y/c x/a closed
run_reach
t_check "namespace y labelled team=friend" "$CNI_TEST" namespace label vne y team=friend --merge
t_check "pod y/c labelled role=client" "$CNI_TEST" pod label vne y/c app=c,role=client
t_check "policies re-applied after label changes" apply
reach "labels match: allowed" y/c x/a open
reach "labels match: cross-node allowed" y/c x/new open
reach "pod without the label" y/a x/a closed
run_reach
t_check "pod y/c label role removed" "$CNI_TEST" pod label vne y/c app=c
t_check "policies re-applied after pod label removal" apply
reach "pod label removed" y/c x/a closed
run_reach
t_check "pod y/c labelled role=client again" "$CNI_TEST" pod label vne y/c app=c,role=client
t_check "namespace y label removed" "$CNI_TEST" namespace label vne y team=other --merge
t_check "policies re-applied after namespace label change" apply
reach "namespace label changed" y/c x/a closed
run_reach
unpolicy x allow-friends
apply >/dev/null 2>&1

# ---- a node leaves the mesh and rejoins
wg_peers() { "$CNI_TEST" node exec vne "$1" -- wg show "$(dl_wg_ifname "$1")" peers 2>/dev/null | wc -l; }
t_check "full mesh: n1 has 2 peers" test "$(wg_peers n1)" -eq 2
# a connection n1 <-> n2 that must survive n3's departure
cont_out=$W/continuous
"$CNI_TEST" pod exec vne y/b -- ping -i 0.05 -w 30 -c 200 "$(dl_pod_ip y/a)" >"$cont_out" 2>&1 &
cont_pid=$!
t_cleanup kill "$cont_pid"
dl_nodelist n1 n2 >"$W/two-nodes.json"
t_check "n3 leaves: mesh up on n1 without n3" dl_mesh_up n1 "$W/two-nodes.json"
t_check "n3 leaves: mesh up on n2 without n3" dl_mesh_up n2 "$W/two-nodes.json"
t_check "n3 leaves: mesh down on n3" dl_mesh_down n3
t_check "n1 has 1 peer after n3 left" test "$(wg_peers n1)" -eq 1
t_check "no wg device left on n3" bash -c "! ip -n vne-n3 link show $(dl_wg_ifname n3) 2>/dev/null"
# leak check: nothing for n3's pods leaves n1 in plaintext (strict mode guards
# the cluster CIDRs, dl_mesh_up --cluster-cidr, so n3's pods too)
mesh_drops() {
	"$CNI_TEST" node exec vne "$1" -- nft list chain inet veilnet-mesh forward |
		sed -n 's/.*counter packets \([0-9]*\).*/\1/p' | awk '{s += $1} END {print s + 0}'
}
drops_before=$(mesh_drops n1)
: >"$W/leave.err"
setsid ip netns exec vne-ul tcpdump -i any -nn -U --immediate-mode -w - >"$W/leave.pcap" 2>"$W/leave.err" </dev/null &
cap_pid=$!
t_cleanup kill "$cap_pid"
for ((i = 0; i < 100; i++)); do grep -q 'listening on' "$W/leave.err" && break; sleep 0.05; done
reach "n3 away: n1 pod to n3 pod" y/a y/c closed
reach "n3 away: n3 pod to n2 pod" y/c y/b closed
reach "n3 away: n1 <-> n2 unaffected" x/a y/b open
reach "n3 away: n2 -> n1 unaffected" y/d y/a open
run_reach
kill -INT "$cap_pid"; wait "$cap_pid" 2>/dev/null
drops_after=$(mesh_drops n1)
t_check "n3 away: n1's strict mode dropped the packets to n3's pod ($drops_before -> $drops_after)" \
	test "$drops_after" -gt "$drops_before"
leaked=$(tcpdump -r "$W/leave.pcap" -nn "net 10.244.0.0/16 or net fd00:10:244::/48" 2>/dev/null)
if [[ -z "$leaked" ]]; then
	t_pass "no pod packet crossed the underlay in plaintext while n3 was away"
else
	t_fail "no pod packet crossed the underlay in plaintext while n3 was away" \
		"$(wc -l <<<"$leaked") seen, e.g. $(head -n 2 <<<"$leaked" | tr '\n' ';')"
fi
wait "$cont_pid"
lost=$(sed -nE 's/.* ([0-9]+)% packet loss.*/\1/p' "$cont_out")
t_check "n1 <-> n2 traffic undisturbed while n3 left (loss ${lost:-?}%)" test "${lost:-100}" -le 1
t_check "n3 rejoins: mesh up on n3" dl_mesh_up n3
t_check "n3 rejoins: mesh up on n1" dl_mesh_up n1
t_check "n3 rejoins: mesh up on n2" dl_mesh_up n2
t_check "n1 has 2 peers again" test "$(wg_peers n1)" -eq 2
reach "n3 back: n1 pod to n3 pod" y/a y/c open
reach "n3 back: n3 pod to n2 pod" y/c y/b open
reach "n3 back: policies still enforced" y/c x/a closed
run_reach

# ---- teardown: every node clean
extra_links() {
	ip -n "$1" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -vxE 'lo|eth0' | tr '\n' ' '
}
no_extra_links() {
	[ -z "$(extra_links "$1")" ]
}
# (first, that the checks below see the state while it exists)
for node in $(dl_nodes); do
	ns=$(dl_node_netns "$node")
	t_check "before teardown, $node has reservations" bash -c "ls '$(dl_node_data_dir "$node")' | grep -q '^ip-'"
	t_check "before teardown, $node has its nft tables" bash -c \
		"ip netns exec $ns nft list tables | grep -q 'inet veilnet$' && ip netns exec $ns nft list tables | grep -q 'inet veilnet-mesh$'"
	t_check "before teardown, $node has its wireguard socket" test -S "/var/run/wireguard/$(dl_wg_ifname "$node").sock"
	t_check "before teardown, $node has pod routes" bash -c "ip -n $ns route | grep -q '^10\.244\.'"
done
for pod in $(dl_pods); do
	dl_pod_del "$pod" || t_fail "pod del $pod"
done
for node in $(dl_nodes); do
	t_check "mesh down on $node" dl_mesh_down "$node" --purge
	t_check "policy flush on $node" "$CNI_TEST" node exec vne "$node" -- "$VN_POLICY" flush
done
for node in $(dl_nodes); do
	ns=$(dl_node_netns "$node")
	# DEL retires a veth at once; the node's reaper deletes it in its next batch
	wait_until no_extra_links "$ns"
	links=$(extra_links "$ns")
	t_check "$node: no links but lo and eth0 (${links:-none})" test -z "$links"
	routes=$(ip -n "$ns" route show | grep -E '^10\.244\.' ; ip -n "$ns" -6 route show | grep -E '^fd00:10:244:')
	t_check "$node: no pod routes (${routes:-none})" test -z "$routes"
	tables=$(ip netns exec "$ns" nft list tables 2>/dev/null | tr '\n' ' ')
	t_check "$node: no nft tables (${tables:-none})" test -z "$tables"
	# records vn*.json, reservations ip-* (symlinks), temp files: none may
	# remain; the lock and the round-robin hint "last" may (plugin/store.h)
	res=$(find "$(dl_node_data_dir "$node")" -mindepth 1 ! -name lock ! -name last 2>/dev/null | tr '\n' ' ')
	t_check "$node: no IPAM reservations (${res:-none})" test -z "$res"
	t_check "$node: no wireguard socket" test ! -e "/var/run/wireguard/$(dl_wg_ifname "$node").sock"
done
t_check "cluster destroyed" dl_destroy
left=$(dl_leftovers | tr '\n' ';')
t_check "nothing of vne left on the machine (${left:-nothing})" test -z "$left"
t_done
