/* sentry/control.c: `exec`: the connections the supervisor passes in over the control socket, each one's
 * request (hostile input, checked field by field), the process it starts, and its exit status sent back. */
#include "sentry/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct control_connection {
    int fd;                      /* -1: the slot is free */
    bool started;                /* the request was served: only SIGNAL messages may follow */
    struct thread_group *group;  /* the process while it lives */
};

static int control_fd = -1;
static struct control_connection connections[CONTROL_CONNECTIONS_MAXIMUM];

void control_initialize(int fd)
{
    control_fd = fd;
    for (size_t i = 0; i < ARRAY_SIZE(connections); i++)
        connections[i] = (struct control_connection){.fd = -1};
}

size_t control_poll_fds(struct pollfd *fds, size_t maximum)
{
    if (control_fd < 0 || maximum == 0)
        return 0;
    size_t count = 0;
    fds[count++] = (struct pollfd){.fd = control_fd, .events = POLLIN};
    for (size_t i = 0; i < ARRAY_SIZE(connections) && count < maximum; i++)
        if (connections[i].fd >= 0)
            fds[count++] = (struct pollfd){.fd = connections[i].fd, .events = POLLIN};
    return count;
}

/* Best effort: a client that went away just does not hear it (and never raises SIGPIPE here). */
static void send_message(int fd, uint32_t kind, int32_t value)
{
    struct sentry_exec_message message = {.kind = kind, .value = value};
    struct iovec data = {.iov_base = &message, .iov_len = sizeof(message)};
    struct msghdr header = {.msg_iov = &data, .msg_iovlen = 1};
    if (sendmsg(fd, &header, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        log_info("exec: cannot answer on connection %d: %s", fd, strerror(errno));
}

static void close_connection(struct control_connection *connection)
{
    close(connection->fd);
    connection->fd = -1;
    connection->started = false;
    if (connection->group) {
        /* The client is gone (killed, or its engine gave up): its process goes with it. */
        struct thread_group *group = connection->group;
        connection->group = NULL;
        if (!group->exiting && !group->zombie) {
            siginfo_t info = {.si_signo = SIGKILL, .si_code = SI_KERNEL};
            signal_send_to_group(group, &info);
        }
    }
}

static void exec_process_exited(struct thread_group *group)
{
    for (size_t i = 0; i < ARRAY_SIZE(connections); i++) {
        if (connections[i].group == group) {
            connections[i].group = NULL;
            send_message(connections[i].fd, SENTRY_EXEC_EXITED, group->wait_status);
            close_connection(&connections[i]);
        }
    }
    /* Its parent is outside the sandbox (as a setns'd process's is): nobody in here reaps it. */
    group->exit_observer = NULL;
    loop_defer_release(group);
}

/* ---- a new connection from the supervisor ---- */

static void close_received_fds(struct msghdr *message)
{
    for (struct cmsghdr *header = CMSG_FIRSTHDR(message); header; header = CMSG_NXTHDR(message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
            close(fd);
        }
    }
}

/* Takes every fd of the message's SCM_RIGHTS into fds (at most maximum; the rest are closed). Returns how
 * many there were in all, or -1 if the message carried anything else. */
static int take_received_fds(struct msghdr *message, int *fds, int maximum)
{
    int total = 0;
    bool foreign = false;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(message); header; header = CMSG_NXTHDR(message, header)) {
        if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
            foreign = true;
            continue;
        }
        size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
            if (total < maximum)
                fds[total] = fd;
            else
                close(fd);
            total++;
        }
    }
    if (foreign) {
        for (int i = 0; i < MIN(total, maximum); i++)
            close(fds[i]);
        return -1;
    }
    return total;
}

static void accept_connection(void)
{
    char byte;
    struct iovec data = {.iov_base = &byte, .iov_len = 1};
    union {
        struct cmsghdr align;
        char buffer[CMSG_SPACE(4 * sizeof(int))];
    } control;
    struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control.buffer,
                             .msg_controllen = sizeof(control.buffer)};
    ssize_t got = recvmsg(control_fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (got < 0) {
        if (errno != EAGAIN && errno != EINTR) {
            log_warning("exec: the control socket failed (%s); exec is off from now on", strerror(errno));
            close(control_fd);
            control_fd = -1;
        }
        return;
    }
    if (got == 0 && message.msg_controllen == 0) {
        log_info("exec: the supervisor closed the control socket");
        close(control_fd);
        control_fd = -1;
        return;
    }
    int fd = -1;
    int count = take_received_fds(&message, &fd, 1);
    if (count != 1 || (message.msg_flags & MSG_CTRUNC)) {
        log_warning("exec: a control message without exactly one connection; ignored");
        if (count == 1)
            close(fd);
        return;
    }
    struct stat status;
    if (fstat(fd, &status) < 0 || !S_ISSOCK(status.st_mode)) {
        log_warning("exec: the control message did not carry a socket; ignored");
        close(fd);
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(connections); i++) {
        if (connections[i].fd < 0) {
            connections[i] = (struct control_connection){.fd = fd};
            return;
        }
    }
    log_warning("exec: %d processes are already being exec'd; refused", CONTROL_CONNECTIONS_MAXIMUM);
    send_message(fd, SENTRY_EXEC_FAILED, EAGAIN);
    close(fd);
}

/* ---- the request ---- */

int control_parse_request(const char *buffer, size_t length, struct control_request *request)
{
    memset(request, 0, sizeof(*request));
    if (length < sizeof(request->header) || length > SENTRY_EXEC_MESSAGE_MAXIMUM)
        return length > SENTRY_EXEC_MESSAGE_MAXIMUM ? -E2BIG : -EINVAL;
    memcpy(&request->header, buffer, sizeof(request->header));
    const struct sentry_exec_request *header = &request->header;
    if (header->magic != SENTRY_EXEC_MAGIC || header->version != SENTRY_EXEC_VERSION)
        return -EINVAL;
    if (header->flags & ~(uint32_t)(SENTRY_EXEC_NO_NEW_PRIVILEGES | SENTRY_EXEC_HAS_UMASK))
        return -EINVAL;
    if ((header->flags & SENTRY_EXEC_HAS_UMASK) && header->umask > 0777)
        return -EINVAL;
    if (header->group_count > SENTRY_EXEC_GROUPS_MAXIMUM || header->argument_count == 0 ||
        header->argument_count > SENTRY_EXEC_STRINGS_MAXIMUM ||
        header->environment_count > SENTRY_EXEC_STRINGS_MAXIMUM - header->argument_count)
        return -E2BIG;
    /* Every count is bounded above and length is at most the message maximum: no sum here overflows. */
    size_t groups_length = (size_t)header->group_count * sizeof(uint32_t);
    if ((size_t)header->strings_length + groups_length + sizeof(*header) != length)
        return -EINVAL;
    memcpy(request->groups, buffer + sizeof(*header), groups_length);
    const char *strings = buffer + sizeof(*header) + groups_length;
    size_t strings_length = header->strings_length;
    /* cwd, the arguments, the environment: exactly that many NUL-terminated strings, filling the rest. */
    size_t expected = 1 + (size_t)header->argument_count + header->environment_count;
    const char **pointers = xcalloc(expected, sizeof(char *));
    size_t found = 0, offset = 0;
    while (offset < strings_length && found < expected) {
        const char *end = memchr(strings + offset, '\0', strings_length - offset);
        if (!end)
            break;
        pointers[found++] = strings + offset;
        offset = (size_t)(end - strings) + 1;
    }
    bool valid = found == expected && offset == strings_length && pointers[0][0] == '/' &&
                 strlen(pointers[0]) < PATH_MAX && pointers[1][0] != '\0' && strlen(pointers[1]) < PATH_MAX;
    if (!valid) {
        free(pointers);
        return -EINVAL;
    }
    request->cwd = xstrdup(pointers[0]);
    request->argv = xcalloc(header->argument_count + 1, sizeof(char *));
    request->envp = xcalloc(header->environment_count + 1, sizeof(char *));
    for (size_t i = 0; i < header->argument_count; i++)
        request->argv[i] = xstrdup(pointers[1 + i]);
    for (size_t i = 0; i < header->environment_count; i++)
        request->envp[i] = xstrdup(pointers[1 + header->argument_count + i]);
    free(pointers);
    return 0;
}

void control_request_free(struct control_request *request)
{
    string_array_free(request->argv);
    string_array_free(request->envp);
    free(request->cwd);
    memset(request, 0, sizeof(*request));
}

/* The new process: its own thread group, session and process group in the sandbox's pid namespace, with no
 * parent inside it (getppid() is 0, as for a process runc exec joins to the namespace), the container's
 * root, init's resource limits, and the three fds as its 0, 1, 2. Returns its pid or -errno. */
static int32_t start_process(const struct control_request *request, const int stdio[3], struct thread_group **out)
{
    struct thread_group *init = thread_group_by_tgid(1);
    struct task *init_task = init && !init->exiting && !init->zombie ? thread_group_leader(init) : NULL;
    if (!init_task || !init_task->fs)
        return -ESRCH;
    int32_t pid = pid_allocate();
    if (pid < 0)
        return pid;
    struct thread_group *group = thread_group_new(NULL, NULL);
    group->tgid = pid;
    group->process_group = group->session = pid;
    group->handlers = signal_handlers_new();
    group->exit_signal = 0;
    memcpy(group->limits, init->limits, sizeof(group->limits));
    struct task *task = task_new(group, NULL);
    task->tid = pid;
    task->alternate_stack.ss_flags = SS_DISABLE;
    struct credentials *credentials = &task->credentials;
    credentials->uid = credentials->euid = credentials->suid = credentials->fsuid = request->header.uid;
    credentials->gid = credentials->egid = credentials->sgid = credentials->fsgid = request->header.gid;
    for (size_t i = 0; i < request->header.group_count; i++)
        credentials->groups[credentials->group_count++] = request->groups[i];
    task->no_new_privileges = (request->header.flags & SENTRY_EXEC_NO_NEW_PRIVILEGES) != 0;
    task->fs = xcalloc(1, sizeof(*task->fs));
    task->fs->references = 1;
    task->fs->root = init_task->fs->root;
    vfs_path_get(&task->fs->root);
    task->fs->cwd = init_task->fs->root;
    vfs_path_get(&task->fs->cwd);
    task->fs->umask = (request->header.flags & SENTRY_EXEC_HAS_UMASK) ? request->header.umask : 022;
    task->fds = vfs_fd_table_new();
    long error = 0;
    for (int fd = 0; fd < 3 && error == 0; fd++) {
        int access = fcntl(stdio[fd], F_GETFL);
        struct vfs_file *file = access < 0 ? NULL : vfs_file_from_host_fd(stdio[fd], access & O_ACCMODE);
        if (!file) {
            error = -EBADF;
            break;
        }
        vfs_fd_install_at(task->fds, fd, file, false, RLIM_INFINITY);
        vfs_file_put(file);
    }
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    if (error == 0 && strcmp(request->cwd, "/") != 0) {
        struct vfs_path cwd;
        error = vfs_resolve_directory(&ctx, NULL, request->cwd, &cwd);
        if (error == 0)
            task_set_cwd(task, &cwd);
    }
    if (error == 0) {
        task_vfs_context(task, &ctx);
        char *path = sentry_resolve_command(&ctx, request->argv[0], request->envp);
        error = process_execve(task, path, request->argv, request->envp);
        free(path);
        if (error == -SENTRY_EJUSTRETURN)
            error = group->exiting ? -EIO : 0;  /* exiting: the new image could not be entered */
    }
    if (error < 0) {
        thread_group_exit(group, SIGKILL);
        loop_defer_release(group);
        return (int32_t)error;
    }
    group->exit_observer = exec_process_exited;
    task->state = TASK_STATE_STOPPED;
    loop_make_runnable(task);
    *out = group;
    return pid;
}

/* A signal from outside the sandbox, as from the parent pid namespace: init takes it only if it has a
 * handler (pid_namespaces(7)), and the CLI sends SIGKILL to the Sentry itself. 0 or -errno. */
static int deliver_kill(const struct sentry_exec_message *request)
{
    if ((request->kind != SENTRY_CONTROL_KILL && request->kind != SENTRY_CONTROL_KILL_ALL) || request->value < 1 ||
        request->value > 64)
        return -EINVAL;
    siginfo_t info = {.si_signo = request->value, .si_code = SI_USER};
    if (request->kind == SENTRY_CONTROL_KILL) {
        struct thread_group *init = thread_group_by_tgid(1);
        if (!init || init->zombie || init->exiting)
            return -ESRCH;
        return signal_send_to_group(init, &info);
    }
    /* A snapshot first: a signal may end a group and change the list. */
    const size_t maximum = 65536;
    int32_t *pids = xcalloc(maximum, sizeof(*pids));
    size_t count = task_list_groups(pids, maximum);
    for (size_t i = 0; i < count; i++) {
        struct thread_group *group = thread_group_by_tgid(pids[i]);
        if (group && !group->zombie && !group->exiting)
            signal_send_to_group(group, &info);
    }
    free(pids);
    return count ? 0 : -ESRCH;
}

static void serve_request(struct control_connection *connection)
{
    char *buffer = xcalloc(1, SENTRY_EXEC_MESSAGE_MAXIMUM + 1);
    struct iovec data = {.iov_base = buffer, .iov_len = SENTRY_EXEC_MESSAGE_MAXIMUM + 1};
    union {
        struct cmsghdr align;
        char buffer[CMSG_SPACE(4 * sizeof(int))];
    } control;
    struct msghdr message = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control.buffer,
                             .msg_controllen = sizeof(control.buffer)};
    ssize_t got = recvmsg(connection->fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
        free(buffer);
        return;
    }
    if (got <= 0) {
        if (got == 0)
            close_received_fds(&message);
        free(buffer);
        close_connection(connection);
        return;
    }
    int stdio[3] = {-1, -1, -1};
    int count = take_received_fds(&message, stdio, 3);
    if (got == (ssize_t)sizeof(struct sentry_exec_message) && count == 0 && !(message.msg_flags & MSG_CTRUNC)) {
        struct sentry_exec_message kill_request;
        memcpy(&kill_request, buffer, sizeof(kill_request));
        free(buffer);
        int result = deliver_kill(&kill_request);
        send_message(connection->fd, SENTRY_CONTROL_DONE, result < 0 ? -result : 0);
        close_connection(connection);
        return;
    }
    if (count < 0)
        stdio[0] = stdio[1] = stdio[2] = -1;  /* already closed */
    struct control_request request;
    memset(&request, 0, sizeof(request));
    int error = 0;
    if (count != 3 || (message.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) || (size_t)got > SENTRY_EXEC_MESSAGE_MAXIMUM)
        error = (message.msg_flags & MSG_TRUNC) ? -E2BIG : -EINVAL;
    if (error == 0)
        error = control_parse_request(buffer, (size_t)got, &request);
    free(buffer);
    int32_t pid = error;
    if (error == 0) {
        struct thread_group *group = NULL;
        pid = start_process(&request, stdio, &group);
        if (pid > 0) {
            connection->group = group;
            log_info("exec: started %s as pid %d", request.argv[0], (int)pid);
        } else {
            log_info("exec: cannot start %s: %s", request.argv[0], strerror(-pid));
        }
        control_request_free(&request);
    } else {
        log_warning("exec: a malformed request (%s); refused", strerror(-error));
    }
    /* The process's files hold their own duplicates. */
    for (int i = 0; i < 3; i++)
        if (stdio[i] >= 0)
            close(stdio[i]);
    connection->started = true;
    if (pid > 0) {
        send_message(connection->fd, SENTRY_EXEC_STARTED, pid);
    } else {
        send_message(connection->fd, SENTRY_EXEC_FAILED, -pid);
        close_connection(connection);
    }
}

/* After the request: SIGNAL messages for the process, or the client hanging up. */
static void serve_signal(struct control_connection *connection)
{
    struct sentry_exec_message message;
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec data = {.iov_base = &message, .iov_len = sizeof(message)};
    struct msghdr header = {.msg_iov = &data, .msg_iovlen = 1, .msg_control = control,
                            .msg_controllen = sizeof(control)};
    ssize_t got = recvmsg(connection->fd, &header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    close_received_fds(&header);
    if (got <= 0) {
        close_connection(connection);
        return;
    }
    if (got != (ssize_t)sizeof(message) || message.kind != SENTRY_EXEC_SIGNAL || message.value < 1 ||
        message.value > 64 || (header.msg_flags & MSG_TRUNC)) {
        log_warning("exec: a malformed message after the request; the connection is closed");
        close_connection(connection);
        return;
    }
    if (connection->group && !connection->group->exiting && !connection->group->zombie) {
        siginfo_t info = {.si_signo = message.value, .si_code = SI_USER};
        signal_send_to_group(connection->group, &info);
    }
}

void control_handle_events(const struct pollfd *fds, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (!fds[i].revents)
            continue;
        if (fds[i].fd == control_fd) {
            accept_connection();
            continue;
        }
        for (size_t j = 0; j < ARRAY_SIZE(connections); j++) {
            if (connections[j].fd != fds[i].fd)
                continue;
            if (connections[j].started)
                serve_signal(&connections[j]);
            else
                serve_request(&connections[j]);
            break;
        }
    }
}
