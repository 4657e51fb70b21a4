/* tests/e2e/programs/events.c: signalfd and inotify, success and error paths, printed deterministically (no pids,
 * times or inode numbers) so that the output natively and in the sandbox can be compared. Usage: events signalfd |
 * events inotify DIR | events after-exec FD CLOEXEC_FD (the second half of the signalfd exec case). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *error_name(int error)
{
    const char *name = strerrorname_np(error);
    return name ? name : "?";
}

/* "what: RESULT" or "what: -1 ENAME" */
static long show(const char *what, long result)
{
    if (result < 0)
        printf("%s: -1 %s\n", what, error_name(errno));
    else
        printf("%s: %ld\n", what, result);
    fflush(stdout);
    return result;
}

/* "what: ok" for any non-negative result (fds, whose numbers may differ) */
static long show_ok(const char *what, long result)
{
    if (result < 0)
        printf("%s: -1 %s\n", what, error_name(errno));
    else
        printf("%s: ok\n", what);
    fflush(stdout);
    return result;
}

/* ---------------------------------------------------------------- signalfd */

static void print_record(const char *what, const struct signalfd_siginfo *record, pid_t expected_pid)
{
    printf("%s: signo=%u code=%d errno=%d pid=%s uid=%u int=%d ptr=%llu status=%d\n", what, record->ssi_signo,
           record->ssi_code, record->ssi_errno, (pid_t)record->ssi_pid == expected_pid ? "expected" : "other",
           record->ssi_uid, record->ssi_int, (unsigned long long)record->ssi_ptr, record->ssi_status);
    fflush(stdout);
}

static int read_records(const char *what, int fd, size_t capacity, pid_t expected_pid)
{
    struct signalfd_siginfo records[8];
    ssize_t got = read(fd, records, capacity);
    if (got < 0) {
        printf("%s: -1 %s\n", what, error_name(errno));
        fflush(stdout);
        return -1;
    }
    printf("%s: %zd bytes, %zu records\n", what, got, (size_t)got / sizeof(records[0]));
    for (size_t i = 0; i < (size_t)got / sizeof(records[0]); i++)
        print_record("  record", &records[i], expected_pid);
    return (int)((size_t)got / sizeof(records[0]));
}

static void show_poll(const char *what, int fd)
{
    struct pollfd entry = {.fd = fd, .events = POLLIN | POLLOUT};
    int ready = poll(&entry, 1, 0);
    printf("%s: %d revents=%#x\n", what, ready, ready > 0 ? entry.revents : 0);
    fflush(stdout);
}

static int thread_signalfd;
static pthread_t main_thread;
static volatile int handler_runs;

static void *thread_body(void *argument)
{
    (void)argument;
    /* a signal sent to this thread only is pending for it, not for the main thread */
    show("thread: tgkill self SIGUSR2", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2));
    read_records("thread: read own SIGUSR2", thread_signalfd, sizeof(struct signalfd_siginfo), getpid());
    show("thread: tgkill self SIGUSR2 again", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2));
    return NULL;
}

static void on_alarm(int signal)
{
    (void)signal;
    handler_runs++;
}

static void set_timer_ms(int milliseconds)
{
    struct itimerval timer = {.it_value = {.tv_sec = 0, .tv_usec = milliseconds * 1000}};
    setitimer(ITIMER_REAL, &timer, NULL);
}

static int signalfd_tests(const char *self)
{
    sigset_t mask, empty;
    sigemptyset(&empty);
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    sigaddset(&mask, SIGRTMIN);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, NULL);

    /* argument errors, in Linux's order */
    show("signalfd4 sizemask 4", syscall(SYS_signalfd4, -1, &mask, 4, 0));
    show("signalfd4 sizemask 16", syscall(SYS_signalfd4, -1, &mask, 16, 0));
    show("signalfd4 NULL mask", syscall(SYS_signalfd4, -1, NULL, 8, 0));
    show("signalfd4 bad flags", syscall(SYS_signalfd4, -1, &mask, 8, 1));
    show("signalfd4 O_APPEND flag", syscall(SYS_signalfd4, -1, &mask, 8, O_APPEND));
    show("signalfd4 fd 9999", syscall(SYS_signalfd4, 9999, &mask, 8, 0));
    show("signalfd4 fd -2", syscall(SYS_signalfd4, -2, &mask, 8, 0));
    show("signalfd4 fd stdout (not a signalfd)", syscall(SYS_signalfd4, 1, &mask, 8, 0));
    show("signalfd sizemask 7", syscall(SYS_signalfd, -1, &mask, 7));

    int fd = (int)show_ok("signalfd4 NONBLOCK|CLOEXEC", signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
    show("  F_GETFD", fcntl(fd, F_GETFD));
    show("  F_GETFL", fcntl(fd, F_GETFL));
    char link[64] = "";
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t length = readlink(path, link, sizeof(link) - 1);
    printf("  link: %s\n", length > 0 ? link : "?");
    show("  read nothing pending", read(fd, (char[128]){0}, 128));
    show("  read buffer 127", read(fd, (char[128]){0}, 127));
    show("  write", write(fd, (char[128]){0}, 128));
    show("  lseek", lseek(fd, 0, SEEK_SET));
    int readable = -1;
    show("  FIONREAD", ioctl(fd, FIONREAD, &readable));
    show_poll("  poll nothing pending", fd);

    show("kill self SIGUSR1", kill(getpid(), SIGUSR1));
    show_poll("  poll SIGUSR1 pending", fd);
    show("  read buffer 127 with one pending", read(fd, (char[128]){0}, 127));
    read_records("  read", fd, 8 * sizeof(struct signalfd_siginfo), getpid());
    show_poll("  poll after read", fd);

    /* real-time signals queue every instance, with their values; a buffer takes as many whole records as fit */
    for (int i = 1; i <= 3; i++)
        sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = i * 10});
    kill(getpid(), SIGUSR2);
    kill(getpid(), SIGUSR2); /* standard signals coalesce */
    read_records("  read 2 of 4 (300 bytes)", fd, 300, getpid());
    read_records("  read the rest", fd, 8 * sizeof(struct signalfd_siginfo), getpid());

    /* updating the mask of an existing signalfd */
    sigset_t only_usr2;
    sigemptyset(&only_usr2);
    sigaddset(&only_usr2, SIGUSR2);
    sigaddset(&only_usr2, SIGKILL); /* dropped silently */
    kill(getpid(), SIGUSR1);
    printf("  update mask returns the fd: %s\n", signalfd(fd, &only_usr2, 0) == fd ? "yes" : "no");
    show("  F_GETFL after update (flags of an update are ignored)", fcntl(fd, F_GETFL));
    show_poll("  poll SIGUSR1 pending, not in mask", fd);
    show("  read", read(fd, (char[128]){0}, 128));
    int usr1_fd = (int)show_ok("second signalfd for SIGUSR1", signalfd(-1, &mask, SFD_NONBLOCK));
    read_records("  read SIGUSR1 there", usr1_fd, sizeof(struct signalfd_siginfo), getpid());
    signalfd(fd, &mask, 0);

    /* thread-directed signals: seen only by the thread they were sent to */
    thread_signalfd = fd;
    main_thread = pthread_self();
    pthread_t thread;
    pthread_create(&thread, NULL, thread_body, NULL);
    pthread_join(thread, NULL);
    /* the thread is gone with its pending SIGUSR2: the main thread never sees it */
    show("main: read after the thread's exit", read(fd, (char[128]){0}, 128));
    show("tgkill main SIGUSR2", syscall(SYS_tgkill, getpid(), getpid(), SIGUSR2));
    read_records("main: read", fd, sizeof(struct signalfd_siginfo), getpid());

    /* epoll and select */
    int epoll_fd = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = 77};
    show("epoll_ctl ADD signalfd", epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event));
    struct epoll_event got[2];
    show("  epoll_wait nothing pending", epoll_wait(epoll_fd, got, 2, 0));
    kill(getpid(), SIGRTMIN);
    int ready = epoll_wait(epoll_fd, got, 2, 1000);
    printf("  epoll_wait pending: %d events=%#x data=%u\n", ready, ready > 0 ? got[0].events : 0,
           ready > 0 ? got[0].data.u32 : 0);
    fd_set readers;
    FD_ZERO(&readers);
    FD_SET(fd, &readers);
    struct timeval zero = {0, 0};
    ready = select(fd + 1, &readers, NULL, NULL, &zero);
    printf("  select pending: %d isset=%d\n", ready, ready > 0 && FD_ISSET(fd, &readers));
    read_records("  read", fd, sizeof(struct signalfd_siginfo), getpid());
    FD_ZERO(&readers);
    FD_SET(fd, &readers);
    show("  select nothing pending", select(fd + 1, &readers, NULL, NULL, &zero));

    /* a blocking read waits for a signal another process sends */
    int blocking_fd = (int)show_ok("blocking signalfd", signalfd(-1, &mask, 0));
    pid_t child = fork();
    if (child == 0) {
        usleep(100 * 1000);
        kill(getppid(), SIGUSR1);
        _exit(7);
    }
    read_records("  blocking read woken by the child's kill", blocking_fd, sizeof(struct signalfd_siginfo), child);
    /* SIGCHLD through the signalfd: the child's exit status */
    struct signalfd_siginfo child_record;
    ssize_t child_got = read(blocking_fd, &child_record, sizeof(child_record));
    printf("  SIGCHLD: %zd signo=%u code=%d status=%d pid=%s\n", child_got, child_record.ssi_signo,
           child_record.ssi_code, child_record.ssi_status,
           (pid_t)child_record.ssi_pid == child ? "expected" : "other");
    int status;
    waitpid(child, &status, 0);

    /* interrupted: a handler without SA_RESTART gives EINTR; with SA_RESTART the read goes on */
    struct sigaction action = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &action, NULL);
    set_timer_ms(50);
    show("  blocking read interrupted (no SA_RESTART)", read(blocking_fd, (char[128]){0}, 128));
    printf("  handler ran: %d\n", handler_runs);
    fflush(stdout);
    action.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &action, NULL);
    child = fork();
    if (child == 0) {
        usleep(200 * 1000);
        kill(getppid(), SIGUSR2);
        _exit(0);
    }
    set_timer_ms(50);
    read_records("  blocking read restarted (SA_RESTART)", blocking_fd, sizeof(struct signalfd_siginfo), child);
    printf("  handler ran: %d\n", handler_runs);
    fflush(stdout);
    waitpid(child, &status, 0);
    while (read(fd, (char[128]){0}, 128) > 0) /* the SIGCHLD of that child */
        ;

    /* fork: the child shares the file but reads its own signals (a child starts with none pending) */
    kill(getpid(), SIGUSR1);
    child = fork();
    if (child == 0) {
        show("child: read (parent's SIGUSR1 is not the child's)", read(fd, (char[128]){0}, 128));
        kill(getpid(), SIGUSR2);
        read_records("child: read own SIGUSR2", fd, sizeof(struct signalfd_siginfo), getpid());
        _exit(0);
    }
    waitpid(child, &status, 0);
    read_records("parent: read own SIGUSR1 and the child's SIGCHLD", fd, 4 * sizeof(struct signalfd_siginfo),
                 getpid());

    /* exec: the signalfd survives (pending signals and the mask too); a close-on-exec one does not */
    kill(getpid(), SIGUSR2);
    int keep_fd = signalfd(-1, &mask, SFD_NONBLOCK);
    char keep[16], gone[16];
    snprintf(keep, sizeof(keep), "%d", keep_fd);
    snprintf(gone, sizeof(gone), "%d", fd);
    fflush(stdout);
    execl(self, self, "after-exec", keep, gone, (char *)NULL);
    printf("execl: %s\n", error_name(errno));
    return 1;
}

static int after_exec(int keep_fd, int gone_fd)
{
    show("after exec: F_GETFD of the close-on-exec signalfd", fcntl(gone_fd, F_GETFD));
    show("after exec: F_GETFD of the kept signalfd", fcntl(keep_fd, F_GETFD));
    read_records("after exec: read the SIGUSR2 pending across exec", keep_fd, 2 * sizeof(struct signalfd_siginfo),
                 getpid());
    return 0;
}

/* ---------------------------------------------------------------- inotify */

static int inotify_tests(const char *directory);

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "signalfd") == 0)
        return signalfd_tests(argv[0]);
    if (argc >= 4 && strcmp(argv[1], "after-exec") == 0)
        return after_exec(atoi(argv[2]), atoi(argv[3]));
    if (argc >= 3 && strcmp(argv[1], "inotify") == 0)
        return inotify_tests(argv[2]);
    fprintf(stderr, "usage: events signalfd | events inotify DIR\n");
    return 2;
}

static int inotify_tests(const char *directory)
{
    (void)directory;
    return 0;
}
