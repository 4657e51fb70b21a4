/* runsc/state.h: what the CLI remembers about a container between invocations: ROOT/ID/state.json (written
 * atomically), ROOT/ID/exit_status (written by the sandbox's supervisor) and ROOT/ID/start.fifo. */
#ifndef USANDBOX_RUNSC_STATE_H
#define USANDBOX_RUNSC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum container_status { CONTAINER_CREATED, CONTAINER_RUNNING, CONTAINER_STOPPED };

struct container_state {
    char *id;
    char *bundle;
    char *rootfs;
    pid_t pid;                          /* the container's process for engines: the supervisor, whose exit status
                                         * is the container's and which --pid-file names (or the CLI of `run`) */
    unsigned long long pid_start_time;  /* /proc/PID/stat's starttime: a reused pid is not ours */
    pid_t supervisor_pid;
    pid_t sentry_pid;                   /* the Sentry's host pid: signals for the container's init go there */
    unsigned long long sentry_start_time;
    bool started;                       /* `start` released the first process */
    char *created;                      /* RFC 3339, UTC */
    char *owner;
    char **annotations;                 /* NULL-terminated key, value pairs; never NULL after load */
};

#define STATE_FILE "state.json"
#define START_FIFO "start.fifo"
#define EXIT_STATUS_FILE "exit_status"
#define EXEC_SOCKET "exec.sock"         /* the supervisor accepts `exec` connections here */

/* Writes path through a temporary file beside it, fsync and rename(2): readers never see half a file. 0 or
 * -errno. */
int state_write_file_atomically(const char *path, const char *text, size_t length, mode_t mode);
/* 0 if id is [A-Za-z0-9][A-Za-z0-9_.-]* (at most 1024 characters), else -1 with a message. */
int state_validate_id(const char *id, char *error, size_t error_size);
/* ROOT/ID, to free. */
char *state_directory(const char *root, const char *id);
/* Creates ROOT (0711) if needed and ROOT/ID (0700): -1 with a message if the id is taken. */
int state_create_directory(const char *root, const char *id, char *error, size_t error_size);
/* Writes DIRECTORY/state.json through a temporary file and rename(2). 0 or -errno. */
int state_save(const char *directory, const struct container_state *state);
/* 0; -ENOENT when there is no such container; other -errno (message in error). */
int state_load(const char *root, const char *id, struct container_state *state, char *error, size_t error_size);
void state_free(struct container_state *state);
/* Created until started, running while the Sentry and the supervisor live, stopped once either is gone. */
enum container_status state_status(const struct container_state *state);
const char *state_status_name(enum container_status status);
/* The container's exit code as the supervisor recorded it, or -1. */
int state_exit_status(const char *directory);
int state_record_exit_status(const char *directory, int code);
/* Removes the directory and what the runtime put in it. 0 or -errno. */
int state_remove_directory(const char *directory);
/* The OCI state as JSON text (runc's fields: ociVersion, id, pid, status, bundle, rootfs, created, owner,
 * annotations), to free. pretty: indented, as `state` prints it. */
char *state_to_json(const struct container_state *state, enum container_status status, bool pretty);
/* Whether pid is alive and is the process that started at start_time (0: do not check). */
bool state_process_alive(pid_t pid, unsigned long long start_time);
/* /proc/PID/stat's starttime, or 0. */
unsigned long long state_process_start_time(pid_t pid);
/* Now, as RFC 3339 with nanoseconds, UTC, to free. */
char *state_timestamp_now(void);

#endif
