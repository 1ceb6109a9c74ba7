# tests/mesh/lib.sh - sourced by the mesh suites (mesh-cluster.sh,
# mesh-audit.sh) after tests/lib.sh. The caller defines
#   node N CMD...   run CMD in node N's netns ($PREFIX-nN)
#   ifname N        node N's WireGuard interface name
# and sets MESH (build/veilnet-mesh) and T (its temp dir).

# mesh_purge_check PREFIX N...: runs `down --purge` on each node N, then
# checks that nothing of the mesh is left there: link, IPv4 and IPv6
# routes through it, the nft table, the UAPI socket, the pid file, the
# wireguard-go process. One check, "down --purge leaves nothing".
mesh_purge_check() {
	local prefix=$1 i w left=""
	shift
	for i in "$@"; do
		node "$i" "$MESH" down --purge --ifname "$(ifname "$i")" >"$T/down.out" 2>&1 ||
			t_fail "down --purge n$i" "$(cat "$T/down.out")"
	done
	for i in "$@"; do
		w=$(ifname "$i")
		ip -n "$prefix-n$i" link show "$w" >/dev/null 2>&1 && left+=" link:$w"
		ip -n "$prefix-n$i" route | grep -q "dev $w" && left+=" routes:$w"
		ip -n "$prefix-n$i" -6 route | grep -q "dev $w" && left+=" routes6:$w"
		node "$i" nft list table inet veilnet-mesh >/dev/null 2>&1 && left+=" table:n$i"
		[[ -e /var/run/wireguard/$w.sock ]] && left+=" socket:$w"
		[[ -e /run/veilnet/mesh-$w.pid ]] && left+=" pidfile:$w"
		pgrep -f "wireguard-go $w\$" >/dev/null && left+=" process:$w"
	done
	if [[ -z $left ]]; then
		t_pass "down --purge leaves nothing"
	else
		t_fail "down --purge leaves nothing" "$left"
	fi
}
