# plugin-common.bash - helpers shared by the tests/integration/plugin-*.sh
# suites (not a suite itself: run-suites only picks up *.sh).
#
# Each suite sets S (a short unique word) before sourcing this file. It
# gets a node netns "vnp-$S-node" wired by a veth to an underlay netns
# "vnp-$S-ul" (node 172.31.K.1/24 + fd31:K::1/64 with default routes via
# .2 / ::2), so the plugin runs exactly as on a node without touching the
# root namespace. Pods are netns "vnp-$S-<name>".

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PLUGIN=$VN_BUILD/veilnet
NODE=vnp-$S-node
UL=vnp-$S-ul
DATA=/run/vnp-$S/data
CONF=/run/vnp-$S/conf.json
K=$(( $(cksum <<<"$S" | cut -d' ' -f1) % 200 + 20 ))	# per-suite underlay subnet
NODE_IP4=172.31.$K.1
NODE_IP6=fd31:$K::1

[[ $(id -u) -eq 0 ]] || t_skip "needs root"
[[ -x $PLUGIN ]] || t_skip "build/veilnet not built"

vnp_cleanup() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^vnp-$S-"); do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "/run/vnp-$S"
}

# node_setup: the node and underlay namespaces.
node_setup() {
	vnp_cleanup
	t_cleanup vnp_cleanup
	mkdir -p "/run/vnp-$S"
	ip netns add "$NODE" && ip netns add "$UL" || return 1
	ip -n "$NODE" link set lo up
	ip -n "$UL" link set lo up
	ip -n "$NODE" link add eth0 type veth peer name up0 netns "$UL" || return 1
	ip -n "$NODE" addr add "$NODE_IP4/24" dev eth0
	ip -n "$NODE" addr add "$NODE_IP6/64" dev eth0 nodad
	ip -n "$UL" addr add "172.31.$K.2/24" dev up0
	ip -n "$UL" addr add "fd31:$K::2/64" dev up0 nodad
	ip -n "$NODE" link set eth0 up
	ip -n "$UL" link set up0 up
	ip -n "$NODE" route add default via "172.31.$K.2"
	ip -n "$NODE" -6 route add default via "fd31:$K::2"
}

# write_conf FILE [cniVersion] [extra jq filter]: a dual-stack veilnet config.
write_conf() {
	local file=$1 ver=${2:-1.1.0} filter=${3:-.}
	jq -n --arg v "$ver" --arg d "$DATA" '{
		cniVersion: $v, name: "vnp-net", type: "veilnet",
		ipam: {ranges: [[{subnet: "10.200.0.0/24"}], [{subnet: "fd00:200::/64"}]], dataDir: $d},
		dns: {nameservers: ["10.96.0.10"], search: ["svc.cluster.local"]}
	}' | jq "$filter" >"$file"
}

# pod_ns NAME: creates pod netns vnp-$S-NAME (lo up); prints its path.
pod_ns() {
	ip netns add "vnp-$S-$1" && ip -n "vnp-$S-$1" link set lo up
	echo "/run/netns/vnp-$S-$1"
}

# cni CMD CID NETNS IFNAME CONF [CNI_ARGS]: runs the plugin in the node
# netns like a runtime; stdout is the plugin's, exit status the plugin's.
cni() {
	local cmd=$1 cid=$2 netns=$3 ifname=$4 conf=$5 args=${6:-}
	ip netns exec "$NODE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		CNI_COMMAND="$cmd" CNI_CONTAINERID="$cid" CNI_NETNS="$netns" CNI_IFNAME="$ifname" \
		CNI_ARGS="$args" CNI_PATH="${CNI_PATH_DIRS:-/usr/lib/cni}" "$PLUGIN" <"$conf"
}

# with_prev CONF RESULT OUT: CONF with prevResult = RESULT.
with_prev() {
	jq --slurpfile r "$2" '. + {prevResult: $r[0]}' "$1" >"$3"
}

# host_if CID...: the deterministic host interface name of each CID/eth0
# (FNV-1a 64 of "CID/eth0", top 52 bits in hex), one per line. Bash
# arithmetic wraps at 64 bits like the C code.
host_if() {
	local cid s h c i
	for cid in "$@"; do
		s="$cid/eth0"
		h=$((0xcbf29ce484222325))
		for ((i = 0; i < ${#s}; i++)); do
			printf -v c '%d' "'${s:i:1}"
			h=$(( (h ^ c) * 0x100000001b3 ))
		done
		printf 'vn%013x\n' $(( (h >> 12) & 0xFFFFFFFFFFFFF ))
	done
}

# node_links: names of the node's vn* host interfaces (live and retired).
node_links() {
	ip -n "$NODE" -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^vn' || true
}

no_node_links() { [[ -z $(node_links) ]]; }

# store_clean: the data dir holds no record and no reservation link.
store_clean() {
	[[ -z $(ls "$DATA" 2>/dev/null | grep -E '^(ip-|vn)') ]]
}
