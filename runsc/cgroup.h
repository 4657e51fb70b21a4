/* runsc/cgroup.h: the host cgroup a container's sandbox runs in (linux.cgroupsPath), and the resource limits
 * of linux.resources applied to it, on cgroup v1 (also hybrid) and v2 hosts. */
#ifndef USANDBOX_RUNSC_CGROUP_H
#define USANDBOX_RUNSC_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runsc/oci_config.h"

/* Where cgroup hierarchies are mounted; tests point it at a fake tree. */
#define CGROUP_DEFAULT_ROOT "/sys/fs/cgroup"

/* The cgroup path (from a hierarchy's root, starting with '/') for a config: its cgroupsPath, where a
 * relative one is taken from own_cgroup (the caller's cgroup) and systemd's "slice:prefix:name" (with
 * systemd_cgroup) becomes /slice.../prefix-name.scope; "/usandbox/ID" when the config has resources but no
 * path; NULL when neither (the sandbox stays in its caller's cgroup). To free. */
char *cgroup_path_for(const struct oci_config *config, const char *container_id, bool systemd_cgroup,
                      const char *own_cgroup);

/* Creates the cgroup in every hierarchy under cgroup_root, applies config's resources, moves pid into it,
 * and writes the directories made to record_file (one per line) for cgroup_remove. 0, or -1 with a message
 * (what was made is removed again). */
int cgroup_enter(const char *cgroup_root, const char *path, const struct oci_resources *resources, pid_t pid,
                 const char *record_file, char *error, size_t error_size);

/* Removes the directories record_file lists (deepest first; a cgroup still holding processes stays) and the
 * record itself. A missing record is fine. */
void cgroup_remove(const char *record_file);

/* The caller's own cgroup for relative paths: from /proc/self/cgroup, the v2 entry or else the memory
 * controller's. To free; "/" when unknown. */
char *cgroup_own_path(void);

#endif
