#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <veilnet/file.h>
#include <veilnet/json.h>
#include "ipam.h"
#include "name.h"
#include "store.h"

#define IO(e, ...) vn_errf(e, VN_E_IO, "I/O error", __VA_ARGS__)
#define LINK_MAX_NAME (3 + VN_ADDR_STRLEN)

int store_open(struct store *s, const char *dir, bool create, struct vn_err *e)
{
	s->dirfd = -1;
	s->lockfd = -1;
	s->tmpfd = -1;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0 && errno == ENOENT && create) {
		if (vn_mkdir_p(dir, 0755, e))
			return -1;
		s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (s->dirfd < 0)
		return IO(e, "open data directory %s: %s", dir, strerror(errno));
	return 0;
}

static void drop_tmp(struct store *s)
{
	if (s->tmpfd < 0)
		return;
	close(s->tmpfd);
	s->tmpfd = -1;
	unlinkat(s->dirfd, s->tmpname, 0);
}

void store_close(struct store *s)
{
	drop_tmp(s);
	store_unlock(s);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
}

int store_lock(struct store *s, struct vn_err *e)
{
	s->hint_loaded = false;	/* another process may have moved it */
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0)
		return IO(e, "open %s/lock: %s", s->dir, strerror(errno));
	while (flock(s->lockfd, LOCK_EX)) {
		if (errno == EINTR)
			continue;
		IO(e, "lock %s/lock: %s", s->dir, strerror(errno));
		close(s->lockfd);
		s->lockfd = -1;
		return -1;
	}
	return 0;
}

void store_unlock(struct store *s)
{
	if (s->lockfd >= 0)
		close(s->lockfd);	/* closing drops the flock */
	s->lockfd = -1;
}

void store_recname(const char *host_ifname, char out[STORE_RECNAME_MAX])
{
	snprintf(out, STORE_RECNAME_MAX, "%s.json", host_ifname);
}

static void link_name(const struct vn_addr *a, char out[LINK_MAX_NAME])
{
	char buf[VN_ADDR_STRLEN];

	snprintf(out, LINK_MAX_NAME, "ip-%s", vn_addr_str(a, buf));
}

static int set_str(json_t *o, const char *key, const char *v)
{
	return v ? json_object_set_new(o, key, json_string(v)) : 0;
}

char *store_record_json(const struct store_record *r)
{
	json_t *o = json_object(), *ips = json_array();
	char buf[VN_ADDR_STRLEN], *text = NULL;
	int bad = !o || !ips;

	for (size_t i = 0; !bad && i < r->n_ips; i++)
		bad |= json_array_append_new(ips, json_string(vn_addr_str(&r->ips[i], buf)));
	if (!bad) {
		bad |= set_str(o, "containerID", r->container_id);
		bad |= set_str(o, "ifname", r->ifname);
		bad |= set_str(o, "hostIfname", r->host_ifname);
		bad |= set_str(o, "netns", r->netns);
		bad |= json_object_set(o, "ips", ips);
		bad |= set_str(o, "K8S_POD_NAMESPACE", r->pod_namespace);
		bad |= set_str(o, "K8S_POD_NAME", r->pod_name);
		bad |= set_str(o, "ipam", r->ipam);
	}
	if (!bad)
		text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(ips);
	json_decref(o);
	return text;
}

int store_record_parse(const char *text, size_t len, struct store_record *r, struct vn_err *e)
{
	json_t *ips, *v;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->root = vn_json_parse(text, len, "record", e);
	if (!r->root)
		return -1;
	if (vn_json_str(r->root, "containerID", true, &r->container_id, "record", e) ||
	    vn_json_str(r->root, "ifname", true, &r->ifname, "record", e) ||
	    vn_json_str(r->root, "hostIfname", true, &r->host_ifname, "record", e) ||
	    vn_json_str(r->root, "netns", false, &r->netns, "record", e) ||
	    vn_json_str(r->root, "K8S_POD_NAMESPACE", false, &r->pod_namespace, "record", e) ||
	    vn_json_str(r->root, "K8S_POD_NAME", false, &r->pod_name, "record", e) ||
	    vn_json_str(r->root, "ipam", false, &r->ipam, "record", e) ||
	    vn_json_arr(r->root, "ips", true, &ips, "record", e))
		goto bad;
	json_array_foreach(ips, i, v) {
		if (i >= STORE_MAX_IPS || vn_addr_parse(json_string_value(v), &r->ips[i])) {
			vn_errf(e, VN_E_DECODE, "decoding failure", "record: bad ips[%zu]", i);
			goto bad;
		}
		r->n_ips = i + 1;
	}
	return 0;
bad:
	e->code = VN_E_DECODE;
	return -1;
}

void store_record_free(struct store_record *r)
{
	if (r->root)
		json_decref(r->root);
	memset(r, 0, sizeof(*r));
}

/* Reads a small file relative to the data dir into buf; -1 if absent. */
static ssize_t read_small(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* The record name a record's text belongs to ("<hostIfname>.json"). */
static bool recname_of(const char *text, char out[STORE_RECNAME_MAX])
{
	static const char key[] = "\"hostIfname\":\"";
	const char *p = strstr(text, key), *end;

	if (!p)
		return false;
	p += sizeof(key) - 1;
	end = strchr(p, '"');
	if (!end || end - p > HOST_IFNAME_LEN)
		return false;
	snprintf(out, STORE_RECNAME_MAX, "%.*s.json", (int)(end - p), p);
	return true;
}

bool store_ip_taken(struct store *s, const struct vn_addr *a)
{
	char name[LINK_MAX_NAME], text[4096], quoted[VN_ADDR_STRLEN + 2], rec[STORE_RECNAME_MAX];
	char buf[VN_ADDR_STRLEN];
	struct stat link_st, rec_st;
	ssize_t n;
	int fd;

	link_name(a, name);
	fd = openat(s->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = fstat(fd, &link_st) ? -1 : read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return false;
	text[n] = '\0';
	snprintf(quoted, sizeof(quoted), "\"%s\"", vn_addr_str(a, buf));
	/* live: the link is the record itself (same inode) and lists a */
	return strstr(text, quoted) && recname_of(text, rec) &&
	       fstatat(s->dirfd, rec, &rec_st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       rec_st.st_ino == link_st.st_ino && rec_st.st_dev == link_st.st_dev;
}

static bool taken_cb(void *ctx, const struct vn_addr *a)
{
	return store_ip_taken(ctx, a);
}

/* Reads the round-robin hint from the lock file's content, "<v4>,<v6>\n"
 * (either may be empty), once per hold of the lock. A torn or foreign
 * content is no hint: allocation starts at the range start. */
static void load_hint(struct store *s)
{
	char buf[2 * VN_ADDR_STRLEN + 4], *comma, *nl;
	struct vn_addr a;
	ssize_t n;

	if (s->hint_loaded)
		return;
	s->hint_loaded = true;
	memset(&s->last4, 0, sizeof(s->last4));
	memset(&s->last6, 0, sizeof(s->last6));
	n = pread(s->lockfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return;
	buf[n] = '\0';
	comma = strchr(buf, ',');
	nl = comma ? strchr(comma, '\n') : NULL;
	if (!nl)
		return;
	*comma = *nl = '\0';
	if (vn_addr_parse(buf, &a) == 0 && a.family == AF_INET)
		s->last4 = a;
	if (vn_addr_parse(comma + 1, &a) == 0 && a.family == AF_INET6)
		s->last6 = a;
}

/* The last address of family handed out, if the hint has one. */
static bool read_last(struct store *s, int family, struct vn_addr *out)
{
	load_hint(s);
	*out = family == AF_INET ? s->last4 : s->last6;
	return out->family == family;
}

/* Records the addresses just handed out (the other family's kept) in the
 * lock file. Only a hint, rewritten in place without fsync: a torn write
 * just restarts allocation at the range start. */
static void write_last(struct store *s, const struct vn_addr *ips, size_t n)
{
	char a[VN_ADDR_STRLEN] = "", b[VN_ADDR_STRLEN] = "", text[2 * VN_ADDR_STRLEN + 4];
	int len;

	load_hint(s);
	for (size_t i = 0; i < n; i++) {
		if (ips[i].family == AF_INET)
			s->last4 = ips[i];
		else
			s->last6 = ips[i];
	}
	if (s->last4.family)
		vn_addr_str(&s->last4, a);
	if (s->last6.family)
		vn_addr_str(&s->last6, b);
	len = snprintf(text, sizeof(text), "%s,%s\n", a, b);
	if (pwrite(s->lockfd, text, (size_t)len, 0) == len && ftruncate(s->lockfd, len) == 0) {
		/* done */
	}
}

/* Removes the ip- links of ips that are hard links of inode ino. */
static void unlink_ips(struct store *s, const struct stat *rec, const struct vn_addr *ips,
		       size_t n)
{
	char name[LINK_MAX_NAME];
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		link_name(&ips[i], name);
		if (fstatat(s->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_ino == rec->st_ino && st.st_dev == rec->st_dev)
			unlinkat(s->dirfd, name, 0);
	}
}

/* Makes ip-<a> a hard link of file `from`, replacing a stale link. */
static int make_link(struct store *s, const char *from, const struct vn_addr *a, struct vn_err *e)
{
	char name[LINK_MAX_NAME];

	link_name(a, name);
	if (linkat(s->dirfd, from, s->dirfd, name, 0) == 0)
		return 0;
	if (errno == EEXIST && unlinkat(s->dirfd, name, 0) == 0 &&
	    linkat(s->dirfd, from, s->dirfd, name, 0) == 0)
		return 0;	/* replaced a stale link (the caller checked it is free) */
	return IO(e, "create %s/%s: %s", s->dir, name, strerror(errno));
}

/* Chooses the address for set idx: the requested one or the next free. */
static int choose(struct store *s, const struct plugin_config *c, size_t idx,
		  const struct vn_addr *req, size_t n_req, struct vn_addr *out, struct vn_err *e)
{
	const struct ipam_rangeset *set = &c->sets[idx];
	char buf[VN_ADDR_STRLEN];
	struct vn_addr last;

	for (size_t i = 0; i < n_req; i++) {
		if (req[i].family != set->family)
			continue;
		if (store_ip_taken(s, &req[i]))
			return vn_errf(e, VN_E_INVALID, "invalid configuration",
				       "requested address %s is already in use",
				       vn_addr_str(&req[i], buf));
		*out = req[i];
		return 0;
	}
	if (ipam_pick(set, read_last(s, set->family, &last) ? &last : NULL, taken_cb, s, out))
		return vn_errf(e, VN_E_AGAIN, "no IP addresses available",
			       "every IPv%d address of the range set starting at %s is taken",
			       set->family == AF_INET ? 4 : 6, vn_addr_str(&set->r[0].start, buf));
	return 0;
}

static int check_requests(const struct plugin_config *c, const struct vn_addr *req, size_t n_req,
			  struct vn_err *e)
{
	char buf[VN_ADDR_STRLEN];

	for (size_t i = 0; i < n_req; i++)
		if (ipam_find_set(c->sets, c->n_sets, &req[i]) < 0)
			return vn_errf(e, VN_E_INVALID, "invalid configuration",
				       "requested address %s is not in any range of network %s "
				       "(or is a network, broadcast or gateway address)",
				       vn_addr_str(&req[i], buf), c->name);
	return 0;
}

int store_reserve(struct store *s, const struct plugin_config *c, const char *recname,
		  const struct vn_addr *req, size_t n_req, struct vn_addr *out, size_t *n_out,
		  struct vn_err *e)
{
	(void)recname;
	*n_out = 0;
	if (check_requests(c, req, n_req, e))
		return -1;
	for (size_t i = 0; i < c->n_sets; i++) {
		if (choose(s, c, i, req, n_req, &out[i], e))
			return -1;
		*n_out = i + 1;
	}
	return 0;
}

/* The record is written like vn_write_atomic does (temp file, fsync,
 * rename), in two halves so that the slow fsync can overlap other work:
 * store_stage writes the temp file, store_finish makes it durable, makes
 * the reservation links and renames it into place. The links are hard
 * links of the record-to-be, so the record never exists without them, and
 * until the rename they are stale (their record does not exist yet), i.e.
 * free. */
int store_prepare(struct store *s, const char *recname, struct vn_err *e)
{
	drop_tmp(s);
	snprintf(s->tmpname, sizeof(s->tmpname), "%s.tmp.%d", recname, (int)getpid());
	s->tmpfd = openat(s->dirfd, s->tmpname, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->tmpfd < 0)
		return IO(e, "create %s/%s: %s", s->dir, s->tmpname, strerror(errno));
	return 0;
}

int store_stage(struct store *s, const char *recname, const struct store_record *r,
		struct vn_err *e)
{
	char *text;
	int ret = 0;

	if (s->tmpfd < 0 && store_prepare(s, recname, e))
		return -1;
	text = store_record_json(r);
	if (!text)
		return IO(e, "out of memory");
	if (vn_write_all(s->tmpfd, text, strlen(text)))
		ret = IO(e, "write %s/%s: %s", s->dir, s->tmpname, strerror(errno));
	free(text);
	if (ret)
		drop_tmp(s);
	return ret;
}

int store_finish(struct store *s, const char *recname, const struct vn_addr *ips, size_t n_ips,
		 struct vn_err *e)
{
	struct stat st = { 0 };
	size_t made = 0;

	if (s->tmpfd < 0)
		return IO(e, "%s/%s: nothing staged", s->dir, recname);
	if (fsync(s->tmpfd) || fstat(s->tmpfd, &st)) {
		IO(e, "write %s/%s: %s", s->dir, s->tmpname, strerror(errno));
		goto fail;
	}
	close(s->tmpfd);
	s->tmpfd = -1;
	for (; made < n_ips; made++)
		if (make_link(s, s->tmpname, &ips[made], e))
			goto fail;
	if (renameat(s->dirfd, s->tmpname, s->dirfd, recname)) {
		IO(e, "rename %s/%s: %s", s->dir, recname, strerror(errno));
		goto fail;
	}
	if (n_ips)
		write_last(s, ips, n_ips);
	return 0;
fail:
	unlink_ips(s, &st, ips, made);
	if (s->tmpfd >= 0)
		close(s->tmpfd);
	s->tmpfd = -1;
	unlinkat(s->dirfd, s->tmpname, 0);
	return -1;
}

int store_commit(struct store *s, const char *recname, const struct store_record *r,
		 bool reserve, struct vn_err *e)
{
	if (store_stage(s, recname, r, e))
		return -1;
	return store_finish(s, recname, r->ips, reserve ? r->n_ips : 0, e);
}

int store_get_record(struct store *s, const char *recname, struct store_record *r,
		     struct vn_err *e)
{
	char buf[4096];
	ssize_t n;

	memset(r, 0, sizeof(*r));
	n = read_small(s->dirfd, recname, buf, sizeof(buf));
	if (n < 0 && errno == ENOENT)
		return 1;
	if (n < 0)
		return IO(e, "read %s/%s: %s", s->dir, recname, strerror(errno));
	if (store_record_parse(buf, (size_t)n, r, e))
		return vn_err_wrap(e, "%s/%s", s->dir, recname);
	return 0;
}

int store_release(struct store *s, const char *recname, struct store_record *old,
		  struct vn_err *e)
{
	struct store_record r;
	struct stat st;
	int got;

	if (fstatat(s->dirfd, recname, &st, AT_SYMLINK_NOFOLLOW)) {
		if (old)
			memset(old, 0, sizeof(*old));
		return errno == ENOENT ? 0 : IO(e, "stat %s/%s: %s", s->dir, recname, strerror(errno));
	}
	got = store_get_record(s, recname, &r, e);
	if (got != 0)
		memset(&r, 0, sizeof(r));	/* unreadable: its links are stale once it goes */
	if (unlinkat(s->dirfd, recname, 0) && errno != ENOENT) {
		store_record_free(&r);
		return IO(e, "remove %s/%s: %s", s->dir, recname, strerror(errno));
	}
	unlink_ips(s, &st, r.ips, r.n_ips);
	if (old)
		*old = r;
	else
		store_record_free(&r);
	return 0;
}

int store_set_has_free(struct store *s, const struct ipam_rangeset *set)
{
	struct vn_addr a;

	return ipam_pick(set, NULL, taken_cb, s, &a);
}

static bool is_record_name(const char *n)
{
	size_t len = strlen(n);
	char host[HOST_IFNAME_LEN + 1];

	if (len != HOST_IFNAME_LEN + 5 || strcmp(n + HOST_IFNAME_LEN, ".json") != 0)
		return false;
	memcpy(host, n, HOST_IFNAME_LEN);
	host[HOST_IFNAME_LEN] = '\0';
	return name_is_host_ifname(host);
}

/* Removes an ip- link unless it is a live reservation. */
static void gc_link(struct store *s, const char *name)
{
	struct vn_addr a;

	if (vn_addr_parse(name + 3, &a) == 0 && store_ip_taken(s, &a))
		return;
	unlinkat(s->dirfd, name, 0);
}

static int gc_records(struct store *s, DIR *d, bool (*keep)(void *, const char *),
		      store_gc_fn drop, void *ctx, struct vn_err *e)
{
	struct dirent *de;
	int released = 0;

	while ((de = readdir(d))) {
		struct store_record r;

		if (!is_record_name(de->d_name) || keep(ctx, de->d_name))
			continue;
		if (store_release(s, de->d_name, &r, e))
			return -1;
		if (drop && r.host_ifname)
			drop(ctx, &r);
		store_record_free(&r);
		released++;
	}
	return released;
}

static void gc_leftovers(struct store *s, DIR *d)
{
	struct dirent *de;

	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "ip-", 3) == 0)
			gc_link(s, de->d_name);
		else if (strstr(de->d_name, ".tmp."))
			unlinkat(s->dirfd, de->d_name, 0);
	}
}

int store_gc(struct store *s, bool (*keep)(void *ctx, const char *recname),
	     store_gc_fn drop, void *ctx, struct vn_err *e)
{
	int fd = dup(s->dirfd), released;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return IO(e, "read directory %s: %s", s->dir, strerror(errno));
	}
	released = gc_records(s, d, keep, drop, ctx, e);
	if (released >= 0) {
		rewinddir(d);
		gc_leftovers(s, d);
	}
	closedir(d);
	return released;
}
