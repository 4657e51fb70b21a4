/* platform/seccomp_trap.c: the seccomp-trap platform: application syscalls trap (SECCOMP_RET_TRAP) into the
 * stub's own SIGSYS handler, or, at sites the Sentry patched, jump straight to the stub's fast entry; either
 * hands the syscall to the Sentry through a shared-memory slot per thread.
 *
 * Threat model. Application code is hostile and runs natively in a stub thread. It controls all its
 * registers and every byte of its address space, including the stub region: the handlers' code (read-only:
 * it cannot make it writable, see below), its own slots and signal stacks (read-write) and the shared page
 * (read-only, written only by the Sentry). It can jump anywhere, including into either handler and onto the
 * trampoline's syscall instruction, and it can rewrite its own thunk table and patched code. What holds
 * regardless:
 *   - Host syscalls. Each application thread runs under the application filter (stacked on the template's): a
 *     syscall from any instruction but the trap trampoline's traps; from the trampoline only rt_sigreturn, exit
 *     (of the calling thread), sched_yield, futex WAIT/WAKE, write to fd STUB_WAKE_FD and arch_prctl(ARCH_SET_FS)
 *     pass, anything else kills the stub. None of them reaches beyond the caller: rt_sigreturn and arch_prctl set
 *     its own registers (and host signal mask: blocking our SIGSYS or fault signals gets the stub killed by the
 *     kernel, blocking the interrupt signal only delays its own signals), exit ends its own thread, sched_yield
 *     gives up its own time slice, futex resolves addresses in its own address space, and the eventfd write only
 *     wakes the Sentry early (it then finds nothing, or requests it validates anyway). No mmap, mprotect, clone,
 *     open or anything that names a file: application threads hold neither the memory file nor the shared-memory
 *     file (they are closed in each application thread's own fd table; only the template and the mapper process,
 *     which never run application code and only run under ptrace, hold them). So the application cannot map
 *     another process's memory or another stub's slots. The fast path makes no syscall the SIGSYS handler
 *     does not make, from the same instruction.
 *   - The Sentry treats a slot as untrusted input: it reads each field once, checks that the frame, its
 *     siginfo and its floating-point area lie inside this thread's signal stack, and takes the syscall
 *     from the registers exactly as a syscall made on Linux; a slot that points elsewhere gets the stub
 *     killed (reported as an exit by SIGKILL). A fast request's registers and FPU image lie in the slot
 *     itself and are taken the same way. Forging a request from application code (jumping into a handler,
 *     or writing a slot) therefore yields at most an emulated syscall of the application's own choosing,
 *     which it could have made anyway, or its own death.
 *   - Mappings are changed only by the mapper, a process sharing the stub's address space that the Sentry
 *     keeps stopped under ptrace and drives by syscall injection, as the ptrace platform does; it is the only
 *     holder of the memory file in the stub, and application threads cannot reach its registers.
 *   - Application threads can corrupt their own process's slots and signal stacks (threads of one process
 *     trust each other on Linux too), never another process's: each stub maps only its own range of the
 *     shared-memory file. %gs, which the fast path uses to find the slot, can only be changed through
 *     arch_prctl, which the Sentry emulates (this CPU has no user-mode FSGSBASE; were it enabled, a thread
 *     changing %gs would only misdirect its own requests into its own memory).
 *   - Patched code and thunks are the application's own pages (private copies), so a patch changes only the
 *     process that made the syscalls.
 * Costs: a trapped syscall is one SIGSYS delivery and rt_sigreturn (~3 us here) plus two shared-memory
 * handoffs; a patched one only the handoffs (well under a microsecond when the Sentry and the thread are on
 * different cores). Both sides spin a bounded, adaptive time and then sleep (stub: FUTEX_WAIT on its slot;
 * Sentry: poll on an epoll set of the wake eventfd and SIGCHLD), so idle sandboxes burn no CPU.
 *
 * The interrupt signal (platform_interrupt) can land in the fast path. Before the request is posted, or
 * while the Sentry holds it, the handler drops it: the thread is stopping for the Sentry anyway. Once the
 * Sentry has answered, it is posted like any interrupt, and the application's registers are taken from the
 * answer (frame_takes_fast_answer), since the fast path may have restored only part of them. */
#include "platform/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRAP_SPACES_MAXIMUM 1024
#define TRAP_SHARED_PAGE_SIZE TRAP_THREAD_AREA_SIZE /* the read-only page, padded to keep areas aligned */
#define TRAP_FILE_SIZE (TRAP_SHARED_PAGE_SIZE + TRAP_SPACES_MAXIMUM * TRAP_SPACE_AREA_SIZE)

/* The kernel's struct ucontext: flags, link, stack_t, then the sigcontext (glibc's gregs order), then the
 * 8-byte signal mask. */
#define UCONTEXT_GREGS_OFFSET 40
#define UCONTEXT_FPSTATE_OFFSET (UCONTEXT_GREGS_OFFSET + 23 * 8)
#define UCONTEXT_SIZE 304
#define FXSAVE_SIZE 512
#define XSAVE_HEADER_SIZE 64
#define FP_XSTATE_MAGIC1_VALUE 0x46505853U
#define FXSAVE_SW_RESERVED_OFFSET 464
#define USER_CODE_SELECTOR 0x33
#define USER_DATA_SELECTOR 0x2b

enum context_state {
    CONTEXT_ATTACHED, /* a new host thread, stopped under ptrace: registers go through ptrace */
    CONTEXT_RUNNING,  /* application code (or a request not yet collected) */
    CONTEXT_STOPPED,  /* waiting in its handler for the Sentry's answer */
    CONTEXT_DEAD,
};

enum stop_reason { STOP_SYSCALL, STOP_FAULT, STOP_INTERRUPT };

struct platform_context {
    pid_t tid;
    enum context_state state;
    struct platform_address_space *space;
    int thread_index;
    struct trap_slot *slot;  /* the Sentry's view */
    uint8_t *area;           /* the Sentry's view of the whole thread area */
    uint64_t area_address;   /* the stub's view */
    /* The stop being handled, validated when collected: a signal frame, or a fast request (fast). */
    enum stop_reason reason;
    bool fast;
    struct trap_fast_registers fast_saved;  /* a fast request's registers as read */
    uint8_t *frame;
    uint8_t *fpstate;  /* NULL when the frame carries none */
    uint64_t fs_base, gs_base;
    void *user;
    struct platform_context *next;
};

struct platform_address_space {
    pid_t pid;        /* the mapper: the thread-group leader, stopped under ptrace for good */
    int index;        /* its range of the shared-memory file */
    uint8_t *area;    /* the Sentry's view of that range */
    uint32_t threads_in_use;
    struct platform_context *first_thread;
};

static int host_memory_fd = -1;
static int wake_fd = -1, child_signal_fd = -1, event_set_fd = -1, trap_file_fd = -1;
static uint8_t *trap_file;  /* the Sentry's mapping of the whole shared-memory file */
static struct trap_shared_page *shared_page;
static pid_t template_pid = -1;
static struct platform_context *contexts;
static int running_count;
static bool space_index_used[TRAP_SPACES_MAXIMUM];
static uint64_t spin_budget_ns = 20000;
static bool stop_found_by_spinning;
static struct platform_context *scan_cursor;

#define SPIN_BUDGET_MINIMUM_NS 2000
#define SPIN_BUDGET_MAXIMUM_NS 100000
#define STUB_SPIN_TARGET_NS 30000
#define STUB_YIELD_INTERVAL_NS 4000

static uint64_t now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
}

/* CPU placement. With few cores the Sentry and a stub thread may share one, and then every handoff waits for
 * a yield instead of a cache line; the stub reports where it posts from, and the Sentry moves off that CPU
 * when they keep meeting there (at most every PLACEMENT_INTERVAL_NS). */
#define PLACEMENT_STREAK 16
#define PLACEMENT_INTERVAL_NS 20000000ULL
static cpu_set_t sentry_cpus;  /* the Sentry's affinity at start: never widened beyond it */
static bool sentry_cpus_known;
static unsigned colocated_streak;
static uint32_t last_stub_cpu = UINT32_MAX; /* where the latest request came from */
static uint64_t last_move_ns;

static void keep_apart_from(uint32_t stub_cpu_and_node)
{
    const uint32_t stub_cpu = stub_cpu_and_node & 0xfff;
    last_stub_cpu = stub_cpu;
    int here = sched_getcpu();
    if (!sentry_cpus_known || here < 0 || (uint32_t)here != stub_cpu) {
        colocated_streak = 0;
        return;
    }
    if (++colocated_streak < PLACEMENT_STREAK)
        return;
    colocated_streak = 0;
    uint64_t now = now_ns();
    if (now - last_move_ns < PLACEMENT_INTERVAL_NS)
        return;
    last_move_ns = now;
    cpu_set_t elsewhere = sentry_cpus;
    CPU_CLR(stub_cpu, &elsewhere);
    if (CPU_COUNT(&elsewhere) > 0 && sched_setaffinity(0, sizeof(elsewhere), &elsewhere) < 0)
        log_warning("seccomp-trap: cannot move off CPU %u: %s", stub_cpu, strerror(errno));
}


static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }

static uint32_t load_relaxed(const uint32_t *word) { return __atomic_load_n(word, __ATOMIC_RELAXED); }

static void context_forget(struct platform_context *gone)
{
    if (scan_cursor == gone)
        scan_cursor = NULL;
    for (struct platform_context **link = &contexts; *link; link = &(*link)->next) {
        if (*link == gone) {
            *link = gone->next;
            return;
        }
    }
}

static void set_state(struct platform_context *context, enum context_state state)
{
    if (context->state == CONTEXT_RUNNING)
        running_count--;
    if (state == CONTEXT_RUNNING)
        running_count++;
    context->state = state;
}

static long inject_checked(pid_t tid, const char *what, long number, uint64_t a0, uint64_t a1, uint64_t a2,
                           uint64_t a3, uint64_t a4, uint64_t a5, pid_t *created)
{
    long result = stub_inject_syscall(tid, number, a0, a1, a2, a3, a4, a5, created);
    if (result < 0 && result > -4096)
        log_error("seccomp-trap: %s in stub %d failed: %s", what, tid, strerror((int)-result));
    return result;
}

struct kernel_sigaction {
    uint64_t handler, flags, restorer, mask;
};
#define KERNEL_SA_RESTORER 0x04000000

/* The template: a fork of the Sentry emptied down to the stub region and three fds (memory file, wake
 * eventfd, shared-memory file), with our handler for the trapping signals, under the template filter. */
/* The template's fds (memory file, wake eventfd, shared-memory file at fixed numbers) and our handler for
 * the trapping signals. */
static int template_prepare(void *argument)
{
    (void)argument;
    const int wanted[3] = {host_memory_fd, wake_fd, trap_file_fd};
    int high[3];
    for (int i = 0; i < 3; i++)
        if ((high[i] = fcntl(wanted[i], F_DUPFD, 100)) < 0)
            return -1;
    for (int i = 0; i < 3; i++)
        if (dup2(high[i], STUB_MEMORY_FD + i) < 0)
            return -1;
    syscall(SYS_close_range, STUB_TRAP_FILE_FD + 1, ~0U, 0);
    syscall(SYS_close_range, 0, STUB_MEMORY_FD - 1, 0);
    /* Raw rt_sigaction: the handler and restorer are ours, in the stub region; all signals stay blocked
     * while the handler waits for the Sentry, so that a stop never nests inside another. */
    const int trapped[] = {SIGSYS, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, TRAP_INTERRUPT_SIGNAL};
    struct kernel_sigaction action = {.handler = TRAP_HANDLER_ADDRESS,
                                      .flags = SA_SIGINFO | SA_ONSTACK | KERNEL_SA_RESTORER,
                                      .restorer = TRAP_RESTORER_ADDRESS,
                                      .mask = ~0ULL};
    for (size_t i = 0; i < ARRAY_SIZE(trapped); i++)
        if (syscall(SYS_rt_sigaction, trapped[i], &action, NULL, 8) < 0)
            return -1;
    return 0;
}

static int template_create(void)
{
    return stub_template_create("seccomp-trap", template_prepare, NULL,
                                STUB_CODE_ADDRESS + TRAP_TEMPLATE_FILTER_OFFSET, &template_pid);
}

/* How many pause instructions the stub's handler spins before it sleeps (about STUB_SPIN_TARGET_NS), and
 * how often it may yield meanwhile (a power of two, about STUB_YIELD_INTERVAL_NS). */
static uint32_t calibrate_stub_spin(uint32_t *yield_mask)
{
    const uint32_t probe = 20000;
    uint64_t start = now_ns();
    for (uint32_t i = 0; i < probe; i++)
        cpu_relax();
    uint64_t elapsed = now_ns() - start;
    if (elapsed == 0)
        elapsed = 1;
    uint64_t iterations = (uint64_t)probe * STUB_SPIN_TARGET_NS / elapsed;
    uint64_t per_yield = (uint64_t)probe * STUB_YIELD_INTERVAL_NS / elapsed, mask = 63;
    while (mask < per_yield && mask < 0xffff)
        mask = mask * 2 + 1;
    *yield_mask = (uint32_t)mask;
    return (uint32_t)MIN(MAX(iterations, 100ULL), 1000000ULL);
}

static int trap_initialize(int memory_fd)
{
    host_memory_fd = memory_fd;
    int error = stub_page_install();
    if (error == 0)
        error = trap_page_install();
    if (error < 0) {
        log_error("seccomp-trap: cannot lay out the stub region at %#llx: %s", STUB_CODE_ADDRESS, strerror(-error));
        return error;
    }
    trap_file_fd = memfd_create("usandbox-trap-slots", MFD_CLOEXEC);
    if (trap_file_fd < 0 || ftruncate(trap_file_fd, (off_t)TRAP_FILE_SIZE) < 0)
        return -errno;
    void *mapping = mmap(NULL, TRAP_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, trap_file_fd, 0);
    if (mapping == MAP_FAILED)
        return -errno;
    trap_file = mapping;
    shared_page = (struct trap_shared_page *)trap_file;
    shared_page->sentry_sleeping = 1;  /* until the loop spins, every request must wake it */
    shared_page->stub_spin_iterations = calibrate_stub_spin(&shared_page->stub_yield_mask);
    shared_page->sentry_cpu = UINT32_MAX;
    sentry_cpus_known = sched_getaffinity(0, sizeof(sentry_cpus), &sentry_cpus) == 0;

    wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd < 0)
        return -errno;
    sigset_t child_signals;
    sigemptyset(&child_signals);
    sigaddset(&child_signals, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &child_signals, NULL) < 0)
        return -errno;
    child_signal_fd = signalfd(-1, &child_signals, SFD_CLOEXEC | SFD_NONBLOCK);
    event_set_fd = epoll_create1(EPOLL_CLOEXEC);
    if (child_signal_fd < 0 || event_set_fd < 0)
        return -errno;
    struct epoll_event wake_event = {.events = EPOLLIN, .data.fd = wake_fd};
    struct epoll_event child_event = {.events = EPOLLIN, .data.fd = child_signal_fd};
    if (epoll_ctl(event_set_fd, EPOLL_CTL_ADD, wake_fd, &wake_event) < 0 ||
        epoll_ctl(event_set_fd, EPOLL_CTL_ADD, child_signal_fd, &child_event) < 0)
        return -errno;
    return template_create();
}

static uint64_t space_file_offset(int index) { return TRAP_SHARED_PAGE_SIZE + (uint64_t)index * TRAP_SPACE_AREA_SIZE; }

/* A new application thread in space: a host thread of the mapper's group with its own fd table (which then
 * loses the memory file and the shared-memory file), its own signal stack, under the application filter. */
static int thread_create(struct platform_address_space *space, struct platform_context **out)
{
    int index = -1;
    for (int i = 0; i < TRAP_THREADS_MAXIMUM; i++) {
        struct trap_slot *slot = (struct trap_slot *)(space->area + (uint64_t)i * TRAP_THREAD_AREA_SIZE);
        /* host_tid is cleared by the kernel once a previous owner's host thread is gone for good. */
        if (!(space->threads_in_use & (1u << i)) && load_relaxed(&slot->host_tid) == 0) {
            index = i;
            break;
        }
    }
    if (index < 0)
        return -EAGAIN;
    uint8_t *area = space->area + (uint64_t)index * TRAP_THREAD_AREA_SIZE;
    uint64_t area_address = TRAP_THREADS_ADDRESS + (uint64_t)index * TRAP_THREAD_AREA_SIZE;
    memset(area, 0, TRAP_SLOT_SIZE);
    struct trap_slot *slot = (struct trap_slot *)area;
    slot->self = area_address;
    const uint64_t flags = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_SETTID |
                           CLONE_CHILD_CLEARTID;
    pid_t tid = -1;
    int error = stub_spawn_stopped(space->pid, SYS_clone, flags, area_address + offsetof(struct trap_slot, host_tid),
                                   &tid);
    if (error < 0)
        return error;
    /* The stack_t for sigaltstack lives in the slot page, past the fields the handler uses. */
    stack_t *signal_stack = (stack_t *)(area + 0x100);
    *signal_stack = (stack_t){.ss_sp = (void *)(area_address + TRAP_SLOT_SIZE),
                              .ss_size = TRAP_THREAD_AREA_SIZE - TRAP_SLOT_SIZE};
    long result = inject_checked(tid, "closing the memory file", SYS_close, STUB_MEMORY_FD, 0, 0, 0, 0, 0, NULL);
    if (result == 0)
        result = inject_checked(tid, "closing the slot file", SYS_close, STUB_TRAP_FILE_FD, 0, 0, 0, 0, 0, NULL);
    if (result == 0)
        result = inject_checked(tid, "sigaltstack", SYS_sigaltstack, area_address + 0x100, 0, 0, 0, 0, 0, NULL);
    if (result == 0)
        result = inject_checked(tid, "the application filter", SYS_seccomp, SECCOMP_SET_MODE_FILTER_VALUE, 0,
                                STUB_CODE_ADDRESS + TRAP_APPLICATION_FILTER_OFFSET, 0, 0, 0, NULL);
    /* %gs is the fast path's: it finds the thread's slot through it (the application's %gs is not applied). */
    struct user_regs_struct host_registers;
    if (result == 0 && (ptrace(PTRACE_GETREGS, tid, 0, &host_registers) < 0 ||
                        (host_registers.gs_base = area_address, ptrace(PTRACE_SETREGS, tid, 0, &host_registers) < 0)))
        result = -errno;
    memset(area + 0x100, 0, sizeof(stack_t));
    if (result != 0) {
        syscall(SYS_tgkill, space->pid, tid, SIGKILL);
        return result < 0 ? (int)result : -EINVAL;
    }
    struct platform_context *context = xcalloc(1, sizeof(*context));
    context->tid = tid;
    context->state = CONTEXT_ATTACHED;
    context->space = space;
    context->thread_index = index;
    context->slot = slot;
    context->area = area;
    context->area_address = area_address;
    context->next = contexts;
    contexts = context;
    space->threads_in_use |= 1u << index;
    *out = context;
    return 0;
}

static void space_release_index(struct platform_address_space *space)
{
    if (space->index < 0)
        return;
    /* Zero the range for its next owner and give the pages back. */
    fallocate(trap_file_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)space_file_offset(space->index),
              (off_t)TRAP_SPACE_AREA_SIZE);
    space_index_used[space->index] = false;
    space->index = -1;
}

static void trap_address_space_destroy(struct platform_address_space *space);

static int trap_address_space_new(struct platform_address_space **out, struct platform_context **first_thread)
{
    int index = -1;
    for (int i = 0; i < TRAP_SPACES_MAXIMUM; i++) {
        if (!space_index_used[i]) {
            index = i;
            break;
        }
    }
    if (index < 0)
        return -EAGAIN;
    pid_t child = -1;
    /* CLONE_PARENT: the new stub is the Sentry's child, so that its death reaches our SIGCHLD. */
    int error = stub_spawn_stopped(template_pid, SYS_clone, CLONE_PARENT | SIGCHLD, 0, &child);
    if (error < 0)
        return error;
    struct platform_address_space *space = xcalloc(1, sizeof(*space));
    space->pid = child;
    space->index = index;
    space_index_used[index] = true;
    space->area = trap_file + space_file_offset(index);
    memset(space->area, 0, TRAP_SPACE_AREA_SIZE);
    long result = inject_checked(child, "mapping the shared page", SYS_mmap, TRAP_SHARED_ADDRESS,
                                 TRAP_SHARED_PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, STUB_TRAP_FILE_FD, 0, NULL);
    if (result == (long)TRAP_SHARED_ADDRESS)
        result = inject_checked(child, "mapping the slots", SYS_mmap, TRAP_THREADS_ADDRESS, TRAP_SPACE_AREA_SIZE,
                                PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, STUB_TRAP_FILE_FD,
                                space_file_offset(index), NULL);
    if (result == (long)TRAP_THREADS_ADDRESS)
        result = 0;
    else if (result >= 0)
        result = -EINVAL;
    struct platform_context *context = NULL;
    if (result == 0)
        result = thread_create(space, &context);
    if (result < 0) {
        trap_address_space_destroy(space);
        return (int)result;
    }
    space->first_thread = context;
    *out = space;
    *first_thread = context;
    return 0;
}

static void reap(pid_t tid)
{
    int status;
    while (waitpid(tid, &status, __WALL) < 0 && errno == EINTR)
        ;
}

static void trap_address_space_destroy(struct platform_address_space *space)
{
    if (!space)
        return;
    if (space->pid > 0)
        kill(space->pid, SIGKILL);  /* the whole thread group: the mapper and every application thread */
    for (struct platform_context **link = &contexts; *link;) {
        struct platform_context *context = *link;
        if (context->space == space) {
            if (context->state == CONTEXT_ATTACHED && space->pid > 0)
                reap(context->tid);  /* a traced thread reports its death to us */
            set_state(context, CONTEXT_DEAD);
            if (scan_cursor == context)
                scan_cursor = NULL;
            *link = context->next;
            free(context);
        } else {
            link = &context->next;
        }
    }
    if (space->pid > 0)
        reap(space->pid);
    space_release_index(space);
    free(space);
}

static int trap_thread_new(struct platform_context *creator, struct platform_context **out)
{
    return thread_create(creator->space, out);
}

static void trap_thread_exit(struct platform_context *context)
{
    struct platform_address_space *space = context->space;
    if (context->state == CONTEXT_STOPPED) {
        __atomic_store_n(&context->slot->command, TRAP_COMMAND_EXIT, __ATOMIC_RELAXED);
        __atomic_store_n(&context->slot->state, TRAP_SLOT_RESPONSE, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &context->slot->state, FUTEX_WAKE, 1, NULL, NULL, 0);
    } else if (context->state == CONTEXT_ATTACHED) {
        struct user_regs_struct registers;
        if (ptrace(PTRACE_GETREGS, context->tid, 0, &registers) == 0) {
            registers.rip = STUB_SYSCALL_ADDRESS;
            registers.rax = SYS_exit;
            registers.orig_rax = (uint64_t)-1;
            registers.rdi = 0;
            if (ptrace(PTRACE_SETREGS, context->tid, 0, &registers) == 0 &&
                ptrace(PTRACE_CONT, context->tid, 0, 0) == 0)
                reap(context->tid);
        }
    }
    /* Its area is reused only once the kernel has cleared host_tid (CLONE_CHILD_CLEARTID). */
    space->threads_in_use &= ~(1u << context->thread_index);
    if (space->first_thread == context)
        space->first_thread = NULL;
    set_state(context, CONTEXT_DEAD);
    context_forget(context);
    free(context);
}

static void trap_address_space_use_thread(struct platform_address_space *space, struct platform_context *stopped)
{
    (void)space;
    (void)stopped;  /* mapping changes always go through the mapper */
}

static int trap_map(struct platform_address_space *space, uint64_t address, uint64_t length, int protection,
                    uint64_t file_offset)
{
    long result = stub_inject_syscall(space->pid, SYS_mmap, address, length, (uint64_t)protection, MAP_SHARED | MAP_FIXED,
                         STUB_MEMORY_FD, file_offset, NULL);
    if (result < 0 && result > -4096)
        return (int)result;
    return 0;
}

static int trap_unmap(struct platform_address_space *space, uint64_t address, uint64_t length)
{
    long result = stub_inject_syscall(space->pid, SYS_munmap, address, length, 0, 0, 0, 0, NULL);
    return result < 0 ? (int)result : 0;
}

static int trap_protect(struct platform_address_space *space, uint64_t address, uint64_t length, int protection)
{
    long result = stub_inject_syscall(space->pid, SYS_mprotect, address, length, (uint64_t)protection, 0, 0, 0, NULL);
    return result < 0 ? (int)result : 0;
}

/* fs_base is applied by the handler on its way back (TRAP_COMMAND_SET_FS); %gs belongs to the fast path,
 * so the application's gs_base is only kept for arch_prctl(ARCH_GET_GS). */
static void set_segment_bases(struct platform_context *context, const struct user_regs_struct *in)
{
    if (in->fs_base != context->fs_base) {
        context->fs_base = in->fs_base;
        __atomic_store_n(&context->slot->fs_base, in->fs_base, __ATOMIC_RELAXED);
        __atomic_store_n(&context->slot->command, TRAP_COMMAND_SET_FS, __ATOMIC_RELAXED);
    }
    context->gs_base = in->gs_base;
}

/* The registers a fast request carries, into the Sentry's form (the rest of out is left as it is). */
static void fast_to_user(const struct trap_fast_registers *from, struct user_regs_struct *out)
{
    out->r15 = from->r15;
    out->r14 = from->r14;
    out->r13 = from->r13;
    out->r12 = from->r12;
    out->rbp = from->rbp;
    out->rbx = from->rbx;
    out->r11 = from->r11;
    out->r10 = from->r10;
    out->r9 = from->r9;
    out->r8 = from->r8;
    out->rax = from->rax;
    out->rcx = from->rcx;
    out->rdx = from->rdx;
    out->rsi = from->rsi;
    out->rdi = from->rdi;
    out->rip = from->rip;
    out->eflags = from->rflags;
    out->rsp = from->rsp;
}

/* The stopped signal frame's general registers become in's (what rt_sigreturn will load). */
static void frame_takes_registers(struct platform_context *context, const struct user_regs_struct *in)
{
    uint64_t gregs[NGREG];
    memcpy(gregs, context->frame + UCONTEXT_GREGS_OFFSET, sizeof(gregs));
    gregs[REG_R8] = in->r8;
    gregs[REG_R9] = in->r9;
    gregs[REG_R10] = in->r10;
    gregs[REG_R11] = in->r11;
    gregs[REG_R12] = in->r12;
    gregs[REG_R13] = in->r13;
    gregs[REG_R14] = in->r14;
    gregs[REG_R15] = in->r15;
    gregs[REG_RDI] = in->rdi;
    gregs[REG_RSI] = in->rsi;
    gregs[REG_RBP] = in->rbp;
    gregs[REG_RBX] = in->rbx;
    gregs[REG_RDX] = in->rdx;
    gregs[REG_RAX] = in->rax;
    gregs[REG_RCX] = in->rcx;
    gregs[REG_RSP] = in->rsp;
    gregs[REG_RIP] = in->rip;
    gregs[REG_EFL] = in->eflags;
    memcpy(context->frame + UCONTEXT_GREGS_OFFSET, gregs, sizeof(gregs));
}

static struct trap_fast_registers *fast_registers(struct platform_context *context)
{
    return (struct trap_fast_registers *)(context->area + TRAP_SLOT_REGISTERS);
}

/* A fast request looks as a syscall-entry stop does under ptrace: the syscall instruction has set rcx to
 * the return address and r11 to the flags, and the kernel shows rax = -ENOSYS. */
static int fast_get_registers(struct platform_context *context, struct platform_registers *registers)
{
    struct trap_fast_registers saved;
    memcpy(&saved, fast_registers(context), sizeof(saved));
    struct user_regs_struct *out = &registers->general;
    memset(out, 0, sizeof(*out));
    fast_to_user(&saved, out);
    out->rcx = saved.rip;
    out->r11 = saved.rflags;
    out->orig_rax = saved.rax;
    out->rax = (uint64_t)-ENOSYS;
    out->cs = USER_CODE_SELECTOR;
    out->ss = USER_DATA_SELECTOR;
    out->fs_base = context->fs_base;
    out->gs_base = context->gs_base;
    registers->floating_point_valid = false; /* in the slot, fetched only if needed */
    context->fast_saved = saved;
    return 0;
}

static int trap_get_floating_point(struct platform_context *context, struct user_fpregs_struct *floating_point)
{
    if (context->state != CONTEXT_STOPPED || !context->fast)
        return -EINVAL;  /* get_registers gave it already */
    memcpy(floating_point, context->area + TRAP_SLOT_FXSAVE, sizeof(*floating_point));
    return 0;
}

static int fast_set_registers(struct platform_context *context, const struct platform_registers *registers)
{
    const struct user_regs_struct *in = &registers->general;
    struct trap_fast_registers answer = {
        .r15 = in->r15, .r14 = in->r14, .r13 = in->r13, .r12 = in->r12, .rbp = in->rbp, .rbx = in->rbx,
        .r11 = in->r11, .r10 = in->r10, .r9 = in->r9, .r8 = in->r8, .rax = in->rax, .rcx = in->rcx,
        .rdx = in->rdx, .rsi = in->rsi, .rdi = in->rdi, .rip = in->rip, .rflags = in->eflags, .rsp = in->rsp,
    };
    /* Only what changed: every cache line written here moves between the two cores twice. */
    uint64_t *to = (uint64_t *)fast_registers(context);
    const uint64_t *from = (const uint64_t *)&answer, *before = (const uint64_t *)&context->fast_saved;
    for (size_t i = 0; i < sizeof(answer) / sizeof(uint64_t); i++)
        if (from[i] != before[i])
            to[i] = from[i];
    /* Restoring the FPU costs the handler an fxrstor: only when the Sentry changed it. The software-reserved
     * bytes at the end of the image are the kernel's business, not the registers'. */
    uint8_t *saved_fpu = context->area + TRAP_SLOT_FXSAVE;
    if (registers->floating_point_valid &&
        memcmp(saved_fpu, &registers->floating_point, FXSAVE_SW_RESERVED_OFFSET) != 0) {
        memcpy(saved_fpu, &registers->floating_point, FXSAVE_SW_RESERVED_OFFSET);
        __atomic_store_n(&context->slot->fpu_dirty, 1, __ATOMIC_RELAXED);
    }
    set_segment_bases(context, in);
    return 0;
}

static bool in_fast_path(uint64_t instruction_pointer)
{
    const uint64_t posted = TRAP_CODE_ADDRESS + (uint64_t)(trap_fast_posted - trap_code_start);
    const uint64_t end = TRAP_CODE_ADDRESS + (uint64_t)(trap_fast_end - trap_code_start);
    return (instruction_pointer >= posted && instruction_pointer < end) ||
           instruction_pointer == TRAP_SYSCALL_RETURN_ADDRESS;
}

/* The interrupt signal reached the fast path after the Sentry answered it (the handler drops it before): the
 * application's registers are the answer's, not the frame's, whatever part of them the fast path restored. */
static void frame_takes_fast_answer(struct platform_context *context)
{
    struct trap_fast_registers answer;
    memcpy(&answer, fast_registers(context), sizeof(answer));
    struct user_regs_struct registers = {0};
    fast_to_user(&answer, &registers);
    frame_takes_registers(context, &registers);
    /* An answer's FPU state not yet restored replaces the live one the frame saved. */
    if (__atomic_exchange_n(&context->slot->fpu_dirty, 0, __ATOMIC_RELAXED) && context->fpstate)
        memcpy(context->fpstate, context->area + TRAP_SLOT_FXSAVE, FXSAVE_SW_RESERVED_OFFSET);
}

static int trap_get_registers(struct platform_context *context, struct platform_registers *registers)
{
    if (context->state == CONTEXT_ATTACHED) {
        if (ptrace(PTRACE_GETREGS, context->tid, 0, &registers->general) < 0 ||
            ptrace(PTRACE_GETFPREGS, context->tid, 0, &registers->floating_point) < 0)
            return -errno;
        registers->general.gs_base = context->gs_base;
        registers->floating_point_valid = true;
        return 0;
    }
    if (context->state == CONTEXT_STOPPED && context->fast)
        return fast_get_registers(context, registers);
    if (context->state != CONTEXT_STOPPED || !context->frame)
        return -ESRCH;
    uint64_t gregs[NGREG];
    memcpy(gregs, context->frame + UCONTEXT_GREGS_OFFSET, sizeof(gregs));
    struct user_regs_struct *out = &registers->general;
    memset(out, 0, sizeof(*out));
    out->r8 = gregs[REG_R8];
    out->r9 = gregs[REG_R9];
    out->r10 = gregs[REG_R10];
    out->r11 = gregs[REG_R11];
    out->r12 = gregs[REG_R12];
    out->r13 = gregs[REG_R13];
    out->r14 = gregs[REG_R14];
    out->r15 = gregs[REG_R15];
    out->rdi = gregs[REG_RDI];
    out->rsi = gregs[REG_RSI];
    out->rbp = gregs[REG_RBP];
    out->rbx = gregs[REG_RBX];
    out->rdx = gregs[REG_RDX];
    out->rcx = gregs[REG_RCX];
    out->rsp = gregs[REG_RSP];
    out->rip = gregs[REG_RIP];
    out->eflags = gregs[REG_EFL];
    if (context->reason == STOP_SYSCALL) {
        /* As at a ptrace syscall-entry stop: the kernel rolled rax back to the number. */
        out->orig_rax = gregs[REG_RAX];
        out->rax = (uint64_t)-ENOSYS;
    } else {
        out->orig_rax = (uint64_t)-1;
        out->rax = gregs[REG_RAX];
    }
    out->cs = USER_CODE_SELECTOR;
    out->ss = USER_DATA_SELECTOR;
    out->fs_base = context->fs_base;
    out->gs_base = context->gs_base;
    registers->floating_point_valid = context->fpstate != NULL;
    if (context->fpstate)
        memcpy(&registers->floating_point, context->fpstate, sizeof(registers->floating_point));
    return 0;
}

static int trap_set_registers(struct platform_context *context, const struct platform_registers *registers)
{
    const struct user_regs_struct *in = &registers->general;
    if (context->state == CONTEXT_ATTACHED) {
        struct user_regs_struct host = *in;
        host.gs_base = context->area_address;
        if (ptrace(PTRACE_SETREGS, context->tid, 0, &host) < 0)
            return -errno;
        if (registers->floating_point_valid &&
            ptrace(PTRACE_SETFPREGS, context->tid, 0, &registers->floating_point) < 0)
            return -errno;
        context->fs_base = in->fs_base;
        context->gs_base = in->gs_base;
        return 0;
    }
    if (context->state == CONTEXT_STOPPED && context->fast)
        return fast_set_registers(context, registers);
    if (context->state != CONTEXT_STOPPED || !context->frame)
        return -ESRCH;
    frame_takes_registers(context, in);
    if (registers->floating_point_valid && context->fpstate) {
        /* Keep the kernel's software-reserved words (they describe the xsave layout), and mark x87 and SSE
         * as present so that the restore loads what we wrote rather than their initial state. */
        memcpy(context->fpstate, &registers->floating_point, FXSAVE_SW_RESERVED_OFFSET);
        uint32_t magic;
        memcpy(&magic, context->fpstate + FXSAVE_SW_RESERVED_OFFSET, sizeof(magic));
        if (magic == FP_XSTATE_MAGIC1_VALUE) {
            uint64_t present;
            memcpy(&present, context->fpstate + FXSAVE_SIZE, sizeof(present));
            present |= 3;
            memcpy(context->fpstate + FXSAVE_SIZE, &present, sizeof(present));
        }
    }
    set_segment_bases(context, in);
    return 0;
}

static int trap_resume(struct platform_context *context)
{
    switch (context->state) {
    case CONTEXT_ATTACHED:
        /* From now on the thread runs on its own: its syscalls and faults come through its slot. */
        if (ptrace(PTRACE_DETACH, context->tid, 0, 0) < 0)
            return -errno;
        set_state(context, CONTEXT_RUNNING);
        return 0;
    case CONTEXT_STOPPED:
        context->frame = context->fpstate = NULL;
        context->fast = false;
        set_state(context, CONTEXT_RUNNING);
        __atomic_store_n(&context->slot->state, TRAP_SLOT_RESPONSE, __ATOMIC_SEQ_CST);
        /* Pairs with the handler's "stub_sleeping = 1; mfence; check state": one of us sees the other. */
        if (__atomic_load_n(&context->slot->stub_sleeping, __ATOMIC_SEQ_CST))
            syscall(SYS_futex, &context->slot->state, FUTEX_WAKE, 1, NULL, NULL, 0);
        return 0;
    case CONTEXT_RUNNING:
        return 0;
    default:
        return -ESRCH;
    }
}

static int trap_interrupt(struct platform_context *context)
{
    if (context->state != CONTEXT_RUNNING)
        return 0;  /* stopped already: the Sentry holds it */
    if (syscall(SYS_tgkill, context->space->pid, context->tid, TRAP_INTERRUPT_SIGNAL) < 0)
        return -errno;
    return 0;
}

static void trap_context_destroy(struct platform_context *context) { (void)context; }
static void *trap_context_user(struct platform_context *context) { return context->user; }
static void trap_context_set_user(struct platform_context *context, void *user) { context->user = user; }
static int trap_event_fd(void) { return event_set_fd; }

static bool has_request(const struct platform_context *context)
{
    return context->state == CONTEXT_RUNNING && load_relaxed(&context->slot->state) == TRAP_SLOT_REQUEST;
}

/* Checks a posted request and takes the stop from it. False: the slot lies about its frame. */
static bool accept_request(struct platform_context *context, struct platform_stop *stop)
{
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    memset(stop, 0, sizeof(*stop));
    keep_apart_from(__atomic_load_n(&context->slot->cpu, __ATOMIC_RELAXED));
    if (__atomic_load_n(&context->slot->kind, __ATOMIC_RELAXED) == TRAP_KIND_FAST) {
        context->fast = true;
        context->frame = context->fpstate = NULL;
        context->reason = STOP_SYSCALL;
        stop->kind = PLATFORM_STOP_SYSCALL;
        return true;
    }
    context->fast = false;
    uint64_t frame = __atomic_load_n(&context->slot->frame, __ATOMIC_RELAXED);
    uint64_t info = __atomic_load_n(&context->slot->siginfo, __ATOMIC_RELAXED);
    const uint64_t stack_start = context->area_address + TRAP_SLOT_SIZE;
    const uint64_t stack_end = context->area_address + TRAP_THREAD_AREA_SIZE;
    if (frame < stack_start || frame > stack_end - UCONTEXT_SIZE || info < stack_start ||
        info > stack_end - sizeof(siginfo_t))
        return false;
    uint8_t *frame_here = context->area + (frame - context->area_address);
    uint64_t fpstate;
    memcpy(&fpstate, frame_here + UCONTEXT_FPSTATE_OFFSET, sizeof(fpstate));
    context->fpstate = NULL;
    if (fpstate) {
        if (fpstate < stack_start || fpstate > stack_end - (FXSAVE_SIZE + XSAVE_HEADER_SIZE))
            return false;
        context->fpstate = context->area + (fpstate - context->area_address);
    }
    context->frame = frame_here;
    siginfo_t signal;
    memcpy(&signal, context->area + (info - context->area_address), sizeof(signal));
    uint64_t interrupted_at;
    memcpy(&interrupted_at, frame_here + UCONTEXT_GREGS_OFFSET + REG_RIP * 8, sizeof(interrupted_at));
    int number = signal.si_signo;
    if (number == SIGSYS && signal.si_code == 1 /* SYS_SECCOMP */) {
        context->reason = STOP_SYSCALL;
        stop->kind = PLATFORM_STOP_SYSCALL;
        stop->patchable = interrupted_at < APPLICATION_ADDRESS_LIMIT;
    } else if (in_fast_path(interrupted_at)) {
        /* Only the interrupt signal comes here from the fast path (the handler code cannot fault unless
         * the application forged its slot): the application is where the answer put it. */
        if (number != TRAP_INTERRUPT_SIGNAL)
            return false;
        frame_takes_fast_answer(context);
        context->reason = STOP_INTERRUPT;
        stop->kind = PLATFORM_STOP_INTERRUPT;
    } else if ((number == SIGSEGV || number == SIGBUS || number == SIGFPE || number == SIGILL ||
                number == SIGTRAP) && signal.si_code > 0) {
        context->reason = STOP_FAULT;
        stop->kind = PLATFORM_STOP_FAULT;
        stop->fault = signal;
    } else {
        context->reason = STOP_INTERRUPT;
        stop->kind = PLATFORM_STOP_INTERRUPT;
    }
    return true;
}

/* A whole stub process is gone: its threads' tasks learn it from one EXITED stop (the Sentry then kills
 * the group, which destroys the space). */
static struct platform_context *space_gone(pid_t pid)
{
    struct platform_context *reported = NULL;
    for (struct platform_context *context = contexts; context; context = context->next) {
        if (context->space->pid != pid)
            continue;
        if (!reported && context->state != CONTEXT_DEAD)
            reported = context;
        set_state(context, CONTEXT_DEAD);
    }
    if (reported)
        reported->space->pid = -1;
    return reported;
}

static int collect_exits(struct platform_context **context_out, struct platform_stop *stop)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, __WALL | WNOHANG);
        if (pid <= 0)
            return 0;
        if (!WIFEXITED(status) && !WIFSIGNALED(status))
            continue;  /* a stop of a thread we hold under ptrace: it waits for us anyway */
        struct platform_context *context = space_gone(pid);
        if (context) {
            memset(stop, 0, sizeof(*stop));
            stop->kind = PLATFORM_STOP_EXITED;
            *context_out = context;
            return 1;
        }
    }
}

static int trap_collect_stop(struct platform_context **context_out, struct platform_stop *stop)
{
    /* Draining costs syscalls: after a successful spin it is skipped, but not forever (a stub may die). */
    static unsigned collections_without_drain;
    if (!stop_found_by_spinning || ++collections_without_drain >= 128) {
        collections_without_drain = 0;
        /* We slept (or were woken early): take the wake-ups and exits that woke us. */
        uint64_t count;
        while (read(wake_fd, &count, sizeof(count)) == sizeof(count))
            ;
        struct signalfd_siginfo drained;
        bool child_exited = false;
        while (read(child_signal_fd, &drained, sizeof(drained)) == sizeof(drained))
            child_exited = true;
        if (child_exited && collect_exits(context_out, stop))
            return 1;
    }
    /* Round-robin from where the last scan stopped, so that a busy thread cannot starve the others. */
    struct platform_context *first = scan_cursor && scan_cursor->next ? scan_cursor->next : contexts;
    struct platform_context *context = first;
    while (context) {
        if (has_request(context)) {
            scan_cursor = context;
            *context_out = context;
            set_state(context, CONTEXT_STOPPED);
            if (!accept_request(context, stop)) {
                log_warning("seccomp-trap: stub thread %d posted a request it could not have made (a forged slot); killed",
                            context->tid);
                kill(context->space->pid, SIGKILL);
                space_gone(context->space->pid);
                memset(stop, 0, sizeof(*stop));
                stop->kind = PLATFORM_STOP_EXITED;
            }
            return 1;
        }
        context = context->next ? context->next : contexts;
        if (context == first)
            break;
    }
    stop_found_by_spinning = false;
    return 0;
}

static bool any_request(void)
{
    for (struct platform_context *context = contexts; context; context = context->next)
        if (has_request(context))
            return true;
    return false;
}

/* Called by the loop when it has nothing to run, before it sleeps in poll: spin on the running threads'
 * slots for a bounded, adaptive time. Returns 1 when a stop is ready (the loop collects without sleeping). */
static int trap_spin_for_stop(void)
{
    stop_found_by_spinning = false;
    if (running_count > 0) {
        /* Written only when they change: the stubs read this line on every request. */
        if (__atomic_load_n(&shared_page->sentry_sleeping, __ATOMIC_RELAXED))
            __atomic_store_n(&shared_page->sentry_sleeping, 0, __ATOMIC_SEQ_CST);
        int here = sched_getcpu();
        if (__atomic_load_n(&shared_page->sentry_cpu, __ATOMIC_RELAXED) != (uint32_t)here)
            __atomic_store_n(&shared_page->sentry_cpu, (uint32_t)here, __ATOMIC_RELAXED);
        __atomic_store_n(&shared_page->sentry_spinning, 1, __ATOMIC_RELAXED);
        uint64_t start = now_ns();
        for (uint32_t i = 1;; i++) {
            if (any_request()) {
                stop_found_by_spinning = true;
                break;
            }
            if ((i & 15) == 0 && now_ns() - start > spin_budget_ns)
                break;
            /* The stub we wait for may be queued behind us on this CPU (a yield costs a host syscall: only
             * then). */
            if ((i & 63) == 0 && (uint32_t)here == last_stub_cpu)
                sched_yield();
            cpu_relax();
        }
        __atomic_store_n(&shared_page->sentry_spinning, 0, __ATOMIC_RELAXED);
        /* Spinning pays when stubs answer quickly: grow the budget then, shrink it when it was wasted. */
        if (stop_found_by_spinning)
            spin_budget_ns = MIN(spin_budget_ns * 2, (uint64_t)SPIN_BUDGET_MAXIMUM_NS);
        else
            spin_budget_ns = MAX(spin_budget_ns / 2, (uint64_t)SPIN_BUDGET_MINIMUM_NS);
        if (stop_found_by_spinning)
            return 1;  /* stay awake: stubs need not write the eventfd while we collect */
    }
    /* Pairs with the handler's "state = REQUEST (xchg); check sentry_sleeping". */
    __atomic_store_n(&shared_page->sentry_sleeping, 1, __ATOMIC_SEQ_CST);
    if (any_request()) {
        stop_found_by_spinning = true;
        return 1;
    }
    return 0;
}

static pid_t trap_host_process(struct platform_address_space *space) { return space->pid; }

const struct platform_ops platform_seccomp_trap_ops = {
    .name = "seccomp-trap",
    .initialize = trap_initialize,
    .address_space_new = trap_address_space_new,
    .address_space_destroy = trap_address_space_destroy,
    .map = trap_map,
    .unmap = trap_unmap,
    .protect = trap_protect,
    .get_registers = trap_get_registers,
    .get_floating_point = trap_get_floating_point,
    .set_registers = trap_set_registers,
    .resume = trap_resume,
    .interrupt = trap_interrupt,
    .context_destroy = trap_context_destroy,
    .thread_new = trap_thread_new,
    .thread_exit = trap_thread_exit,
    .address_space_use_thread = trap_address_space_use_thread,
    .context_user = trap_context_user,
    .context_set_user = trap_context_set_user,
    .event_fd = trap_event_fd,
    .collect_stop = trap_collect_stop,
    .spin_for_stop = trap_spin_for_stop,
    .host_process = trap_host_process,
    .fast_syscalls = true,
};
