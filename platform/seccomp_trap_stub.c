/* platform/seccomp_trap_stub.c: what seccomp-trap puts in every stub: the SIGSYS/fault handler (hand-assembled
 * machine code, listed with its assembly) and the two hand-written BPF filters that confine stubs. */
#include "platform/internal.h"

#include <asm/prctl.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

/* The handler runs on the thread's signal stack inside its 16 KiB area: rdi = signal, rsi = siginfo,
 * rdx = ucontext. It publishes the frame in the slot (the area's first page, found by rounding rsp down),
 * wakes the Sentry if it sleeps, spins a bounded number of times on the slot (yielding now and then), then
 * sleeps in FUTEX_WAIT on it; once answered it applies fs_base (or exits the thread) and rt_sigreturns with
 * the frame the Sentry rewrote. It touches neither the application's stack nor its memory. The slot offsets (internal.h) and
 * TRAP_SHARED_ADDRESS are wired into the code: rebuild with `as` + `objdump -d -w` if they change. */
const uint8_t trap_handler_code[] = {
    /* ---- trap_syscall (+0x00): the only syscall instruction the application filter lets through */
    /*   0 */ 0x0f, 0x05,                                          /* syscall */
    /*   2 */ 0xc3,                                                /* ret */
    /* ---- padding */
    /*   3 */ 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,  /* data16 cs nopw 0x0(%rax,%rax,1) */
    /*   e */ 0x66, 0x90,                                          /* xchg %ax,%ax */
    /* ---- trap_restorer (+0x10): sa_restorer, never used (the handler rt_sigreturns itself) */
    /*  10 */ 0xb8, 0x0f, 0x00, 0x00, 0x00,                        /* mov $0xf,%eax */
    /*  15 */ 0xeb, 0xe9,                                          /* jmp 0 <trap_syscall> */
    /* ---- padding */
    /*  17 */ 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00,  /* nopw 0x0(%rax,%rax,1) */
    /* ---- trap_handler (+0x20): rbx = ucontext, r12 = slot; publish frame, siginfo; state = REQUEST (xchg) */
    /*  20 */ 0x48, 0x89, 0xd3,                                    /* mov %rdx,%rbx */
    /*  23 */ 0x49, 0x89, 0xe4,                                    /* mov %rsp,%r12 */
    /*  26 */ 0x49, 0x81, 0xe4, 0x00, 0xc0, 0xff, 0xff,            /* and $0xffffffffffffc000,%r12 */
    /*  2d */ 0x49, 0x89, 0x54, 0x24, 0x08,                        /* mov %rdx,0x8(%r12) */
    /*  32 */ 0x49, 0x89, 0x74, 0x24, 0x10,                        /* mov %rsi,0x10(%r12) */
    /*  37 */ 0x41, 0xc7, 0x44, 0x24, 0x04, 0x00, 0x00, 0x00, 0x00,  /* movl $0x0,0x4(%r12) */
    /*  40 */ 0xb8, 0x01, 0x00, 0x00, 0x00,                        /* mov $0x1,%eax */
    /*  45 */ 0x41, 0x87, 0x04, 0x24,                              /* xchg %eax,(%r12) */
    /* ---- shared->sentry_sleeping: write(STUB_WAKE_FD, &slot->wake_value, 8) wakes its poll */
    /*  49 */ 0x49, 0xbd, 0x00, 0x00, 0x01, 0x00, 0x00, 0x7e, 0x00, 0x00,  /* movabs $0x7e0000010000,%r13 */
    /*  53 */ 0x41, 0x83, 0x7d, 0x00, 0x00,                        /* cmpl $0x0,0x0(%r13) */
    /*  58 */ 0x74, 0x22,                                          /* je 7c <trap_handler+0x5c> */
    /*  5a */ 0x49, 0xc7, 0x44, 0x24, 0x18, 0x01, 0x00, 0x00, 0x00,  /* movq $0x1,0x18(%r12) */
    /*  63 */ 0xb8, 0x01, 0x00, 0x00, 0x00,                        /* mov $0x1,%eax */
    /*  68 */ 0xbf, 0x04, 0x00, 0x00, 0x00,                        /* mov $0x4,%edi */
    /*  6d */ 0x49, 0x8d, 0x74, 0x24, 0x18,                        /* lea 0x18(%r12),%rsi */
    /*  72 */ 0xba, 0x08, 0x00, 0x00, 0x00,                        /* mov $0x8,%edx */
    /*  77 */ 0xe8, 0x84, 0xff, 0xff, 0xff,                        /* call 0 <trap_syscall> */
    /* ---- spin: up to shared->stub_spin_iterations pauses while state != RESPONSE, yield every 64 */
    /*  7c */ 0x41, 0x8b, 0x4d, 0x04,                              /* mov 0x4(%r13),%ecx */
    /*  80 */ 0x85, 0xc9,                                          /* test %ecx,%ecx */
    /*  82 */ 0x74, 0x24,                                          /* je a8 <trap_handler+0x88> */
    /*  84 */ 0x41, 0x83, 0x3c, 0x24, 0x02,                        /* cmpl $0x2,(%r12) */
    /*  89 */ 0x74, 0x49,                                          /* je d4 <trap_handler+0xb4> */
    /*  8b */ 0xf3, 0x90,                                          /* pause */
    /*  8d */ 0xff, 0xc9,                                          /* dec %ecx */
    /*  8f */ 0x74, 0x17,                                          /* je a8 <trap_handler+0x88> */
    /*  91 */ 0xf6, 0xc1, 0x3f,                                    /* test $0x3f,%cl */
    /*  94 */ 0x75, 0xee,                                          /* jne 84 <trap_handler+0x64> */
    /*  96 */ 0x41, 0x89, 0xce,                                    /* mov %ecx,%r14d */
    /*  99 */ 0xb8, 0x18, 0x00, 0x00, 0x00,                        /* mov $0x18,%eax */
    /*  9e */ 0xe8, 0x5d, 0xff, 0xff, 0xff,                        /* call 0 <trap_syscall> */
    /*  a3 */ 0x44, 0x89, 0xf1,                                    /* mov %r14d,%ecx */
    /*  a6 */ 0xeb, 0xdc,                                          /* jmp 84 <trap_handler+0x64> */
    /* ---- sleep: stub_sleeping = 1, fence, re-check, futex(&slot->state, FUTEX_WAIT, REQUEST, NULL), again */
    /*  a8 */ 0x41, 0xc7, 0x44, 0x24, 0x04, 0x01, 0x00, 0x00, 0x00,  /* movl $0x1,0x4(%r12) */
    /*  b1 */ 0x0f, 0xae, 0xf0,                                    /* mfence */
    /*  b4 */ 0x41, 0x83, 0x3c, 0x24, 0x02,                        /* cmpl $0x2,(%r12) */
    /*  b9 */ 0x74, 0x19,                                          /* je d4 <trap_handler+0xb4> */
    /*  bb */ 0xb8, 0xca, 0x00, 0x00, 0x00,                        /* mov $0xca,%eax */
    /*  c0 */ 0x4c, 0x89, 0xe7,                                    /* mov %r12,%rdi */
    /*  c3 */ 0x31, 0xf6,                                          /* xor %esi,%esi */
    /*  c5 */ 0xba, 0x01, 0x00, 0x00, 0x00,                        /* mov $0x1,%edx */
    /*  ca */ 0x45, 0x31, 0xd2,                                    /* xor %r10d,%r10d */
    /*  cd */ 0xe8, 0x2e, 0xff, 0xff, 0xff,                        /* call 0 <trap_syscall> */
    /*  d2 */ 0xeb, 0xd4,                                          /* jmp a8 <trap_handler+0x88> */
    /* ---- answered: command EXIT -> exit(0); SET_FS -> arch_prctl(ARCH_SET_FS, slot->fs_base) */
    /*  d4 */ 0x41, 0xc7, 0x44, 0x24, 0x04, 0x00, 0x00, 0x00, 0x00,  /* movl $0x0,0x4(%r12) */
    /*  dd */ 0x41, 0x8b, 0x44, 0x24, 0x20,                        /* mov 0x20(%r12),%eax */
    /*  e2 */ 0xa8, 0x02,                                          /* test $0x2,%al */
    /*  e4 */ 0x75, 0x36,                                          /* jne 11c <trap_handler+0xfc> */
    /*  e6 */ 0xa8, 0x01,                                          /* test $0x1,%al */
    /*  e8 */ 0x74, 0x1d,                                          /* je 107 <trap_handler+0xe7> */
    /*  ea */ 0x41, 0xc7, 0x44, 0x24, 0x20, 0x00, 0x00, 0x00, 0x00,  /* movl $0x0,0x20(%r12) */
    /*  f3 */ 0xb8, 0x9e, 0x00, 0x00, 0x00,                        /* mov $0x9e,%eax */
    /*  f8 */ 0xbf, 0x02, 0x10, 0x00, 0x00,                        /* mov $0x1002,%edi */
    /*  fd */ 0x49, 0x8b, 0x74, 0x24, 0x28,                        /* mov 0x28(%r12),%rsi */
    /* 102 */ 0xe8, 0xf9, 0xfe, 0xff, 0xff,                        /* call 0 <trap_syscall> */
    /* ---- state = IDLE; rsp = ucontext; rt_sigreturn into the registers the Sentry wrote */
    /* 107 */ 0x41, 0xc7, 0x04, 0x24, 0x00, 0x00, 0x00, 0x00,      /* movl $0x0,(%r12) */
    /* 10f */ 0x48, 0x89, 0xdc,                                    /* mov %rbx,%rsp */
    /* 112 */ 0xb8, 0x0f, 0x00, 0x00, 0x00,                        /* mov $0xf,%eax */
    /* 117 */ 0xe9, 0xe4, 0xfe, 0xff, 0xff,                        /* jmp 0 <trap_syscall> */
    /* ---- exit this host thread (thread_exit) */
    /* 11c */ 0xb8, 0x3c, 0x00, 0x00, 0x00,                        /* mov $0x3c,%eax */
    /* 121 */ 0x31, 0xff,                                          /* xor %edi,%edi */
    /* 123 */ 0xe9, 0xd8, 0xfe, 0xff, 0xff,                        /* jmp 0 <trap_syscall> */
};
const size_t trap_handler_code_size = sizeof(trap_handler_code);

_Static_assert(offsetof(struct trap_slot, stub_sleeping) == 4 && offsetof(struct trap_slot, frame) == 8 &&
                   offsetof(struct trap_slot, siginfo) == 16 && offsetof(struct trap_slot, wake_value) == 24 &&
                   offsetof(struct trap_slot, command) == 32 && offsetof(struct trap_slot, fs_base) == 40,
               "the handler's machine code hard-codes these offsets");
_Static_assert(TRAP_SHARED_ADDRESS == 0x7e0000010000ULL, "the handler's machine code hard-codes this address");
_Static_assert(offsetof(struct trap_shared_page, stub_spin_iterations) == 4, "hard-coded in the handler");

/* A tiny BPF assembler: jumps name labels, resolved once the program is laid out. */
enum { LABEL_NEXT = -1, LABEL_KILL, LABEL_TRAP, LABEL_ALLOW, LABEL_SETUP, LABEL_TRAP_IP, LABEL_SETUP_HIGH,
       LABEL_TRAP_HIGH, LABEL_SETUP_NR, LABEL_TRAP_NR, LABEL_FUTEX, LABEL_WRITE, LABEL_ARCH_PRCTL, LABEL_COUNT };
struct bpf_builder {
    struct sock_filter *program;
    size_t capacity, count;
    int jump_true[TRAP_FILTER_MAXIMUM], jump_false[TRAP_FILTER_MAXIMUM];
    size_t label_at[LABEL_COUNT];
    bool overflow;
};

static void emit(struct bpf_builder *b, uint16_t code, uint32_t k, int jump_true, int jump_false)
{
    if (b->count >= b->capacity || b->count >= TRAP_FILTER_MAXIMUM) {
        b->overflow = true;
        return;
    }
    b->program[b->count] = (struct sock_filter){.code = code, .k = k};
    b->jump_true[b->count] = jump_true;
    b->jump_false[b->count] = jump_false;
    b->count++;
}

static void label(struct bpf_builder *b, int name) { b->label_at[name] = b->count; }

static void load(struct bpf_builder *b, uint32_t offset) { emit(b, BPF_LD | BPF_W | BPF_ABS, offset, 0, 0); }

/* if (A == value) goto on_true; else goto on_false */
static void jump_if(struct bpf_builder *b, uint32_t value, int on_true, int on_false)
{
    emit(b, BPF_JMP | BPF_JEQ | BPF_K, value, on_true, on_false);
}

static void verdict(struct bpf_builder *b, uint32_t action) { emit(b, BPF_RET | BPF_K, action, 0, 0); }

static size_t finish(struct bpf_builder *b)
{
    if (b->overflow)
        return 0;
    for (size_t i = 0; i < b->count; i++) {
        if (BPF_CLASS(b->program[i].code) != BPF_JMP)
            continue;
        int targets[2] = {b->jump_true[i], b->jump_false[i]};
        uint8_t offsets[2];
        for (int t = 0; t < 2; t++) {
            size_t to = targets[t] == LABEL_NEXT ? i + 1 : b->label_at[targets[t]];
            if (to <= i || to - i - 1 > 255)
                return 0;
            offsets[t] = (uint8_t)(to - i - 1);
        }
        b->program[i].jt = offsets[0];
        b->program[i].jf = offsets[1];
    }
    return b->count;
}

#define DATA_ARCH offsetof(struct seccomp_data, arch)
#define DATA_NR offsetof(struct seccomp_data, nr)
#define DATA_IP_LOW offsetof(struct seccomp_data, instruction_pointer)
#define DATA_IP_HIGH (offsetof(struct seccomp_data, instruction_pointer) + 4)
#define DATA_ARG_LOW(n) (offsetof(struct seccomp_data, args) + 8 * (n))

/* What the handler itself needs, from the trap trampoline only: return to the application, wait for and
 * wake the Sentry, set fs_base, end its thread. The arguments that matter are pinned: write only to the
 * wake eventfd, futex only WAIT/WAKE (on memory of this process: the kernel resolves the address in the
 * caller's own address space), arch_prctl only ARCH_SET_FS. Ints are compared on their low 32 bits, which
 * is all the kernel reads of them. */
static void emit_handler_syscalls(struct bpf_builder *b, bool pin_arguments)
{
    load(b, DATA_NR);
    jump_if(b, SYS_rt_sigreturn, LABEL_ALLOW, LABEL_NEXT);
    jump_if(b, SYS_exit, LABEL_ALLOW, LABEL_NEXT);
    jump_if(b, SYS_sched_yield, LABEL_ALLOW, LABEL_NEXT);
    if (!pin_arguments) {
        jump_if(b, SYS_futex, LABEL_ALLOW, LABEL_NEXT);
        jump_if(b, SYS_write, LABEL_ALLOW, LABEL_NEXT);
        jump_if(b, SYS_arch_prctl, LABEL_ALLOW, LABEL_KILL);
        return;
    }
    jump_if(b, SYS_futex, LABEL_FUTEX, LABEL_NEXT);
    jump_if(b, SYS_write, LABEL_WRITE, LABEL_NEXT);
    jump_if(b, SYS_arch_prctl, LABEL_ARCH_PRCTL, LABEL_KILL);
    label(b, LABEL_FUTEX);
    load(b, DATA_ARG_LOW(1));
    jump_if(b, FUTEX_WAIT, LABEL_ALLOW, LABEL_NEXT);
    jump_if(b, FUTEX_WAKE, LABEL_ALLOW, LABEL_KILL);
    label(b, LABEL_WRITE);
    load(b, DATA_ARG_LOW(0));
    jump_if(b, STUB_WAKE_FD, LABEL_ALLOW, LABEL_KILL);
    label(b, LABEL_ARCH_PRCTL);
    load(b, DATA_ARG_LOW(0));
    jump_if(b, ARCH_SET_FS, LABEL_ALLOW, LABEL_KILL);
}

static void emit_verdicts(struct bpf_builder *b)
{
    label(b, LABEL_KILL);
    verdict(b, SECCOMP_RET_KILL_PROCESS);
    label(b, LABEL_TRAP);
    verdict(b, SECCOMP_RET_TRAP);
    label(b, LABEL_ALLOW);
    verdict(b, SECCOMP_RET_ALLOW);
}

/* Set-up syscalls, made only while the Sentry holds the process under ptrace: new stub processes and
 * threads, their mappings, closing the fds application threads must not have, their signal stacks,
 * their own filter, and the parent-death signal. */
static const int setup_syscalls[] = {
    SYS_mmap, SYS_munmap, SYS_mprotect, SYS_clone, SYS_close, SYS_sigaltstack, SYS_seccomp, SYS_prctl,
    SYS_exit, SYS_exit_group,
};

size_t trap_build_template_filter(struct sock_filter *program, size_t capacity, uint64_t setup_instruction_pointer,
                                  uint64_t trap_instruction_pointer)
{
    struct bpf_builder b = {.program = program, .capacity = capacity};
    load(&b, DATA_ARCH);
    jump_if(&b, AUDIT_ARCH_X86_64, LABEL_NEXT, LABEL_KILL);
    load(&b, DATA_IP_LOW);
    jump_if(&b, (uint32_t)setup_instruction_pointer, LABEL_SETUP_HIGH, LABEL_TRAP_IP);
    label(&b, LABEL_SETUP_HIGH);
    load(&b, DATA_IP_HIGH);
    jump_if(&b, (uint32_t)(setup_instruction_pointer >> 32), LABEL_SETUP_NR, LABEL_TRAP);
    label(&b, LABEL_TRAP_IP);
    jump_if(&b, (uint32_t)trap_instruction_pointer, LABEL_TRAP_HIGH, LABEL_TRAP);
    label(&b, LABEL_TRAP_HIGH);
    load(&b, DATA_IP_HIGH);
    jump_if(&b, (uint32_t)(trap_instruction_pointer >> 32), LABEL_TRAP_NR, LABEL_TRAP);
    label(&b, LABEL_TRAP_NR);
    emit_handler_syscalls(&b, false);
    label(&b, LABEL_SETUP_NR);
    load(&b, DATA_NR);
    for (size_t i = 0; i < ARRAY_SIZE(setup_syscalls); i++)
        jump_if(&b, (uint32_t)setup_syscalls[i], LABEL_ALLOW,
                i + 1 == ARRAY_SIZE(setup_syscalls) ? LABEL_KILL : LABEL_NEXT);
    emit_verdicts(&b);
    return finish(&b);
}

/* Every application thread runs under this filter (on top of the template's): a syscall from anywhere
 * but the trap trampoline raises SIGSYS, which the handler turns into a request to the Sentry; from the
 * trampoline only the handler's own few pass, anything else kills the whole stub. */
size_t trap_build_application_filter(struct sock_filter *program, size_t capacity, uint64_t trap_instruction_pointer)
{
    struct bpf_builder b = {.program = program, .capacity = capacity};
    load(&b, DATA_ARCH);
    jump_if(&b, AUDIT_ARCH_X86_64, LABEL_NEXT, LABEL_KILL);
    load(&b, DATA_IP_LOW);
    jump_if(&b, (uint32_t)trap_instruction_pointer, LABEL_NEXT, LABEL_TRAP);
    load(&b, DATA_IP_HIGH);
    jump_if(&b, (uint32_t)(trap_instruction_pointer >> 32), LABEL_NEXT, LABEL_TRAP);
    emit_handler_syscalls(&b, true);
    emit_verdicts(&b);
    return finish(&b);
}

static int install_filter(uint8_t *region, size_t offset, size_t length)
{
    if (length == 0)
        return -E2BIG;
    struct sock_fprog *header = (struct sock_fprog *)(region + offset);
    header->len = (unsigned short)length;
    header->filter = (struct sock_filter *)(STUB_CODE_ADDRESS + offset + 0x100);
    return 0;
}

int trap_page_install(void)
{
    uint8_t *region = (uint8_t *)STUB_CODE_ADDRESS;
    const size_t first = TRAP_CODE_ADDRESS - STUB_CODE_ADDRESS, length = 0x3000;
    if (mprotect(region + first, length, PROT_READ | PROT_WRITE) < 0)
        return -errno;
    memcpy(region + first, trap_handler_code, trap_handler_code_size);
    size_t template_length =
        trap_build_template_filter((struct sock_filter *)(region + TRAP_TEMPLATE_FILTER_OFFSET + 0x100),
                                   TRAP_FILTER_MAXIMUM, STUB_SYSCALL_RETURN_ADDRESS, TRAP_SYSCALL_RETURN_ADDRESS);
    size_t application_length =
        trap_build_application_filter((struct sock_filter *)(region + TRAP_APPLICATION_FILTER_OFFSET + 0x100),
                                      TRAP_FILTER_MAXIMUM, TRAP_SYSCALL_RETURN_ADDRESS);
    int error = install_filter(region, TRAP_TEMPLATE_FILTER_OFFSET, template_length);
    if (error == 0)
        error = install_filter(region, TRAP_APPLICATION_FILTER_OFFSET, application_length);
    if (mprotect(region + first, length, PROT_READ | PROT_EXEC) < 0 && error == 0)
        error = -errno;
    return error;
}
