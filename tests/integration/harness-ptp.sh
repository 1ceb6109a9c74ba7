#!/usr/bin/env bash
# cni-test drives Debian's reference plugins (ptp + host-local) like a
# runtime: VERSION, ADD, CHECK, DEL, the result cache, the exit status,
# and the pod netns it creates and removes. Everything happens in a node
# namespace vnh-ptp-node; the pods are vnh-ptp-*.
source "$(dirname "$0")/../lib.sh"

CT=$VN_BUILD/cni-test
NODE=vnh-ptp-node
[[ $(id -u) == 0 ]] || t_skip "needs root (network namespaces)"
[[ -x $CT ]] || t_skip "$CT is not built"
[[ -x /usr/lib/cni/ptp && -x /usr/lib/cni/host-local ]] ||
	t_skip "Debian's containernetworking-plugins are not installed"
command -v jq >/dev/null || t_skip "jq is missing"

W=$(mktemp -d /tmp/vnh-ptp.XXXXXX)
cleanup() {
	local ns
	for ns in $(ip netns list | awk '/^vnh-ptp-/ {print $1}'); do ip netns del "$ns"; done
	rm -rf "$W"
}
cleanup
t_cleanup cleanup
mkdir -p "$W/cache"
ip netns add $NODE
ip -n $NODE link set lo up

# in the node: cni-test OP --conf FILE ARGS... (stdout only)
ct() { "$CT" exec-in $NODE -- "$CT" "$@" --cache-dir "$W/cache" --cni-path /usr/lib/cni; }
pod_has() { ip -n "$1" -4 -o addr show dev eth0 | grep -q " $2/"; }

cat >"$W/ptp.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "vnh-ptp", "plugins": [
 {"type": "ptp", "ipMasq": false,
  "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.250.1.0/24"}]],
           "dataDir": "$W/ipam", "routes": [{"dst": "0.0.0.0/0"}]}}]}
JSON

# VERSION
out=$(ct version --conf "$W/ptp.conflist")
t_check "VERSION answers the supported versions" jq -e '.supportedVersions | index("1.0.0")' <<<"$out"

# ADD: result printed, address in the kernel, reservation on disk, cache entry
if out=$(ct add --conf "$W/ptp.conflist" --netns-create vnh-ptp-a --args "IgnoreUnknown=1;K8S_POD_NAME=a"); then
	t_pass "ADD exits 0"
else
	t_fail "ADD exits 0" "$out"
fi
ip=$(jq -r '.ips[0].address | split("/")[0]' <<<"$out")
t_check "ADD result has an address in the range" grep -q '^10\.250\.1\.' <<<"$ip"
t_check "pod netns vnh-ptp-a was created" test -e /var/run/netns/vnh-ptp-a
t_check "the address is on eth0 in the pod" pod_has vnh-ptp-a "$ip"
t_check "the pod has a default route" bash -c "ip -n vnh-ptp-a route show default | grep -q 'dev eth0'"
t_check "host-local reserved the address" test -f "$W/ipam/vnh-ptp/$ip"
cache=$W/cache/results/vnh-ptp-vnh-ptp-a-eth0
t_check "the result is cached like libcni" jq -e --arg ip "$ip/24" \
	'.kind == "cniCacheV1" and .containerId == "vnh-ptp-a" and .ifName == "eth0" and .result.ips[0].address == $ip' "$cache"
hostif=$(jq -r '.interfaces[0].name' <<<"$out")
t_check "host veth $hostif is in the node" ip -n $NODE link show "$hostif"
t_check "the pod reaches its gateway" ip netns exec vnh-ptp-a ping -c1 -W2 "$(jq -r '.ips[0].gateway' <<<"$out")"

# a second pod on the same node: another address, pods talk
out2=$(ct add --conf "$W/ptp.conflist" --netns-create vnh-ptp-b)
ip2=$(jq -r '.ips[0].address | split("/")[0]' <<<"$out2")
t_check "second pod gets another address" test -n "$ip2" -a "$ip2" != "$ip"
t_check "pod a pings pod b" ip netns exec vnh-ptp-a ping -c1 -W2 "$ip2"

# CHECK uses the cached result as prevResult: passes, then fails once the
# kernel no longer matches it
t_check "CHECK passes on an intact pod" ct check --conf "$W/ptp.conflist" --netns-create vnh-ptp-a
ip -n vnh-ptp-a addr del "$ip/24" dev eth0
out=$(ct check --conf "$W/ptp.conflist" --netns-create vnh-ptp-a)
rc=$?
if ((rc != 0)) && jq -e '.code > 0 and (.msg | length > 0)' <<<"$out" >/dev/null; then
	t_pass "CHECK fails with the plugin's error object when the address is gone"
else
	t_fail "CHECK fails with the plugin's error object when the address is gone" "rc=$rc out=$out"
fi
rm -f "$W/explicit-prev.json"
jq .result "$cache" >"$W/explicit-prev.json"
t_check_not "CHECK with --prev also sees the missing address" \
	ct check --conf "$W/ptp.conflist" --netns-create vnh-ptp-a --prev "$W/explicit-prev.json"

# DEL: veth, reservation, cache entry and the netns all go
t_check "DEL exits 0" ct del --conf "$W/ptp.conflist" --netns-create vnh-ptp-a
t_check_not "host veth is gone" ip -n $NODE link show "$hostif"
t_check_not "reservation is gone" test -e "$W/ipam/vnh-ptp/$ip"
t_check_not "cache entry is gone" test -e "$cache"
t_check_not "pod netns vnh-ptp-a was removed" test -e /var/run/netns/vnh-ptp-a
t_check "DEL twice is fine" ct del --conf "$W/ptp.conflist" --netns-create vnh-ptp-a
t_check "DEL with an empty CNI_NETNS" ct del --conf "$W/ptp.conflist" --netns "" --container-id vnh-ptp-b
t_check "pod b's reservation is released" bash -c "! test -e '$W/ipam/vnh-ptp/$ip2'"
ip netns del vnh-ptp-b

# a failing ADD: the plugin's status and error object, the created netns removed
sed 's#10.250.1.0/24#10.250.1.0/33#' "$W/ptp.conflist" >"$W/bad.conflist"
out=$(ct add --conf "$W/bad.conflist" --netns-create vnh-ptp-c)
rc=$?
if ((rc != 0 && rc != 125)) && jq -e '.code > 0' <<<"$out" >/dev/null; then
	t_pass "failed ADD: plugin status and error object"
else
	t_fail "failed ADD: plugin status and error object" "rc=$rc out=$out"
fi
t_check_not "failed ADD removes the netns it created" test -e /var/run/netns/vnh-ptp-c

# a plugin that fails after its IPAM succeeded must undo the reservation
# itself: --no-teardown keeps cni-test's DEL from hiding what it left
ip netns add vnh-ptp-e
ip -n vnh-ptp-e link add eth0 type veth peer name peer0	# ptp cannot make its eth0 there
res=$(ct add --conf "$W/ptp.conflist" --netns /var/run/netns/vnh-ptp-e --no-teardown 2>/dev/null)
rc=$?
t_check "ADD into a netns that already has eth0 fails with ptp's error" \
	eval '((rc != 0 && rc != 125)) && jq -e ".code > 0" <<<"$res"'
t_check "ptp released host-local's address by itself" bash -c "! ls '$W/ipam/vnh-ptp' | grep -q '^10\.'"
t_check "... and left no veth in the node" bash -c "! ip -n $NODE -o link show type veth | grep -q ."
ip netns del vnh-ptp-e

# cni-test's own failures exit 125
jq '.plugins[0].type = "no-such-plugin"' "$W/ptp.conflist" >"$W/missing.conflist"
"$CT" add --conf "$W/missing.conflist" --netns /nonexistent --cni-path /usr/lib/cni >/dev/null 2>&1
t_check "unknown plugin type: exit 125" test $? -eq 125
"$CT" add --conf "$W/nope.conflist" >/dev/null 2>&1
t_check "missing config file: exit 125" test $? -eq 125

# a single 0.4.0 .conf (what podman writes): ADD, CHECK with the cached prevResult, DEL
jq '.plugins[0] + {cniVersion: "0.4.0", name: "vnh-ptp4"}' "$W/ptp.conflist" >"$W/ptp.conf"
t_check "0.4.0 .conf: ADD" ct add --conf "$W/ptp.conf" --netns-create vnh-ptp-d
t_check "0.4.0 .conf: CHECK" ct check --conf "$W/ptp.conf" --netns-create vnh-ptp-d
t_check "0.4.0 .conf: DEL" ct del --conf "$W/ptp.conf" --netns-create vnh-ptp-d
t_check "0.4.0 .conf: nothing reserved after DEL" bash -c "! ls '$W/ipam/vnh-ptp4' | grep -q '^10\.'"

# GC and STATUS need 1.1.0; ptp only speaks 1.0.0, so cni-test runs nothing
t_check "GC on a 1.0.0 network is a no-op" ct gc --conf "$W/ptp.conflist"
t_check "STATUS on a 1.0.0 network is a no-op" ct status --conf "$W/ptp.conflist"

t_check "no veth left in the node" bash -c "! ip -n $NODE -o link show type veth | grep -q ."
t_done
