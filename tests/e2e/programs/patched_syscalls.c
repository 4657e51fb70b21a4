/* tests/e2e/programs/patched_syscalls.c: syscall sites called often enough to be patched into the fast path
 * (seccomp-trap) behave exactly as unpatched ones: results, registers, the red zone, threads racing the
 * patch, restarts after signals, fork and exec. Prints only what is the same on Linux and in the sandbox. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CALLS 2000

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("FAILED: %s\n", what);
        failures++;
    }
}

/* "mov $39, %eax; syscall" (getpid) with every register the syscall must keep set to a known value, data
 * in the red zone, and xmm8 loaded. Returns a bit mask of what changed. */
static unsigned getpid_keeping_state(long *pid)
{
    uint64_t kept[7] = {0x1111111111111111ULL, 0x2222222222222222ULL, 0x3333333333333333ULL,
                        0x4444444444444444ULL, 0x5555555555555555ULL, 0x6666666666666666ULL,
                        0x7777777777777777ULL};
    uint64_t after[7], red_zone[2], xmm_after[2];
    const uint64_t xmm_before[2] = {0x0123456789abcdefULL, 0xfedcba9876543210ULL};
    long result;
    __asm__ volatile(
        "sub $256, %%rsp\n\t" /* past this function's own red zone, where the compiler may keep locals */
        "push %%rbx\n\t"
        "push %%rbp\n\t"
        "push %%r12\n\t"
        "push %%r13\n\t"
        "push %%r14\n\t"
        "push %%r15\n\t"
        "push %[after]\n\t"
        "push %[xmm_out]\n\t"
        "movdqu (%[xmm_in]), %%xmm8\n\t"
        "mov 0(%[kept]), %%rbx\n\t"
        "mov 8(%[kept]), %%rbp\n\t"
        "mov 16(%[kept]), %%r12\n\t"
        "mov 24(%[kept]), %%r13\n\t"
        "mov 32(%[kept]), %%r14\n\t"
        "mov 40(%[kept]), %%r15\n\t"
        "mov 48(%[kept]), %%r10\n\t"
        "movq $0x5eed, -8(%%rsp)\n\t"
        "movq $0xbeef, -128(%%rsp)\n\t"
        "mov $39, %%eax\n\t"
        "syscall\n\t"
        "mov -8(%%rsp), %%rcx\n\t"
        "mov %%rcx, 0(%[red])\n\t"
        "mov -128(%%rsp), %%rcx\n\t"
        "mov %%rcx, 8(%[red])\n\t"
        "pop %%rcx\n\t" /* xmm_out */
        "movdqu %%xmm8, (%%rcx)\n\t"
        "pop %%rcx\n\t" /* after */
        "mov %%rbx, 0(%%rcx)\n\t"
        "mov %%rbp, 8(%%rcx)\n\t"
        "mov %%r12, 16(%%rcx)\n\t"
        "mov %%r13, 24(%%rcx)\n\t"
        "mov %%r14, 32(%%rcx)\n\t"
        "mov %%r15, 40(%%rcx)\n\t"
        "mov %%r10, 48(%%rcx)\n\t"
        "pop %%r15\n\t"
        "pop %%r14\n\t"
        "pop %%r13\n\t"
        "pop %%r12\n\t"
        "pop %%rbp\n\t"
        "pop %%rbx\n\t"
        "add $256, %%rsp\n\t"
        : "=a"(result)
        : [kept] "D"(kept), [after] "S"(after), [red] "d"(red_zone), [xmm_in] "r"(xmm_before),
          [xmm_out] "r"(xmm_after)
        : "rcx", "r8", "r9", "r10", "r11", "xmm8", "memory", "cc");
    *pid = result;
    unsigned changed = 0;
    for (int i = 0; i < 7; i++)
        if (after[i] != kept[i])
            changed |= 1u << i;
    if (red_zone[0] != 0x5eed || red_zone[1] != 0xbeef)
        changed |= 1u << 7;
    if (memcmp(xmm_after, xmm_before, sizeof(xmm_before)) != 0)
        changed |= 1u << 8;
    return changed;
}

static void *racing_thread(void *argument)
{
    pid_t parent = (pid_t)(intptr_t)argument;
    pid_t self = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < CALLS; i++) {
        if (getppid() != parent || gettid() != self || getpid() == 0)
            return (void *)1;
    }
    return NULL;
}

static volatile sig_atomic_t alarms;
static void on_alarm(int signal)
{
    (void)signal;
    alarms++;
    /* The interrupted code's SSE state comes back at sigreturn, whatever the handler does to it. */
    __asm__ volatile("pxor %%xmm8, %%xmm8" ::: "xmm8");
}

static unsigned read_mxcsr(void)
{
    unsigned value;
    __asm__ volatile("stmxcsr %0" : "=m"(value));
    return value;
}

static void write_mxcsr(unsigned value) { __asm__ volatile("ldmxcsr %0" ::"m"(value)); }

#define MXCSR_ROUND_UP 0x4000

static int pipe_ends[2];
static void *slow_writer(void *argument)
{
    (void)argument;
    for (int i = 0; i < 200; i++) {
        usleep(1500);
        if (write(pipe_ends[1], "x", 1) != 1)
            return (void *)1;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        for (int i = 0; i < CALLS; i++)
            if (getppid() != atoi(argv[2]))
                return 1;
        return 0;
    }
    const pid_t parent = getppid();
    for (int i = 0; i < CALLS; i++)
        check(getppid() == parent, "getppid in a loop");
    printf("a glibc wrapper called %d times gives the same answer\n", CALLS);

    long pid = 0;
    unsigned changed = 0;
    for (int i = 0; i < CALLS; i++)
        changed |= getpid_keeping_state(&pid);
    check(pid == getpid(), "inline getpid's result");
    if (changed)
        printf("FAILED: changed across the syscall: mask %#x\n", changed), failures++;
    printf("registers, the red zone and xmm8 survive an inline syscall called %d times\n", CALLS);

    /* Signals that land while the thread is inside the fast path: a handler runs between patched syscalls
     * (the Sentry's interrupt reaches the thread there), and nothing they keep may change. */
    struct sigaction counting = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &counting, NULL);
    struct itimerval often = {{0, 200}, {0, 200}};
    setitimer(ITIMER_REAL, &often, NULL);
    changed = 0;
    for (int i = 0; i < 20 * CALLS || alarms < 20; i++) {
        changed |= getpid_keeping_state(&pid);
        check(getppid() == parent, "getppid under a timer");
        check(pid == getpid(), "inline getpid under a timer");
    }
    struct itimerval stop_timer = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &stop_timer, NULL);
    if (changed)
        printf("FAILED: changed across the syscall under a timer: mask %#x\n", changed), failures++;
    printf("the same under a 200 us timer whose handler runs between them\n");
    alarms = 0;

    pthread_t threads[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&threads[i], NULL, racing_thread, (void *)(intptr_t)parent);
    int thread_failures = 0;
    for (int i = 0; i < 4; i++) {
        void *result;
        pthread_join(threads[i], &result);
        thread_failures += result != NULL;
    }
    check(thread_failures == 0, "four threads racing through getppid/gettid/getpid");
    printf("four threads racing the same sites agree\n");

    /* Blocking reads, interrupted by a 1 ms timer with SA_RESTART: each read restarts (through the old
     * syscall instruction of a patched site) and none fails. */
    struct sigaction action = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
    sigaction(SIGALRM, &action, NULL);
    if (pipe(pipe_ends) < 0)
        return 2;
    pthread_t writer;
    pthread_create(&writer, NULL, slow_writer, NULL);
    struct itimerval every_millisecond = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &every_millisecond, NULL);
    int bytes = 0, errors = 0;
    char byte;
    while (bytes < 200) {
        ssize_t got = read(pipe_ends[0], &byte, 1);
        if (got == 1)
            bytes++;
        else
            errors++;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    pthread_join(writer, NULL);
    check(errors == 0 && alarms > 0, "restarted reads");
    printf("200 blocking reads under a 1 ms SA_RESTART timer: none failed\n");

    /* Without SA_RESTART the same reads fail with EINTR, and only with it. */
    action.sa_flags = 0;
    sigaction(SIGALRM, &action, NULL);
    pthread_create(&writer, NULL, slow_writer, NULL);
    setitimer(ITIMER_REAL, &every_millisecond, NULL);
    bytes = 0;
    int other_errors = 0;
    while (bytes < 200) {
        ssize_t got = read(pipe_ends[0], &byte, 1);
        if (got == 1)
            bytes++;
        else if (errno != EINTR)
            other_errors++;
    }
    setitimer(ITIMER_REAL, &off, NULL);
    pthread_join(writer, NULL);
    check(other_errors == 0, "interrupted reads fail with EINTR only");
    printf("without SA_RESTART, interrupted reads fail with EINTR only\n");

    /* A sleep stopped and continued midway resumes with the time it had left (restart_syscall), so it lasts
     * about what it asked for. */
    fflush(stdout);
    pid_t sleeper = fork();
    if (sleeper == 0) {
        struct timespec start, end, request = {0, 400000000};
        clock_gettime(CLOCK_MONOTONIC, &start);
        int result = nanosleep(&request, NULL);
        clock_gettime(CLOCK_MONOTONIC, &end);
        double slept = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) * 1e-9;
        _exit(result == 0 && slept > 0.38 && slept < 0.6 ? 0 : 1);
    }
    /* Stopped from 0.1 s to 0.3 s: resumed with the time left it ends at 0.4 s; sleeping its whole time
     * again would end at 0.7 s. */
    usleep(100000);
    kill(sleeper, SIGSTOP);
    usleep(200000);
    kill(sleeper, SIGCONT);
    int sleeper_status = 0;
    waitpid(sleeper, &sleeper_status, 0);
    check(WIFEXITED(sleeper_status) && WEXITSTATUS(sleeper_status) == 0, "a stopped sleep's length");
    printf("a 0.4 s sleep, stopped and continued midway, lasts 0.4 s\n");

    fflush(stdout);
    const unsigned mxcsr = read_mxcsr();
    write_mxcsr((mxcsr & ~0x6000u) | MXCSR_ROUND_UP);
    /* Enough forks for fork's own site to be patched: the child's FPU state is its parent's each time. */
    int inherited = 0;
    for (int i = 0; i < 24; i++) {
        pid_t quick = fork();
        if (quick == 0)
            _exit((read_mxcsr() & 0x6000u) == MXCSR_ROUND_UP ? 0 : 2);
        int quick_status = 0;
        waitpid(quick, &quick_status, 0);
        inherited += WIFEXITED(quick_status) && WEXITSTATUS(quick_status) == 0;
    }
    check(inherited == 24, "the FPU state of forked children");
    pid_t child = fork();
    if (child == 0) {
        if ((read_mxcsr() & 0x6000u) != MXCSR_ROUND_UP)
            _exit(2);
        for (int i = 0; i < CALLS; i++)
            if (getppid() == parent)
                _exit(1); /* the child's parent is us, not ours */
        char number[16];
        snprintf(number, sizeof(number), "%d", (int)getppid());
        execl("/proc/self/exe", argv[0], "child", number, (char *)NULL);
        _exit(3);
    }
    write_mxcsr(mxcsr);
    int status = 0;
    waitpid(child, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork, then exec of a fresh image");
    printf("a forked child has its parent's FPU state, runs the patched sites, then execs a fresh image\n");

    printf("%s\n", failures ? "some checks failed" : "all checks passed");
    return failures ? 1 : 0;
}
