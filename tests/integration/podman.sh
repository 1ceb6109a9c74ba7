#!/usr/bin/env bash
# A real runtime nobody here wrote: Debian's podman 4.3 with its CNI network
# backend runs two containers on a veilnet conflist (cniVersion 0.4.0, as
# podman writes them). Both get addresses from the range, ping each other,
# and `podman rm -f` leaves nothing: no veilnet link or route in the root
# namespace, no reservation, no libcni cache entry, no container netns.
#
# podman runs in the root network namespace, so veilnet's host veths land
# there too: the range 10.89.77.0/24 is unlikely to clash, and every link
# made is found by its alias "veilnet:vnpod" and removed on exit. Everything
# else (containers.conf, storage.conf, the storage, the network config dir,
# the plugin dir) is private, under a temp dir that CONTAINERS_CONF and
# CONTAINERS_STORAGE_CONF point podman at.
source "$(dirname "$0")/../lib.sh"

NET=vnpod
RANGE=10.89.77
IMAGE=localhost/vnpod-busybox:latest
[[ $(id -u) == 0 ]] || t_skip "needs root (podman with CNI networking)"
for cmd in podman runc busybox; do
	command -v $cmd >/dev/null || t_skip "$cmd is not installed (make deps installs podman, runc, busybox-static)"
done
[[ -x $VN_BUILD/veilnet ]] || t_skip "$VN_BUILD/veilnet is not built"
ldd "$(command -v busybox)" >/dev/null 2>&1 && t_skip "busybox is not static (install busybox-static)"

W=$(mktemp -d /tmp/vnpod.XXXXXX)
[[ -d $W ]] || t_skip "cannot make a temp dir"
export CONTAINERS_CONF=$W/containers.conf CONTAINERS_STORAGE_CONF=$W/storage.conf
veilnet_links() { ip -o link show | awk -F': ' '/alias veilnet:'$NET'$/ {split($2, a, "@"); print a[1]}'; }
new_cni_netns() { comm -13 <(echo "$netns_before") <(ls /run/netns 2>/dev/null | sort) | grep '^cni-'; }
netns_before=$(ls /run/netns 2>/dev/null | sort)
[[ -e /run/runc ]] && runc_dir_before=1 || runc_dir_before=0
cleanup() {
	local l m ns
	podman rm -a -f -t 0 >/dev/null 2>&1
	podman rmi -a -f >/dev/null 2>&1
	for l in $(veilnet_links); do ip link del "$l"; done
	for ns in $(new_cni_netns); do ip netns del "$ns"; done
	for m in $(awk -v w="$W" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
	rm -rf "$W"
	((runc_dir_before)) || rmdir /run/runc 2>/dev/null	# runc's state dir, empty again
}
t_cleanup cleanup

mkdir -p "$W/cni-bin" "$W/net.d" "$W/rootfs/bin" "$W/tmp"
cp "$VN_BUILD/veilnet" "$W/cni-bin/"
cat >"$W/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$W/events.log"
tmp_dir = "$W/tmp"

[network]
network_backend = "cni"
cni_plugin_dirs = ["$W/cni-bin"]
network_config_dir = "$W/net.d"
CONF
cat >"$W/storage.conf" <<CONF
[storage]
driver = "vfs"
runroot = "$W/runroot"
graphroot = "$W/graphroot"
CONF
cat >"$W/net.d/$NET.conflist" <<CONF
{"cniVersion": "0.4.0", "name": "$NET", "plugins": [
 {"type": "veilnet", "ipam": {"ranges": [[{"subnet": "$RANGE.0/24"}]], "dataDir": "$W/ipam"}}]}
CONF

# the image: a busybox-static root filesystem, imported, no registry
cp "$(command -v busybox)" "$W/rootfs/bin/busybox"
for a in sh true sleep ping ip cat; do ln -s busybox "$W/rootfs/bin/$a"; done
out=$(tar -C "$W/rootfs" -c . | podman import - $IMAGE 2>&1) ||
	t_skip "podman cannot import an image here: $(tail -n 3 <<<"$out")"
out=$(podman run --rm --network none $IMAGE true 2>&1) ||
	t_skip "podman cannot run a container here (even without networking): $(tail -n 3 <<<"$out")"
t_pass "podman runs a container from the imported busybox image"

t_check "podman sees the veilnet network" bash -c \
	"podman network ls --format '{{.Name}} {{.Driver}}' | grep -qx '$NET veilnet'"
links_before=$(veilnet_links | wc -l)
for c in a b; do
	t_check "podman run vnpod-$c on $NET" \
		podman run -d --name vnpod-$c --cap-add NET_RAW --network $NET $IMAGE sleep 300
done
ipa=$(podman inspect -f "{{.NetworkSettings.Networks.$NET.IPAddress}}" vnpod-a 2>/dev/null)
ipb=$(podman inspect -f "{{.NetworkSettings.Networks.$NET.IPAddress}}" vnpod-b 2>/dev/null)
t_check "vnpod-a got '$ipa' from $RANGE.0/24" grep -q "^$RANGE\.[0-9]*$" <<<"$ipa"
t_check "vnpod-b got '$ipb' from $RANGE.0/24" grep -q "^$RANGE\.[0-9]*$" <<<"$ipb"
t_check "the two addresses differ" test "$ipa" != "$ipb"
t_check "vnpod-a has $ipa/32 on eth0" bash -c "podman exec vnpod-a ip -o addr show dev eth0 | grep -q ' $ipa/32'"
t_check "two veilnet host links in the root namespace" test "$(veilnet_links | wc -l)" -eq $((links_before + 2))
t_check "the root namespace routes $ipb to its host link" bash -c "ip route show $ipb | grep -q 'dev vn'"
t_check "vnpod-a pings vnpod-b" podman exec vnpod-a ping -c1 -W2 "$ipb"
t_check "vnpod-b pings vnpod-a" podman exec vnpod-b ping -c1 -W2 "$ipa"
t_check "two reservations" test "$(ls "$W/ipam" | grep -c "$RANGE")" -eq 2

t_check "podman rm -f" podman rm -f -t 0 vnpod-a vnpod-b
links_back() { test "$(veilnet_links | wc -l)" -eq "$links_before"; }
t_check "no veilnet link left in the root namespace" wait_until links_back
t_check_not "no route to the pods left" bash -c "ip route show | grep -q '^$RANGE\.'"
t_check "no reservation left" bash -c "! ls '$W/ipam' | grep -q '$RANGE'"
t_check "no libcni cache entry left" bash -c "! ls /var/lib/cni/results 2>/dev/null | grep -q '^$NET-'"
t_check "no container netns left" test -z "$(new_cni_netns)"
t_done
