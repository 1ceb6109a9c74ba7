/* uapi.c - WireGuard's userspace text protocol: encoding, parsing, socket. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <sodium.h>
#include <veilnet/file.h>
#include "uapi.h"

/* A growing text that wipes what it leaves behind (it may hold a key). */
struct text {
	char *s;
	size_t len;
	size_t cap;
	bool oom;
};

static void text_reserve(struct text *t, size_t more)
{
	size_t cap = t->cap ? t->cap : 4096;
	char *grown;

	if (t->oom || t->len + more + 1 <= t->cap)
		return;
	while (cap < t->len + more + 1)
		cap *= 2;
	grown = malloc(cap);
	if (!grown) {
		t->oom = true;
		return;
	}
	if (t->s) {
		memcpy(grown, t->s, t->len + 1);
		sodium_memzero(t->s, t->cap);
		free(t->s);
	} else {
		grown[0] = '\0';
	}
	t->s = grown;
	t->cap = cap;
}

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	text_reserve(t, (size_t)n);
	if (t->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	t->len += (size_t)n;
}

void uapi_text_free(char *text, size_t len)
{
	if (text)
		sodium_memzero(text, len);
	free(text);
}

const char *uapi_endpoint_str(const struct vn_addr *a, uint16_t port, char *buf)
{
	char ip[VN_ADDR_STRLEN];

	vn_addr_str(a, ip);
	if (a->family == AF_INET6)
		snprintf(buf, 64, "[%s]:%u", ip, port);
	else
		snprintf(buf, 64, "%s:%u", ip, port);
	return buf;
}

int uapi_endpoint_parse(const char *s, struct vn_addr *a, uint16_t *port)
{
	char buf[64];
	const char *colon;
	char *end;
	unsigned long p;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -1;
		n = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (vn_addr_parse(buf, a))
		return -1;
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	p = strtoul(colon + 1, &end, 10);
	if (*end || p > 65535)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static void encode_peer(struct text *t, const struct wg_peer *p)
{
	char hex[WG_KEY_HEX_LEN], ep[64], pfx[VN_PREFIX_STRLEN];

	text_add(t, "public_key=%s\n", wg_key_to_hex(&p->public_key, hex));
	if (p->flags & WG_PEER_REMOVE) {
		text_add(t, "remove=true\n");
		return;
	}
	if (p->flags & WG_PEER_UPDATE_ONLY)
		text_add(t, "update_only=true\n");
	if (p->flags & WG_PEER_HAS_PSK) {
		text_add(t, "preshared_key=%s\n", wg_key_to_hex(&p->preshared_key, hex));
		sodium_memzero(hex, sizeof(hex));
	}
	if (p->flags & WG_PEER_HAS_ENDPOINT)
		text_add(t, "endpoint=%s\n", uapi_endpoint_str(&p->endpoint, p->endpoint_port, ep));
	if (p->flags & WG_PEER_HAS_KEEPALIVE)
		text_add(t, "persistent_keepalive_interval=%u\n", p->keepalive);
	if (p->flags & WG_PEER_REPLACE_ALLOWEDIPS)
		text_add(t, "replace_allowed_ips=true\n");
	for (size_t i = 0; i < p->n_allowedips; i++)
		text_add(t, "allowed_ip=%s\n", vn_prefix_str(&p->allowedips[i], pfx));
}

int uapi_encode_set(const struct wg_device *d, char **out, size_t *len, struct vn_err *e)
{
	struct text t = { 0 };
	char hex[WG_KEY_HEX_LEN];

	text_add(&t, "set=1\n");
	if (d->flags & WG_DEV_HAS_PRIVATE_KEY) {
		text_add(&t, "private_key=%s\n", wg_key_to_hex(&d->private_key, hex));
		sodium_memzero(hex, sizeof(hex));
	}
	if (d->flags & WG_DEV_HAS_PORT)
		text_add(&t, "listen_port=%u\n", d->listen_port);
	if (d->flags & WG_DEV_HAS_FWMARK)
		text_add(&t, "fwmark=%" PRIu32 "\n", d->fwmark);
	if (d->flags & WG_DEV_REPLACE_PEERS)
		text_add(&t, "replace_peers=true\n");
	for (size_t i = 0; i < d->n_peers; i++)
		encode_peer(&t, &d->peers[i]);
	text_add(&t, "\n");
	if (t.oom) {
		uapi_text_free(t.s, t.cap);
		return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
	}
	*out = t.s;
	*len = t.len;
	return 0;
}

/* ---- parsing ---- */

struct parse {
	struct wg_device *d;
	struct wg_peer *peer;	/* the current peer, NULL before the first */
	struct vn_err *e;
};

static int bad_value(struct parse *ps, const char *key, const char *value)
{
	/* Never echo a key's value: it may be the private key. */
	if (strstr(key, "key"))
		value = "(hidden)";
	return vn_errf(ps->e, VN_E_DECODE, "decoding failure", "wireguard uapi: bad %s=%.64s",
		       key, value);
}

static int parse_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno || v > max)
		return -1;
	*out = v;
	return 0;
}

static bool is_true(const char *v)
{
	return strcmp(v, "true") == 0;
}

static int parse_device_key(struct parse *ps, const char *k, const char *v)
{
	struct wg_device *d = ps->d;
	uint64_t n;

	if (strcmp(k, "private_key") == 0) {
		if (wg_key_from_hex(v, &d->private_key))
			return bad_value(ps, k, v);
		d->flags |= WG_DEV_HAS_PRIVATE_KEY;
	} else if (strcmp(k, "listen_port") == 0) {
		if (parse_num(v, 65535, &n))
			return bad_value(ps, k, v);
		d->listen_port = (uint16_t)n;
		d->flags |= WG_DEV_HAS_PORT;
	} else if (strcmp(k, "fwmark") == 0) {
		if (parse_num(v, UINT32_MAX, &n))
			return bad_value(ps, k, v);
		d->fwmark = (uint32_t)n;
		d->flags |= WG_DEV_HAS_FWMARK;
	} else if (strcmp(k, "replace_peers") == 0) {
		if (is_true(v))
			d->flags |= WG_DEV_REPLACE_PEERS;
	}
	return 0;
}

static int parse_peer_num(struct parse *ps, const char *k, const char *v)
{
	struct wg_peer *p = ps->peer;
	uint64_t n;

	if (strcmp(k, "persistent_keepalive_interval") == 0) {
		if (parse_num(v, 65535, &n))
			return bad_value(ps, k, v);
		p->keepalive = (uint16_t)n;
		p->flags |= WG_PEER_HAS_KEEPALIVE;
		return 0;
	}
	if (parse_num(v, INT64_MAX, &n))
		return bad_value(ps, k, v);
	if (strcmp(k, "last_handshake_time_sec") == 0)
		p->last_handshake_sec = (int64_t)n;
	else if (strcmp(k, "last_handshake_time_nsec") == 0)
		p->last_handshake_nsec = (int64_t)n;
	else if (strcmp(k, "rx_bytes") == 0)
		p->rx_bytes = n;
	else if (strcmp(k, "tx_bytes") == 0)
		p->tx_bytes = n;
	return 0;
}

static int parse_peer_key(struct parse *ps, const char *k, const char *v)
{
	struct wg_peer *p = ps->peer;
	struct vn_prefix ip;

	if (strcmp(k, "allowed_ip") == 0) {
		if (vn_prefix_parse(v, &ip))
			return bad_value(ps, k, v);
		if (wg_peer_add_allowedip(p, &ip))
			return vn_errf(ps->e, VN_E_IO, "I/O error", "out of memory");
	} else if (strcmp(k, "endpoint") == 0) {
		if (uapi_endpoint_parse(v, &p->endpoint, &p->endpoint_port))
			return bad_value(ps, k, v);
		p->flags |= WG_PEER_HAS_ENDPOINT;
	} else if (strcmp(k, "preshared_key") == 0) {
		if (wg_key_from_hex(v, &p->preshared_key))
			return bad_value(ps, k, v);
		if (!wg_key_is_zero(&p->preshared_key))
			p->flags |= WG_PEER_HAS_PSK;
	} else if (strcmp(k, "remove") == 0) {
		p->flags |= is_true(v) ? WG_PEER_REMOVE : 0;
	} else if (strcmp(k, "update_only") == 0) {
		p->flags |= is_true(v) ? WG_PEER_UPDATE_ONLY : 0;
	} else if (strcmp(k, "replace_allowed_ips") == 0) {
		p->flags |= is_true(v) ? WG_PEER_REPLACE_ALLOWEDIPS : 0;
	} else if (strcmp(k, "protocol_version") == 0) {
		return 0;
	} else {
		return parse_peer_num(ps, k, v);
	}
	return 0;
}

static int parse_line(struct parse *ps, char *line)
{
	char *eq = strchr(line, '=');
	struct wg_key key;
	uint64_t n;

	if (!eq)
		return vn_errf(ps->e, VN_E_DECODE, "decoding failure",
			       "wireguard uapi: line without '=': %.64s", line);
	*eq = '\0';
	if (strcmp(line, "errno") == 0) {
		/* wireguard-go answers a negative errno (-98 for EADDRINUSE), as
		 * wg(8) expects; a positive one means the same */
		if (parse_num(eq[1] == '-' ? eq + 2 : eq + 1, INT32_MAX, &n))
			return bad_value(ps, line, eq + 1);
		if (n) {
			errno = (int)n;
			return vn_errf(ps->e, VN_E_IO, "I/O error", "wireguard uapi: errno=%d (%s)",
				       (int)n, strerror((int)n));
		}
		return 0;
	}
	if (strcmp(line, "public_key") == 0) {
		if (wg_key_from_hex(eq + 1, &key))
			return bad_value(ps, line, eq + 1);
		ps->peer = wg_device_add_peer(ps->d, &key);
		if (!ps->peer)
			return vn_errf(ps->e, VN_E_IO, "I/O error", "out of memory");
		return 0;
	}
	if (!ps->peer)
		return parse_device_key(ps, line, eq + 1);
	return parse_peer_key(ps, line, eq + 1);
}

int uapi_parse(const char *text, size_t len, struct wg_device *d, struct vn_err *e)
{
	struct parse ps = { .d = d, .e = e };
	char line[256];
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		int ret;

		if (n == 0)
			break;	/* the empty line ends the message */
		if (n >= sizeof(line))
			return vn_errf(e, VN_E_DECODE, "decoding failure",
				       "wireguard uapi: line of %zu bytes is too long", n);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		if (memchr(line, '\0', n))
			return vn_errf(e, VN_E_DECODE, "decoding failure", "wireguard uapi: NUL byte");
		ps.peer = d->n_peers ? &d->peers[d->n_peers - 1] : NULL;
		ret = parse_line(&ps, line);
		sodium_memzero(line, sizeof(line));
		if (ret)
			return -1;
		pos += n + 1;
	}
	return 0;
}

/* ---- the socket edge ---- */

static int connect_uapi(const char *path, struct vn_err *e)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return vn_errf(e, VN_E_IO, "I/O error", "socket path too long: %s", path);
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = errno;

		close(fd);
		errno = err;
		return vn_errf(e, VN_E_IO, "I/O error", "connect %s: %s", path, strerror(err));
	}
	return fd;
}

/* Reads until the answer ends with an empty line (or EOF), 10 s at most
 * between two reads. */
static int read_answer(int fd, struct text *t, struct vn_err *e)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (t->len >= 2 && t->s[t->len - 1] == '\n' && t->s[t->len - 2] == '\n')
			return 0;
		text_reserve(t, 65536);
		if (t->oom)
			return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
		if (poll(&pfd, 1, 10000) == 0)
			return vn_errf(e, VN_E_IO, "I/O error", "wireguard uapi: no answer in 10 s");
		r = read(fd, t->s + t->len, t->cap - t->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return vn_errf(e, VN_E_IO, "I/O error", "wireguard uapi: read: %s",
				       strerror(errno));
		if (r == 0)
			return 0;
		t->len += (size_t)r;
		t->s[t->len] = '\0';
	}
}

/* Whoever serves the socket gets the private key (and answers get=1 with
 * it): it must be root or ourselves, and no one else may connect (write
 * to) the socket file. */
static int check_server(int fd, const char *path, struct vn_err *e)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct stat st;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return vn_errf(e, VN_E_IO, "I/O error", "wireguard uapi: %s: peer credentials: %s",
			       path, strerror(errno));
	if (cred.uid != 0 && cred.uid != geteuid()) {
		errno = EACCES;
		return vn_errf(e, VN_E_INVALID, "untrusted socket",
			       "%s is served by uid %u (pid %d), not root: refusing to talk to it "
			       "(it would get the private key)", path, (unsigned int)cred.uid,
			       (int)cred.pid);
	}
	if (lstat(path, &st) == 0 && (st.st_mode & 022)) {
		errno = EACCES;
		return vn_errf(e, VN_E_INVALID, "untrusted socket",
			       "%s has mode %04o: other users could read the device's private key "
			       "through it (chmod 700)", path, (unsigned int)(st.st_mode & 07777));
	}
	return 0;
}

int uapi_talk(struct wg_conn *c, const char *request, size_t len, char **answer,
	      size_t *answer_len, struct vn_err *e)
{
	struct text t = { 0 };
	int fd = connect_uapi(c->sock_path, e), err;

	if (fd < 0)
		return -1;
	if (check_server(fd, c->sock_path, e))
		goto fail;
	if (vn_write_all(fd, request, len)) {
		/* wireguard-go answers errno=N at the first line it refuses and
		 * closes: the rest of a long request meets a closed socket, and
		 * the answer already sent says why. */
		err = errno;
		if ((err != EPIPE && err != ECONNRESET) || read_answer(fd, &t, e) || t.len == 0) {
			vn_errf(e, VN_E_IO, "I/O error", "wireguard uapi: write %s: %s",
				c->sock_path, strerror(err));
			goto fail;
		}
	} else if (read_answer(fd, &t, e)) {
		goto fail;
	}
	c->stats.uapi_bytes += len;
	close(fd);
	c->stats.uapi_bytes += t.len;
	*answer = t.s;
	*answer_len = t.len;
	return 0;
fail:
	close(fd);
	uapi_text_free(t.s, t.cap);
	return -1;
}

pid_t uapi_server_pid(const char *path)
{
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);
	struct vn_err e;
	int fd = connect_uapi(path, &e);

	if (fd < 0)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		cred.pid = 0;
	close(fd);
	return cred.pid > 0 ? cred.pid : 0;
}

int uapi_get_device(struct wg_conn *c, struct wg_device *out, struct vn_err *e)
{
	static const char req[] = "get=1\n\n";
	char *answer = NULL;
	size_t len = 0;
	int ret;

	if (uapi_talk(c, req, sizeof(req) - 1, &answer, &len, e))
		return -1;
	ret = uapi_parse(answer, len, out, e);
	uapi_text_free(answer, len);
	if (ret)
		return vn_err_wrap(e, "%s", c->ifname);
	if ((out->flags & WG_DEV_HAS_PRIVATE_KEY) &&
	    !wg_key_is_zero(&out->private_key)) {
		crypto_scalarmult_curve25519_base(out->public_key.b, out->private_key.b);
		out->flags |= WG_DEV_HAS_PUBLIC_KEY;
	}
	return 0;
}

int uapi_set_device(struct wg_conn *c, const struct wg_device *d, struct vn_err *e)
{
	struct wg_device answer_dev;
	char *req = NULL, *answer = NULL;
	size_t len = 0, answer_len = 0;
	int ret = -1;

	if (uapi_encode_set(d, &req, &len, e))
		return -1;
	if (uapi_talk(c, req, len, &answer, &answer_len, e))
		goto out;
	wg_device_init(&answer_dev, NULL);
	ret = uapi_parse(answer, answer_len, &answer_dev, e);
	wg_device_free(&answer_dev);
	if (ret)
		vn_err_wrap(e, "%s: set", c->ifname);
out:
	uapi_text_free(req, len);
	uapi_text_free(answer, answer_len);
	return ret;
}

bool uapi_alive(const char *path)
{
	struct vn_err e;
	int fd = connect_uapi(path, &e);

	/* A listener answers connect; a stale socket file refuses it. Cheap:
	 * no get=1, whose answer grows with the peers. */
	if (fd < 0)
		return false;
	close(fd);
	return true;
}
