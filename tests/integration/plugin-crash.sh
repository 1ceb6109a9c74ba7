#!/usr/bin/env bash
# veilnet CNI plugin: kill -9 in the middle of ADD, at random instants, then
# DEL or GC: the store stays consistent at every step and ends clean.
S=crash
source "$(dirname "$0")/plugin-common.bash"

ROUNDS=${VNP_ROUNDS:-40}
node_setup || { t_fail "node setup"; t_done; }
write_conf "$CONF"
T=/run/vnp-$S
for ((i = 0; i < ROUNDS; i++)); do
	ip netns add "vnp-$S-p$i" || { t_fail "create netns"; t_done; }
done

# consistent: every record is valid JSON, each of its addresses has its
# reservation link, a hard link of the record (made before the record is
# renamed into place),
# and no two records share an address. Other links may dangle or be stale:
# those addresses are free, which the allocator and GC handle.
consistent() {
	local r ip
	for r in "$DATA"/vn*.json; do
		[[ -e $r ]] || continue
		jq -e '.hostIfname and (.ips | length > 0)' "$r" >/dev/null || { echo "bad record $r"; return 1; }
		for ip in $(jq -r '.ips[]' "$r"); do
			[[ "$DATA/ip-$ip" -ef "$r" ]] || { echo "$r: no link for $ip"; return 1; }
		done
	done
	dup=$(cat "$DATA"/vn*.json 2>/dev/null | jq -r '.ips[]' | sort | uniq -d)
	[[ -z $dup ]] || { echo "shared address $dup"; return 1; }
	return 0
}

# How long a whole ADD takes here (busy machines are slower): kills are
# spread over that time.
ns=$(pod_ns probe)
span=$(ip netns exec "$NODE" bash -c '
	export CNI_COMMAND=ADD CNI_CONTAINERID=probe CNI_NETNS='"$ns"' CNI_IFNAME=eth0
	t0=${EPOCHREALTIME/./}; '"$PLUGIN"' <'"$CONF"' >/dev/null; echo $(( ${EPOCHREALTIME/./} - t0 ))')
cni DEL probe "$ns" eth0 "$CONF" >/dev/null
echo "# one ADD takes $span us here"

mapfile -t HOST < <(host_if $(for ((i = 0; i < ROUNDS; i++)); do echo "k$i"; done))

# Each round: start ADD, kill -9 it after 0..span us (busy wait), then
# check the store; even rounds DEL the attachment, odd ones leave it to GC.
bad=0
for ((i = 0; i < ROUNDS; i++)); do
	ip netns exec "$NODE" bash -c '
		export CNI_COMMAND=ADD CNI_CONTAINERID=k'"$i"' CNI_NETNS=/run/netns/vnp-'"$S"'-p'"$i"' CNI_IFNAME=eth0
		'"$PLUGIN"' <'"$CONF"' >/dev/null 2>&1 & pid=$!
		d=$(( (RANDOM * 32768 + RANDOM) % (2 * '"$span"') )); t0=${EPOCHREALTIME/./}
		while (( ${EPOCHREALTIME/./} - t0 < d )); do :; done
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		echo $? >>'"$T"'/status; true' 2>/dev/null
	consistent >>"$T/log" || bad=$((bad + 1))
	h=${HOST[$i]}
	if ip -n "$NODE" link show "$h" >/dev/null 2>&1; then
		echo link >>"$T/stage"
	elif [[ -e $DATA/$h.json ]]; then
		echo record >>"$T/stage"
	else
		echo none >>"$T/stage"
	fi
	if ((i % 2 == 0)); then
		cni DEL "k$i" "/run/netns/vnp-$S-p$i" eth0 "$CONF" >/dev/null || bad=$((bad + 1))
	fi
done
killed=$(grep -c '^137$' "$T/status")
echo "# $killed of $ROUNDS ADDs were killed, $(grep -c '^0$' "$T/status") completed"
echo "# state left by the kills: $(sort "$T/stage" | uniq -c | tr '\n' ' ')"
t_check "some ADDs were really killed mid-flight" test "$killed" -gt 0
t_check "some kills left a reservation or a link behind to clean" grep -qE 'record|link' "$T/stage"
t_check "the store was consistent after every kill and DEL" test "$bad" -eq 0
dels_gone() {
	local i
	for ((i = 0; i < ROUNDS; i += 2)); do
		! ip -n "$NODE" link show "${HOST[$i]}" >/dev/null 2>&1 || return 1
	done
}
t_check "no half-made link of a DELed attachment is left (once the reaper ran)" wait_until dels_gone

# GC with no valid attachments cleans what the odd rounds left
jq '. + {"cni.dev/valid-attachments": []}' "$CONF" >"$T/gc.json"
t_check "GC after the kills succeeds" cni GC "" "" "" "$T/gc.json"
t_check "the store is clean" store_clean
t_check "no temp files are left" test -z "$(ls "$DATA" | grep tmp)"
t_check "no host veth is left" wait_until no_node_links
t_check "no host route is left" test -z "$(ip -n "$NODE" route show | grep '^10\.200\.')"
ns=$(pod_ns fresh)
out=$(cni ADD fresh "$ns" eth0 "$CONF")
t_check "a fresh ADD works afterwards" jq -e '.ips | length == 2' <<<"$out"
t_check "... and DEL of it too" cni DEL fresh "$ns" eth0 "$CONF"
t_done
