/* version.h - the CNI spec versions veilnet speaks.
 *
 * Results come in two shapes: before 1.0.0 each ip carries "version";
 * from 1.1.0 interfaces may carry "mtu". Verbs came with versions: CHECK
 * with 0.4.0, STATUS and GC with 1.1.0; a configuration of an older
 * version cannot ask for them (error 1, as libcni's skel answers).
 */
#ifndef PLUGIN_VERSION_H
#define PLUGIN_VERSION_H

#include <stdbool.h>

enum cni_ver { CNI_V030, CNI_V031, CNI_V040, CNI_V100, CNI_V110, CNI_V_COUNT };

/* The list VERSION prints, literally. */
#define CNI_SUPPORTED_VERSIONS { "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0" }
#define CNI_LATEST "1.1.0"

/* Returns the enum for a supported version string, or -1. */
int cni_version_parse(const char *s);

/* The text of a version. */
const char *cni_version_str(int v);

/* The first version that has the verb (CNI_COMMAND text): CNI_V040 for
 * CHECK, CNI_V110 for STATUS and GC, CNI_V030 for the others. */
int cni_version_of_verb(const char *command);

/* True if routes may carry mtu, advmss and priority (1.1.0). */
static inline bool cni_version_route_has_attrs(int v) { return v >= CNI_V110; }

/* True if ips carry a "version" field in this version's result shape. */
static inline bool cni_version_ip_has_version(int v) { return v < CNI_V100; }

#endif
