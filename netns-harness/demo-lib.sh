# shellcheck shell=bash
# netns-harness/demo-lib.sh - a veilnet cluster in network namespaces, with
# the WireGuard mesh and NetworkPolicies, for `make demo` (netns-harness/demo)
# and the end-to-end suite (tests/integration/e2e-cluster.sh). Sourced.
#
#   dl_init NAME                  state dir /run/veilnet-demo/NAME, tool paths
#   dl_cluster_create N           N nodes (cni-test cluster create --no-routes)
#   dl_mesh_keys                  a WireGuard key per node, public keys recorded
#   dl_nodelist [NODE...]         NodeList JSON of the nodes (default: all)
#   dl_mesh_up NODE [NODELIST]    veilnet-mesh up in the node's netns, with
#                                 the cluster CIDRs (DL_CLUSTER_CIDRS) for strict mode
#   dl_mesh_down NODE [--purge]
#   dl_pod_add NODE NS/POD [LABELS]   a pod wired by veilnet, IPs recorded;
#                                 servers in it: vn-probe on DL_PORT (TCP, UDP),
#                                 TCP echo on DL_ECHO_PORT
#   dl_pod_del NS/POD
#   dl_pod_ip NS/POD [-6]
#   dl_probe FROM_NS/POD TO_NS/POD|IP [PORT] [SECONDS]  0 if a TCP connection opens
#   dl_policy_input POLICIES...   the Kubernetes List veilnet-policy reads
#   dl_policy_apply POLICIES...   veilnet-policy apply on every node, --node
#   dl_matrix_measure PODS...     the measured truth table ('.' open, 'X' not)
#   dl_matrix_predict FILE PODS...  veilnet-policy explain --matrix's table
#   dl_destroy                    everything removed (idempotent)
#   dl_leftovers                  prints what a destroyed cluster left behind
#
# Names: netns NAME-ul, NAME-nK and NAME-<ns>-<pod> come from cni-test; the
# WireGuard device of node nK is "wg-NAMEK" (wireguard-go's UAPI socket dir
# /var/run/wireguard is shared by every netns, so the names must differ).
# Every function returns non-zero on failure and says why on stderr. Calls
# with redirected output run in a subshell, `( f ) >file`, so that a signal
# trap of the caller never runs while its stdout points into a file.

DL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DL_BUILD=${VN_BUILD:-$DL_ROOT/build}
DL_PORT=${DL_PORT:-8080}
DL_ECHO_PORT=${DL_ECHO_PORT:-8081}
DL_WG_PORT=${DL_WG_PORT:-51820}
DL_MESH_ANNOTATION=veilnet.dev/wireguard-public-key
# The whole pod network of a cni-test cluster (node K: 10.244.K.0/24 and
# fd00:10:244:K::/64): strict mode guards all of it, also the pods of nodes
# that left the mesh or were never in it.
DL_CLUSTER_CIDRS=${DL_CLUSTER_CIDRS:-10.244.0.0/16,fd00:10:244::/48}

dl_init() {
	DL_NAME=$1
	DL_STATE=/run/veilnet-demo/$DL_NAME
	CNI_TEST=$DL_BUILD/cni-test
	VN_POLICY=$DL_BUILD/veilnet-policy
	VN_MESH=$DL_BUILD/veilnet-mesh
	VN_PLUGIN=$DL_BUILD/veilnet
	VN_PROBE=$DL_BUILD/vn-probe
	DL_LOG=$DL_STATE/log
}

# dl_require: the programs and tools the cluster needs; says which are missing.
dl_require() {
	local p missing=()
	for p in "$CNI_TEST" "$VN_PLUGIN" "$VN_POLICY" "$VN_MESH" "$VN_PROBE"; do
		[[ -x "$p" ]] || missing+=("$p")
	done
	for p in ip nft jq tcpdump wireguard-go busybox timeout setsid; do
		command -v "$p" >/dev/null || missing+=("$p")
	done
	if ((${#missing[@]})); then
		echo "missing: ${missing[*]} (run: make deps && make)" >&2
		return 1
	fi
}

# dl_q CMD...: runs CMD with its output in the log; on failure prints the
# command and the end of its output.
dl_q() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	printf '$ %s\n%s\n' "$*" "$out" >>"$DL_LOG"
	if ((rc != 0)); then
		printf 'failed (status %d): %s\n%s\n' "$rc" "$*" "$(tail -n 8 <<<"$out")" >&2
	fi
	return $rc
}

dl_nodes() { cat "$DL_STATE/nodes"; }

dl_node_index() { echo "${1#n}"; }

# Not "vn...": that prefix marks the plugin's pod veths (strict mode, GC).
dl_wg_ifname() { echo "wg-$DL_NAME$(dl_node_index "$1")"; }

dl_node_netns() { echo "$DL_NAME-$1"; }

dl_cluster_create() {
	local n=$1 k
	mkdir -p "$DL_STATE"/pids "$DL_STATE"/keys
	chmod 0700 "$DL_STATE/keys"
	: >"$DL_LOG"
	: >"$DL_STATE/pods"
	dl_q "$CNI_TEST" cluster create "$DL_NAME" --nodes "$n" --no-routes --plugin "$VN_PLUGIN" || return 1
	: >"$DL_STATE/nodes"
	for ((k = 1; k <= n; k++)); do echo "n$k" >>"$DL_STATE/nodes"; done
}

# dl_state: cni-test's record of the cluster (see netns-harness/state.h).
dl_state() { cat "/run/cni-test/$DL_NAME/state.json"; }

# dl_node_cidrs NODE: the node's pod CIDRs, one a line.
dl_node_cidrs() {
	dl_state | jq -r --arg n "$1" '.nodes[] | select(.name == $n) | .podCIDR4, .podCIDR6 | values'
}

# dl_node_ips NODE: the node's underlay addresses, one a line.
dl_node_ips() {
	dl_state | jq -r --arg n "$1" '.nodes[] | select(.name == $n) | .ip4, .ip6 | values'
}

# dl_node_data_dir NODE: where the plugin keeps the node's IPAM reservations.
dl_node_data_dir() {
	dl_state | jq -r --arg n "$1" '.nodes[] | select(.name == $n) | .dataDir'
}

dl_mesh_keys() {
	local node pub
	for node in $(dl_nodes); do
		pub=$("$VN_MESH" genkey --key-file "$DL_STATE/keys/$node.key" 2>>"$DL_LOG") || {
			echo "veilnet-mesh genkey failed for $node" >&2
			return 1
		}
		echo "$pub" >"$DL_STATE/keys/$node.pub"
	done
}

# dl_nodelist [NODE...]: `kubectl get nodes -o json` as these nodes would
# show it: spec.podCIDRs, InternalIP, the public key annotation.
# shellcheck disable=SC2120 # callers pass nodes, or none for all
dl_nodelist() {
	local nodes=("$@") node items=()
	((${#nodes[@]})) || mapfile -t nodes < <(dl_nodes)
	for node in "${nodes[@]}"; do
		items+=("$(jq -n --arg name "$node" --arg key "$(cat "$DL_STATE/keys/$node.pub")" \
			--arg ann "$DL_MESH_ANNOTATION" \
			--argjson cidrs "$(dl_node_cidrs "$node" | jq -R . | jq -s .)" \
			--argjson ips "$(dl_node_ips "$node" | jq -R . | jq -s .)" '{
			apiVersion: "v1", kind: "Node",
			metadata: {name: $name, annotations: {($ann): $key},
				labels: {"kubernetes.io/hostname": $name}},
			spec: {podCIDR: $cidrs[0], podCIDRs: $cidrs},
			status: {addresses: ([$ips[] | {type: "InternalIP", address: .}]
				+ [{type: "Hostname", address: $name}])}
		}')")
	done
	printf '%s\n' "${items[@]}" | jq -s '{apiVersion: "v1", kind: "List", items: .}'
}

# dl_mesh_up NODE [NODELIST_FILE]: brings the node's mesh to what the
# NodeList says (default: every node of the cluster).
dl_mesh_up() {
	local node=$1 list=${2:-}
	if [[ -z "$list" ]]; then
		list=$DL_STATE/nodes.json
		(dl_nodelist) >"$list" || return 1
	fi
	dl_q "$CNI_TEST" node exec "$DL_NAME" "$node" -- "$VN_MESH" up --node "$node" \
		-f "$list" --key-file "$DL_STATE/keys/$node.key" \
		--ifname "$(dl_wg_ifname "$node")" --port "$DL_WG_PORT" --cluster-cidr "$DL_CLUSTER_CIDRS"
}

# dl_mesh_down NODE [--purge]: the device, routes and wireguard-go go; the
# strict-mode table stays (no plaintext to remote pods) unless --purge.
dl_mesh_down() {
	local node=$1
	shift
	dl_q "$CNI_TEST" node exec "$DL_NAME" "$node" -- "$VN_MESH" down \
		--ifname "$(dl_wg_ifname "$node")" "$@"
}

dl_mesh_up_all() {
	local node
	(dl_nodelist) >"$DL_STATE/nodes.json" || return 1
	for node in $(dl_nodes); do
		dl_mesh_up "$node" "$DL_STATE/nodes.json" || return 1
	done
}

# dl_pod_add NODE NS/POD [LABELS]: adds the pod and starts its servers.
dl_pod_add() {
	local node=$1 pod=$2 labels=${3:-} out args=()
	[[ -n "$labels" ]] && args=(--labels "$labels")
	out=$("$CNI_TEST" pod add "$DL_NAME" "$node" "$pod" "${args[@]}" 2>&1) || {
		printf 'pod add %s on %s failed: %s\n' "$pod" "$node" "$out" >&2
		return 1
	}
	echo "$out" >>"$DL_LOG"
	# "NAMESPACE/POD NODE IPV4 IPV6"
	tail -n 1 <<<"$out" | awk '{print $1, $2, $3, $4}' >>"$DL_STATE/pods"
	dl_serve "$pod"
}

# dl_serve NS/POD: in the pod, vn-probe's server on DL_PORT (TCP accept,
# UDP echo) and a TCP echo server on DL_ECHO_PORT (busybox nc); their
# process groups recorded for dl_stop_server.
dl_serve() {
	local pod=$1 base i
	base=$DL_STATE/pids/${pod//\//_}
	setsid "$CNI_TEST" pod exec "$DL_NAME" "$pod" -- \
		"$VN_PROBE" server --ports "$DL_PORT" --protos tcp,udp --ready \
		</dev/null >"$base.ready" 2>>"$DL_LOG" &
	echo $! >"$base.server"
	setsid "$CNI_TEST" pod exec "$DL_NAME" "$pod" -- \
		busybox nc -ll -p "$DL_ECHO_PORT" -e /bin/cat </dev/null >/dev/null 2>&1 &
	echo $! >"$base.echo"
	for ((i = 0; i < 200; i++)); do
		if grep -q ready "$base.ready" 2>/dev/null &&
			"$CNI_TEST" pod exec "$DL_NAME" "$pod" -- ss -Htln "sport = :$DL_ECHO_PORT" 2>/dev/null |
			grep -q LISTEN; then
			return 0
		fi
		sleep 0.025
	done
	echo "servers in $pod did not start" >&2
	return 1
}

dl_stop_server() {
	local base=$DL_STATE/pids/${1//\//_} f
	for f in "$base.server" "$base.echo"; do
		[[ -s "$f" ]] && kill -- "-$(cat "$f")" 2>/dev/null
		rm -f "$f"
	done
	rm -f "$base.ready"
}

dl_pod_del() {
	local pod=$1
	dl_stop_server "$pod"
	dl_q "$CNI_TEST" pod del "$DL_NAME" "$pod" || return 1
	sed -i "\|^$pod |d" "$DL_STATE/pods"
}

# dl_pod_ip NS/POD [-6]
dl_pod_ip() {
	local col=3
	[[ "${2:-}" == -6 ]] && col=4
	awk -v p="$1" -v c="$col" '$1 == p {print $c}' "$DL_STATE/pods"
}

dl_pod_node() { awk -v p="$1" '$1 == p {print $2}' "$DL_STATE/pods"; }

dl_pods() { awk '{print $1}' "$DL_STATE/pods"; }

# dl_target TO [PORT] [PROTO]: vn-probe's target for a pod or an address.
dl_target() {
	local ip=$1
	[[ "$1" == */* ]] && ip=$(dl_pod_ip "$1")
	[[ "$ip" == *:* ]] && ip="[$ip]"
	echo "${3:-tcp}:$ip:${2:-$DL_PORT}"
}

# dl_probe FROM TO [PORT] [SECONDS]: opens a TCP connection from the pod FROM
# to TO (a pod or an address); 0 if it was accepted within SECONDS (default 1).
dl_probe() {
	local from=$1 to=$2 port=${3:-$DL_PORT} secs=${4:-1}
	"$CNI_TEST" pod exec "$DL_NAME" "$from" -- "$VN_PROBE" client \
		--timeout "$((secs * 1000))" "$(dl_target "$to" "$port")" >/dev/null 2>&1
}

# dl_send FROM TO TEXT: sends TEXT over TCP to the pod TO's echo server and
# prints what came back.
dl_send() {
	local from=$1 to=$2 text=$3 ip
	ip=$(dl_pod_ip "$to")
	"$CNI_TEST" pod exec "$DL_NAME" "$from" -- timeout 3 bash -c \
		'exec 3<>"/dev/tcp/$1/$2" && printf "%s\n" "$3" >&3 && IFS= read -r -t 2 line <&3 && printf "%s\n" "$line"' \
		_ "$ip" "$DL_ECHO_PORT" "$text"
}

# dl_policy_input POLICIES...: one Kubernetes List of the cluster's pods and
# namespaces (cni-test pod list --json) and the given NetworkPolicy files
# (each a List or a single object).
dl_policy_input() {
	{
		"$CNI_TEST" pod list "$DL_NAME" --json
		local f
		for f in "$@"; do cat "$f"; done
	} | jq -s '{apiVersion: "v1", kind: "List",
		items: [.[] | if .kind == "List" then .items[] else . end]}'
}

# dl_policy_apply POLICIES...: applies on every node (enforcement for the
# node's own pods, --node), inside the node's netns.
dl_policy_apply() {
	local node input=$DL_STATE/policy-input.json
	(dl_policy_input "$@") >"$input" || return 1
	for node in $(dl_nodes); do
		dl_q "$CNI_TEST" node exec "$DL_NAME" "$node" -- "$VN_POLICY" apply --node "$node" -f "$input" ||
			return 1
	done
}

# dl_matrix_measure PODS...: probes every ordered pair at once (one vn-probe
# client per source pod, all destinations concurrently, 1 s each); prints
# one line per source pod: the pod then '.' (accepted) or 'X' (not) per
# destination, in the order given; '-' for the pod itself.
dl_matrix_measure() {
	local pods=("$@") i targets=() dir
	dir=$(mktemp -d "$DL_STATE/matrix.XXXXXX")
	for ((i = 0; i < ${#pods[@]}; i++)); do targets+=("$(dl_target "${pods[i]}")"); done
	local jobs=()
	for ((i = 0; i < ${#pods[@]}; i++)); do
		"$CNI_TEST" pod exec "$DL_NAME" "${pods[i]}" -- "$VN_PROBE" client --timeout 1000 \
			"${targets[@]}" >"$dir/$i" 2>>"$DL_LOG" &
		jobs+=($!)
	done
	wait "${jobs[@]}"  # not a bare wait: the pods' servers are our children too
	for ((i = 0; i < ${#pods[@]}; i++)); do
		printf '%s' "${pods[i]}"
		awk -v self=$((i + 1)) '{printf " %s", (NR == self) ? "-" : ($2 == "ok") ? "." : "X"}' "$dir/$i"
		printf '\n'
	done
	rm -rf "$dir"
}

# dl_matrix_predict INPUT PODS...: the same table, as veilnet-policy explain
# --matrix predicts it from the Kubernetes objects in INPUT.
dl_matrix_predict() {
	local input=$1 out
	shift
	out=$("$VN_POLICY" explain --matrix --port "$DL_PORT/TCP" --pods "$(IFS=,; echo "$*")" -f "$input") ||
		return 1
	tail -n +2 <<<"$out" # without the header line
}

# dl_destroy: servers, mesh, cluster and state, whatever is left of them.
dl_destroy() {
	local pidf node
	[[ -n "${DL_STATE:-}" && -d "$DL_STATE" ]] || { "$CNI_TEST" cluster destroy "$DL_NAME" >/dev/null 2>&1; return 0; }
	for pidf in "$DL_STATE"/pids/*.server "$DL_STATE"/pids/*.echo; do
		[[ -s "$pidf" ]] && kill -- "-$(cat "$pidf")" 2>/dev/null
		rm -f "$pidf"
	done
	if [[ -s "$DL_STATE/nodes" ]]; then
		for node in $(dl_nodes); do
			ip netns list | grep -qw "$(dl_node_netns "$node")" &&
				"$CNI_TEST" node exec "$DL_NAME" "$node" -- "$VN_MESH" down \
					--ifname "$(dl_wg_ifname "$node")" --purge >/dev/null 2>&1
		done
	fi
	"$CNI_TEST" cluster destroy "$DL_NAME" >/dev/null 2>&1
	rm -rf "$DL_STATE"
	return 0
}

# dl_leftovers: anything of cluster DL_NAME still on the machine, one a line.
dl_leftovers() {
	ip netns list | awk '{print $1}' | grep "^$DL_NAME-" | sed 's/^/netns /'
	ip -o link show | awk -F': ' '{print $2}' | grep -E "^($DL_NAME|wg-$DL_NAME)" | sed 's/^/link /'
	local f
	for f in /var/run/wireguard/"wg-${DL_NAME}"[0-9]*; do
		[[ -e "$f" ]] && echo "wireguard socket $f"
	done
	pgrep -a wireguard-go 2>/dev/null | grep -E " wg-${DL_NAME}[0-9]+( |$)" | sed 's/^/process /'
	[[ -e /run/cni-test/$DL_NAME ]] && echo "dir /run/cni-test/$DL_NAME"
	[[ -e /run/veilnet-demo/$DL_NAME ]] && echo "dir /run/veilnet-demo/$DL_NAME"
	return 0
}
