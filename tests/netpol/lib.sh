# tests/netpol/lib.sh - helpers of the netpol-*.sh suites (source after
# tests/lib.sh). Everything they create starts with "vnn".

VNN_POLICY=$VN_BUILD/veilnet-policy
VNN_PROBE=$VN_BUILD/vnn-probe
VNN_PODGUARD=$VN_BUILD/vnn-podguard
VNN_NORM=$VN_ROOT/tests/netpol/nftnorm.awk

# vnn_require: skip the suite when it cannot run here.
vnn_require() {
	[[ $(id -u) -eq 0 ]] || t_skip "needs root (network namespaces, nftables)"
	local p
	for p in "$VNN_POLICY" "$VNN_PROBE" "$VNN_PODGUARD"; do
		[[ -x $p ]] || t_skip "$p is not built (make)"
	done
	command -v nft >/dev/null || t_skip "nft is not installed"
}

# vnn_netns NAME: a fresh network namespace, removed at exit.
vnn_netns() {
	ip netns del "$1" 2>/dev/null
	ip netns add "$1" || return 1
	t_cleanup "ip netns del $1"
	ip -n "$1" link set lo up
}

# vnn_node NAME: a node namespace that routes between its pods.
vnn_node() {
	vnn_netns "$1" || return 1
	ip netns exec "$1" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

# vnn_pod NODE PODNS HOSTIF IPV4 [IPV6]: a pod namespace behind a routed
# veth (host side HOSTIF in NODE), /32 and /128 addresses, default routes
# via 169.254.1.1 and fe80::1, the way the veilnet plugin wires pods.
vnn_pod() {
	local node=$1 pod=$2 hif=$3 ip4=$4 ip6=${5:-}
	vnn_netns "$pod" || return 1
	ip -n "$node" link add "$hif" type veth peer name eth0 netns "$pod" || return 1
	ip -n "$node" link set "$hif" up
	ip -n "$node" addr add 169.254.1.1/32 dev "$hif"
	ip -n "$node" route add "$ip4/32" dev "$hif"
	ip -n "$pod" link set eth0 up
	ip -n "$pod" addr add "$ip4/32" dev eth0
	ip -n "$pod" route add 169.254.1.1/32 dev eth0
	ip -n "$pod" route add default via 169.254.1.1 dev eth0
	if [[ -n $ip6 ]]; then
		ip -n "$node" addr add fe80::1/64 dev "$hif" nodad
		ip -n "$node" route add "$ip6/128" dev "$hif"
		ip -n "$pod" addr add "$ip6/128" dev eth0 nodad
		ip -n "$pod" route add default via fe80::1 dev eth0
	fi
}

# vnn_serve PODNS PORT...: vnn-probe servers in the pod, stopped at exit.
# Call it in the suite's shell (not in $(...) or t_check), or the cleanup
# is registered in a subshell and lost.
vnn_serve() {
	local pod=$1 ready i
	shift
	ready=$(mktemp -u "/tmp/vnn-ready.XXXXXX")
	ip netns exec "$pod" "$VNN_PROBE" serve --ready "$ready" "$@" >/dev/null 2>&1 &
	t_cleanup "kill $! 2>/dev/null; rm -f $ready"
	for ((i = 0; i < 200; i++)); do
		[[ -e $ready ]] && return 0
		sleep 0.02
	done
	return 1
}

# vnn_tcp / vnn_udp FROMNS ADDR PORT: one connection attempt (0 = made).
vnn_tcp() { ip netns exec "$1" "$VNN_PROBE" tcp "$2" "$3" "${VNN_TIMEOUT:-400}"; }
vnn_udp() { ip netns exec "$1" "$VNN_PROBE" udp "$2" "$3" "${VNN_TIMEOUT:-400}"; }

# vnn_norm [-v zero=1]: canonical listing on stdin -> stdout.
vnn_norm() { awk "$@" -f "$VNN_NORM"; }

# vnn_same_table NETNS DRYRUN_FILE [sort]: the table in NETNS equals the
# dry-run (whitespace and element order aside; member order too with sort).
vnn_same_table() {
	local ns=$1 dry=$2 how=${3:-} a b
	a=$(ip netns exec "$ns" nft list table inet veilnet | vnn_norm -v zero=1)
	b=$(vnn_norm -v zero=1 <"$dry")
	if [[ $how == sort ]]; then
		a=$(sort <<<"$a")
		b=$(sort <<<"$b")
	fi
	if [[ "$a" != "$b" ]]; then
		diff <(echo "$b") <(echo "$a") | head -20 >&2
		return 1
	fi
}
