/* sentry: the user-space kernel: tasks, thread groups, the process tree and its pid namespace, address
 * spaces in one memory file, the ELF loader, signals, time, and the event loop that runs every task.
 * This header is what syscall handlers and the CLI may use; the rest is internal to sentry/. */
#ifndef USANDBOX_SENTRY_H
#define USANDBOX_SENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "common/common.h"
#include "vfs/vfs.h"

struct task;
struct syscall_args {
    uint64_t number;
    uint64_t arg[6];
};

/* Internal "errno" a handler returns, never seen by the application (as in Linux):
 * SENTRY_ERESTARTSYS: the task must wait (it is queued with task_wait_*); the dispatcher re-runs the
 * syscall from scratch when woken, or returns -EINTR / restarts after a signal per SA_RESTART. */
#define SENTRY_ERESTARTSYS 512
#define SENTRY_ERESTARTNOINTR 513      /* re-run after any signal handler, never -EINTR */
#define SENTRY_ERESTARTNOHAND 514      /* -EINTR if a handler runs, else re-run */
#define SENTRY_ERESTART_RESTARTBLOCK 516
/* The handler has set every register itself (execve, rt_sigreturn): the dispatcher leaves rax alone. */
#define SENTRY_EJUSTRETURN 530

/* ---- application memory: the only way handlers touch it. 0 or -EFAULT. ---- */
int task_copy_in(struct task *task, void *destination, uint64_t address, size_t length);
int task_copy_out(struct task *task, uint64_t address, const void *source, size_t length);
/* Copies a NUL-terminated string of at most size-1 bytes; returns its length, -EFAULT, or -ENAMETOOLONG. */
long task_copy_string_in(struct task *task, uint64_t address, char *destination, size_t size);
/* A path argument (PATH_MAX): -EFAULT, -ENAMETOOLONG; an empty path gives -ENOENT unless allow_empty. */
long task_copy_path_in(struct task *task, uint64_t address, char *destination, bool allow_empty);

/* ---- the task's view of the world ---- */
int32_t task_pid(const struct task *task);  /* thread-group id in the sandbox's pid namespace */
int32_t task_tid(const struct task *task);
struct vfs_fd_table *task_fd_table(struct task *task);
/* Fills ctx with borrowed references valid until the handler returns. */
void task_vfs_context(struct task *task, struct vfs_context *ctx);
void task_set_cwd(struct task *task, struct vfs_path *cwd);    /* takes over the references */
void task_set_root(struct task *task, struct vfs_path *root);
uint32_t task_umask(const struct task *task);
uint32_t task_set_umask(struct task *task, uint32_t umask);    /* returns the old one */
uint64_t task_rlimit_current(const struct task *task, int resource);

/* ---- blocking ----
 * A handler that must wait registers and returns what these return (-SENTRY_ERESTARTSYS); it is re-run
 * from scratch when the file becomes ready for events, or when deadline (CLOCK_MONOTONIC ns, 0 = none) passes,
 * or when a signal arrives. */
long task_wait_file(struct task *task, struct vfs_file *file, uint32_t events);
long task_wait_deadline(struct task *task, uint64_t deadline_ns);
/* State kept across re-runs of one blocked syscall (a deadline computed at first entry, for example). */
uint64_t *task_syscall_restart_state(struct task *task);
bool task_syscall_is_restarted(const struct task *task);

/* ---- signals ---- */
void task_send_signal(struct task *task, int signal);   /* to this thread, as tgkill from the kernel */

/* ---- sandbox start-up (runsc/ calls this in the Sentry process) ---- */
enum platform_kind { PLATFORM_PTRACE, PLATFORM_SECCOMP_TRAP };
/* A file system the Sentry itself serves at a path (an OCI config's tmpfs, proc, sysfs, ... mounts). */
enum sentry_mount_kind {
    SENTRY_MOUNT_TMPFS,
    SENTRY_MOUNT_PROCFS,
    SENTRY_MOUNT_SYSFS,
    SENTRY_MOUNT_DEVFS,
    SENTRY_MOUNT_BIND,           /* a host file or directory the Gofer serves beside the root */
};
struct sentry_mount {
    enum sentry_mount_kind kind;
    const char *destination;     /* absolute, inside the sandbox */
    uint32_t mode;               /* of a tmpfs's root directory */
    const char *gofer_tree;      /* SENTRY_MOUNT_BIND: the Gofer's attach name for it */
    bool read_only;              /* SENTRY_MOUNT_BIND: "ro" */
};
struct sentry_rlimit {
    int resource;                /* RLIMIT_* */
    struct rlimit limit;
};
struct sentry_config {
    enum platform_kind platform;
    int gofer_socket;            /* connected to the Gofer */
    bool overlay;                /* in-memory upper layer on the root */
    bool root_read_only;         /* without overlay: the root is mounted read-only (OCI root.readonly) */
    char *const *argv;           /* the first process */
    char *const *envp;
    const char *cwd;             /* inside the sandbox */
    bool cwd_optional;           /* the caller's own directory (do): start in / if the sandbox hides it */
    uint32_t uid, gid;
    const char *hostname;
    bool strace;                 /* --strace: log every syscall, decoded */

    /* What an OCI config adds; all zero keeps `usandbox do`'s behaviour. */
    const uint32_t *groups;      /* supplementary groups of the first process */
    size_t group_count;
    const struct sentry_rlimit *rlimits;  /* replace the host's limits the first process would inherit */
    size_t rlimit_count;
    bool has_umask;
    uint32_t umask;
    bool no_new_privileges;
    bool custom_mounts;          /* mount exactly mounts[] instead of the default /proc, /dev, /tmp, /sys */
    const struct sentry_mount *mounts;
    size_t mount_count;
    /* The OCI create/start split: with wait_for_start, once everything is set up the Sentry writes one byte
     * to ready_fd (if >= 0) and blocks reading one byte from start_fd before the first process runs. EOF
     * on start_fd (the container was deleted before start) ends the sandbox with status 0 and nothing run;
     * a forwarded signal (SIGTERM...) meanwhile ends it as if the process had been killed by it. */
    bool wait_for_start;
    int start_fd;
    int ready_fd;
    /* `exec`: with exec_control, exec_control_fd is a SOCK_SEQPACKET socket on which the supervisor passes
     * each exec connection (see below) as the one fd of a message. */
    bool exec_control;
    int exec_control_fd;
};

/* ---- `exec`: a new process in a running sandbox ----
 * On an exec connection (SOCK_SEQPACKET) the client sends one request: the header, group_count uint32_t
 * supplementary groups, then strings_length bytes of NUL-terminated strings: the working directory, the
 * arguments, the environment; with exactly three fds (the new process's 0, 1 and 2) as SCM_RIGHTS. The
 * Sentry answers STARTED (value: the process's pid in the sandbox) or FAILED (value: an errno), then
 * EXITED (value: the wait status) when the process is gone. Meanwhile the client may send SIGNAL messages
 * (value: the signal); closing the connection kills the process. The Sentry treats all of it as hostile. */
#define SENTRY_EXEC_MAGIC 0x55534558u            /* "USEX" */
#define SENTRY_EXEC_VERSION 1u
#define SENTRY_EXEC_MESSAGE_MAXIMUM (128u * 1024u)  /* a whole request, header included */
#define SENTRY_EXEC_STRINGS_MAXIMUM 8192u          /* arguments plus environment entries */
#define SENTRY_EXEC_GROUPS_MAXIMUM 64u
enum sentry_exec_flags { SENTRY_EXEC_NO_NEW_PRIVILEGES = 1u, SENTRY_EXEC_HAS_UMASK = 2u };
struct sentry_exec_request {
    uint32_t magic, version, flags;
    uint32_t uid, gid, umask;
    uint32_t group_count, argument_count, environment_count;
    uint32_t strings_length;
};
enum sentry_exec_message_kind { SENTRY_EXEC_STARTED = 1, SENTRY_EXEC_FAILED, SENTRY_EXEC_EXITED, SENTRY_EXEC_SIGNAL,
                                 SENTRY_CONTROL_KILL, SENTRY_CONTROL_KILL_ALL, SENTRY_CONTROL_DONE };
/* `kill`: instead of a request, a connection's first message may be KILL (value: a signal for the
 * container's init, from outside its pid namespace) or KILL_ALL (for every process), with no fds; the
 * Sentry answers DONE (value: 0 or an errno) and closes it. */
struct sentry_exec_message {
    uint32_t kind;
    int32_t value;
};
/* Runs the sandbox to completion; returns the exit status of the first process as a shell reports it
 * (code, or 128+signal). Returns a negative errno if the sandbox could not start. */
int sentry_main(const struct sentry_config *config);
/* Read what the sandbox's /proc shows of the host (cpuinfo) while host files are still reachable. */
void procfs_capture_host_information_public(void);

/* The release string applications see (uname -r, /proc/sys/kernel/osrelease). */
#define SENTRY_KERNEL_RELEASE "5.15.0-usandbox"
#define SENTRY_KERNEL_VERSION "#1 SMP usandbox"

#endif
