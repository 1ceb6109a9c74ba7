# The kernel lane (tests/kernel/): veilnet's kernel-facing tests inside a
# qemu VM (TCG) booted on a Debian kernel that has wireguard.ko, with the
# host's filesystem shared over 9p. `make check` runs the same lane as the
# suite tests/integration/kernel-lane.sh (skipped when qemu is missing);
# here a missing qemu or kernel is a failure.
.PHONY: check-kernel
check-kernel: all
	@VN_KERNEL_LANE_REQUIRED=1 bash tests/run-suites tests/integration/kernel-lane.sh
