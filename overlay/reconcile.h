/* reconcile.h - `up` and `down`: bringing the node to the plan and back.
 *
 * reconcile_up, in this order (so nothing leaves in plaintext meanwhile):
 *   1. loads the private key and builds the plan (plan.h);
 *   2. strict mode: installs/updates table inet veilnet-mesh (strict.h)
 *      with the local, remote and cluster CIDRs of the plan, or with
 *      strict off removes it;
 *   3. finds or creates the device: an existing wireguard link (kernel) or
 *      a live UAPI socket (wireguard-go); else creates a kernel link, or,
 *      when the kernel refuses (EOPNOTSUPP) and the backend is auto,
 *      starts wireguard-go (wgproc.h);
 *   4. reads the device and applies only the peer diff (wg.h);
 *   5. MTU = uplink MTU - 80 (uplink: the route to the first remote
 *      node's endpoint address, else the default route; its MTU is the
 *      route's own `mtu` if it has one, else the interface's), link up;
 *   6. routes: every remote pod CIDR through the device (plan_routes).
 * Every step counts its changes, so a second run reports 0.
 *
 * reconcile_down stops wireguard-go (pid file), deletes the device (its
 * routes go with it), waits for any other wireguard-go that served its
 * socket (one started by hand) to exit, and, with purge, removes the
 * strict-mode table. Without
 * purge the table stays: pods then cannot reach remote pods at all, which
 * is the point of strict mode ("nothing in plaintext while down").
 */
#ifndef VEILNET_OVERLAY_RECONCILE_H
#define VEILNET_OVERLAY_RECONCILE_H

#include <stdbool.h>
#include <veilnet/log.h>
#include "mesh.h"
#include "plan.h"
#include "rt.h"
#include "wg.h"

#define MESH_DEFAULT_IFNAME "wg-veilnet"
#define MESH_DEFAULT_KEY_FILE "/etc/veilnet/mesh.key"

enum backend_choice { BACKEND_AUTO = 0, BACKEND_KERNEL, BACKEND_UAPI };

struct mesh_cfg {
	const char *node;
	const char *ifname;
	const char *key_file;
	uint16_t port;			/* 0: the node's own or 51820 */
	uint16_t keepalive;
	enum backend_choice backend;
	bool strict;
	const struct vn_prefix *cluster;	/* --cluster-cidr: the pod network */
	size_t n_cluster;
	const char *wg_go;		/* the wireguard-go program */
	const char *wg_go_log;		/* its output, NULL: /dev/null */
	const struct vn_log *log;
};

struct up_report {
	enum wg_backend backend;
	size_t peers;			/* peers wanted */
	unsigned int link;		/* link created / process started, MTU, up */
	struct peer_counts pc;
	unsigned int routes;
	unsigned int strict;
	unsigned int mtu;
	unsigned long nl_messages;	/* WireGuard generic netlink messages */
	unsigned long rt_messages;	/* rtnetlink messages (routes, link) */
	unsigned long uapi_bytes;
	char warnings[2048];
};

/* Total number of changes made. */
unsigned int up_report_total(const struct up_report *r);

int reconcile_up(const struct mesh_cfg *c, const struct mesh *m, struct up_report *r,
		 struct vn_err *e);

struct down_report {
	bool process_stopped;
	bool link_deleted;
	bool strict_removed;
};

int reconcile_down(const struct mesh_cfg *c, bool purge, struct down_report *r, struct vn_err *e);

/* Opens the backend serving an existing ifname in this netns (for
 * status); link gets the link. Errors if there is none. */
int reconcile_open(const char *ifname, struct wg_conn *conn, struct rt_link *link,
		   struct vn_err *e);

const char *backend_name(enum wg_backend b);

#endif
