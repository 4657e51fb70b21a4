/* runsc/sandbox.h: starting one OCI container's sandbox (a Gofer over root.path and a Sentry in its own pid
 * namespace, configured from config.json), and the supervisor that outlives `create`. */
#ifndef USANDBOX_RUNSC_SANDBOX_H
#define USANDBOX_RUNSC_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

#include "runsc/oci_config.h"
#include "runsc/runsc.h"

struct sandbox {
    pid_t gofer_pid;
    pid_t sentry_pid;  /* host pid */
    int start_fd;      /* write end: one byte starts the first process; closing it cancels (-1 if none) */
    int ready_fd;      /* read end: one byte once the Sentry waits for start; EOF if it failed first */
    int exec_control_fd; /* with exec_control: the supervisor's end of the Sentry's exec control socket */
};

/* Forks the Gofer and the Sentry (children of the caller). With wait_for_start the first process waits
 * for a byte on sandbox->start_fd. console_fd >= 0 becomes the Sentry's stdio (a pty's terminal side).
 * With exec_control, sandbox->exec_control_fd passes `exec` connections to the Sentry (a SOCK_SEQPACKET
 * socket: one connection fd per message). 0, or -1 with a message in error. */
int sandbox_launch(const struct runsc_options *options, const struct oci_config *config, bool wait_for_start,
                   bool exec_control, int console_fd, struct sandbox *sandbox, char *error, size_t error_size);
/* Waits for the Sentry (retrying EINTR); returns its exit code as a shell shows it (128+signal). */
int sandbox_wait(struct sandbox *sandbox);
/* Stops the Gofer once the Sentry is gone and reaps it. */
void sandbox_stop_gofer(struct sandbox *sandbox);
/* Creates the mount points the config needs in the host rootfs (runc does the same). */
void sandbox_prepare_rootfs(const struct oci_config *config);
/* Whether the config, as this runtime applies it, is possible at all (mount destinations, terminal...). */
int sandbox_check_config(const struct oci_config *config, char *error, size_t error_size);

#endif
