/* runsc: the usandbox command line, an OCI-runtime CLI in runsc's and runc's image. It parses flags, then
 * starts the Gofer and the Sentry as separate confined processes and reports the sandbox's exit status. */
#ifndef USANDBOX_RUNSC_H
#define USANDBOX_RUNSC_H

#include <stdbool.h>
#include <stdio.h>

#include "sentry/sentry.h"

struct runsc_options {
    enum platform_kind platform;
    const char *platform_name;
    const char *rootfs;      /* NULL: the host's / */
    const char *debug_log;   /* directory */
    bool strace;
    bool debug;
    const char *cwd;
};

/* `usandbox do [flags] -- CMD ARGS...`: returns the process exit status. */
int runsc_do(const struct runsc_options *options, char *const *argv);
/* Parses one global flag into options: 1 if it was one, 0 if not, -1 (message printed) if malformed. */
int runsc_parse_flag(struct runsc_options *options, const char *argument);
void runsc_usage(FILE *out);

#endif
