/* platform/stub_control.c: driving a stub thread that is stopped under ptrace, shared by both platforms:
 * waiting for its stops, and making it run one host syscall at the trampoline (mappings, fork, clone). */
#include "platform/internal.h"

#include <errno.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>

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

