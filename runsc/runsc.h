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
    /* the OCI runtime's global flags */
    const char *root;        /* state directories: default /run/usandbox */
    const char *log;         /* --log FILE: the CLI's own errors, as runc writes them */
    bool log_json;           /* --log-format=json */
    bool systemd_cgroup;     /* accepted; cgroups are not managed yet */
    const char *network;     /* none or sandbox: the sandbox has no network either way */
    bool overlay;            /* --overlay: an in-memory upper layer on the root, whatever root.readonly says */
};

#define RUNSC_DEFAULT_ROOT "/run/usandbox"

/* `usandbox do [flags] -- CMD ARGS...`: returns the process exit status. */
int runsc_do(const struct runsc_options *options, char *const *argv);
/* Parses one global flag into options: 1 if it was one, 0 if not, -1 (message printed) if malformed.
 * A flag that takes a value accepts "--flag=value" and, when next is not NULL, "--flag value" (then
 * returns 2: both arguments are used). */
int runsc_parse_flag(struct runsc_options *options, const char *argument, const char *next);
void runsc_usage(FILE *out);
/* `usandbox syscalls [--missing]`: the table of x86-64 system calls and their status. */
int runsc_list_syscalls(bool only_missing);

/* The OCI commands (runsc/lifecycle.c); each takes the arguments after the command name and returns the
 * CLI's exit status. */
int runsc_create(const struct runsc_options *options, int argc, char **argv);
int runsc_start(const struct runsc_options *options, int argc, char **argv);
int runsc_state(const struct runsc_options *options, int argc, char **argv);
int runsc_kill(const struct runsc_options *options, int argc, char **argv);
int runsc_delete(const struct runsc_options *options, int argc, char **argv);
int runsc_run(const struct runsc_options *options, int argc, char **argv);
int runsc_list(const struct runsc_options *options, int argc, char **argv);
int runsc_ps(const struct runsc_options *options, int argc, char **argv);
int runsc_events(const struct runsc_options *options, int argc, char **argv);
int runsc_exec(const struct runsc_options *options, int argc, char **argv);
/* `usandbox spec [--bundle DIR] [--rootless]`: writes DIR/config.json, never over an existing one. */
int runsc_spec(const char *bundle, bool rootless);

/* What the OCI commands share (runsc/lifecycle.c): the state root, runc-style flags ("--name value",
 * "--name=value", "-n value"), an atomically written --pid-file, and a terminal whose controlling side
 * goes to --console-socket (returns the terminal side, the process's stdio, or -1 with a message). */
const char *runsc_state_root(const struct runsc_options *options);
const char *runsc_take_value(int argc, char **argv, int *index, const char *long_name, const char *short_name);
bool runsc_is_flag(const char *argument, const char *long_name, const char *short_name);
int runsc_write_pid_file(const char *path, int pid);
/* A container directory's exec socket (state.h's EXEC_SOCKET): listening (the supervisor) or connected (exec).
 * The fd, or -1 with errno set. */
int runsc_exec_socket(const char *directory, bool listening);
int runsc_open_console(const char *socket_path, char *error, size_t error_size);
/* Closes every fd above stdio but those in keep: a process that outlives the CLI must not hold the pipes
 * an engine gave the CLI and reads until EOF. */
void runsc_close_inherited_fds(const int *keep, size_t keep_count);
/* Has the Sentry of the container in directory deliver signal to its init (or, with all, to every process),
 * as from outside its pid namespace, over the exec socket (runsc/exec.c). 0 or -errno (-ENOENT,
 * -ECONNREFUSED: nobody serves it, as before start). */
int runsc_signal_sandbox(const char *directory, int signal, bool all);
/* `usandbox install [--runtime-name NAME] [--config FILE] ...` (runsc/install.c). */
int runsc_install(int argc, char **argv);

/* An error of the CLI: to stderr, and to --log (text or json) when given. */
void runsc_error(const struct runsc_options *options, const char *format, ...) __attribute__((format(printf, 2, 3)));

/* Shared by `do` and the OCI sandbox (runsc/do.c). */
void runsc_open_component_log(const struct runsc_options *options, const char *component);
int runsc_sentry_isolate_mounts(void);
/* Parses a signal: "KILL", "SIGKILL", "9". Returns the number, or -1. */
int runsc_parse_signal(const char *text);

#endif
