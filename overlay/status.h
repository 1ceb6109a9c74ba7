/* status.h - `veilnet-mesh status`: the device as the backend reports it.
 *
 * Text (like wg(8) show, with node names when a mesh is given) or JSON:
 *   {"interface": "wg-veilnet", "backend": "uapi", "publicKey": "...",
 *    "listenPort": 51820, "fwmark": 0, "mtu": 1420, "up": true,
 *    "peers": [{"publicKey": "...", "node": "n2", "endpoint": "172.30.0.2:51820",
 *               "allowedIPs": ["10.244.2.0/24"], "latestHandshake": 1700000000,
 *               "rxBytes": 123, "txBytes": 456, "persistentKeepalive": 0}]}
 * latestHandshake is seconds since the epoch, 0 for never; fwmark 0 is
 * none (wg show prints "off"). The fields are those of `wg show IF dump`.
 */
#ifndef VEILNET_OVERLAY_STATUS_H
#define VEILNET_OVERLAY_STATUS_H

#include <stdbool.h>
#include <stdio.h>
#include "mesh.h"
#include "wg.h"

/* Builds the JSON status of a device (pure; the caller owns the result).
 * m names peers by their key (may be empty). */
json_t *status_json(const struct wg_device *d, const char *backend, unsigned int mtu, bool up,
		    const struct mesh *m);

/* Prints the status of ifname in this netns; returns the exit status. */
int status_show(const char *ifname, const struct mesh *m, bool json, FILE *out);

#endif
