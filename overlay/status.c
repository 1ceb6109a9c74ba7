/* status.c - status as text or JSON. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "reconcile.h"
#include "status.h"
#include "uapi.h"

static const char *node_of(const struct mesh *m, const struct wg_key *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->nodes[i].has_key && wg_key_cmp(&m->nodes[i].public_key, k) == 0)
			return m->nodes[i].name;
	return NULL;
}

static json_t *peer_json(const struct wg_peer *p, const struct mesh *m)
{
	char b64[WG_KEY_B64_LEN], ep[64], pfx[VN_PREFIX_STRLEN];
	json_t *o = json_object(), *ips = json_array();
	const char *node = node_of(m, &p->public_key);

	json_object_set_new(o, "publicKey", json_string(wg_key_to_base64(&p->public_key, b64)));
	json_object_set_new(o, "node", node ? json_string(node) : json_null());
	json_object_set_new(o, "endpoint", (p->flags & WG_PEER_HAS_ENDPOINT) ?
			    json_string(uapi_endpoint_str(&p->endpoint, p->endpoint_port, ep)) :
			    json_null());
	for (size_t i = 0; i < p->n_allowedips; i++)
		json_array_append_new(ips, json_string(vn_prefix_str(&p->allowedips[i], pfx)));
	json_object_set_new(o, "allowedIPs", ips);
	json_object_set_new(o, "latestHandshake", json_integer(p->last_handshake_sec));
	json_object_set_new(o, "rxBytes", json_integer((json_int_t)p->rx_bytes));
	json_object_set_new(o, "txBytes", json_integer((json_int_t)p->tx_bytes));
	json_object_set_new(o, "persistentKeepalive", json_integer(p->keepalive));
	return o;
}

json_t *status_json(const struct wg_device *d, const char *backend, unsigned int mtu, bool up,
		    const struct mesh *m)
{
	char b64[WG_KEY_B64_LEN];
	json_t *o = json_object(), *peers = json_array();

	json_object_set_new(o, "interface", json_string(d->ifname));
	json_object_set_new(o, "backend", json_string(backend));
	json_object_set_new(o, "publicKey", (d->flags & WG_DEV_HAS_PUBLIC_KEY) ?
			    json_string(wg_key_to_base64(&d->public_key, b64)) : json_null());
	json_object_set_new(o, "listenPort", json_integer(d->listen_port));
	json_object_set_new(o, "fwmark", json_integer((d->flags & WG_DEV_HAS_FWMARK) ? d->fwmark : 0));
	json_object_set_new(o, "mtu", json_integer(mtu));
	json_object_set_new(o, "up", json_boolean(up));
	for (size_t i = 0; i < d->n_peers; i++)
		json_array_append_new(peers, peer_json(&d->peers[i], m));
	json_object_set_new(o, "peers", peers);
	return o;
}

static void print_handshake(FILE *out, int64_t sec)
{
	long ago;

	if (sec == 0) {
		fprintf(out, "  latest handshake: never\n");
		return;
	}
	ago = (long)(time(NULL) - sec);
	fprintf(out, "  latest handshake: %ld seconds ago\n", ago < 0 ? 0 : ago);
}

static void print_text(FILE *out, const json_t *s, const struct wg_device *d)
{
	const json_t *peers = json_object_get(s, "peers"), *p, *ip;
	size_t i, j;

	fprintf(out, "interface: %s (%s backend)\n", d->ifname,
		json_string_value(json_object_get(s, "backend")));
	fprintf(out, "  public key: %s\n", json_string_value(json_object_get(s, "publicKey")) ?:
		"(none)");
	if ((d->flags & WG_DEV_HAS_FWMARK) && d->fwmark)
		fprintf(out, "  fwmark: 0x%x\n", (unsigned int)d->fwmark);
	fprintf(out, "  listening port: %u\n  mtu: %lld, %s\n", d->listen_port,
		json_integer_value(json_object_get(s, "mtu")),
		json_is_true(json_object_get(s, "up")) ? "up" : "DOWN");
	json_array_foreach(peers, i, p) {
		const char *node = json_string_value(json_object_get(p, "node"));

		fprintf(out, "\npeer: %s%s%s%s\n", json_string_value(json_object_get(p, "publicKey")),
			node ? " (node " : "", node ? node : "", node ? ")" : "");
		fprintf(out, "  endpoint: %s\n  allowed ips:",
			json_string_value(json_object_get(p, "endpoint")) ?: "(none)");
		json_array_foreach(json_object_get(p, "allowedIPs"), j, ip)
			fprintf(out, "%s %s", j ? "," : "", json_string_value(ip));
		fprintf(out, "%s\n", json_array_size(json_object_get(p, "allowedIPs")) ? "" : " (none)");
		print_handshake(out, d->peers[i].last_handshake_sec);
		fprintf(out, "  transfer: %llu B received, %llu B sent\n",
			(unsigned long long)d->peers[i].rx_bytes,
			(unsigned long long)d->peers[i].tx_bytes);
	}
}

int status_show(const char *ifname, const struct mesh *m, bool json, FILE *out)
{
	struct vn_err e = { 0 };
	struct wg_conn conn;
	struct wg_device d;
	struct rt_link link;
	json_t *s;
	char *text;

	if (reconcile_open(ifname, &conn, &link, &e)) {
		fprintf(stderr, "veilnet-mesh: %s: %s\n", e.msg, e.details);
		return 1;
	}
	if (wg_get_device(&conn, &d, &e)) {
		wg_close(&conn);
		fprintf(stderr, "veilnet-mesh: %s: %s\n", e.msg, e.details);
		return 1;
	}
	snprintf(d.ifname, sizeof(d.ifname), "%s", ifname);
	s = status_json(&d, backend_name(conn.backend), link.mtu, link.up, m);
	if (json) {
		text = json_dumps(s, JSON_INDENT(2));
		fprintf(out, "%s\n", text ? text : "{}");
		free(text);
	} else {
		print_text(out, s, &d);
	}
	json_decref(s);
	wg_device_free(&d);
	wg_close(&conn);
	return 0;
}
