#!/usr/bin/env bash
# netpol-conformance.sh - every NetworkPolicy conformance case
# (tests/conformance/cases, the upstream e2e model: namespaces x,y,z, pods
# a,b,c, real connections over TCP, UDP and SCTP) against veilnet-policy in
# a 2-node cluster of network namespaces wired by the veilnet plugin.
#
# First the runner proves it can see a mismatch both ways (a stand-in for
# veilnet-policy that enforces nothing but one dropped pair), then it runs
# the whole set over IPv4 (plus tests/conformance/extra: hosts outside the
# cluster), then the family-sensitive cases over IPv6. One check per case
# (every step, probe and pair of it), one per pass for explain --matrix
# over every probe, and the self-test's checks.
source "$(dirname "$0")/../lib.sh"
RUN=$VN_ROOT/tests/conformance/run

[[ $(id -u) == 0 ]] || t_skip "needs root (network namespaces)"
for p in cni-test veilnet veilnet-policy vn-probe; do
	[[ -x $VN_BUILD/$p ]] || t_skip "build/$p is not built"
done
command -v jq >/dev/null || t_skip "jq is missing"

# ---- self-test: the runner reports both kinds of mismatch, naming the pairs
out=$(bash "$RUN" --only '^001-' --no-model --name "vnc$$s" \
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

# relay RUNNER_ARGS...: runs the runner; its checks become this suite's.
relay() {
	local line prefix=$1
	shift
	while IFS= read -r line; do
		case $line in
		"ok   - "*) t_pass "$prefix${line#ok   - }" ;;
		"FAIL - "*) t_fail "$prefix${line#FAIL - }" ;;
		[0-9]*" passed, "[0-9]*" failed") ;;
		*) echo "$line" ;;
		esac
	done < <(bash "$RUN" "$@" 2>&1)
}

# ---- the whole set over IPv4, with the hand-written external-host cases
relay "" --cases "$VN_ROOT/tests/conformance/cases" --cases "$VN_ROOT/tests/conformance/extra" \
	--name "vnc$$"

# ---- IPv6: the cases where the family matters (ipBlock with /128 and the
# /4 around a pod, each protocol, named ports, port ranges, egress)
relay "ipv6: " --family 6 --name "vnc$$v6" \
	--only '^(001|014|017|019|025|034|035|036|043|044|046|047|050|051)-'
t_done
