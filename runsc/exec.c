/* runsc/exec.c: `usandbox exec`: a new process in a running container, described by runc's flags or a
 * --process JSON, sent with its stdio to the Sentry over the container's exec socket; its exit status. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "runsc/oci_config.h"
#include "runsc/runsc.h"
#include "runsc/state.h"

#define ERROR_SIZE 1024
#define EXTRA_ENV_MAXIMUM 256

struct exec_request {
    const char *id;
    const char *process_file;
    const char *pid_file;
    const char *console_socket;
    const char *cwd;
    const char *user;
    const char *additional_gids;
    const char *env[EXTRA_ENV_MAXIMUM];
    size_t env_count;
    bool detach, tty, no_new_privileges;
    char **args;  /* after the id; may be empty with --process */
    int arg_count;
};

static const char usage[] = "usage: usandbox exec [--process FILE | flags] ID [COMMAND [ARGS...]]";

static int parse_exec_flags(const struct runsc_options *options, int argc, char **argv, struct exec_request *request)
{
    int i = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *value;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if ((value = runsc_take_value(argc, argv, &i, "process", "p"))) {
            request->process_file = value;
        } else if ((value = runsc_take_value(argc, argv, &i, "pid-file", NULL))) {
            request->pid_file = value;
        } else if ((value = runsc_take_value(argc, argv, &i, "console-socket", NULL))) {
            request->console_socket = value;
        } else if ((value = runsc_take_value(argc, argv, &i, "cwd", NULL))) {
            request->cwd = value;
        } else if ((value = runsc_take_value(argc, argv, &i, "user", "u"))) {
            request->user = value;
        } else if ((value = runsc_take_value(argc, argv, &i, "additional-gids", "g"))) {
            request->additional_gids = value;
        } else if ((value = runsc_take_value(argc, argv, &i, "env", "e"))) {
            if (request->env_count == EXTRA_ENV_MAXIMUM) {
                runsc_error(options, "exec: at most %d --env flags", EXTRA_ENV_MAXIMUM);
                return -1;
            }
            if (!strchr(value, '=') || value[0] == '=') {
                runsc_error(options, "exec: --env \"%s\" must be NAME=VALUE", value);
                return -1;
            }
            request->env[request->env_count++] = value;
        } else if ((value = runsc_take_value(argc, argv, &i, "preserve-fds", NULL))) {
            if (strcmp(value, "0") != 0) {
                runsc_error(options, "exec: --preserve-fds %s: passing extra fds into the sandbox is not supported",
                            value);
                return -1;
            }
        } else if (runsc_is_flag(argv[i], "detach", "d")) {
            request->detach = true;
        } else if (runsc_is_flag(argv[i], "tty", "t")) {
            request->tty = true;
        } else if (runsc_is_flag(argv[i], "no-new-privs", NULL)) {
            request->no_new_privileges = true;
        } else if (runsc_is_flag(argv[i], "ignore-paused", NULL)) {
            /* containers are never paused here */
        } else {
            runsc_error(options, "exec: unknown flag %s\n%s", argv[i], usage);
            return -1;
        }
    }
    if (i >= argc) {
        runsc_error(options, "exec: a container id is required\n%s", usage);
        return -1;
    }
    request->id = argv[i++];
    request->args = &argv[i];
    request->arg_count = argc - i;
    if (!request->process_file && request->arg_count == 0) {
        runsc_error(options, "exec: a command is required (or --process FILE)\n%s", usage);
        return -1;
    }
    return 0;
}

/* A --process file is config.json's "process" object: parsed by the same code, inside a minimal config. */
static int load_process_file(const char *path, const char *bundle, struct oci_config *config, char *error,
                             size_t error_size)
{
    struct json_object *process = json_object_from_file(path);
    if (!process) {
        snprintf(error, error_size, "--process %s: %s", path, json_util_get_last_err());
        return -1;
    }
    struct json_object *document = json_object_new_object();
    json_object_object_add(document, "ociVersion", json_object_new_string("1.0.2"));
    struct json_object *root = json_object_new_object();
    json_object_object_add(root, "path", json_object_new_string("/"));
    json_object_object_add(document, "root", root);
    json_object_object_add(document, "process", process);
    char parse_error[ERROR_SIZE];
    int result = oci_config_parse(json_object_to_json_string(document), bundle, config, parse_error,
                                  sizeof(parse_error));
    json_object_put(document);
    if (result < 0) {
        /* "config.json: process.args: ..." names the field of the process file */
        const char *field = strncmp(parse_error, "config.json: ", 13) == 0 ? parse_error + 13 : parse_error;
        struct text_buffer message = {0};
        text_buffer_append(&message, "--process %s: %s", path, field);
        snprintf(error, error_size, "%s", message.data);
        text_buffer_free(&message);
    }
    return result;
}

static int parse_id_number(const char *text, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno || end == text || *end || value > UINT32_MAX - 1 || text[0] == '-')
        return -1;
    *out = (uint32_t)value;
    return 0;
}

/* runc's flags over the container's own process (config.json): args, --env, --cwd, --user, -g, --tty. */
static int apply_flags(const struct exec_request *request, struct oci_process *process, char *error,
                       size_t error_size)
{
    if (request->arg_count > 0) {
        for (size_t i = 0; process->args && process->args[i]; i++)
            free(process->args[i]);
        free(process->args);
        process->args = xcalloc((size_t)request->arg_count + 1, sizeof(char *));
        for (int i = 0; i < request->arg_count; i++)
            process->args[i] = xstrdup(request->args[i]);
    }
    if (request->cwd) {
        if (request->cwd[0] != '/') {
            snprintf(error, error_size, "--cwd %s: must be an absolute path", request->cwd);
            return -1;
        }
        free(process->cwd);
        process->cwd = xstrdup(request->cwd);
    }
    if (request->user) {
        char copy[64];
        snprintf(copy, sizeof(copy), "%s", request->user);
        char *colon = strchr(copy, ':');
        if (colon)
            *colon = '\0';
        if (parse_id_number(copy, &process->uid) < 0 || (colon && parse_id_number(colon + 1, &process->gid) < 0)) {
            snprintf(error, error_size, "--user %s: must be UID[:GID] in numbers", request->user);
            return -1;
        }
    }
    if (request->additional_gids) {
        free(process->additional_gids);
        process->additional_gids = xcalloc(SENTRY_EXEC_GROUPS_MAXIMUM, sizeof(uint32_t));
        process->additional_gid_count = 0;
        char copy[1024];
        snprintf(copy, sizeof(copy), "%s", request->additional_gids);
        char *saved = NULL;
        for (char *gid = strtok_r(copy, ",", &saved); gid; gid = strtok_r(NULL, ",", &saved)) {
            if (process->additional_gid_count == SENTRY_EXEC_GROUPS_MAXIMUM ||
                parse_id_number(gid, &process->additional_gids[process->additional_gid_count]) < 0) {
                snprintf(error, error_size, "--additional-gids %s: at most %u numbers separated by commas",
                         request->additional_gids, SENTRY_EXEC_GROUPS_MAXIMUM);
                return -1;
            }
            process->additional_gid_count++;
        }
    }
    /* --env NAME=VALUE replaces the container's NAME, or adds it. */
    size_t count = 0;
    while (process->env[count])
        count++;
    char **env = xcalloc(count + request->env_count + 1, sizeof(char *));
    memcpy(env, process->env, count * sizeof(char *));
    free(process->env);
    for (size_t i = 0; i < request->env_count; i++) {
        size_t name_length = (size_t)(strchr(request->env[i], '=') - request->env[i]) + 1;
        size_t at = 0;
        while (at < count && strncmp(env[at], request->env[i], name_length) != 0)
            at++;
        if (at == count)
            count++;
        else
            free(env[at]);
        env[at] = xstrdup(request->env[i]);
    }
    process->env = env;
    process->terminal = request->tty;
    process->no_new_privileges = process->no_new_privileges || request->no_new_privileges;
    return 0;
}

/* ---- talking to the Sentry ---- */

static void append_string(struct text_buffer *buffer, const char *text)
{
    text_buffer_append_bytes(buffer, text, strlen(text) + 1);
}

/* Sends the request with stdio[3]. 0, or -1 with a message. */
static int send_request(int fd, const struct oci_process *process, const int stdio[3], char *error, size_t error_size)
{
    struct text_buffer strings = {0};
    append_string(&strings, process->cwd ? process->cwd : "/");
    size_t argument_count = 0, environment_count = 0;
    for (; process->args[argument_count]; argument_count++)
        append_string(&strings, process->args[argument_count]);
    for (; process->env[environment_count]; environment_count++)
        append_string(&strings, process->env[environment_count]);
    struct sentry_exec_request header = {
        .magic = SENTRY_EXEC_MAGIC,
        .version = SENTRY_EXEC_VERSION,
        .flags = (process->no_new_privileges ? SENTRY_EXEC_NO_NEW_PRIVILEGES : 0u) |
                 (process->has_umask ? SENTRY_EXEC_HAS_UMASK : 0u),
        .uid = process->uid,
        .gid = process->gid,
        .umask = process->umask,
        .group_count = (uint32_t)process->additional_gid_count,
        .argument_count = (uint32_t)argument_count,
        .environment_count = (uint32_t)environment_count,
        .strings_length = (uint32_t)strings.length,
    };
    size_t groups_length = process->additional_gid_count * sizeof(uint32_t);
    size_t total = sizeof(header) + groups_length + strings.length;
    if (argument_count + environment_count > SENTRY_EXEC_STRINGS_MAXIMUM || total > SENTRY_EXEC_MESSAGE_MAXIMUM ||
        process->additional_gid_count > SENTRY_EXEC_GROUPS_MAXIMUM) {
        snprintf(error, error_size, "the process's arguments and environment are too large (%zu bytes, %zu strings; "
                 "at most %u bytes and %u strings)", total, argument_count + environment_count,
                 SENTRY_EXEC_MESSAGE_MAXIMUM, SENTRY_EXEC_STRINGS_MAXIMUM);
        text_buffer_free(&strings);
        return -1;
    }
    struct iovec parts[3] = {{.iov_base = &header, .iov_len = sizeof(header)},
                             {.iov_base = process->additional_gids, .iov_len = groups_length},
                             {.iov_base = strings.data, .iov_len = strings.length}};
    union {
        struct cmsghdr align;
        char buffer[CMSG_SPACE(3 * sizeof(int))];
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr message = {.msg_iov = parts, .msg_iovlen = 3, .msg_control = control.buffer,
                             .msg_controllen = sizeof(control.buffer)};
    struct cmsghdr *rights = CMSG_FIRSTHDR(&message);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(3 * sizeof(int));
    memcpy(CMSG_DATA(rights), stdio, 3 * sizeof(int));
    ssize_t sent = sendmsg(fd, &message, MSG_NOSIGNAL);
    int saved_errno = errno;
    text_buffer_free(&strings);
    if (sent < 0) {
        snprintf(error, error_size, "cannot send the process to the sandbox: %s", strerror(saved_errno));
        return -1;
    }
    return 0;
}

/* One message from the Sentry: 1, 0 at EOF (the sandbox is gone), -1 on a malformed one. */
static int read_message(int fd, struct sentry_exec_message *message)
{
    ssize_t got;
    while ((got = recv(fd, message, sizeof(*message), 0)) < 0 && errno == EINTR)
        ;
    if (got == 0 || (got < 0 && errno == ECONNRESET))
        return 0;
    return got == (ssize_t)sizeof(*message) ? 1 : -1;
}

/* The exit status of the exec'd process, as runc exec reports it: its code, or 128+signal. */
static int exit_code(int wait_status)
{
    if (WIFSIGNALED(wait_status))
        return 128 + WTERMSIG(wait_status);
    return WEXITSTATUS(wait_status);
}

/* Until the process exits: signals this process gets go to it. Returns its exit status; a sandbox that
 * ends first took the process with it, as SIGKILL (137). */
static int wait_for_exit(int fd)
{
    static const int relayed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < ARRAY_SIZE(relayed); i++)
        sigaddset(&set, relayed[i]);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    for (;;) {
        struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = signal_fd, .events = POLLIN}};
        if (poll(fds, signal_fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 125;
        }
        if (signal_fd >= 0 && (fds[1].revents & POLLIN)) {
            struct signalfd_siginfo info;
            while (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
                struct sentry_exec_message message = {.kind = SENTRY_EXEC_SIGNAL, .value = (int32_t)info.ssi_signo};
                send(fd, &message, sizeof(message), MSG_NOSIGNAL);
            }
        }
        if (fds[0].revents) {
            struct sentry_exec_message message;
            int got = read_message(fd, &message);
            if (got == 0)
                return 128 + SIGKILL;
            if (got < 0 || message.kind != SENTRY_EXEC_EXITED)
                return 125;
            return exit_code(message.value);
        }
    }
}

/* runc's words for the failures engines recognise: podman turns "executable file not found in $PATH" and
 * "no such file or directory" into 127, and "permission denied" into 126. */
static void report_start_failure(const struct runsc_options *options, const char *program, int error_number)
{
    if (error_number == ENOENT && !strchr(program, '/'))
        runsc_error(options, "exec failed: unable to start container process: exec: \"%s\": executable file not "
                             "found in $PATH", program);
    else if (error_number == ENOENT)
        runsc_error(options, "exec failed: unable to start container process: exec: \"%s\": stat %s: no such file "
                             "or directory", program, program);
    else if (error_number == EACCES)
        runsc_error(options, "exec failed: unable to start container process: exec: \"%s\": permission denied",
                    program);
    else
        runsc_error(options, "exec failed: unable to start container process: exec: \"%s\": %s", program,
                    strerror(error_number));
}

static int run_exec(const struct runsc_options *options, const struct exec_request *request,
                    const struct container_state *state, const char *directory, struct oci_process *process)
{
    char error[ERROR_SIZE];
    int stdio[3] = {0, 1, 2};
    int terminal = -1;
    if (process->terminal && request->console_socket) {
        terminal = runsc_open_console(request->console_socket, error, sizeof(error));
        if (terminal < 0) {
            runsc_error(options, "exec: %s", error);
            return 1;
        }
        stdio[0] = stdio[1] = stdio[2] = terminal;
    } else if (request->console_socket) {
        runsc_error(options, "exec: --console-socket was given without --tty (or process.terminal)");
        return 1;
    }
    int fd = runsc_exec_socket(directory, false);
    if (fd < 0) {
        runsc_error(options, "exec: cannot reach the sandbox of container %s: %s", state->id, strerror(errno));
        if (terminal >= 0)
            close(terminal);
        return 1;
    }
    int result = send_request(fd, process, stdio, error, sizeof(error));
    if (terminal >= 0)
        close(terminal);
    if (result < 0) {
        runsc_error(options, "exec: %s", error);
        close(fd);
        return 1;
    }
    struct sentry_exec_message message;
    int got = read_message(fd, &message);
    if (got <= 0 || (message.kind != SENTRY_EXEC_STARTED && message.kind != SENTRY_EXEC_FAILED)) {
        runsc_error(options, "exec: the sandbox of container %s %s", state->id,
                    got == 0 ? "ended before the process started" : "answered nonsense");
        close(fd);
        return 1;
    }
    if (message.kind == SENTRY_EXEC_FAILED) {
        report_start_failure(options, process->args[0], message.value);
        close(fd);
        return message.value == ENOENT ? 127 : message.value == EACCES ? 126 : 1;
    }
    if (!request->detach) {
        if (request->pid_file && (result = runsc_write_pid_file(request->pid_file, getpid())) < 0) {
            runsc_error(options, "exec: --pid-file %s: %s", request->pid_file, strerror(-result));
            close(fd);  /* the process goes with the connection */
            return 1;
        }
        int code = wait_for_exit(fd);
        close(fd);
        return code;
    }
    /* --detach: a child of ours holds the connection and ends with the process's status; it is the pid
     * engines watch, re-parented to them (their subreaper) when we exit. */
    fflush(NULL);
    pid_t holder = fork();
    if (holder < 0) {
        runsc_error(options, "exec: fork: %s", strerror(errno));
        close(fd);
        return 1;
    }
    if (holder == 0) {
        /* Nobody reads our stdio; the engine sees its pipes close when the process's copies do. */
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            for (int i = 0; i < 3; i++)
                dup2(null, i);
            close(null);
        }
        int keep[] = {fd, log_file_descriptor()};
        runsc_close_inherited_fds(keep, ARRAY_SIZE(keep));
        setsid();
        _exit(wait_for_exit(fd));
    }
    close(fd);
    if (request->pid_file && (result = runsc_write_pid_file(request->pid_file, holder)) < 0) {
        runsc_error(options, "exec: --pid-file %s: %s", request->pid_file, strerror(-result));
        kill(holder, SIGKILL);
        return 1;
    }
    return 0;
}

int runsc_signal_sandbox(const char *directory, int signal, bool all)
{
    int fd = runsc_exec_socket(directory, false);
    if (fd < 0)
        return -errno;
    struct sentry_exec_message message = {.kind = all ? SENTRY_CONTROL_KILL_ALL : SENTRY_CONTROL_KILL,
                                          .value = signal};
    int result = 0;
    if (send(fd, &message, sizeof(message), MSG_NOSIGNAL) != (ssize_t)sizeof(message))
        result = -errno;
    else if (read_message(fd, &message) != 1 || message.kind != SENTRY_CONTROL_DONE)
        result = -ECONNRESET;
    else
        result = -message.value;
    close(fd);
    return result;
}

int runsc_exec(const struct runsc_options *options, int argc, char **argv)
{
    struct exec_request request;
    memset(&request, 0, sizeof(request));
    if (parse_exec_flags(options, argc, argv, &request) < 0)
        return 1;
    char error[ERROR_SIZE];
    struct container_state state;
    if (state_load(runsc_state_root(options), request.id, &state, error, sizeof(error)) < 0) {
        runsc_error(options, "%s", error);
        return 1;
    }
    enum container_status status = state_status(&state);
    if (status != CONTAINER_RUNNING) {
        /* Before start the Sentry does not serve exec yet: runc's created state allows it, this runtime not. */
        runsc_error(options, "cannot exec in container %s: it is %s, not running", request.id,
                    state_status_name(status));
        state_free(&state);
        return 1;
    }
    struct oci_config config;
    int loaded = request.process_file
                     ? load_process_file(request.process_file, state.bundle ? state.bundle : "/", &config, error,
                                         sizeof(error))
                     : oci_config_load(state.bundle ? state.bundle : ".", &config, error, sizeof(error));
    int code = 1;
    if (loaded < 0) {
        runsc_error(options, "exec: %s", error);
    } else if (!request.process_file && apply_flags(&request, &config.process, error, sizeof(error)) < 0) {
        runsc_error(options, "exec: %s", error);
        oci_config_free(&config);
    } else {
        if (request.process_file && request.tty)
            config.process.terminal = true;
        char *directory = state_directory(runsc_state_root(options), request.id);
        code = run_exec(options, &request, &state, directory, &config.process);
        free(directory);
        oci_config_free(&config);
    }
    state_free(&state);
    return code;
}
