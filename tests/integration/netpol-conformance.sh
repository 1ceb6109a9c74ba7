#!/usr/bin/env bash
# netpol-conformance.sh - every NetworkPolicy conformance case
# (tests/conformance/cases, the upstream e2e model: namespaces x,y,z, pods
# a,b,c, real connections over TCP, UDP and SCTP) against veilnet-policy in
# a 2-node cluster of network namespaces wired by the veilnet plugin.
#
# First the runner proves it can see a mismatch both ways (a stand-in for
# veilnet-policy that enforces nothing but one dropped pair), then it runs
# the whole set over IPv4, then tests/conformance/extra (hand-written cases,
# hosts outside the cluster among them) in a cluster of its own, then the
# family-sensitive cases over IPv6. One check per case
# (every step, probe and pair of it), one per pass for explain --matrix
# over every probe, and the self-test's checks.
source "$(dirname "$0")/../lib.sh"
RUN=$VN_ROOT/tests/conformance/run
# As in the runner (see "Processes" in tests/conformance/run): no process
# substitution, no long-lived child, every read of a fifo with a deadline.
shopt -s lastpipe
RUN_S=600	# one run of the runner ends within this (it takes 2-350 s)

[[ $(id -u) == 0 ]] || t_skip "needs root (network namespaces)"
for p in cni-test veilnet veilnet-policy vn-probe; do
	[[ -x $VN_BUILD/$p ]] || t_skip "build/$p is not built"
done
command -v jq >/dev/null || t_skip "jq is missing"

# ---- vn-probe alone: netns A - R - B, R forwards through a stateful filter
# that lets new connections go from A to B only. The SCTP probe must pass
# A->B (so conntrack took the server's INIT-ACK as the answer to the INIT)
# and fail B->A; conntrack must find none of the probe packets invalid.
P=$VN_BUILD/vn-probe
A=vnc$$-pa R=vnc$$-pr B=vnc$$-pb
probe_net() {
	local n
	for n in $A $R $B; do ip netns add $n && t_cleanup "ip netns del $n" && ip -n $n link set lo up || return 1; done
	ip link add vnc$$a netns $A type veth peer name ra netns $R &&
		ip link add vnc$$b netns $B type veth peer name rb netns $R &&
		ip -n $A addr add 10.99.1.2/24 dev vnc$$a && ip -n $A link set vnc$$a up &&
		ip -n $B addr add 10.99.2.2/24 dev vnc$$b && ip -n $B link set vnc$$b up &&
		ip -n $R addr add 10.99.1.1/24 dev ra && ip -n $R link set ra up &&
		ip -n $R addr add 10.99.2.1/24 dev rb && ip -n $R link set rb up &&
		ip -n $A route add default via 10.99.1.1 && ip -n $B route add default via 10.99.2.1 &&
		ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 || return 1
	ip netns exec $R nft -f - <<-'NFT' || return 1
	table inet vncprobe {
		counter invalid { }
		chain forward {
			type filter hook forward priority 0; policy drop;
			ct state invalid counter name "invalid" drop
			ct state established,related accept
			iifname "ra" ct state new accept
		}
	}
	NFT
	local fd line n=0 dir pid
	dir=$(mktemp -d /tmp/vnc$$-probe.XXXXXX) && t_cleanup "rm -rf $dir" && mkfifo "$dir/ready" || return 1
	exec {fd}<>"$dir/ready"
	# from a subshell that exits at once: the servers are not our children
	for n in $A $B; do
		pid=$(ip netns exec $n "$P" server --ports 80 --ready >"$dir/ready" </dev/null {fd}<&- & echo $!)
		t_cleanup "kill $pid"
	done
	n=0
	while ((n < 2)) && read -r -t 5 -u $fd line; do [[ $line == ready ]] && n=$((n + 1)); done
	exec {fd}<&-
	((n == 2)) || echo "vn-probe: $((2 - n)) of 2 servers not ready within 5s" >&2
	((n == 2))
}
if probe_net; then
	t_pass "vn-probe: servers ready in two netns behind a stateful filter"
	out=$(ip netns exec $A "$P" client tcp:10.99.2.2:80 udp:10.99.2.2:80 sctp:10.99.2.2:80 \
		tcp:10.99.2.2:81 udp:10.99.2.2:81)
	t_check "vn-probe: A->B connects over TCP, UDP and SCTP (answers pass as replies)" \
		test "$(awk '{print $2}' <<<"$out" | head -n 3 | tr '\n' ' ')" = "ok ok ok "
	t_check "vn-probe: a port nobody serves is refused (TCP RST, UDP ICMP)" \
		test "$(awk '{print $2}' <<<"$out" | tail -n 2 | tr '\n' ' ')" = "refused refused "
	out=$(ip netns exec $B "$P" client --timeout 200 tcp:10.99.1.2:80 udp:10.99.1.2:80 sctp:10.99.1.2:80)
	t_check "vn-probe: B->A is blocked on every protocol (timeouts)" \
		test "$(awk '{print $2}' <<<"$out" | tr '\n' ' ')" = "timeout timeout timeout "
	t_check "vn-probe: conntrack found no probe packet invalid (SCTP CRC32c, tags)" \
		bash -c "ip netns exec $R nft list counter inet vncprobe invalid | grep -q 'packets 0 '"
else
	t_fail "vn-probe: servers ready in two netns behind a stateful filter" "setup failed"
fi

# ---- self-test: the runner reports both kinds of mismatch, naming the pairs
out=$(timeout -k 10 "$RUN_S" bash "$RUN" --only '^001-' --no-model --name "vnc$$s" \
	--apply-cmd "$VN_ROOT/tests/conformance/selftest-apply x/a y/b" 2>&1)
rc=$?
if ((rc != 0)) && grep -q '^FAIL - 001-' <<<"$out"; then
	t_pass "self-test: a case fails when the filter is wrong"
else
	t_fail "self-test: a case fails when the filter is wrong" "status $rc: $(tail -n 5 <<<"$out")"
fi
# baseline: nothing is expected blocked; exactly x/a->y/b was dropped
if grep -A3 'baseline (no policies) probe 80/TCP' <<<"$out" |
	grep -qx '    expected to connect, blocked: (1) x/a->y/b'; then
	t_pass "self-test: the one dropped pair is named"
else
	t_fail "self-test: the one dropped pair is named" "$out"
fi
# step 1 of case 001 denies all ingress into x: 8 sources x 3 pods = 24
if grep -A3 '^  step 1 ' <<<"$out" | grep -q '    expected blocked, connected: (24) '; then
	t_pass "self-test: the 24 pairs a missing policy lets through are named"
else
	t_fail "self-test: the 24 pairs a missing policy lets through are named" "$out"
fi

# relay PREFIX RUNNER_ARGS...: runs the runner (at most RUN_S seconds); its
# checks become this suite's. A runner that ends without its "N passed, M
# failed" line (killed, its watchdog, a crash) is one more failure.
relay() {
	local line prefix=$1 counted=0 rc
	shift
	timeout -k 10 "$RUN_S" bash "$RUN" "$@" 2>&1 </dev/null | while IFS= read -r line; do
		case $line in
		"ok   - "*) t_pass "$prefix${line#ok   - }" ;;
		"FAIL - "*) t_fail "$prefix${line#FAIL - }" ;;
		[0-9]*" passed, "[0-9]*" failed") counted=1 ;;
		*) echo "$line" ;;
		esac
	done
	rc=${PIPESTATUS[0]}
	((counted)) && return
	if ((rc == 124)); then
		t_fail "${prefix}runner" "no end within ${RUN_S}s (status $rc)"
	else
		t_fail "${prefix}runner" "ended without its summary line (status $rc)"
	fi
}

# ---- the whole set over IPv4, then the hand-written extra cases (hosts
# outside the cluster among them), each run in a cluster of its own and
# with a time budget of its own
relay "" --cases "$VN_ROOT/tests/conformance/cases" --name "vnc$$"
relay "" --cases "$VN_ROOT/tests/conformance/extra" --name "vnc$$x"

# ---- IPv6: the cases where the family matters (ipBlock with /128 and the
# /4 around a pod, each protocol, named ports, port ranges, egress), and the
# extra cases that name no IPv4 address
relay "ipv6: " --family 6 --name "vnc$$v6" \
	--cases "$VN_ROOT/tests/conformance/cases" --cases "$VN_ROOT/tests/conformance/extra" \
	--only '^(001|014|017|019|025|034|035|036|043|044|046|047|050|051|ext-00[24567])-'
t_done
