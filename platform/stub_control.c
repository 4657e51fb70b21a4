/* platform/stub_control.c: what both platforms do to stubs through ptrace: create the template stub (a fork
 * of the Sentry emptied down to the stub region), wait for stops, run one host syscall at the trampoline. */
#include "platform/internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define RSEQ_FLAG_UNREGISTER 1
#define RSEQ_SIGNATURE 0x53053053 /* glibc's RSEQ_SIG on x86 */
#define USER_ADDRESS_END 0x7ffffffff000ULL /* the highest user address with 4-level page tables */

int stub_wait_for(pid_t pid, int *status)
{
    for (;;) {
        pid_t got = waitpid(pid, status, __WALL);
        if (got == pid)
            return 0;
        if (got < 0 && errno != EINTR)
            return -errno;
    }
}

long stub_inject_syscall(pid_t tid, long number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                         uint64_t a5, pid_t *forked_child)
{
    struct user_regs_struct saved, registers;
    if (ptrace(PTRACE_GETREGS, tid, 0, &saved) < 0)
        return -errno;
    registers = saved;
    registers.rip = STUB_SYSCALL_ADDRESS;
    registers.rax = (uint64_t)number;
    registers.orig_rax = (uint64_t)-1;
    registers.rdi = a0;
    registers.rsi = a1;
    registers.rdx = a2;
    registers.r10 = a3;
    registers.r8 = a4;
    registers.r9 = a5;
    if (ptrace(PTRACE_SETREGS, tid, 0, &registers) < 0)
        return -errno;
    if (ptrace(PTRACE_CONT, tid, 0, 0) < 0)
        return -errno;
    for (;;) {
        int status;
        int error = stub_wait_for(tid, &status);
        if (error < 0)
            return error;
        if (!WIFSTOPPED(status)) {
            log_error("stub %d died during an injected syscall %ld (status %#x)", tid, number, status);
            return -ESRCH;
        }
        if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_FORK << 8)) || status >> 8 == (SIGTRAP | (PTRACE_EVENT_CLONE << 8))) {
            unsigned long child = 0;
            if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &child) < 0)
                return -errno;
            if (forked_child)
                *forked_child = (pid_t)child;
        } else if (WSTOPSIG(status) == SIGTRAP) {
            break;  /* the int3 after the syscall */
        } else if (WSTOPSIG(status) == SIGSEGV || WSTOPSIG(status) == SIGBUS || WSTOPSIG(status) == SIGILL ||
                   WSTOPSIG(status) == SIGFPE || WSTOPSIG(status) == SIGSYS) {
            struct user_regs_struct at;
            siginfo_t info = {0};
            ptrace(PTRACE_GETREGS, tid, 0, &at);
            ptrace(PTRACE_GETSIGINFO, tid, 0, &info);
            log_error("stub %d took signal %d (code %d, address %p) at %#llx during injected syscall %ld",
                      tid, WSTOPSIG(status), info.si_code, info.si_addr, at.rip, number);
            ptrace(PTRACE_SETREGS, tid, 0, &saved);
            return -EFAULT;
        }
        /* Anything else (our own interrupt SIGSTOP) is dropped: the Sentry asks again if it still cares. */
        if (ptrace(PTRACE_CONT, tid, 0, 0) < 0)
            return -errno;
    }
    if (ptrace(PTRACE_GETREGS, tid, 0, &registers) < 0)
        return -errno;
    long result = (long)registers.rax;
    if (ptrace(PTRACE_SETREGS, tid, 0, &saved) < 0)
        return -errno;
    return result;
}


int stub_spawn_stopped(pid_t tid, long number, uint64_t flags, uint64_t child_tid_address, pid_t *created)
{
    pid_t child = -1;
    long result = stub_inject_syscall(tid, number, flags, 0, 0, child_tid_address, 0, 0, &child);
    if (result < 0) {
        if (result > -4096)
            log_error("stub %d: %s failed: %s", tid, number == SYS_fork ? "fork" : "clone", strerror((int)-result));
        return (int)result;
    }
    if (child <= 0)
        return -ECHILD;
    int status;
    int error = stub_wait_for(child, &status);
    if (error < 0)
        return error;
    if (!WIFSTOPPED(status)) {
        log_error("the new stub %d of stub %d did not stop (status %#x)", child, tid, status);
        return -ECHILD;
    }
    *created = child;
    return 0;
}

int stub_template_create(const char *platform, int (*prepare)(void *argument), void *argument,
                         uint64_t filter_header_address, pid_t *template_out)
{
    pid_t sentry = getpid();
    pid_t child = fork();
    if (child < 0)
        return -errno;
    if (child == 0) {
        /* Only async-signal-safe calls: this is a copy of the Sentry, soon to be emptied. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != sentry)
            _exit(127);
        struct sigaction default_action = {.sa_handler = SIG_DFL};
        for (int signal = 1; signal < 65; signal++)
            sigaction(signal, &default_action, NULL);
        /* Every stub is a child of the template: ignoring SIGCHLD lets the host reap them once the Sentry
         * has seen their exit, and keeps the template from stopping for each one. */
        struct sigaction ignore_action = {.sa_handler = SIG_IGN};
        sigaction(SIGCHLD, &ignore_action, NULL);
        if (prepare(argument) != 0)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* glibc registered rseq for this thread; its area is about to be unmapped, and the kernel would fault
         * the stub (SIGSEGV) at its next return to user space while updating it. Unregistering takes the length
         * registered (the whole struct), not __rseq_size, which newer glibc reports as the feature size. */
        if (__rseq_size > 0 && syscall(SYS_rseq, (char *)__builtin_thread_pointer() + __rseq_offset,
                                       sizeof(struct rseq), RSEQ_FLAG_UNREGISTER, RSEQ_SIGNATURE) < 0)
            _exit(127);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
            _exit(127);
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
            _exit(127);
        kill(getpid(), SIGSTOP);
        _exit(127);
    }
    int status;
    int error = stub_wait_for(child, &status);
    if (error < 0)
        return error;
    if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
        log_error("%s: the stub template did not stop as expected (status %#x)", platform, status);
        return -ECHILD;
    }
    long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEFORK | PTRACE_O_TRACECLONE;
    if (ptrace(PTRACE_SETOPTIONS, child, 0, options) < 0)
        return -errno;
    /* The filter first, then everything outside the stub region goes. */
    long result = stub_inject_syscall(child, SYS_seccomp, SECCOMP_SET_MODE_FILTER_VALUE, 0, filter_header_address, 0, 0,
                                      0, NULL);
    if (result == 0)
        result = stub_inject_syscall(child, SYS_munmap, 0, STUB_CODE_ADDRESS, 0, 0, 0, 0, NULL);
    if (result == 0)
        result = stub_inject_syscall(child, SYS_munmap, STUB_CODE_ADDRESS + STUB_REGION_SIZE,
                                     USER_ADDRESS_END - (STUB_CODE_ADDRESS + STUB_REGION_SIZE), 0, 0, 0, 0, NULL);
    if (result != 0) {
        log_error("%s: preparing the stub template failed: %s", platform,
                  result < 0 && result > -4096 ? strerror((int)-result) : "unexpected result");
        kill(child, SIGKILL);
        stub_wait_for(child, &status);
        return result < 0 && result > -4096 ? (int)result : -EINVAL;
    }
    *template_out = child;
    return 0;
}
