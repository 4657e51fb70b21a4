/* syscalls/poll.c: I/O readiness: poll, ppoll, select and pselect6 over vfs_poll; a task that must wait
 * queues one waiter per file and is re-run when any of them changes, its deadline passes, or a signal comes. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

#include "sentry/internal.h"
#include "syscalls/internal.h"

#define ARG(i) (args->arg[i])
#define NANOSECONDS_PER_SECOND 1000000000ULL
#define SIGNAL_BIT(signal) (1ULL << ((signal) - 1))
#define POLL_ALWAYS (POLLERR | POLLHUP | POLLNVAL)

/* restart_state slots */
enum { POLL_STATE_STARTED, POLL_STATE_DEADLINE };

/* The deadline is fixed at the first run; UINT64_MAX means wait forever, 0 means do not wait. */
static uint64_t deadline_from(struct task *task, int64_t timeout_ns)
{
    uint64_t *state = task_syscall_restart_state(task);
    if (!state[POLL_STATE_STARTED]) {
        state[POLL_STATE_STARTED] = 1;
        if (timeout_ns < 0)
            state[POLL_STATE_DEADLINE] = UINT64_MAX;
        else
            state[POLL_STATE_DEADLINE] = monotonic_nanoseconds() + (uint64_t)timeout_ns;
    }
    return state[POLL_STATE_DEADLINE];
}

static bool deadline_passed(uint64_t deadline)
{
    return deadline != UINT64_MAX && monotonic_nanoseconds() >= deadline;
}

static long block_until(struct task *task, uint64_t deadline)
{
    task->interrupted_result = -SENTRY_ERESTARTNOHAND;
    if (deadline != UINT64_MAX)
        task->wait_deadline = deadline;
    task->blocking = true;
    return -SENTRY_ERESTARTSYS;
}

/* One pass over the fds: the ready count; with wait set, also queue a waiter on every file. */
static long poll_once(struct task *task, struct pollfd *fds, size_t count, bool wait)
{
    long ready = 0;
    for (size_t i = 0; i < count; i++) {
        fds[i].revents = 0;
        if (fds[i].fd < 0)
            continue;
        struct vfs_file *file = vfs_fd_get(task_fd_table(task), fds[i].fd);
        if (!file) {
            fds[i].revents = POLLNVAL;
            ready++;
            continue;
        }
        uint32_t events;
        if (wait) {
            task_wait_file(task, file, (uint32_t)fds[i].events | POLL_ALWAYS);
            events = vfs_poll(file, NULL);
        } else {
            events = vfs_poll(file, NULL);
        }
        fds[i].revents = (short)(events & ((uint32_t)(uint16_t)fds[i].events | POLL_ALWAYS));
        if (fds[i].revents)
            ready++;
        vfs_file_put(file);
    }
    return ready;
}

static long do_poll(struct task *task, uint64_t fds_address, uint64_t count, int64_t timeout_ns)
{
    if (count > task_rlimit_current(task, RLIMIT_NOFILE) || count > 1048576)
        return -EINVAL;
    struct pollfd *fds = xcalloc(count ? count : 1, sizeof(*fds));
    long result;
    if (task_copy_in(task, fds, fds_address, count * sizeof(*fds)) < 0) {
        result = -EFAULT;
        goto done;
    }
    uint64_t deadline = deadline_from(task, timeout_ns);
    result = poll_once(task, fds, count, false);
    if (result == 0 && timeout_ns != 0 && !deadline_passed(deadline)) {
        if ((result = task_reserve_waits(task, (int)MIN(count, (uint64_t)INT32_MAX) + 1)) < 0)
            goto done;
        poll_once(task, fds, count, true);
        result = block_until(task, deadline);
        goto done;
    }
    /* revents only: Linux writes back each entry's revents field, nothing else. */
    for (size_t i = 0; i < count && result >= 0; i++)
        if (task_copy_out(task, fds_address + i * sizeof(*fds) + offsetof(struct pollfd, revents), &fds[i].revents,
                          sizeof(fds[i].revents)) < 0)
            result = -EFAULT;
done:
    free(fds);
    return result;
}

static SYSCALL_HANDLER(poll)
{
    int timeout_ms = (int)ARG(2);
    return do_poll(task, ARG(0), ARG(1), timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000);
}

/* ppoll, pselect6 and epoll_pwait: a temporary signal mask for the wait, restored after any handler runs. */
long syscall_apply_temporary_mask(struct task *task, uint64_t mask_address, uint64_t mask_size)
{
    if (!mask_address || task_syscall_is_restarted(task))
        return 0;
    if (mask_size != sizeof(uint64_t))
        return -EINVAL;
    uint64_t mask;
    if (task_copy_in(task, &mask, mask_address, sizeof(mask)) < 0)
        return -EFAULT;
    task->saved_signal_mask = task->signal_mask;
    task->restore_saved_mask = true;
    task->signal_mask = mask & ~(SIGNAL_BIT(SIGKILL) | SIGNAL_BIT(SIGSTOP));
    return 0;
}

void syscall_settle_temporary_mask(struct task *task, long result)
{
    /* Without -EINTR no handler will run to restore it: do it now. */
    if (task->restore_saved_mask && result != -SENTRY_ERESTARTSYS) {
        task->signal_mask = task->saved_signal_mask;
        task->restore_saved_mask = false;
    }
}

static long timespec_timeout(struct task *task, uint64_t address, int64_t *timeout_ns)
{
    *timeout_ns = -1;
    if (!address)
        return 0;
    struct timespec timeout;
    if (task_copy_in(task, &timeout, address, sizeof(timeout)) < 0)
        return -EFAULT;
    if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= (long)NANOSECONDS_PER_SECOND)
        return -EINVAL;
    *timeout_ns = timeout.tv_sec > INT64_MAX / (int64_t)NANOSECONDS_PER_SECOND - 1
                      ? -1
                      : timeout.tv_sec * (int64_t)NANOSECONDS_PER_SECOND + timeout.tv_nsec;
    return 0;
}

static SYSCALL_HANDLER(ppoll)
{
    int64_t timeout_ns;
    long error = timespec_timeout(task, ARG(2), &timeout_ns);
    if (error == 0)
        error = syscall_apply_temporary_mask(task, ARG(3), ARG(4));
    if (error < 0)
        return error;
    long result = do_poll(task, ARG(0), ARG(1), timeout_ns);
    syscall_settle_temporary_mask(task, result);
    return result;
}

/* select's three bit sets, as poll requests: readable, writable, exceptional. */
#define SELECT_READ (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR)
#define SELECT_WRITE (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR)
#define SELECT_EXCEPT (POLLPRI)

/* Linux ignores select bits past its fd table's allocated size: 64 fds embedded, then 128 times a power
 * of two as the table grows. Mirror that from the highest open fd. */
static int fd_table_capacity(struct task *task)
{
    int highest = -1;
    for (int fd = vfs_fd_next_open(task_fd_table(task), 0); fd >= 0; fd = vfs_fd_next_open(task_fd_table(task), fd + 1))
        highest = fd;
    if (highest < 64)
        return 64;
    int blocks = 1;
    while (blocks < highest / 128 + 1)
        blocks *= 2;
    return 128 * blocks;
}

static long do_select(struct task *task, int count, uint64_t read_address, uint64_t write_address,
                      uint64_t except_address, int64_t timeout_ns)
{
    if (count < 0 || (uint64_t)count > task_rlimit_current(task, RLIMIT_NOFILE) || count > 1048576)
        return -EINVAL;
    count = MIN(count, fd_table_capacity(task));
    size_t words = ((size_t)count + 63) / 64;
    uint64_t *sets[3] = {xcalloc(words + 1, 8), xcalloc(words + 1, 8), xcalloc(words + 1, 8)};
    uint64_t addresses[3] = {read_address, write_address, except_address};
    long result = 0;
    size_t bytes = ((size_t)count + 7) / 8;
    for (int s = 0; s < 3 && result == 0; s++)
        if (addresses[s] && task_copy_in(task, sets[s], addresses[s], bytes) < 0)
            result = -EFAULT;
    struct pollfd *fds = xcalloc((size_t)count + 1, sizeof(*fds));
    size_t used = 0;
    for (int fd = 0; fd < count && result == 0; fd++) {
        short events = 0;
        if (sets[0][fd / 64] & (1ULL << (fd % 64)))
            events |= POLLIN;
        if (sets[1][fd / 64] & (1ULL << (fd % 64)))
            events |= POLLOUT;
        if (sets[2][fd / 64] & (1ULL << (fd % 64)))
            events |= POLLPRI;
        if (!events)
            continue;
        struct vfs_file *file = vfs_fd_get(task_fd_table(task), fd);
        if (!file) {
            result = -EBADF;
            break;
        }
        vfs_file_put(file);
        fds[used++] = (struct pollfd){.fd = fd, .events = events};
    }
    if (result < 0)
        goto done;
    uint64_t deadline = deadline_from(task, timeout_ns);
    long ready = poll_once(task, fds, used, false);
    if (ready == 0 && timeout_ns != 0 && !deadline_passed(deadline)) {
        if ((result = task_reserve_waits(task, (int)used + 1)) < 0)
            goto done;
        poll_once(task, fds, used, true);
        result = block_until(task, deadline);
        goto done;
    }
    for (int s = 0; s < 3; s++)
        memset(sets[s], 0, words * 8);
    result = 0;
    for (size_t i = 0; i < used; i++) {
        uint32_t revents = (uint16_t)fds[i].revents;
        int fd = fds[i].fd;
        const uint32_t wanted[3] = {SELECT_READ, SELECT_WRITE, SELECT_EXCEPT};
        const short asked[3] = {POLLIN, POLLOUT, POLLPRI};
        for (int s = 0; s < 3; s++) {
            if ((fds[i].events & asked[s]) && (revents & wanted[s])) {
                sets[s][fd / 64] |= 1ULL << (fd % 64);
                result++;
            }
        }
    }
    for (int s = 0; s < 3; s++)
        if (addresses[s] && task_copy_out(task, addresses[s], sets[s], bytes) < 0)
            result = -EFAULT;
done:
    free(fds);
    for (int s = 0; s < 3; s++)
        free(sets[s]);
    return result;
}

static SYSCALL_HANDLER(select)
{
    int64_t timeout_ns = -1;
    if (ARG(4)) {
        struct timeval timeout;
        if (task_copy_in(task, &timeout, ARG(4), sizeof(timeout)) < 0)
            return -EFAULT;
        if (timeout.tv_sec < 0 || timeout.tv_usec < 0 || timeout.tv_usec >= 1000000)
            return -EINVAL;
        timeout_ns = timeout.tv_sec * (int64_t)NANOSECONDS_PER_SECOND + timeout.tv_usec * 1000;
    }
    long result = do_select(task, (int)ARG(0), ARG(1), ARG(2), ARG(3), timeout_ns);
    if (result >= 0 && ARG(4)) {
        /* Linux reports the time left. */
        uint64_t deadline = task_syscall_restart_state(task)[POLL_STATE_DEADLINE], now = monotonic_nanoseconds();
        uint64_t left = deadline == UINT64_MAX || deadline <= now ? 0 : deadline - now;
        struct timeval remaining = {(time_t)(left / NANOSECONDS_PER_SECOND),
                                    (suseconds_t)(left % NANOSECONDS_PER_SECOND / 1000)};
        task_copy_out(task, ARG(4), &remaining, sizeof(remaining));
    }
    return result;
}

static SYSCALL_HANDLER(pselect6)
{
    int64_t timeout_ns;
    long error = timespec_timeout(task, ARG(4), &timeout_ns);
    if (error < 0)
        return error;
    if (ARG(5)) {
        struct { uint64_t address, size; } mask;
        if (task_copy_in(task, &mask, ARG(5), sizeof(mask)) < 0)
            return -EFAULT;
        if ((error = syscall_apply_temporary_mask(task, mask.address, mask.size)) < 0)
            return error;
    }
    long result = do_select(task, (int)ARG(0), ARG(1), ARG(2), ARG(3), timeout_ns);
    syscall_settle_temporary_mask(task, result);
    return result;
}

const struct syscall_binding syscall_bindings_poll[] = {
    {__NR_poll, sys_poll}, {__NR_ppoll, sys_ppoll}, {__NR_select, sys_select}, {__NR_pselect6, sys_pselect6},
    {-1, NULL},
};
