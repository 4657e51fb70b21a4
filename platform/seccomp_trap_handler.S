/* platform/seccomp_trap_handler.S: the code every seccomp-trap stub runs besides the application's: the
 * SIGSYS/fault handler, and the fast entry that patched syscalls reach without a signal. */
#include "platform/trap_layout.h"

#define SYSCALL_WRITE 1
#define SYSCALL_RT_SIGRETURN 15
#define SYSCALL_SCHED_YIELD 24
#define SYSCALL_EXIT 60
#define SYSCALL_ARCH_PRCTL 158
#define SYSCALL_FUTEX 202
#define ARCH_SET_FS_VALUE 0x1002
#define FUTEX_WAIT_VALUE 0
#define UCONTEXT_RIP 0xa8 /* uc_mcontext.gregs[REG_RIP] */
#define FAST_REGISTER(name) (TRAP_SLOT_REGISTERS + TRAP_REGISTER_##name)

/* Not executed where it is linked: seccomp_trap_stub.c copies [trap_code_start, trap_code_end) to
 * TRAP_CODE_ADDRESS in the stub region. Every jump inside is relative, every address outside absolute. */
	.section .rodata.trap_code, "a"
	.balign 64
	.globl trap_code_start, trap_code_end, trap_fast_posted, trap_fast_end
trap_code_start:

/* The only syscall instruction the application filter lets through, and only for the handlers' own few. */
trap_syscall:
	syscall
trap_syscall_return:
	ret

	.org trap_code_start + TRAP_RESTORER_OFFSET, 0xcc
/* sa_restorer: never used (the handler rt_sigreturns itself) */
	mov $SYSCALL_RT_SIGRETURN, %eax
	jmp trap_syscall

/* SIGSYS, the synchronous faults and the interrupt signal, on the thread's signal stack with every signal
 * blocked: rdi = signal, rsi = siginfo, rdx = ucontext. It publishes the frame in the slot (the area's first
 * page, found by rounding rsp down), waits for the Sentry's answer, applies its command and rt_sigreturns with
 * the frame the Sentry rewrote. It touches neither the application's stack nor its memory. */
	.org trap_code_start + TRAP_HANDLER_OFFSET, 0xcc
trap_handler:
	mov %rdx, %rbx
	mov %rsp, %r12
	and $-TRAP_THREAD_AREA_SIZE, %r12
	/* The interrupt signal may land in the fast path. Before its request is posted, or while the Sentry
	 * still holds it, the thread stops for the Sentry anyway: the interrupt is dropped. Once answered, it
	 * is posted as usual, and the Sentry takes the registers from the fast request's answer. */
	cmp $TRAP_INTERRUPT_SIGNAL_NUMBER, %edi
	jne post_signal
	mov UCONTEXT_RIP(%rbx), %rax
	movabs $TRAP_CODE_ADDRESS, %rcx
	sub %rcx, %rax
	cmp $(trap_syscall_return - trap_code_start), %rax
	je check_answered
	cmp $(fast_entry - trap_code_start), %rax
	jb post_signal
	cmp $(trap_fast_end - trap_code_start), %rax
	jae post_signal
	cmp $(trap_fast_posted - trap_code_start), %rax
	jb drop_signal
check_answered:
	cmpl $TRAP_SLOT_REQUEST, TRAP_SLOT_STATE(%r12)
	jne post_signal
drop_signal:
	mov %rbx, %rsp
	mov $SYSCALL_RT_SIGRETURN, %eax
	jmp trap_syscall
post_signal:
	mov $TRAP_CPU_SEGMENT, %eax
	lsl %eax, %eax
	mov %eax, TRAP_SLOT_CPU(%r12)
	movl $TRAP_KIND_SIGNAL, TRAP_SLOT_KIND(%r12)
	mov %rdx, TRAP_SLOT_FRAME(%r12)
	mov %rsi, TRAP_SLOT_SIGINFO(%r12)
	movl $0, TRAP_SLOT_STUB_SLEEPING(%r12)
	mov $TRAP_SLOT_REQUEST, %eax
	xchg %eax, TRAP_SLOT_STATE(%r12)
	call wait_for_answer
	call apply_command
	movl $TRAP_SLOT_IDLE, TRAP_SLOT_STATE(%r12)
	mov %rbx, %rsp
	mov $SYSCALL_RT_SIGRETURN, %eax
	jmp trap_syscall

/* The fast path. A patched "mov $nr, %eax; syscall" jumps to its thunk, which sets eax = nr and rcx = the
 * address after the syscall instruction and comes here; rcx and r11 are the registers the syscall
 * instruction clobbers anyway. %gs is the thread's area. Nothing below rsp is touched: it may be the
 * application's red zone. */
	.org trap_code_start + TRAP_FAST_ENTRY_OFFSET, 0xcc
fast_entry:
	mov %rsp, %gs:FAST_REGISTER(RSP)
	mov %gs:TRAP_SLOT_SELF, %rsp
	lea TRAP_FAST_STACK_TOP(%rsp), %rsp
	pushfq
	popq %gs:FAST_REGISTER(RFLAGS)
	mov %rax, %gs:FAST_REGISTER(RAX)
	mov %rcx, %gs:FAST_REGISTER(RCX)
	mov %rcx, %gs:FAST_REGISTER(RIP)
	mov %rdx, %gs:FAST_REGISTER(RDX)
	mov %rbx, %gs:FAST_REGISTER(RBX)
	mov %rbp, %gs:FAST_REGISTER(RBP)
	mov %rsi, %gs:FAST_REGISTER(RSI)
	mov %rdi, %gs:FAST_REGISTER(RDI)
	mov %r8, %gs:FAST_REGISTER(R8)
	mov %r9, %gs:FAST_REGISTER(R9)
	mov %r10, %gs:FAST_REGISTER(R10)
	mov %r11, %gs:FAST_REGISTER(R11)
	mov %r12, %gs:FAST_REGISTER(R12)
	mov %r13, %gs:FAST_REGISTER(R13)
	mov %r14, %gs:FAST_REGISTER(R14)
	mov %r15, %gs:FAST_REGISTER(R15)
	mov %gs:TRAP_SLOT_SELF, %r12
	fxsave64 TRAP_SLOT_FXSAVE(%r12)
	mov $TRAP_CPU_SEGMENT, %eax
	lsl %eax, %eax
	mov %eax, TRAP_SLOT_CPU(%r12)
	movl $TRAP_KIND_FAST, TRAP_SLOT_KIND(%r12)
	movl $0, TRAP_SLOT_STUB_SLEEPING(%r12)
	mov $TRAP_SLOT_REQUEST, %eax
	xchg %eax, TRAP_SLOT_STATE(%r12)
trap_fast_posted:
	call wait_for_answer
	movl $TRAP_SLOT_IDLE, TRAP_SLOT_STATE(%r12)
	call apply_command
	cmpl $0, TRAP_SLOT_FPU_DIRTY(%r12)
	je 1f
	movl $0, TRAP_SLOT_FPU_DIRTY(%r12)
	fxrstor64 TRAP_SLOT_FXSAVE(%r12)
1:
	pushq FAST_REGISTER(RFLAGS)(%r12)
	mov FAST_REGISTER(RAX)(%r12), %rax
	mov FAST_REGISTER(RCX)(%r12), %rcx
	mov FAST_REGISTER(RDX)(%r12), %rdx
	mov FAST_REGISTER(RBX)(%r12), %rbx
	mov FAST_REGISTER(RBP)(%r12), %rbp
	mov FAST_REGISTER(RSI)(%r12), %rsi
	mov FAST_REGISTER(RDI)(%r12), %rdi
	mov FAST_REGISTER(R8)(%r12), %r8
	mov FAST_REGISTER(R9)(%r12), %r9
	mov FAST_REGISTER(R10)(%r12), %r10
	mov FAST_REGISTER(R11)(%r12), %r11
	mov FAST_REGISTER(R13)(%r12), %r13
	mov FAST_REGISTER(R14)(%r12), %r14
	mov FAST_REGISTER(R15)(%r12), %r15
	mov FAST_REGISTER(R12)(%r12), %r12
	popfq
	mov %gs:FAST_REGISTER(RSP), %rsp
	jmp *%gs:FAST_REGISTER(RIP)

/* r12 = slot. Wakes the Sentry if it sleeps (write to its eventfd), spins up to the shared page's
 * stub_spin_iterations pauses on the slot (yielding every few microseconds unless the Sentry spins on another
 * CPU), then sleeps in FUTEX_WAIT on it, until the state is RESPONSE. Preserves rbx, rbp, r12, r15. */
wait_for_answer:
	movabs $TRAP_SHARED_ADDRESS, %r13
	cmpl $0, TRAP_SHARED_SENTRY_SLEEPING(%r13)
	je 2f
	movq $1, TRAP_SLOT_WAKE_VALUE(%r12)
	mov $SYSCALL_WRITE, %eax
	mov $STUB_WAKE_FD, %edi
	lea TRAP_SLOT_WAKE_VALUE(%r12), %rsi
	mov $8, %edx
	call trap_syscall
2:
	mov TRAP_SHARED_STUB_SPIN_ITERATIONS(%r13), %ecx
	test %ecx, %ecx
	je 4f
3:
	cmpl $TRAP_SLOT_RESPONSE, TRAP_SLOT_STATE(%r12)
	je 5f
	pause
	dec %ecx
	je 4f
	test TRAP_SHARED_STUB_YIELD_MASK(%r13), %ecx
	jne 3b
	/* Every few microseconds: yield, unless the Sentry spins on another CPU (it answers at once, and a
	 * yield is a host syscall). While it works, others (the Gofer, other threads) may need this CPU. */
	cmpl $0, TRAP_SHARED_SENTRY_SPINNING(%r13)
	je 8f
	mov $TRAP_CPU_SEGMENT, %eax
	lsl %eax, %eax
	and $0xfff, %eax
	cmp TRAP_SHARED_SENTRY_CPU(%r13), %eax
	jne 3b
8:
	mov %ecx, %r14d
	mov $SYSCALL_SCHED_YIELD, %eax
	call trap_syscall
	mov %r14d, %ecx
	jmp 3b
4:
	movl $1, TRAP_SLOT_STUB_SLEEPING(%r12)
	mfence
	cmpl $TRAP_SLOT_RESPONSE, TRAP_SLOT_STATE(%r12)
	je 5f
	mov $SYSCALL_FUTEX, %eax
	mov %r12, %rdi
	mov $FUTEX_WAIT_VALUE, %esi
	mov $TRAP_SLOT_REQUEST, %edx
	xor %r10d, %r10d
	call trap_syscall
	jmp 4b
5:
	movl $0, TRAP_SLOT_STUB_SLEEPING(%r12)
	ret

/* r12 = slot. The answer's command: EXIT ends this host thread; SET_FS applies fs_base. */
apply_command:
	mov TRAP_SLOT_COMMAND(%r12), %eax
	test $TRAP_COMMAND_EXIT, %al
	jne 6f
	test $TRAP_COMMAND_SET_FS, %al
	je 7f
	movl $0, TRAP_SLOT_COMMAND(%r12)
	mov $SYSCALL_ARCH_PRCTL, %eax
	mov $ARCH_SET_FS_VALUE, %edi
	mov TRAP_SLOT_FS_BASE(%r12), %rsi
	call trap_syscall
7:
	ret
6:
	mov $SYSCALL_EXIT, %eax
	xor %edi, %edi
	jmp trap_syscall
trap_fast_end:
trap_code_end:

	.section .note.GNU-stack, "", @progbits
