/* reaper.h - deleting retired host links in batches, off DEL's path.
 *
 * DEL only retires a pod's veth (nl_link_retire: down, tomb group). Its
 * deletion costs the kernel a millisecond or more under the rtnl lock that
 * every netlink request of every other ADD and DEL waits for, plus RCU
 * grace periods; deleting links one DEL at a time would stall a burst of
 * DELs. So each node network namespace gets at most one reaper: a detached
 * process that follows link notifications and, REAPER_BATCH_MS after the
 * first new tomb it sees, deletes every tomb in one request. It exits once
 * it has seen no new tomb for REAPER_IDLE_MS.
 *
 * A reaper holds the abstract unix socket name "@" REAPER_NAME of its
 * network namespace for its whole life (the kernel frees it when the
 * reaper exits, also if it is killed; nothing is left on disk). DEL starts
 * one when it can bind that name; when it cannot, the running reaper
 * deletes DEL's tomb: it is subscribed before anybody finds the name
 * taken, and after giving the name up it deletes the tomb group one last
 * time, catching a tomb retired while it was leaving.
 */
#ifndef PLUGIN_REAPER_H
#define PLUGIN_REAPER_H

#define REAPER_NAME "veilnet-reaper"	/* abstract: "@veilnet-reaper" */
#define REAPER_BATCH_MS 50
#define REAPER_IDLE_MS 1000

/* Makes sure a reaper runs for the current network namespace, forking one
 * if none does. If none can be started (no socket, no fork), the
 * tombs are deleted here and now. Never fails: GC removes what is left. */
void reaper_ensure(void);

#endif
