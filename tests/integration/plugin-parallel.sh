#!/usr/bin/env bash
# veilnet CNI plugin: 8 parallel workers add 200 pods (each its own netns);
# no address is handed out twice, every pod has its address in the kernel,
# and after parallel DELs nothing is left.
S=par
source "$(dirname "$0")/plugin-common.bash"

PODS=${VNP_PODS:-200}
WORKERS=8
node_setup || { t_fail "node setup"; t_done; }
write_conf "$CONF"
T=/run/vnp-$S
mkdir -p "$T/res"

for ((i = 0; i < PODS; i++)); do
	ip netns add "vnp-$S-p$i" || { t_fail "create netns $i"; t_done; }
done

# worker CMD W: runs CMD for pods W, W+8, ... inside the node netns.
worker() {
	local cmd=$1 w=$2
	ip netns exec "$NODE" bash -c '
		for ((i = '"$w"'; i < '"$PODS"'; i += '"$WORKERS"')); do
			env -i CNI_COMMAND='"$cmd"' CNI_CONTAINERID=par$i CNI_NETNS=/run/netns/vnp-'"$S"'-p$i \
				CNI_IFNAME=eth0 CNI_ARGS="K8S_POD_NAMESPACE=ns$((i % 5));K8S_POD_NAME=p$i" \
				'"$PLUGIN"' <'"$CONF"' >'"$T"'/res/'"$cmd"'-$i.json || echo "pod $i failed" >&2
		done'
}

start=$(date +%s%N)
for ((w = 0; w < WORKERS; w++)); do worker ADD $w & done
wait
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# $PODS ADDs with $WORKERS workers: $ms ms"

t_check "every ADD succeeded" test "$(jq -s 'map(select(.ips)) | length' "$T"/res/ADD-*.json)" = "$PODS"
t_check "$PODS distinct IPv4 addresses" \
	test "$(jq -r '.ips[0].address' "$T"/res/ADD-*.json | sort -u | wc -l)" = "$PODS"
t_check "$PODS distinct IPv6 addresses" \
	test "$(jq -r '.ips[1].address' "$T"/res/ADD-*.json | sort -u | wc -l)" = "$PODS"
t_check "$PODS host veths on the node" test "$(node_links | wc -l)" = "$PODS"
t_check "$PODS records and $((2 * PODS)) reservation links" \
	test "$(ls "$DATA" | grep -c 'json$') $(ls "$DATA" | grep -c '^ip-')" = "$PODS $((2 * PODS))"
t_check "$PODS host routes" test "$(ip -n "$NODE" route show | grep -c '^10\.200\.0\.')" = "$PODS"
each_pod_has_its_address() {
	local i a
	for ((i = 0; i < PODS; i++)); do
		a=$(jq -r '.ips[0].address' "$T/res/ADD-$i.json")
		ip -n "vnp-$S-p$i" -4 addr show dev eth0 to "$a" | grep -q inet || return 1
	done
}
t_check "every pod holds its own address in the kernel" each_pod_has_its_address
every_link_is_true() {
	local l
	for l in "$DATA"/ip-*; do
		grep -q "\"${l##*/ip-}\"" "$l" || return 1
	done
}
t_check "every reservation link is a record that lists it" every_link_is_true
t_check "a pod pings a far pod" ip netns exec "vnp-$S-p0" ping -c1 -W2 \
	"$(jq -r '.ips[0].address' "$T/res/ADD-$((PODS - 1)).json" | cut -d/ -f1)"

start=$(date +%s%N)
for ((w = 0; w < WORKERS; w++)); do worker DEL $w & done
wait
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# $PODS DELs with $WORKERS workers: $ms ms"
t_check "every DEL succeeded" test "$(cat "$T"/res/DEL-*.json | wc -c)" = 0
t_check "no record or reservation left" store_clean
t_check "no host route left" test -z "$(ip -n "$NODE" route show | grep '^10\.200\.0\.')"
# DEL retires a veth in one message (down, tomb group); the node's reaper
# deletes the tombs in batches, then leaves once idle.
only_tombs_left() {	# one snapshot: every vn link is down in group 0x766e7462
	local l
	while read -r l; do
		[[ -z $l ]] && continue
		[[ $l == *" group 1986950242 "* && $l != *[\<,]UP[,\>]* ]] || return 1
	done <<<"$(ip -n "$NODE" -o link show | grep ': vn')"
}
t_check "right after DEL every veth left is retired: down, in the tomb group" only_tombs_left
t_check "no host veth left" wait_until no_node_links
no_reaper() {
	! ip netns pids "$NODE" | xargs -r ps -o comm= -p | grep -q '^veilnet$'
}
t_check "the node's reaper leaves once idle" wait_until no_reaper
t_check "... and gives its name up" \
	bash -c "! ip netns exec $NODE ss -xa | grep -q @veilnet-reaper"
t_done
