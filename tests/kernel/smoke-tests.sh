#!/usr/bin/env bash
# Kernel lane smoke suite: runs INSIDE the qemu guest (tests/kernel/run-vm),
# on a Debian kernel with wireguard.ko. It proves the lane itself works:
# the module autoloads, wg(8) configures a kernel device over generic
# netlink, and two kernel WireGuard devices in two namespaces carry real
# encrypted traffic; nftables works too (strict mode needs it).
# Names start with "vnk". Run through tests/integration/kernel-lane.sh or:
#   tests/kernel/run-vm -- bash tests/kernel/smoke-tests.sh
source "$(dirname "$0")/../lib.sh"

[[ ${VN_IN_VM:-} == 1 ]] || t_skip "runs inside the VM only (tests/kernel/run-vm -- bash $0)"

ns_a=vnk-a
ns_b=vnk-b
ns_p=vnk-p
# Destroying a device with 200 peers takes seconds under TCG: vnk0 ends in
# its own namespace, whose deletion the kernel finishes in the background.
t_cleanup ip link del vnk0
t_cleanup ip netns del "$ns_p"
t_cleanup ip netns del "$ns_a"
t_cleanup ip netns del "$ns_b"
t_cleanup nft delete table inet vnk

# 1. The module loads on demand (request_module -> the host's kmod).
t_check "wireguard link created, module autoloaded" bash -c \
	'! grep -q "^wireguard " /proc/modules && ip link add vnk0 type wireguard &&
	 grep -q "^wireguard " /proc/modules'
t_check "link kind is wireguard" bash -c 'ip -d link show vnk0 | grep -qw wireguard'

# 2. wg(8) sets and reads back a device over the kernel's genl family.
key=$(wg genkey)
pub=$(wg pubkey <<<"$key")
t_check "wg set private-key and listen-port" \
	wg set vnk0 private-key <(echo "$key") listen-port 51820
t_check "wg show reports the public key" bash -c '[[ $(wg show vnk0 public-key) == "$1" ]]' _ "$pub"
t_check "wg show reports the listen port" bash -c '[[ $(wg show vnk0 listen-port) == 51820 ]]'
t_check "wg show lists the device" bash -c 'wg show interfaces | grep -qw vnk0'

# 3. Many peers: wg(8) splits them over several netlink messages. Random
# 32-byte keys (base64 by awk: one process, not 200 - exec is slow in TCG).
conf=$(mktemp)
t_cleanup rm -f "$conf"
{
	printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n' "$key"
	od -An -v -tx1 -w32 -N 6400 /dev/urandom | awk '
	BEGIN { b = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
		for (i = 0; i < 256; i++) hex[sprintf("%02x", i)] = i }
	{ out = ""
	  for (i = 1; i <= NF; i += 3) {
		v = hex[$i] * 65536 + (i + 1 <= NF ? hex[$(i + 1)] * 256 : 0) + (i + 2 <= NF ? hex[$(i + 2)] : 0)
		out = out substr(b, int(v / 262144) % 64 + 1, 1) substr(b, int(v / 4096) % 64 + 1, 1)
		out = out (i + 1 <= NF ? substr(b, int(v / 64) % 64 + 1, 1) : "=")
		out = out (i + 2 <= NF ? substr(b, v % 64 + 1, 1) : "=")
	  }
	  printf "[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.0/24, fd00:%x::/64\n", out, int(NR / 256), NR % 256, NR }'
} >"$conf"
t_check "wg setconf with 200 peers" wg setconf vnk0 "$conf"
t_check "kernel holds 200 peers" bash -c '[[ $(wg show vnk0 peers | wc -l) == 200 ]]'
t_check "kernel holds 400 allowed ips" bash -c \
	'[[ $(wg show vnk0 allowed-ips | tr " \t" "\n\n" | grep -cE "^[0-9a-f.:]+/[0-9]+$") == 400 ]]'
t_check "wg show peers match the config" bash -c \
	'diff <(wg show vnk0 peers | sort) <(sed -n "s/^PublicKey = //p" "$1" | sort)' _ "$conf"
t_check "wg set removes a peer" bash -c \
	'p=$(wg show vnk0 peers | head -n 1); wg set vnk0 peer "$p" remove &&
	 [[ $(wg show vnk0 peers | wc -l) == 199 ]] && ! wg show vnk0 peers | grep -qF "$p"'
ip netns add "$ns_p" && ip link set vnk0 netns "$ns_p"

# 4. A real tunnel: two namespaces joined by a veth, one wg device each.
ip netns add "$ns_a" && ip netns add "$ns_b" &&
	ip link add vnk-va netns "$ns_a" type veth peer name vnk-vb netns "$ns_b"
for side in a b; do
	ip -n vnk-$side link set lo up
	ip -n vnk-$side link set vnk-v$side up
	ip -n vnk-$side link add wg0 type wireguard
done
ip -n "$ns_a" addr add 192.0.2.1/24 dev vnk-va
ip -n "$ns_b" addr add 192.0.2.2/24 dev vnk-vb
key_a=$(wg genkey)
key_b=$(wg genkey)
ip netns exec "$ns_a" wg set wg0 private-key <(echo "$key_a") listen-port 51001 \
	peer "$(wg pubkey <<<"$key_b")" endpoint 192.0.2.2:51002 allowed-ips 10.99.0.2/32
ip netns exec "$ns_b" wg set wg0 private-key <(echo "$key_b") listen-port 51002 \
	peer "$(wg pubkey <<<"$key_a")" endpoint 192.0.2.1:51001 allowed-ips 10.99.0.1/32
ip -n "$ns_a" addr add 10.99.0.1/32 dev wg0
ip -n "$ns_b" addr add 10.99.0.2/32 dev wg0
ip -n "$ns_a" link set wg0 up
ip -n "$ns_b" link set wg0 up
ip -n "$ns_a" route add 10.99.0.2/32 dev wg0
ip -n "$ns_b" route add 10.99.0.1/32 dev wg0

# Capture the underlay (veth) and the tunnel (wg0) in vnk-b while a ping
# padded with a marker (0x5a = "Z") crosses: the marker must show on wg0
# (the check can see it) and never on the underlay, which carries only
# WireGuard UDP.
tmpd=$(mktemp -d)
t_cleanup rm -rf "$tmpd"
for dev in vnk-vb wg0; do
	ip netns exec "$ns_b" tcpdump -n -U --immediate-mode -i "$dev" -w "$tmpd/$dev.pcap" \
		2>"$tmpd/$dev.log" &
	t_cleanup kill $!
done
for _ in $(seq 1 200); do
	grep -q 'listening on' "$tmpd/vnk-vb.log" && grep -q 'listening on' "$tmpd/wg0.log" && break
	sleep 0.05
done
t_check "ping through the kernel tunnel" ip netns exec "$ns_a" busybox ping -c 1 -W 5 -s 64 -p 5a 10.99.0.2
ip netns exec "$ns_b" pkill -INT -x tcpdump
wait
marker=ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ
t_check "the tunnel carried the marked ICMP" bash -c \
	'[[ $(tcpdump -n -r "$1" icmp 2>/dev/null | wc -l) -ge 2 ]] && grep -q "$2" "$1"' _ "$tmpd/wg0.pcap" "$marker"
t_check "the underlay carried WireGuard UDP" \
	bash -c '[[ $(tcpdump -n -r "$1" udp port 51002 2>/dev/null | wc -l) -ge 2 ]]' _ "$tmpd/vnk-vb.pcap"
t_check "the underlay never carried ICMP or the marker" bash -c \
	'n=$(tcpdump -n -r "$1" icmp 2>/dev/null) && [[ -z $n ]] && ! grep -q "$2" "$1"' _ "$tmpd/vnk-vb.pcap" "$marker"
t_check "a handshake happened" bash -c \
	'[[ $(ip netns exec vnk-a wg show wg0 latest-handshakes | awk "{print \$2}") -gt 0 ]]'
t_check "transfer counters count encrypted bytes" bash -c \
	'read -r _ rx tx < <(ip netns exec vnk-b wg show wg0 transfer); ((rx > 0 && tx > 0))'
t_check "ping without the tunnel peer fails" bash -c \
	'ip netns exec vnk-b wg set wg0 peer "$(wg pubkey <<<"$1")" remove &&
	 ! ip netns exec vnk-a busybox ping -c 1 -W 1 10.99.0.2' _ "$key_a"

# 5. nftables: the table family strict mode uses, and a rule that drops.
t_check "nft creates an inet table" nft add table inet vnk
t_check "nft adds a drop rule on output" bash -c \
	'nft add chain inet vnk out "{ type filter hook output priority 0; }" &&
	 nft add rule inet vnk out ip daddr 127.0.0.99 drop'
t_check "loopback ping passes" busybox ping -c 1 -W 2 127.0.0.98
t_check_not "the drop rule drops" busybox ping -c 1 -W 1 127.0.0.99

t_done
