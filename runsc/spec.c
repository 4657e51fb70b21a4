/* runsc/spec.c: `usandbox spec`: the starting-point config.json, with runc spec's defaults (sh on a terminal,
 * rootfs "rootfs" read-only, the usual /proc, /dev, /sys mounts, new namespaces), written into the bundle. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "runsc/oci_config.h"
#include "runsc/runsc.h"

static struct json_object *string_array(const char *const *strings)
{
    struct json_object *array = json_object_new_array();
    for (size_t i = 0; strings[i]; i++)
        json_object_array_add(array, json_object_new_string(strings[i]));
    return array;
}

static struct json_object *new_mount(const char *destination, const char *type, const char *source,
                                     const char *const *options)
{
    struct json_object *mount = json_object_new_object();
    json_object_object_add(mount, "destination", json_object_new_string(destination));
    json_object_object_add(mount, "type", json_object_new_string(type));
    json_object_object_add(mount, "source", json_object_new_string(source));
    if (options)
        json_object_object_add(mount, "options", string_array(options));
    return mount;
}

static struct json_object *default_process(bool rootless)
{
    struct json_object *process = json_object_new_object();
    json_object_object_add(process, "terminal", json_object_new_boolean(true));
    struct json_object *user = json_object_new_object();
    json_object_object_add(user, "uid", json_object_new_int(0));
    json_object_object_add(user, "gid", json_object_new_int(0));
    json_object_object_add(process, "user", user);
    json_object_object_add(process, "args", string_array((const char *const[]){"sh", NULL}));
    json_object_object_add(
        process, "env",
        string_array((const char *const[]){"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                           "TERM=xterm", NULL}));
    json_object_object_add(process, "cwd", json_object_new_string("/"));
    const char *const default_capabilities[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL};
    struct json_object *capabilities = json_object_new_object();
    const char *const sets[] = {"bounding", "effective", "permitted", "ambient"};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
        json_object_object_add(capabilities, sets[i], string_array(default_capabilities));
    json_object_object_add(process, "capabilities", capabilities);
    struct json_object *nofile = json_object_new_object();
    json_object_object_add(nofile, "type", json_object_new_string("RLIMIT_NOFILE"));
    json_object_object_add(nofile, "hard", json_object_new_int(1024));
    json_object_object_add(nofile, "soft", json_object_new_int(1024));
    struct json_object *rlimits = json_object_new_array();
    json_object_array_add(rlimits, nofile);
    json_object_object_add(process, "rlimits", rlimits);
    json_object_object_add(process, "noNewPrivileges", json_object_new_boolean(true));
    (void)rootless;
    return process;
}

static struct json_object *default_mounts(bool rootless)
{
    struct json_object *mounts = json_object_new_array();
    json_object_array_add(mounts, new_mount("/proc", "proc", "proc", NULL));
    json_object_array_add(mounts, new_mount("/dev", "tmpfs", "tmpfs",
                                            (const char *const[]){"nosuid", "strictatime", "mode=755", "size=65536k",
                                                                  NULL}));
    json_object_array_add(mounts, new_mount("/dev/pts", "devpts", "devpts",
                                            (const char *const[]){"nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                                                  "mode=0620", rootless ? NULL : "gid=5", NULL}));
    json_object_array_add(mounts, new_mount("/dev/shm", "tmpfs", "shm",
                                            (const char *const[]){"nosuid", "noexec", "nodev", "mode=1777",
                                                                  "size=65536k", NULL}));
    json_object_array_add(mounts, new_mount("/dev/mqueue", "mqueue", "mqueue",
                                            (const char *const[]){"nosuid", "noexec", "nodev", NULL}));
    json_object_array_add(mounts, new_mount("/sys", "sysfs", "sysfs",
                                            (const char *const[]){"nosuid", "noexec", "nodev", "ro", NULL}));
    json_object_array_add(mounts, new_mount("/sys/fs/cgroup", "cgroup", "cgroup",
                                            (const char *const[]){"nosuid", "noexec", "nodev", "relatime", "ro",
                                                                  NULL}));
    return mounts;
}

static struct json_object *default_linux(bool rootless)
{
    struct json_object *linux_section = json_object_new_object();
    struct json_object *namespaces = json_object_new_array();
    const char *const names[] = {"pid", "network", "ipc", "uts", "mount", "cgroup"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (rootless && (strcmp(names[i], "network") == 0 || strcmp(names[i], "cgroup") == 0))
            continue;
        struct json_object *namespace = json_object_new_object();
        json_object_object_add(namespace, "type", json_object_new_string(names[i]));
        json_object_array_add(namespaces, namespace);
    }
    if (rootless) {
        struct json_object *user = json_object_new_object();
        json_object_object_add(user, "type", json_object_new_string("user"));
        json_object_array_add(namespaces, user);
        const char *const kinds[] = {"uidMappings", "gidMappings"};
        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
            struct json_object *mapping = json_object_new_object();
            json_object_object_add(mapping, "containerID", json_object_new_int(0));
            json_object_object_add(mapping, "hostID", json_object_new_int64(i == 0 ? getuid() : getgid()));
            json_object_object_add(mapping, "size", json_object_new_int(1));
            struct json_object *mappings = json_object_new_array();
            json_object_array_add(mappings, mapping);
            json_object_object_add(linux_section, kinds[i], mappings);
        }
    } else {
        struct json_object *deny_all = json_object_new_object();
        json_object_object_add(deny_all, "allow", json_object_new_boolean(false));
        json_object_object_add(deny_all, "access", json_object_new_string("rwm"));
        struct json_object *devices = json_object_new_array();
        json_object_array_add(devices, deny_all);
        struct json_object *resources = json_object_new_object();
        json_object_object_add(resources, "devices", devices);
        json_object_object_add(linux_section, "resources", resources);
    }
    json_object_object_add(linux_section, "namespaces", namespaces);
    json_object_object_add(linux_section, "maskedPaths",
                           string_array((const char *const[]){"/proc/acpi", "/proc/asound", "/proc/kcore",
                                                              "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                                              "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                                              "/proc/scsi", NULL}));
    json_object_object_add(linux_section, "readonlyPaths",
                           string_array((const char *const[]){"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                              "/proc/sysrq-trigger", NULL}));
    return linux_section;
}

char *oci_config_default_json(bool rootless)
{
    struct json_object *config = json_object_new_object();
    json_object_object_add(config, "ociVersion", json_object_new_string("1.0.2"));
    json_object_object_add(config, "process", default_process(rootless));
    struct json_object *root = json_object_new_object();
    json_object_object_add(root, "path", json_object_new_string("rootfs"));
    json_object_object_add(root, "readonly", json_object_new_boolean(true));
    json_object_object_add(config, "root", root);
    json_object_object_add(config, "hostname", json_object_new_string("usandbox"));
    json_object_object_add(config, "mounts", default_mounts(rootless));
    json_object_object_add(config, "linux", default_linux(rootless));
    char *text = xstrdup(json_object_to_json_string_ext(config, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(config);
    return text;
}

int runsc_spec(const char *bundle, bool rootless)
{
    const char *directory = bundle ? bundle : ".";
    struct text_buffer path = {0};
    text_buffer_append(&path, "%s/config.json", directory);
    /* Like runc: an existing config.json is someone's work; never overwrite it. */
    int fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr, "usandbox spec: %s already exists; remove it first\n", path.data);
        else
            fprintf(stderr, "usandbox spec: %s: %s\n", path.data, strerror(errno));
        text_buffer_free(&path);
        return 1;
    }
    char *text = oci_config_default_json(rootless);
    size_t length = strlen(text);
    int error = write_all(fd, text, length);
    if (error == 0)
        error = write_all(fd, "\n", 1);
    if (close(fd) < 0 && error == 0)
        error = -errno;
    free(text);
    if (error < 0) {
        fprintf(stderr, "usandbox spec: writing %s: %s\n", path.data, strerror(-error));
        unlink(path.data);
        text_buffer_free(&path);
        return 1;
    }
    text_buffer_free(&path);
    return 0;
}
