/* runsc/do.c: `usandbox do`: a command in a sandbox over the host's root (or --rootfs) seen read-only
 * through the Gofer, with an in-memory overlay; the CLI starts Gofer and Sentry and relays signals. */
#include "runsc/runsc.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "gofer/gofer.h"

extern char **environ;

void runsc_usage(FILE *out)
{
    fprintf(out, "usage: usandbox [global flags] COMMAND [flags] [ARGS...]\n\n"
                 "Commands:\n"
                 "  do [flags] -- CMD [ARGS...]   run CMD in a sandbox over the host's root (read-only, with an\n"
                 "                                in-memory overlay) or over --rootfs=DIR\n"
                 "  spec [--bundle DIR] [--rootless]       write a default config.json\n"
                 "  create [--bundle DIR] [--pid-file F] [--console-socket S] ID\n"
                 "                                set up a container from a bundle; its process waits for start\n"
                 "  start ID                      run the created container's process\n"
                 "  run [--bundle DIR] [--pid-file F] [--detach] [--console-socket S] ID\n"
                 "                                create, start, wait, delete; exits with the process's status\n"
                 "  state ID                      the OCI state as JSON\n"
                 "  exec [--process F | flags] ID CMD [ARGS...]   a new process in the running container;\n"
                 "                                --detach, --pid-file, --tty, --console-socket, --cwd, --env, --user\n"
                 "  kill [--all] ID [SIGNAL]      signal the container (default SIGTERM)\n"
                 "  delete [--force] ID           remove a stopped (or, with --force, any) container\n"
                 "  list [--format table|json] [--quiet]   the containers under --root\n"
                 "  ps [--format table|json] ID   the sandbox's host processes (the Sentry and its stubs)\n"
                 "  events [--stats] [--interval 5s] ID    resource usage as JSON (one object with --stats)\n"
                 "  install [--config F] [--runtime-name N] [-- FLAGS]  register with docker (or --containerd)\n"
                 "  help                          this text\n\n"
                 "  syscalls [--missing]          each x86-64 system call: implemented or ENOSYS\n"
                 "Global flags (also accepted after do):\n"
                 "  --root DIR                    container state (default " RUNSC_DEFAULT_ROOT ")\n"
                 "  --log FILE, --log-format=text|json     where the CLI's own errors go as well as stderr\n"
                 "  --systemd-cgroup              accepted for compatibility (cgroups are not managed yet)\n"
                 "  --network=none|sandbox        loopback only either way: AF_INET/AF_INET6 on 127.0.0.0/8 and ::1\n"
                 "  --overlay                     in-memory overlay on the root even when it is writable\n"
                 "  --platform=seccomp-trap|ptrace how application syscalls reach the Sentry (default: seccomp-trap)\n"
                 "  --rootfs=DIR                  root file system of the sandbox (do only; default: the host's /)\n"
                 "  --cwd=DIR                     working directory inside the sandbox (do only)\n"
                 "  --strace                      log every application syscall with its arguments\n"
                 "  --debug-log=DIR               write sentry.log, gofer.log, usandbox.log in DIR\n"
                 "  --debug                       verbose logs\n");
}

/* "--name=value" gives value; "--name" followed by another argument gives that one (*used_next set). */
static const char *flag_value(const char *argument, const char *next, const char *name, bool *used_next)
{
    size_t length = strlen(name);
    if (strncmp(argument, name, length) != 0)
        return NULL;
    if (argument[length] == '=')
        return argument + length + 1;
    if (argument[length] == '\0' && next) {
        *used_next = true;
        return next;
    }
    return NULL;
}

static bool is_true(const char *value)
{
    return strcmp(value, "true") == 0 || strcmp(value, "1") == 0;
}

int runsc_parse_flag(struct runsc_options *options, const char *argument, const char *next)
{
    /* runc's flags are spelled with one dash or two (-root, --root). */
    char normalized[256];
    if (argument[0] == '-' && argument[1] != '-' && argument[1] && argument[2]) {
        snprintf(normalized, sizeof(normalized), "-%s", argument);
        argument = normalized;
    }
    bool used_next = false;
    const char *value;
    if ((value = flag_value(argument, next, "--platform", &used_next))) {
        if (strcmp(value, "ptrace") == 0) {
            options->platform = PLATFORM_PTRACE;
        } else if (strcmp(value, "seccomp-trap") == 0 || strcmp(value, "systrap") == 0) {
            options->platform = PLATFORM_SECCOMP_TRAP;
        } else {
            fprintf(stderr, "usandbox: unknown platform '%s' (known: seccomp-trap, ptrace)\n", value);
            return -1;
        }
        options->platform_name = value;
    } else if ((value = flag_value(argument, NULL, "--rootfs", &used_next)) ||
               (value = flag_value(argument, NULL, "--root-fs", &used_next))) {
        options->rootfs = value;
    } else if ((value = flag_value(argument, next, "--debug-log", &used_next))) {
        options->debug_log = value;
    } else if ((value = flag_value(argument, NULL, "--cwd", &used_next))) {
        options->cwd = value;
    } else if ((value = flag_value(argument, next, "--root", &used_next))) {
        if (!value[0]) {
            fprintf(stderr, "usandbox: --root needs a directory\n");
            return -1;
        }
        options->root = value;
    } else if ((value = flag_value(argument, next, "--log-format", &used_next))) {
        if (strcmp(value, "json") == 0) {
            options->log_json = true;
        } else if (strcmp(value, "text") == 0) {
            options->log_json = false;
        } else {
            fprintf(stderr, "usandbox: unknown log format '%s' (known: text, json)\n", value);
            return -1;
        }
    } else if ((value = flag_value(argument, next, "--log", &used_next))) {
        options->log = value[0] ? value : NULL;
    } else if ((value = flag_value(argument, next, "--network", &used_next))) {
        if (strcmp(value, "none") != 0 && strcmp(value, "sandbox") != 0) {
            fprintf(stderr, "usandbox: network '%s' is not supported (none and sandbox are: loopback only)\n", value);
            return -1;
        }
        options->network = value;
    } else if (strcmp(argument, "--strace") == 0) {
        options->strace = true;
    } else if ((value = flag_value(argument, NULL, "--strace", &used_next))) {
        options->strace = is_true(value);
    } else if (strcmp(argument, "--debug") == 0) {
        options->debug = true;
    } else if ((value = flag_value(argument, NULL, "--debug", &used_next))) {
        options->debug = is_true(value);
    } else if (strcmp(argument, "--systemd-cgroup") == 0) {
        options->systemd_cgroup = true;
    } else if ((value = flag_value(argument, NULL, "--systemd-cgroup", &used_next))) {
        options->systemd_cgroup = is_true(value);
    } else if (strcmp(argument, "--overlay") == 0) {
        options->overlay = true;
    } else if ((value = flag_value(argument, NULL, "--overlay", &used_next))) {
        options->overlay = is_true(value);
    } else {
        return 0;
    }
    return used_next ? 2 : 1;
}

void runsc_open_component_log(const struct runsc_options *options, const char *component)
{
    log_set_component(component);
    /* Like runsc: stderr belongs to the application; without --debug-log only errors reach it. */
    log_set_level(options->debug ? LOG_LEVEL_DEBUG : options->debug_log ? LOG_LEVEL_INFO : LOG_LEVEL_ERROR);
    if (options->debug_log) {
        int error = log_open_directory(options->debug_log);
        if (error < 0)
            fprintf(stderr, "usandbox: cannot write logs in %s: %s\n", options->debug_log, strerror(-error));
    }
}

/* The Sentry sees no host file system at all: its root becomes an empty, read-only tmpfs. */
int runsc_sentry_isolate_mounts(void)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -errno;
    const char *new_root = "/tmp";
    if (mount("usandbox-sentry-root", new_root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=0700") < 0)
        return -errno;
    if (mkdir("/tmp/old-root", 0700) < 0 || chdir(new_root) < 0)
        return -errno;
    if (syscall(SYS_pivot_root, ".", "old-root") < 0)
        return -errno;
    if (umount2("old-root", MNT_DETACH) < 0 || rmdir("old-root") < 0 || chdir("/") < 0)
        return -errno;
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return -errno;
    return 0;
}

static int sentry_process(const struct runsc_options *options, char *const *argv, int gofer_socket, const char *cwd)
{
    runsc_open_component_log(options, "sentry");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Its own session: a terminal's ^C reaches the CLI, which relays it, never the stubs directly. */
    setsid();
    char hostname[65] = "usandbox";
    gethostname(hostname, sizeof(hostname) - 1);
    if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
        log_error("cannot create the Sentry's namespaces: %s", strerror(errno));
        return 125;
    }
    sethostname(hostname, strlen(hostname));
    procfs_capture_host_information_public();
    int error = runsc_sentry_isolate_mounts();
    if (error < 0) {
        log_error("cannot isolate the Sentry's mounts: %s", strerror(-error));
        return 125;
    }
    /* No capabilities: ptrace of its own children and its own fds is all the Sentry needs. */
    capng_clear(CAPNG_SELECT_BOTH);
    if (capng_apply(CAPNG_SELECT_BOTH) < 0) {
        log_error("cannot drop the Sentry's capabilities");
        return 125;
    }
    struct sentry_config config = {
        .platform = options->platform,
        .gofer_socket = gofer_socket,
        .overlay = true,
        .argv = argv,
        .envp = environ,
        .cwd = cwd,
        .cwd_optional = !options->cwd,
        .uid = getuid(),
        .gid = getgid(),
        .hostname = hostname,
        .strace = options->strace,
        .start_fd = -1,
        .ready_fd = -1,
    };
    int status = sentry_main(&config);
    if (status < 0) {
        log_error("the sandbox could not start: %s", strerror(-status));
        return 125;
    }
    return status;
}

static pid_t sentry_pid = -1;

static void relay_signal(int signal)
{
    if (sentry_pid > 0)
        kill(sentry_pid, signal);
}

/* Signals sent to the CLI (a terminal's ^C, kill from a supervisor) go on to the sandbox. */
static void install_signal_relay(void)
{
    struct sigaction relay = {.sa_handler = relay_signal};
    sigemptyset(&relay.sa_mask);
    const int relayed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
    for (size_t i = 0; i < ARRAY_SIZE(relayed); i++)
        sigaction(relayed[i], &relay, NULL);
}

/* A wait status, retried across the relay's interruptions; 125 << 8 if the child cannot be waited for. */
static int wait_for_child(pid_t child)
{
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "usandbox: waiting for process %d: %s\n", child, strerror(errno));
            return 125 << 8;
        }
    }
    return status;
}

static int exit_code_of(int status)
{
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "usandbox: the Sentry was killed by signal %d\n", WTERMSIG(status));
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

static int start_sentry_in_pid_namespace(const struct runsc_options *options, char *const *argv, int gofer_socket,
                                         const char *cwd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWPID) < 0) {
        fprintf(stderr, "usandbox: cannot create a pid namespace: %s\n", strerror(errno));
        return 125;
    }
    sentry_pid = fork();
    if (sentry_pid < 0) {
        fprintf(stderr, "usandbox: fork: %s\n", strerror(errno));
        return 125;
    }
    if (sentry_pid == 0)
        _exit(sentry_process(options, argv, gofer_socket, cwd));
    close(gofer_socket);
    install_signal_relay();
    return exit_code_of(wait_for_child(sentry_pid));
}

int runsc_do(const struct runsc_options *options, char *const *argv)
{
    runsc_open_component_log(options, "usandbox");
    const char *root = options->rootfs ? options->rootfs : "/";
    struct stat root_status;
    if (stat(root, &root_status) < 0) {
        fprintf(stderr, "usandbox: root file system %s: %s\n", root, strerror(errno));
        return 125;
    }
    if (!S_ISDIR(root_status.st_mode)) {
        fprintf(stderr, "usandbox: root file system %s is not a directory\n", root);
        return 125;
    }
    char resolved_root[PATH_MAX];
    if (!realpath(root, resolved_root)) {
        fprintf(stderr, "usandbox: root file system %s: %s\n", root, strerror(errno));
        return 125;
    }
    /* runsc do keeps the caller's working directory when the root is the host's. */
    char host_cwd[PATH_MAX] = "/";
    const char *cwd = options->cwd;
    if (!cwd && !options->rootfs && getcwd(host_cwd, sizeof(host_cwd)))
        cwd = host_cwd;

    int sockets[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) < 0) {
        fprintf(stderr, "usandbox: socketpair: %s\n", strerror(errno));
        return 125;
    }
    fflush(NULL);
    pid_t gofer = fork();
    if (gofer < 0) {
        fprintf(stderr, "usandbox: fork: %s\n", strerror(errno));
        return 125;
    }
    if (gofer == 0) {
        close(sockets[1]);
        runsc_open_component_log(options, "gofer");
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setsid();
        struct gofer_config config = {.root_path = resolved_root, .read_only = true};
        _exit(gofer_main(&config, sockets[0]));
    }
    close(sockets[0]);

    /* The Sentry is pid 1 of a new pid namespace; the stubs it forks live there too. An intermediate process
     * creates the namespace, so that the CLI itself can still fork after the namespace's init is gone. */
    sentry_pid = fork();
    if (sentry_pid < 0) {
        fprintf(stderr, "usandbox: fork: %s\n", strerror(errno));
        kill(gofer, SIGKILL);
        return 125;
    }
    if (sentry_pid == 0)
        _exit(start_sentry_in_pid_namespace(options, argv, sockets[1], cwd));
    close(sockets[1]);

    install_signal_relay();
    int status = wait_for_child(sentry_pid);
    kill(gofer, SIGTERM);
    wait_for_child(gofer);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
