/* result.h - CNI results as a libcni 1.2 runtime sees them. Pure.
 *
 * libcni never hands a plugin's output on as it is: it decodes it into its
 * typed result for the result's version and encodes that again. So a
 * chained plugin's prevResult, the cached result and what CHECK and DEL get
 * hold only the keys libcni knows, with empty ones left out and addresses
 * in canonical form. A cached result is converted to the version the
 * network uses now; ADD hands each result on in its own version.
 *
 * Versions: 0.1.0/0.2.0 (ip4, ip6, dns), 0.3.0/0.3.1/0.4.0 (interfaces,
 * ips with "version", routes, dns), 1.0.0/1.1.0 (interfaces with mtu,
 * socketPath, pciID; ips without "version"). cni-test converts between the
 * last two families and within each; converting to or from 0.1.0/0.2.0 is
 * refused (libcni can, cni-test does not).
 */
#ifndef CNT_RESULT_H
#define CNT_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <veilnet/err.h>

/* True if libcni 1.2 has a result type for version v (0.1.0 .. 1.1.0). */
bool cnt_result_version_known(const char *v);

/* Decodes a plugin's ADD output as libcni's ExecPluginWithResult does: a
 * JSON object ("null" counts as {}); a missing or empty cniVersion becomes
 * conf_version; then cnt_result_create. New reference, or NULL with e set
 * (VN_E_DECODE). */
json_t *cnt_result_decode(const char *text, size_t len, const char *conf_version,
			  struct vn_err *e);

/* libcni's typed form of result res read as version: the keys that
 * version's result type knows, wrong types and unparsable addresses
 * refused, empty optional keys left out, addresses canonical, cniVersion
 * set to version. New reference, or NULL with e set (VN_E_DECODE; an
 * unknown version is "unsupported CNI result version"). */
json_t *cnt_result_create(const json_t *res, const char *version, struct vn_err *e);

/* libcni's GetAsVersion of a typed result (one cnt_result_create made):
 * itself for its own version, else converted. New reference, or NULL with
 * e set (VN_E_INCOMPATIBLE when there is no conversion). */
json_t *cnt_result_convert(const json_t *res, const char *to, struct vn_err *e);

/* A cached result as CHECK and DEL pass it: created in its own cniVersion
 * (0.1.0 if it has none), then converted to to. NULL with e set. */
json_t *cnt_result_cached(const json_t *raw, const char *to, struct vn_err *e);

#endif
