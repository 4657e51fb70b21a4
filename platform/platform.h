/* platform: how application syscalls reach the Sentry. A stub is a host process whose address space the
 * Sentry owns; the platform runs it until it makes a syscall or takes a fault, and changes its mappings.
 * Two implementations: ptrace (PTRACE_SYSEMU) and seccomp-trap; both behind this one interface. */
#ifndef USANDBOX_PLATFORM_H
#define USANDBOX_PLATFORM_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* Fixed layout of every stub: a trampoline page (code) at STUB_CODE_ADDRESS; the memory file at fd
 * STUB_MEMORY_FD. Application memory is everything below APPLICATION_ADDRESS_LIMIT. */
#define STUB_CODE_ADDRESS 0x7e0000000000ULL
#define STUB_REGION_SIZE 0x10000ULL
#define APPLICATION_ADDRESS_LIMIT STUB_CODE_ADDRESS
#define STUB_MEMORY_FD 3

/* Registers of an application thread, as the Sentry sees and changes them. */
struct platform_registers {
    struct user_regs_struct general;
    struct user_fpregs_struct floating_point;  /* fxsave image; valid when fp_valid */
    bool floating_point_valid;
};

enum platform_stop_kind {
    PLATFORM_STOP_SYSCALL,   /* registers hold a syscall: orig_rax and arguments */
    PLATFORM_STOP_FAULT,     /* a synchronous signal (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) from app code */
    PLATFORM_STOP_INTERRUPT, /* the Sentry asked the thread to stop (platform_interrupt) */
    PLATFORM_STOP_EXITED,    /* the host process is gone (killed from outside) */
};
struct platform_stop {
    enum platform_stop_kind kind;
    siginfo_t fault;  /* for PLATFORM_STOP_FAULT */
};

struct platform_context;  /* one per application thread: its host thread */
struct platform_address_space;  /* one per stub process */

struct platform_ops {
    const char *name;
    int (*initialize)(int memory_fd);
    /* A new, empty stub process (its address space holds only the trampoline). */
    int (*address_space_new)(struct platform_address_space **out, struct platform_context **first_thread);
    void (*address_space_destroy)(struct platform_address_space *space);
    /* Make the stub's mapping of [address, address+length) follow the Sentry's: memory-file offset. */
    int (*map)(struct platform_address_space *space, uint64_t address, uint64_t length, int protection,
               uint64_t file_offset);
    int (*unmap)(struct platform_address_space *space, uint64_t address, uint64_t length);
    int (*protect)(struct platform_address_space *space, uint64_t address, uint64_t length, int protection);
    /* Registers the thread will resume with / has stopped with. */
    int (*get_registers)(struct platform_context *context, struct platform_registers *registers);
    int (*set_registers)(struct platform_context *context, const struct platform_registers *registers);
    /* Resume application code; the stop is reported by wait_any. */
    int (*resume)(struct platform_context *context);
    /* Kick a running thread so that it stops soon with PLATFORM_STOP_INTERRUPT. */
    int (*interrupt)(struct platform_context *context);
    void (*context_destroy)(struct platform_context *context);
    /* CLONE_THREAD: a new host thread in creator's stub process, stopped, for the Sentry to set up. */
    int (*thread_new)(struct platform_context *creator, struct platform_context **out);
    /* End the host thread of a stopped context whose task exited alone (exit(2) in a thread group). */
    void (*thread_exit)(struct platform_context *context);
    /* Mapping changes of space go through this thread, which the Sentry knows is stopped (the caller's). */
    void (*address_space_use_thread)(struct platform_address_space *space, struct platform_context *stopped);
    void *(*context_user)(struct platform_context *context);  /* the owner's pointer, set by context_set_user */
    void (*context_set_user)(struct platform_context *context, void *user);
    /* The host fd the event loop polls for stops (signalfd for ptrace); then collect them without blocking:
     * returns 1 and fills stop/context when a thread stopped, 0 when none, -errno on failure. */
    int (*event_fd)(void);
    int (*collect_stop)(struct platform_context **context, struct platform_stop *stop);
    /* Optional (NULL: the loop sleeps in poll at once). Called when the loop has nothing to run, before it
     * would sleep in poll: spins a bounded, adaptive time on the running threads. Returns 1 when a stop is
     * ready (the loop collects it without sleeping), 0 when the loop may sleep on event_fd(). */
    int (*spin_for_stop)(void);
    /* The stub's host process id (in the Sentry's pid namespace): the Sentry reads the process's CPU time
     * through its host CPU-time clock. */
    pid_t (*host_process)(struct platform_address_space *space);
};

extern const struct platform_ops platform_ptrace_ops;
extern const struct platform_ops platform_seccomp_trap_ops;
const struct platform_ops *platform_by_name(const char *name);  /* "ptrace", "seccomp-trap"; NULL if unknown */

#endif
