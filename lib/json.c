#include <veilnet/json.h>

json_t *vn_json_parse(const char *text, size_t len, const char *where, struct vn_err *e)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);

	if (!root)
		vn_errf(e, VN_E_DECODE, "decoding failure", "%s: line %d column %d: %s",
			where, je.line, je.column, je.text);
	return root;
}

static int bad_type(const char *key, const char *want, const char *where, struct vn_err *e)
{
	return vn_errf(e, VN_E_INVALID, "invalid input", "%s: field \"%s\": expected %s",
		       where, key, want);
}

/* Looks key up; JSON null counts as absent. */
static json_t *lookup(const json_t *obj, const char *key, bool required,
		      const char *where, struct vn_err *e, int *rc)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	*rc = 0;
	if (v && !json_is_null(v))
		return v;
	if (required)
		*rc = vn_errf(e, VN_E_INVALID, "invalid input", "%s: field \"%s\" is required",
			      where, key);
	return NULL;
}

int vn_json_str(const json_t *obj, const char *key, bool required,
		const char **out, const char *where, struct vn_err *e)
{
	int rc;
	json_t *v = lookup(obj, key, required, where, e, &rc);

	*out = NULL;
	if (!v)
		return rc;
	if (!json_is_string(v))
		return bad_type(key, "a string", where, e);
	*out = json_string_value(v);
	return 0;
}

int vn_json_uint(const json_t *obj, const char *key, bool required, uint64_t max,
		 uint64_t *out, const char *where, struct vn_err *e)
{
	int rc;
	json_t *v = lookup(obj, key, required, where, e, &rc);

	if (!v)
		return rc;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return vn_errf(e, VN_E_INVALID, "invalid input",
			       "%s: field \"%s\": expected an integer from 0 to %llu",
			       where, key, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int vn_json_bool(const json_t *obj, const char *key, bool required,
		 bool *out, const char *where, struct vn_err *e)
{
	int rc;
	json_t *v = lookup(obj, key, required, where, e, &rc);

	if (!v)
		return rc;
	if (!json_is_boolean(v))
		return bad_type(key, "true or false", where, e);
	*out = json_is_true(v);
	return 0;
}

int vn_json_obj(const json_t *obj, const char *key, bool required,
		json_t **out, const char *where, struct vn_err *e)
{
	int rc;
	json_t *v = lookup(obj, key, required, where, e, &rc);

	*out = NULL;
	if (!v)
		return rc;
	if (!json_is_object(v))
		return bad_type(key, "an object", where, e);
	*out = v;
	return 0;
}

int vn_json_arr(const json_t *obj, const char *key, bool required,
		json_t **out, const char *where, struct vn_err *e)
{
	int rc;
	json_t *v = lookup(obj, key, required, where, e, &rc);

	*out = NULL;
	if (!v)
		return rc;
	if (!json_is_array(v))
		return bad_type(key, "an array", where, e);
	*out = v;
	return 0;
}
