/* syscalls: the Linux x86-64 syscall table (every number named, implemented or not) and the handlers,
 * one file per family. The Sentry's dispatcher calls syscall_dispatch(); --strace uses the decoders. */
#ifndef USANDBOX_SYSCALLS_H
#define USANDBOX_SYSCALLS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/common.h"
#include "sentry/sentry.h"

typedef long (*syscall_handler)(struct task *task, const struct syscall_args *args);

/* How --strace prints an argument. */
enum syscall_argument_kind {
    SYSCALL_ARGUMENT_NONE = 0,   /* no such argument */
    SYSCALL_ARGUMENT_INTEGER,    /* signed decimal */
    SYSCALL_ARGUMENT_UNSIGNED,   /* unsigned decimal */
    SYSCALL_ARGUMENT_HEX,        /* flags, masks, addresses */
    SYSCALL_ARGUMENT_FD,         /* int, AT_FDCWD shown by name */
    SYSCALL_ARGUMENT_PATH,       /* const char * read from the task */
    SYSCALL_ARGUMENT_POINTER,    /* shown as 0x... or NULL */
    SYSCALL_ARGUMENT_BUFFER_IN,  /* const void * whose length is the next argument: shown as a quoted prefix */
    SYSCALL_ARGUMENT_BUFFER_OUT, /* void * filled by the call; its length is the result */
    SYSCALL_ARGUMENT_SIGNAL,     /* signal number, by name */
    SYSCALL_ARGUMENT_OPEN_FLAGS, /* O_* by name */
    SYSCALL_ARGUMENT_OCTAL,      /* modes */
    SYSCALL_ARGUMENT_STRING_ARRAY, /* argv/envp */
};

struct syscall_description {
    const char *name;                        /* NULL for numbers Linux does not assign */
    syscall_handler handler;                 /* NULL: ENOSYS, logged once by name */
    enum syscall_argument_kind arguments[6];
};

#define SYSCALL_TABLE_SIZE 463
const struct syscall_description *syscall_describe(uint64_t number); /* NULL when out of range */
const char *syscall_name(uint64_t number);  /* "openat", or "syscall_NNN" for unassigned numbers */
int syscall_number_by_name(const char *name); /* -1 if unknown */

/* Run the handler (or ENOSYS). Logs unimplemented numbers once per sandbox. */
long syscall_dispatch(struct task *task, const struct syscall_args *args);
bool syscall_is_implemented(uint64_t number);

/* --strace: one line per syscall, with arguments decoded from the task's memory. */
void syscall_trace_enter(struct task *task, const struct syscall_args *args, struct text_buffer *line);
void syscall_trace_exit(struct task *task, const struct syscall_args *args, long result, struct text_buffer *line);

/* ---- handlers, by family: each syscalls/<family>.c defines its handlers as
 *   static SYSCALL_HANDLER(read) { ... }
 * and one binding array ending with { -1, NULL }, which the dispatcher merges into the table. ---- */
#define SYSCALL_HANDLER(name) long sys_##name(struct task *task, const struct syscall_args *args)
struct syscall_binding {
    int number;
    syscall_handler handler;
};
extern const struct syscall_binding syscall_bindings_file[];    /* file.c: fds, I/O, pipes, ioctl, fcntl */
extern const struct syscall_binding syscall_bindings_fs[];      /* fs.c: paths, stat, dirs, cwd, links */
extern const struct syscall_binding syscall_bindings_mm[];      /* mm.c */
extern const struct syscall_binding syscall_bindings_process[]; /* process.c: clone, execve, wait, exit, ids */
extern const struct syscall_binding syscall_bindings_signal[];  /* signal.c */
extern const struct syscall_binding syscall_bindings_time[];    /* time.c */
extern const struct syscall_binding syscall_bindings_info[];    /* info.c: uname, getrandom, rlimits, sysinfo */
extern const struct syscall_binding syscall_bindings_socket[];  /* socket.c: via netstack/ */
extern const struct syscall_binding syscall_bindings_futex[];   /* futex.c */
extern const struct syscall_binding syscall_bindings_xattr[];   /* xattr.c */
extern const struct syscall_binding syscall_bindings_poll[];    /* poll.c: poll, ppoll, select, pselect6 */
extern const struct syscall_binding syscall_bindings_timer[];   /* timer.c: alarm, itimers, POSIX timers */

#endif
