/* runsc/hooks.h: running a config's OCI hooks on the host, as runc does: each hook gets the container's
 * state JSON on its stdin, its own args and env, and is killed when it outlives its timeout. */
#ifndef USANDBOX_RUNSC_HOOKS_H
#define USANDBOX_RUNSC_HOOKS_H

#include <stddef.h>

#include "runsc/oci_config.h"

/* Runs hooks in order; stops at the first that cannot run, fails or times out: -1 with a message naming it
 * as stage[i] (e.g. "hooks.prestart[0] (/usr/bin/x): exited with status 3"). 0 when all succeeded. */
int oci_hooks_run(const struct oci_hook_list *hooks, const char *stage, const char *state_json, char *error,
                  size_t error_size);

#endif
