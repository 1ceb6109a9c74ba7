#!/usr/bin/env bash
# A second real client nobody here wrote: Debian's containerd 1.6 and its
# `ctr run --cni`, which calls go-cni/libcni with the first conflist in
# /etc/cni/net.d and the plugins in /opt/cni/bin. Two busybox containers on
# a dual-stack veilnet conflist (cniVersion 1.0.0) get addresses from the
# ranges on eth0, ping each other over IPv4 and IPv6, and are recorded in
# veilnet's store and libcni's cache; killing them leaves nothing: no
# veilnet link or route in the root namespace, no reservation, no libcni
# cache entry, no task, container, shim or mount.
#
# What ctr 1.6 does (cmd/ctr/commands/run/run.go, vendored go-cni 1.1.6 and
# libcni 1.1.1):
# - gocni.New(gocni.WithDefaultConf): the conf and plugin dirs are fixed
#   (/etc/cni/net.d, /opt/cni/bin; Debian's build adds /usr/lib/cni to
#   CNI_PATH) and ctr has no flag for them. So every ctr that runs CNI runs
#   in its own mount namespace (unshare -m) with private dirs bind-mounted
#   over those two paths; the mount points are made here only if missing,
#   and removed again.
# - CNI_CONTAINERID is "<containerd namespace>-<container id>", CNI_IFNAME
#   eth0, CNI_NETNS /proc/<task pid>/ns/net, CNI_ARGS empty.
# - libcni caches results in the default /var/lib/cni/results as
#   <network>-<CNI_CONTAINERID>-<ifname>; cleanup removes this suite's.
# - Only a foreground `ctr run` calls DEL, once the task has exited, with an
#   empty CNI_NETNS (the netns died with the task) and the cached
#   prevResult. `ctr run -d` never does (nor does `ctr task rm`), so the
#   containers run as background `ctr run --rm` processes and are stopped
#   with `ctr task kill -s SIGKILL`.
# - libcni 1.1.1 knows result versions up to 1.0.0: with cniVersion 1.1.0
#   it rejects veilnet's result ("unsupported CNI result version").
#
# containerd itself is private: its own daemon with root, state and socket
# in a temp dir (CRI and other unused plugins disabled), the native
# snapshotter, runc's root in the temp dir, cgroups named after the
# container IDs. Its shims put their sockets in /run/containerd/s whatever
# the config says, so that dir is removed again if this suite made it. The
# image is an OCI layout made here from busybox-static, no registry. ctr
# runs in the root network namespace, so veilnet's host veths land there:
# the ranges 10.89.78.0/24 and fd00:89:78::/64 are unlikely to clash, and
# every link made is found by its alias "veilnet:vnctr" and removed on exit.
source "$(dirname "$0")/../lib.sh"

NET=vnctr
CNS=vnctr	# the containerd namespace
RANGE=10.89.78
RANGE6=fd00:89:78:
IMAGE=localhost/vnctr-busybox:latest
[[ $(id -u) == 0 ]] || t_skip "needs root (containerd, runc, CNI networking)"
for cmd in containerd ctr containerd-shim-runc-v2; do
	command -v $cmd >/dev/null || t_skip "$cmd is not installed (make deps installs containerd)"
done
for cmd in runc busybox unshare; do
	command -v $cmd >/dev/null || t_skip "$cmd is not installed (make deps installs runc, busybox-static)"
done
[[ -x $VN_BUILD/veilnet ]] || t_skip "$VN_BUILD/veilnet is not built"
ldd "$(command -v busybox)" >/dev/null 2>&1 && t_skip "busybox is not static (install busybox-static)"
case $(dpkg --print-architecture 2>/dev/null || uname -m) in
amd64 | x86_64) ARCH=amd64 ;;
arm64 | aarch64) ARCH=arm64 ;;
i386 | i686) ARCH=386 ;;
ppc64el | ppc64le) ARCH=ppc64le ;;
armhf | armel | arm*) ARCH=arm ;;
*) ARCH=$(dpkg --print-architecture) ;;
esac

W=$(mktemp -d /tmp/vnctr.XXXXXX)
[[ -d $W ]] || t_skip "cannot make a temp dir"
export CONTAINERD_ADDRESS=$W/containerd.sock CONTAINERD_NAMESPACE=$CNS CONTAINERD_SNAPSHOTTER=native
RUN_OPTS=(--null-io --cgroup "" --runc-root "$W/runc" --fifo-dir "$W/fifo")
veilnet_links() { ip -o link show | awk -F': ' '/alias veilnet:'$NET'$/ {split($2, a, "@"); print a[1]}'; }
cache_entries() { ls /var/lib/cni/results 2>/dev/null | grep "^$NET-$CNS-vnctr-"; }
our_pids() {	# processes run from our temp dir: containerd, its shims
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "$W/" && echo "${p#/proc/}"
	done
}

# the mount points for ctr's fixed CNI paths: made only if missing
made_dirs=()
make_mount_point() {
	local d=$1 missing=()
	while [[ ! -e $d ]]; do
		missing=("$d" "${missing[@]}")
		d=$(dirname "$d")
	done
	for d in "${missing[@]}"; do
		mkdir "$d" && made_dirs=("$d" "${made_dirs[@]}")	# deepest first
	done
}
[[ -e /run/containerd ]] && run_containerd_before=1 || run_containerd_before=0

containerd_pid=
declare -A run_pid
cleanup() {
	local c p d l m
	if [[ -n $containerd_pid ]] && kill -0 "$containerd_pid" 2>/dev/null; then
		for c in $(ctr tasks ls -q 2>/dev/null); do
			ctr tasks kill -s SIGKILL "$c"
			ctr tasks rm -f "$c"
		done
	fi
	for p in "${run_pid[@]}"; do	# each calls DEL once its task is gone
		wait_until bash -c "! kill -0 $p"
		kill "$p" 2>/dev/null
		wait "$p"
	done
	if [[ -n $containerd_pid ]] && kill -0 "$containerd_pid" 2>/dev/null; then
		for c in $(ctr containers ls -q 2>/dev/null); do ctr containers rm "$c"; done
		ctr images rm "$IMAGE"
	fi
	if [[ -n $containerd_pid ]]; then
		kill "$containerd_pid"
		wait "$containerd_pid"
	fi
	for c in $(runc --root "$W/runc/$CNS" list -q 2>/dev/null); do runc --root "$W/runc/$CNS" delete -f "$c"; done
	for p in $(our_pids); do kill -9 "$p"; done	# shims left behind, by pid
	for l in $(veilnet_links); do ip link del "$l"; done
	for c in $(cache_entries); do rm -f "/var/lib/cni/results/$c"; done
	find /sys/fs/cgroup -maxdepth 5 -depth -type d -name 'vnctr-[a-z]' -exec rmdir {} \;
	for m in $(awk -v w="$W" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
	rm -rf "$W"
	for d in "${made_dirs[@]}"; do rmdir "$d"; done
	((run_containerd_before)) || rmdir /run/containerd/s /run/containerd	# shim sockets, empty again
}
t_cleanup cleanup

mkdir -p "$W/cni-bin" "$W/net.d" "$W/ipam" "$W/rootfs/bin" "$W/oci/blobs/sha256" "$W/fifo"
cp "$VN_BUILD/veilnet" "$W/cni-bin/"
make_mount_point /etc/cni/net.d
make_mount_point /opt/cni/bin
# in_cni CMD...: CMD in a private mount namespace where /etc/cni/net.d and
# /opt/cni/bin are this suite's dirs
in_cni() {
	unshare -m -- sh -c 'mount --make-rprivate / && mount --bind "$1" /etc/cni/net.d &&
		mount --bind "$2" /opt/cni/bin && shift 2 && exec "$@"' in_cni "$W/net.d" "$W/cni-bin" "$@"
}
cat >"$W/net.d/10-$NET.conflist" <<CONF
{"cniVersion": "1.0.0", "name": "$NET", "plugins": [
 {"type": "veilnet", "logFile": "$W/veilnet.log",
  "ipam": {"ranges": [[{"subnet": "$RANGE.0/24"}], [{"subnet": "$RANGE6:/64"}]], "dataDir": "$W/ipam"}}]}
CONF

# containerd: a private daemon
cat >"$W/config.toml" <<CONF
version = 2
root = "$W/root"
state = "$W/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.overlayfs", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$W/containerd.sock"
[ttrpc]
  address = "$W/containerd.sock.ttrpc"
CONF
containerd --config "$W/config.toml" >"$W/containerd.log" 2>&1 </dev/null &
containerd_pid=$!
wait_until test -S "$W/containerd.sock" && ctr --connect-timeout 5s version >/dev/null 2>&1 ||
	t_skip "containerd does not start here: $(tail -n 3 "$W/containerd.log")"

# the image: an OCI layout of a busybox-static root filesystem, no registry
cp "$(command -v busybox)" "$W/rootfs/bin/busybox"
for a in sh true sleep ping ip cat; do ln -s busybox "$W/rootfs/bin/$a"; done
tar --owner=0 --group=0 --numeric-owner -C "$W/rootfs" -cf "$W/layer.tar" .
blob() {	# blob FILE: store FILE in the layout, print "sha256:<hex> <size>"
	local d
	d=$(sha256sum "$1" | cut -d' ' -f1)
	cp "$1" "$W/oci/blobs/sha256/$d"
	echo "sha256:$d $(stat -c %s "$1")"
}
read -r layer layer_size < <(blob "$W/layer.tar")
printf '{"architecture":"%s","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
	"$ARCH" "$layer" >"$W/config.json"
read -r config config_size < <(blob "$W/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}' \
	"$config" "$config_size" "$layer" "$layer_size" >"$W/manifest.json"
read -r manifest manifest_size < <(blob "$W/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%d,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"latest"}}]}' \
	"$manifest" "$manifest_size" "$IMAGE" >"$W/oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$W/oci/oci-layout"
tar -C "$W/oci" -cf "$W/image.tar" oci-layout index.json blobs
out=$(ctr images import "$W/image.tar" 2>&1) ||
	t_skip "ctr cannot import an image here: $(tail -n 3 <<<"$out")"
out=$(timeout 30 ctr run --rm "${RUN_OPTS[@]}" "$IMAGE" vnctr-t true 2>&1 </dev/null) ||
	t_skip "ctr cannot run a container here (even without networking): $(tail -n 3 <<<"$out")"
t_pass "ctr runs a container from the imported busybox image"

# the containers: `ctr run --cni --rm` in the background; ctr has set up the
# network before it starts the task, so RUNNING means ADD is done
task_pid() { ctr tasks ls 2>/dev/null | awk -v c="$1" '$1 == c && $3 == "RUNNING" {print $2}'; }
running() { [[ -n $(task_pid "$1") ]]; }
cx() {	# cx NAME CMD...: ctr tasks exec in container NAME
	local c=$1
	shift
	ctr tasks exec --exec-id "vnctr-x$RANDOM" --fifo-dir "$W/fifo" "$c" "$@" </dev/null
}
# up_or_gone NAME PID: the task runs, or ctr run (PID) has given up
up_or_gone() { running "$1" || ! kill -0 "$2" 2>/dev/null; }
links_before=$(veilnet_links | wc -l)
for c in a b; do
	in_cni ctr run --cni --rm "${RUN_OPTS[@]}" "$IMAGE" vnctr-$c sleep 300 </dev/null >"$W/run-$c.log" 2>&1 &
	run_pid[$c]=$!
done
up=1
for c in a b; do
	wait_until up_or_gone vnctr-$c "${run_pid[$c]}"
	if running vnctr-$c; then
		t_pass "ctr run --cni vnctr-$c: the task runs"
	else
		up=0
		t_fail "ctr run --cni vnctr-$c: the task runs" "$(cat "$W/run-$c.log"; tail -n 5 "$W/veilnet.log" 2>/dev/null)"
	fi
done
((up)) || t_done	# the checks below need both containers
pida=$(task_pid vnctr-a)
pidb=$(task_pid vnctr-b)
addr_of() { cx "$1" ip -o "$2" addr show dev eth0 scope global 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}'; }
ipa=$(addr_of vnctr-a -4)
ipb=$(addr_of vnctr-b -4)
ip6a=$(addr_of vnctr-a -6)
ip6b=$(addr_of vnctr-b -6)
t_check "vnctr-a has '$ipa' from $RANGE.0/24 on eth0" grep -q "^$RANGE\.[0-9]*$" <<<"$ipa"
t_check "vnctr-b has '$ipb' from $RANGE.0/24 on eth0" grep -q "^$RANGE\.[0-9]*$" <<<"$ipb"
t_check "vnctr-a has '$ip6a' from $RANGE6:/64 on eth0" grep -q "^$RANGE6:[0-9a-f:]*$" <<<"$ip6a"
t_check "vnctr-b has '$ip6b' from $RANGE6:/64 on eth0" grep -q "^$RANGE6:[0-9a-f:]*$" <<<"$ip6b"
t_check "the addresses differ" test "$ipa" != "$ipb" -a "$ip6a" != "$ip6b"
in_pod() { nsenter -t "$1" -n "${@:2}"; }
pod_addrs() { [[ $(in_pod "$1" ip -o addr show dev eth0) == *" $2/32 "*" $3/128 "* ]]; }
pod_defaults() {
	in_pod "$1" ip -4 route show default | grep -q 'via 169.254.1.1 dev eth0' &&
		in_pod "$1" ip -6 route show default | grep -q 'via fe80::1 dev eth0'
}
host_routes() { ip route show "$1" | grep -q 'dev vn' && ip -6 route show "$2" | grep -q 'dev vn'; }
record_ok() {	# record_ok NAME PID: its record, and the host link it names
	local r h
	r=$(grep -h "\"containerID\":\"$CNS-$1\"" "$W"/ipam/vn*.json) || return 1
	[[ $r == *'"ifname":"eth0"'* && $r == *"\"netns\":\"/proc/$2/ns/net\""* ]] || return 1
	h=$(sed -n 's/.*"hostIfname":"\([^"]*\)".*/\1/p' <<<"$r")
	ip -o link show "$h" | grep -q "alias veilnet:$NET\$"
}
t_check "vnctr-a: $ipa/32 and $ip6a/128 on eth0 (nsenter into pid $pida)" pod_addrs "$pida" "$ipa" "$ip6a"
t_check "vnctr-b: $ipb/32 and $ip6b/128 on eth0 (nsenter into pid $pidb)" pod_addrs "$pidb" "$ipb" "$ip6b"
t_check "vnctr-a routes by default via 169.254.1.1 and fe80::1" pod_defaults "$pida"
t_check "two veilnet host links in the root namespace" test "$(veilnet_links | wc -l)" -eq $((links_before + 2))
t_check "the root namespace routes $ipa and $ip6a to a host link" host_routes "$ipa" "$ip6a"
t_check "the root namespace routes $ipb and $ip6b to a host link" host_routes "$ipb" "$ip6b"
t_check "vnctr-a pings vnctr-b" cx vnctr-a ping -c1 -W2 "$ipb"
t_check "vnctr-b pings vnctr-a" cx vnctr-b ping -c1 -W2 "$ipa"
t_check "vnctr-a pings vnctr-b over IPv6" cx vnctr-a ping -c1 -W2 "$ip6b"
t_check "vnctr-b pings vnctr-a over IPv6" cx vnctr-b ping -c1 -W2 "$ip6a"
t_check "four address reservations" test "$(ls "$W/ipam" | grep -c '^ip-')" -eq 4
t_check "vnctr-a's record: CNI_CONTAINERID $CNS-vnctr-a, eth0, netns of pid $pida, a veilnet link" \
	record_ok vnctr-a "$pida"
t_check "vnctr-b's record: CNI_CONTAINERID $CNS-vnctr-b, eth0, netns of pid $pidb, a veilnet link" \
	record_ok vnctr-b "$pidb"
t_check "libcni cached vnctr-a's result as $NET-$CNS-vnctr-a-eth0" \
	grep -q "\"$ipa/32\"" "/var/lib/cni/results/$NET-$CNS-vnctr-a-eth0"
t_check "libcni cached vnctr-b's result as $NET-$CNS-vnctr-b-eth0" \
	grep -q "\"$ipb/32\"" "/var/lib/cni/results/$NET-$CNS-vnctr-b-eth0"

# stop: each ctr run calls DEL once its task has died, then removes task
# and container (--rm)
for c in a b; do t_check "ctr task kill vnctr-$c" ctr tasks kill -s SIGKILL vnctr-$c; done
for c in a b; do
	p=${run_pid[$c]}
	if wait_until bash -c "! kill -0 $p"; then
		wait "$p"
		rc=$?
		t_check "ctr run vnctr-$c exits with its task's status 137 (rc $rc)" test "$rc" -eq 137
		t_check_not "ctr run vnctr-$c reports no CNI DEL error" grep -q 'network review' "$W/run-$c.log"
	else
		t_fail "ctr run vnctr-$c ends" "still running after its task was killed"
	fi
	unset "run_pid[$c]"
done
no_tasks() { [[ -z $(ctr tasks ls -q) && -z $(ctr containers ls -q) ]]; }
links_back() { test "$(veilnet_links | wc -l)" -eq "$links_before"; }
pod_routes() { ip route show | grep -q "^$RANGE\." || ip -6 route show | grep -q "^$RANGE6:"; }
t_check "no task or container left" no_tasks
t_check "no veilnet link left in the root namespace" wait_until links_back
t_check_not "no route to the pods left" pod_routes
t_check "no reservation left" test -z "$(ls "$W/ipam" | grep '^ip-\|^vn')"
t_check "no libcni cache entry left" test -z "$(cache_entries)"
t_check_not "no mount under $W left" grep -q " $W/" /proc/mounts
t_check_not "no shim left" pgrep -f "containerd-shim.* -address $W/containerd.sock"
t_check "no container cgroup left" test -z "$(find /sys/fs/cgroup -maxdepth 5 -type d -name 'vnctr-[a-z]')"
t_done
