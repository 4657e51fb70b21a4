/* platform/trap_layout.h: the fixed layout the seccomp-trap handlers' machine code and the Sentry agree on:
 * addresses in every stub, and offsets in a thread's slot. Plain #defines: included by C and by assembly. */
#ifndef USANDBOX_PLATFORM_TRAP_LAYOUT_H
#define USANDBOX_PLATFORM_TRAP_LAYOUT_H

#define TRAP_STUB_CODE_ADDRESS 0x7e0000000000
#define TRAP_CODE_ADDRESS (TRAP_STUB_CODE_ADDRESS + 0x1000)
#define TRAP_SHARED_ADDRESS (TRAP_STUB_CODE_ADDRESS + 0x10000)

/* Offsets inside the handlers' code (trap_code_start, platform/seccomp_trap_handler.S). */
#define TRAP_SYSCALL_OFFSET 0x0   /* "syscall; ret": the one instruction the application filter lets through */
#define TRAP_RESTORER_OFFSET 0x10
#define TRAP_HANDLER_OFFSET 0x20  /* SIGSYS and faults */
#define TRAP_FAST_ENTRY_OFFSET 0x200 /* patched syscalls jump here, through their thunk */

/* A thread's slot: the first page of its area; the area's address is its %gs base. */
#define TRAP_SLOT_STATE 0x00        /* u32 futex word: IDLE, REQUEST, RESPONSE */
#define TRAP_SLOT_STUB_SLEEPING 0x04 /* u32 */
#define TRAP_SLOT_FRAME 0x08        /* u64: signal frame (ucontext) of a signal request */
#define TRAP_SLOT_SIGINFO 0x10      /* u64 */
#define TRAP_SLOT_WAKE_VALUE 0x18   /* u64: written to the Sentry's eventfd */
#define TRAP_SLOT_COMMAND 0x20      /* u32 */
#define TRAP_SLOT_CPU 0x24          /* u32: the CPU the request was posted from, (node << 12) | cpu */
#define TRAP_SLOT_FS_BASE 0x28      /* u64 */
#define TRAP_SLOT_HOST_TID 0x30     /* u32, cleared by the kernel at the host thread's death */
#define TRAP_SLOT_KIND 0x34         /* u32: TRAP_KIND_SIGNAL or TRAP_KIND_FAST */
#define TRAP_SLOT_FPU_DIRTY 0x38    /* u32: the Sentry changed the saved FPU state: restore it */
#define TRAP_SLOT_SELF 0x40         /* u64: the area's own address (the fast handler cannot read %gs base) */
#define TRAP_SLOT_SIGNAL_STACK_DESCRIPTOR 0x100 /* stack_t, only while the thread is set up */
#define TRAP_SLOT_REGISTERS 0x140   /* struct trap_fast_registers of a fast request */
#define TRAP_SLOT_FXSAVE 0x200      /* 512 bytes: FPU and SSE state of a fast request */
#define TRAP_FAST_STACK_TOP 0x1000  /* the fast handler's few bytes of stack end with the slot page */

/* struct trap_fast_registers, in user_regs_struct's order. */
#define TRAP_REGISTER_R15 0x00
#define TRAP_REGISTER_R14 0x08
#define TRAP_REGISTER_R13 0x10
#define TRAP_REGISTER_R12 0x18
#define TRAP_REGISTER_RBP 0x20
#define TRAP_REGISTER_RBX 0x28
#define TRAP_REGISTER_R11 0x30
#define TRAP_REGISTER_R10 0x38
#define TRAP_REGISTER_R9 0x40
#define TRAP_REGISTER_R8 0x48
#define TRAP_REGISTER_RAX 0x50
#define TRAP_REGISTER_RCX 0x58
#define TRAP_REGISTER_RDX 0x60
#define TRAP_REGISTER_RSI 0x68
#define TRAP_REGISTER_RDI 0x70
#define TRAP_REGISTER_RIP 0x78
#define TRAP_REGISTER_RFLAGS 0x80
#define TRAP_REGISTER_RSP 0x88

#define TRAP_SLOT_IDLE 0
#define TRAP_SLOT_REQUEST 1
#define TRAP_SLOT_RESPONSE 2
#define TRAP_KIND_SIGNAL 0
#define TRAP_KIND_FAST 1
#define TRAP_COMMAND_SET_FS 1
#define TRAP_COMMAND_EXIT 2

/* The shared page (read-only in stubs). */
#define TRAP_SHARED_SENTRY_SLEEPING 0x0 /* u32 */
#define TRAP_SHARED_STUB_SPIN_ITERATIONS 0x4 /* u32 */
#define TRAP_SHARED_SENTRY_CPU 0x8 /* u32: the CPU the Sentry spins on */
#define TRAP_SHARED_STUB_YIELD_MASK 0xc /* u32: a spinning stub considers yielding every (mask + 1) pauses */
#define TRAP_SHARED_SENTRY_SPINNING 0x40 /* u32, in a cache line of its own: the Sentry spins for requests */

/* The segment whose limit Linux sets to (node << 12) | cpu on each CPU: "lsl" reads it in user mode (what the
 * vDSO's getcpu does without RDPID). */
#define TRAP_CPU_SEGMENT 0x7b

#define TRAP_THREAD_AREA_SIZE 0x4000
#define TRAP_INTERRUPT_SIGNAL_NUMBER 12 /* SIGUSR2 */
#define STUB_WAKE_FD 4 /* eventfd: a stub wakes a sleeping Sentry; only write(2) on it is allowed */

#endif
