/* tests/e2e/programs/hostile.c: calls system calls with hostile arguments (NULL, unmapped and kernel
 * pointers, huge lengths, bad fds and flags) and prints each result; run natively and in the sandbox. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KERNEL_POINTER 0xffffffff81000000UL
#define UNMAPPED_POINTER 0x10000UL
#define HUGE_LENGTH ((size_t)1 << 62)

static void report(const char *what, long result)
{
    if (result < 0)
        printf("%-44s -1 %s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
    else
        printf("%-44s %s\n", what, "ok");
}

#define TRY(description, call) report(description, (long)(call))

int main(void)
{
    char buffer[64];
    int pipe_fds[2];
    if (pipe(pipe_fds) < 0)
        return 1;
    /* I/O on bad fds and with bad buffers. */
    TRY("read(-1)", read(-1, buffer, 1));
    TRY("read(9999)", read(9999, buffer, 1));
    TRY("write(1, NULL, 1)", write(1, NULL, 1));
    TRY("write(1, kernel, 1)", write(1, (void *)KERNEL_POINTER, 1));
    TRY("read(pipe, unmapped, 1) with data", (write(pipe_fds[1], "x", 1), read(pipe_fds[0], (void *)UNMAPPED_POINTER, 1)));
    TRY("write(pipe, buffer, 0)", write(pipe_fds[1], buffer, 0));
    TRY("pread64(pipe)", pread(pipe_fds[0], buffer, 1, 0));
    TRY("lseek(pipe)", lseek(pipe_fds[0], 0, SEEK_SET));
    TRY("readv(0, NULL, 1)", readv(0, NULL, 1));
    TRY("writev(1, iov, 5000)", syscall(SYS_writev, 1, buffer, 5000));
    TRY("writev(1, iov, -1)", syscall(SYS_writev, 1, buffer, -1));
    TRY("close(-5)", close(-5));
    TRY("dup2(0, -1)", dup2(0, -1));
    TRY("dup3(0, 0, 0)", dup3(0, 0, 0));
    TRY("dup3(0, 5, 0x1234)", dup3(0, 5, 0x1234));
    TRY("fcntl(0, 9999)", fcntl(0, 9999));
    TRY("fcntl(-1, F_GETFD)", fcntl(-1, F_GETFD));
    TRY("pipe2(NULL, 0)", syscall(SYS_pipe2, NULL, 0));
    TRY("pipe2(fds, 0x1234)", syscall(SYS_pipe2, pipe_fds, 0x1234));
    /* Paths. */
    TRY("open(NULL)", syscall(SYS_open, NULL, O_RDONLY));
    TRY("open(kernel)", syscall(SYS_open, KERNEL_POINTER, O_RDONLY));
    TRY("open(\"\")", open("", O_RDONLY));
    char long_name[300];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    TRY("open(name of 299 bytes)", open(long_name, O_RDONLY));
    static char long_path[5000];
    memset(long_path, 'b', sizeof(long_path) - 1);
    TRY("open(path of 4999 bytes)", open(long_path, O_RDONLY));
    TRY("openat(-7, relative)", openat(-7, "x", O_RDONLY));
    TRY("openat(-7, absolute)", (long)(openat(-7, "/", O_RDONLY) >= 0 ? 0 : -1));
    TRY("open(/etc/hostname/x)", open("/etc/hostname/x", O_RDONLY));
    TRY("open(/, O_WRONLY)", open("/", O_WRONLY));
    TRY("open(/nonexistent/x, O_CREAT)", open("/nonexistent/x", O_CREAT | O_WRONLY, 0644));
    TRY("stat(NULL)", syscall(SYS_stat, NULL, buffer));
    TRY("stat(/, NULL)", syscall(SYS_stat, "/", NULL));
    TRY("stat(/, kernel)", syscall(SYS_stat, "/", KERNEL_POINTER));
    TRY("newfstatat(AT_FDCWD, \"\", AT_EMPTY_PATH)", syscall(SYS_newfstatat, AT_FDCWD, "", buffer, AT_EMPTY_PATH));
    TRY("fstat(-1)", syscall(SYS_fstat, -1, buffer));
    TRY("readlink(/, buf, 0)", readlink("/", buffer, 0));
    TRY("readlink(/proc/self/exe, unmapped, 10)", readlink("/proc/self/exe", (char *)UNMAPPED_POINTER, 10));
    TRY("getcwd(buf, 1)", (long)(getcwd(buffer, 1) ? 0 : -1));
    TRY("getcwd(NULL-ptr raw, 100)", syscall(SYS_getcwd, NULL, 100));
    TRY("chdir(/etc/hostname)", chdir("/etc/hostname"));
    TRY("mkdir(/)", mkdir("/", 0755));
    TRY("rmdir(/tmp/../nonexistent)", rmdir("/tmp/../nonexistent"));
    TRY("unlink(/tmp)", unlink("/tmp"));
    TRY("getdents64(-1)", syscall(SYS_getdents64, -1, buffer, sizeof(buffer)));
    int directory = open("/", O_RDONLY | O_DIRECTORY);
    TRY("getdents64(dir, buf, 1)", syscall(SYS_getdents64, directory, buffer, 1));
    TRY("getdents64(dir, unmapped, 4096)", syscall(SYS_getdents64, directory, UNMAPPED_POINTER, 4096));
    TRY("read(dir)", read(directory, buffer, sizeof(buffer)));
    TRY("write(dir)", write(directory, buffer, 1));
    /* Memory. */
    TRY("mmap(len 0)", (long)(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0));
    TRY("mmap(no type)", (long)(mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0));
    TRY("mmap(unaligned offset)", (long)(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 0, 1) == MAP_FAILED ? -1 : 0));
    TRY("mmap(bad fd)", (long)(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 9999, 0) == MAP_FAILED ? -1 : 0));
    TRY("mmap(huge)", (long)(mmap(NULL, HUGE_LENGTH, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED ? -1 : 0));
    TRY("mmap(fixed unaligned)", (long)(mmap((void *)0x10001, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0));
    TRY("mmap(directory)", (long)(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, directory, 0) == MAP_FAILED ? -1 : 0));
    TRY("munmap(unaligned)", munmap((void *)0x10001, 4096));
    TRY("munmap(len 0)", munmap((void *)0x10000, 0));
    TRY("mprotect(unaligned)", mprotect((void *)0x10001, 4096, PROT_READ));
    TRY("mprotect(unmapped)", mprotect((void *)0x10000, 4096, PROT_READ));
    TRY("mprotect(bad prot)", mprotect(buffer - ((uintptr_t)buffer & 4095), 4096, 0x1000));
    TRY("madvise(bad advice)", madvise(buffer - ((uintptr_t)buffer & 4095), 4096, 12345));
    TRY("mremap(unaligned)", (long)(mremap((void *)0x10001, 4096, 8192, 0) == MAP_FAILED ? -1 : 0));
    TRY("mremap(bad flags)", (long)(mremap((void *)0x10000, 4096, 8192, 0x100) == MAP_FAILED ? -1 : 0));
    /* Processes, signals, time. */
    TRY("kill(1<<30, 0)", kill(1 << 30, 0));
    TRY("kill(self, 65)", kill(getpid(), 65));
    TRY("kill(self, -1)", kill(getpid(), -1));
    TRY("tgkill(self, 0, 0)", syscall(SYS_tgkill, getpid(), 0, 0));
    TRY("tgkill(self, self, 0)", syscall(SYS_tgkill, getpid(), getpid(), 0));
    TRY("rt_sigaction(SIGKILL, act)", syscall(SYS_rt_sigaction, SIGKILL, buffer, NULL, 8));
    TRY("rt_sigaction(0, NULL)", syscall(SYS_rt_sigaction, 0, NULL, NULL, 8));
    TRY("rt_sigaction(SIGINT, size 4)", syscall(SYS_rt_sigaction, SIGINT, NULL, NULL, 4));
    TRY("rt_sigaction(SIGINT, kernel)", syscall(SYS_rt_sigaction, SIGINT, KERNEL_POINTER, NULL, 8));
    TRY("rt_sigprocmask(bad how)", syscall(SYS_rt_sigprocmask, 99, buffer, NULL, 8));
    TRY("rt_sigprocmask(size 16)", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 16));
    TRY("sigaltstack(tiny)", sigaltstack(&(stack_t){.ss_sp = buffer, .ss_size = 16}, NULL));
    TRY("sigaltstack(bad flags)", sigaltstack(&(stack_t){.ss_sp = buffer, .ss_size = 65536, .ss_flags = 77}, NULL));
    TRY("wait4(-1) without children", wait4(-1, NULL, 0, NULL));
    TRY("wait4(-1, bad options)", wait4(-1, NULL, 0x12345, NULL));
    TRY("waitid(bad type)", syscall(SYS_waitid, 77, 0, NULL, WEXITED, NULL));
    TRY("waitid(no options)", syscall(SYS_waitid, P_ALL, 0, NULL, 0, NULL));
    TRY("clock_gettime(bad clock)", syscall(SYS_clock_gettime, 12345, buffer));
    TRY("clock_gettime(MONOTONIC, NULL)", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, NULL));
    TRY("clock_gettime(MONOTONIC, kernel)", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, KERNEL_POINTER));
    TRY("nanosleep(bad nsec)", nanosleep(&(struct timespec){0, 1000000000}, NULL));
    TRY("nanosleep(negative)", nanosleep(&(struct timespec){-1, 0}, NULL));
    TRY("nanosleep(NULL)", syscall(SYS_nanosleep, NULL, NULL));
    TRY("gettimeofday(kernel)", syscall(SYS_gettimeofday, KERNEL_POINTER, NULL));
    TRY("uname(NULL)", syscall(SYS_uname, NULL));
    TRY("getrandom(bad flags)", syscall(SYS_getrandom, buffer, 8, 0x100));
    TRY("getrandom(unmapped)", syscall(SYS_getrandom, UNMAPPED_POINTER, 8, 0));
    TRY("prlimit64(bad resource)", syscall(SYS_prlimit64, 0, 99, NULL, buffer));
    TRY("prlimit64(1<<30)", syscall(SYS_prlimit64, 1 << 30, RLIMIT_NOFILE, NULL, buffer));
    TRY("setrlimit(soft > hard)", setrlimit(RLIMIT_NOFILE, &(struct rlimit){100, 10}));
    TRY("arch_prctl(bad code)", syscall(SYS_arch_prctl, 0x9999, 0));
    TRY("prctl(bad option)", syscall(SYS_prctl, 0x7777, 0, 0, 0, 0));
    TRY("set_robust_list(bad len)", syscall(SYS_set_robust_list, buffer, 7));
    TRY("setpgid(-1)", setpgid(0, -1));
    TRY("getpgid(1<<30)", getpgid(1 << 30));
    TRY("clone(CLONE_SIGHAND without VM)", syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, 0, NULL, NULL, 0));
    TRY("execve(NULL)", syscall(SYS_execve, NULL, NULL, NULL));
    TRY("execve(/etc/hostname)", execve("/etc/hostname", (char *[]){"x", NULL}, (char *[]){NULL}));
    TRY("execve(/, ...)", execve("/", (char *[]){"x", NULL}, (char *[]){NULL}));
    TRY("execve(/bin/sh, bad argv)", syscall(SYS_execve, "/bin/sh", KERNEL_POINTER, NULL));
    TRY("futex(unaligned)", syscall(SYS_futex, buffer + 1, FUTEX_WAKE, 1, NULL, NULL, 0));
    TRY("futex(bad op)", syscall(SYS_futex, buffer, 99, 1, NULL, NULL, 0));
    int futex_word = 5;
    TRY("futex(wait, value differs)", syscall(SYS_futex, &futex_word, FUTEX_WAIT, 6, NULL, NULL, 0));
    TRY("futex(wait, timeout 1ms)", syscall(SYS_futex, &futex_word, FUTEX_WAIT, 5, &(struct timespec){0, 1000000}, NULL, 0));
    TRY("futex(wait bitset 0)", syscall(SYS_futex, &futex_word, FUTEX_WAIT_BITSET, 5, NULL, NULL, 0));
    TRY("poll(NULL, 1)", poll(NULL, 1, 0));
    TRY("poll(bad fd)", poll(&(struct pollfd){.fd = 9999, .events = POLLIN}, 1, 0));
    TRY("select(-1)", select(-1, NULL, NULL, NULL, NULL));
    TRY("select(bad fd in set)", ({ fd_set set; FD_ZERO(&set); FD_SET(900, &set); select(901, &set, NULL, NULL, &(struct timeval){0, 0}); }));
    TRY("lgetxattr(missing)", syscall(SYS_lgetxattr, "/nonexistent", "user.x", buffer, sizeof(buffer)));
    TRY("alarm(0)", alarm(0));
    TRY("setitimer(bad which)", syscall(SYS_setitimer, 77, NULL, NULL));
    TRY("setitimer(bad usec)", setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 2000000}}, NULL));
    TRY("timer_create(bad clock)", syscall(SYS_timer_create, 12345, NULL, buffer));
    TRY("timer_settime(bad id)", syscall(SYS_timer_settime, 4321, 0, buffer, NULL));
    TRY("timer_delete(bad id)", syscall(SYS_timer_delete, 4321));
    TRY("fadvise64(-1)", syscall(SYS_fadvise64, -1, 0, 0, 0));
    TRY("fadvise64(pipe)", syscall(SYS_fadvise64, pipe_fds[0], 0, 0, 0));
    TRY("fadvise64(bad advice)", syscall(SYS_fadvise64, directory, 0, 0, 99));
    /* ---- signalfd, inotify, SysV semaphores and message queues (branch signalfd-inotify) ---- */
    {
        uint64_t signal_mask = 0;
        TRY("signalfd4(-1, NULL, 8)", syscall(SYS_signalfd4, -1, NULL, 8, 0));
        TRY("signalfd4(-1, kernel, 8)", syscall(SYS_signalfd4, -1, KERNEL_POINTER, 8, 0));
        TRY("signalfd4(-1, unmapped, 8)", syscall(SYS_signalfd4, -1, UNMAPPED_POINTER, 8, 0));
        TRY("signalfd4(-1, mask, huge size)", syscall(SYS_signalfd4, -1, &signal_mask, HUGE_LENGTH, 0));
        TRY("signalfd4(-1, mask, 8, -1 flags)", syscall(SYS_signalfd4, -1, &signal_mask, 8, -1));
        TRY("signalfd4(pipe, mask, 8)", syscall(SYS_signalfd4, pipe_fds[0], &signal_mask, 8, 0));
        TRY("signalfd4(9999, mask, 8)", syscall(SYS_signalfd4, 9999, &signal_mask, 8, 0));
        TRY("signalfd(-1, NULL, 8)", syscall(SYS_signalfd, -1, NULL, 8));
        int signal_fd = (int)syscall(SYS_signalfd4, -1, &signal_mask, 8, O_NONBLOCK);
        TRY("read(signalfd, NULL, 128) nothing pending", read(signal_fd, NULL, 128));
        TRY("read(signalfd, kernel, 128)", read(signal_fd, (void *)KERNEL_POINTER, 128));
        TRY("read(signalfd, buffer, 1)", read(signal_fd, buffer, 1));
        TRY("signalfd4(signalfd, kernel, 8)", syscall(SYS_signalfd4, signal_fd, KERNEL_POINTER, 8, 0));
        close(signal_fd);
        TRY("inotify_init1(0x80000000)", syscall(SYS_inotify_init1, 0x80000000));
        int inotify_fd = (int)syscall(SYS_inotify_init1, O_NONBLOCK);
        TRY("inotify_add_watch(ifd, NULL, IN_OPEN)", syscall(SYS_inotify_add_watch, inotify_fd, NULL, 0x20));
        TRY("inotify_add_watch(ifd, kernel, IN_OPEN)", syscall(SYS_inotify_add_watch, inotify_fd, KERNEL_POINTER, 0x20));
        TRY("inotify_add_watch(ifd, /, ~0)", syscall(SYS_inotify_add_watch, inotify_fd, "/", 0xffffffffU));
        TRY("inotify_add_watch(ifd, /, 0)", syscall(SYS_inotify_add_watch, inotify_fd, "/", 0));
        TRY("inotify_add_watch(9999, /, IN_OPEN)", syscall(SYS_inotify_add_watch, 9999, "/", 0x20));
        TRY("inotify_add_watch(pipe, kernel, IN_OPEN)", syscall(SYS_inotify_add_watch, pipe_fds[0], KERNEL_POINTER, 0x20));
        TRY("inotify_rm_watch(ifd, INT_MIN)", syscall(SYS_inotify_rm_watch, inotify_fd, INT32_MIN));
        TRY("inotify_rm_watch(-1, 1)", syscall(SYS_inotify_rm_watch, -1, 1));
        TRY("read(inotify, kernel, 4096)", read(inotify_fd, (void *)KERNEL_POINTER, 4096));
        TRY("ioctl(inotify, FIONREAD, NULL)", ioctl(inotify_fd, FIONREAD, NULL));
        TRY("ioctl(inotify, FIONREAD, kernel)", ioctl(inotify_fd, FIONREAD, (void *)KERNEL_POINTER));
        TRY("ioctl(inotify, TCGETS)", ioctl(inotify_fd, 0x5401, buffer));
        close(inotify_fd);
        TRY("semget(PRIVATE, -5)", syscall(SYS_semget, 0, -5, 0600));
        TRY("semget(PRIVATE, 0)", syscall(SYS_semget, 0, 0, 0600));
        TRY("semop(-1, NULL, 1)", syscall(SYS_semop, -1, NULL, 1));
        TRY("semop(-1, kernel, 1)", syscall(SYS_semop, -1, KERNEL_POINTER, 1));
        TRY("semop(0, buffer, huge)", syscall(SYS_semop, 0, buffer, HUGE_LENGTH));
        TRY("semop(0, buffer, 501)", syscall(SYS_semop, 0, buffer, 501));
        TRY("semtimedop(-1, buffer, 1, kernel)", syscall(SYS_semtimedop, -1, buffer, 1, KERNEL_POINTER));
        TRY("semctl(-1, 0, IPC_STAT)", syscall(SYS_semctl, -1, 0, 2, NULL));
        TRY("semctl(0, 0, IPC_INFO, kernel)", syscall(SYS_semctl, 0, 0, 3, KERNEL_POINTER));
        TRY("semctl(0, 0, IPC_SET, NULL)", syscall(SYS_semctl, 0, 0, 1, NULL));
        TRY("semctl(0, 0, 0x7777)", syscall(SYS_semctl, 0, 0, 0x7777, NULL));
        TRY("msgsnd(-1, NULL, 1)", syscall(SYS_msgsnd, -1, NULL, 1, 0));
        TRY("msgsnd(-1, buffer, 1)", syscall(SYS_msgsnd, -1, buffer, 1, 0));
        TRY("msgsnd(0, buffer, huge)", syscall(SYS_msgsnd, 0, buffer, HUGE_LENGTH, 0));
        TRY("msgrcv(-1, NULL, 1)", syscall(SYS_msgrcv, -1, NULL, 1, 0, 0));
        TRY("msgrcv(0, buffer, -1)", syscall(SYS_msgrcv, 0, buffer, -1L, 0, 0));
        TRY("msgctl(-1, IPC_STAT, NULL)", syscall(SYS_msgctl, -1, 2, NULL));
        TRY("msgctl(0, IPC_INFO, kernel)", syscall(SYS_msgctl, 0, 3, KERNEL_POINTER));
        TRY("msgctl(0, IPC_SET, NULL)", syscall(SYS_msgctl, 0, 1, NULL));
        TRY("msgctl(0, -5)", syscall(SYS_msgctl, 0, -5, NULL));
        TRY("shmget(PRIVATE, 0)", syscall(SYS_shmget, 0, 0, 0600));
        TRY("shmget(PRIVATE, huge)", syscall(SYS_shmget, 0, -1L, 0600));
        TRY("shmat(-1, NULL, 0)", syscall(SYS_shmat, -1, NULL, 0));
        TRY("shmat(0, kernel, 0)", syscall(SYS_shmat, 0, KERNEL_POINTER, 0));
        TRY("shmdt(NULL)", syscall(SYS_shmdt, NULL));
        TRY("shmdt(kernel)", syscall(SYS_shmdt, KERNEL_POINTER));
        TRY("shmctl(-1, IPC_STAT, NULL)", syscall(SYS_shmctl, -1, 2, NULL));
        TRY("shmctl(0, IPC_INFO, kernel)", syscall(SYS_shmctl, 0, 3, KERNEL_POINTER));
        TRY("shmctl(0, -5)", syscall(SYS_shmctl, 0, -5, NULL));
    }
    /* ---- end of the signalfd/inotify/SysV block ---- */
    /* Scheduling, memory locks, storage, data movement, message batches, execveat and pidfds. */
    TRY("sched_getparam(0, kernel)", syscall(SYS_sched_getparam, 0, KERNEL_POINTER));
    TRY("sched_setparam(0, unmapped)", syscall(SYS_sched_setparam, 0, UNMAPPED_POINTER));
    TRY("sched_setscheduler(0, 0, kernel)", syscall(SYS_sched_setscheduler, 0, 0, KERNEL_POINTER));
    TRY("sched_rr_get_interval(0, kernel)", syscall(SYS_sched_rr_get_interval, 0, KERNEL_POINTER));
    TRY("sched_setaffinity(0, huge, unmapped)", syscall(SYS_sched_setaffinity, 0, HUGE_LENGTH, UNMAPPED_POINTER));
    TRY("sched_getaffinity(0, 128, kernel)", syscall(SYS_sched_getaffinity, 0, 128, KERNEL_POINTER));
    TRY("sched_getattr(0, NULL, 56, 0)", syscall(SYS_sched_getattr, 0, NULL, 56, 0));
    TRY("sched_getattr(0, kernel, 56, 0)", syscall(SYS_sched_getattr, 0, KERNEL_POINTER, 56, 0));
    TRY("sched_setattr(0, unmapped, 0)", syscall(SYS_sched_setattr, 0, UNMAPPED_POINTER, 0));
    TRY("getpriority(INT_MIN, 0)", syscall(SYS_getpriority, INT32_MIN, 0));
    TRY("setpriority(0, -1, 0)", syscall(SYS_setpriority, 0, -1, 0));
    TRY("ioprio_get(1, -1)", syscall(SYS_ioprio_get, 1, -1));
    TRY("mlock(kernel, 4096)", syscall(SYS_mlock, KERNEL_POINTER, 4096));
    TRY("mlock(unmapped, huge)", syscall(SYS_mlock, UNMAPPED_POINTER, HUGE_LENGTH));
    TRY("munlock(NULL, 4096)", syscall(SYS_munlock, NULL, 4096));
    TRY("mlock2(NULL, 1, -1)", syscall(SYS_mlock2, NULL, 1, -1));
    TRY("mlockall(-1)", syscall(SYS_mlockall, -1));
    TRY("syncfs(9999)", syscall(SYS_syncfs, 9999));
    TRY("sync_file_range(pipe, 0, 0, -1)", syscall(SYS_sync_file_range, pipe_fds[0], 0, 0, -1));
    TRY("fallocate(pipe, 0, 0, huge)", syscall(SYS_fallocate, pipe_fds[1], 0, 0, HUGE_LENGTH));
    TRY("fallocate(9999, -1, -1, -1)", syscall(SYS_fallocate, 9999, -1, -1, -1));
    TRY("readahead(pipe, 0, huge)", syscall(SYS_readahead, pipe_fds[0], 0, HUGE_LENGTH));
    TRY("splice(pipe, kernel offset, ...)", syscall(SYS_splice, pipe_fds[0], KERNEL_POINTER, 1, NULL, 1, 0));
    TRY("splice(9999, NULL, 1, NULL, huge, 0)", syscall(SYS_splice, 9999, NULL, 1, NULL, HUGE_LENGTH, 0));
    TRY("tee(pipe, pipe, huge, -1)", syscall(SYS_tee, pipe_fds[0], pipe_fds[1], HUGE_LENGTH, -1));
    TRY("vmsplice(pipe, kernel, 1, 0)", syscall(SYS_vmsplice, pipe_fds[1], KERNEL_POINTER, 1, 0));
    TRY("vmsplice(pipe, iov huge count)", syscall(SYS_vmsplice, pipe_fds[1], buffer, HUGE_LENGTH, 0));
    TRY("vmsplice(pipe, {kernel, 8}, 1, 0)", syscall(SYS_vmsplice, pipe_fds[1], &(struct iovec){(void *)KERNEL_POINTER, 8}, 1, 0));
    TRY("copy_file_range(pipe, kernel, ...)", syscall(SYS_copy_file_range, pipe_fds[0], KERNEL_POINTER, 1, NULL, 1, 0));
    TRY("copy_file_range(-1, ..., huge)", syscall(SYS_copy_file_range, -1, NULL, -1, NULL, HUGE_LENGTH, 0));
    TRY("sendmmsg(pipe, NULL, 1, 0)", syscall(SYS_sendmmsg, pipe_fds[1], NULL, 1, 0));
    TRY("recvmmsg(9999, NULL, 1, 0, NULL)", syscall(SYS_recvmmsg, 9999, NULL, 1, 0, NULL));
    int socket_fds[2];
    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, socket_fds);
    TRY("sendmmsg(socket, kernel, 1, 0)", syscall(SYS_sendmmsg, socket_fds[0], KERNEL_POINTER, 1, 0));
    TRY("recvmmsg(socket, kernel, 1, 0, NULL)", syscall(SYS_recvmmsg, socket_fds[1], KERNEL_POINTER, 1, 0, NULL));
    TRY("recvmmsg(socket, buffer, 1, 0, kernel)", syscall(SYS_recvmmsg, socket_fds[1], buffer, 1, 0, KERNEL_POINTER));
    TRY("execveat(AT_FDCWD, NULL, ...)", syscall(SYS_execveat, AT_FDCWD, NULL, NULL, NULL, 0));
    TRY("execveat(AT_FDCWD, kernel, ...)", syscall(SYS_execveat, AT_FDCWD, KERNEL_POINTER, NULL, NULL, 0));
    TRY("execveat(9999, \"\", AT_EMPTY_PATH)", syscall(SYS_execveat, 9999, "", NULL, NULL, AT_EMPTY_PATH));
    TRY("execveat(pipe, \"\", AT_EMPTY_PATH)", syscall(SYS_execveat, pipe_fds[0], "", (char *[]){"x", NULL}, (char *[]){NULL}, AT_EMPTY_PATH));
    TRY("pidfd_open(INT_MIN, 0)", syscall(SYS_pidfd_open, INT32_MIN, 0));
    TRY("pidfd_send_signal(9999, 0, NULL, 0)", syscall(SYS_pidfd_send_signal, 9999, 0, NULL, 0));
    TRY("pidfd_getfd(pipe, 0, 0)", syscall(SYS_pidfd_getfd, pipe_fds[0], 0, 0));
    TRY("waitid(P_PIDFD, 9999)", syscall(SYS_waitid, P_PIDFD, 9999, NULL, WEXITED, NULL));
    TRY("membarrier(-1, 0, 0)", syscall(SYS_membarrier, -1, 0, 0));
    /* ---- loopback AF_INET/AF_INET6 sockets: hostile sockaddr pointers and lengths (test_network.sh covers the
     * behaviour) ---- */
    int inet_stream = socket(AF_INET, SOCK_STREAM, 0), inet_datagram = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int inet6_stream = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in loopback_address = {.sin_family = AF_INET, .sin_port = htons(9),
                                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char *two_pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two_pages + 4096, 4096);
    char *page_end = two_pages + 4096 - 8;  /* 8 readable bytes, then nothing */
    memcpy(page_end, &loopback_address, 8);
    int negative_length = -1, short_length = 2;
    TRY("socket(AF_INET, SOCK_STREAM, -1)", socket(AF_INET, SOCK_STREAM, -1));
    TRY("socket(AF_INET6, SOCK_STREAM, 4096)", socket(AF_INET6, SOCK_STREAM, 4096));
    TRY("socket(AF_INET, 0x7fff, 0)", socket(AF_INET, 0x7fff, 0));
    TRY("socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMP)", socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMP));
    TRY("bind(inet, NULL, 16)", bind(inet_stream, NULL, 16));
    TRY("bind(inet, kernel, 16)", bind(inet_stream, (void *)KERNEL_POINTER, 16));
    TRY("bind(inet, page end, 16)", bind(inet_stream, (void *)page_end, 16));
    TRY("bind(inet, page end, 8)", bind(inet_stream, (void *)page_end, 8));
    TRY("bind(inet, address, -1)", bind(inet_stream, (void *)&loopback_address, (socklen_t)-1));
    TRY("bind(inet, address, 129)", bind(inet_stream, (void *)&loopback_address, 129));
    TRY("bind(inet, address, 0)", bind(inet_stream, (void *)&loopback_address, 0));
    TRY("bind(inet6, inet address, 16)", bind(inet6_stream, (void *)&loopback_address, 16));
    TRY("bind(inet6, inet address, 28)", bind(inet6_stream, (void *)&loopback_address, 28));
    TRY("connect(inet, unmapped, 16)", connect(inet_stream, (void *)UNMAPPED_POINTER, 16));
    TRY("connect(inet6, page end, 28)", connect(inet6_stream, (void *)page_end, 28));
    TRY("connect(inet, NULL, 0)", connect(inet_stream, NULL, 0));
    TRY("getsockname(inet, kernel, &length)", getsockname(inet_stream, (void *)KERNEL_POINTER, &(socklen_t){16}));
    TRY("getsockname(inet, buffer, kernel)", getsockname(inet_stream, (void *)buffer, (void *)KERNEL_POINTER));
    TRY("getsockname(inet, buffer, &-1)", getsockname(inet_stream, (void *)buffer, (socklen_t *)&negative_length));
    TRY("getsockname(inet, buffer, &2)", getsockname(inet_stream, (void *)buffer, (socklen_t *)&short_length));
    printf("  short getsockname length now %d\n", short_length);
    TRY("getpeername(inet, kernel, kernel)", getpeername(inet_stream, (void *)KERNEL_POINTER, (void *)KERNEL_POINTER));
    TRY("sendto(udp, buffer, 1, 0, kernel, 16)", sendto(inet_datagram, buffer, 1, 0, (void *)KERNEL_POINTER, 16));
    TRY("sendto(udp, kernel, 1, 0, address, 16)",
        sendto(inet_datagram, (void *)KERNEL_POINTER, 1, 0, (void *)&loopback_address, 16));
    TRY("sendto(udp, buffer, 1, 0, address, 15)", sendto(inet_datagram, buffer, 1, 0, (void *)&loopback_address, 15));
    /* Past 65535 bytes (not HUGE_LENGTH: whether buffer + 2 GiB passes access_ok depends on where ASLR put the
     * stack, so Linux's answer would vary). */
    TRY("sendto(udp, buffer, 100000, 0, address, 16)",
        sendto(inet_datagram, buffer, 100000, 0, (void *)&loopback_address, 16));
    TRY("recvfrom(udp, kernel, 1, 0, kernel, kernel)",
        recvfrom(inet_datagram, (void *)KERNEL_POINTER, 1, 0, (void *)KERNEL_POINTER, (void *)KERNEL_POINTER));
    TRY("sendmsg(udp, {name kernel})", sendmsg(inet_datagram, &(struct msghdr){.msg_name = (void *)KERNEL_POINTER,
                                                                                .msg_namelen = 16}, 0));
    TRY("getsockopt(inet, SO_TYPE, kernel, &4)", getsockopt(inet_stream, SOL_SOCKET, SO_TYPE, (void *)KERNEL_POINTER,
                                                           &(socklen_t){4}));
    TRY("getsockopt(inet, SO_TYPE, buffer, kernel)", getsockopt(inet_stream, SOL_SOCKET, SO_TYPE, buffer,
                                                                (void *)KERNEL_POINTER));
    TRY("getsockopt(inet, SO_TYPE, buffer, &-1)", getsockopt(inet_stream, SOL_SOCKET, SO_TYPE, buffer,
                                                             (socklen_t *)&negative_length));
    TRY("setsockopt(inet, SO_REUSEADDR, kernel, 4)", setsockopt(inet_stream, SOL_SOCKET, SO_REUSEADDR,
                                                               (void *)KERNEL_POINTER, 4));
    TRY("setsockopt(inet, SO_REUSEADDR, buffer, -1)", setsockopt(inet_stream, SOL_SOCKET, SO_REUSEADDR, buffer,
                                                                (socklen_t)-1));
    TRY("setsockopt(inet, SO_LINGER, buffer, 4)", setsockopt(inet_stream, SOL_SOCKET, SO_LINGER, buffer, 4));
    TRY("setsockopt(inet, 12345, 1, buffer, 4)", setsockopt(inet_stream, 12345, 1, buffer, 4));
    TRY("ioctl(inet, SIOCGIFFLAGS, kernel)", ioctl(inet_stream, SIOCGIFFLAGS, KERNEL_POINTER));
    TRY("ioctl(inet, SIOCGIFCONF, kernel)", ioctl(inet_stream, SIOCGIFCONF, KERNEL_POINTER));
    TRY("ioctl(inet, SIOCGIFCONF, {1000, kernel})",
        ioctl(inet_stream, SIOCGIFCONF, &(struct ifconf){.ifc_len = 1000, .ifc_buf = (void *)KERNEL_POINTER}));
    TRY("ioctl(inet, SIOCGIFNAME, {index -5})", ioctl(inet_stream, SIOCGIFNAME, &(struct ifreq){.ifr_ifindex = -5}));
    TRY("ioctl(inet, SIOCOUTQ, kernel)", ioctl(inet_stream, SIOCOUTQ, KERNEL_POINTER));
    TRY("listen(inet, INT_MIN)", listen(inet_stream, INT32_MIN));
    TRY("accept4(inet listener, kernel, kernel, -1)", accept4(inet_stream, (void *)KERNEL_POINTER,
                                                              (void *)KERNEL_POINTER, -1));
    TRY("shutdown(inet, 99)", shutdown(inet_stream, 99));
    int netlink = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, 0);
    TRY("socket(AF_NETLINK, SOCK_RAW, 99)", socket(AF_NETLINK, SOCK_RAW, 99));
    TRY("socket(AF_NETLINK, SOCK_STREAM, 0)", socket(AF_NETLINK, SOCK_STREAM, 0));
    TRY("bind(netlink, kernel, 12)", bind(netlink, (void *)KERNEL_POINTER, 12));
    TRY("bind(netlink, address, 4)", bind(netlink, (void *)&loopback_address, 4));
    TRY("bind(netlink, inet address, 16)", bind(netlink, (void *)&loopback_address, 16));
    TRY("sendto(netlink, kernel, 16, 0, NULL, 0)", sendto(netlink, (void *)KERNEL_POINTER, 16, 0, NULL, 0));
    TRY("recvfrom(netlink, kernel, 100, 0, NULL, NULL)", recvfrom(netlink, (void *)KERNEL_POINTER, 100, 0, NULL, NULL));
    TRY("listen(netlink, 1)", listen(netlink, 1));
    TRY("shutdown(netlink, SHUT_RD)", shutdown(netlink, SHUT_RD));
    close(netlink);
    close(inet_stream), close(inet_datagram), close(inet6_stream);
    munmap(two_pages, 4096);
    fflush(stdout);
    return 0;
}
