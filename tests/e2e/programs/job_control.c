/* tests/e2e/programs/job_control.c: stop and continue: SIGSTOP stops a child (wait's WUNTRACED and waitid's
 * WSTOPPED report it once, WNOWAIT leaves it, /proc shows T), SIGCONT resumes it (WCONTINUED), the parent's
 * SIGCHLD carries CLD_STOPPED/CLD_CONTINUED (none with SA_NOCLDSTOP), a stopped child's output pauses,
 * SIGKILL ends a stopped child, and a zombie takes signals until reaped. Prints what it sees, the same
 * natively and sandboxed. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static sigset_t child_signal;

/* The next SIGCHLD's si_code, or 0 if none comes within a second. */
static int next_child_signal(void)
{
    siginfo_t info;
    struct timespec second = {1, 0};
    return sigtimedwait(&child_signal, &info, &second) == SIGCHLD ? info.si_code : 0;
}

static char process_state(pid_t pid)
{
    char path[64], line[512] = "";
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (file) {
        if (!fgets(line, sizeof(line), file))
            line[0] = '\0';
        fclose(file);
    }
    char *end = strrchr(line, ')');
    return end ? end[2] : '?';
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    sigemptyset(&child_signal);
    sigaddset(&child_signal, SIGCHLD);
    sigprocmask(SIG_BLOCK, &child_signal, NULL);

    int pipe_fds[2];
    pipe(pipe_fds);
    pid_t child = fork();
    if (child == 0) {
        close(pipe_fds[0]);
        for (int i = 0; i < 20; i++) {
            write(pipe_fds[1], "x", 1);
            usleep(10000);
        }
        _exit(7);
    }
    close(pipe_fds[1]);
    char byte;
    read(pipe_fds[0], &byte, 1);

    kill(child, SIGSTOP);
    int status;
    pid_t got = waitpid(child, &status, WUNTRACED);
    printf("WUNTRACED: %d stopped %d by %d\n", got == child, WIFSTOPPED(status), WSTOPSIG(status));
    printf("SIGCHLD code %d (CLD_STOPPED %d)\n", next_child_signal(), CLD_STOPPED);
    printf("reported once: %d\n", (int)waitpid(child, &status, WNOHANG | WUNTRACED));
    printf("/proc state: %c\n", process_state(child));

    kill(child, SIGCONT);
    got = waitpid(child, &status, WCONTINUED);
    printf("WCONTINUED: %d continued %d\n", got == child, WIFCONTINUED(status));
    printf("SIGCHLD code %d (CLD_CONTINUED %d)\n", next_child_signal(), CLD_CONTINUED);

    kill(child, SIGSTOP);
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    waitid(P_PID, child, &info, WSTOPPED | WNOWAIT);
    printf("waitid WNOWAIT: code %d status %d\n", info.si_code, info.si_status);
    memset(&info, 0, sizeof(info));
    waitid(P_PID, child, &info, WSTOPPED);
    printf("waitid: code %d status %d\n", info.si_code, info.si_status);
    memset(&info, 0, sizeof(info));
    printf("waitid WEXITED on a stopped child: %d pid %d\n", waitid(P_PID, child, &info, WEXITED | WNOHANG),
           info.si_pid);
    next_child_signal();

    /* the parent asks for no stop/continue signals: wait still reports them */
    struct sigaction quiet = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDSTOP};
    sigaction(SIGCHLD, &quiet, NULL);
    kill(child, SIGCONT);
    printf("WCONTINUED with SA_NOCLDSTOP: %d\n", waitpid(child, &status, WCONTINUED) == child);
    int total = 1;
    while (read(pipe_fds[0], &byte, 1) == 1)
        total++;
    waitpid(child, &status, 0);
    printf("exit %d after all %d bytes; SIGCHLD code %d (CLD_EXITED %d)\n", WEXITSTATUS(status), total,
           next_child_signal(), CLD_EXITED);

    child = fork();
    if (child == 0)
        for (;;)
            pause();
    kill(child, SIGSTOP);
    waitpid(child, &status, WUNTRACED);
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    printf("SIGKILL of a stopped child: signaled %d by %d\n", WIFSIGNALED(status), WTERMSIG(status));

    /* a zombie still takes signals (and drops them) until it is reaped */
    child = fork();
    if (child == 0)
        _exit(3);
    siginfo_t zombie;
    waitid(P_PID, child, &zombie, WEXITED | WNOWAIT); /* a zombie now, not reaped */
    printf("kill of a zombie: %d, signal 0: %d\n", kill(child, SIGTERM), kill(child, 0));
    waitpid(child, &status, 0);
    printf("its status %d; kill after reaping: %d\n", WEXITSTATUS(status), kill(child, 0));
    return 0;
}
