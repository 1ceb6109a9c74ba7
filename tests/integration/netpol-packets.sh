#!/usr/bin/env bash
# Real packets through table inet veilnet: three pods in their own network
# namespaces behind routed veths in a node namespace (the way the plugin
# wires them), TCP and UDP over IPv4 and IPv6, allowed and denied exactly as
# explain predicts; return traffic by conntrack; the node always reaches its
# pods; counters count.
source "$(dirname "$0")/../lib.sh"
source "$VN_ROOT/tests/netpol/lib.sh"
vnn_require

P=vnn-pk$$
NODE=$P-node
FIX=$VN_ROOT/tests/netpol/fixtures
export VNN_TIMEOUT=300
vnn_node "$NODE"
vnn_pod "$NODE" "$P-xa" "vnnpk${$}a" 10.77.1.1 fd77::1:1
vnn_pod "$NODE" "$P-xb" "vnnpk${$}b" 10.77.1.2 fd77::1:2
vnn_pod "$NODE" "$P-yc" "vnnpk${$}c" 10.77.2.1 fd77::2:1
# (not under t_check: that runs in a subshell, which would lose the cleanup)
for pod in xa xb yc; do
	vnn_serve "$P-$pod" 80 81 8080 8081 53 && t_pass "servers in $pod" || t_fail "servers in $pod"
done

# Before any policy: everything connects (a broken setup is not a policy bug).
t_check "baseline y/c -> x/a tcp" vnn_tcp "$P-yc" 10.77.1.1 8081
t_check "baseline x/b -> y/c udp" vnn_udp "$P-xb" 10.77.2.1 80
t_check "baseline IPv6" vnn_tcp "$P-xb" fd77::1:1 80

# Every pod on this node: no --node.
t_check "apply" ip netns exec "$NODE" "$VNN_POLICY" apply -f "$FIX/base.json"

t_check "y/c -> x/a tcp 80 (namespace and pod selector)" vnn_tcp "$P-yc" 10.77.1.1 80
t_check "y/c -> x/a tcp 8080 (named port http of x/a)" vnn_tcp "$P-yc" 10.77.1.1 8080
t_check_not "y/c -> x/a tcp 8081 (x/b's http, not x/a's)" vnn_tcp "$P-yc" 10.77.1.1 8081
t_check "y/c -> x/a udp 53 (named UDP port dns)" vnn_udp "$P-yc" 10.77.1.1 53
t_check_not "y/c -> x/a tcp 53 (dns is UDP)" vnn_tcp "$P-yc" 10.77.1.1 53
t_check "y/c -> x/a tcp 81 (ipBlock)" vnn_tcp "$P-yc" 10.77.1.1 81
t_check_not "x/b -> x/a tcp 80 (egress ok, ingress denies)" vnn_tcp "$P-xb" 10.77.1.1 80
t_check "x/b -> x/a tcp 81 (egress range, ingress ipBlock)" vnn_tcp "$P-xb" 10.77.1.1 81
t_check_not "x/b -> y/c tcp 80 (egress denies)" vnn_tcp "$P-xb" 10.77.2.1 80
t_check_not "x/b -> y/c udp 80 (egress denies)" vnn_udp "$P-xb" 10.77.2.1 80
t_check_not "y/c -> x/b tcp 80 (namespace default deny)" vnn_tcp "$P-yc" 10.77.1.2 80
# x/a's ingress allows nothing from y/c on y/c's ephemeral ports: the
# answers come back only as established traffic.
t_check "x/a -> y/c tcp 80 (and its replies, by conntrack)" vnn_tcp "$P-xa" 10.77.2.1 80
t_check "x/a -> y/c udp 80 (and its replies)" vnn_udp "$P-xa" 10.77.2.1 80
t_check "IPv6 y/c -> x/a tcp 80" vnn_tcp "$P-yc" fd77::1:1 80
t_check_not "IPv6 x/b -> x/a tcp 80" vnn_tcp "$P-xb" fd77::1:1 80
t_check_not "IPv6 x/b -> x/a tcp 81 (the ipBlock is IPv4 only)" vnn_tcp "$P-xb" fd77::1:1 81
t_check "the node reaches its isolated pods" vnn_tcp "$NODE" 10.77.1.2 8081
t_check "the node reaches them over IPv6" vnn_tcp "$NODE" fd77::1:2 8081

counter() { ip netns exec "$NODE" nft list counter inet veilnet "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
t_check "counter of the allowing rule counted" test "$(counter x/allow-web/ingress-0)" -gt 0
t_check "counter of the ipBlock rule counted" test "$(counter x/allow-web/ingress-1)" -gt 0

# The truth table explain prints is what the packets do.
pods=(x/a x/b y/c)
addr=([0]=10.77.1.1 [1]=10.77.1.2 [2]=10.77.2.1)
netns=([0]=$P-xa [1]=$P-xb [2]=$P-yc)
for probe in 80/tcp 81/tcp 53/udp 8081/tcp; do
	port=${probe%/*} proto=${probe#*/}
	table=$("$VNN_POLICY" explain --matrix --pods x/a,x/b,y/c --port "$probe" -f "$FIX/base.json")
	mismatch=
	for i in 0 1 2; do
		for j in 0 1 2; do
			((i == j)) && continue
			want=$(awk -v r=$((i + 2)) -v c=$((j + 2)) 'NR == r { print $c }' <<<"$table")
			if "vnn_$proto" "${netns[$i]}" "${addr[$j]}" "$port"; then got=.; else got=X; fi
			[[ $got == "$want" ]] || mismatch+=" ${pods[$i]}->${pods[$j]}(explain $want, packets $got)"
		done
	done
	if [[ -z $mismatch ]]; then t_pass "explain --matrix $probe matches the packets"; else
		t_fail "explain --matrix $probe matches the packets" "$mismatch"; fi
done

t_check "flush" ip netns exec "$NODE" "$VNN_POLICY" flush
t_check "after flush everything connects again" vnn_tcp "$P-xb" 10.77.2.1 80

t_done
