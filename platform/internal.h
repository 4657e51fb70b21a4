/* platform/internal.h: what the platform implementations share: the trampoline page's layout and the
 * stub seccomp filter builder (unit-tested on its own). */
#ifndef USANDBOX_PLATFORM_INTERNAL_H
#define USANDBOX_PLATFORM_INTERNAL_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"
#include "platform/platform.h"
#include "platform/trap_layout.h"

#define STUB_SYSCALL_ADDRESS STUB_CODE_ADDRESS
#define STUB_SYSCALL_RETURN_ADDRESS (STUB_CODE_ADDRESS + 2) /* the ip seccomp sees: after "syscall" */
#define STUB_FILTER_HEADER_OFFSET 0x80
#define STUB_FILTER_OFFSET 0x100
#define SECCOMP_SET_MODE_FILTER_VALUE 1 /* SECCOMP_SET_MODE_FILTER */

size_t stub_build_filter(struct sock_filter *program, size_t capacity, uint64_t allowed_instruction_pointer);
int stub_page_install(void);

/* stub_control.c: a stub thread stopped under ptrace. Wait for its next stop (0 or -errno); run one host
 * syscall in it at the trampoline and stop it again: the result, or -errno if the stub could not run it
 * (a fault in the stub is -EFAULT). A process or thread the syscall creates is reported in *created. */
int stub_wait_for(pid_t pid, int *status);
long stub_inject_syscall(pid_t tid, long number, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                         uint64_t a5, pid_t *created);
/* fork, or clone(flags) (child_tid_address for CLONE_CHILD_SETTID/CLEARTID), injected in stub tid, then the
 * new process's or thread's first stop: 0 with its id in *created, or -errno. */
int stub_spawn_stopped(pid_t tid, long number, uint64_t flags, uint64_t child_tid_address, pid_t *created);
/* Fork the template stub: in the child, prepare(argument) sets up what the platform needs (fds, signal
 * handlers; async-signal-safe calls only; non-zero fails), then it stops traced; the Sentry installs the
 * filter whose sock_fprog is at filter_header_address and unmaps all but the stub region. */
int stub_template_create(const char *platform, int (*prepare)(void *argument), void *argument,
                         uint64_t filter_header_address, pid_t *template_out);

/* ---- seccomp-trap (platform/seccomp_trap*.c) ----
 * Stub layout above the ptrace trampoline: the handlers' code page and the two filters in the same read-only
 * region; after the region, the memory shared with the Sentry: a page the stub may only read, then one 16 KiB
 * area per stub thread: its slot (4 KiB, see trap_layout.h), then its signal stack. Addresses and offsets the
 * handlers' machine code uses are in trap_layout.h. */
#define TRAP_SYSCALL_RETURN_ADDRESS (TRAP_CODE_ADDRESS + TRAP_SYSCALL_OFFSET + 2) /* the one ip the filter allows */
#define TRAP_RESTORER_ADDRESS (TRAP_CODE_ADDRESS + TRAP_RESTORER_OFFSET)
#define TRAP_HANDLER_ADDRESS (TRAP_CODE_ADDRESS + TRAP_HANDLER_OFFSET)
#define TRAP_FAST_ENTRY_ADDRESS (TRAP_CODE_ADDRESS + TRAP_FAST_ENTRY_OFFSET)
#define TRAP_TEMPLATE_FILTER_OFFSET 0x2000 /* struct sock_fprog, then the program at +0x100 */
#define TRAP_APPLICATION_FILTER_OFFSET 0x3000
#define TRAP_FILTER_MAXIMUM 64
#define TRAP_SLOT_SIZE 0x1000ULL
#define TRAP_THREADS_ADDRESS (TRAP_SHARED_ADDRESS + TRAP_THREAD_AREA_SIZE)
#define TRAP_THREADS_MAXIMUM 32
#define TRAP_SPACE_AREA_SIZE (TRAP_THREADS_MAXIMUM * TRAP_THREAD_AREA_SIZE)
#define STUB_TRAP_FILE_FD 5 /* the shared-memory file; only the (never-running) template and mapper hold it */
#define TRAP_INTERRUPT_SIGNAL SIGUSR2

/* One per stub thread; written by the handlers (offsets in trap_layout.h) and by application code at will:
 * the Sentry copies each field once and validates it. */
struct trap_slot {
    uint32_t state;         /* futex word */
    uint32_t stub_sleeping; /* the handler is (about to be) in FUTEX_WAIT: the Sentry must wake it */
    uint64_t frame;         /* stub address of the signal frame's ucontext */
    uint64_t siginfo;       /* stub address of its siginfo */
    uint64_t wake_value;    /* the 8 bytes written to STUB_WAKE_FD */
    uint32_t command;       /* TRAP_COMMAND_*, read by the handler after the answer */
    uint32_t cpu;           /* where the request was posted from: (node << 12) | cpu (the first cache line
                             * holds everything both sides touch on each request) */
    uint64_t fs_base;       /* with TRAP_COMMAND_SET_FS */
    uint32_t host_tid;      /* set by clone, cleared by the kernel when the host thread is gone */
    uint32_t kind;          /* TRAP_KIND_SIGNAL (frame, siginfo) or TRAP_KIND_FAST (registers, fxsave) */
    uint32_t fpu_dirty;     /* set by the Sentry: the fast handler restores fxsave before returning */
    uint32_t reserved2;
    uint64_t self;          /* the area's address in the stub */
};
/* A fast request's registers (TRAP_SLOT_REGISTERS); rip is the address after the patched syscall. */
struct trap_fast_registers {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi, rip, rflags, rsp;
};
/* The page every stub maps read-only: only the Sentry writes it. */
struct trap_shared_page {
    uint32_t sentry_sleeping;      /* a stub that posts a request must then write STUB_WAKE_FD */
    uint32_t stub_spin_iterations; /* pause loops before the handler sleeps in FUTEX_WAIT */
    uint32_t sentry_cpu;           /* where the Sentry last spun: a stub spinning there yields to it */
    uint32_t stub_yield_mask;      /* a spinning stub considers yielding every (mask + 1) pauses (~5 us) */
    uint8_t padding[48];
    uint32_t sentry_spinning;      /* the Sentry spins for requests (it answers within microseconds) */
};

/* The filter every stub process starts under (template, mapper): host syscalls pass from the ptrace
 * trampoline (set-up work, all under ptrace) and, for the handler, from the trap trampoline; anything else
 * traps (SIGSYS). The application filter is stacked on it in every thread that runs application code. */
size_t trap_build_template_filter(struct sock_filter *program, size_t capacity, uint64_t setup_instruction_pointer,
                                  uint64_t trap_instruction_pointer);
size_t trap_build_application_filter(struct sock_filter *program, size_t capacity, uint64_t trap_instruction_pointer);
/* The handlers' code (seccomp_trap_handler.S), copied to TRAP_CODE_ADDRESS: fast requests are posted at
 * trap_fast_posted, and the fast path's code ends at trap_fast_end. */
extern const uint8_t trap_code_start[], trap_code_end[], trap_fast_posted[], trap_fast_end[];
/* Writes the handler and both filters into the stub region (after stub_page_install). */
int trap_page_install(void);

#endif
