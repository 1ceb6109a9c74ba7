/* peak.h - the peak memory of one plugin process.
 *
 * Runtimes start plugins vfork-style (run.c), so the ru_maxrss that wait4
 * reports for such a child also counts the runtime's own memory, which the
 * child used until its exec (and a forked child's counts the pages it
 * copied). peak_spawn instead forks a child that runs the plugin under
 * ptrace; peak_wait stops it as it exits and reads VmHWM, the peak resident
 * set of the plugin's own address space. It is slower: for measuring
 * memory (cni-test bench), not time. Processes the plugin starts itself (a
 * delegated IPAM plugin) are not counted.
 *
 * The caller reads the plugin's stdout only after peak_wait, so the pipe
 * must hold all of it (see PEAK_PIPE_SIZE).
 */
#ifndef CNT_PEAK_H
#define CNT_PEAK_H

#include <sys/types.h>

/* Pipe capacity to set on the plugin's stdout before peak_spawn. */
#define PEAK_PIPE_SIZE (1 << 20)

/* Starts path (argv {path}, env) with stdin in_fd and stdout out_fd, traced.
 * Returns 0 with *pid set, or an errno (also when the exec failed: the
 * child is reaped then). */
int peak_spawn(const char *path, char **env, int in_fd, int out_fd, pid_t *pid);

/* Lets the traced child run to its end and reaps it. Returns 0 with its
 * wait status and its peak RSS in KiB (0 if it never got to run the
 * plugin), or -1 with errno set. */
int peak_wait(pid_t pid, int *status, long *hwm_kb);

#endif
