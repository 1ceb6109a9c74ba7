#!/usr/bin/env bash
# Kernel lane: boots a Debian kernel that has wireguard.ko under qemu (TCG,
# tests/kernel/run-vm) and runs, in ONE boot, the in-VM suites:
#   tests/kernel/smoke-tests.sh        the lane itself (wireguard.ko, wg, nft)
#   tests/kernel/mesh-kernel-tests.sh  veilnet-mesh's kernel backend (if present)
# Every in-VM check is relayed here as "SUITE: NAME", so the counts below
# are the in-VM counts. Skips (with the reason) only when qemu or a kernel
# with wireguard.ko is missing; VN_KERNEL_LANE_REQUIRED=1 (make
# check-kernel) turns that into a failure.
source "$(dirname "$0")/../lib.sh"
cd "$VN_ROOT" || exit 1

run_vm=tests/kernel/run-vm
if ! why=$(bash "$run_vm" --check 2>&1); then
	why=${why#run-vm: }
	if [[ ${VN_KERNEL_LANE_REQUIRED:-0} == 1 ]]; then
		t_fail "kernel lane available" "$why (run make deps)"
		t_done
	fi
	t_skip "kernel lane: $why (make deps installs qemu-system-x86 and linux-image-amd64)"
fi
echo "$why"

# VN_KERNEL_SUITES="a.sh b.sh" runs other in-VM suites (e.g. one alone).
if [[ -n ${VN_KERNEL_SUITES:-} ]]; then
	read -r -a suites <<<"$VN_KERNEL_SUITES"
elif suites=(tests/kernel/smoke-tests.sh) && [[ -f tests/kernel/mesh-kernel-tests.sh ]]; then
	suites+=(tests/kernel/mesh-kernel-tests.sh)
else
	echo "note: tests/kernel/mesh-kernel-tests.sh does not exist yet; smoke suite only"
fi

cur=
declare -A counted=() reported=()
# relay_line LINE: one line of the VM's output.
relay_line() {
	local line=$1 n
	case $line in
	"### suite "*)
		cur=${line#"### suite "}
		counted[$cur]=0
		;;
	"### end "*)
		n=${line##*rc=}
		if [[ -z ${reported[$cur]:-} ]]; then
			t_fail "$cur: finished with a count line" "suite exited with status $n and printed no 'N passed, M failed'"
		elif ((n != 0)) && ! [[ ${reported[$cur]} =~ \ [1-9][0-9]*\ failed ]]; then
			t_fail "$cur: exit status" "suite exited with status $n without a failed check"
		fi
		cur=
		;;
	"ok   - "*)
		t_pass "${cur:-vm}: ${line#"ok   - "}"
		counted[$cur]=$((${counted[$cur]:-0} + 1))
		;;
	"FAIL - "*)
		n=${line#"FAIL - "}
		t_fail "${cur:-vm}: ${n%%: *}" "${n#*: }"
		counted[$cur]=$((${counted[$cur]:-0} + 1))
		;;
	[0-9]*" passed, "[0-9]*" failed")
		[[ -n $cur ]] && reported[$cur]=" ${line}"
		echo "    [$cur] $line"
		;;
	*)
		echo "    ${cur:+[$cur] }$line"
		;;
	esac
}

start=$(date +%s)
exec {vm}< <(bash "$run_vm" -- bash tests/kernel/guest-suites "${suites[@]}" 2>&1)
vm_pid=$!
t_cleanup "kill $vm_pid"
while IFS= read -r line <&"$vm"; do
	relay_line "$line"
done
wait "$vm_pid"
rc=$?
exec {vm}<&-
case $rc in
0 | 1) t_pass "kernel lane: the VM booted and ran ${#suites[@]} suite(s) in $(($(date +%s) - start))s" ;;
124) t_fail "kernel lane: VM run" "hit the time limit (VN_VM_TIMEOUT, default 240 s)" ;;
*) t_fail "kernel lane: VM run" "run-vm exited with status $rc (see the console lines above)" ;;
esac
for s in "${suites[@]}"; do
	s=$(basename "$s" .sh)
	[[ -n ${counted[$s]+x} ]] || { ((rc == 124 || rc >= 125)) || t_fail "$s: ran" "the suite never started in the VM"; }
done
t_done
