/* mesh.c - NodeList, Node and mesh file JSON into struct mesh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <veilnet/json.h>
#include "mesh.h"

void mesh_init(struct mesh *m)
{
	memset(m, 0, sizeof(*m));
	m->default_port = MESH_DEFAULT_PORT;
}

void mesh_free(struct mesh *m)
{
	struct mesh keep = *m;

	free(m->nodes);
	mesh_init(m);
	m->default_port = keep.default_port;
	memcpy(m->cluster_cidrs, keep.cluster_cidrs, sizeof(m->cluster_cidrs));
	m->n_cluster_cidrs = keep.n_cluster_cidrs;
}

/* Errors that name the object and the field path. */
static int field_err(struct vn_err *e, const char *where, const char *field, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));
static int field_err(struct vn_err *e, const char *where, const char *field, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return vn_errf(e, VN_E_INVALID, "invalid mesh description", "%s: field \"%s\": %s",
		       where, field, what);
}

/* obj[key] of the given jansson type, NULL when absent or null. */
static json_t *get_typed(const json_t *obj, const char *key, json_type type, const char *tname,
			 const char *where, const char *path, struct vn_err *e, int *rc)
{
	json_t *v = json_object_get(obj, key);

	*rc = 0;
	if (!v || json_is_null(v))
		return NULL;
	if (json_typeof(v) != type) {
		*rc = field_err(e, where, path, "expected %s", tname);
		return NULL;
	}
	return v;
}

static int parse_cidr(const json_t *v, const char *where, const char *path, struct mesh_node *n,
		      struct vn_err *e)
{
	struct vn_prefix p;

	if (!json_is_string(v))
		return field_err(e, where, path, "expected a string");
	if (vn_prefix_parse(json_string_value(v), &p))
		return field_err(e, where, path, "\"%.64s\" is not an IP prefix",
				 json_string_value(v));
	if (n->n_pod_cidrs == MESH_MAX_CIDRS)
		return field_err(e, where, path, "more than %d pod CIDRs", MESH_MAX_CIDRS);
	vn_prefix_canon(&p);
	n->pod_cidrs[n->n_pod_cidrs++] = p;
	return 0;
}

static int parse_cidr_list(const json_t *arr, const char *where, const char *field,
			   struct mesh_node *n, struct vn_err *e)
{
	char path[64];
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		snprintf(path, sizeof(path), "%s[%zu]", field, i);
		if (parse_cidr(v, where, path, n, e))
			return -1;
	}
	return 0;
}

static int parse_key_text(const char *s, const char *where, const char *field,
			  struct mesh_node *n, struct vn_err *e)
{
	if (wg_key_from_base64(s, &n->public_key))
		return field_err(e, where, field, "\"%.64s\" is not a base64 WireGuard key", s);
	n->has_key = true;
	return 0;
}

static int parse_port_num(long long v, const char *where, const char *field, struct mesh_node *n,
			  struct vn_err *e)
{
	if (v < 1 || v > 65535)
		return field_err(e, where, field, "port %lld is not in 1..65535", v);
	n->port = (uint16_t)v;
	return 0;
}

/* s without leading and trailing whitespace, into buf (size bytes);
 * NULL when that does not fit. */
static const char *trim(const char *s, char *buf, size_t size)
{
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
		       s[len - 1] == '\r'))
		len--;
	if (len >= size)
		return NULL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

/* A string annotation, trimmed into buf; NULL (and *rc 0) when absent. */
static const char *annotation(const json_t *ann, const char *key, const char *where,
			      const char *field, char *buf, size_t size, struct vn_err *e, int *rc)
{
	json_t *v = json_object_get(ann, key);
	const char *t;

	*rc = 0;
	if (!v)
		return NULL;
	if (!json_is_string(v)) {
		*rc = field_err(e, where, field, "expected a string");
		return NULL;
	}
	t = trim(json_string_value(v), buf, size);
	if (!t)		/* too long for what it should hold: the parser says why */
		t = json_string_value(v);
	return t;
}

static int k8s_annotations(const json_t *meta, const char *where, struct mesh_node *n,
			   struct vn_err *e)
{
	const char *kf = "metadata.annotations[\"" MESH_ANN_KEY "\"]";
	const char *pf = "metadata.annotations[\"" MESH_ANN_PORT "\"]";
	char kbuf[WG_KEY_B64_LEN + 1], pbuf[16];
	const char *v;
	json_t *ann;
	char *end;
	long long port;
	int rc;

	ann = get_typed(meta, "annotations", JSON_OBJECT, "an object", where,
			"metadata.annotations", e, &rc);
	if (!ann)
		return rc;
	v = annotation(ann, MESH_ANN_KEY, where, kf, kbuf, sizeof(kbuf), e, &rc);
	if (rc || (v && parse_key_text(v, where, kf, n, e)))
		return -1;
	v = annotation(ann, MESH_ANN_PORT, where, pf, pbuf, sizeof(pbuf), e, &rc);
	if (rc)
		return -1;
	if (!v)
		return 0;
	port = strtoll(v, &end, 10);
	if (*end || end == v || *v < '0' || *v > '9')
		return field_err(e, where, pf, "\"%.32s\" is not a port number", v);
	return parse_port_num(port, where, pf, n, e);
}

static int k8s_spec(const json_t *obj, const char *where, struct mesh_node *n, struct vn_err *e)
{
	json_t *spec, *list, *one;
	int rc;

	spec = get_typed(obj, "spec", JSON_OBJECT, "an object", where, "spec", e, &rc);
	if (!spec)
		return rc;
	list = get_typed(spec, "podCIDRs", JSON_ARRAY, "an array", where, "spec.podCIDRs", e, &rc);
	if (rc)
		return rc;
	if (list && json_array_size(list))
		return parse_cidr_list(list, where, "spec.podCIDRs", n, e);
	one = json_object_get(spec, "podCIDR");
	if (one && !json_is_null(one))
		return parse_cidr(one, where, "spec.podCIDR", n, e);
	return 0;
}

/* One status.addresses entry of the given type: its address into *a.
 * Returns 1 if it is of that type, 0 if not, -1 on error. */
static int k8s_address(const json_t *a, size_t i, const char *type, const char *where,
		       struct vn_addr *out, struct vn_err *e)
{
	json_t *t = json_object_get(a, "type"), *addr = json_object_get(a, "address");
	char path[64];

	snprintf(path, sizeof(path), "status.addresses[%zu].address", i);
	if (!json_is_object(a))
		return field_err(e, where, path, "expected an object");
	if (!json_is_string(t) || strcmp(json_string_value(t), type) != 0)
		return 0;
	if (!json_is_string(addr))
		return field_err(e, where, path, "expected a string");
	if (vn_addr_parse(json_string_value(addr), out))
		return field_err(e, where, path, "\"%.64s\" is not an IP address",
				 json_string_value(addr));
	return 1;
}

/* The first address of the type, and the first of the other family. */
static int k8s_addresses_of(const json_t *addrs, const char *type, const char *where,
			    struct mesh_node *n, struct vn_err *e)
{
	struct vn_addr a;
	size_t i;
	json_t *v;
	int rc;

	json_array_foreach(addrs, i, v) {
		if ((rc = k8s_address(v, i, type, where, &a, e)) < 0)
			return -1;
		if (rc == 0)
			continue;
		if (!n->has_address) {
			n->address = a;
			n->has_address = true;
		} else if (!n->has_alt_address && a.family != n->address.family) {
			n->alt_address = a;
			n->has_alt_address = true;
		}
	}
	return 0;
}

/* The underlay: the InternalIPs, else the ExternalIPs (never a Hostname:
 * it is not an address). */
static int k8s_status(const json_t *obj, const char *where, struct mesh_node *n, struct vn_err *e)
{
	json_t *status, *addrs;
	int rc;

	status = get_typed(obj, "status", JSON_OBJECT, "an object", where, "status", e, &rc);
	if (!status)
		return rc;
	addrs = get_typed(status, "addresses", JSON_ARRAY, "an array", where,
			  "status.addresses", e, &rc);
	if (!addrs)
		return rc;
	if (k8s_addresses_of(addrs, "InternalIP", where, n, e))
		return -1;
	if (!n->has_address && k8s_addresses_of(addrs, "ExternalIP", where, n, e))
		return -1;
	return 0;
}

int mesh_node_from_k8s(const json_t *obj, const char *where, struct mesh_node *n,
		       struct vn_err *e)
{
	char nwhere[MESH_NAME_MAX + 16];
	json_t *meta, *kind, *name;
	int rc;

	memset(n, 0, sizeof(*n));
	if (!json_is_object(obj))
		return vn_errf(e, VN_E_INVALID, "invalid mesh description", "%s: expected an object",
			       where);
	kind = json_object_get(obj, "kind");
	if (kind && (!json_is_string(kind) || strcmp(json_string_value(kind), "Node") != 0))
		return field_err(e, where, "kind", "expected \"Node\"");
	meta = get_typed(obj, "metadata", JSON_OBJECT, "an object", where, "metadata", e, &rc);
	if (!meta)
		return rc ? rc : field_err(e, where, "metadata.name", "is required");
	name = json_object_get(meta, "name");
	if (!json_is_string(name) || !*json_string_value(name) ||
	    strlen(json_string_value(name)) >= MESH_NAME_MAX)
		return field_err(e, where, "metadata.name", "expected a non-empty string");
	strcpy(n->name, json_string_value(name));
	snprintf(nwhere, sizeof(nwhere), "node \"%s\"", n->name);
	if (k8s_annotations(meta, nwhere, n, e) || k8s_spec(obj, nwhere, n, e) ||
	    k8s_status(obj, nwhere, n, e))
		return -1;
	return 0;
}

/* One node of a mesh file. */
static int file_node(const json_t *obj, const char *where, struct mesh_node *n, struct vn_err *e)
{
	char nwhere[MESH_NAME_MAX + 16];
	json_t *v;
	int rc;

	memset(n, 0, sizeof(*n));
	if (!json_is_object(obj))
		return vn_errf(e, VN_E_INVALID, "invalid mesh description", "%s: expected an object",
			       where);
	v = json_object_get(obj, "name");
	if (!json_is_string(v) || !*json_string_value(v) ||
	    strlen(json_string_value(v)) >= MESH_NAME_MAX)
		return field_err(e, where, "name", "expected a non-empty string");
	strcpy(n->name, json_string_value(v));
	snprintf(nwhere, sizeof(nwhere), "node \"%s\"", n->name);
	if ((v = get_typed(obj, "address", JSON_STRING, "a string", nwhere, "address", e, &rc))) {
		if (vn_addr_parse(json_string_value(v), &n->address))
			return field_err(e, nwhere, "address", "\"%.64s\" is not an IP address",
					 json_string_value(v));
		n->has_address = true;
	} else if (rc) {
		return rc;
	}
	if ((v = get_typed(obj, "port", JSON_INTEGER, "an integer", nwhere, "port", e, &rc))) {
		if (parse_port_num(json_integer_value(v), nwhere, "port", n, e))
			return -1;
	} else if (rc) {
		return rc;
	}
	if ((v = get_typed(obj, "publicKey", JSON_STRING, "a string", nwhere, "publicKey", e, &rc))) {
		if (parse_key_text(json_string_value(v), nwhere, "publicKey", n, e))
			return -1;
	} else if (rc) {
		return rc;
	}
	if ((v = get_typed(obj, "podCIDRs", JSON_ARRAY, "an array", nwhere, "podCIDRs", e, &rc)))
		return parse_cidr_list(v, nwhere, "podCIDRs", n, e);
	return rc;
}

/* Appends without looking for duplicates (check_unique does, at the end). */
static int append(struct mesh *m, const struct mesh_node *n, struct vn_err *e)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct mesh_node *grown = realloc(m->nodes, cap * sizeof(*grown));

		if (!grown)
			return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
		m->nodes = grown;
		m->cap = cap;
	}
	m->nodes[m->n++] = *n;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A name listed twice is an error; sorting keeps this O(n log n). */
static int check_unique(const struct mesh *m, struct vn_err *e)
{
	const char **names = calloc(m->n + 1, sizeof(*names));
	int ret = 0;

	if (!names)
		return vn_errf(e, VN_E_IO, "I/O error", "out of memory");
	for (size_t i = 0; i < m->n; i++)
		names[i] = m->nodes[i].name;
	qsort(names, m->n, sizeof(*names), name_cmp);
	for (size_t i = 1; i < m->n && !ret; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			ret = vn_errf(e, VN_E_INVALID, "invalid mesh description",
				      "node \"%s\" is listed twice", names[i]);
	free(names);
	return ret;
}

int mesh_add_cidr(const char *text, const char *what, struct vn_prefix *list, size_t *n,
		  struct vn_err *e)
{
	struct vn_prefix p;

	if (vn_prefix_parse(text, &p))
		return vn_errf(e, VN_E_INVALID, "invalid CIDR", "%s: \"%.64s\" is not an IP prefix",
			       what, text);
	if (*n == MESH_MAX_CIDRS)
		return vn_errf(e, VN_E_INVALID, "invalid CIDR", "%s: more than %d CIDRs", what,
			       MESH_MAX_CIDRS);
	vn_prefix_canon(&p);
	list[(*n)++] = p;
	return 0;
}

/* The mesh file's "clusterCIDRs". */
static int file_cluster(const json_t *root, struct mesh *m, struct vn_err *e)
{
	json_t *list = json_object_get(root, "clusterCIDRs"), *v;
	struct vn_prefix p;
	char path[64];
	size_t i;

	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list))
		return field_err(e, "mesh", "clusterCIDRs", "expected an array");
	json_array_foreach(list, i, v) {
		snprintf(path, sizeof(path), "clusterCIDRs[%zu]", i);
		if (!json_is_string(v))
			return field_err(e, "mesh", path, "expected a string");
		if (vn_prefix_parse(json_string_value(v), &p))
			return field_err(e, "mesh", path, "\"%.64s\" is not an IP prefix",
					 json_string_value(v));
		if (m->n_cluster_cidrs == MESH_MAX_CIDRS)
			return field_err(e, "mesh", path, "more than %d cluster CIDRs", MESH_MAX_CIDRS);
		vn_prefix_canon(&p);
		m->cluster_cidrs[m->n_cluster_cidrs++] = p;
	}
	return 0;
}

static int parse_list(const json_t *items, struct mesh *m, bool k8s, struct vn_err *e)
{
	const char *field = k8s ? "items" : "nodes";
	struct mesh_node n;
	char where[32];
	size_t i;
	json_t *v;

	json_array_foreach(items, i, v) {
		snprintf(where, sizeof(where), "%s[%zu]", field, i);
		if ((k8s ? mesh_node_from_k8s(v, where, &n, e) : file_node(v, where, &n, e)) ||
		    append(m, &n, e))
			return -1;
	}
	return check_unique(m, e);
}

int mesh_parse_json(const json_t *root, struct mesh *m, struct vn_err *e)
{
	const char *kind = json_string_value(json_object_get(root, "kind"));
	json_t *items = json_object_get(root, "items"), *nodes = json_object_get(root, "nodes");
	struct mesh_node n;
	json_t *port;

	if (!json_is_object(root))
		return vn_errf(e, VN_E_INVALID, "invalid mesh description",
			       "expected a JSON object (NodeList, Node or VeilnetMesh)");
	if (json_is_array(items))
		return parse_list(items, m, true, e);
	if (json_is_array(nodes)) {
		port = json_object_get(root, "defaultPort");
		if (port && (!json_is_integer(port) || json_integer_value(port) < 1 ||
			     json_integer_value(port) > 65535))
			return field_err(e, "mesh", "defaultPort", "expected a port in 1..65535");
		if (port)
			m->default_port = (uint16_t)json_integer_value(port);
		return file_cluster(root, m, e) || parse_list(nodes, m, false, e) ? -1 : 0;
	}
	if (kind && strcmp(kind, "Node") == 0)
		return mesh_node_from_k8s(root, "Node", &n, e) || append(m, &n, e) ||
		       check_unique(m, e) ? -1 : 0;
	return vn_errf(e, VN_E_INVALID, "invalid mesh description",
		       "expected a NodeList (\"items\"), a Node or a VeilnetMesh (\"nodes\")");
}

int mesh_parse(const char *text, size_t len, struct mesh *m, struct vn_err *e)
{
	json_t *root = vn_json_parse(text, len, "mesh description", e);
	int ret;

	if (!root)
		return -1;
	ret = mesh_parse_json(root, m, e);
	json_decref(root);
	return ret;
}

static bool node_equal(const struct mesh_node *a, const struct mesh_node *b)
{
	if (strcmp(a->name, b->name) || a->has_address != b->has_address ||
	    a->has_key != b->has_key || a->port != b->port || a->n_pod_cidrs != b->n_pod_cidrs)
		return false;
	if (a->has_address && vn_addr_cmp(&a->address, &b->address))
		return false;
	if (a->has_alt_address != b->has_alt_address ||
	    (a->has_alt_address && vn_addr_cmp(&a->alt_address, &b->alt_address)))
		return false;
	if (a->has_key && wg_key_cmp(&a->public_key, &b->public_key))
		return false;
	for (size_t i = 0; i < a->n_pod_cidrs; i++)
		if (a->pod_cidrs[i].len != b->pod_cidrs[i].len ||
		    vn_addr_cmp(&a->pod_cidrs[i].addr, &b->pod_cidrs[i].addr))
			return false;
	return true;
}

int mesh_upsert(struct mesh *m, const struct mesh_node *n, bool *changed, struct vn_err *e)
{
	struct mesh_node *old = (struct mesh_node *)mesh_find(m, n->name);

	if (changed)
		*changed = !old || !node_equal(old, n);
	if (old) {
		*old = *n;
		return 0;
	}
	return append(m, n, e);
}

bool mesh_remove(struct mesh *m, const char *name)
{
	struct mesh_node *n = (struct mesh_node *)mesh_find(m, name);

	if (!n)
		return false;
	memmove(n, n + 1, (size_t)(m->nodes + m->n - (n + 1)) * sizeof(*n));
	m->n--;
	return true;
}

const struct mesh_node *mesh_find(const struct mesh *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->nodes[i].name, name) == 0)
			return &m->nodes[i];
	return NULL;
}

uint16_t mesh_node_port(const struct mesh *m, const struct mesh_node *n)
{
	return n->port ? n->port : m->default_port;
}

const struct vn_addr *mesh_node_endpoint(const struct mesh_node *n, int family)
{
	if (family && n->address.family != family && n->has_alt_address &&
	    n->alt_address.family == family)
		return &n->alt_address;
	return &n->address;
}
