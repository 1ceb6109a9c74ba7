# tests/lib.sh - sourced by every tests/integration/*.sh suite.
#
#   t_pass NAME            record a passing check
#   t_fail NAME WHY        record a failing check (WHY is printed)
#   t_check NAME CMD...    run CMD; pass if it exits 0
#   t_check_not NAME CMD.. run CMD; pass if it exits non-zero
#   t_skip WHY             the whole suite cannot run here: say why, exit 0
#   t_done                 print "N passed, M failed" and exit (1 if any failed)
#   t_cleanup CMD...       run CMD on exit (also on failure or a signal);
#                          later registrations run first
#   wait_until CMD...      poll CMD until it succeeds (~10 s at most), for
#                          what the kernel or a program finishes later
#
# The repo root is $VN_ROOT and built programs are in $VN_BUILD.
# Every suite names what it creates with its own prefix so that suites can
# run in parallel: netns, links and nft tables made by a suite start with it.

VN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VN_BUILD=${VN_BUILD:-$VN_ROOT/build}
_t_pass=0
_t_fail=0
_t_cleanups=()

t_pass() {
	_t_pass=$((_t_pass + 1))
	echo "ok   - $1"
}

t_fail() {
	_t_fail=$((_t_fail + 1))
	echo "FAIL - $1${2:+: $2}"
}

t_check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		t_pass "$name"
	else
		t_fail "$name" "command failed: $* :: $(tail -n 5 <<<"$out")"
	fi
}

t_check_not() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		t_fail "$name" "command succeeded but should not: $*"
	else
		t_pass "$name"
	fi
}

t_skip() {
	echo "SKIP: $1"
	echo "0 passed, 0 failed"
	exit 0
}

_t_run_cleanups() {
	local i
	for ((i = ${#_t_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_t_cleanups[$i]}" >/dev/null 2>&1 || true
	done
	_t_cleanups=()
}

t_cleanup() {
	_t_cleanups+=("$*")
}

trap '_t_run_cleanups' EXIT
trap '_t_run_cleanups; exit 130' INT TERM

t_done() {
	_t_run_cleanups
	echo "$_t_pass passed, $_t_fail failed"
	[[ $_t_fail -eq 0 ]]
	exit $?
}

wait_until() {
	local i
	for ((i = 0; i < 200; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
