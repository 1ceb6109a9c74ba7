#!/usr/bin/env bash
# e2e-demo: `make demo` keeps working. Runs netns-harness/demo as a person
# would (plain, then --keep and --down, then interrupted by SIGINT) and
# checks what it printed and that nothing of it (vnd-*) is left behind.
source "$(dirname "$0")/../lib.sh"
source "$VN_ROOT/netns-harness/demo-lib.sh"

[[ $EUID -eq 0 ]] || t_skip "needs root"
dl_init vnd
DEMO=$VN_ROOT/netns-harness/demo
W=$(mktemp -d /tmp/vnd-test.XXXXXX)
t_cleanup rm -rf "$W"
t_cleanup bash "$DEMO" --down

start=$SECONDS
bash "$DEMO" >"$W/out" 2>&1
rc=$?
took=$((SECONDS - start))
t_check "demo runs and exits 0 (status $rc)" test "$rc" -eq 0 || sed 's/^/    | /' "$W/out"
t_check "demo takes under 2 minutes (${took}s)" test "$took" -lt 120
for want in "measured = predicted for all 36 pairs" "only WireGuard crossed the underlay" \
	"the capture would have caught plaintext" "All checks held" "nothing left behind."; do
	t_check "demo says: $want" grep -qF "$want" "$W/out"
done
t_check_not "demo reports no failure" grep -q FAIL "$W/out"
t_check "after the demo: nothing left" test -z "$(dl_leftovers)"

bash "$DEMO" --keep >"$W/keep" 2>&1
rc=$?
t_check "demo --keep exits 0 (status $rc)" test "$rc" -eq 0
t_check "--keep leaves the cluster up" bash -c "ip netns list | grep -q '^vnd-n1'"
t_check "--keep prints how to tear down" grep -qF "netns-harness/demo --down" "$W/keep"
# the exploring commands it prints work (run from the repo root, as printed)
ping_cmd=$(grep -m1 -- '-- ping -c 2' "$W/keep" | sed 's/^ *//')
explain_cmd=$(grep -m1 -- 'explain --from' "$W/keep" | sed 's/^ *//')
t_check "printed ping command works: $ping_cmd" bash -c "cd '$VN_ROOT' && $ping_cmd"
t_check "printed explain command says denied" bash -c "cd '$VN_ROOT' && $explain_cmd | grep -q '^denied'"
t_check "demo --down" bash "$DEMO" --down
t_check "after --down: nothing left" test -z "$(dl_leftovers)"

# Ctrl-C in the middle: the trap removes what was built so far.
timeout -s INT 2 bash "$DEMO" >"$W/int" 2>&1
t_check "interrupted demo says so" grep -q interrupted "$W/int"
t_check "interrupted demo removes everything" test -z "$(dl_leftovers)"
t_done
