/* tests/e2e/programs/events.c: signalfd and inotify, success and error paths, printed deterministically (no pids,
 * times or inode numbers) so that the output natively and in the sandbox can be compared. Usage: events signalfd |
 * events inotify DIR | events after-exec FD CLOEXEC_FD (the second half of the signalfd exec case). */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <time.h>
#include <unistd.h>

#include "show.h"

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

    /* a POSIX timer's signal: SI_TIMER with the timer's id, value and overrun */
    sigset_t timer_mask;
    sigemptyset(&timer_mask);
    sigaddset(&timer_mask, SIGRTMIN + 1);
    sigprocmask(SIG_BLOCK, &timer_mask, NULL);
    int timer_fd = signalfd(-1, &timer_mask, 0);
    struct sigevent notification = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN + 1,
                                    .sigev_value.sival_int = 42};
    timer_t timer;
    show("timer_create", timer_create(CLOCK_MONOTONIC, &notification, &timer));
    struct itimerspec in_20ms = {.it_value = {0, 20 * 1000 * 1000}};
    timer_settime(timer, 0, &in_20ms, NULL);
    struct signalfd_siginfo timer_record;
    ssize_t timer_got = read(timer_fd, &timer_record, sizeof(timer_record));
    printf("  timer record: %zd signo-is-rtmin+1=%d code=%d int=%d overrun=%u tid-matches=%d\n", timer_got,
           (int)timer_record.ssi_signo == SIGRTMIN + 1, timer_record.ssi_code, timer_record.ssi_int,
           timer_record.ssi_overrun, timer_record.ssi_tid == (uint32_t)(intptr_t)timer);
    fflush(stdout);
    timer_delete(timer);
    close(timer_fd);

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
    set_timer_ms(300);
    show("  blocking read interrupted (no SA_RESTART)", read(blocking_fd, (char[128]){0}, 128));
    printf("  handler ran: %d\n", handler_runs);
    fflush(stdout);
    action.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &action, NULL);
    child = fork();
    if (child == 0) {
        usleep(600 * 1000);
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

static const char *inotify_dir;

static const char *in_path(const char *name)
{
    static char paths[4][PATH_MAX];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, PATH_MAX, "%s/%s", inotify_dir, name);
    return path;
}

static void print_mask(uint32_t mask)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        {IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"}, {IN_CLOSE_WRITE, "CLOSE_WRITE"},
        {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"}, {IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"},
        {IN_MOVED_TO, "MOVED_TO"}, {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
        {IN_MOVE_SELF, "MOVE_SELF"}, {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"},
        {IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"},
    };
    const char *separator = "";
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (mask & names[i].bit) {
            printf("%s%s", separator, names[i].name);
            separator = "|";
            mask &= ~names[i].bit;
        }
    }
    if (mask)
        printf("%s%#x", separator, mask);
}

/* Reads everything queued (non-blocking file) and prints one line per event; cookies print as "c" when shared
 * by a MOVED_FROM/MOVED_TO pair, else their value (0). */
static int drain(const char *what, int fd)
{
    char buffer[65536] __attribute__((aligned(8)));
    int total = 0;
    uint32_t last_cookie = 0;
    printf("%s:\n", what);
    for (;;) {
        ssize_t got = read(fd, buffer, sizeof(buffer));
        if (got < 0) {
            if (errno != EAGAIN)
                printf("  read: -1 %s\n", error_name(errno));
            break;
        }
        for (char *at = buffer; at < buffer + got;) {
            struct inotify_event *event = (struct inotify_event *)at;
            printf("  wd=%d ", event->wd);
            print_mask(event->mask);
            if (event->cookie) {
                printf(" cookie=%s", event->cookie == last_cookie ? "same-as-previous" : "set");
                last_cookie = event->cookie;
            }
            if (event->len)
                printf(" name=%s len=%u", event->name, event->len);
            printf("\n");
            at += sizeof(*event) + event->len;
            total++;
        }
    }
    fflush(stdout);
    return total;
}

static void touch_file(const char *name)
{
    int fd = open(in_path(name), O_CREAT | O_WRONLY, 0644);
    if (fd >= 0)
        close(fd);
}

static int inotify_tests(const char *directory)
{
    inotify_dir = directory;
    if (show("mkdir the test directory", mkdir(directory, 0755)) < 0)
        return 1;

    /* errors, in Linux's order */
    show("inotify_init1 bad flags", inotify_init1(O_APPEND));
    show("inotify_init1 1", inotify_init1(1));
    int fd = (int)show_ok("inotify_init1 NONBLOCK|CLOEXEC", inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    show("  F_GETFD", fcntl(fd, F_GETFD));
    show("  F_GETFL", fcntl(fd, F_GETFL));
    char link_text[64] = "", path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t length = readlink(path, link_text, sizeof(link_text) - 1);
    printf("  link: %s\n", length > 0 ? link_text : "?");
    show("  read nothing queued", read(fd, (char[64]){0}, 64));
    show("  read 0 bytes nothing queued", read(fd, (char[64]){0}, 0));
    int queued = -1;
    show("  FIONREAD", ioctl(fd, FIONREAD, &queued));
    printf("  FIONREAD value: %d\n", queued);
    show("  lseek", lseek(fd, 0, SEEK_CUR));
    show("  write", write(fd, "x", 1));
    show("add_watch mask 0, bad fd", inotify_add_watch(9999, directory, 0));
    show("add_watch bad fd", inotify_add_watch(9999, directory, IN_OPEN));
    show("add_watch not inotify, NULL path", inotify_add_watch(1, NULL, IN_OPEN));
    show("add_watch MASK_ADD|MASK_CREATE", inotify_add_watch(fd, directory, IN_OPEN | IN_MASK_ADD | IN_MASK_CREATE));
    show("add_watch unknown bit 0x1000", inotify_add_watch(fd, directory, IN_OPEN | 0x1000));
    show("add_watch unknown bit 0x08000000", inotify_add_watch(fd, directory, IN_OPEN | 0x08000000));
    show("add_watch NULL path", inotify_add_watch(fd, NULL, IN_OPEN));
    show("add_watch empty path", inotify_add_watch(fd, "", IN_OPEN));
    show("add_watch missing path", inotify_add_watch(fd, in_path("missing"), IN_OPEN));
    touch_file("file");
    show("add_watch ONLYDIR on a file", inotify_add_watch(fd, in_path("file"), IN_OPEN | IN_ONLYDIR));
    show("add_watch path through a file", inotify_add_watch(fd, in_path("file/x"), IN_OPEN));
    show("rm_watch bad fd", inotify_rm_watch(9999, 1));
    show("rm_watch not inotify", inotify_rm_watch(1, 1));
    show("rm_watch unknown wd", inotify_rm_watch(fd, 12345));
    show("rm_watch wd -1", inotify_rm_watch(fd, -1));

    /* a directory watch: the directory's own events and its children's, with names */
    int dir_wd = (int)show("add_watch directory ALL_EVENTS", inotify_add_watch(fd, directory, IN_ALL_EVENTS));
    show("add_watch directory again (same wd)", inotify_add_watch(fd, directory, IN_ALL_EVENTS | IN_ONLYDIR));
    show("add_watch directory MASK_CREATE", inotify_add_watch(fd, directory, IN_OPEN | IN_MASK_CREATE));
    show("  FIONREAD", (ioctl(fd, FIONREAD, &queued), queued));
    int file_fd = open(in_path("a"), O_CREAT | O_WRONLY, 0644);
    write(file_fd, "hello", 5);
    write(file_fd, "hello", 5); /* merged with the previous MODIFY */
    close(file_fd);
    show("  FIONREAD after create/write/close", (ioctl(fd, FIONREAD, &queued), queued));
    show_poll("  poll", fd);
    drain("create, write twice, close", fd);
    show_poll("  poll after reading", fd);
    file_fd = open(in_path("a"), O_RDONLY);
    read(file_fd, (char[16]){0}, 16);
    read(file_fd, (char[16]){0}, 16); /* 0 bytes: no event */
    close(file_fd);
    drain("open, read, close", fd);
    chmod(in_path("a"), 0600);
    truncate(in_path("a"), 2);
    utimes(in_path("a"), NULL);
    chown(in_path("a"), -1, -1);
    file_fd = open(in_path("a"), O_WRONLY | O_TRUNC);
    close(file_fd);
    drain("chmod, truncate, utimes, chown -1 -1, open O_TRUNC", fd);
    mkdir(in_path("sub"), 0755);
    DIR *listing = opendir(directory);
    while (listing && readdir(listing))
        ;
    if (listing)
        closedir(listing);
    rmdir(in_path("sub"));
    symlink("a", in_path("symlink"));
    drain("mkdir, list the directory, rmdir, symlink", fd);
    rename(in_path("a"), in_path("b"));
    link(in_path("b"), in_path("c"));
    unlink(in_path("c"));
    drain("rename a b, link b c, unlink c", fd);

    /* a file watch next to the directory watch */
    show("add_watch file b", inotify_add_watch(fd, in_path("b"), IN_ALL_EVENTS));
    file_fd = open(in_path("b"), O_RDWR);
    write(file_fd, "x", 1);
    close(file_fd);
    link(in_path("b"), in_path("b2"));
    rename(in_path("b"), in_path("d"));
    unlink(in_path("b2"));
    unlink(in_path("d"));
    drain("on b: open, write, close, link b b2, rename b d, unlink b2, unlink d", fd);

    /* rename over an existing watched file */
    touch_file("e");
    touch_file("f");
    show("add_watch file f", inotify_add_watch(fd, in_path("f"), IN_ALL_EVENTS));
    rename(in_path("e"), in_path("f"));
    drain("rename e over watched f", fd);

    /* a too small buffer; exactly one event */
    touch_file("g");
    show("  read 16 bytes (first event has a name)", read(fd, (char[64]){0}, 16));
    show("  read 32 bytes (one event)", read(fd, (char[64]){0}, 32));
    drain("the rest", fd);

    /* IN_ONESHOT, IN_MASK_ADD, replacing a mask, rm_watch and descriptors */
    int oneshot = (int)show("add_watch g ONESHOT|OPEN", inotify_add_watch(fd, in_path("g"), IN_ONESHOT | IN_OPEN));
    close(open(in_path("g"), O_RDONLY));
    close(open(in_path("g"), O_RDONLY));
    drain("open g twice", fd);
    show("rm_watch the fired one-shot", inotify_rm_watch(fd, oneshot));
    int g_wd = (int)show("add_watch g OPEN (a new wd)", inotify_add_watch(fd, in_path("g"), IN_OPEN));
    show("add_watch g MASK_ADD|CLOSE_NOWRITE", inotify_add_watch(fd, in_path("g"), IN_MASK_ADD | IN_CLOSE_NOWRITE));
    close(open(in_path("g"), O_RDONLY));
    show("rm_watch the directory", inotify_rm_watch(fd, dir_wd));
    drain("open g with OPEN|CLOSE_NOWRITE; directory watch removed", fd);
    show("add_watch g ACCESS (replaces)", inotify_add_watch(fd, in_path("g"), IN_ACCESS));
    file_fd = open(in_path("g"), O_RDWR);
    write(file_fd, "abc", 3);
    pread(file_fd, (char[4]){0}, 3, 0);
    close(file_fd);
    show("rm_watch g", inotify_rm_watch(fd, g_wd));
    show("rm_watch g again", inotify_rm_watch(fd, g_wd));
    drain("write and read g", fd);

    /* symlinks: followed unless IN_DONT_FOLLOW */
    touch_file("target");
    symlink("target", in_path("link"));
    show("add_watch link (follows)", inotify_add_watch(fd, in_path("link"), IN_ATTRIB));
    show("add_watch link DONT_FOLLOW", inotify_add_watch(fd, in_path("link"), IN_ATTRIB | IN_DONT_FOLLOW));
    chmod(in_path("target"), 0600);
    drain("chmod target", fd);

    /* IN_EXCL_UNLINK: events through an open file whose name is gone */
    int excl_fd = inotify_init1(IN_NONBLOCK);
    show("add_watch directory EXCL_UNLINK", inotify_add_watch(excl_fd, directory, IN_MODIFY | IN_DELETE | IN_EXCL_UNLINK));
    int plain_fd = inotify_init1(IN_NONBLOCK);
    show("add_watch directory plain", inotify_add_watch(plain_fd, directory, IN_MODIFY | IN_DELETE));
    file_fd = open(in_path("h"), O_CREAT | O_RDWR, 0644);
    write(file_fd, "1", 1);
    unlink(in_path("h"));
    write(file_fd, "2", 1);
    close(file_fd);
    drain("EXCL_UNLINK: write, unlink, write", excl_fd);
    drain("plain: write, unlink, write", plain_fd);
    close(excl_fd);
    close(plain_fd);

    /* directories moved, RENAME_EXCHANGE, O_PATH, changes through an fd, one timestamp, a fifo */
    int all_fd = inotify_init1(IN_NONBLOCK);
    show("add_watch directory for moves", inotify_add_watch(all_fd, directory, IN_ALL_EVENTS));
    mkdir(in_path("d1"), 0755);
    show("add_watch d1", inotify_add_watch(all_fd, in_path("d1"), IN_ALL_EVENTS | IN_ONLYDIR));
    rename(in_path("d1"), in_path("d2"));
    touch_file("x1");
    touch_file("x2");
    show("renameat2 RENAME_EXCHANGE", syscall(SYS_renameat2, AT_FDCWD, in_path("x1"), AT_FDCWD, in_path("x2"), 1 << 1));
    int path_fd = open(in_path("x1"), O_PATH);
    close(path_fd);
    file_fd = open(in_path("x1"), O_RDWR);
    fchmod(file_fd, 0640);
    fchown(file_fd, getuid(), -1);
    ftruncate(file_fd, 10);
    close(file_fd);
    struct timespec only_atime[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
    utimensat(AT_FDCWD, in_path("x1"), only_atime, 0);
    struct timespec only_mtime[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    utimensat(AT_FDCWD, in_path("x1"), only_mtime, 0);
    struct timespec neither[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    utimensat(AT_FDCWD, in_path("x1"), neither, 0);
    mkfifo(in_path("fifo"), 0600);
    unlink(in_path("fifo"));
    rmdir(in_path("d2"));
    unlink(in_path("x1"));
    unlink(in_path("x2"));
    drain("rename a directory, exchange, O_PATH, fchmod/fchown/ftruncate, utimensat, mkfifo, removals", all_fd);
    close(all_fd);

    /* a watched directory removed */
    mkdir(in_path("gone"), 0755);
    show("add_watch gone", inotify_add_watch(fd, in_path("gone"), IN_ALL_EVENTS));
    rmdir(in_path("gone"));
    drain("rmdir a watched directory", fd);
    /* removed while open: IN_DELETE_SELF comes when the last user lets go */
    touch_file("open-file");
    mkdir(in_path("open-dir"), 0755);
    show("add_watch open-file", inotify_add_watch(fd, in_path("open-file"), IN_ALL_EVENTS));
    show("add_watch open-dir", inotify_add_watch(fd, in_path("open-dir"), IN_DELETE_SELF));
    int open_file = open(in_path("open-file"), O_RDONLY);
    int open_dir = open(in_path("open-dir"), O_RDONLY | O_DIRECTORY);
    unlink(in_path("open-file"));
    rmdir(in_path("open-dir"));
    drain("unlink and rmdir while open", fd);
    close(open_file);
    close(open_dir);
    drain("after closing them", fd);

    /* epoll, and a blocking read woken by another process */
    int blocking = inotify_init1(0);
    show("add_watch for the blocking read", inotify_add_watch(blocking, directory, IN_CREATE));
    int epoll_fd = epoll_create1(0);
    struct epoll_event event = {.events = EPOLLIN, .data.u32 = 5};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, blocking, &event);
    show("  epoll_wait nothing queued", epoll_wait(epoll_fd, &event, 1, 0));
    pid_t child = fork();
    if (child == 0) {
        usleep(100 * 1000);
        touch_file("from-child");
        _exit(0);
    }
    char buffer[256] __attribute__((aligned(8)));
    ssize_t got = read(blocking, buffer, sizeof(buffer));
    struct inotify_event *first = (struct inotify_event *)buffer;
    printf("  blocking read: %zd mask=%#x name=%s\n", got, got > 0 ? first->mask : 0, got > 0 ? first->name : "");
    waitpid(child, NULL, 0);
    touch_file("second");
    int ready = epoll_wait(epoll_fd, &event, 1, 1000);
    printf("  epoll_wait: %d events=%#x data=%u\n", ready, event.events, event.data.u32);
    fflush(stdout);
    close(epoll_fd);
    close(blocking);

    /* overflow: 16384 events at most, then one IN_Q_OVERFLOW */
    int overflow_fd = inotify_init1(IN_NONBLOCK);
    show("add_watch for overflow", inotify_add_watch(overflow_fd, in_path("g"), IN_OPEN | IN_CLOSE_NOWRITE));
    for (int i = 0; i < 8300; i++)
        close(open(in_path("g"), O_RDONLY));
    show("  FIONREAD", (ioctl(overflow_fd, FIONREAD, &queued), queued));
    struct inotify_event last = {0};
    int count = 0;
    for (;;) {
        char chunk[4096] __attribute__((aligned(8)));
        got = read(overflow_fd, chunk, sizeof(chunk));
        if (got <= 0)
            break;
        for (char *at = chunk; at < chunk + got; at += sizeof(struct inotify_event) + ((struct inotify_event *)at)->len) {
            last = *(struct inotify_event *)at;
            count++;
        }
    }
    printf("  events read: %d, last wd=%d mask=%#x\n", count, last.wd, last.mask);
    close(overflow_fd);

    /* clean up, so that a second run (and the host directory) start from nothing */
    const char *names[] = {"file", "symlink", "e", "f", "g", "target", "link", "from-child", "second"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlink(in_path(names[i]));
    show("rmdir the test directory", rmdir(directory));
    drain("after cleaning up (the directory watch was removed before)", fd);
    close(fd);
    return 0;
}
