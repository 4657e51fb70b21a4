/* syscalls/families_extra.h: the binding arrays of the event-file, epoll, memfd and lock families, and the
 * hooks syscalls/file.c calls for fcntl's lock commands and for every fd a process lets go of. */
#ifndef USANDBOX_SYSCALLS_FAMILIES_EXTRA_H
#define USANDBOX_SYSCALLS_FAMILIES_EXTRA_H

#include <stdbool.h>
#include <stdint.h>

#include "syscalls/syscalls.h"

extern const struct syscall_binding syscall_bindings_signalfd[]; /* signalfd.c: signalfd, signalfd4 */
extern const struct syscall_binding syscall_bindings_inotify[];  /* inotify.c: inotify_init*, _add_watch, _rm_watch */
extern const struct syscall_binding syscall_bindings_ipc[];      /* ipc.c: SysV semaphores and message queues */
extern const struct syscall_binding syscall_bindings_eventfd[]; /* eventfd.c: eventfd, eventfd2 */
extern const struct syscall_binding syscall_bindings_timerfd[]; /* timerfd.c: timerfd_create/settime/gettime */
extern const struct syscall_binding syscall_bindings_epoll[];   /* epoll.c: epoll_create*, epoll_ctl, epoll_*wait* */
extern const struct syscall_binding syscall_bindings_memfd[];   /* memfd.c: memfd_create */
extern const struct syscall_binding syscall_bindings_locks[];   /* locks.c: flock */
extern const struct syscall_binding syscall_bindings_sched[];   /* sched.c: priorities, sched_*, ioprio_* */
extern const struct syscall_binding syscall_bindings_system[];  /* system.c: personality, membarrier, sync... */
extern const struct syscall_binding syscall_bindings_splice[];  /* splice.c: splice, tee, vmsplice, copy_file_range */
extern const struct syscall_binding syscall_bindings_pidfd[];   /* time.c: the CPU time of task's process (RUSAGE_SELF or RUSAGE_THREAD: the process's, as per-thread time
 * is not visible to the Sentry) or of its waited-for children (RUSAGE_CHILDREN), in ns. */
void syscall_process_cpu_times(struct task *task, int who, uint64_t *user_ns, uint64_t *system_ns);
/* pidfd.c: pidfd_open/send_signal/getfd */

/* sched.c: the CPUs task may run on (sched_getaffinity): the sandbox's CPUs, narrowed by sched_setaffinity. */
struct task;
void syscall_task_affinity(const struct task *task, uint64_t mask[16]);
/* time.c: the CPU time of task's process (RUSAGE_SELF or RUSAGE_THREAD: the process's, as per-thread time
 * is not visible to the Sentry) or of its waited-for children (RUSAGE_CHILDREN), in ns. */
void syscall_process_cpu_times(struct task *task, int who, uint64_t *user_ns, uint64_t *system_ns);
/* pidfd.c: the process a pidfd names (waitid P_PIDFD): its pid, -EBADF for a bad fd, -EINVAL for another
 * kind of file, -ESRCH once reaped; *nonblocking tells whether the pidfd is O_NONBLOCK. */
int32_t syscall_pidfd_process(struct task *task, int fd, bool *nonblocking);

/* fcntl's F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW on file (not O_PATH), argument
 * being the address of the task's struct flock. */
long syscall_fcntl_lock(struct task *task, struct vfs_file *file, unsigned int command, uint64_t argument);
/* Call before the task's fd is closed or replaced (close, close_range, dup2/dup3 onto it, close-on-exec): a
 * process loses its record locks on a file when it closes any fd of it. A closed fd is ignored. */
void syscall_locks_fd_closing(struct task *task, int fd);

#endif
