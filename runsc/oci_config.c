/* runsc/oci_config.c: config.json to struct oci_config with json-c. Owns the validation rules: types,
 * absolute paths, known mount types, rlimit and capability names; each error names its JSON path. */
#include "runsc/oci_config.h"

#include <cap-ng.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/common.h"

static void free_strings(char **strings)
{
    if (!strings)
        return;
    for (char **cursor = strings; *cursor; cursor++)
        free(*cursor);
    free(strings);
}

/* Where messages go, and the JSON path of the value being looked at (for them). */
struct parser {
    char *error;
    size_t error_size;
};

static int fail(struct parser *parser, const char *path, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct parser *parser, const char *path, const char *format, ...)
{
    char message[384];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, sizeof(message), format, arguments);
    va_end(arguments);
    snprintf(parser->error, parser->error_size, "config.json: %s: %s", path, message);
    return -1;
}

/* path + "." + key, for the messages about a member. */
static void join_path(char *out, size_t size, const char *path, const char *key)
{
    if (path[0])
        snprintf(out, size, "%s.%s", path, key);
    else
        snprintf(out, size, "%s", key);
}

static void index_path(char *out, size_t size, const char *path, size_t index)
{
    snprintf(out, size, "%s[%zu]", path, index);
}

static struct json_object *member(struct json_object *object, const char *key)
{
    struct json_object *value = NULL;
    if (!object || !json_object_object_get_ex(object, key, &value))
        return NULL;
    return value;
}

static bool is_type(struct json_object *value, enum json_type type)
{
    return value && json_object_is_type(value, type);
}

static int parse_string(struct parser *parser, const char *path, struct json_object *value, bool non_empty,
                        char **out)
{
    if (!is_type(value, json_type_string))
        return fail(parser, path, "must be a string");
    const char *text = json_object_get_string(value);
    if (non_empty && !text[0])
        return fail(parser, path, "must not be empty");
    if (strlen(text) != (size_t)json_object_get_string_len(value))
        return fail(parser, path, "must not contain a NUL character");
    *out = xstrdup(text);
    return 0;
}

static int parse_absolute_path(struct parser *parser, const char *path, struct json_object *value, char **out)
{
    if (parse_string(parser, path, value, true, out) < 0)
        return -1;
    if ((*out)[0] != '/') {
        fail(parser, path, "must be an absolute path, not \"%s\"", *out);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

static int parse_bool(struct parser *parser, const char *path, struct json_object *value, bool *out)
{
    if (!is_type(value, json_type_boolean))
        return fail(parser, path, "must be true or false");
    *out = json_object_get_boolean(value);
    return 0;
}

static int parse_integer(struct parser *parser, const char *path, struct json_object *value, int64_t minimum,
                         int64_t maximum, int64_t *out)
{
    if (!is_type(value, json_type_int))
        return fail(parser, path, "must be an integer");
    errno = 0;
    int64_t number = json_object_get_int64(value);
    if (errno == ERANGE || number < minimum || number > maximum)
        return fail(parser, path, "must be between %lld and %lld", (long long)minimum, (long long)maximum);
    *out = number;
    return 0;
}

/* rlimit values and sizes go up to 2^64-1, beyond int64: json-c keeps them as unsigned integers. */
static int parse_unsigned64(struct parser *parser, const char *path, struct json_object *value, uint64_t *out)
{
    if (!is_type(value, json_type_int))
        return fail(parser, path, "must be a non-negative integer");
    if (json_object_get_int64(value) < 0)
        return fail(parser, path, "must be a non-negative integer");
    *out = json_object_get_uint64(value);
    return 0;
}

static int parse_uint32(struct parser *parser, const char *path, struct json_object *value, uint32_t *out)
{
    int64_t number = 0;
    if (parse_integer(parser, path, value, 0, UINT32_MAX, &number) < 0)
        return -1;
    *out = (uint32_t)number;
    return 0;
}

/* A NULL-terminated copy; *out stays NULL on error. */
static int parse_string_array(struct parser *parser, const char *path, struct json_object *value, bool non_empty,
                              char ***out)
{
    const char *what = non_empty ? "must be a non-empty array of strings" : "must be an array of strings";
    if (!is_type(value, json_type_array))
        return fail(parser, path, "%s", what);
    size_t length = json_object_array_length(value);
    if (non_empty && length == 0)
        return fail(parser, path, "%s", what);
    char **strings = xcalloc(length + 1, sizeof(char *));
    for (size_t i = 0; i < length; i++) {
        struct json_object *element = json_object_array_get_idx(value, i);
        if (!is_type(element, json_type_string)) {
            free_strings(strings);
            char element_path[256];
            index_path(element_path, sizeof(element_path), path, i);
            return fail(parser, element_path, "must be a string (%s)", what);
        }
        strings[i] = xstrdup(json_object_get_string(element));
    }
    *out = strings;
    return 0;
}

static int parse_object(struct parser *parser, const char *path, struct json_object *value)
{
    if (!is_type(value, json_type_object))
        return fail(parser, path, "must be an object");
    return 0;
}

/* ---- process ---- */

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},         {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},       {"RLIMIT_FSIZE", RLIMIT_FSIZE},       {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},   {"RLIMIT_NPROC", RLIMIT_NPROC},       {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_rlimits(struct parser *parser, struct json_object *value, struct oci_process *process)
{
    const char *path = "process.rlimits";
    if (!is_type(value, json_type_array))
        return fail(parser, path, "must be an array of {type, soft, hard} objects");
    size_t length = json_object_array_length(value);
    process->rlimits = xcalloc(length ? length : 1, sizeof(*process->rlimits));
    for (size_t i = 0; i < length; i++) {
        struct json_object *element = json_object_array_get_idx(value, i);
        char element_path[128], field_path[160];
        index_path(element_path, sizeof(element_path), path, i);
        if (parse_object(parser, element_path, element) < 0)
            return -1;
        struct oci_rlimit *limit = &process->rlimits[i];
        join_path(field_path, sizeof(field_path), element_path, "type");
        char *name = NULL;
        if (parse_string(parser, field_path, member(element, "type"), true, &name) < 0)
            return -1;
        limit->resource = -1;
        for (size_t n = 0; n < ARRAY_SIZE(rlimit_names); n++)
            if (strcmp(name, rlimit_names[n].name) == 0)
                limit->resource = rlimit_names[n].resource;
        if (limit->resource < 0) {
            fail(parser, field_path, "unknown rlimit \"%s\" (expected a name like RLIMIT_NOFILE)", name);
            free(name);
            return -1;
        }
        free(name);
        for (size_t previous = 0; previous < i; previous++) {
            if (process->rlimits[previous].resource == limit->resource)
                return fail(parser, field_path, "the same rlimit is given twice");
        }
        join_path(field_path, sizeof(field_path), element_path, "soft");
        if (parse_unsigned64(parser, field_path, member(element, "soft"), &limit->soft) < 0)
            return -1;
        join_path(field_path, sizeof(field_path), element_path, "hard");
        if (parse_unsigned64(parser, field_path, member(element, "hard"), &limit->hard) < 0)
            return -1;
        if (limit->soft > limit->hard)
            return fail(parser, element_path, "soft limit %llu is above the hard limit %llu",
                        (unsigned long long)limit->soft, (unsigned long long)limit->hard);
        process->rlimit_count++;
    }
    return 0;
}

static int parse_capability_set(struct parser *parser, const char *path, struct json_object *value, uint64_t *mask)
{
    if (!value)
        return 0;
    char **names = NULL;
    if (parse_string_array(parser, path, value, false, &names) < 0)
        return -1;
    int result = 0;
    for (size_t i = 0; names[i]; i++) {
        const char *name = names[i];
        if (strncasecmp(name, "CAP_", 4) == 0)
            name += 4;
        int number = capng_name_to_capability(name);
        if (number < 0 || number >= 64) {
            char element_path[192];
            index_path(element_path, sizeof(element_path), path, i);
            result = fail(parser, element_path, "unknown capability \"%s\"", names[i]);
            break;
        }
        *mask |= UINT64_C(1) << number;
    }
    free_strings(names);
    return result;
}

static int parse_capabilities(struct parser *parser, struct json_object *value, struct oci_capabilities *caps)
{
    if (parse_object(parser, "process.capabilities", value) < 0)
        return -1;
    if (parse_capability_set(parser, "process.capabilities.bounding", member(value, "bounding"), &caps->bounding) < 0 ||
        parse_capability_set(parser, "process.capabilities.effective", member(value, "effective"),
                             &caps->effective) < 0 ||
        parse_capability_set(parser, "process.capabilities.inheritable", member(value, "inheritable"),
                             &caps->inheritable) < 0 ||
        parse_capability_set(parser, "process.capabilities.permitted", member(value, "permitted"),
                             &caps->permitted) < 0 ||
        parse_capability_set(parser, "process.capabilities.ambient", member(value, "ambient"), &caps->ambient) < 0)
        return -1;
    return 0;
}

static int parse_user(struct parser *parser, struct json_object *value, struct oci_process *process)
{
    if (parse_object(parser, "process.user", value) < 0)
        return -1;
    if (member(value, "username"))
        return fail(parser, "process.user.username", "is for Windows containers; give uid and gid");
    struct json_object *uid = member(value, "uid"), *gid = member(value, "gid");
    if (!uid)
        return fail(parser, "process.user.uid", "is required");
    if (!gid)
        return fail(parser, "process.user.gid", "is required");
    if (parse_uint32(parser, "process.user.uid", uid, &process->uid) < 0 ||
        parse_uint32(parser, "process.user.gid", gid, &process->gid) < 0)
        return -1;
    if (member(value, "umask")) {
        if (parse_uint32(parser, "process.user.umask", member(value, "umask"), &process->umask) < 0)
            return -1;
        if (process->umask > 0777)
            return fail(parser, "process.user.umask", "must be at most 0777 (511)");
        process->has_umask = true;
    }
    struct json_object *groups = member(value, "additionalGids");
    if (groups) {
        const char *path = "process.user.additionalGids";
        if (!is_type(groups, json_type_array))
            return fail(parser, path, "must be an array of integers");
        size_t length = json_object_array_length(groups);
        if (length > 64)
            return fail(parser, path, "at most 64 groups are supported, not %zu", length);
        process->additional_gids = xcalloc(length ? length : 1, sizeof(uint32_t));
        for (size_t i = 0; i < length; i++) {
            char element_path[96];
            index_path(element_path, sizeof(element_path), path, i);
            if (parse_uint32(parser, element_path, json_object_array_get_idx(groups, i),
                             &process->additional_gids[i]) < 0)
                return -1;
            process->additional_gid_count++;
        }
    }
    return 0;
}

static int parse_process(struct parser *parser, struct json_object *value, struct oci_process *process)
{
    if (!value)
        return fail(parser, "process", "is required");
    if (parse_object(parser, "process", value) < 0)
        return -1;
    struct json_object *field;
    if ((field = member(value, "terminal")) && parse_bool(parser, "process.terminal", field, &process->terminal) < 0)
        return -1;
    if (parse_string_array(parser, "process.args", member(value, "args"), true, &process->args) < 0)
        return -1;
    if (member(value, "commandLine"))
        return fail(parser, "process.commandLine", "is for Windows containers; give args");
    if (!process->args[0][0])
        return fail(parser, "process.args[0]", "must not be empty");
    if ((field = member(value, "env"))) {
        if (parse_string_array(parser, "process.env", field, false, &process->env) < 0)
            return -1;
        for (size_t i = 0; process->env[i]; i++) {
            const char *equals = strchr(process->env[i], '=');
            if (!equals || equals == process->env[i]) {
                char element_path[64];
                index_path(element_path, sizeof(element_path), "process.env", i);
                return fail(parser, element_path, "must be NAME=VALUE, not \"%s\"", process->env[i]);
            }
        }
    } else {
        process->env = xcalloc(1, sizeof(char *));
    }
    if (!member(value, "cwd"))
        return fail(parser, "process.cwd", "is required");
    if (parse_absolute_path(parser, "process.cwd", member(value, "cwd"), &process->cwd) < 0)
        return -1;
    if (!member(value, "user"))
        return fail(parser, "process.user", "is required");
    if (parse_user(parser, member(value, "user"), process) < 0)
        return -1;
    if ((field = member(value, "rlimits")) && parse_rlimits(parser, field, process) < 0)
        return -1;
    if ((field = member(value, "noNewPrivileges")) &&
        parse_bool(parser, "process.noNewPrivileges", field, &process->no_new_privileges) < 0)
        return -1;
    if ((field = member(value, "capabilities")) && parse_capabilities(parser, field, &process->capabilities) < 0)
        return -1;
    if ((field = member(value, "consoleSize"))) {
        if (parse_object(parser, "process.consoleSize", field) < 0)
            return -1;
        uint32_t ignored;
        if (parse_uint32(parser, "process.consoleSize.height", member(field, "height"), &ignored) < 0 ||
            parse_uint32(parser, "process.consoleSize.width", member(field, "width"), &ignored) < 0)
            return -1;
    }
    if ((field = member(value, "oomScoreAdj"))) {
        int64_t ignored;
        if (parse_integer(parser, "process.oomScoreAdj", field, -1000, 1000, &ignored) < 0)
            return -1;
    }
    return 0;
}

/* ---- root, mounts ---- */

static int parse_root(struct parser *parser, struct json_object *value, const char *bundle, struct oci_config *config)
{
    if (!value)
        return fail(parser, "root", "is required");
    if (parse_object(parser, "root", value) < 0)
        return -1;
    char *path = NULL;
    if (!member(value, "path"))
        return fail(parser, "root.path", "is required");
    if (parse_string(parser, "root.path", member(value, "path"), true, &path) < 0)
        return -1;
    if (path[0] == '/') {
        config->root_path = path;
    } else {
        struct text_buffer joined = {0};
        text_buffer_append(&joined, "%s/%s", bundle, path);
        free(path);
        config->root_path = joined.data;
    }
    struct json_object *readonly = member(value, "readonly");
    if (readonly && parse_bool(parser, "root.readonly", readonly, &config->root_readonly) < 0)
        return -1;
    return 0;
}

static const struct {
    const char *type;
    enum oci_mount_kind kind;
} mount_types[] = {
    {"bind", OCI_MOUNT_BIND},     {"rbind", OCI_MOUNT_BIND},        {"tmpfs", OCI_MOUNT_TMPFS},
    {"proc", OCI_MOUNT_PROC},     {"sysfs", OCI_MOUNT_SYSFS},       {"devpts", OCI_MOUNT_DEVPTS},
    {"mqueue", OCI_MOUNT_MQUEUE}, {"cgroup", OCI_MOUNT_CGROUP},     {"cgroup2", OCI_MOUNT_CGROUP},
};

static bool has_option(char *const *options, const char *wanted)
{
    for (size_t i = 0; options[i]; i++)
        if (strcmp(options[i], wanted) == 0)
            return true;
    return false;
}

static int parse_mount(struct parser *parser, const char *path, struct json_object *value, struct oci_mount *mount)
{
    if (parse_object(parser, path, value) < 0)
        return -1;
    char field_path[160];
    join_path(field_path, sizeof(field_path), path, "destination");
    if (!member(value, "destination"))
        return fail(parser, field_path, "is required");
    if (parse_absolute_path(parser, field_path, member(value, "destination"), &mount->destination) < 0)
        return -1;
    struct json_object *field;
    if ((field = member(value, "source"))) {
        join_path(field_path, sizeof(field_path), path, "source");
        if (parse_string(parser, field_path, field, false, &mount->source) < 0)
            return -1;
    }
    if ((field = member(value, "options"))) {
        join_path(field_path, sizeof(field_path), path, "options");
        if (parse_string_array(parser, field_path, field, false, &mount->options) < 0)
            return -1;
    } else {
        mount->options = xcalloc(1, sizeof(char *));
    }
    join_path(field_path, sizeof(field_path), path, "type");
    if ((field = member(value, "type"))) {
        if (parse_string(parser, field_path, field, true, &mount->type) < 0)
            return -1;
    } else if (has_option(mount->options, "bind") || has_option(mount->options, "rbind")) {
        mount->type = xstrdup("bind");  /* runc's convention: a bind mount may leave out its type */
    } else {
        return fail(parser, field_path, "is required (or give the \"bind\" option)");
    }
    bool known = false;
    for (size_t i = 0; i < ARRAY_SIZE(mount_types); i++) {
        if (strcmp(mount->type, mount_types[i].type) == 0) {
            mount->kind = mount_types[i].kind;
            known = true;
        }
    }
    /* "none" with a bind option is how some tools spell a bind mount. */
    if (!known && (has_option(mount->options, "bind") || has_option(mount->options, "rbind"))) {
        mount->kind = OCI_MOUNT_BIND;
        known = true;
    }
    if (!known)
        return fail(parser, field_path,
                    "unknown mount type \"%s\" (supported: bind, tmpfs, proc, sysfs, devpts, mqueue, cgroup)",
                    mount->type);
    if (mount->kind == OCI_MOUNT_BIND && !mount->source) {
        join_path(field_path, sizeof(field_path), path, "source");
        return fail(parser, field_path, "is required for a bind mount");
    }
    mount->read_only = has_option(mount->options, "ro");
    mount->mode = mount->kind == OCI_MOUNT_MQUEUE ? 01777 : 0755;
    for (size_t i = 0; mount->options[i]; i++) {
        if (strncmp(mount->options[i], "mode=", 5) != 0)
            continue;
        char *end;
        errno = 0;
        unsigned long mode = strtoul(mount->options[i] + 5, &end, 8);
        if (errno || *end || end == mount->options[i] + 5 || mode > 07777) {
            char option_path[192];
            join_path(field_path, sizeof(field_path), path, "options");
            index_path(option_path, sizeof(option_path), field_path, i);
            return fail(parser, option_path, "\"%s\" is not an octal mode", mount->options[i]);
        }
        mount->mode = (uint32_t)mode;
    }
    return 0;
}

static int parse_mounts(struct parser *parser, struct json_object *value, struct oci_config *config)
{
    if (!is_type(value, json_type_array))
        return fail(parser, "mounts", "must be an array of objects");
    size_t length = json_object_array_length(value);
    config->mounts = xcalloc(length ? length : 1, sizeof(*config->mounts));
    for (size_t i = 0; i < length; i++) {
        char path[64];
        index_path(path, sizeof(path), "mounts", i);
        config->mount_count++;
        if (parse_mount(parser, path, json_object_array_get_idx(value, i), &config->mounts[i]) < 0)
            return -1;
    }
    return 0;
}

/* ---- hooks ---- */

static int parse_hook_list(struct parser *parser, const char *name, struct json_object *hooks,
                           struct oci_hook_list *list)
{
    struct json_object *value = member(hooks, name);
    if (!value)
        return 0;
    char path[64];
    join_path(path, sizeof(path), "hooks", name);
    if (!is_type(value, json_type_array))
        return fail(parser, path, "must be an array of {path, args, env, timeout} objects");
    size_t length = json_object_array_length(value);
    list->hooks = xcalloc(length ? length : 1, sizeof(*list->hooks));
    for (size_t i = 0; i < length; i++) {
        struct json_object *element = json_object_array_get_idx(value, i);
        struct oci_hook *hook = &list->hooks[i];
        list->count++;
        char element_path[96], field_path[128];
        index_path(element_path, sizeof(element_path), path, i);
        if (parse_object(parser, element_path, element) < 0)
            return -1;
        join_path(field_path, sizeof(field_path), element_path, "path");
        if (!member(element, "path"))
            return fail(parser, field_path, "is required");
        if (parse_absolute_path(parser, field_path, member(element, "path"), &hook->path) < 0)
            return -1;
        struct json_object *field;
        join_path(field_path, sizeof(field_path), element_path, "args");
        if ((field = member(element, "args")) && parse_string_array(parser, field_path, field, false, &hook->args) < 0)
            return -1;
        join_path(field_path, sizeof(field_path), element_path, "env");
        if ((field = member(element, "env")) && parse_string_array(parser, field_path, field, false, &hook->env) < 0)
            return -1;
        join_path(field_path, sizeof(field_path), element_path, "timeout");
        if ((field = member(element, "timeout"))) {
            int64_t timeout = 0;
            if (parse_integer(parser, field_path, field, 1, INT_MAX, &timeout) < 0)
                return -1;
            hook->timeout = (int)timeout;
        }
    }
    return 0;
}

static int parse_hooks(struct parser *parser, struct json_object *value, struct oci_config *config)
{
    if (parse_object(parser, "hooks", value) < 0)
        return -1;
    if (parse_hook_list(parser, "prestart", value, &config->prestart) < 0 ||
        parse_hook_list(parser, "createRuntime", value, &config->create_runtime) < 0 ||
        parse_hook_list(parser, "createContainer", value, &config->create_container) < 0 ||
        parse_hook_list(parser, "startContainer", value, &config->start_container) < 0 ||
        parse_hook_list(parser, "poststart", value, &config->poststart) < 0 ||
        parse_hook_list(parser, "poststop", value, &config->poststop) < 0)
        return -1;
    return 0;
}

/* ---- linux ---- */

static const struct {
    const char *name;
    int type;
} namespace_types[] = {
    {"pid", CLONE_NEWPID},   {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},      {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS},   {"user", CLONE_NEWUSER},   {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

static int parse_namespaces(struct parser *parser, struct json_object *value, struct oci_config *config)
{
    const char *path = "linux.namespaces";
    if (!is_type(value, json_type_array))
        return fail(parser, path, "must be an array of {type, path} objects");
    size_t length = json_object_array_length(value);
    config->namespaces = xcalloc(length ? length : 1, sizeof(*config->namespaces));
    for (size_t i = 0; i < length; i++) {
        struct json_object *element = json_object_array_get_idx(value, i);
        struct oci_namespace *namespace = &config->namespaces[i];
        config->namespace_count++;
        char element_path[64], field_path[96];
        index_path(element_path, sizeof(element_path), path, i);
        if (parse_object(parser, element_path, element) < 0)
            return -1;
        join_path(field_path, sizeof(field_path), element_path, "type");
        if (parse_string(parser, field_path, member(element, "type"), true, &namespace->name) < 0)
            return -1;
        namespace->type = 0;
        for (size_t n = 0; n < ARRAY_SIZE(namespace_types); n++)
            if (strcmp(namespace->name, namespace_types[n].name) == 0)
                namespace->type = namespace_types[n].type;
        if (!namespace->type)
            return fail(parser, field_path, "unknown namespace type \"%s\"", namespace->name);
        for (size_t previous = 0; previous < i; previous++)
            if (config->namespaces[previous].type == namespace->type)
                return fail(parser, field_path, "the %s namespace is given twice", namespace->name);
        struct json_object *field;
        join_path(field_path, sizeof(field_path), element_path, "path");
        if ((field = member(element, "path")) &&
            parse_absolute_path(parser, field_path, field, &namespace->path) < 0)
            return -1;
    }
    return 0;
}

static int parse_resources(struct parser *parser, struct json_object *value, struct oci_resources *resources)
{
    if (parse_object(parser, "linux.resources", value) < 0)
        return -1;
    struct json_object *group, *field;
    if ((group = member(value, "memory"))) {
        if (parse_object(parser, "linux.resources.memory", group) < 0)
            return -1;
        if ((field = member(group, "limit")) &&
            parse_integer(parser, "linux.resources.memory.limit", field, -1, INT64_MAX, &resources->memory_limit) < 0)
            return -1;
        if (resources->memory_limit == 0)
            return fail(parser, "linux.resources.memory.limit", "must be positive (or -1 for none)");
    }
    if ((group = member(value, "pids"))) {
        if (parse_object(parser, "linux.resources.pids", group) < 0)
            return -1;
        if ((field = member(group, "limit")) &&
            parse_integer(parser, "linux.resources.pids.limit", field, -1, INT64_MAX, &resources->pids_limit) < 0)
            return -1;
        if (resources->pids_limit == 0)
            resources->pids_limit = -1;  /* 0 means "no limit" to runc as well */
    }
    if ((group = member(value, "cpu"))) {
        if (parse_object(parser, "linux.resources.cpu", group) < 0)
            return -1;
        if ((field = member(group, "shares")) &&
            parse_unsigned64(parser, "linux.resources.cpu.shares", field, &resources->cpu_shares) < 0)
            return -1;
        if ((field = member(group, "quota")) &&
            parse_integer(parser, "linux.resources.cpu.quota", field, -1, INT64_MAX, &resources->cpu_quota) < 0)
            return -1;
        if (resources->cpu_quota == 0)
            resources->cpu_quota = -1;
        if ((field = member(group, "period")) &&
            parse_unsigned64(parser, "linux.resources.cpu.period", field, &resources->cpu_period) < 0)
            return -1;
    }
    return 0;
}

static int parse_linux(struct parser *parser, struct json_object *value, struct oci_config *config)
{
    if (parse_object(parser, "linux", value) < 0)
        return -1;
    struct json_object *field;
    if ((field = member(value, "namespaces")) && parse_namespaces(parser, field, config) < 0)
        return -1;
    if ((field = member(value, "resources")) && parse_resources(parser, field, &config->resources) < 0)
        return -1;
    if ((field = member(value, "cgroupsPath")) &&
        parse_string(parser, "linux.cgroupsPath", field, false, &config->cgroups_path) < 0)
        return -1;
    return 0;
}

static int parse_annotations(struct parser *parser, struct json_object *value, struct oci_config *config)
{
    if (parse_object(parser, "annotations", value) < 0)
        return -1;
    size_t count = (size_t)json_object_object_length(value);
    char **pairs = xcalloc(2 * count + 1, sizeof(char *));
    config->annotations = pairs;
    size_t next = 0;
    json_object_object_foreach(value, key, annotation)
    {
        if (!is_type(annotation, json_type_string)) {
            char path[256];
            join_path(path, sizeof(path), "annotations", key);
            return fail(parser, path, "must be a string");
        }
        pairs[next++] = xstrdup(key);
        pairs[next++] = xstrdup(json_object_get_string(annotation));
    }
    return 0;
}

static int parse_document(struct parser *parser, struct json_object *document, const char *bundle,
                          struct oci_config *config)
{
    if (!is_type(document, json_type_object))
        return fail(parser, "(top level)", "must be a JSON object");
    if (!member(document, "ociVersion"))
        return fail(parser, "ociVersion", "is required");
    if (parse_string(parser, "ociVersion", member(document, "ociVersion"), true, &config->oci_version) < 0)
        return -1;
    if (strncmp(config->oci_version, "1.", 2) != 0)
        return fail(parser, "ociVersion", "version \"%s\" is not supported (1.x is)", config->oci_version);
    if (parse_root(parser, member(document, "root"), bundle, config) < 0)
        return -1;
    if (parse_process(parser, member(document, "process"), &config->process) < 0)
        return -1;
    struct json_object *field;
    if ((field = member(document, "hostname")) && parse_string(parser, "hostname", field, false, &config->hostname) < 0)
        return -1;
    if (config->hostname && strlen(config->hostname) > 64)
        return fail(parser, "hostname", "must be at most 64 characters");
    if ((field = member(document, "mounts")) && parse_mounts(parser, field, config) < 0)
        return -1;
    if ((field = member(document, "hooks")) && parse_hooks(parser, field, config) < 0)
        return -1;
    if ((field = member(document, "linux")) && parse_linux(parser, field, config) < 0)
        return -1;
    if ((field = member(document, "annotations")) && parse_annotations(parser, field, config) < 0)
        return -1;
    if (!config->annotations)
        config->annotations = xcalloc(1, sizeof(char *));
    return 0;
}

int oci_config_parse(const char *json_text, const char *bundle, struct oci_config *config, char *error,
                     size_t error_size)
{
    memset(config, 0, sizeof(*config));
    config->resources.memory_limit = -1;
    config->resources.pids_limit = -1;
    config->resources.cpu_quota = -1;
    config->bundle = xstrdup(bundle);
    struct parser parser = {.error = error, .error_size = error_size};
    enum json_tokener_error parse_error = json_tokener_success;
    struct json_object *document = json_tokener_parse_verbose(json_text, &parse_error);
    if (!document) {
        snprintf(error, error_size, "config.json: not valid JSON: %s", json_tokener_error_desc(parse_error));
        oci_config_free(config);
        return -1;
    }
    int result = parse_document(&parser, document, bundle, config);
    json_object_put(document);
    if (result < 0)
        oci_config_free(config);
    return result;
}

int oci_config_load(const char *bundle, struct oci_config *config, char *error, size_t error_size)
{
    char absolute_bundle[PATH_MAX];
    if (!realpath(bundle, absolute_bundle)) {
        snprintf(error, error_size, "bundle %s: %s", bundle, strerror(errno));
        return -1;
    }
    struct text_buffer path = {0};
    text_buffer_append(&path, "%s/config.json", absolute_bundle);
    FILE *file = fopen(path.data, "re");
    if (!file) {
        snprintf(error, error_size, "%s: %s", path.data, strerror(errno));
        text_buffer_free(&path);
        return -1;
    }
    struct text_buffer text = {0};
    char chunk[8192];
    size_t length;
    while ((length = fread(chunk, 1, sizeof(chunk), file)) > 0)
        text_buffer_append_bytes(&text, chunk, length);
    bool read_failed = ferror(file);
    fclose(file);
    if (read_failed) {
        snprintf(error, error_size, "%s: cannot read it", path.data);
        text_buffer_free(&text);
        text_buffer_free(&path);
        return -1;
    }
    text_buffer_free(&path);
    int result = oci_config_parse(text.data ? text.data : "", absolute_bundle, config, error, error_size);
    text_buffer_free(&text);
    return result;
}

char *oci_mount_host_source(const struct oci_config *config, const struct oci_mount *mount)
{
    if (!mount->source)
        return NULL;
    if (mount->source[0] == '/')
        return xstrdup(mount->source);
    struct text_buffer joined = {0};
    text_buffer_append(&joined, "%s/%s", config->bundle, mount->source);
    return joined.data;
}

int oci_config_check_supported(const struct oci_config *config, char *error, size_t error_size)
{
    struct parser parser = {.error = error, .error_size = error_size};
    for (size_t i = 0; i < config->mount_count; i++) {
        char path[64];
        index_path(path, sizeof(path), "mounts", i);
        const struct oci_mount *mount = &config->mounts[i];
        if (mount->kind != OCI_MOUNT_BIND)
            continue;
        char *source = oci_mount_host_source(config, mount);
        struct stat status;
        int result = 0;
        if (stat(source, &status) < 0)
            result = fail(&parser, path, "bind mount source %s: %s", source, strerror(errno));
        else if (!S_ISDIR(status.st_mode) && !S_ISREG(status.st_mode))
            result = fail(&parser, path, "bind mount source %s: only directories and regular files can be bind mounted",
                          source);
        free(source);
        if (result < 0)
            return result;
    }
    /* They run inside the container's namespaces, which here are the Sentry's: no host binary runs there. */
    if (config->create_container.count > 0)
        return fail(&parser, "hooks.createContainer", "is not supported: the container's namespaces are the Sentry's");
    if (config->start_container.count > 0)
        return fail(&parser, "hooks.startContainer", "is not supported: the container's namespaces are the Sentry's");
    for (size_t i = 0; i < config->namespace_count; i++) {
        char path[64];
        index_path(path, sizeof(path), "linux.namespaces", i);
        if (config->namespaces[i].path)
            return fail(&parser, path, "joining an existing %s namespace (%s) is not supported yet",
                        config->namespaces[i].name, config->namespaces[i].path);
    }
    return 0;
}

static void free_hooks(struct oci_hook_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->hooks[i].path);
        free_strings(list->hooks[i].args);
        free_strings(list->hooks[i].env);
    }
    free(list->hooks);
}

void oci_config_free(struct oci_config *config)
{
    free(config->oci_version);
    free(config->bundle);
    struct oci_process *process = &config->process;
    free_strings(process->args);
    free_strings(process->env);
    free(process->cwd);
    free(process->additional_gids);
    free(process->rlimits);
    free(config->root_path);
    free(config->hostname);
    free(config->cgroups_path);
    for (size_t i = 0; i < config->mount_count; i++) {
        free(config->mounts[i].type);
        free(config->mounts[i].destination);
        free(config->mounts[i].source);
        free_strings(config->mounts[i].options);
    }
    free(config->mounts);
    for (size_t i = 0; i < config->namespace_count; i++) {
        free(config->namespaces[i].name);
        free(config->namespaces[i].path);
    }
    free(config->namespaces);
    free_hooks(&config->prestart);
    free_hooks(&config->create_runtime);
    free_hooks(&config->create_container);
    free_hooks(&config->start_container);
    free_hooks(&config->poststart);
    free_hooks(&config->poststop);
    free_strings(config->annotations);
    memset(config, 0, sizeof(*config));
}
