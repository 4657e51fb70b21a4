/* sentry/internal.h: the Sentry's own data structures (tasks, thread groups, address spaces, signals),
 * shared by the files of sentry/ and by the syscall families that are thin layers over them. */
#ifndef USANDBOX_SENTRY_INTERNAL_H
#define USANDBOX_SENTRY_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "common/common.h"
#include "platform/platform.h"
#include "sentry/sentry.h"
#include "vfs/vfs.h"

/* ---- address spaces (mm.c) ---- */
struct vma {
    uint64_t start, end;
    int protection;                 /* PROT_* as the application asked */
    int flags;                      /* MAP_SHARED or MAP_PRIVATE, MAP_ANONYMOUS, MAP_GROWSDOWN */
    struct memory_region *region;   /* where the pages live */
    uint64_t region_offset;         /* of start, within region */
    bool file_pages;                /* private but read-only over the file's own or cached pages (region
                                     * shared with the file): copied before it may become writable */
    bool shared_read_only;          /* MAP_SHARED that may never become writable (file or SysV attachment
                                     * opened read-only) */
    struct vfs_file *file;          /* backing file for /proc/PID/maps, or NULL */
    uint64_t file_offset;
    char name[32];                  /* "[heap]", "[stack]" or "" */
    bool locked;                    /* mlock(2)ed (VM_LOCKED): bookkeeping for RLIMIT_MEMLOCK and VmLck */
    bool patched_code;              /* pages of a private file mapping copied to patch syscalls: still one
                                     * mapping with its neighbours for /proc/PID/maps */
};

/* Syscall sites patched into jumps to the fast path (syscall_patch.c), per address space. */
#define SYSCALL_PATCH_COUNTERS 64
struct syscall_patches {
    bool table_unavailable;  /* the thunk table's place is taken: no patching here */
    bool table_mapped;
    bool withdrawn;          /* the application took the table's place: every site got its code back */
    uint32_t thunk_count;    /* thunks in use, the header included */
    struct syscall_patch_site {
        uint64_t address;    /* of the 7 bytes */
        uint8_t original[PLATFORM_PATCH_SIZE];
    } *sites;                /* sorted by address */
    size_t site_count, site_capacity;
    struct {
        uint64_t address;    /* return address of a trapping syscall site */
        uint32_t hits;
    } counters[SYSCALL_PATCH_COUNTERS];
};

struct mm {
    int references;
    struct vma *vmas;  /* sorted by start, non-overlapping */
    size_t vma_count, vma_capacity;
    uint64_t brk_start, brk_end, brk_limit;
    uint64_t mmap_top;  /* top-down placement starts below this */
    uint64_t stack_start;
    uint64_t arg_start, arg_end, env_start, env_end;
    struct vfs_file *executable;
    struct platform_address_space *space;  /* the stub process */
    struct platform_context *stub_thread;  /* its host thread, for mapping changes */
    bool lock_future;               /* mlockall(MCL_FUTURE): new mappings start locked */
    struct syscall_patches patches;
};

struct mm *mm_new(void);  /* with a fresh stub */
struct mm *mm_fork(struct mm *parent);
void mm_get(struct mm *mm);
void mm_put(struct mm *mm);
/* Replace every application mapping (execve): the stub keeps only its trampoline. */
int mm_clear(struct mm *mm);
long mm_map(struct mm *mm, uint64_t address, uint64_t length, int protection, int flags, struct vfs_file *file,
            uint64_t file_offset);
/* MAP_SHARED of a file over its pages in the memory file: an in-memory file's own (every mapping, read and
 * write share them) or a host file's cached copy, which only a read-only mapping may use (writable: the
 * file is open for writing, and writes would not reach the host: -ENODEV). */
long mm_map_shared_file(struct mm *mm, uint64_t address, uint64_t length, int protection, int flags,
                        struct vfs_file *file, uint64_t file_offset, bool writable);
long mm_unmap(struct mm *mm, uint64_t address, uint64_t length);
long mm_protect(struct mm *mm, uint64_t address, uint64_t length, int protection);
long mm_brk(struct mm *mm, uint64_t address);
long mm_remap(struct mm *mm, uint64_t old_address, uint64_t old_length, uint64_t new_length, int flags,
              uint64_t new_address);
int mm_copy_in(struct mm *mm, void *destination, uint64_t address, size_t length);
/* The Sentry's view of an aligned, writable 32-bit word of application memory, for the atomic updates futexes
 * make while application threads run (lock words). NULL if unaligned or not mapped writable. */
uint32_t *mm_word_for_atomic_update(struct mm *mm, uint64_t address);
int mm_copy_out(struct mm *mm, uint64_t address, const void *source, size_t length, bool force);
void mm_describe_maps(struct mm *mm, const struct vfs_context *ctx, struct text_buffer *out);
const struct vma *mm_find_vma(struct mm *mm, uint64_t address);
/* The Sentry's view of application code at [address, address+length), to patch in place: NULL unless it lies
 * in one private, executable file mapping. Pages shared with the file's cache get their own copy first. */
uint8_t *mm_private_code(struct mm *mm, uint64_t address, size_t length);
/* An anonymous private mapping that /proc/PID/maps names (mm_map's result). */
long mm_map_named(struct mm *mm, uint64_t address, uint64_t length, int protection, int flags, const char *name);

/* ---- syscall patching (syscall_patch.c), for platforms with fast_syscalls ----
 * A syscall that trapped at a site counts a hit; a site hit often enough is patched so that it enters the
 * fast path from then on. */
void syscall_patch_count_hit(struct mm *mm, const struct user_regs_struct *registers);
/* What a SIGILL at rip is: the old syscall instruction of a patched site (the thread ran the old mov while
 * the site was patched, or jumped to the syscall instruction: a restart), to be taken as the syscall in rax;
 * a site being given its code back, to be run again as it is now; or neither (a real fault). */
enum syscall_patch_fault { SYSCALL_PATCH_FAULT_NONE, SYSCALL_PATCH_FAULT_SYSCALL, SYSCALL_PATCH_FAULT_RETRY };
enum syscall_patch_fault syscall_patch_classify_fault(struct mm *mm, uint64_t rip);
/* Before the application maps, unmaps, protects or moves anything in [start, end): if that touches the thunk
 * table's place, every patched site gets its code back and the table goes, as if it had never been. */
void syscall_patches_withdraw(struct mm *mm, uint64_t start, uint64_t end);
void syscall_patches_copy(struct mm *child, const struct mm *parent);
void syscall_patches_release(struct mm *mm);

/* A stopped task's FPU state, fetched from the platform the first time something needs it (loop.c). */
void task_load_floating_point(struct task *task);

/* ---- signals (signal.c) ---- */
struct kernel_sigaction {
    uint64_t handler;   /* SIG_DFL=0, SIG_IGN=1, or an address */
    uint64_t flags;
    uint64_t restorer;
    uint64_t mask;
};
struct pending_signal {
    struct list_node node;
    siginfo_t info;
};
struct signal_queue {
    uint64_t pending;           /* bit (sig-1) */
    struct list_node queue;     /* struct pending_signal, in order */
};
struct signal_handlers {
    int references;
    struct kernel_sigaction actions[64];
};

/* ---- tasks (task.c) ---- */
struct credentials {
    uint32_t uid, euid, suid, fsuid;
    uint32_t gid, egid, sgid, fsgid;
    uint32_t groups[64];
    size_t group_count;
};
struct fs_state {
    int references;
    struct vfs_path root, cwd;
    uint32_t umask;
};

/* Scheduling attributes the Sentry keeps per task (syscalls/sched.c); it never changes the host's scheduling.
 * A child inherits them (task_scheduling_inherit), as Linux's sched_fork does. */
#define TASK_AFFINITY_WORDS 16  /* 1024 CPUs, glibc's cpu_set_t */
struct task_scheduling {
    int nice;                       /* -20..19 */
    int policy;                     /* SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH or SCHED_IDLE */
    int priority;                   /* 1..99 for SCHED_FIFO/SCHED_RR, else 0 */
    bool reset_on_fork;             /* SCHED_RESET_ON_FORK */
    bool affinity_set;              /* else every CPU sched_getaffinity reports */
    uint64_t affinity[TASK_AFFINITY_WORDS];
    uint16_t io_priority;           /* ioprio_set's value, when io_priority_set */
    bool io_priority_set;           /* else the default, best-effort level 4 */
    uint32_t personality;           /* personality(2) */
};
static inline void task_scheduling_inherit(struct task_scheduling *child, const struct task_scheduling *parent)
{
    *child = *parent;
    if (child->reset_on_fork) {
        /* Linux: a real-time policy becomes SCHED_OTHER and a negative nice 0, and the flag is cleared. */
        if (child->policy == 1 /* SCHED_FIFO */ || child->policy == 2 /* SCHED_RR */) {
            child->policy = 0;
            child->priority = 0;
        }
        if (child->nice < 0)
            child->nice = 0;
        child->reset_on_fork = false;
    }
    /* Linux's copy_io: only an I/O priority of a real class (not IOPRIO_CLASS_NONE) is inherited. */
    if (child->io_priority >> 13 == 0)
        child->io_priority_set = false;
}

enum task_state {
    TASK_STATE_STOPPED,   /* the host thread is stopped and the Sentry owns its registers */
    TASK_STATE_RUNNABLE,  /* will be resumed by the loop */
    TASK_STATE_RUNNING,   /* application code is running on the host */
    TASK_STATE_BLOCKED,   /* waiting inside a syscall */
    TASK_STATE_DEAD,
};

/* One thing a blocked task waits for: a file's or a queue's readiness. */
struct task_wait {
    struct waiter waiter;
    struct vfs_file *file;  /* a reference, when waiting on a file */
};
struct task {
    int32_t tid;
    struct thread_group *group;
    struct list_node group_node;    /* in group->threads */
    struct list_node run_node;      /* in the run queue while RUNNABLE */
    struct list_node all_node;      /* in the pid table list */
    enum task_state state;
    struct platform_context *context;
    struct platform_registers registers;
    bool registers_dirty;

    /* The syscall in progress, re-run from scratch after a wait. */
    bool in_syscall;
    struct syscall_args syscall;
    bool syscall_restarted;
    uint64_t restart_state[4];
    struct task_wait *waits;        /* linked into queues while blocked: never moved while count > 0 */
    int waiter_count, waiter_capacity;
    uint64_t wait_deadline;         /* CLOCK_MONOTONIC ns, 0 = none */
    bool woken;
    bool parked;                    /* held by the Sentry while its thread group is stopped */
    long interrupted_result;        /* what a signal turns the wait into; 0 = -SENTRY_ERESTARTSYS */
    /* A relative sleep interrupted without a handler resumes through restart_syscall(2) with the time left
     * (Linux's restart block); a signal handler's sigreturn disarms it. */
    bool sleep_restart_armed;
    uint64_t sleep_restart_deadline, sleep_restart_remaining_address;
    uint64_t awaited_signals;       /* rt_sigtimedwait: these end the wait instead of interrupting it */
    uint64_t forced_signals;        /* faults: delivered even to pid 1 without a handler */
    uint64_t robust_list, robust_list_length;
    int parent_death_signal;
    bool no_new_privileges;
    bool blocking;                  /* the handler queued waits and returned SENTRY_ERESTARTSYS */

    uint64_t signal_mask;           /* bit (sig-1) */
    uint64_t saved_signal_mask;     /* sigsuspend restores it */
    bool restore_saved_mask;
    struct signal_queue signals;    /* private to this thread */
    stack_t alternate_stack;
    uint64_t clear_child_tid;

    struct vfs_fd_table *fds;
    struct fs_state *fs;
    struct credentials credentials;
    struct vfs_credentials vfs_credentials; /* their vfs view, refreshed by task_vfs_context */
    char name[16];                  /* comm */
    uint64_t start_time_ns;
    struct task_scheduling scheduling;
};

#define PROCESS_POSIX_TIMERS 64
struct process_timer;

struct thread_group {
    int32_t tgid;
    struct list_node threads;
    int live_threads;
    struct thread_group *parent;
    struct list_node children;
    struct list_node sibling_node;
    struct mm *mm;
    struct signal_handlers *handlers;
    struct signal_queue signals;    /* shared by the group */
    int32_t process_group, session;
    struct rlimit limits[RLIM_NLIMITS];
    int exit_signal;                /* sent to the parent at exit (SIGCHLD) */
    bool exiting;                   /* exit_group or fatal signal under way */
    bool zombie;                    /* all threads gone, waiting for wait4 */
    int wait_status;                /* as wait4 reports it */
    struct wait_queue child_exit;   /* waiters in wait4 of this group */
    struct task *vfork_parent;      /* blocked until this group execs or exits */
    struct wait_queue vfork_done;
    uint64_t start_time_ns;
    /* CPU time of the stubs this process left (exec) and of its waited-for children (syscalls/time.c);
     * the running stub's own is read from its host clock when asked. */
    uint64_t user_time_ns, children_user_time_ns;
    uint64_t system_time_ns, children_system_time_ns, runtime_ns;
    bool ever_multithreaded;        /* had a second thread: thread CPU clocks are then unknown */
    struct process_timer *real_timer;              /* alarm(2) and ITIMER_REAL */
    struct process_timer *posix_timers[PROCESS_POSIX_TIMERS];  /* timer_create(2), by id */
    /* Job control: a stop signal's default action stops every thread until SIGCONT (signal.c). */
    bool stopped;
    int stop_signal;                /* what stopped it, as wait reports */
    bool stop_unreported;           /* for wait's WUNTRACED/WSTOPPED */
    bool continue_unreported;       /* for wait's WCONTINUED */
    bool continue_to_notify;        /* SIGCHLD for the continue: sent once a thread of it runs, as Linux does */
    struct vfs_pidfd *pidfd;        /* what its pidfds share (syscalls/pidfd.c), once one was opened */
    void (*exit_observer)(struct thread_group *group);  /* told when it becomes a zombie (exec'd processes) */
};

/* CPU-time accounting (syscalls/time.c): before a group's stub goes (exec, exit), keep what it used; when a
 * parent reaps a child, the child's total becomes part of the parent's children's time. */
void process_cpu_time_settle(struct thread_group *group);
void process_cpu_time_reaped(struct thread_group *parent, struct thread_group *child);
/* A process's time plus its waited-for children's (RUSAGE_BOTH: what wait4 reports of a child), in ns. */
void process_cpu_time_total(struct thread_group *group, uint64_t *user_ns, uint64_t *system_ns);

/* Disarm and free a group's timers (at exit, and at execve for POSIX timers). */
void process_timers_release(struct thread_group *group, bool keep_real_timer);

/* The task table and the process tree. */
struct task *task_by_tid(int32_t tid);
struct list_node *task_all_list(void); /* struct task, by all_node */
void loop_set_forwarded_signal_fd(int fd);
void loop_initialize(void); /* hooks the loop into the vfs (host-fd readiness) */
/* Notify queue with POLLIN at deadline (CLOCK_MONOTONIC ns); 0 disarms. For timerfd. */
void loop_arm_timer(struct wait_queue *queue, uint64_t deadline_ns);
void loop_defer_release(struct thread_group *group); /* free it once no handler is running */
struct thread_group *thread_group_by_tgid(int32_t tgid);
struct task *task_new(struct thread_group *group, struct platform_context *context);
struct thread_group *thread_group_new(struct thread_group *parent, struct mm *mm);
void thread_group_release(struct thread_group *group); /* reaped */
size_t task_list_groups(int32_t *pids, size_t max);
struct task *thread_group_leader(struct thread_group *group);
int32_t pid_allocate(void);
void credentials_to_vfs(const struct credentials *credentials, struct vfs_credentials *out);
struct fs_state *fs_state_clone(struct fs_state *fs);
void fs_state_put(struct fs_state *fs);

/* The scheduler (loop.c). */
void loop_make_runnable(struct task *task);
void task_wake(struct task *task);          /* from a waiter or timer */
void task_cancel_waits(struct task *task);
long task_wait_queue(struct task *task, struct wait_queue *queue, uint32_t events);
/* Room for count waits in this syscall run (poll, select); call before the first wait. -ENOMEM if not. */
int task_reserve_waits(struct task *task, int count);
void task_interrupt(struct task *task);     /* a signal arrived: wake it if blocked, stop it if running */
void task_finish_syscall(struct task *task, long result);
int loop_run(struct task *first);           /* until the first process's group is reaped or all is gone */
extern bool sentry_strace;

/* Exit (process.c in sentry/exit.c). */
void task_exit(struct task *task, int code);              /* exit(2): this thread */
void thread_group_exit(struct thread_group *group, int status); /* exit_group or fatal signal */
void task_finish_vfork(struct thread_group *group);

/* Signals (signal.c). */
int signal_send_to_group(struct thread_group *group, const siginfo_t *info);
int signal_send_to_task(struct task *task, const siginfo_t *info);
/* Before resuming: deliver one pending unblocked signal (frame on the stack, or default action). A stop
 * signal's default action stops the group: the caller then parks the task instead of resuming it. */
void signal_deliver_pending(struct task *task);
bool signal_pending_for(struct task *task); /* an unblocked signal is pending */
bool signal_awaited(struct task *task);     /* a signal of task->awaited_signals is pending */
/* Take the lowest pending signal of set (thread queue first): its number, or 0 if none. */
int signal_dequeue_from(struct task *task, uint64_t set, siginfo_t *info);
long signal_return(struct task *task);       /* rt_sigreturn */
extern const struct vfs_signalfd_source signal_signalfd_source; /* the running thread's signals, for signalfd */
bool signal_is_ignored(struct thread_group *group, int signal);
struct signal_handlers *signal_handlers_new(void);
struct signal_handlers *signal_handlers_clone(struct signal_handlers *handlers);
void signal_handlers_put(struct signal_handlers *handlers);
void signal_handlers_reset_on_exec(struct signal_handlers *handlers);
void signal_queue_init(struct signal_queue *queue);
void signal_queue_clear(struct signal_queue *queue);
void signal_fault(struct task *task, const siginfo_t *fault);  /* a synchronous fault from the stub */

/* System V semaphores and message queues of the sandbox's IPC namespace (ipc.c): handlers' bodies, taking the
 * syscall's arguments (user addresses included); results as the syscalls return them. */
long ipc_semget(struct task *task, int32_t key, int count, int flags);
long ipc_semtimedop(struct task *task, int32_t id, uint64_t operations_address, uint64_t count,
                    uint64_t timeout_address, bool has_timeout);
long ipc_semctl(struct task *task, int32_t id, int number, int command, uint64_t argument);
long ipc_msgget(struct task *task, int32_t key, int flags);
long ipc_msgsnd(struct task *task, int32_t id, uint64_t message_address, uint64_t size, int flags);
long ipc_msgrcv(struct task *task, int32_t id, uint64_t message_address, uint64_t size, int64_t type, int flags);
long ipc_msgctl(struct task *task, int32_t id, int command, uint64_t address);
void ipc_process_exit(struct thread_group *group); /* SEM_UNDO adjustments are applied */
long ipc_shmget(struct task *task, int32_t key, uint64_t size, int flags);
long ipc_shmat(struct task *task, int32_t id, uint64_t address, int flags);
long ipc_shmdt(struct task *task, uint64_t address);
long ipc_shmctl(struct task *task, int32_t id, int command, uint64_t address);

/* ELF (elf.c). */
struct exec_image {
    uint64_t entry, stack_pointer;
};
int elf_load(struct task *task, struct vfs_file *file, const char *path, char *const *argv, size_t argc,
             char *const *envp, size_t envc, struct mm *mm, struct exec_image *image);

/* Registers access for handlers that change control flow (execve, sigreturn, clone). */
struct platform_registers *task_registers(struct task *task);
void task_registers_changed(struct task *task);
struct task *task_current(void);
extern const struct platform_ops *sentry_platform;

/* Helpers for copying string arrays (argv/envp) in from the task. */
int task_copy_string_array_in(struct task *task, uint64_t address, char ***out, size_t *count, size_t *bytes);
void string_array_free(char **array);

/* Kernel services the syscall families use. */
long process_execve(struct task *task, const char *path, char **argv, char **envp);
/* execveat: path from dir (NULL: cwd) with AT_EMPTY_PATH/AT_SYMLINK_NOFOLLOW; name is what AT_EXECFN and comm
 * show ("/dev/fd/N[/path]" for a path relative to an fd); path_inaccessible: name's fd is close-on-exec, so
 * a script cannot be run through it (-ENOENT). */
long process_execve_at(struct task *task, struct vfs_file *dir, const char *path, const char *name, int at_flags,
                       bool path_inaccessible, char **argv, char **envp);
long process_clone(struct task *task, uint64_t flags, uint64_t stack, uint64_t parent_tid_address,
                   uint64_t child_tid_address, uint64_t tls);
long process_wait(struct task *task, int32_t pid, uint64_t status_address, int options, uint64_t rusage_address,
                  siginfo_t *waitid_info, bool is_waitid);
extern const struct vfs_procfs_provider sentry_procfs_provider;
/* Wake up to count futex waiters on address (syscalls/futex.c): thread exit's CLONE_CHILD_CLEARTID. */
long futex_wake_address(struct task *task, uint64_t address, int count);
/* A thread's death (or exec): every robust futex it holds gets FUTEX_OWNER_DIED and a waiter is woken, as
 * Linux's exit_robust_list does (syscalls/futex.c). Clears the task's robust list. */
void futex_release_robust_list(struct task *task);
void procfs_capture_host_information(void); /* before confinement: what /proc/cpuinfo shows */
extern const char *sentry_hostname;

/* `exec` (control.c): processes started in the running sandbox, requested over the control socket. */
#define CONTROL_CONNECTIONS_MAXIMUM 32
#define CONTROL_POLL_MAXIMUM (1 + CONTROL_CONNECTIONS_MAXIMUM)
struct pollfd;
void control_initialize(int control_fd);
/* The fds the event loop polls for control (at most maximum), and what to do when it saw their events. */
size_t control_poll_fds(struct pollfd *fds, size_t maximum);
void control_handle_events(const struct pollfd *fds, size_t count);
/* One exec request as the Sentry took it apart (control.c); argv, envp and cwd are its own copies. */
struct control_request {
    struct sentry_exec_request header;
    uint32_t groups[SENTRY_EXEC_GROUPS_MAXIMUM];
    char *cwd;
    char **argv, **envp;  /* NULL-terminated */
};
/* Checks a whole request message (hostile input): 0, or -EINVAL / -E2BIG with nothing allocated. */
int control_parse_request(const char *buffer, size_t length, struct control_request *request);
void control_request_free(struct control_request *request);
/* A bare command name looked up along envp's PATH (or the default one), as execvp would; to free. */
char *sentry_resolve_command(const struct vfs_context *ctx, const char *command, char *const *envp);

#endif
