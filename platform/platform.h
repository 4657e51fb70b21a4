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
    struct user_fpregs_struct floating_point;  /* fxsave image; valid when floating_point_valid */
    bool floating_point_valid;  /* false after get_registers: fetch with get_floating_point when needed */
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
    bool patchable;   /* a syscall made by a trapping syscall instruction just before rip (see below) */
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
    /* Registers the thread will resume with / has stopped with. get_registers may leave the FPU state out
     * (floating_point_valid false: it costs cache traffic most stops do not need); get_floating_point then
     * fetches it (NULL: get_registers always includes it). set_registers changes the FPU state only when
     * floating_point_valid. */
    int (*get_registers)(struct platform_context *context, struct platform_registers *registers);
    int (*get_floating_point)(struct platform_context *context, struct user_fpregs_struct *floating_point);
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
    /* The platform has a fast path for patched syscalls (below): stops report patchable syscalls. */
    bool fast_syscalls;
};

/* Syscall patching, for a platform with fast_syscalls. A syscall instruction that traps costs a signal. The
 * common "mov $nr, %eax; syscall" (7 bytes) may instead become "jmp *thunk" (7 bytes), where the thunk, in a
 * per-process table at a fixed low address, runs the displaced instruction, sets rcx to the return address
 * and enters the fast path,
 * which posts the syscall to the Sentry without a signal. The table's address makes the patch's sixth byte,
 * where the syscall instruction began, an invalid opcode: a thread that executed the old mov, or that jumps
 * to the old syscall instruction (a restart), faults there with SIGILL, and the Sentry takes that fault as
 * the syscall it stands for (PLATFORM_PATCH_SYSCALL_OFFSET). The patch is written so that every intermediate
 * state is either the old code or faults at that byte: byte 5 first, then bytes 1-6, then byte 0. */
#define PLATFORM_THUNK_TABLE_ADDRESS 0x60000ULL
#define PLATFORM_THUNK_TABLE_SIZE 0x10000ULL
#define PLATFORM_THUNK_SIZE 32ULL /* the table's first thunk-sized piece is its header */
#define PLATFORM_PATCH_SIZE 7
#define PLATFORM_PATCH_SYSCALL_OFFSET 5
#define PLATFORM_PATCH_DISPLACED_SIZE 5 /* the instruction before the syscall, which the thunk runs instead */
/* The 7 bytes are a syscall (of this number) after an instruction the thunk can run in its place. */
bool platform_is_patchable_syscall(const uint8_t code[PLATFORM_PATCH_SIZE], uint64_t number);
void platform_write_thunk_table_header(uint8_t header[PLATFORM_THUNK_SIZE]);
void platform_write_thunk(uint8_t thunk[PLATFORM_THUNK_SIZE], uint64_t thunk_address,
                          const uint8_t displaced[PLATFORM_PATCH_DISPLACED_SIZE], uint64_t return_address);
void platform_write_patch(uint8_t patch[PLATFORM_PATCH_SIZE], uint64_t thunk_address);
/* Where a thunk returns to (0 if it is not one). */
uint64_t platform_thunk_return_address(const uint8_t thunk[PLATFORM_THUNK_SIZE]);

extern const struct platform_ops platform_ptrace_ops;
extern const struct platform_ops platform_seccomp_trap_ops;
const struct platform_ops *platform_by_name(const char *name);  /* "ptrace", "seccomp-trap"; NULL if unknown */

#endif
