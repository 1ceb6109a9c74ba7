#!/usr/bin/env bash
# veilnet CNI plugin: GC removes the reservations, host veths and routes of
# attachments not in cni.dev/valid-attachments (or cni.dev/attachments),
# plus leftovers (retired links, stale links, temp files), and keeps valid
# attachments and other networks' interfaces.
S=gc
source "$(dirname "$0")/plugin-common.bash"

node_setup || { t_fail "node setup"; t_done; }
write_conf "$CONF"
T=/run/vnp-$S
for i in 1 2 3 4; do
	ns=$(pod_ns p$i)
	cni ADD c$i "$ns" eth0 "$CONF" "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p$i" >"$T/r$i.json" || t_fail "ADD c$i"
done
ip4() { jq -r '.ips[0].address' "$T/r$1.json" | cut -d/ -f1; }

# leftovers a crash could leave
ln -s vn00000000000ff.json "$DATA/ip-10.200.0.250"
echo '{}' >"$DATA/$(host_if c3).json.tmp.4242"
TOMB=$(host_if ctomb)	# what DEL leaves for its child to delete: down, tomb group
ip -n "$NODE" link add "$TOMB" type veth peer name vnp-gc-t1
ip -n "$NODE" link set "$TOMB" alias veilnet:vnp-net group 0x766e7462
ip -n "$NODE" link add vn0000000000abc type veth peer name vnp-gc-t2
ip -n "$NODE" link set vn0000000000abc alias veilnet:other-net
ip -n "$NODE" link add vn0000000000abd type veth peer name vnp-gc-t3

gc_conf() {	# gc_conf KEY CID... : the config with a list of valid attachments
	local key=$1
	shift
	jq --arg k "$key" '. + {($k): [$ARGS.positional[] | {containerID: ., ifname: "eth0"}]}' \
		"$CONF" --args "$@" >"$T/gc.json"
}

jq 'del(.dns)' "$CONF" >"$T/nolist.json"
out=$(cni GC "" "" "" "$T/nolist.json")
t_check "GC without a list of valid attachments is refused (code 7)" test "$(jq .code <<<"$out")" = 7
t_check "... and removes nothing" test "$(ls "$DATA" | grep -c 'json$')" = 4

gc_conf cni.dev/valid-attachments c1 c2
t_check "GC succeeds" cni GC "" "" "" "$T/gc.json"
for i in 3 4; do
	h=$(host_if c$i)
	t_check "GC removed c$i's host veth" bash -c "! ip -n $NODE link show $h"
	t_check "GC removed c$i's record and reservation" bash -c "[ ! -e $DATA/$h.json ] && [ ! -e $DATA/ip-$(ip4 $i) ]"
	t_check "GC removed c$i's host route" test -z "$(ip -n "$NODE" route show "$(ip4 $i)")"
	t_check "c$i's pod interface went with it" wait_until bash -c "! ip -n vnp-$S-p$i link show eth0"
done
for i in 1 2; do
	h=$(host_if c$i)
	t_check "GC kept c$i: link, route, record, reservation" bash -c \
		"ip -n $NODE link show $h && ip -n $NODE route show $(ip4 $i) | grep -q $h && [ -e $DATA/$h.json ] && [ $DATA/ip-$(ip4 $i) -ef $DATA/$h.json ]"
done
t_check "c1 still pings c2" ip netns exec vnp-$S-p1 ping -c1 -W2 "$(ip4 2)"
t_check "GC removed a retired (tomb) link of this network" bash -c "! ip -n $NODE link show $TOMB"
t_check "GC kept another network's veth" ip -n "$NODE" link show vn0000000000abc
t_check "GC kept a veth without our alias" ip -n "$NODE" link show vn0000000000abd
t_check "GC removed a dangling reservation link" test ! -L "$DATA/ip-10.200.0.250"
t_check "GC removed a leftover temp file" test ! -e "$DATA/$(host_if c3).json.tmp.4242"

gc_conf cni.dev/attachments c1
t_check "GC reads cni.dev/attachments too" cni GC "" "" "" "$T/gc.json"
t_check "... and removed c2" bash -c "! ip -n $NODE link show $(host_if c2) && [ ! -e $DATA/$(host_if c2).json ]"
t_check "... and kept c1" bash -c "ip -n $NODE link show $(host_if c1) && [ -e $DATA/$(host_if c1).json ]"

gc_conf cni.dev/valid-attachments
t_check "GC with an empty list" cni GC "" "" "" "$T/gc.json"
t_check "... removes everything of this network" bash -c "! ip -n $NODE link show $(host_if c1)"
t_check "... store is empty" store_clean
t_check "DEL after GC still succeeds" cni DEL c1 /run/netns/vnp-$S-p1 eth0 "$CONF"
t_done
