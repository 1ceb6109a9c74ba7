/* wgproc.h - the wireguard-go process behind the UAPI backend.
 *
 * When the kernel cannot create a wireguard link, veilnet-mesh starts
 * Debian's wireguard-go in the current network namespace (so its TUN
 * device lives there) with WG_PROCESS_FOREGROUND=1, in a process group of
 * its own with SIGHUP ignored, and records its pid in /run/veilnet/mesh-<ifname>.pid (the
 * directory may be overridden with VEILNET_RUN_DIR). `down` stops it from
 * that file. The UAPI socket directory /var/run/wireguard is shared by
 * every netns, so interface names must be unique on the host.
 */
#ifndef VEILNET_OVERLAY_WGPROC_H
#define VEILNET_OVERLAY_WGPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <veilnet/err.h>

/* The pid file path of ifname. */
void wgproc_pidfile(const char *ifname, char *buf, size_t size);

/* Starts prog (e.g. "wireguard-go") for ifname and waits (5 s at most)
 * until its UAPI socket answers. log_path (may be NULL) receives its
 * output, else /dev/null. Returns 0 with *pid, or -1 with e set. */
int wgproc_start(const char *ifname, const char *prog, const char *log_path, pid_t *pid,
		 struct vn_err *e);

/* The pid recorded for ifname if that process still runs wireguard-go,
 * else 0. */
pid_t wgproc_running(const char *ifname);

/* Stops the process recorded for ifname (SIGTERM, then SIGKILL after
 * 5 s), removes the pid file and a socket left behind. *stopped says
 * whether a process was stopped. Returns 0 or -1 with e set. */
int wgproc_stop(const char *ifname, bool *stopped, struct vn_err *e);

/* After ifname's link was deleted: waits (2 s at most) for pid, the
 * process that served its UAPI socket (started by hand or by another
 * instance, so in no pid file), to exit as wireguard-go does when its TUN
 * device goes; stops it if it still runs wireguard-go for ifname; removes
 * the pid file and a socket left behind. *stopped says whether there was
 * such a process. Returns 0 or -1 with e set. */
int wgproc_reap(pid_t pid, const char *ifname, bool *stopped, struct vn_err *e);

#endif
