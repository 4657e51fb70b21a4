/* runsc/oci_config.h: a bundle's config.json (OCI runtime spec 1.x) as a C struct, validated strictly:
 * every error names the JSON path it is about, so that a user can find the mistake in their file. */
#ifndef USANDBOX_RUNSC_OCI_CONFIG_H
#define USANDBOX_RUNSC_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum oci_mount_kind {
    OCI_MOUNT_BIND,
    OCI_MOUNT_TMPFS,
    OCI_MOUNT_PROC,
    OCI_MOUNT_SYSFS,
    OCI_MOUNT_DEVPTS,
    OCI_MOUNT_MQUEUE,
    OCI_MOUNT_CGROUP,
};

struct oci_mount {
    enum oci_mount_kind kind;
    char *type;         /* as written ("bind" when only options said so) */
    char *destination;  /* absolute, inside the container */
    char *source;       /* may be NULL */
    char **options;     /* NULL-terminated, never NULL */
    bool read_only;     /* "ro" among the options */
    uint32_t mode;      /* "mode=" option for tmpfs-like mounts, else 0755 (01777 for mqueue) */
};

struct oci_rlimit {
    int resource;  /* RLIMIT_* */
    uint64_t soft, hard;
};

struct oci_hook {
    char *path;
    char **args;  /* NULL-terminated; NULL when absent */
    char **env;   /* NULL-terminated; NULL when absent */
    int timeout;  /* seconds, 0 = none */
};

struct oci_hook_list {
    struct oci_hook *hooks;
    size_t count;
};

/* Capability sets as bit masks of CAP_* numbers. */
struct oci_capabilities {
    uint64_t bounding, effective, inheritable, permitted, ambient;
};

struct oci_process {
    bool terminal;
    char **args;   /* NULL-terminated, at least one */
    char **env;    /* NULL-terminated, never NULL; each "NAME=value" */
    char *cwd;     /* absolute */
    uint32_t uid, gid;
    uint32_t *additional_gids;
    size_t additional_gid_count;
    bool has_umask;
    uint32_t umask;
    struct oci_rlimit *rlimits;
    size_t rlimit_count;
    bool no_new_privileges;
    struct oci_capabilities capabilities;
};

struct oci_namespace {
    int type;     /* CLONE_NEW* */
    char *name;   /* "pid", "network", ... */
    char *path;   /* NULL: a new one */
};

struct oci_resources {
    int64_t memory_limit;  /* bytes, -1 = none */
    int64_t pids_limit;    /* -1 = none */
    uint64_t cpu_shares;   /* 0 = none */
    int64_t cpu_quota;     /* microseconds per period, -1 = none */
    uint64_t cpu_period;   /* microseconds, 0 = the kernel's default */
};

struct oci_config {
    char *oci_version;
    char *bundle;          /* absolute */
    struct oci_process process;
    char *root_path;       /* absolute: a relative root.path is taken from the bundle */
    bool root_readonly;
    char *hostname;        /* NULL when absent */
    struct oci_mount *mounts;
    size_t mount_count;
    struct oci_namespace *namespaces;
    size_t namespace_count;
    struct oci_resources resources;
    char *cgroups_path;    /* linux.cgroupsPath; NULL when absent */
    struct oci_hook_list prestart, create_runtime, create_container, start_container, poststart, poststop;
    char **annotations;    /* NULL-terminated key, value, key, value...; never NULL */
};

/* Parses json_text; bundle (absolute) resolves a relative root.path. 0, or -1 with a message like
 * "config.json: process.args: must be a non-empty array of strings" in error. */
int oci_config_parse(const char *json_text, const char *bundle, struct oci_config *config, char *error,
                     size_t error_size);
/* Reads BUNDLE/config.json and parses it; bundle may be relative (it is made absolute). */
int oci_config_load(const char *bundle, struct oci_config *config, char *error, size_t error_size);
/* A bind mount's source on the host, absolute (a relative source is taken from the bundle, as the runtime
 * spec says); NULL without a source. The caller frees it. */
char *oci_mount_host_source(const struct oci_config *config, const struct oci_mount *mount);
/* What parses but this runtime cannot honour yet (bind mounts, joining namespaces...): 0, or -1 with a
 * message naming the field. */
int oci_config_check_supported(const struct oci_config *config, char *error, size_t error_size);
void oci_config_free(struct oci_config *config);

/* The default config.json `usandbox spec` writes (runc spec's defaults), as JSON text the caller frees. */
char *oci_config_default_json(bool rootless);

#endif
