#!/usr/bin/env bash
# veilnet node agent: what the DaemonSet (deploy/daemonset.yaml) runs.
#
#   node-agent.sh install   initContainer: CNI binary into /opt/cni/bin and
#                           this node's conflist into /etc/cni/net.d, both
#                           atomically (temp file in the target dir + rename)
#   node-agent.sh run       main container: key, key annotation, then keeps
#                           mesh and policies in step with the API forever
#   node-agent.sh health    liveness: both reconcilers are running
#
# Environment (defaults in brackets):
#   NODE_NAME               this node (downward API spec.nodeName) [required]
#   VEILNET_BIN_DIR         where the image keeps the programs [/opt/veilnet/bin]
#   VEILNET_CNI_BIN_DIR     host /opt/cni/bin as mounted [/host/opt/cni/bin]
#   VEILNET_CNI_CONF_DIR    host /etc/cni/net.d as mounted [/host/etc/cni/net.d]
#   VEILNET_CONFLIST_NAME   [10-veilnet.conflist]
#   VEILNET_MTU             pod MTU; empty = the plugin derives it [""]
#   VEILNET_KEY_FILE        private key, mode 0600 [/var/lib/veilnet/wireguard.key]
#   VEILNET_WG_IFNAME       [veilnet0]    VEILNET_WG_PORT [51820]
#   VEILNET_CLUSTER_CIDRS   the cluster's whole pod network, v4 and/or v6,
#                           comma or space separated, e.g. "10.244.0.0/16,
#                           fd00:10:244::/48" (kube-controller-manager's
#                           --cluster-cidr): strict mode drops pod traffic to
#                           it that would not go through WireGuard. Empty:
#                           only the pod CIDRs of nodes seen (and of nodes
#                           that left) are guarded [""]
#   VEILNET_RUN_DIR         pid files for `health` [/run/veilnet-agent]
#   VEILNET_PODCIDR_WAIT    seconds to wait for spec.podCIDRs [120]
#   VEILNET_MESH_ARGS       more options for veilnet-mesh watch [""]
#   VEILNET_POLICY_ARGS     more options for veilnet-policy watch, e.g.
#                           "--log-drops 5" [""]
#   KUBECTL                 [kubectl]; in a pod it uses the service account
#
# The agent never removes the mesh or the policies when it stops: pods keep
# their connectivity and their isolation while it restarts, and strict mode
# keeps cross-node pod traffic from leaving unencrypted meanwhile.
set -euo pipefail

BIN=${VEILNET_BIN_DIR:-/opt/veilnet/bin}
CNI_BIN_DIR=${VEILNET_CNI_BIN_DIR:-/host/opt/cni/bin}
CNI_CONF_DIR=${VEILNET_CNI_CONF_DIR:-/host/etc/cni/net.d}
CONFLIST_NAME=${VEILNET_CONFLIST_NAME:-10-veilnet.conflist}
KEY_FILE=${VEILNET_KEY_FILE:-/var/lib/veilnet/wireguard.key}
WG_IFNAME=${VEILNET_WG_IFNAME:-veilnet0}
WG_PORT=${VEILNET_WG_PORT:-51820}
RUN_DIR=${VEILNET_RUN_DIR:-/run/veilnet-agent}
KUBECTL=${KUBECTL:-kubectl}

log() { printf '%s veilnet-agent: %s\n' "$(date -u +%FT%TZ)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_node() { [[ -n "${NODE_NAME:-}" ]] || die "NODE_NAME is not set (downward API spec.nodeName)"; }

# install_file SRC DIR NAME MODE: copy SRC to DIR/NAME through a temp file in
# DIR, so that whoever reads DIR/NAME sees the old file or the new one, whole.
install_file() {
	local src=$1 dir=$2 name=$3 mode=$4 tmp
	tmp=$(mktemp "$dir/.$name.XXXXXX")
	if ! cat "$src" >"$tmp" || ! chmod "$mode" "$tmp"; then
		rm -f "$tmp"
		die "cannot write $tmp"
	fi
	sync "$tmp" 2>/dev/null || true
	if ! mv -f "$tmp" "$dir/$name"; then
		rm -f "$tmp"
		die "cannot rename $tmp to $dir/$name"
	fi
}

# node_pod_cidrs: prints this node's pod CIDRs, one a line; waits (bounded)
# for the controller manager to assign them.
node_pod_cidrs() {
	local waited=0 wait=${VEILNET_PODCIDR_WAIT:-120} cidrs
	while :; do
		cidrs=$("$KUBECTL" get node "$NODE_NAME" \
			-o jsonpath='{range .spec.podCIDRs[*]}{@}{"\n"}{end}' 2>/dev/null || true)
		if [[ -z "$cidrs" ]]; then
			cidrs=$("$KUBECTL" get node "$NODE_NAME" -o jsonpath='{.spec.podCIDR}' 2>/dev/null || true)
		fi
		if [[ -n "$cidrs" ]]; then
			printf '%s\n' "$cidrs"
			return 0
		fi
		((waited < wait)) || die "node $NODE_NAME has no spec.podCIDRs after ${wait}s (is --allocate-node-cidrs on?)"
		sleep 2
		waited=$((waited + 2))
	done
}

# plugin_supports PLUGIN VERSION: the CNI plugin lists VERSION in its VERSION
# answer (cheap: no config, no netns).
plugin_supports() {
	CNI_COMMAND=VERSION timeout 5 "$1" </dev/null 2>/dev/null |
		grep -q "\"supportedVersions\":.*\"$2\""
}

# render_conflist CIDR...: the conflist for this node on stdout. Each CIDR
# becomes one range set (one per address family). portmap (hostPort) is
# chained only when the node has it (a missing plugin would fail every ADD),
# and then the conflist speaks the newest CNI version both plugins support:
# 1.1.0, or 1.0.0 with an older portmap (e.g. containernetworking-plugins
# before 1.5); a portmap that answers neither is left out.
render_conflist() {
	local cidr ranges="" sep="" mtu="" portmap="" version=1.1.0
	for cidr in "$@"; do
		[[ "$cidr" =~ ^[0-9a-fA-F:.]+/[0-9]{1,3}$ ]] || die "bad pod CIDR '$cidr' on node $NODE_NAME"
		ranges+="$sep          [{ \"subnet\": \"$cidr\" }]"
		sep=$',\n'
	done
	[[ -n "$ranges" ]] || die "no pod CIDR for node $NODE_NAME"
	if [[ -n "${VEILNET_MTU:-}" ]]; then
		[[ "$VEILNET_MTU" =~ ^[0-9]+$ ]] || die "VEILNET_MTU must be a number"
		mtu=$'\n      "mtu": '"$VEILNET_MTU",
	fi
	if [[ -x "$CNI_BIN_DIR/portmap" ]]; then
		if plugin_supports "$CNI_BIN_DIR/portmap" 1.1.0; then
			portmap=yes
		elif plugin_supports "$CNI_BIN_DIR/portmap" 1.0.0; then
			portmap=yes version=1.0.0
		else
			log "warning: $CNI_BIN_DIR/portmap speaks neither CNI 1.1.0 nor 1.0.0; not chained (no hostPort)"
		fi
	fi
	[[ -n "$portmap" ]] &&
		portmap=$',\n    {\n      "type": "portmap",\n      "capabilities": { "portMappings": true }\n    }'
	cat <<EOF
{
  "cniVersion": "$version",
  "name": "veilnet",
  "plugins": [
    {
      "type": "veilnet",$mtu
      "ipam": {
        "type": "veilnet",
        "ranges": [
$ranges
        ]
      }
    }$portmap
  ]
}
EOF
}

cmd_install() {
	local tmp cidrs=()
	need_node
	[[ -x "$BIN/veilnet" ]] || die "$BIN/veilnet is missing from the image"
	mkdir -p "$CNI_BIN_DIR" "$CNI_CONF_DIR"
	install_file "$BIN/veilnet" "$CNI_BIN_DIR" veilnet 0755
	log "installed $CNI_BIN_DIR/veilnet"
	mapfile -t cidrs < <(node_pod_cidrs)
	tmp=$(mktemp)
	render_conflist "${cidrs[@]}" >"$tmp"
	install_file "$tmp" "$CNI_CONF_DIR" "$CONFLIST_NAME" 0644
	rm -f "$tmp"
	log "wrote $CNI_CONF_DIR/$CONFLIST_NAME for pod CIDRs ${cidrs[*]}"
}

# ensure_key: creates the node's key once (kept across restarts); prints
# the public key. The private key is never printed.
ensure_key() {
	mkdir -p "$(dirname "$KEY_FILE")"
	chmod 0700 "$(dirname "$KEY_FILE")"
	"$BIN/veilnet-mesh" init --key-file "$KEY_FILE" || die "cannot create or read the key $KEY_FILE"
}

# publish_key: the JSON merge patch veilnet-mesh prints for this node's key
# (and port, when not the default), applied to the Node.
publish_key() {
	local patch
	patch=$("$BIN/veilnet-mesh" publish --node "$NODE_NAME" --key-file "$KEY_FILE" --port "$WG_PORT" |
		grep '^{' | tail -n 1)
	[[ -n "$patch" ]] || die "veilnet-mesh publish printed no patch"
	"$KUBECTL" patch node "$NODE_NAME" --type merge -p "$patch" >/dev/null ||
		die "cannot publish the key annotation on node $NODE_NAME"
	log "published the WireGuard public key $1 on node $NODE_NAME"
}

# watch_stream RESOURCE [-A]: one JSON event a line, as long as the watch lasts.
# Events keep their type (ADDED/MODIFIED/DELETED) so deletions are seen.
watch_stream() {
	"$KUBECTL" get "$@" --watch --output-watch-events -o json --request-timeout=0 |
		jq -c --unbuffered .
}

# merged STREAM...: several watches into one stdout, an event never split:
# each line is written under one lock shared by the writers.
policy_streams() {
	local lock
	lock=$(mktemp "$RUN_DIR/policy-lock.XXXXXX")
	{
		for r in namespaces pods networkpolicies; do
			local extra=()
			[[ $r == namespaces ]] || extra=(-A)
			watch_stream "$r" "${extra[@]}" | while IFS= read -r line; do
				flock 9
				printf '%s\n' "$line"
				flock -u 9
			done &
		done
		wait
	} 9>"$lock"
}

mesh_stream() { watch_stream nodes; }

# cluster_cidr_args: "--cluster-cidr CIDR" for each of VEILNET_CLUSTER_CIDRS,
# one word a line.
cluster_cidr_args() {
	local cidr list=()
	IFS=', ' read -r -a list <<<"${VEILNET_CLUSTER_CIDRS:-}"
	for cidr in "${list[@]}"; do
		[[ -n "$cidr" ]] || continue
		[[ "$cidr" =~ ^[0-9a-fA-F:.]+/[0-9]{1,3}$ ]] || die "bad CIDR '$cidr' in VEILNET_CLUSTER_CIDRS"
		printf -- '--cluster-cidr\n%s\n' "$cidr"
	done
}

run_mesh() {
	local cluster=()
	mapfile -t cluster < <(cluster_cidr_args)
	# shellcheck disable=SC2086 # word splitting of the extra options is meant
	mesh_stream | "$BIN/veilnet-mesh" watch --node "$NODE_NAME" --key-file "$KEY_FILE" \
		--ifname "$WG_IFNAME" --port "$WG_PORT" "${cluster[@]}" ${VEILNET_MESH_ARGS:-}
}

run_policy() {
	# shellcheck disable=SC2086
	policy_streams | "$BIN/veilnet-policy" watch --node "$NODE_NAME" ${VEILNET_POLICY_ARGS:-}
}

# supervise NAME FUNC: runs FUNC again whenever it ends (a watch times out,
# the API server restarts), backing off 1 s doubling to 30 s; a run that
# lasted more than 60 s resets the backoff.
supervise() {
	local name=$1 fn=$2 delay=1 start rc
	while :; do
		start=$SECONDS
		set +e
		"$fn"
		rc=$?
		set -e
		((SECONDS - start > 60)) && delay=1
		log "$name reconciler ended (status $rc), restarting in ${delay}s"
		sleep "$delay"
		delay=$((delay * 2 > 30 ? 30 : delay * 2))
	done
}

cmd_run() {
	local pub
	need_node
	mkdir -p "$RUN_DIR"
	cluster_cidr_args >/dev/null # a bad CIDR stops the agent here, not in a restart loop
	[[ -n "$(cluster_cidr_args)" ]] ||
		log "warning: VEILNET_CLUSTER_CIDRS is not set: strict mode guards only the pod CIDRs of nodes it has seen (and remembers those of nodes that left); set it to the cluster's pod network"
	# Each reconciler in its own process group, so that stopping it stops
	# its kubectl and jq too.
	set -m
	pub=$(ensure_key)
	publish_key "$pub"
	supervise mesh run_mesh &
	echo $! >"$RUN_DIR/mesh.pid"
	supervise policy run_policy &
	echo $! >"$RUN_DIR/policy.pid"
	# Stopped only once both reconcilers are gone (health tells the truth).
	trap 'log "stopping"; kill -- "-$(cat "$RUN_DIR/mesh.pid")" "-$(cat "$RUN_DIR/policy.pid")" 2>/dev/null; wait; exit 0' TERM INT
	log "running on node $NODE_NAME (wg $WG_IFNAME port $WG_PORT)"
	wait
}

cmd_health() {
	local f
	for f in mesh policy; do
		[[ -s "$RUN_DIR/$f.pid" ]] && kill -0 "$(cat "$RUN_DIR/$f.pid")" 2>/dev/null ||
			die "$f reconciler is not running"
	done
}

case ${1:-} in
install) cmd_install ;;
run) cmd_run ;;
health) cmd_health ;;
render-conflist) shift; NODE_NAME=${NODE_NAME:-local}; render_conflist "$@" ;;
*)
	echo "usage: $0 install|run|health|render-conflist CIDR..." >&2
	exit 2
	;;
esac
