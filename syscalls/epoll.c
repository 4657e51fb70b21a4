/* syscalls/epoll.c: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait and epoll_pwait2. A task with
 * nothing to report sleeps on the epoll file alone: each interest entry forwards its file's events to it. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>

#include "sentry/internal.h"
#include "syscalls/families_extra.h"
#include "syscalls/internal.h"

#define ARG(i) (args->arg[i])
#define NANOSECONDS_PER_SECOND 1000000000LL
/* Linux's EP_MAX_EVENTS: more would overflow the byte count of the events buffer. */
#define EPOLL_MAX_EVENTS ((int)(INT_MAX / sizeof(struct epoll_event)))
/* One call reports at most this many events (Linux may return fewer than maxevents too): it bounds the Sentry's
 * buffer whatever maxevents says. */
#define EPOLL_EVENTS_PER_CALL 4096

/* restart_state slots: the deadline is fixed at the first run */
enum { EPOLL_STATE_STARTED, EPOLL_STATE_DEADLINE };
#define NO_DEADLINE UINT64_MAX

static long install_epoll(struct task *task, int flags)
{
    struct vfs_file *file;
    int error = vfs_epoll_create(flags, &file);
    if (error)
        return error;
    int fd = vfs_fd_install(task_fd_table(task), file, 0, (flags & EPOLL_CLOEXEC) != 0,
                            task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
    return fd;
}

static SYSCALL_HANDLER(epoll_create)
{
    if (syscall_argument_int(args, 0) <= 0)
        return -EINVAL;
    return install_epoll(task, 0);
}

static SYSCALL_HANDLER(epoll_create1) { return install_epoll(task, syscall_argument_int(args, 0)); }

static SYSCALL_HANDLER(epoll_ctl)
{
    int operation = syscall_argument_int(args, 1), fd = syscall_argument_int(args, 2);
    struct epoll_event event = {0};
    if (operation != EPOLL_CTL_DEL && task_copy_in(task, &event, ARG(3), sizeof(event)) < 0)
        return -EFAULT;
    struct vfs_file *epoll, *target;
    int error = syscall_get_file(task, syscall_argument_int(args, 0), false, &epoll);
    if (error)
        return error;
    error = syscall_get_file(task, fd, false, &target);
    if (error == 0) {
        error = vfs_epoll_ctl(epoll, operation, fd, target, &event);
        vfs_file_put(target);
    }
    vfs_file_put(epoll);
    return error;
}

static uint64_t deadline_from(struct task *task, int64_t timeout_ns)
{
    uint64_t *state = task_syscall_restart_state(task);
    if (!state[EPOLL_STATE_STARTED]) {
        state[EPOLL_STATE_STARTED] = 1;
        state[EPOLL_STATE_DEADLINE] = timeout_ns < 0 ? NO_DEADLINE : monotonic_nanoseconds() + (uint64_t)timeout_ns;
    }
    return state[EPOLL_STATE_DEADLINE];
}

/* timeout_ns < 0: wait for ever. */
static long do_epoll_wait(struct task *task, int epfd, uint64_t events_address, int max_events, int64_t timeout_ns)
{
    if (max_events <= 0 || max_events > EPOLL_MAX_EVENTS)
        return -EINVAL;
    if (!syscall_user_range_ok(events_address, (uint64_t)max_events * sizeof(struct epoll_event)))
        return -EFAULT;
    struct vfs_file *epoll;
    int error = syscall_get_file(task, epfd, false, &epoll);
    if (error)
        return error;
    long result;
    if (!vfs_file_is_epoll(epoll)) {
        result = -EINVAL;
        goto out;
    }
    uint64_t deadline = deadline_from(task, timeout_ns);
    int capacity = MIN(max_events, EPOLL_EVENTS_PER_CALL);
    struct epoll_event *events = xcalloc((size_t)capacity, sizeof(*events));
    result = vfs_epoll_collect(epoll, events, capacity);
    if (result > 0) {
        if (task_copy_out(task, events_address, events, (size_t)result * sizeof(*events)) < 0)
            result = -EFAULT;
    } else if (result == 0 && timeout_ns != 0 && (deadline == NO_DEADLINE || monotonic_nanoseconds() < deadline)) {
        /* epoll_wait is never restarted after a signal handler, whatever SA_RESTART says */
        task->interrupted_result = -EINTR;
        result = task_wait_file(task, epoll, POLLIN);
        if (deadline != NO_DEADLINE)
            task->wait_deadline = deadline;
    }
    free(events);
out:
    vfs_file_put(epoll);
    return result;
}

static SYSCALL_HANDLER(epoll_wait)
{
    int timeout_ms = syscall_argument_int(args, 3);
    return do_epoll_wait(task, syscall_argument_int(args, 0), ARG(1), syscall_argument_int(args, 2),
                         timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
}

static long epoll_wait_with_mask(struct task *task, const struct syscall_args *args, int64_t timeout_ns)
{
    long error = syscall_apply_temporary_mask(task, ARG(4), ARG(5));
    if (error < 0)
        return error;
    long result = do_epoll_wait(task, syscall_argument_int(args, 0), ARG(1), syscall_argument_int(args, 2),
                                timeout_ns);
    syscall_settle_temporary_mask(task, result);
    return result;
}

static SYSCALL_HANDLER(epoll_pwait)
{
    int timeout_ms = syscall_argument_int(args, 3);
    return epoll_wait_with_mask(task, args, timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
}

static SYSCALL_HANDLER(epoll_pwait2)
{
    int64_t timeout_ns = -1;
    if (ARG(3)) {
        struct timespec timeout;
        if (task_copy_in(task, &timeout, ARG(3), sizeof(timeout)) < 0)
            return -EFAULT;
        if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= NANOSECONDS_PER_SECOND)
            return -EINVAL;
        timeout_ns = timeout.tv_sec > INT64_MAX / NANOSECONDS_PER_SECOND - 1
                         ? -1
                         : timeout.tv_sec * NANOSECONDS_PER_SECOND + timeout.tv_nsec;
    }
    return epoll_wait_with_mask(task, args, timeout_ns);
}

const struct syscall_binding syscall_bindings_epoll[] = {
    {__NR_epoll_create, sys_epoll_create},
    {__NR_epoll_create1, sys_epoll_create1},
    {__NR_epoll_ctl, sys_epoll_ctl},
    {__NR_epoll_wait, sys_epoll_wait},
    {__NR_epoll_pwait, sys_epoll_pwait},
    {__NR_epoll_pwait2, sys_epoll_pwait2},
    {-1, NULL},
};
