/* json.h - reading typed fields out of jansson objects with errors that
 * name the object and the field.
 *
 * `where` names the object for the error text, e.g. "NetworkPolicy x/deny"
 * or "config". Wrong types and missing required fields give code
 * VN_E_INVALID with details like: `NetworkPolicy x/deny: field
 * "spec.podSelector": expected an object`. Returned pointers borrow from
 * the json_t and live as long as it does.
 */
#ifndef VEILNET_JSON_H
#define VEILNET_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <veilnet/err.h>

/* Parses text; a syntax error gives VN_E_DECODE with line and column.
 * The caller owns the result (json_decref). */
json_t *vn_json_parse(const char *text, size_t len, const char *where, struct vn_err *e);

/* Gets obj[key] as a string. Missing: *out = NULL, error only if required. */
int vn_json_str(const json_t *obj, const char *key, bool required,
		const char **out, const char *where, struct vn_err *e);

/* Gets obj[key] as a non-negative integer no larger than max. */
int vn_json_uint(const json_t *obj, const char *key, bool required, uint64_t max,
		 uint64_t *out, const char *where, struct vn_err *e);

/* Gets obj[key] as a bool. */
int vn_json_bool(const json_t *obj, const char *key, bool required,
		 bool *out, const char *where, struct vn_err *e);

/* Gets obj[key] as an object / array (NULL if absent and not required;
 * JSON null counts as absent). */
int vn_json_obj(const json_t *obj, const char *key, bool required,
		json_t **out, const char *where, struct vn_err *e);
int vn_json_arr(const json_t *obj, const char *key, bool required,
		json_t **out, const char *where, struct vn_err *e);

#endif
