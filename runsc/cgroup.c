/* runsc/cgroup.c: the sandbox's host cgroup: made from linux.cgroupsPath in each hierarchy, limited by
 * linux.resources, joined by the supervisor before it forks the Gofer and the Sentry, removed at delete. */
#include "runsc/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

static bool has_resources(const struct oci_resources *resources)
{
    return resources->memory_limit >= 0 || resources->pids_limit >= 0 || resources->cpu_shares > 0 ||
           resources->cpu_quota >= 0 || resources->cpu_period > 0;
}

/* systemd's "slice:prefix:name" as the cgroup path systemd gives it: a-b.slice lives in a.slice. */
static char *systemd_path(const char *spec)
{
    char *copy = xstrdup(spec);
    char *prefix = strchr(copy, ':');
    char *name = prefix ? strchr(prefix + 1, ':') : NULL;
    if (!name) {
        free(copy);
        return NULL;
    }
    *prefix++ = '\0';
    *name++ = '\0';
    const char *slice = copy[0] ? copy : "system.slice";
    struct text_buffer path = {0};
    if (strcmp(slice, "-.slice") != 0) {
        const char *suffix = strstr(slice, ".slice");
        size_t stem = suffix ? (size_t)(suffix - slice) : strlen(slice);
        for (size_t i = 0; i <= stem; i++)
            if (i == stem || (slice[i] == '-' && i > 0))
                text_buffer_append(&path, "/%.*s.slice", (int)i, slice);
    }
    if (strstr(name, ".slice"))
        text_buffer_append(&path, "/%s", name);
    else
        text_buffer_append(&path, "/%s%s%s.scope", prefix, prefix[0] ? "-" : "", name);
    free(copy);
    return path.data;
}

char *cgroup_path_for(const struct oci_config *config, const char *container_id, bool systemd_cgroup,
                      const char *own_cgroup)
{
    const char *spec = config->cgroups_path;
    struct text_buffer path = {0};
    if (spec && spec[0]) {
        if (systemd_cgroup && strchr(spec, ':')) {
            char *converted = systemd_path(spec);
            if (converted)
                return converted;
        }
        if (spec[0] == '/')
            return xstrdup(spec);
        text_buffer_append(&path, "%s/%s", strcmp(own_cgroup, "/") == 0 ? "" : own_cgroup, spec);
        return path.data;
    }
    if (!has_resources(&config->resources))
        return NULL;
    text_buffer_append(&path, "/usandbox/%s", container_id);
    return path.data;
}

char *cgroup_own_path(void)
{
    FILE *file = fopen("/proc/self/cgroup", "re");
    char line[4096];
    char *unified = NULL, *memory = NULL;
    while (file && fgets(line, sizeof(line), file)) {
        line[strcspn(line, "\n")] = '\0';
        char *controllers = strchr(line, ':');
        char *path = controllers ? strchr(controllers + 1, ':') : NULL;
        if (!path)
            continue;
        *path++ = '\0';
        controllers++;
        if (controllers[0] == '\0' && !unified)
            unified = xstrdup(path);
        for (char *saved = NULL, *name = strtok_r(controllers, ",", &saved); name; name = strtok_r(NULL, ",", &saved))
            if (strcmp(name, "memory") == 0 && !memory)
                memory = xstrdup(path);
    }
    if (file)
        fclose(file);
    char *own = memory ? memory : unified ? unified : xstrdup("/");
    if (own != memory)
        free(memory);
    if (own != unified)
        free(unified);
    return own;
}

/* ---- files of a cgroup ---- */

static int write_text(const char *directory, const char *name, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static int write_text(const char *directory, const char *name, const char *format, ...)
{
    struct text_buffer path = {0};
    text_buffer_append(&path, "%s/%s", directory, name);
    int fd = open(path.data, O_WRONLY | O_CLOEXEC);
    text_buffer_free(&path);
    if (fd < 0)
        return -errno;
    char text[256];
    va_list arguments;
    va_start(arguments, format);
    int length = vsnprintf(text, sizeof(text), format, arguments);
    va_end(arguments);
    int result = write(fd, text, (size_t)length) == length ? 0 : -errno;
    close(fd);
    return result;
}

static bool has_file(const char *directory, const char *name)
{
    struct text_buffer path = {0};
    text_buffer_append(&path, "%s/%s", directory, name);
    bool exists = access(path.data, F_OK) == 0;
    text_buffer_free(&path);
    return exists;
}

/* v1's cpuset refuses tasks until a new cgroup has CPUs and memory nodes: take the parent's. */
static void inherit_cpuset(const char *directory)
{
    static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char path[2 * PATH_MAX], text[1024] = "";
        snprintf(path, sizeof(path), "%s/../%s", directory, files[i]);
        FILE *parent = fopen(path, "re");
        if (!parent)
            continue;
        bool read = fgets(text, sizeof(text), parent) != NULL;
        fclose(parent);
        text[strcspn(text, "\n")] = '\0';
        if (read && text[0])
            write_text(directory, files[i], "%s", text);
    }
}

/* mkdir -p of path under a hierarchy's root; each directory made is appended to made. */
static int make_directories(const char *hierarchy, const char *path, struct text_buffer *made, bool v1)
{
    char current[PATH_MAX];
    snprintf(current, sizeof(current), "%s", hierarchy);
    char copy[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", path);
    char *saved = NULL;
    for (char *name = strtok_r(copy, "/", &saved); name; name = strtok_r(NULL, "/", &saved)) {
        size_t length = strlen(current);
        snprintf(current + length, sizeof(current) - length, "/%s", name);
        if (mkdir(current, 0755) == 0) {
            text_buffer_append(made, "%s\n", current);
            if (v1 && has_file(current, "cpuset.cpus"))
                inherit_cpuset(current);
        } else if (errno != EEXIST) {
            return -errno;
        }
    }
    return 0;
}

/* ---- limits ---- */

struct limit_state {
    bool memory, pids, cpu_shares, cpu_quota;
};

static int apply_v1_limits(const char *directory, const struct oci_resources *resources, struct limit_state *done)
{
    int error = 0;
    if (resources->memory_limit >= 0 && has_file(directory, "memory.limit_in_bytes")) {
        error = write_text(directory, "memory.limit_in_bytes", "%lld", (long long)resources->memory_limit);
        done->memory = error == 0;
    }
    if (!error && resources->pids_limit >= 0 && has_file(directory, "pids.max")) {
        error = write_text(directory, "pids.max", "%lld", (long long)resources->pids_limit);
        done->pids = error == 0;
    }
    if (!error && resources->cpu_shares > 0 && has_file(directory, "cpu.shares")) {
        error = write_text(directory, "cpu.shares", "%llu", (unsigned long long)resources->cpu_shares);
        done->cpu_shares = error == 0;
    }
    if (!error && (resources->cpu_quota >= 0 || resources->cpu_period > 0) && has_file(directory, "cpu.cfs_quota_us")) {
        if (resources->cpu_period > 0)
            error = write_text(directory, "cpu.cfs_period_us", "%llu", (unsigned long long)resources->cpu_period);
        if (!error && resources->cpu_quota >= 0)
            error = write_text(directory, "cpu.cfs_quota_us", "%lld", (long long)resources->cpu_quota);
        done->cpu_quota = error == 0;
    }
    return error;
}

/* cgroup v2 has weights from 1 to 10000 where v1 had shares from 2 to 262144 (the conversion runc uses). */
static unsigned long long weight_from_shares(unsigned long long shares)
{
    shares = MAX(2ULL, MIN(shares, 262144ULL));
    return 1 + ((shares - 2) * 9999) / 262142;
}

static int apply_v2_limits(const char *hierarchy, const char *directory, const char *path,
                           const struct oci_resources *resources, struct limit_state *done)
{
    /* Controllers must be enabled from the root down to the parent of our cgroup. */
    char current[PATH_MAX], copy[PATH_MAX];
    snprintf(current, sizeof(current), "%s", hierarchy);
    snprintf(copy, sizeof(copy), "%s", path);
    char *saved = NULL;
    for (char *name = strtok_r(copy, "/", &saved); name; name = strtok_r(NULL, "/", &saved)) {
        static const char *const controllers[] = {"+memory", "+pids", "+cpu"};
        for (size_t i = 0; i < ARRAY_SIZE(controllers); i++)
            write_text(current, "cgroup.subtree_control", "%s", controllers[i]); /* absent ones stay off */
        size_t length = strlen(current);
        snprintf(current + length, sizeof(current) - length, "/%s", name);
    }
    int error = 0;
    if (resources->memory_limit >= 0 && has_file(directory, "memory.max")) {
        error = write_text(directory, "memory.max", "%lld", (long long)resources->memory_limit);
        done->memory = error == 0;
    }
    if (!error && resources->pids_limit >= 0 && has_file(directory, "pids.max")) {
        error = write_text(directory, "pids.max", "%lld", (long long)resources->pids_limit);
        done->pids = error == 0;
    }
    if (!error && resources->cpu_shares > 0 && has_file(directory, "cpu.weight")) {
        error = write_text(directory, "cpu.weight", "%llu", weight_from_shares(resources->cpu_shares));
        done->cpu_shares = error == 0;
    }
    if (!error && (resources->cpu_quota >= 0 || resources->cpu_period > 0) && has_file(directory, "cpu.max")) {
        unsigned long long period = resources->cpu_period > 0 ? resources->cpu_period : 100000;
        if (resources->cpu_quota >= 0)
            error = write_text(directory, "cpu.max", "%lld %llu", (long long)resources->cpu_quota, period);
        else
            error = write_text(directory, "cpu.max", "max %llu", period);
        done->cpu_quota = error == 0;
    }
    return error;
}

/* A limit the config asks for that no hierarchy could take is an error, not a silent no-op. */
static const char *missing_limit(const struct oci_resources *resources, const struct limit_state *done)
{
    if (resources->memory_limit >= 0 && !done->memory)
        return "linux.resources.memory.limit (no memory controller)";
    if (resources->pids_limit >= 0 && !done->pids)
        return "linux.resources.pids.limit (no pids controller)";
    if (resources->cpu_shares > 0 && !done->cpu_shares)
        return "linux.resources.cpu.shares (no cpu controller)";
    if ((resources->cpu_quota >= 0 || resources->cpu_period > 0) && !done->cpu_quota)
        return "linux.resources.cpu.quota/period (no cpu bandwidth control)";
    return NULL;
}

static void remove_made(const char *made)
{
    /* deepest first: the list is in creation order */
    char *copy = xstrdup(made);
    size_t count = 0;
    for (char *cursor = copy; *cursor; cursor++)
        count += *cursor == '\n';
    char **lines = xcalloc(count + 1, sizeof(char *));
    size_t index = 0;
    char *saved = NULL;
    for (char *line = strtok_r(copy, "\n", &saved); line; line = strtok_r(NULL, "\n", &saved))
        lines[index++] = line;
    while (index > 0)
        rmdir(lines[--index]);
    free(lines);
    free(copy);
}

static bool path_is_safe(const char *path)
{
    if (path[0] != '/')
        return false;
    char copy[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", path);
    char *saved = NULL;
    for (char *name = strtok_r(copy, "/", &saved); name; name = strtok_r(NULL, "/", &saved))
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            return false;
    return strlen(path) < PATH_MAX / 2;
}

int cgroup_enter(const char *cgroup_root, const char *path, const struct oci_resources *resources, pid_t pid,
                 const char *record_file, char *error, size_t error_size)
{
    if (!path_is_safe(path)) {
        snprintf(error, error_size, "linux.cgroupsPath: %s is not a cgroup path (no \".\" or \"..\")", path);
        return -1;
    }
    struct text_buffer made = {0};
    text_buffer_append(&made, "%s", "");
    struct limit_state done = {0};
    int result = 0;
    bool v2 = has_file(cgroup_root, "cgroup.controllers");
    DIR *hierarchies = v2 ? NULL : opendir(cgroup_root);
    if (!v2 && !hierarchies) {
        snprintf(error, error_size, "cannot list the cgroup hierarchies in %s: %s", cgroup_root, strerror(errno));
        text_buffer_free(&made);
        return -1;
    }
    /* v2: the root is the one hierarchy. v1: each directory under the root is one (symlinks such as cpu ->
     * cpu,cpuacct name the same one twice); a hybrid host's "unified" is v2 without controllers. */
    struct dirent *entry = NULL;
    do {
        char hierarchy[PATH_MAX];
        if (v2) {
            snprintf(hierarchy, sizeof(hierarchy), "%s", cgroup_root);
        } else {
            entry = readdir(hierarchies);
            if (!entry)
                break;
            if (entry->d_name[0] == '.' || entry->d_type != DT_DIR)
                continue;
            snprintf(hierarchy, sizeof(hierarchy), "%s/%s", cgroup_root, entry->d_name);
        }
        char directory[2 * PATH_MAX];
        snprintf(directory, sizeof(directory), "%s%s", hierarchy, path);
        int failure = make_directories(hierarchy, path, &made, !v2);
        const char *step = "create";
        if (failure == 0) {
            step = "set limits of";
            bool hierarchy_v2 = v2 || has_file(hierarchy, "cgroup.controllers");
            failure = hierarchy_v2 ? apply_v2_limits(hierarchy, directory, path, resources, &done)
                                   : apply_v1_limits(directory, resources, &done);
        }
        if (failure == 0) {
            step = "move the sandbox into";
            failure = write_text(directory, "cgroup.procs", "%d", (int)pid);
        }
        if (failure < 0) {
            snprintf(error, error_size, "cannot %s the cgroup %s: %s", step, directory, strerror(-failure));
            result = -1;
        }
    } while (result == 0 && !v2);
    if (hierarchies)
        closedir(hierarchies);
    const char *missing = result == 0 ? missing_limit(resources, &done) : NULL;
    if (missing) {
        snprintf(error, error_size, "%s cannot be applied on this host", missing);
        result = -1;
    }
    if (result == 0 && record_file) {
        FILE *record = fopen(record_file, "we");
        if (!record || fputs(made.data, record) < 0 || fclose(record) != 0) {
            snprintf(error, error_size, "cannot record the cgroup in %s: %s", record_file, strerror(errno));
            result = -1;
        }
    }
    if (result < 0)
        remove_made(made.data); /* those pid already joined stay (busy) and go when it exits */
    text_buffer_free(&made);
    return result;
}

void cgroup_remove(const char *record_file)
{
    FILE *record = fopen(record_file, "re");
    if (!record)
        return;
    struct text_buffer made = {0};
    text_buffer_append(&made, "%s", "");
    char line[PATH_MAX];
    while (fgets(line, sizeof(line), record))
        text_buffer_append(&made, "%s", line);
    fclose(record);
    remove_made(made.data);
    text_buffer_free(&made);
    unlink(record_file);
}
