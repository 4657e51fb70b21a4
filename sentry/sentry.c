/* sentry/sentry.c: the Sentry's start-up and shutdown: memory file, platform, root file system from the
 * Gofer, the special mounts, its own seccomp confinement, the first process, and the exit status. */
#include "sentry/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gofer/gofer.h"

/* The Sentry's host syscalls once application code runs, measured on real workloads (strace of the Sentry)
 * and grouped by purpose. Everything works on fds the Sentry already holds; nothing names a host path. */
static const char *const allowed_host_syscalls[] = {
    /* running stubs: ptrace stops, waits, kicks */
    "ptrace", "wait4", "waitid", "kill", "tgkill", "poll", "ppoll",
    /* file data through fds donated by the Gofer, the memory file, stdio, logs */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "lseek", "fstat", "newfstatat",
    "fsync", "fdatasync", "ftruncate", "fallocate", "close", "fcntl", "dup", "dup3",
    /* the Gofer protocol */
    "recvmsg", "sendmsg",
    /* the Sentry's own memory (malloc) and its signals */
    "mmap", "munmap", "mremap", "madvise", "mprotect", "brk", "rt_sigprocmask", "rt_sigaction", "rt_sigreturn",
    "sigaltstack",
    /* what applications ask the kernel about, answered from the host: time, randomness, memory size */
    "clock_gettime", "clock_getres", "gettimeofday", "getrandom", "sysinfo", "getpid", "gettid", "getrlimit",
    "prlimit64", "sched_getaffinity", "sched_yield", "futex", "restart_syscall", "exit", "exit_group",
};

/* Host terminal ioctls the sandbox's stdio may need; the Sentry validated the application's request. */
static const unsigned long allowed_ioctls[] = {
    TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, TIOCSWINSZ, TIOCGPGRP, TIOCSPGRP, FIONREAD,
};

/* Never, whatever happens: reaching host paths, starting programs, the host network, the kernel's own
 * state. A Sentry that tries is compromised, and dies. */
static const char *const forbidden_host_syscalls[] = {
    "open", "openat", "openat2", "creat", "execve", "execveat", "socket", "socketpair", "connect", "bind",
    "listen", "accept", "accept4", "mount", "umount2", "pivot_root", "chroot", "mknod", "mknodat", "unlink",
    "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink",
    "symlinkat", "chmod", "fchmodat", "chown", "lchown", "fchownat", "truncate", "name_to_handle_at",
    "open_by_handle_at", "init_module", "finit_module", "delete_module", "kexec_load", "reboot", "swapon",
    "swapoff", "setns", "unshare", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "process_vm_readv",
    "process_vm_writev", "keyctl", "add_key", "request_key", "clone", "clone3", "fork", "vfork",
};

static int add_rules(scmp_filter_ctx filter, const char *const *names, size_t count, uint32_t action)
{
    for (size_t i = 0; i < count; i++) {
        int number = seccomp_syscall_resolve_name(names[i]);
        if (number == __NR_SCMP_ERROR)
            continue;  /* not a syscall on this architecture */
        int error = seccomp_rule_add(filter, action, number, 0);
        if (error < 0) {
            log_error("seccomp: cannot add a rule for %s: %s", names[i], strerror(-error));
            return error;
        }
    }
    return 0;
}

/* Anything not listed fails with EPERM rather than killing: the call never reaches the host either way, and
 * a path the measurements missed costs an error, not the sandbox. */
static int sentry_confine(void)
{
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!filter)
        return -ENOMEM;
    int error = add_rules(filter, allowed_host_syscalls, ARRAY_SIZE(allowed_host_syscalls), SCMP_ACT_ALLOW);
    for (size_t i = 0; i < ARRAY_SIZE(allowed_ioctls) && error == 0; i++)
        error = seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, allowed_ioctls[i]));
    /* The platform moves the Sentry off the CPU its stub thread runs on (its own affinity only). */
    if (error == 0)
        error = seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(sched_setaffinity), 1, SCMP_A0(SCMP_CMP_EQ, 0));
    if (error == 0)
        error = add_rules(filter, forbidden_host_syscalls, ARRAY_SIZE(forbidden_host_syscalls),
                          SCMP_ACT_KILL_PROCESS);
    if (error == 0)
        error = seccomp_load(filter);
    seccomp_release(filter);
    return error;
}

static const char *mount_kind_name(enum sentry_mount_kind kind)
{
    switch (kind) {
    case SENTRY_MOUNT_TMPFS: return "tmpfs";
    case SENTRY_MOUNT_PROCFS: return "procfs";
    case SENTRY_MOUNT_SYSFS: return "sysfs";
    case SENTRY_MOUNT_DEVFS: return "devfs";
    case SENTRY_MOUNT_BIND: return "bind mount";
    }
    return "?";
}

/* An OCI config's mounts, in its order: a later mount may sit inside an earlier one (/dev then /dev/pts). */
static int mount_configured_file_systems(const struct vfs_context *ctx, struct gofer_client *gofer,
                                         const struct sentry_config *config)
{
    for (size_t i = 0; i < config->mount_count; i++) {
        const struct sentry_mount *mount = &config->mounts[i];
        int error = -EINVAL;
        switch (mount->kind) {
        case SENTRY_MOUNT_TMPFS: error = vfs_mount_tmpfs(ctx, mount->destination, mount->mode); break;
        case SENTRY_MOUNT_PROCFS: error = vfs_mount_procfs(ctx, mount->destination, &sentry_procfs_provider); break;
        case SENTRY_MOUNT_SYSFS: error = vfs_mount_sysfs(ctx, mount->destination); break;
        case SENTRY_MOUNT_DEVFS: error = vfs_mount_devfs(ctx, mount->destination); break;
        case SENTRY_MOUNT_BIND:
            error = vfs_mount_gofer_tree(ctx, gofer, mount->gofer_tree, mount->destination, mount->read_only);
            break;
        }
        if (error < 0) {
            log_error("cannot mount %s on %s: %s", mount_kind_name(mount->kind), mount->destination,
                      strerror(-error));
            fprintf(stderr, "usandbox: cannot mount %s on %s: %s\n", mount_kind_name(mount->kind),
                    mount->destination, strerror(-error));
            return error;
        }
    }
    return 0;
}

static int mount_special_file_systems(const struct vfs_context *ctx)
{
    int error = vfs_mount_procfs(ctx, "/proc", &sentry_procfs_provider);
    if (error < 0) {
        log_error("cannot mount procfs on /proc: %s", strerror(-error));
        return error;
    }
    if ((error = vfs_mount_devfs(ctx, "/dev")) < 0) {
        log_error("cannot mount devfs on /dev: %s", strerror(-error));
        return error;
    }
    if ((error = vfs_mount_tmpfs(ctx, "/tmp", 01777)) < 0) {
        log_error("cannot mount tmpfs on /tmp: %s", strerror(-error));
        return error;
    }
    if ((error = vfs_mount_sysfs(ctx, "/sys")) < 0) {
        log_error("cannot mount sysfs on /sys: %s", strerror(-error));
        return error;
    }
    return 0;
}

/* runsc do and exec resolve a bare command name along the sandbox's PATH, as execvp would. */
char *sentry_resolve_command(const struct vfs_context *ctx, const char *command, char *const *envp)
{
    if (strchr(command, '/'))
        return xstrdup(command);
    const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (char *const *entry = envp; entry && *entry; entry++)
        if (strncmp(*entry, "PATH=", 5) == 0)
            path = *entry + 5;
    char candidate[PATH_MAX];
    for (const char *cursor = path; *cursor;) {
        size_t length = strcspn(cursor, ":");
        int written = snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)length, length ? cursor : ".", command);
        if (written > 0 && (size_t)written < sizeof(candidate)) {
            struct stat status;
            if (vfs_stat_at(ctx, NULL, candidate, 0, &status) == 0 && S_ISREG(status.st_mode) &&
                vfs_access_at(ctx, NULL, candidate, X_OK, 0) == 0)
                return xstrdup(candidate);
        }
        cursor += length;
        if (*cursor == ':')
            cursor++;
    }
    return xstrdup(command);
}

/* Returns the signalfd of the forwarded signals, or -errno. */
static int block_forwarded_signals(void)
{
    sigset_t forwarded;
    sigemptyset(&forwarded);
    const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
        sigaddset(&forwarded, signals[i]);
    if (sigprocmask(SIG_BLOCK, &forwarded, NULL) < 0)
        return -errno;
    int fd = signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return -errno;
    loop_set_forwarded_signal_fd(fd);
    return fd;
}

/* The OCI create/start split: tell whoever waits for create that the sandbox is ready, then wait for start.
 * Returns 0 to go on, or the exit status the sandbox ends with without running anything. */
static int wait_for_start(const struct sentry_config *config, int signal_fd)
{
    if (config->ready_fd >= 0) {
        if (write_all(config->ready_fd, "R", 1) < 0)
            log_warning("cannot report readiness: %s", strerror(errno));
        close(config->ready_fd);
    }
    struct pollfd fds[2] = {{.fd = config->start_fd, .events = POLLIN}, {.fd = signal_fd, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            log_error("waiting for start: %s", strerror(errno));
            return 125;
        }
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            if (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
                log_info("signal %u before start: the container ends without running", info.ssi_signo);
                return 128 + (int)info.ssi_signo;
            }
        }
        if (fds[0].revents) {
            char byte;
            ssize_t count = read(config->start_fd, &byte, 1);
            if (count < 0 && errno == EINTR)
                continue;
            close(config->start_fd);
            if (count == 1)
                return 0;
            log_info("deleted before start: the container ends without running");
            return -1;
        }
    }
}

int sentry_main(const struct sentry_config *config)
{
    log_set_component("sentry");
    sentry_strace = config->strace;
    if (config->hostname)
        sentry_hostname = config->hostname;

    host_cpu_count();
    int memory_fd = memory_initialize();
    if (memory_fd < 0) {
        log_error("cannot create the memory file: %s", strerror(-memory_fd));
        return memory_fd;
    }
    sentry_platform =
        config->platform == PLATFORM_SECCOMP_TRAP ? &platform_seccomp_trap_ops : &platform_ptrace_ops;
    int error = sentry_platform->initialize(memory_fd);
    if (error < 0) {
        log_error("cannot start the %s platform: %s", sentry_platform->name, strerror(-error));
        return error;
    }
    loop_initialize();
    if (config->exec_control)
        control_initialize(config->exec_control_fd);
    int signal_fd = block_forwarded_signals();
    if (signal_fd < 0)
        return signal_fd;

    struct gofer_client *gofer = gofer_client_new(config->gofer_socket);
    if (!gofer)
        return -ENOMEM;
    struct vfs_path root;
    error = vfs_make_root(gofer, config->overlay, config->root_read_only, &root);
    if (error < 0) {
        log_error("cannot attach the root file system from the Gofer: %s", strerror(-error));
        return error;
    }

    /* The first process: pid 1, session and process-group leader, with the host's stdio. */
    struct thread_group *group = thread_group_new(NULL, NULL);
    group->tgid = pid_allocate();
    group->process_group = group->session = group->tgid;
    group->handlers = signal_handlers_new();
    group->exit_signal = 0;
    struct task *task = task_new(group, NULL);
    task->tid = group->tgid;
    task->alternate_stack.ss_flags = SS_DISABLE;
    struct credentials *credentials = &task->credentials;
    credentials->uid = credentials->euid = credentials->suid = credentials->fsuid = config->uid;
    credentials->gid = credentials->egid = credentials->sgid = credentials->fsgid = config->gid;
    for (size_t i = 0; i < config->group_count && i < ARRAY_SIZE(credentials->groups); i++)
        credentials->groups[credentials->group_count++] = config->groups[i];
    for (size_t i = 0; i < config->rlimit_count; i++)
        if (config->rlimits[i].resource >= 0 && config->rlimits[i].resource < RLIM_NLIMITS)
            group->limits[config->rlimits[i].resource] = config->rlimits[i].limit;
    task->no_new_privileges = config->no_new_privileges;
    task->fs = xcalloc(1, sizeof(*task->fs));
    task->fs->references = 1;
    task->fs->root = root;
    task->fs->cwd = root;
    vfs_path_get(&task->fs->cwd);
    task->fs->umask = config->has_umask ? config->umask : 022;
    task->fds = vfs_fd_table_new();

    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    struct vfs_credentials mount_credentials = {.privileged = true};
    ctx.credentials = &mount_credentials;
    error = config->custom_mounts ? mount_configured_file_systems(&ctx, gofer, config) : mount_special_file_systems(&ctx);
    if (error < 0)
        return error;
    if (config->cwd && strcmp(config->cwd, "/") != 0) {
        struct vfs_path cwd;
        error = vfs_resolve_directory(&ctx, NULL, config->cwd, &cwd);
        if (error < 0 && !config->cwd_optional) {
            log_error("cannot change to the working directory %s: %s", config->cwd, strerror(-error));
            return error;
        }
        if (error < 0) {
            /* e.g. a directory under the host's /tmp, which the sandbox's own /tmp hides */
            fprintf(stderr, "usandbox: %s is not visible in the sandbox (%s); starting in /\n", config->cwd,
                    strerror(-error));
        } else {
            task_set_cwd(task, &cwd);
        }
    }
    for (int fd = 0; fd < 3; fd++) {
        struct vfs_file *file = vfs_file_from_host_fd(fd, fd == 0 ? O_RDONLY : O_WRONLY);
        if (!file)
            continue;
        vfs_fd_install_at(task->fds, fd, file, false, RLIM_INFINITY);
        vfs_file_put(file);
    }

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || (error = sentry_confine()) < 0) {
        log_error("cannot install the Sentry's seccomp filter: %s", strerror(error < 0 ? -error : errno));
        return error < 0 ? error : -errno;
    }

    task_vfs_context(task, &ctx);
    char *path = sentry_resolve_command(&ctx, config->argv[0], config->envp);
    if (config->wait_for_start) {
        /* A missing program fails create, not start, as with runc. */
        struct stat program;
        if (vfs_stat_at(&ctx, NULL, path, 0, &program) < 0) {
            fprintf(stderr, "usandbox: cannot execute %s: %s\n", path, strerror(ENOENT));
            free(path);
            return 127;
        }
        int status = wait_for_start(config, signal_fd);
        if (status != 0) {
            free(path);
            return status < 0 ? 0 : status;
        }
    }
    char **argv = NULL, **envp = NULL;
    size_t argc = 0, envc = 0;
    while (config->argv[argc])
        argc++;
    while (config->envp && config->envp[envc])
        envc++;
    argv = xcalloc(argc + 1, sizeof(char *));
    envp = xcalloc(envc + 1, sizeof(char *));
    for (size_t i = 0; i < argc; i++)
        argv[i] = xstrdup(config->argv[i]);
    for (size_t i = 0; i < envc; i++)
        envp[i] = xstrdup(config->envp[i]);
    long started = process_execve(task, path, argv, envp);
    string_array_free(argv);
    string_array_free(envp);
    if (started != -SENTRY_EJUSTRETURN) {
        fprintf(stderr, "usandbox: cannot execute %s: %s\n", path, strerror((int)-started));
        free(path);
        return started == -ENOENT ? 127 : 126;
    }
    free(path);
    task->state = TASK_STATE_STOPPED;

    int status = loop_run(task);
    if (status < 0)
        return status;
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
