#!/usr/bin/env bash
# veilnet CNI plugin: ADD / CHECK / DEL round trip checked in the kernel,
# pings pod<->pod and pod<->node over IPv4 and IPv6, DEL idempotence, result
# shapes per cniVersion, chaining, requested addresses, error objects.
S=rt
source "$(dirname "$0")/plugin-common.bash"

node_setup || { t_fail "node setup"; t_done; }
write_conf "$CONF"
T=/run/vnp-$S

# --- VERSION
out=$(echo '{"cniVersion":"0.4.0"}' | CNI_COMMAND=VERSION "$PLUGIN")
t_check "VERSION lists 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0" \
	test "$(jq -c .supportedVersions <<<"$out")" = '["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]'
t_check "VERSION echoes the input cniVersion" test "$(jq -r .cniVersion <<<"$out")" = 0.4.0
t_check "VERSION needs nothing else" bash -c "CNI_COMMAND=VERSION $PLUGIN </dev/null | jq -e .supportedVersions"

all_clean() { no_node_links && store_clean; }

# --- ADD
NS1=$(pod_ns p1)
H1=$(host_if c1)
cni ADD c1 "$NS1" eth0 "$CONF" "K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web-1;IgnoreUnknown=1;FOO=x" >"$T/r1.json"
t_check "ADD succeeds" test $? -eq 0
IP4=$(jq -r '.ips[] | select(.address | contains(".")) | .address' "$T/r1.json")
IP6=$(jq -r '.ips[] | select(.address | contains(":")) | .address' "$T/r1.json")
t_check "result has a /32 from the range" grep -qE '^10\.200\.0\.[0-9]+/32$' <<<"$IP4"
t_check "result has a /128 from the range" grep -qE '^fd00:200::[0-9a-f:]+/128$' <<<"$IP6"
t_check "result interfaces: host $H1 then eth0 with sandbox" \
	test "$(jq -c '[.interfaces[] | [.name, .sandbox]]' "$T/r1.json")" = "[[\"$H1\",null],[\"eth0\",\"$NS1\"]]"
t_check "result ips point at the pod interface with gateways" \
	test "$(jq -c '[.ips[] | [.interface, .gateway]]' "$T/r1.json")" = '[[1,"169.254.1.1"],[1,"fe80::1"]]'
t_check "result routes are the defaults via link-local gateways" \
	test "$(jq -c '.routes' "$T/r1.json")" = '[{"dst":"0.0.0.0/0","gw":"169.254.1.1"},{"dst":"::/0","gw":"fe80::1"}]'
t_check "result carries dns from the config" test "$(jq -r '.dns.search[0]' "$T/r1.json")" = svc.cluster.local
t_check "result (1.1.0) has mtu 1420 = uplink 1500 - 80" test "$(jq '.interfaces[1].mtu' "$T/r1.json")" = 1420

# --- kernel state
t_check "pod has $IP4 on eth0" ip -n vnp-$S-p1 -4 addr show dev eth0 to "$IP4"
t_check "pod has $IP6 nodad on eth0" bash -c "ip -n vnp-$S-p1 -6 addr show dev eth0 | grep -q '${IP6}.*nodad'"
t_check "pod eth0 MAC is the result's" test "$(ip -n vnp-$S-p1 -j link show eth0 | jq -r '.[0].address')" = \
	"$(jq -r '.interfaces[1].mac' "$T/r1.json")"
t_check "pod eth0 mtu 1420" test "$(ip -n vnp-$S-p1 -j link show eth0 | jq '.[0].mtu')" = 1420
t_check "pod default route via 169.254.1.1 onlink" \
	bash -c "ip -n vnp-$S-p1 route show default | grep -q 'via 169.254.1.1 dev eth0.*onlink'"
t_check "pod default route via fe80::1" bash -c "ip -n vnp-$S-p1 -6 route show default | grep -q 'via fe80::1 dev eth0'"
t_check "pod has no tentative address" bash -c "! ip -n vnp-$S-p1 addr show dev eth0 | grep -q tentative"
t_check "host end has no tentative address" bash -c "! ip -n $NODE addr show dev $H1 | grep -q tentative"
t_check "host end $H1 exists, up, no IPv4 address" \
	bash -c "ip -n $NODE link show $H1 | grep -q ',UP' && [ -z \"\$(ip -n $NODE -4 addr show dev $H1)\" ]"
t_check "host end answers for fe80::1" bash -c "ip -n $NODE -6 addr show dev $H1 | grep -q 'fe80::1/64'"
t_check "host end has the network alias" bash -c "ip -n $NODE link show $H1 | grep -q 'alias veilnet:vnp-net'"
t_check "host /32 route to the pod" bash -c "ip -n $NODE route show ${IP4%/*} | grep -q 'dev $H1'"
t_check "host /128 route to the pod" bash -c "ip -n $NODE -6 route show ${IP6%/*} | grep -q 'dev $H1'"
sys() { ip netns exec "$1" cat "/proc/sys/net/$2"; }
t_check "host end proxy_arp=1" test "$(sys $NODE ipv4/conf/$H1/proxy_arp)" = 1
t_check "host end forwarding=1 (v4 and v6)" test "$(sys $NODE ipv4/conf/$H1/forwarding)$(sys $NODE ipv6/conf/$H1/forwarding)" = 11
t_check "accept_dad=0 on both ends" test "$(sys $NODE ipv6/conf/$H1/accept_dad)$(sys vnp-$S-p1 ipv6/conf/eth0/accept_dad)" = 00
t_check "node ip_forward and ipv6 forwarding are 1" \
	test "$(sys $NODE ipv4/ip_forward)$(sys $NODE ipv6/conf/all/forwarding)" = 11
t_check "reservation record names the pod" \
	test "$(jq -r '[.K8S_POD_NAMESPACE, .K8S_POD_NAME, .hostIfname] | join(" ")' "$DATA/$H1.json")" = "prod web-1 $H1"
t_check "reservation of $IP4 is a hard link of the record" test "$DATA/ip-${IP4%/*}" -ef "$DATA/$H1.json"
t_check "reservation of $IP6 too" test "$DATA/ip-${IP6%/*}" -ef "$DATA/$H1.json"

# --- CHECK
with_prev "$CONF" "$T/r1.json" "$T/c1.json"
t_check "CHECK right after ADD passes" cni CHECK c1 "$NS1" eth0 "$T/c1.json"
ip -n vnp-$S-p1 -6 addr del "$IP6" dev eth0
out=$(cni CHECK c1 "$NS1" eth0 "$T/c1.json")
t_check "CHECK fails when an address is gone" test $? -ne 0
t_check "CHECK names the missing address" grep -q "address $IP6 is missing" <<<"$(jq -r .details <<<"$out")"
ip -n vnp-$S-p1 -6 addr add "$IP6" dev eth0 nodad
ip -n vnp-$S-p1 -6 route replace default via fe80::1 dev eth0
ip -n $NODE link set "$H1" down
out=$(cni CHECK c1 "$NS1" eth0 "$T/c1.json")
t_check "CHECK reports the host end down and its lost routes" \
	bash -c "jq -r .details <<<'$out' | grep -q 'host interface $H1 is down' && jq -r .details <<<'$out' | grep -q 'host route'"
ip -n $NODE link set "$H1" up
ip -n $NODE route add "${IP4%/*}" dev "$H1" scope link
ip -n $NODE -6 route add "${IP6%/*}" dev "$H1"
t_check "CHECK passes again once repaired" cni CHECK c1 "$NS1" eth0 "$T/c1.json"
out=$(cni CHECK c1 "$NS1" eth0 "$CONF")
t_check "CHECK without prevResult: code 7" test "$(jq .code <<<"$out")" = 7

# --- second pod and traffic
NS2=$(pod_ns p2)
cni ADD c2 "$NS2" eth0 "$CONF" >"$T/r2.json"
t_check "second ADD succeeds" test $? -eq 0
P2_4=$(jq -r '.ips[0].address' "$T/r2.json"); P2_4=${P2_4%/*}
P2_6=$(jq -r '.ips[1].address' "$T/r2.json"); P2_6=${P2_6%/*}
t_check "round-robin: second pod gets the next address" \
	test "$(( ${P2_4##*.} ))" -eq "$(( $(cut -d/ -f1 <<<"${IP4##*.}") + 1 ))"
t_check "pod to pod ping IPv4" ip netns exec vnp-$S-p1 ping -c1 -W2 "$P2_4"
t_check "pod to pod ping IPv6" ip netns exec vnp-$S-p1 ping -6 -c1 -W2 "$P2_6"
t_check "pod to node ping IPv4" ip netns exec vnp-$S-p2 ping -c1 -W2 "$NODE_IP4"
t_check "pod to node ping IPv6" ip netns exec vnp-$S-p2 ping -6 -c1 -W2 "$NODE_IP6"
t_check "node to pod ping IPv4" ip netns exec $NODE ping -c1 -W2 "${IP4%/*}"
t_check "node to pod ping IPv6" ip netns exec $NODE ping -6 -c1 -W2 "${IP6%/*}"
t_check "pod reaches a large packet at mtu 1420" ip netns exec vnp-$S-p1 ping -c1 -W2 -M do -s 1392 "$P2_4"

# --- DEL
with_prev "$CONF" "$T/r2.json" "$T/c2.json"
t_check "DEL succeeds" cni DEL c2 "$NS2" eth0 "$T/c2.json"
H2=$(host_if c2)
retired() {	# the host link is gone, or down in the tomb group (0x766e7462)
	local l
	l=$(ip -n "$NODE" -o link show "$H2" 2>/dev/null)
	[[ -z $l ]] || [[ $l == *" group 1986950242 "* && $l != *[\<,]UP[,\>]* ]]
}
t_check "DEL retires the host link at once (down, tomb group)" retired
t_check "... and the node's reaper deletes it" wait_until bash -c "! ip -n $NODE link show $H2"
t_check "DEL removes the host route at once" bash -c "[ -z \"\$(ip -n $NODE route show $P2_4)\" ]"
t_check "DEL removes the record and links" bash -c "[ ! -e $DATA/$H2.json ] && [ ! -L $DATA/ip-$P2_4 ] && [ ! -L $DATA/ip-$P2_6 ]"
t_check "the pod interface goes away" wait_until bash -c "! ip -n vnp-$S-p2 link show eth0"
t_check "DEL twice succeeds" cni DEL c2 "$NS2" eth0 "$T/c2.json"
cni ADD c2 "$NS2" eth0 "$CONF" >/dev/null && cni DEL c2 "$NS2" eth0 "$CONF" >/dev/null
t_check "ADD again into the same netns right after DEL" cni ADD c2 "$NS2" eth0 "$CONF"
t_check "... and DEL it" cni DEL c2 "$NS2" eth0 "$CONF"
# Each ADD meets the veth its DEL just retired, which the node's reaper may
# be deleting at that very moment: every one must still succeed.
churn() {
	local i
	for ((i = 0; i < 60; i++)); do
		cni ADD c2 "$NS2" eth0 "$CONF" >/dev/null || { echo "ADD $i failed"; return 1; }
		cni DEL c2 "$NS2" eth0 "$CONF" >/dev/null || { echo "DEL $i failed"; return 1; }
	done
}
t_check "60 ADD/DEL cycles of one attachment, each ADD right after its DEL" churn
t_check "DEL with empty CNI_NETNS and no prevResult succeeds" cni DEL c2 "" eth0 "$CONF"
t_check "DEL of an unknown container succeeds" cni DEL never-added "$NS2" eth0 "$CONF"
ip netns del vnp-$S-p1
t_check "DEL after the netns is gone succeeds" cni DEL c1 "$NS1" eth0 "$T/c1.json"
t_check "... and releases everything" wait_until all_clean

# --- result shapes of older versions
for v in 0.3.0 0.3.1 0.4.0 1.0.0; do
	write_conf "$T/v.json" "$v"
	ns=$(pod_ns "v${v//./}")
	cni ADD "cv${v//./}" "$ns" eth0 "$T/v.json" >"$T/rv.json"
	if [[ $v == 1.0.0 ]]; then
		t_check "ADD $v: no ips version, no mtu" \
			bash -c "jq -e '(.ips | all(has(\"version\") | not)) and (.interfaces | all(has(\"mtu\") | not))' $T/rv.json"
	else
		t_check "ADD $v: ips carry version 4 and 6" test "$(jq -c '[.ips[].version]' "$T/rv.json")" = '["4","6"]'
	fi
	t_check "ADD $v: cniVersion echoed" test "$(jq -r .cniVersion "$T/rv.json")" = "$v"
	with_prev "$T/v.json" "$T/rv.json" "$T/cv.json"
	if [[ $v == 0.3.* ]]; then	# CHECK came with 0.4.0
		t_check "CHECK $v is refused: code 1" \
			test "$(cni CHECK "cv${v//./}" "$ns" eth0 "$T/cv.json" | jq .code)" = 1
	else
		t_check "CHECK $v passes" cni CHECK "cv${v//./}" "$ns" eth0 "$T/cv.json"
	fi
	t_check "DEL $v" cni DEL "cv${v//./}" "$ns" eth0 "$T/cv.json"
done

# --- requested addresses: CNI_ARGS IP= and runtimeConfig.ips
NS3=$(pod_ns p3)
out=$(cni ADD c3 "$NS3" eth0 "$CONF" "IP=10.200.0.77,fd00:200::77")
t_check "IP= in CNI_ARGS is honoured" test "$(jq -c '[.ips[].address]' <<<"$out")" = '["10.200.0.77/32","fd00:200::77/128"]'
NS4=$(pod_ns p4)
out=$(cni ADD c4 "$NS4" eth0 "$CONF" "IP=10.200.0.77")
t_check "a taken requested address fails" test "$(jq .code <<<"$out")" = 7
write_conf "$T/rc.json" 1.1.0 '. + {runtimeConfig: {ips: ["10.200.0.88/24"]}}'
out=$(cni ADD c4 "$NS4" eth0 "$T/rc.json")
t_check "runtimeConfig.ips is honoured" test "$(jq -r '.ips[0].address' <<<"$out")" = 10.200.0.88/32
cni DEL c3 "$NS3" eth0 "$CONF" >/dev/null
cni DEL c4 "$NS4" eth0 "$CONF" >/dev/null

# --- chained: veilnet after loopback, prevResult merged
NS5=$(pod_ns p5)
jq -n '{cniVersion: "1.0.0", name: "vnp-net", type: "loopback"}' >"$T/lo.json"
ip netns exec $NODE env -i CNI_COMMAND=ADD CNI_CONTAINERID=c5 CNI_NETNS="$NS5" CNI_IFNAME=lo CNI_PATH=/usr/lib/cni \
	/usr/lib/cni/loopback <"$T/lo.json" >"$T/lo-r.json"
write_conf "$T/v1.json" 1.0.0
with_prev "$T/v1.json" "$T/lo-r.json" "$T/chain.json"
cni ADD c5 "$NS5" eth0 "$T/chain.json" >"$T/r5.json"
t_check "chained ADD keeps the previous interface first" \
	test "$(jq -c '[.interfaces[].name]' "$T/r5.json")" = "[\"lo\",\"$(host_if c5)\",\"eth0\"]"
t_check "chained ADD keeps loopback's ips (index 0) and points ours at index 2" \
	test "$(jq -c '[.ips[].interface]' "$T/r5.json")" = '[0,0,2,2]'
with_prev "$T/v1.json" "$T/r5.json" "$T/chain-c.json"
t_check "CHECK with the merged prevResult passes" cni CHECK c5 "$NS5" eth0 "$T/chain-c.json"
t_check "DEL with the merged prevResult" cni DEL c5 "$NS5" eth0 "$T/chain-c.json"

# --- error objects
out=$(cni ADD "" "$NS5" "" "$CONF")
t_check "missing env: code 4 naming the variables" \
	bash -c "[ \"\$(jq .code <<<'$out')\" = 4 ] && jq -r .details <<<'$out' | grep -q CNI_CONTAINERID && jq -r .details <<<'$out' | grep -q CNI_IFNAME"
echo '{"cniVersion": "1.1.0", broken' >"$T/bad.json"
t_check "bad JSON: code 6" test "$(cni ADD c6 "$NS5" eth0 "$T/bad.json" | jq .code)" = 6
write_conf "$T/old.json" 0.2.0
t_check "unsupported cniVersion: code 1" test "$(cni ADD c6 "$NS5" eth0 "$T/old.json" | jq .code)" = 1
write_conf "$T/inv.json" 1.1.0 '.ipam.ranges[0][0].subnet = "10.0.0.0/40"'
out=$(cni ADD c6 "$NS5" eth0 "$T/inv.json")
t_check "invalid config: code 7 naming the field" \
	bash -c "[ \"\$(jq .code <<<'$out')\" = 7 ] && jq -r .details <<<'$out' | grep -q 'ipam.ranges\[0\]\[0\]'"
t_check "error objects carry cniVersion msg details" \
	bash -c "jq -e 'has(\"cniVersion\") and has(\"msg\") and has(\"details\")' <<<'$out'"
t_check "STATUS is ready" cni STATUS "" "" "" "$CONF"

# --- podguard: ADD puts a new pod's addresses in the newpod maps of its
# namespace before returning, DEL takes them out
ip netns exec "$NODE" nft -f - <<'NFT'
table inet veilnet {
	map newpod_in4 { type ipv4_addr : verdict; }
	map newpod_out4 { type ipv4_addr : verdict; }
	map newpod_in6 { type ipv6_addr : verdict; }
	map newpod_out6 { type ipv6_addr : verdict; }
	chain nsin-prod { }
	chain nsout-prod { }
}
NFT
NS9=$(pod_ns p9)
cni ADD c9 "$NS9" eth0 "$CONF" "K8S_POD_NAMESPACE=prod;K8S_POD_NAME=guarded" >"$T/r9.json"
G4=$(jq -r '.ips[0].address' "$T/r9.json"); G4=${G4%/*}
G6=$(jq -r '.ips[1].address' "$T/r9.json"); G6=${G6%/*}
t_check "podguard admitted the pod (IPv4 in and out)" bash -c \
	"ip netns exec $NODE nft list map inet veilnet newpod_in4 | grep -q '$G4 : jump nsin-prod' &&
	 ip netns exec $NODE nft list map inet veilnet newpod_out4 | grep -q '$G4 : jump nsout-prod'"
t_check "podguard admitted the pod (IPv6)" bash -c \
	"ip netns exec $NODE nft list map inet veilnet newpod_in6 | grep -q '$G6 : jump nsin-prod'"
cni DEL c9 "$NS9" eth0 "$CONF" >/dev/null
t_check "DEL made podguard forget the pod" bash -c \
	"! ip netns exec $NODE nft list table inet veilnet | grep -q -e '$G4 :' -e '$G6 :'"
# DEL with no record takes the addresses from prevResult: only those of
# its own pod interface (a chain's other interface keeps its entries)
ip netns exec "$NODE" nft add element inet veilnet newpod_in4 \
	'{ 10.99.1.1 : jump nsin-prod, 10.99.2.2 : jump nsin-prod }'
cat >"$T/prev-two.json" <<'JSON'
{"cniVersion": "1.1.0",
 "interfaces": [{"name": "vnhost"}, {"name": "eth0", "sandbox": "/run/netns/x"},
                {"name": "net1", "sandbox": "/run/netns/x"}],
 "ips": [{"address": "10.99.1.1/32", "interface": 1}, {"address": "10.99.2.2/32", "interface": 2}]}
JSON
with_prev "$CONF" "$T/prev-two.json" "$T/del-prev.json"
cni DEL c-norecord "" eth0 "$T/del-prev.json" "K8S_POD_NAMESPACE=prod" >/dev/null
t_check "DEL without a record forgets its own interface's address from prevResult" bash -c \
	"! ip netns exec $NODE nft list map inet veilnet newpod_in4 | grep -q '10.99.1.1 :'"
t_check "... and keeps the chain's other interface's" bash -c \
	"ip netns exec $NODE nft list map inet veilnet newpod_in4 | grep -q '10.99.2.2 :'"
ip netns exec "$NODE" nft delete table inet veilnet

# --- logFile / logLevel: the log gets the story, stdout only the result
write_conf "$T/log.json" 1.1.0 ". + {logFile: \"$T/veilnet.log\", logLevel: \"debug\"}"
NS7=$(pod_ns p7)
cni ADD c7 "$NS7" eth0 "$T/log.json" >"$T/r7.json"
t_check "with logging on, stdout is exactly one JSON result" jq -e -s 'length == 1 and (.[0].ips | length) == 2' "$T/r7.json"
t_check "the log file names the command and each step" \
	bash -c "grep -q 'INFO .* c7: ADD ifname=eth0' $T/veilnet.log && grep -q 'DEBUG .*step \"create veth\"' $T/veilnet.log"
cni DEL c7 "$NS7" eth0 "$T/log.json" >/dev/null
write_conf "$T/log2.json" 1.1.0 ". + {logFile: \"$T/veilnet.log\", logLevel: \"error\"}"
cni ADD c8 "$T/nope" eth0 "$T/log2.json" >/dev/null
t_check "a failure is logged at level error" grep -q "ERROR .* c8: ADD failed: code 3" "$T/veilnet.log"
t_check "level error hides debug lines" test "$(grep -c c8 "$T/veilnet.log")" = 1
t_check "nothing left behind" wait_until all_clean
t_done
