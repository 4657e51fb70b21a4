/* platform/seccomp_trap_stub.c: what seccomp-trap puts in every stub besides its handlers' code (seccomp_trap_handler.S):
 * the layout checks that code relies on, and the two hand-written BPF filters that confine stubs. */
#include "platform/internal.h"

#include <asm/prctl.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

_Static_assert(offsetof(struct trap_slot, state) == TRAP_SLOT_STATE &&
                   offsetof(struct trap_slot, stub_sleeping) == TRAP_SLOT_STUB_SLEEPING &&
                   offsetof(struct trap_slot, frame) == TRAP_SLOT_FRAME &&
                   offsetof(struct trap_slot, siginfo) == TRAP_SLOT_SIGINFO &&
                   offsetof(struct trap_slot, wake_value) == TRAP_SLOT_WAKE_VALUE &&
                   offsetof(struct trap_slot, command) == TRAP_SLOT_COMMAND &&
                   offsetof(struct trap_slot, fs_base) == TRAP_SLOT_FS_BASE &&
                   offsetof(struct trap_slot, host_tid) == TRAP_SLOT_HOST_TID &&
                   offsetof(struct trap_slot, kind) == TRAP_SLOT_KIND &&
                   offsetof(struct trap_slot, fpu_dirty) == TRAP_SLOT_FPU_DIRTY &&
                   offsetof(struct trap_slot, self) == TRAP_SLOT_SELF &&
                   offsetof(struct trap_slot, cpu) == TRAP_SLOT_CPU && sizeof(struct trap_slot) <= 0x100,
               "the handlers' machine code uses these offsets");
_Static_assert(offsetof(struct trap_fast_registers, r15) == TRAP_REGISTER_R15 &&
                   offsetof(struct trap_fast_registers, rax) == TRAP_REGISTER_RAX &&
                   offsetof(struct trap_fast_registers, rip) == TRAP_REGISTER_RIP &&
                   offsetof(struct trap_fast_registers, rflags) == TRAP_REGISTER_RFLAGS &&
                   offsetof(struct trap_fast_registers, rsp) == TRAP_REGISTER_RSP &&
                   TRAP_SLOT_REGISTERS + sizeof(struct trap_fast_registers) <= TRAP_SLOT_FXSAVE,
               "the fast handler uses these offsets");
_Static_assert(TRAP_STUB_CODE_ADDRESS == STUB_CODE_ADDRESS && TRAP_SHARED_ADDRESS == STUB_CODE_ADDRESS + STUB_REGION_SIZE,
               "trap_layout.h follows platform.h");
_Static_assert(offsetof(struct trap_shared_page, sentry_sleeping) == TRAP_SHARED_SENTRY_SLEEPING &&
                   offsetof(struct trap_shared_page, stub_spin_iterations) == TRAP_SHARED_STUB_SPIN_ITERATIONS &&
                   offsetof(struct trap_shared_page, sentry_cpu) == TRAP_SHARED_SENTRY_CPU &&
                   offsetof(struct trap_shared_page, stub_yield_mask) == TRAP_SHARED_STUB_YIELD_MASK &&
                   offsetof(struct trap_shared_page, sentry_spinning) == TRAP_SHARED_SENTRY_SPINNING,
               "the handlers read these offsets");
_Static_assert(TRAP_INTERRUPT_SIGNAL_NUMBER == SIGUSR2, "the handler drops only the interrupt signal");

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
    size_t code_size = (size_t)(trap_code_end - trap_code_start);
    if (code_size > TRAP_TEMPLATE_FILTER_OFFSET - first)
        return -E2BIG;
    memcpy(region + first, trap_code_start, code_size);
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
