/* tests/unit/test_platform_seccomp_trap.c: the seccomp-trap platform: its two filters installed for real in
 * forked children, and the slot protocol end to end on real stubs, including hostile application code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <asm/prctl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform/internal.h"

/* ---- the filters, in forked children ---- */

/* "syscall; ret" at an address of the test's choosing, standing in for a trampoline. */
static uint8_t *make_trampoline(void)
{
    uint8_t *page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(page != MAP_FAILED);
    page[0] = 0x0f;
    page[1] = 0x05;
    page[2] = 0xc3;
    return page;
}

static long call_at(uint8_t *code, long number, long a0, long a1, long a2)
{
    long result;
    register long r10 __asm__("r10") = 0;
    register long r8 __asm__("r8") = -1;
    register long r9 __asm__("r9") = 0;
    __asm__ volatile("sub $128, %%rsp\n\tcall *%[code]\n\tadd $128, %%rsp"
                     : "=a"(result)
                     : [code] "r"(code), "a"(number), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return result;
}

static uint8_t *child_trap;

static void on_sigsys(int signal, siginfo_t *info, void *context)
{
    (void)signal;
    (void)context;
    /* The trapped syscall's number is the exit status: the parent checks which call trapped. Exit goes
     * through the trap trampoline, as any other path would trap again. */
    call_at(child_trap, SYS_exit, 100 + info->si_syscall % 100, 0, 0);
}

enum filter_kind { APPLICATION_FILTER, TEMPLATE_FILTER };

/* Runs action in a child under the filter; returns its wait status. The trap trampoline is trap, the
 * set-up one (template filter only) is setup. */
static int run_filtered(enum filter_kind kind, void (*action)(uint8_t *trap, uint8_t *setup))
{
    uint8_t *trap = make_trampoline(), *setup = make_trampoline();
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        child_trap = trap;
        struct sigaction handler = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
        sigaction(SIGSYS, &handler, NULL);
        struct sock_filter program[TRAP_FILTER_MAXIMUM];
        size_t length = kind == APPLICATION_FILTER
                            ? trap_build_application_filter(program, ARRAY_SIZE(program), (uint64_t)(trap + 2))
                            : trap_build_template_filter(program, ARRAY_SIZE(program), (uint64_t)(setup + 2),
                                                         (uint64_t)(trap + 2));
        if (length == 0)
            _exit(90);
        struct sock_fprog header = {.len = (unsigned short)length, .filter = program};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &header) < 0)
            _exit(91);
        action(trap, setup);
        _exit(92);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    munmap(trap, PAGE_SIZE);
    munmap(setup, PAGE_SIZE);
    return status;
}

static void expect_exit(int status, int code)
{
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), code);
}

static void expect_killed(int status)
{
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void getpid_elsewhere(uint8_t *trap, uint8_t *setup)
{
    (void)trap;
    (void)setup;
    syscall(SYS_getpid);
}
static void getpid_from_trap(uint8_t *trap, uint8_t *setup)
{
    (void)setup;
    call_at(trap, SYS_getpid, 0, 0, 0);
}
static void mmap_from_trap(uint8_t *trap, uint8_t *setup)
{
    (void)setup;
    call_at(trap, SYS_mmap, 0, PAGE_SIZE, PROT_READ);
}
static void clone_from_trap(uint8_t *trap, uint8_t *setup)
{
    (void)setup;
    call_at(trap, SYS_clone, SIGCHLD, 0, 0);
}
static void write_other_fd_from_trap(uint8_t *trap, uint8_t *setup)
{
    (void)setup;
    call_at(trap, SYS_write, 1, (long)"x", 1);
}
static void futex_requeue_from_trap(uint8_t *trap, uint8_t *setup)
{
    (void)setup;
    static uint32_t word;
    call_at(trap, SYS_futex, (long)&word, FUTEX_CMP_REQUEUE, 0);
}
static void arch_prctl_get_from_trap(uint8_t *trap, uint8_t *setup)
{
    (void)setup;
    uint64_t base;
    call_at(trap, SYS_arch_prctl, ARCH_GET_FS, (long)&base, 0);
}
/* What the handler needs passes, and only touches the caller: the results prove the calls got through. */
static void allowed_from_trap(uint8_t *trap, uint8_t *setup)
{
    (void)setup;
    static uint32_t word;
    uint64_t one = 1;
    long woken = call_at(trap, SYS_futex, (long)&word, FUTEX_WAKE, 1);
    long written = call_at(trap, SYS_write, STUB_WAKE_FD, (long)&one, sizeof(one));  /* not open: EBADF */
    call_at(trap, SYS_exit, woken == 0 && written == -EBADF ? 7 : 8, 0, 0);
}

static void test_application_filter_traps_everything_elsewhere(void **state)
{
    (void)state;
    expect_exit(run_filtered(APPLICATION_FILTER, getpid_elsewhere), 100 + SYS_getpid % 100);
}

static void test_application_filter_allows_only_the_handler_calls(void **state)
{
    (void)state;
    expect_exit(run_filtered(APPLICATION_FILTER, allowed_from_trap), 7);
    expect_killed(run_filtered(APPLICATION_FILTER, getpid_from_trap));
    expect_killed(run_filtered(APPLICATION_FILTER, mmap_from_trap));
    expect_killed(run_filtered(APPLICATION_FILTER, clone_from_trap));
    expect_killed(run_filtered(APPLICATION_FILTER, write_other_fd_from_trap));
    expect_killed(run_filtered(APPLICATION_FILTER, futex_requeue_from_trap));
    expect_killed(run_filtered(APPLICATION_FILTER, arch_prctl_get_from_trap));
}

static void mmap_from_setup(uint8_t *trap, uint8_t *setup)
{
    (void)trap;
    long result = call_at(setup, SYS_mmap, 0, PAGE_SIZE, PROT_READ);  /* flags 0, fd -1: EBADF or EINVAL */
    call_at(setup, SYS_exit_group, result == -EBADF || result == -EINVAL ? 7 : 8, 0, 0);
}
static void getpid_from_setup(uint8_t *trap, uint8_t *setup)
{
    (void)trap;
    call_at(setup, SYS_getpid, 0, 0, 0);
}

static void test_template_filter(void **state)
{
    (void)state;
    expect_exit(run_filtered(TEMPLATE_FILTER, mmap_from_setup), 7);
    expect_killed(run_filtered(TEMPLATE_FILTER, getpid_from_setup));
    expect_exit(run_filtered(TEMPLATE_FILTER, getpid_elsewhere), 100 + SYS_getpid % 100);
}

/* ---- the platform on real stubs ---- */

#define CODE_ADDRESS 0x10000ULL
#define STACK_ADDRESS 0x20000ULL
#define MEMORY_SIZE (1 << 20)

/* Application code (assembled with `as`; the listing is in the comments). Offsets into this blob name
 * each scenario's entry. */
static const uint8_t application_code[] = {
    /* +0x00 syscalls: getpid(); exit(result of getpid) */
    0xb8, 0x27, 0x00, 0x00, 0x00,  /* mov $0x27,%eax */
    0x0f, 0x05,                    /* syscall */
    0x48, 0x89, 0xc7,              /* mov %rax,%rdi */
    0xb8, 0x3c, 0x00, 0x00, 0x00,  /* mov $0x3c,%eax */
    0x0f, 0x05,                    /* syscall */
    0x0f, 0x0b,                    /* ud2 */
    /* +0x13 forge: slot->frame = 0x1000 (outside the signal stack); slot->state = REQUEST; spin */
    0x48, 0xb8, 0x08, 0x40, 0x01, 0x00, 0x00, 0x7e, 0x00, 0x00, /* movabs $0x7e0000014008,%rax */
    0x48, 0xc7, 0x00, 0x00, 0x10, 0x00, 0x00,                   /* movq $0x1000,(%rax) */
    0xc7, 0x40, 0xf8, 0x01, 0x00, 0x00, 0x00,                   /* movl $0x1,-0x8(%rax) */
    0xf3, 0x90,                                                 /* pause */
    0xeb, 0xfc,                                                 /* jmp (pause) */
    /* +0x2f jump: mmap(0, 4096, RW, MAP_SHARED, 3, 0) from the trap trampoline's syscall instruction */
    0xb8, 0x09, 0x00, 0x00, 0x00,                               /* mov $0x9,%eax */
    0x31, 0xff,                                                 /* xor %edi,%edi */
    0xbe, 0x00, 0x10, 0x00, 0x00,                               /* mov $0x1000,%esi */
    0xba, 0x03, 0x00, 0x00, 0x00,                               /* mov $0x3,%edx */
    0x41, 0xba, 0x01, 0x00, 0x00, 0x00,                         /* mov $0x1,%r10d */
    0x41, 0xb8, 0x03, 0x00, 0x00, 0x00,                         /* mov $0x3,%r8d */
    0x45, 0x31, 0xc9,                                           /* xor %r9d,%r9d */
    0x48, 0xb9, 0x00, 0x10, 0x00, 0x00, 0x00, 0x7e, 0x00, 0x00, /* movabs $0x7e0000001000,%rcx */
    0xff, 0xe1,                                                 /* jmp *%rcx */
    /* +0x5b handler: enter the SIGSYS handler directly with a made-up ucontext pointer */
    0xba, 0x00, 0x00, 0xad, 0xde,                               /* mov $0xdead0000,%edx */
    0x48, 0xb9, 0x20, 0x10, 0x00, 0x00, 0x00, 0x7e, 0x00, 0x00, /* movabs $0x7e0000001020,%rcx */
    0xff, 0xe1,                                                 /* jmp *%rcx */
    /* +0x6c fault: write to the (read-only) handler code */
    0x48, 0xb9, 0x00, 0x10, 0x00, 0x00, 0x00, 0x7e, 0x00, 0x00, /* movabs $0x7e0000001000,%rcx */
    0x48, 0xc7, 0x01, 0x00, 0x00, 0x00, 0x00,                   /* movq $0x0,(%rcx) */
    0x0f, 0x0b,                                                 /* ud2 */
    /* +0x7f fast: rbx = 0x1111; enter the fast path as a thunk does (eax = getpid, rcx = back); at back,
     * exit(result + rbx) through a trapped syscall */
    0xbb, 0x11, 0x11, 0x00, 0x00,                               /* mov $0x1111,%ebx */
    0x48, 0x8d, 0x0d, 0x12, 0x00, 0x00, 0x00,                   /* lea 0x12(%rip),%rcx (back) */
    0xb8, 0x27, 0x00, 0x00, 0x00,                               /* mov $0x27,%eax */
    0x49, 0xbb, 0x00, 0x12, 0x00, 0x00, 0x00, 0x7e, 0x00, 0x00, /* movabs $0x7e0000001200,%r11 */
    0x41, 0xff, 0xe3,                                           /* jmp *%r11 */
    0x48, 0x89, 0xc7,                                           /* back: mov %rax,%rdi */
    0x48, 0x01, 0xdf,                                           /* add %rbx,%rdi */
    0xb8, 0x3c, 0x00, 0x00, 0x00,                               /* mov $0x3c,%eax */
    0x0f, 0x05,                                                 /* syscall */
    0x0f, 0x0b,                                                 /* ud2 */
    /* +0xac forge fast: the slot claims a fast request whose registers hold rax = 0x77; spin */
    0x48, 0xb8, 0x00, 0x40, 0x01, 0x00, 0x00, 0x7e, 0x00, 0x00, /* movabs $0x7e0000014000,%rax */
    0xc7, 0x40, 0x34, 0x01, 0x00, 0x00, 0x00,                   /* movl $0x1,0x34(%rax) */
    0x48, 0xc7, 0x80, 0x90, 0x01, 0x00, 0x00, 0x77, 0x00, 0x00, 0x00, /* movq $0x77,0x190(%rax) */
    0xc7, 0x00, 0x01, 0x00, 0x00, 0x00,                         /* movl $0x1,(%rax) */
    0xf3, 0x90,                                                 /* pause */
    0xeb, 0xfc,                                                 /* jmp (pause) */
};
enum { ENTRY_SYSCALLS = 0x00, ENTRY_FORGE = 0x13, ENTRY_JUMP = 0x2f, ENTRY_HANDLER = 0x5b, ENTRY_FAULT = 0x6c,
       ENTRY_FAST = 0x7f, ENTRY_FAST_BACK = 0x9d, ENTRY_FORGE_FAST = 0xac };

static const struct platform_ops *ops = &platform_seccomp_trap_ops;
static int memory_fd = -1;

static int set_up_platform(void **state)
{
    (void)state;
    memory_fd = memfd_create("test-memory", 0);
    if (memory_fd < 0 || ftruncate(memory_fd, MEMORY_SIZE) < 0)
        return -1;
    if (pwrite(memory_fd, application_code, sizeof(application_code), 0) != (ssize_t)sizeof(application_code))
        return -1;
    return ops->initialize(memory_fd) == 0 ? 0 : -1;
}

/* A stub with the code and a stack mapped, about to run at entry (rsp in the stack, or as given). */
static struct platform_address_space *start_stub(uint64_t entry, uint64_t stack_pointer,
                                                 struct platform_context **thread)
{
    struct platform_address_space *space;
    assert_int_equal(ops->address_space_new(&space, thread), 0);
    assert_int_equal(ops->map(space, CODE_ADDRESS, PAGE_SIZE, PROT_READ | PROT_EXEC, 0), 0);
    assert_int_equal(ops->map(space, STACK_ADDRESS, PAGE_SIZE, PROT_READ | PROT_WRITE, PAGE_SIZE), 0);
    struct platform_registers registers;
    assert_int_equal(ops->get_registers(*thread, &registers), 0);
    registers.general.rip = CODE_ADDRESS + entry;
    registers.general.rsp = stack_pointer ? stack_pointer : STACK_ADDRESS + PAGE_SIZE - 64;
    assert_int_equal(ops->set_registers(*thread, &registers), 0);
    assert_int_equal(ops->resume(*thread), 0);
    return space;
}

/* The next stop, as the Sentry's loop would get it (spin, then sleep in poll); 0 when none within ms. */
static int next_stop(struct platform_context **context, struct platform_stop *stop, int ms)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        if (ops->spin_for_stop() == 0) {
            struct pollfd fd = {.fd = ops->event_fd(), .events = POLLIN};
            poll(&fd, 1, 10);
        }
        int got = ops->collect_stop(context, stop);
        if (got != 0)
            return got;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 > ms)
            return 0;
    }
}

/* Answer the stopped syscall with result; the application code then exits with a status the test knows. */
static void answer_then_expect_exit(struct platform_context *thread, struct platform_registers *registers,
                                    uint64_t result, uint64_t exit_status)
{
    struct platform_context *stopped;
    struct platform_stop stop;
    registers->general.rax = result;
    assert_int_equal(ops->set_registers(thread, registers), 0);
    assert_int_equal(ops->resume(thread), 0);
    assert_int_equal(next_stop(&stopped, &stop, 5000), 1);
    assert_int_equal(stop.kind, PLATFORM_STOP_SYSCALL);
    assert_int_equal(ops->get_registers(thread, registers), 0);
    assert_int_equal(registers->general.orig_rax, SYS_exit);
    assert_int_equal(registers->general.rdi, exit_status);
}

static void test_syscall_round_trip(void **state)
{
    (void)state;
    struct platform_context *thread, *stopped;
    struct platform_address_space *space = start_stub(ENTRY_SYSCALLS, 0, &thread);
    struct platform_stop stop;
    assert_int_equal(next_stop(&stopped, &stop, 5000), 1);
    assert_ptr_equal(stopped, thread);
    assert_int_equal(stop.kind, PLATFORM_STOP_SYSCALL);
    struct platform_registers registers;
    assert_int_equal(ops->get_registers(thread, &registers), 0);
    assert_int_equal(registers.general.orig_rax, SYS_getpid);
    assert_int_equal(registers.general.rip, CODE_ADDRESS + 7);
    assert_true(stop.patchable);  /* "mov $nr, %eax; syscall", trapped */
    answer_then_expect_exit(thread, &registers, 4242, 4242); /* our answer reached application code */
    ops->address_space_destroy(space);
}

/* A slot that claims a request whose frame lies outside the thread's signal stack: the stub is killed. */
static void test_forged_slot_kills_the_stub(void **state)
{
    (void)state;
    struct platform_context *thread, *stopped;
    struct platform_address_space *space = start_stub(ENTRY_FORGE, 0, &thread);
    struct platform_stop stop;
    assert_int_equal(next_stop(&stopped, &stop, 5000), 1);
    assert_ptr_equal(stopped, thread);
    assert_int_equal(stop.kind, PLATFORM_STOP_EXITED);
    ops->address_space_destroy(space);
}

/* Jumping onto the trampoline's syscall instruction with a syscall the handler does not make: killed by
 * the filter (mmap of the memory file would map other processes' memory, were it allowed and held). */
static void test_jump_into_trampoline_kills_the_stub(void **state)
{
    (void)state;
    struct platform_context *thread, *stopped;
    struct platform_address_space *space = start_stub(ENTRY_JUMP, 0, &thread);
    struct platform_stop stop;
    assert_int_equal(next_stop(&stopped, &stop, 5000), 1);
    assert_int_equal(stop.kind, PLATFORM_STOP_EXITED);
    ops->address_space_destroy(space);
}

/* Entering the handler by hand on the real signal stack with a made-up frame: rejected, killed. */
static void test_jump_into_handler_kills_the_stub(void **state)
{
    (void)state;
    struct platform_context *thread, *stopped;
    struct platform_address_space *space =
        start_stub(ENTRY_HANDLER, TRAP_THREADS_ADDRESS + TRAP_THREAD_AREA_SIZE - 256, &thread);
    struct platform_stop stop;
    assert_int_equal(next_stop(&stopped, &stop, 5000), 1);
    assert_int_equal(stop.kind, PLATFORM_STOP_EXITED);
    ops->address_space_destroy(space);
}

/* Entering the handler on the application's own stack: it reports into application memory, which the
 * Sentry never reads; nothing reaches the Sentry (the thread only hangs itself). */
static void test_handler_on_application_stack_reaches_nothing(void **state)
{
    (void)state;
    struct platform_context *thread, *stopped;
    struct platform_address_space *space = start_stub(ENTRY_HANDLER, 0, &thread);
    struct platform_stop stop;
    assert_int_equal(next_stop(&stopped, &stop, 300), 0);
    ops->address_space_destroy(space);
}

static void test_fault_is_reported_with_its_siginfo(void **state)
{
    (void)state;
    struct platform_context *thread, *stopped;
    struct platform_address_space *space = start_stub(ENTRY_FAULT, 0, &thread);
    struct platform_stop stop;
    assert_int_equal(next_stop(&stopped, &stop, 5000), 1);
    assert_int_equal(stop.kind, PLATFORM_STOP_FAULT);
    assert_int_equal(stop.fault.si_signo, SIGSEGV);
    assert_int_equal((uint64_t)stop.fault.si_addr, TRAP_CODE_ADDRESS);
    ops->address_space_destroy(space);
}

static void test_interrupt_stops_a_running_thread(void **state)
{
    (void)state;
    struct platform_context *thread, *stopped;
    /* The forge scenario's spin loop, entered past its slot writes: a thread that never stops by itself. */
    struct platform_address_space *space = start_stub(ENTRY_FORGE + 24, 0, &thread);
    struct platform_stop stop;
    assert_int_equal(next_stop(&stopped, &stop, 100), 0);
    assert_int_equal(ops->interrupt(thread), 0);
    assert_int_equal(next_stop(&stopped, &stop, 5000), 1);
    assert_int_equal(stop.kind, PLATFORM_STOP_INTERRUPT);
    ops->address_space_destroy(space);
}

/* The stub's one application thread: the other one of its two host threads (the first is the mapper). */
static pid_t application_thread(pid_t process)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/task", process);
    DIR *tasks = opendir(path);
    assert_non_null(tasks);
    pid_t found = -1;
    for (struct dirent *entry; (entry = readdir(tasks));)
        if (entry->d_name[0] != '.' && atoi(entry->d_name) != process)
            found = atoi(entry->d_name);
    closedir(tasks);
    assert_true(found > 0);
    return found;
}

/* Application code entering the fast path itself, as a patched site's thunk does: a syscall like any other
 * (the registers as a syscall leaves them: rcx = rip, r11 = flags), answered without a signal; the
 * registers the application did not give the Sentry come back as they were. An interrupt signal that
 * reaches the thread while the Sentry holds its request is dropped: the thread is stopped already. */
static void test_fast_path_round_trip(void **state)
{
    (void)state;
    struct platform_context *thread, *stopped;
    struct platform_address_space *space = start_stub(ENTRY_FAST, 0, &thread);
    struct platform_stop stop;
    assert_int_equal(next_stop(&stopped, &stop, 5000), 1);
    assert_ptr_equal(stopped, thread);
    assert_int_equal(stop.kind, PLATFORM_STOP_SYSCALL);
    assert_false(stop.patchable);
    struct platform_registers registers;
    assert_int_equal(ops->get_registers(thread, &registers), 0);
    assert_int_equal(registers.general.orig_rax, SYS_getpid);
    assert_int_equal(registers.general.rip, CODE_ADDRESS + ENTRY_FAST_BACK);
    assert_int_equal(registers.general.rcx, CODE_ADDRESS + ENTRY_FAST_BACK);
    assert_int_equal(registers.general.r11, registers.general.eflags);
    assert_int_equal(registers.general.rbx, 0x1111);
    assert_int_equal(registers.general.rsp, STACK_ADDRESS + PAGE_SIZE - 64);
    /* The FPU state stays in the slot unless asked for. */
    assert_false(registers.floating_point_valid);
    struct user_fpregs_struct floating_point;
    assert_int_equal(ops->get_floating_point(thread, &floating_point), 0);
    assert_int_equal(floating_point.mxcsr & 0x1f80, 0x1f80); /* exceptions masked, as at start */
    pid_t process = ops->host_process(space);
    assert_int_equal(syscall(SYS_tgkill, process, application_thread(process), TRAP_INTERRUPT_SIGNAL), 0);
    assert_int_equal(next_stop(&stopped, &stop, 100), 0);
    answer_then_expect_exit(thread, &registers, 4242, 4242 + 0x1111);
    ops->address_space_destroy(space);
}

/* A slot forged into claiming a fast request is a syscall with registers of the application's choosing,
 * which it could have made anyway; its answer returns nowhere but to the forging code. */
static void test_forged_fast_request_is_only_a_syscall(void **state)
{
    (void)state;
    struct platform_context *thread, *stopped;
    struct platform_address_space *space = start_stub(ENTRY_FORGE_FAST, 0, &thread);
    struct platform_stop stop;
    assert_int_equal(next_stop(&stopped, &stop, 5000), 1);
    assert_int_equal(stop.kind, PLATFORM_STOP_SYSCALL);
    struct platform_registers registers;
    assert_int_equal(ops->get_registers(thread, &registers), 0);
    assert_int_equal(registers.general.orig_rax, 0x77);
    assert_int_equal(ops->resume(thread), 0);
    assert_int_equal(next_stop(&stopped, &stop, 100), 0);
    ops->address_space_destroy(space);
}

int main(void)
{
    const struct CMUnitTest filter_tests[] = {
        cmocka_unit_test(test_application_filter_traps_everything_elsewhere),
        cmocka_unit_test(test_application_filter_allows_only_the_handler_calls),
        cmocka_unit_test(test_template_filter),
    };
    const struct CMUnitTest platform_tests[] = {
        cmocka_unit_test(test_syscall_round_trip),
        cmocka_unit_test(test_forged_slot_kills_the_stub),
        cmocka_unit_test(test_jump_into_trampoline_kills_the_stub),
        cmocka_unit_test(test_jump_into_handler_kills_the_stub),
        cmocka_unit_test(test_handler_on_application_stack_reaches_nothing),
        cmocka_unit_test(test_fault_is_reported_with_its_siginfo),
        cmocka_unit_test(test_interrupt_stops_a_running_thread),
        cmocka_unit_test(test_fast_path_round_trip),
        cmocka_unit_test(test_forged_fast_request_is_only_a_syscall),
    };
    int failed = cmocka_run_group_tests_name("filters", filter_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("platform", platform_tests, set_up_platform, NULL);
    return failed;
}
