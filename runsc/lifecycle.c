/* runsc/lifecycle.c: the OCI commands (create, start, run, state, kill, delete, list, ps, events) on top of
 * the state directory (state.c) and the sandbox (sandbox.c), with runc's flags, messages and exit codes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "runsc/cgroup.h"
#include "runsc/hooks.h"
#include "runsc/oci_config.h"
#include "runsc/runsc.h"
#include "runsc/sandbox.h"
#include "runsc/state.h"

#define ERROR_SIZE 1024

void runsc_error(const struct runsc_options *options, const char *format, ...)
{
    char message[ERROR_SIZE];
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(message, sizeof(message), format, arguments);
    va_end(arguments);
    fprintf(stderr, "usandbox: %s\n", message);
    if (!options->log)
        return;
    FILE *log = fopen(options->log, "ae");
    if (!log)
        return;
    char *now = state_timestamp_now();
    if (options->log_json) {
        /* Callers such as podman read the last "error" record of this file for their message. */
        struct json_object *record = json_object_new_object();
        json_object_object_add(record, "level", json_object_new_string("error"));
        json_object_object_add(record, "msg", json_object_new_string(message));
        json_object_object_add(record, "time", json_object_new_string(now));
        fprintf(log, "%s\n", json_object_to_json_string_ext(record, JSON_C_TO_STRING_PLAIN));
        json_object_put(record);
    } else {
        fprintf(log, "time=\"%s\" level=error msg=\"%s\"\n", now, message);
    }
    free(now);
    fclose(log);
}

static const char *state_root(const struct runsc_options *options)
{
    return options->root ? options->root : RUNSC_DEFAULT_ROOT;
}

static const struct {
    const char *name;
    int number;
} signal_names[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},   {"ILL", SIGILL},     {"TRAP", SIGTRAP},
    {"ABRT", SIGABRT}, {"IOT", SIGIOT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},     {"KILL", SIGKILL},
    {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},   {"URG", SIGURG},     {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"POLL", SIGPOLL}, {"PWR", SIGPWR},     {"SYS", SIGSYS},
};

int runsc_parse_signal(const char *text)
{
    if (text[0] >= '0' && text[0] <= '9') {
        char *end;
        long number = strtol(text, &end, 10);
        return (*end || number < 1 || number > 64) ? -1 : (int)number;
    }
    const char *name = strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
    for (size_t i = 0; i < ARRAY_SIZE(signal_names); i++)
        if (strcasecmp(name, signal_names[i].name) == 0)
            return signal_names[i].number;
    return -1;
}

/* ---- small helpers of the commands ---- */

/* A command's own flags: "--name value", "--name=value", "-n value"; returns the value or NULL. */
static const char *take_value(int argc, char **argv, int *index, const char *long_name, const char *short_name)
{
    const char *argument = argv[*index];
    size_t length = strlen(long_name);
    const char *dashed = argument[0] == '-' && argument[1] == '-' ? argument + 2
                         : argument[0] == '-'                     ? argument + 1
                                                                  : NULL;
    if (!dashed)
        return NULL;
    if (strncmp(dashed, long_name, length) == 0 && dashed[length] == '=')
        return dashed + length + 1;
    if ((strcmp(dashed, long_name) == 0 || (short_name && strcmp(argument + 1, short_name) == 0 && argument[0] == '-' &&
                                            argument[1] != '-')) &&
        *index + 1 < argc) {
        (*index)++;
        return argv[*index];
    }
    return NULL;
}

static bool is_flag(const char *argument, const char *long_name, const char *short_name)
{
    if (argument[0] != '-')
        return false;
    const char *dashed = argument[1] == '-' ? argument + 2 : argument + 1;
    if (strcmp(dashed, long_name) == 0)
        return true;
    size_t length = strlen(long_name);
    if (strncmp(dashed, long_name, length) == 0 && dashed[length] == '=')
        return strcmp(dashed + length + 1, "true") == 0;
    return short_name && argument[1] != '-' && strcmp(argument + 1, short_name) == 0;
}

static int write_pid_file(const char *path, pid_t pid)
{
    char text[32];
    int length = snprintf(text, sizeof(text), "%d", (int)pid);
    return state_write_file_atomically(path, text, (size_t)length, 0644);
}

static char *owner_name(uid_t uid)
{
    struct passwd *entry = getpwuid(uid);
    if (entry)
        return xstrdup(entry->pw_name);
    struct text_buffer text = {0};
    text_buffer_append(&text, "#%u", (unsigned)uid);
    return text.data;
}

/* ---- terminal: the pty's controlling side goes to --console-socket, as runc sends it ---- */

static int send_console(const char *socket_path, int master_fd, char *error, size_t error_size)
{
    int socket_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (socket_fd < 0) {
        snprintf(error, error_size, "--console-socket: socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(socket_path) >= sizeof(address.sun_path)) {
        snprintf(error, error_size, "--console-socket: path too long: %s", socket_path);
        close(socket_fd);
        return -1;
    }
    strcpy(address.sun_path, socket_path);
    if (connect(socket_fd, (struct sockaddr *)&address, sizeof(address)) < 0) {
        snprintf(error, error_size, "--console-socket %s: %s", socket_path, strerror(errno));
        close(socket_fd);
        return -1;
    }
    char name[] = "/dev/ptmx";
    struct iovec data = {.iov_base = name, .iov_len = sizeof(name) - 1};
    char control[CMSG_SPACE(sizeof(int))] = {0};
    struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof(control)};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &master_fd, sizeof(int));
    ssize_t sent = sendmsg(socket_fd, &message, 0);
    int saved = errno;
    close(socket_fd);
    if (sent < 0) {
        snprintf(error, error_size, "--console-socket %s: sending the terminal: %s", socket_path, strerror(saved));
        return -1;
    }
    return 0;
}

/* Returns the terminal side's fd (the container's stdio) after sending the other side; -1 on error. */
static int open_console(const char *socket_path, char *error, size_t error_size)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0) {
        snprintf(error, error_size, "cannot allocate a terminal: %s", strerror(errno));
        if (master >= 0)
            close(master);
        return -1;
    }
    const char *name = ptsname(master);
    int terminal = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
    if (terminal < 0) {
        snprintf(error, error_size, "cannot open the terminal %s: %s", name ? name : "?", strerror(errno));
        close(master);
        return -1;
    }
    int result = send_console(socket_path, master, error, error_size);
    close(master);
    if (result < 0) {
        close(terminal);
        return -1;
    }
    return terminal;
}

/* ---- create ---- */

struct create_request {
    const char *id;
    const char *bundle;
    const char *pid_file;
    const char *console_socket;
    bool foreground;  /* run without --detach: the CLI itself supervises */
};

static int parse_create_flags(const struct runsc_options *options, const char *command, int argc, char **argv,
                              struct create_request *request, bool *detach)
{
    for (int i = 0; i < argc; i++) {
        const char *value;
        if ((value = take_value(argc, argv, &i, "bundle", "b"))) {
            request->bundle = value;
        } else if ((value = take_value(argc, argv, &i, "pid-file", NULL))) {
            request->pid_file = value;
        } else if ((value = take_value(argc, argv, &i, "console-socket", NULL))) {
            request->console_socket = value;
        } else if ((value = take_value(argc, argv, &i, "preserve-fds", NULL))) {
            /* accepted: no extra fds are passed into the sandbox yet */
        } else if (is_flag(argv[i], "no-pivot", NULL) || is_flag(argv[i], "no-new-keyring", NULL) ||
                   is_flag(argv[i], "no-subreaper", NULL) || is_flag(argv[i], "keep", NULL)) {
            /* accepted for compatibility; they have no meaning for a user-space kernel */
        } else if (detach && is_flag(argv[i], "detach", "d")) {
            *detach = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            runsc_error(options, "%s: unknown flag %s", command, argv[i]);
            return -1;
        } else if (!request->id) {
            request->id = argv[i];
        } else {
            runsc_error(options, "%s: unexpected argument %s (one container id is expected)", command, argv[i]);
            return -1;
        }
    }
    if (!request->id) {
        runsc_error(options, "%s: a container id is required: usandbox %s [flags] ID", command, command);
        return -1;
    }
    if (!request->bundle)
        request->bundle = ".";
    return 0;
}

/* pid: the supervisor, the process engines wait for (see supervise). */
static void fill_state(struct container_state *state, const struct create_request *request,
                       const struct oci_config *config, pid_t sentry_pid, pid_t supervisor_pid)
{
    memset(state, 0, sizeof(*state));
    state->id = xstrdup(request->id);
    state->bundle = xstrdup(config->bundle);
    state->rootfs = xstrdup(config->root_path);
    state->pid = supervisor_pid;
    state->pid_start_time = state_process_start_time(supervisor_pid);
    state->supervisor_pid = supervisor_pid;
    state->sentry_pid = sentry_pid;
    state->sentry_start_time = state_process_start_time(sentry_pid);
    state->created = state_timestamp_now();
    state->owner = owner_name(getuid());
    size_t count = 0;
    while (config->annotations[count])
        count++;
    state->annotations = xcalloc(count + 1, sizeof(char *));
    for (size_t i = 0; i < count; i++)
        state->annotations[i] = xstrdup(config->annotations[i]);
}

/* The signals a supervisor passes on to the Sentry, which hands them to the container's init: what engines
 * send to the pid they were given (conmon relays its own SIGTERM, SIGINT... to it). */
static const int relayed_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* A signalfd of SIGCHLD and the relayed signals, which are blocked from now on (after the sandbox's
 * processes were forked: the Gofer must still die of the SIGTERM that stops it). */
static int supervisor_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (size_t i = 0; i < ARRAY_SIZE(relayed_signals); i++)
        sigaddset(&set, relayed_signals[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* DIRECTORY/exec.sock, the socket `exec` connects to, bound (listening) or connected through a relative
 * name: engines' state roots are deep enough to overflow sun_path. The fd, or -1 (errno set). */
int runsc_exec_socket(const char *directory, bool listening)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | (listening ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        return -1;
    int saved_cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strcpy(address.sun_path, EXEC_SOCKET);
    int result = chdir(directory);
    if (result == 0 && listening) {
        result = bind(fd, (struct sockaddr *)&address, sizeof(address));
        if (result == 0)
            result = listen(fd, 16);
    } else if (result == 0) {
        result = connect(fd, (struct sockaddr *)&address, sizeof(address));
    }
    int saved_errno = errno;
    if (saved_cwd >= 0) {
        if (fchdir(saved_cwd) < 0)
            (void)!chdir("/");
        close(saved_cwd);
    }
    if (result < 0) {
        close(fd);
        errno = saved_errno;
        return -1;
    }
    return fd;
}

/* Hands one accepted `exec` connection to the Sentry, which talks to the client directly from then on. */
static void forward_exec_connection(int listener, int exec_control_fd)
{
    int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (connection < 0)
        return;
    char byte = 'C';
    struct iovec data = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr align;
        char buffer[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control.buffer,
                             .msg_controllen = sizeof(control.buffer)};
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &connection, sizeof(int));
    /* A Sentry that cannot take it any more (gone, or its control socket full): the client sees the
     * connection close without an answer, and says so. */
    bool passed = exec_control_fd >= 0 && sendmsg(exec_control_fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0;
    if (!passed)
        log_warning("exec: cannot pass a connection to the Sentry: %s", strerror(errno));
    close(connection);
}

/* The supervisor's loop until the Sentry exits: with fifo >= 0, releases the first process when `start`
 * writes to it; passes `exec` connections and relayed signals on. Returns the exit status as a shell shows
 * it (code, or 128+signal), after the Gofer is stopped. */
static int supervise_sandbox(struct sandbox *sandbox, int fifo, int listener, int signal_fd)
{
    for (;;) {
        struct pollfd fds[3] = {{.fd = signal_fd, .events = POLLIN},
                                {.fd = listener, .events = POLLIN},
                                {.fd = fifo, .events = POLLIN}};
        if (poll(fds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[2].revents & POLLIN) {
            char byte;
            if (read(fifo, &byte, 1) == 1) {
                write_all(sandbox->start_fd, "S", 1);
                close(sandbox->start_fd);
                sandbox->start_fd = -1;
                close(fifo);
                fifo = -1;
            }
        }
        if (fds[1].revents & POLLIN)
            forward_exec_connection(listener, sandbox->exec_control_fd);
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo info;
            bool child_exited = false;
            while (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
                if (info.ssi_signo == SIGCHLD)
                    child_exited = true;
                else
                    kill(sandbox->sentry_pid, (int)info.ssi_signo);
            }
            int status;
            if (child_exited && waitpid(sandbox->sentry_pid, &status, WNOHANG) == sandbox->sentry_pid) {
                sandbox->sentry_pid = -1;
                if (fifo >= 0)
                    close(fifo);
                if (sandbox->start_fd >= 0)
                    close(sandbox->start_fd);
                sandbox_stop_gofer(sandbox);
                return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
            }
        }
    }
    /* poll itself failed: fall back to a plain wait */
    if (sandbox->start_fd >= 0)
        close(sandbox->start_fd);
    int code = sandbox_wait(sandbox);
    sandbox_stop_gofer(sandbox);
    return code;
}

/* The detached supervisor: the Sentry's parent for the container's whole life, and the process engines
 * watch (--pid-file): it ends with the container's exit status once the Sentry is gone, and SIGKILL on it
 * takes the sandbox along (the Sentry and the Gofer have it as their parent-death signal). It releases the
 * first process when `start` writes to the FIFO, serves `exec`, and records the exit status for `state`. */
/* ---- cgroups and hooks ---- */

#define CGROUP_RECORD "cgroup"

/* The supervisor (and so everything it starts) joins the container's cgroup. Limits the config asks for must
 * be applied or the container is not created; a cgroupsPath alone that the host refuses (a read-only
 * cgroupfs) only costs a warning, as the sandbox needs no cgroup to be confined. */
static int enter_cgroup(const struct runsc_options *options, const struct oci_config *config, const char *directory,
                        char *error, size_t error_size)
{
    const char *id = strrchr(directory, '/') ? strrchr(directory, '/') + 1 : directory;
    char *own = cgroup_own_path();
    char *path = cgroup_path_for(config, id, options->systemd_cgroup, own);
    free(own);
    if (!path)
        return 0;
    struct text_buffer record = {0};
    text_buffer_append(&record, "%s/%s", directory, CGROUP_RECORD);
    int result = cgroup_enter(CGROUP_DEFAULT_ROOT, path, &config->resources, getpid(), record.data, error, error_size);
    const struct oci_resources *resources = &config->resources;
    bool limits = resources->memory_limit >= 0 || resources->pids_limit >= 0 || resources->cpu_shares > 0 ||
                  resources->cpu_quota >= 0 || resources->cpu_period > 0;
    if (result < 0 && !limits) {
        log_warning("the sandbox stays out of cgroup %s: %s", path, error);
        result = 0;
    }
    text_buffer_free(&record);
    free(path);
    return result;
}

/* Removes the container's state directory, and its cgroup once its processes are gone. */
static int remove_container_directory(const char *directory)
{
    struct text_buffer record = {0};
    text_buffer_append(&record, "%s/%s", directory, CGROUP_RECORD);
    cgroup_remove(record.data);
    text_buffer_free(&record);
    return state_remove_directory(directory);
}

/* Runs hooks with the container's state; a failure is the caller's to judge (fatal or a warning). */
static int run_hooks(const struct oci_hook_list *hooks, const char *stage, const struct container_state *state,
                     enum container_status status, char *error, size_t error_size)
{
    if (hooks->count == 0)
        return 0;
    char *json = state_to_json(state, status, false);
    int result = oci_hooks_run(hooks, stage, json, error, error_size);
    free(json);
    return result;
}

/* poststart and poststop failures are warnings (runtime spec): the config is read again from the bundle. */
static void run_late_hooks(const struct runsc_options *options, const struct container_state *state, bool poststop)
{
    struct oci_config config;
    char error[ERROR_SIZE];
    if (!state->bundle || oci_config_load(state->bundle, &config, error, sizeof(error)) < 0)
        return; /* the bundle is gone: nothing to run */
    const struct oci_hook_list *hooks = poststop ? &config.poststop : &config.poststart;
    if (run_hooks(hooks, poststop ? "poststop" : "poststart", state, poststop ? CONTAINER_STOPPED : CONTAINER_RUNNING,
                  error, sizeof(error)) < 0)
        runsc_error(options, "warning: %s", error);
    oci_config_free(&config);
}

static int supervise(const struct runsc_options *options, const struct oci_config *config, const char *directory,
                     int console_fd, int report_fd)
{
    struct text_buffer fifo_path = {0};
    text_buffer_append(&fifo_path, "%s/%s", directory, START_FIFO);
    /* Read-write: the FIFO never reads as EOF between `start`s, and `start` finds a reader while we live. */
    int fifo = open(fifo_path.data, O_RDWR | O_CLOEXEC);
    text_buffer_free(&fifo_path);
    char error[ERROR_SIZE];
    if (fifo < 0) {
        dprintf(report_fd, "E cannot open the start FIFO: %s\n", strerror(errno));
        return 1;
    }
    int listener = runsc_exec_socket(directory, true);
    if (listener < 0) {
        dprintf(report_fd, "E cannot listen on %s/%s: %s\n", directory, EXEC_SOCKET, strerror(errno));
        return 1;
    }
    if (enter_cgroup(options, config, directory, error, sizeof(error)) < 0) {
        dprintf(report_fd, "E %s\n", error);
        return 1;
    }
    struct sandbox sandbox;
    if (sandbox_launch(options, config, true, true, console_fd, &sandbox, error, sizeof(error)) < 0) {
        dprintf(report_fd, "E %s\n", error);
        return 1;
    }
    int signal_fd = supervisor_signals();
    if (console_fd >= 0)
        close(console_fd);
    char byte = 0;
    ssize_t count;
    while ((count = read(sandbox.ready_fd, &byte, 1)) < 0 && errno == EINTR)
        ;
    close(sandbox.ready_fd);
    if (count != 1) {
        int code = sandbox_wait(&sandbox);
        sandbox_stop_gofer(&sandbox);
        dprintf(report_fd, "F %d\n", code);
        return 1;
    }
    dprintf(report_fd, "R %d\n", (int)sandbox.sentry_pid);
    close(report_fd);
    /* From here on nobody reads our own stdio; the sandbox keeps its copies. */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        for (int fd = 0; fd < 3; fd++)
            dup2(null, fd);
        close(null);
    }
    int code = supervise_sandbox(&sandbox, fifo, listener, signal_fd);
    state_record_exit_status(directory, code);
    close(listener);
    if (sandbox.exec_control_fd >= 0)
        close(sandbox.exec_control_fd);
    return code;
}

/* Closes every fd above stdio but those in keep. */
static void close_inherited_fds(const int *keep, size_t keep_count)
{
    DIR *listing = opendir("/proc/self/fd");
    if (!listing)
        return;
    int inherited[256];
    size_t count = 0;
    struct dirent *entry;
    while ((entry = readdir(listing)) && count < ARRAY_SIZE(inherited)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        int fd = atoi(entry->d_name);
        bool kept = fd < 3 || fd == dirfd(listing);
        for (size_t i = 0; i < keep_count; i++)
            kept = kept || keep[i] == fd;
        if (!kept)
            inherited[count++] = fd;
    }
    closedir(listing);
    for (size_t i = 0; i < count; i++)
        close(inherited[i]);
}

static int load_checked_config(const struct runsc_options *options, const char *bundle, struct oci_config *config)
{
    char error[ERROR_SIZE];
    if (oci_config_load(bundle, config, error, sizeof(error)) < 0) {
        runsc_error(options, "%s", error);
        return -1;
    }
    /* --network=none (runsc's flag, which engines pass to it): the sandbox never touches the host's network, so
     * the network namespace an engine prepared (docker's --network=host, podman's netns) is not joined, and
     * not needed. Without the flag such a path is refused, as every other namespace path is. */
    if (options->network && strcmp(options->network, "none") == 0) {
        for (size_t i = 0; i < config->namespace_count; i++) {
            if (config->namespaces[i].type == CLONE_NEWNET && config->namespaces[i].path) {
                free(config->namespaces[i].path);
                config->namespaces[i].path = NULL;
            }
        }
    }
    if (sandbox_check_config(config, error, sizeof(error)) < 0) {
        runsc_error(options, "%s", error);
        oci_config_free(config);
        return -1;
    }
    return 0;
}

/* Everything create checks before it leaves anything behind in --root. */
static int validate_request(const struct runsc_options *options, const struct create_request *request,
                            struct oci_config *config)
{
    char error[ERROR_SIZE];
    if (state_validate_id(request->id, error, sizeof(error)) < 0) {
        runsc_error(options, "%s", error);
        return -1;
    }
    if (load_checked_config(options, request->bundle, config) < 0)
        return -1;
    if (config->process.terminal && !request->console_socket && !request->foreground) {
        runsc_error(options, "config.json: process.terminal: a terminal needs --console-socket when the "
                             "container runs detached");
        oci_config_free(config);
        return -1;
    }
    if (request->console_socket && !config->process.terminal) {
        runsc_error(options, "--console-socket was given but config.json's process.terminal is false");
        oci_config_free(config);
        return -1;
    }
    sandbox_prepare_rootfs(config);
    return 0;
}

/* prestart and createRuntime, once the sandbox waits for start (runc runs them at the same point of create). */
static int create_hooks(const struct oci_config *config, const char *directory, const char *id, char *error,
                        size_t error_size)
{
    if (config->prestart.count == 0 && config->create_runtime.count == 0)
        return 0;
    struct container_state state;
    char *root = xstrdup(directory);
    *strrchr(root, '/') = '\0';
    int result = state_load(root, id, &state, error, error_size);
    free(root);
    if (result < 0)
        return -1;
    result = run_hooks(&config->prestart, "prestart", &state, CONTAINER_CREATED, error, error_size);
    if (result == 0)
        result = run_hooks(&config->create_runtime, "createRuntime", &state, CONTAINER_CREATED, error, error_size);
    state_free(&state);
    return result;
}

/* create's and run's start: the config, checked, and the container's new state directory (to free), or NULL
 * with the error reported and nothing left behind. */
static char *container_directory_new(const struct runsc_options *options, const struct create_request *request,
                                     struct oci_config *config)
{
    if (validate_request(options, request, config) < 0)
        return NULL;
    char error[ERROR_SIZE];
    const char *root = state_root(options);
    if (state_create_directory(root, request->id, error, sizeof(error)) < 0) {
        runsc_error(options, "%s", error);
        oci_config_free(config);
        return NULL;
    }
    return state_directory(root, request->id);
}

static int container_create(const struct runsc_options *options, const struct create_request *request)
{
    struct oci_config config;
    char *directory = container_directory_new(options, request, &config);
    if (!directory)
        return 1;
    char error[ERROR_SIZE];
    struct text_buffer fifo_path = {0};
    text_buffer_append(&fifo_path, "%s/%s", directory, START_FIFO);
    int result = 1;
    int console_fd = -1;
    int report[2] = {-1, -1};
    pid_t supervisor = -1;
    if (mkfifo(fifo_path.data, 0600) < 0) {
        runsc_error(options, "cannot create %s: %s", fifo_path.data, strerror(errno));
        goto out;
    }
    if (request->console_socket &&
        (console_fd = open_console(request->console_socket, error, sizeof(error))) < 0) {
        runsc_error(options, "%s", error);
        goto out;
    }
    if (pipe2(report, O_CLOEXEC) < 0) {
        runsc_error(options, "pipe: %s", strerror(errno));
        goto out;
    }
    fflush(NULL);
    supervisor = fork();
    if (supervisor < 0) {
        runsc_error(options, "fork: %s", strerror(errno));
        goto out;
    }
    if (supervisor == 0) {
        close(report[0]);
        /* Engines hand the runtime pipes of their own (conmon's sync pipe, a shim's output pipe) and wait
         * for them to close; runc closes them in the container, and so does the supervisor, which outlives
         * `create`. */
        int keep[] = {report[1], console_fd, log_file_descriptor()};
        close_inherited_fds(keep, ARRAY_SIZE(keep));
        setsid();
        _exit(supervise(options, &config, directory, console_fd, report[1]));
    }
    close(report[1]);
    report[1] = -1;
    if (console_fd >= 0) {
        close(console_fd);
        console_fd = -1;
    }
    FILE *reply = fdopen(report[0], "r");
    report[0] = -1;
    char line[ERROR_SIZE] = "";
    if (!reply || !fgets(line, sizeof(line), reply))
        snprintf(line, sizeof(line), "E the sandbox's supervisor ended without a word");
    if (reply)
        fclose(reply);
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == 'R') {
        pid_t sentry_pid = (pid_t)atoi(line + 2);
        struct container_state state;
        fill_state(&state, request, &config, sentry_pid, supervisor);
        int error_number = state_save(directory, &state);
        state_free(&state);
        if (error_number < 0) {
            runsc_error(options, "cannot write the state of %s: %s", request->id, strerror(-error_number));
            kill(sentry_pid, SIGKILL);
            goto out;
        }
        if (request->pid_file && (error_number = write_pid_file(request->pid_file, supervisor)) < 0) {
            runsc_error(options, "--pid-file %s: %s", request->pid_file, strerror(-error_number));
            kill(sentry_pid, SIGKILL);
            goto out;
        }
        if (create_hooks(&config, directory, request->id, error, sizeof(error)) < 0) {
            runsc_error(options, "container %s could not be created: %s", request->id, error);
            kill(sentry_pid, SIGKILL);
            goto out;
        }
        result = 0;
    } else if (line[0] == 'F') {
        runsc_error(options, "container %s could not be created: the sandbox exited with status %s", request->id,
                    line + 2);
    } else {
        runsc_error(options, "container %s could not be created: %s", request->id, line[0] ? line + 2 : "");
    }
out:
    if (result != 0) {
        if (supervisor > 0)
            waitpid(supervisor, NULL, 0);
        remove_container_directory(directory);
    }
    if (console_fd >= 0)
        close(console_fd);
    if (report[0] >= 0)
        close(report[0]);
    if (report[1] >= 0)
        close(report[1]);
    text_buffer_free(&fifo_path);
    free(directory);
    oci_config_free(&config);
    return result;
}

int runsc_create(const struct runsc_options *options, int argc, char **argv)
{
    struct create_request request = {0};
    if (parse_create_flags(options, "create", argc, argv, &request, NULL) < 0)
        return 1;
    return container_create(options, &request);
}

/* ---- start ---- */

/* Where signals for the container's init go: the Sentry (states written before it was recorded: pid). */
static pid_t sentry_of(const struct container_state *state)
{
    return state->sentry_pid > 0 ? state->sentry_pid : state->pid;
}

static int load_existing(const struct runsc_options *options, const char *id, struct container_state *state)
{
    char error[ERROR_SIZE];
    if (state_load(state_root(options), id, state, error, sizeof(error)) < 0) {
        runsc_error(options, "%s", error);
        return -1;
    }
    return 0;
}

static const char *single_id(const struct runsc_options *options, const char *command, int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        runsc_error(options, "%s: exactly one container id is expected: usandbox %s ID", command, command);
        return NULL;
    }
    return argv[0];
}

static int container_start(const struct runsc_options *options, const char *id)
{
    struct container_state state;
    if (load_existing(options, id, &state) < 0)
        return 1;
    enum container_status status = state_status(&state);
    if (status != CONTAINER_CREATED) {
        runsc_error(options, "cannot start container %s: it is %s, not created", id, state_status_name(status));
        state_free(&state);
        return 1;
    }
    char *directory = state_directory(state_root(options), id);
    /* Marked first, so that `state` never says created about a process that already runs. */
    state.started = true;
    int result = state_save(directory, &state);
    if (result < 0) {
        runsc_error(options, "cannot update the state of %s: %s", id, strerror(-result));
        goto out;
    }
    struct text_buffer fifo_path = {0};
    text_buffer_append(&fifo_path, "%s/%s", directory, START_FIFO);
    int fifo = open(fifo_path.data, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    text_buffer_free(&fifo_path);
    result = fifo < 0 ? -errno : write_all(fifo, "S", 1);
    if (fifo >= 0)
        close(fifo);
    if (result < 0) {
        runsc_error(options, "cannot start container %s: its sandbox is gone (%s)", id, strerror(-result));
        state.started = false;
        state_save(directory, &state);
    } else {
        run_late_hooks(options, &state, false);
    }
out:
    free(directory);
    state_free(&state);
    return result < 0 ? 1 : 0;
}

int runsc_start(const struct runsc_options *options, int argc, char **argv)
{
    const char *id = single_id(options, "start", argc, argv);
    return id ? container_start(options, id) : 1;
}

/* ---- run ---- */

static int container_run_foreground(const struct runsc_options *options, const struct create_request *request)
{
    struct oci_config config;
    char *directory = container_directory_new(options, request, &config);
    if (!directory)
        return 1;
    char error[ERROR_SIZE];
    int code = 1;
    int console_fd = -1;
    struct sandbox sandbox = {.gofer_pid = -1, .sentry_pid = -1, .exec_control_fd = -1};
    int listener = runsc_exec_socket(directory, true);
    if (listener < 0) {
        runsc_error(options, "cannot listen on %s/%s: %s", directory, EXEC_SOCKET, strerror(errno));
        goto out;
    }
    if (request->console_socket &&
        (console_fd = open_console(request->console_socket, error, sizeof(error))) < 0) {
        runsc_error(options, "%s", error);
        goto out;
    }
    if (enter_cgroup(options, &config, directory, error, sizeof(error)) < 0) {
        runsc_error(options, "%s", error);
        goto out;
    }
    if (sandbox_launch(options, &config, true, true, console_fd, &sandbox, error, sizeof(error)) < 0) {
        runsc_error(options, "%s", error);
        goto out;
    }
    int signal_fd = supervisor_signals();
    char byte;
    ssize_t count;
    while ((count = read(sandbox.ready_fd, &byte, 1)) < 0 && errno == EINTR)
        ;
    close(sandbox.ready_fd);
    if (count != 1) {
        close(sandbox.start_fd);
        code = sandbox_wait(&sandbox);
        sandbox_stop_gofer(&sandbox);
        goto out;
    }
    struct container_state state;
    fill_state(&state, request, &config, sandbox.sentry_pid, getpid());
    state.started = true;
    int error_number = state_save(directory, &state);
    state_free(&state);
    if (error_number == 0 && request->pid_file)
        error_number = write_pid_file(request->pid_file, getpid());
    if (error_number == 0 && create_hooks(&config, directory, request->id, error, sizeof(error)) < 0) {
        runsc_error(options, "container %s could not be created: %s", request->id, error);
        error_number = -ECANCELED;
    } else if (error_number < 0) {
        runsc_error(options, "cannot record container %s: %s", request->id, strerror(-error_number));
    }
    if (error_number < 0) {
        close(sandbox.start_fd);
        kill(sandbox.sentry_pid, SIGKILL);
        sandbox_wait(&sandbox);
        sandbox_stop_gofer(&sandbox);
        goto out;
    }
    write_all(sandbox.start_fd, "S", 1);
    close(sandbox.start_fd);
    sandbox.start_fd = -1;
    struct container_state started;
    bool have_state = state_load(state_root(options), request->id, &started, error, sizeof(error)) == 0;
    if (have_state)
        run_late_hooks(options, &started, false);
    /* The CLI is the supervisor here: it relays signals to the Sentry and serves exec. */
    code = supervise_sandbox(&sandbox, -1, listener, signal_fd);
    state_record_exit_status(directory, code);
    if (have_state) {
        run_late_hooks(options, &started, true);
        state_free(&started);
    }
out:
    if (listener >= 0)
        close(listener);
    if (sandbox.exec_control_fd >= 0)
        close(sandbox.exec_control_fd);
    if (console_fd >= 0)
        close(console_fd);
    remove_container_directory(directory);
    free(directory);
    oci_config_free(&config);
    return code;
}

int runsc_run(const struct runsc_options *options, int argc, char **argv)
{
    struct create_request request = {0};
    bool detach = false;
    if (parse_create_flags(options, "run", argc, argv, &request, &detach) < 0)
        return 1;
    if (!detach) {
        request.foreground = true;
        return container_run_foreground(options, &request);
    }
    int result = container_create(options, &request);
    return result != 0 ? result : container_start(options, request.id);
}

/* ---- state, kill, delete ---- */

int runsc_state(const struct runsc_options *options, int argc, char **argv)
{
    const char *id = single_id(options, "state", argc, argv);
    if (!id)
        return 1;
    struct container_state state;
    if (load_existing(options, id, &state) < 0)
        return 1;
    char *text = state_to_json(&state, state_status(&state), true);
    printf("%s\n", text);
    free(text);
    state_free(&state);
    return 0;
}

int runsc_kill(const struct runsc_options *options, int argc, char **argv)
{
    const char *id = NULL, *signal_text = NULL;
    bool all = false;
    for (int i = 0; i < argc; i++) {
        if (is_flag(argv[i], "all", "a")) {
            all = true;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1] && !(argv[i][1] >= '0' && argv[i][1] <= '9')) {
            runsc_error(options, "kill: unknown flag %s", argv[i]);
            return 1;
        }
        if (!id)
            id = argv[i];
        else if (!signal_text)
            signal_text = argv[i];
        else {
            runsc_error(options, "kill: too many arguments: usandbox kill ID [SIGNAL]");
            return 1;
        }
    }
    if (!id) {
        runsc_error(options, "kill: a container id is required: usandbox kill ID [SIGNAL]");
        return 1;
    }
    int signal = signal_text ? runsc_parse_signal(signal_text) : SIGTERM;
    if (signal < 0) {
        runsc_error(options, "kill: unknown signal \"%s\"", signal_text);
        return 1;
    }
    struct container_state state;
    if (load_existing(options, id, &state) < 0)
        return 1;
    int result = 0;
    enum container_status status = state_status(&state);
    if (status == CONTAINER_STOPPED) {
        runsc_error(options, "cannot kill container %s: it is not running", id);
        result = 1;
    } else {
        /* A running sandbox's Sentry delivers any signal to its init (or all its processes) as Linux does
         * from the parent pid namespace. SIGKILL ends the whole sandbox with the Sentry; before start (or a
         * Sentry that does not answer), the Sentry's host process gets the signal: it relays INT, TERM, HUP,
         * QUIT, USR1, USR2 and WINCH to pid 1, and dies of the others, which ends the container too. */
        int error = -ECONNREFUSED;
        if (signal != SIGKILL && status == CONTAINER_RUNNING) {
            char *directory = state_directory(state_root(options), id);
            error = runsc_signal_sandbox(directory, signal, all);
            free(directory);
        }
        if (error == -ENOENT || error == -ECONNREFUSED || error == -ECONNRESET)
            error = kill(sentry_of(&state), signal) < 0 ? -errno : 0;
        if (error < 0) {
            runsc_error(options, "cannot signal container %s: %s", id, strerror(-error));
            result = 1;
        }
    }
    state_free(&state);
    return result;
}

/* Waits up to timeout_ms for the sandbox to be gone. */
static bool wait_until_stopped(const struct container_state *state, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (state_status(state) == CONTAINER_STOPPED)
            return true;
        usleep(10000);
    }
    return state_status(state) == CONTAINER_STOPPED;
}

/* The supervisor records the exit status in the state directory after the Sentry is gone: removing the
 * directory before it is done would race with that write. */
static bool wait_for_supervisor(const struct container_state *state, int timeout_ms)
{
    if (state->supervisor_pid <= 0)
        return true;
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        /* A zombie has written all it had to write: its reaper is the engine's business. */
        if (!state_process_alive(state->supervisor_pid, 0))
            return true;
        /* Our own child when run with --detach from this process: reap it so it does not linger. */
        waitpid(state->supervisor_pid, NULL, WNOHANG);
        usleep(10000);
    }
    return false;
}

int runsc_delete(const struct runsc_options *options, int argc, char **argv)
{
    const char *id = NULL;
    bool force = false;
    for (int i = 0; i < argc; i++) {
        if (is_flag(argv[i], "force", "f")) {
            force = true;
        } else if (argv[i][0] == '-') {
            runsc_error(options, "delete: unknown flag %s", argv[i]);
            return 1;
        } else if (!id) {
            id = argv[i];
        } else {
            runsc_error(options, "delete: one container id is expected");
            return 1;
        }
    }
    if (!id) {
        runsc_error(options, "delete: a container id is required: usandbox delete [--force] ID");
        return 1;
    }
    char error[ERROR_SIZE];
    if (state_validate_id(id, error, sizeof(error)) < 0) {
        runsc_error(options, "%s", error);
        return 1;
    }
    char *directory = state_directory(state_root(options), id);
    struct container_state state;
    int loaded = state_load(state_root(options), id, &state, error, sizeof(error));
    if (loaded < 0) {
        struct stat leftover;
        bool exists = stat(directory, &leftover) == 0;
        int result = 0;
        if (exists && force) {
            remove_container_directory(directory);  /* a create that died half-way */
        } else if (!(force && !exists)) {
            runsc_error(options, "%s", error);
            result = 1;
        }
        free(directory);
        return result;
    }
    int result = 0;
    enum container_status status = state_status(&state);
    if (status == CONTAINER_RUNNING && !force) {
        runsc_error(options, "cannot delete container %s that is not stopped: running (use --force)", id);
        result = 1;
    } else {
        if (status != CONTAINER_STOPPED) {
            kill(sentry_of(&state), SIGKILL);
            if (!wait_until_stopped(&state, 5000)) {
                runsc_error(options, "container %s did not stop after SIGKILL", id);
                result = 1;
            }
        }
        if (result == 0 && !wait_for_supervisor(&state, 5000)) {
            runsc_error(options, "the supervisor of container %s did not finish", id);
            result = 1;
        }
        if (result == 0) {
            run_late_hooks(options, &state, true);
            int error_number = remove_container_directory(directory);
            if (error_number < 0) {
                runsc_error(options, "cannot remove %s: %s", directory, strerror(-error_number));
                result = 1;
            }
        }
    }
    state_free(&state);
    free(directory);
    return result;
}

/* ---- list ---- */

static int compare_names(const void *left, const void *right)
{
    return strcmp(*(char *const *)left, *(char *const *)right);
}

int runsc_list(const struct runsc_options *options, int argc, char **argv)
{
    bool json = false, quiet = false;
    for (int i = 0; i < argc; i++) {
        const char *value;
        if ((value = take_value(argc, argv, &i, "format", "f"))) {
            if (strcmp(value, "json") == 0) {
                json = true;
            } else if (strcmp(value, "table") != 0) {
                runsc_error(options, "list: unknown format \"%s\" (table or json)", value);
                return 1;
            }
        } else if (is_flag(argv[i], "quiet", "q")) {
            quiet = true;
        } else {
            runsc_error(options, "list: unexpected argument %s", argv[i]);
            return 1;
        }
    }
    const char *root = state_root(options);
    char **ids = NULL;
    size_t count = 0;
    DIR *listing = opendir(root);
    if (listing) {
        struct dirent *entry;
        while ((entry = readdir(listing))) {
            char ignored[ERROR_SIZE];
            if (entry->d_name[0] == '.' || state_validate_id(entry->d_name, ignored, sizeof(ignored)) < 0)
                continue;
            char **grown = realloc(ids, (count + 1) * sizeof(char *));
            if (!grown)
                break;
            ids = grown;
            ids[count++] = xstrdup(entry->d_name);
        }
        closedir(listing);
    }
    if (count)
        qsort(ids, count, sizeof(char *), compare_names);
    struct json_object *array = json_object_new_array();
    if (!json && !quiet)
        printf("%-12s %-12s %-12s %-12s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER");
    for (size_t i = 0; i < count; i++) {
        struct container_state state;
        char error[ERROR_SIZE];
        if (state_load(root, ids[i], &state, error, sizeof(error)) < 0)
            continue;  /* being created or deleted right now */
        enum container_status status = state_status(&state);
        if (quiet) {
            printf("%s\n", state.id);
        } else if (json) {
            char *text = state_to_json(&state, status, false);
            json_object_array_add(array, json_tokener_parse(text));
            free(text);
        } else {
            printf("%-12s %-12d %-12s %-12s %-30s %s\n", state.id, status == CONTAINER_STOPPED ? 0 : (int)state.pid,
                   state_status_name(status), state.bundle ? state.bundle : "", state.created ? state.created : "",
                   state.owner ? state.owner : "");
        }
        state_free(&state);
    }
    if (json)
        printf("%s\n", json_object_to_json_string_ext(array, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(array);
    for (size_t i = 0; i < count; i++)
        free(ids[i]);
    free(ids);
    return 0;
}

/* ---- ps, events: the sandbox's host processes (the Sentry and the stubs it forked) ---- */

struct host_process {
    pid_t pid, parent;
    unsigned long long user_ticks, system_ticks, resident_pages;
    char command[64];
};

static bool read_host_process(pid_t pid, struct host_process *process)
{
    char path[64], text[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t length = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (length <= 0)
        return false;
    text[length] = '\0';
    char *open_paren = strchr(text, '('), *close_paren = strrchr(text, ')');
    if (!open_paren || !close_paren)
        return false;
    snprintf(process->command, sizeof(process->command), "%.*s", (int)(close_paren - open_paren - 1),
             open_paren + 1);
    process->pid = pid;
    char state;
    int parent;
    unsigned long long fields[21];
    /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime
     * cstime priority nice threads itrealvalue starttime vsize rss */
    if (sscanf(close_paren + 2, "%c %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
                                "%llu %llu %llu %llu %llu",
               &state, &parent, &fields[0], &fields[1], &fields[2], &fields[3], &fields[4], &fields[5], &fields[6],
               &fields[7], &fields[8], &fields[9], &fields[10], &fields[11], &fields[12], &fields[13], &fields[14],
               &fields[15], &fields[16], &fields[17], &fields[18], &fields[19]) < 22)
        return false;
    process->parent = parent;
    process->user_ticks = fields[9];
    process->system_ticks = fields[10];
    process->resident_pages = fields[19];
    return true;
}

/* The Sentry and all its descendants, the Sentry first. */
static size_t sandbox_processes(pid_t sentry, struct host_process **out)
{
    struct host_process *all = NULL;
    size_t all_count = 0;
    DIR *proc = opendir("/proc");
    if (proc) {
        struct dirent *entry;
        while ((entry = readdir(proc))) {
            if (entry->d_name[0] < '1' || entry->d_name[0] > '9')
                continue;
            struct host_process process;
            if (!read_host_process((pid_t)atoi(entry->d_name), &process))
                continue;
            struct host_process *grown = realloc(all, (all_count + 1) * sizeof(*all));
            if (!grown)
                break;
            all = grown;
            all[all_count++] = process;
        }
        closedir(proc);
    }
    struct host_process *members = xcalloc(all_count + 1, sizeof(*members));
    size_t count = 0;
    for (size_t i = 0; i < all_count; i++)
        if (all[i].pid == sentry)
            members[count++] = all[i];
    /* Breadth-first over the parent links: each pass adds the children of members found so far. */
    for (size_t scanned = 0; scanned < count; scanned++) {
        for (size_t i = 0; i < all_count; i++)
            if (all[i].parent == members[scanned].pid)
                members[count++] = all[i];
    }
    free(all);
    *out = members;
    return count;
}

static int load_live(const struct runsc_options *options, const char *id, struct container_state *state)
{
    if (load_existing(options, id, state) < 0)
        return -1;
    if (state_status(state) == CONTAINER_STOPPED) {
        runsc_error(options, "container %s is not running", id);
        state_free(state);
        return -1;
    }
    return 0;
}

int runsc_ps(const struct runsc_options *options, int argc, char **argv)
{
    bool json = false;
    const char *id = NULL;
    for (int i = 0; i < argc; i++) {
        const char *value;
        if ((value = take_value(argc, argv, &i, "format", "f"))) {
            if (strcmp(value, "json") == 0) {
                json = true;
            } else if (strcmp(value, "table") != 0) {
                runsc_error(options, "ps: unknown format \"%s\" (table or json)", value);
                return 1;
            }
        } else if (argv[i][0] == '-') {
            runsc_error(options, "ps: unknown flag %s", argv[i]);
            return 1;
        } else if (!id) {
            id = argv[i];
        } else {
            break;  /* runc passes what follows to ps(1); there is no ps(1) view of a Sentry's tasks */
        }
    }
    if (!id) {
        runsc_error(options, "ps: a container id is required: usandbox ps [--format table|json] ID");
        return 1;
    }
    struct container_state state;
    if (load_live(options, id, &state) < 0)
        return 1;
    struct host_process *processes;
    size_t count = sandbox_processes(sentry_of(&state), &processes);
    if (json) {
        printf("[");
        for (size_t i = 0; i < count; i++)
            printf("%s%d", i ? "," : "", (int)processes[i].pid);
        printf("]\n");
    } else {
        printf("%-8s %-8s %s\n", "PID", "PPID", "CMD");
        for (size_t i = 0; i < count; i++)
            printf("%-8d %-8d %s\n", (int)processes[i].pid, (int)processes[i].parent, processes[i].command);
    }
    free(processes);
    state_free(&state);
    return 0;
}

static void print_stats(const struct container_state *state)
{
    struct host_process *processes;
    size_t count = sandbox_processes(sentry_of(state), &processes);
    long ticks_per_second = sysconf(_SC_CLK_TCK);
    long page_size = sysconf(_SC_PAGESIZE);
    unsigned long long user = 0, system = 0, resident = 0;
    for (size_t i = 0; i < count; i++) {
        user += processes[i].user_ticks;
        system += processes[i].system_ticks;
        resident += processes[i].resident_pages;
    }
    free(processes);
    unsigned long long nanoseconds_per_tick = 1000000000ULL / (unsigned long long)ticks_per_second;
    struct json_object *usage = json_object_new_object();
    json_object_object_add(usage, "total", json_object_new_uint64((user + system) * nanoseconds_per_tick));
    json_object_object_add(usage, "user", json_object_new_uint64(user * nanoseconds_per_tick));
    json_object_object_add(usage, "kernel", json_object_new_uint64(system * nanoseconds_per_tick));
    struct json_object *cpu = json_object_new_object();
    json_object_object_add(cpu, "usage", usage);
    struct json_object *memory_usage = json_object_new_object();
    json_object_object_add(memory_usage, "usage", json_object_new_uint64(resident * (unsigned long long)page_size));
    struct json_object *memory = json_object_new_object();
    json_object_object_add(memory, "usage", memory_usage);
    struct json_object *pids = json_object_new_object();
    json_object_object_add(pids, "current", json_object_new_uint64(count));
    struct json_object *data = json_object_new_object();
    json_object_object_add(data, "cpu", cpu);
    json_object_object_add(data, "memory", memory);
    json_object_object_add(data, "pids", pids);
    struct json_object *event = json_object_new_object();
    json_object_object_add(event, "type", json_object_new_string("stats"));
    json_object_object_add(event, "id", json_object_new_string(state->id));
    json_object_object_add(event, "data", data);
    printf("%s\n", json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN));
    fflush(stdout);
    json_object_put(event);
}

int runsc_events(const struct runsc_options *options, int argc, char **argv)
{
    bool once = false;
    int interval_seconds = 5;
    const char *id = NULL;
    for (int i = 0; i < argc; i++) {
        const char *value;
        if (is_flag(argv[i], "stats", NULL)) {
            once = true;
        } else if ((value = take_value(argc, argv, &i, "interval", NULL))) {
            char *end;
            long seconds = strtol(value, &end, 10);
            if (end == value || (*end && strcmp(end, "s") != 0) || seconds < 1) {
                runsc_error(options, "events: --interval \"%s\" must be whole seconds, like 5s", value);
                return 1;
            }
            interval_seconds = (int)seconds;
        } else if (argv[i][0] == '-') {
            runsc_error(options, "events: unknown flag %s", argv[i]);
            return 1;
        } else if (!id) {
            id = argv[i];
        } else {
            runsc_error(options, "events: one container id is expected");
            return 1;
        }
    }
    if (!id) {
        runsc_error(options, "events: a container id is required: usandbox events [--stats] ID");
        return 1;
    }
    struct container_state state;
    if (load_live(options, id, &state) < 0)
        return 1;
    do {
        print_stats(&state);
        if (once)
            break;
        sleep((unsigned)interval_seconds);
    } while (state_status(&state) != CONTAINER_STOPPED);
    state_free(&state);
    return 0;
}

/* ---- shared with exec.c ---- */

const char *runsc_state_root(const struct runsc_options *options) { return state_root(options); }

const char *runsc_take_value(int argc, char **argv, int *index, const char *long_name, const char *short_name)
{
    return take_value(argc, argv, index, long_name, short_name);
}

bool runsc_is_flag(const char *argument, const char *long_name, const char *short_name)
{
    return is_flag(argument, long_name, short_name);
}

int runsc_write_pid_file(const char *path, int pid) { return write_pid_file(path, (pid_t)pid); }

void runsc_close_inherited_fds(const int *keep, size_t keep_count) { close_inherited_fds(keep, keep_count); }

int runsc_open_console(const char *socket_path, char *error, size_t error_size)
{
    return open_console(socket_path, error, error_size);
}
