/* runsc/state.c: the container state directory under --root: id validation, state.json written atomically
 * and read back, the recorded exit status, and the status computed from whether the sandbox still lives. */
#include "runsc/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"

int state_write_file_atomically(const char *path, const char *text, size_t length, mode_t mode)
{
    /* the temporary sits beside the file (rename stays in one file system), hidden, unique to this process */
    const char *slash = strrchr(path, '/');
    struct text_buffer temporary = {0};
    if (slash)
        text_buffer_append(&temporary, "%.*s/.%s.%d", (int)(slash - path), path, slash + 1, (int)getpid());
    else
        text_buffer_append(&temporary, ".%s.%d", path, (int)getpid());
    int fd = open(temporary.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    int result = fd < 0 ? -errno : write_all(fd, text, length);
    if (fd >= 0) {
        if (result == 0 && fsync(fd) < 0)
            result = -errno;
        if (close(fd) < 0 && result == 0)
            result = -errno;
        /* readers see the old file or the new one, never a torn one */
        if (result == 0 && rename(temporary.data, path) < 0)
            result = -errno;
        if (result < 0)
            unlink(temporary.data);
    }
    text_buffer_free(&temporary);
    return result;
}

int state_validate_id(const char *id, char *error, size_t error_size)
{
    size_t length = strlen(id);
    bool valid = length > 0 && length <= 1024 &&
                 ((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z') || (id[0] >= '0' && id[0] <= '9'));
    for (size_t i = 1; valid && i < length; i++) {
        char c = id[i];
        valid = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                c == '-';
    }
    if (!valid) {
        snprintf(error, error_size, "invalid container id \"%s\": it must match [A-Za-z0-9][A-Za-z0-9_.-]*", id);
        return -1;
    }
    return 0;
}

char *state_directory(const char *root, const char *id)
{
    struct text_buffer path = {0};
    text_buffer_append(&path, "%s/%s", root, id);
    return path.data;
}

/* mkdir -p for the root, which may be several levels deep (/run/usandbox, podman's /run/.../runsc). */
static int make_directories(const char *path, mode_t mode)
{
    char copy[PATH_MAX];
    if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
        return -ENAMETOOLONG;
    for (char *slash = copy + 1; *slash; slash++) {
        if (*slash != '/')
            continue;
        *slash = '\0';
        if (mkdir(copy, 0755) < 0 && errno != EEXIST)
            return -errno;
        *slash = '/';
    }
    if (mkdir(copy, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int state_create_directory(const char *root, const char *id, char *error, size_t error_size)
{
    int result = make_directories(root, 0711);
    if (result < 0) {
        snprintf(error, error_size, "cannot create the state root %s: %s", root, strerror(-result));
        return -1;
    }
    char *directory = state_directory(root, id);
    if (mkdir(directory, 0700) < 0) {
        if (errno == EEXIST)
            snprintf(error, error_size, "container with id \"%s\" already exists", id);
        else
            snprintf(error, error_size, "cannot create %s: %s", directory, strerror(errno));
        free(directory);
        return -1;
    }
    free(directory);
    return 0;
}

static struct json_object *state_object(const struct container_state *state, const char *status, bool internal)
{
    struct json_object *object = json_object_new_object();
    json_object_object_add(object, "ociVersion", json_object_new_string("1.0.2"));
    json_object_object_add(object, "id", json_object_new_string(state->id));
    json_object_object_add(object, "pid", json_object_new_int64(state->pid));
    json_object_object_add(object, "status", json_object_new_string(status));
    json_object_object_add(object, "bundle", json_object_new_string(state->bundle ? state->bundle : ""));
    json_object_object_add(object, "rootfs", json_object_new_string(state->rootfs ? state->rootfs : ""));
    json_object_object_add(object, "created", json_object_new_string(state->created ? state->created : ""));
    json_object_object_add(object, "owner", json_object_new_string(state->owner ? state->owner : ""));
    struct json_object *annotations = json_object_new_object();
    for (size_t i = 0; state->annotations && state->annotations[i] && state->annotations[i + 1]; i += 2)
        json_object_object_add(annotations, state->annotations[i], json_object_new_string(state->annotations[i + 1]));
    json_object_object_add(object, "annotations", annotations);
    if (internal) {
        /* Only the runtime reads these; `state` does not print them. */
        json_object_object_add(object, "usandboxPidStartTime", json_object_new_uint64(state->pid_start_time));
        json_object_object_add(object, "usandboxSupervisorPid", json_object_new_int64(state->supervisor_pid));
        json_object_object_add(object, "usandboxStarted", json_object_new_boolean(state->started));
        json_object_object_add(object, "usandboxSentryPid", json_object_new_int64(state->sentry_pid));
        json_object_object_add(object, "usandboxSentryStartTime", json_object_new_uint64(state->sentry_start_time));
    }
    return object;
}

int state_save(const char *directory, const struct container_state *state)
{
    struct json_object *object = state_object(state, state->started ? "running" : "created", true);
    const char *text = json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    struct text_buffer final = {0};
    text_buffer_append(&final, "%s/%s", directory, STATE_FILE);
    int result = state_write_file_atomically(final.data, text, strlen(text), 0600);
    json_object_put(object);
    text_buffer_free(&final);
    return result;
}

static char *string_member(struct json_object *object, const char *key)
{
    struct json_object *value;
    if (json_object_object_get_ex(object, key, &value) && json_object_is_type(value, json_type_string))
        return xstrdup(json_object_get_string(value));
    return NULL;
}

static int64_t integer_member(struct json_object *object, const char *key)
{
    struct json_object *value;
    if (json_object_object_get_ex(object, key, &value) && json_object_is_type(value, json_type_int))
        return json_object_get_int64(value);
    return 0;
}

int state_load(const char *root, const char *id, struct container_state *state, char *error, size_t error_size)
{
    memset(state, 0, sizeof(*state));
    if (state_validate_id(id, error, error_size) < 0)
        return -EINVAL;
    char *directory = state_directory(root, id);
    struct text_buffer path = {0};
    text_buffer_append(&path, "%s/%s", directory, STATE_FILE);
    free(directory);
    struct json_object *object = json_object_from_file(path.data);
    if (!object) {
        int result = access(path.data, F_OK) < 0 ? -ENOENT : -EIO;
        if (result == -ENOENT)
            snprintf(error, error_size, "container \"%s\" does not exist", id);
        else
            snprintf(error, error_size, "%s: unreadable state: %s", path.data, json_util_get_last_err());
        text_buffer_free(&path);
        return result;
    }
    text_buffer_free(&path);
    state->id = string_member(object, "id");
    state->bundle = string_member(object, "bundle");
    state->rootfs = string_member(object, "rootfs");
    state->created = string_member(object, "created");
    state->owner = string_member(object, "owner");
    state->pid = (pid_t)integer_member(object, "pid");
    state->supervisor_pid = (pid_t)integer_member(object, "usandboxSupervisorPid");
    struct json_object *value;
    if (json_object_object_get_ex(object, "usandboxPidStartTime", &value))
        state->pid_start_time = json_object_get_uint64(value);
    if (json_object_object_get_ex(object, "usandboxStarted", &value))
        state->started = json_object_get_boolean(value);
    state->sentry_pid = (pid_t)integer_member(object, "usandboxSentryPid");
    if (json_object_object_get_ex(object, "usandboxSentryStartTime", &value))
        state->sentry_start_time = json_object_get_uint64(value);
    size_t count = 0;
    struct json_object *annotations = NULL;
    if (json_object_object_get_ex(object, "annotations", &annotations) &&
        json_object_is_type(annotations, json_type_object))
        count = (size_t)json_object_object_length(annotations);
    state->annotations = xcalloc(2 * count + 1, sizeof(char *));
    if (count) {
        size_t next = 0;
        json_object_object_foreach(annotations, key, annotation)
        {
            state->annotations[next++] = xstrdup(key);
            state->annotations[next++] = xstrdup(json_object_get_string(annotation));
        }
    }
    json_object_put(object);
    if (!state->id)
        state->id = xstrdup(id);
    return 0;
}

void state_free(struct container_state *state)
{
    free(state->id);
    free(state->bundle);
    free(state->rootfs);
    free(state->created);
    free(state->owner);
    for (size_t i = 0; state->annotations && state->annotations[i]; i++)
        free(state->annotations[i]);
    free(state->annotations);
    memset(state, 0, sizeof(*state));
}

/* Field 22 of /proc/PID/stat, after the parenthesised command (which may itself hold spaces and parens). */
static int read_process_stat(pid_t pid, char *process_state, unsigned long long *start_time)
{
    char path[64], text[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t length = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (length <= 0)
        return -EIO;
    text[length] = '\0';
    char *cursor = strrchr(text, ')');
    if (!cursor)
        return -EIO;
    cursor += 2;  /* ") " */
    *process_state = *cursor;
    /* fields 3 (state) .. 22 (starttime): skip 19 more */
    for (int field = 3; field < 22 && cursor; field++) {
        cursor = strchr(cursor, ' ');
        if (cursor)
            cursor++;
    }
    if (!cursor)
        return -EIO;
    *start_time = strtoull(cursor, NULL, 10);
    return 0;
}

unsigned long long state_process_start_time(pid_t pid)
{
    char process_state;
    unsigned long long start_time = 0;
    if (read_process_stat(pid, &process_state, &start_time) < 0)
        return 0;
    return start_time;
}

bool state_process_alive(pid_t pid, unsigned long long start_time)
{
    if (pid <= 0)
        return false;
    char process_state;
    unsigned long long actual_start_time;
    if (read_process_stat(pid, &process_state, &actual_start_time) < 0)
        return false;
    if (process_state == 'Z' || process_state == 'X')
        return false;
    return start_time == 0 || start_time == actual_start_time;
}

enum container_status state_status(const struct container_state *state)
{
    if (!state_process_alive(state->pid, state->pid_start_time))
        return CONTAINER_STOPPED;
    /* The supervisor outlives the Sentry by the moment it takes to record the exit status. */
    if (state->sentry_pid > 0 && !state_process_alive(state->sentry_pid, state->sentry_start_time))
        return CONTAINER_STOPPED;
    return state->started ? CONTAINER_RUNNING : CONTAINER_CREATED;
}

const char *state_status_name(enum container_status status)
{
    switch (status) {
    case CONTAINER_CREATED: return "created";
    case CONTAINER_RUNNING: return "running";
    case CONTAINER_STOPPED: return "stopped";
    }
    return "unknown";
}

int state_exit_status(const char *directory)
{
    struct text_buffer path = {0};
    text_buffer_append(&path, "%s/%s", directory, EXIT_STATUS_FILE);
    FILE *file = fopen(path.data, "re");
    text_buffer_free(&path);
    if (!file)
        return -1;
    int code = -1;
    if (fscanf(file, "%d", &code) != 1)
        code = -1;
    fclose(file);
    return code;
}

int state_record_exit_status(const char *directory, int code)
{
    struct text_buffer final = {0};
    text_buffer_append(&final, "%s/%s", directory, EXIT_STATUS_FILE);
    char text[16];
    int length = snprintf(text, sizeof(text), "%d\n", code);
    int result = state_write_file_atomically(final.data, text, (size_t)length, 0600);
    text_buffer_free(&final);
    return result;
}

int state_remove_directory(const char *directory)
{
    DIR *listing = opendir(directory);
    if (!listing)
        return errno == ENOENT ? 0 : -errno;
    struct dirent *entry;
    while ((entry = readdir(listing))) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        unlinkat(dirfd(listing), entry->d_name, 0);
    }
    closedir(listing);
    if (rmdir(directory) < 0 && errno != ENOENT)
        return -errno;
    return 0;
}

char *state_to_json(const struct container_state *state, enum container_status status, bool pretty)
{
    struct container_state shown = *state;
    if (status == CONTAINER_STOPPED)
        shown.pid = 0;  /* like runc: a stopped container has no process */
    struct json_object *object = state_object(&shown, state_status_name(status), false);
    int flags = JSON_C_TO_STRING_NOSLASHESCAPE | (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                                                          : JSON_C_TO_STRING_PLAIN);
    char *text = xstrdup(json_object_to_json_string_ext(object, flags));
    json_object_put(object);
    return text;
}

char *state_timestamp_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char date[64];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &utc);
    struct text_buffer text = {0};
    text_buffer_append(&text, "%s.%09ldZ", date, now.tv_nsec);
    return text.data;
}
