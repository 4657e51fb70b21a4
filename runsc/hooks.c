/* runsc/hooks.c: OCI hooks: a child per hook with the state JSON on its stdin (a socket, so that a hook
 * which never reads it cannot SIGPIPE us), waited for through a pidfd with the hook's timeout. */
#include "runsc/hooks.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"

static int run_one(const struct oci_hook *hook, const char *state_json, char *reason, size_t reason_size)
{
    int channel[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) < 0) {
        snprintf(reason, reason_size, "socketpair: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t child = fork();
    if (child < 0) {
        snprintf(reason, reason_size, "fork: %s", strerror(errno));
        close(channel[0]);
        close(channel[1]);
        return -1;
    }
    if (child == 0) {
        dup2(channel[1], STDIN_FILENO);
        char *default_args[] = {hook->path, NULL};
        char *no_environment[] = {NULL};
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(hook->path, hook->args ? hook->args : default_args, hook->env ? hook->env : no_environment);
        fprintf(stderr, "usandbox: cannot execute hook %s: %s\n", hook->path, strerror(errno));
        _exit(127);
    }
    close(channel[1]);
    size_t length = strlen(state_json);
    for (size_t sent = 0; sent < length;) {
        ssize_t count = send(channel[0], state_json + sent, length - sent, MSG_NOSIGNAL);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0)
            break; /* the hook closed its stdin: its business */
        sent += (size_t)count;
    }
    close(channel[0]);

    int pid_fd = pidfd_open(child, 0);
    if (pid_fd >= 0 && hook->timeout > 0) {
        struct pollfd exited = {.fd = pid_fd, .events = POLLIN};
        int ready;
        while ((ready = poll(&exited, 1, hook->timeout * 1000)) < 0 && errno == EINTR)
            ;
        if (ready == 0) {
            kill(child, SIGKILL);
            waitpid(child, NULL, 0);
            close(pid_fd);
            snprintf(reason, reason_size, "timed out after %d s", hook->timeout);
            return -1;
        }
    }
    if (pid_fd >= 0)
        close(pid_fd);
    int status;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(reason, reason_size, "waitpid: %s", strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        snprintf(reason, reason_size, "exited with status %d", WEXITSTATUS(status));
    else
        snprintf(reason, reason_size, "killed by signal %d", WTERMSIG(status));
    return -1;
}

int oci_hooks_run(const struct oci_hook_list *hooks, const char *stage, const char *state_json, char *error,
                  size_t error_size)
{
    for (size_t i = 0; i < hooks->count; i++) {
        char reason[256];
        if (run_one(&hooks->hooks[i], state_json, reason, sizeof(reason)) < 0) {
            snprintf(error, error_size, "hooks.%s[%zu] (%s): %s", stage, i, hooks->hooks[i].path, reason);
            return -1;
        }
    }
    return 0;
}
