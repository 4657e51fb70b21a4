/* vfs/timerfd.c: timerfd files: one-shot and interval timers on CLOCK_REALTIME, MONOTONIC or BOOTTIME whose
 * expirations are counted from the clock whenever the file is looked at, and announced to the event loop's timer
 * hook so that waiters wake at the expiry. */
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>

#include "vfs/internal.h"

#define NANOSECONDS_PER_SECOND 1000000000ULL

struct timerfd {
    clockid_t clock;
    uint64_t next_expiry;   /* on the timer's clock, ns; 0 = disarmed */
    uint64_t interval;      /* ns; 0 = one-shot */
    uint64_t expirations;   /* since the last read or settime */
    uint64_t hooked_deadline; /* what the event loop was last told (CLOCK_MONOTONIC ns), 0 = nothing */
};

static void (*timer_hook)(struct wait_queue *queue, uint64_t deadline_monotonic_ns);

void vfs_set_timer_hook(void (*arm)(struct wait_queue *queue, uint64_t deadline_monotonic_ns)) { timer_hook = arm; }

static struct timerfd *timerfd_of(struct vfs_file *file) { return file->private_data; }

static uint64_t clock_now(clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    return (uint64_t)now.tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)now.tv_nsec;
}

/* Tells the event loop when the next expiry is, in its clock, when that changed or the last deadline passed
 * (the loop forgets a deadline once it has fired). */
static void timerfd_announce(struct vfs_file *file, uint64_t now)
{
    struct timerfd *timer = timerfd_of(file);
    uint64_t deadline = 0;
    if (timer->next_expiry) {
        uint64_t monotonic_now = timer->clock == CLOCK_MONOTONIC ? now : monotonic_nanoseconds();
        uint64_t remaining = timer->next_expiry > now ? timer->next_expiry - now : 0;
        deadline = monotonic_now + remaining;
        if (deadline == 0)
            deadline = 1;
    }
    bool fired = timer->hooked_deadline && timer->hooked_deadline <= monotonic_nanoseconds();
    if (deadline == timer->hooked_deadline && !fired)
        return;
    if (deadline == 0 && timer->hooked_deadline == 0)
        return;
    timer->hooked_deadline = deadline;
    if (timer_hook)
        timer_hook(file->queue, deadline);
}

/* Counts the expirations that the clock has passed since the last look: one for the expiry itself, plus one
 * per whole interval after it (the overruns a read reports). */
static void timerfd_update(struct vfs_file *file)
{
    struct timerfd *timer = timerfd_of(file);
    uint64_t now = clock_now(timer->clock);
    if (timer->next_expiry && now >= timer->next_expiry) {
        if (timer->interval) {
            uint64_t passed = 1 + (now - timer->next_expiry) / timer->interval;
            timer->expirations += passed;
            timer->next_expiry += passed * timer->interval;
        } else {
            timer->expirations++;
            timer->next_expiry = 0;
        }
    }
    timerfd_announce(file, now);
}

static ssize_t timerfd_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    if (length < sizeof(uint64_t))
        return -EINVAL;
    struct timerfd *timer = timerfd_of(file);
    timerfd_update(file);
    if (timer->expirations == 0)
        return -EAGAIN;
    memcpy(buffer, &timer->expirations, sizeof(uint64_t));
    timer->expirations = 0;
    return sizeof(uint64_t);
}

static uint32_t timerfd_poll(struct vfs_file *file)
{
    timerfd_update(file);
    return timerfd_of(file)->expirations ? POLLIN | POLLRDNORM : 0;
}

static void timerfd_release(struct vfs_file *file)
{
    struct timerfd *timer = timerfd_of(file);
    if (timer->hooked_deadline && timer_hook)
        timer_hook(file->queue, 0);
    free(timer);
}

static void timerfd_describe(struct vfs_file *file, struct text_buffer *out)
{
    (void)file;
    text_buffer_append(out, "anon_inode:[timerfd]");
}

static const struct vfs_file_operations timerfd_file_operations = {
    .read = timerfd_read,
    .poll = timerfd_poll,
    .release = timerfd_release,
    .describe = timerfd_describe,
    .stream = true,
};

bool vfs_file_is_timerfd(struct vfs_file *file) { return file->ops == &timerfd_file_operations; }

int vfs_timerfd_create(int clock_id, int flags, struct vfs_file **out)
{
    if (flags & ~(TFD_CLOEXEC | TFD_NONBLOCK))
        return -EINVAL;
    switch (clock_id) {
    case CLOCK_REALTIME:
    case CLOCK_MONOTONIC:
    case CLOCK_BOOTTIME: break;
    case CLOCK_REALTIME_ALARM:
    case CLOCK_BOOTTIME_ALARM: return -EPERM; /* needs CAP_WAKE_ALARM, which the sandbox never grants */
    default: return -EINVAL;
    }
    struct timerfd *timer = xcalloc(1, sizeof(*timer));
    timer->clock = clock_id;
    struct vfs_inode *inode = vfs_anon_inode();
    struct vfs_file *file = vfs_file_new(NULL, inode, &timerfd_file_operations, O_RDWR | (flags & TFD_NONBLOCK));
    vfs_inode_put(inode);
    file->private_data = timer;
    *out = file;
    return 0;
}

static bool timespec_valid(const struct timespec *time)
{
    return time->tv_sec >= 0 && time->tv_nsec >= 0 && (uint64_t)time->tv_nsec < NANOSECONDS_PER_SECOND;
}

/* Saturates far-future times rather than wrapping: they never expire either way. */
static uint64_t timespec_to_ns(const struct timespec *time)
{
    if ((uint64_t)time->tv_sec >= UINT64_MAX / NANOSECONDS_PER_SECOND - 1)
        return UINT64_MAX / 2;
    return (uint64_t)time->tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)time->tv_nsec;
}

static struct timespec ns_to_timespec(uint64_t ns)
{
    return (struct timespec){.tv_sec = (time_t)(ns / NANOSECONDS_PER_SECOND),
                             .tv_nsec = (long)(ns % NANOSECONDS_PER_SECOND)};
}

static void timerfd_current(struct vfs_file *file, struct itimerspec *value)
{
    struct timerfd *timer = timerfd_of(file);
    timerfd_update(file);
    uint64_t now = clock_now(timer->clock);
    uint64_t remaining = timer->next_expiry > now ? timer->next_expiry - now : 0;
    /* an armed timer due this very nanosecond still shows as armed: Linux reports 1 ns then */
    if (timer->next_expiry && remaining == 0)
        remaining = 1;
    value->it_value = ns_to_timespec(remaining);
    value->it_interval = ns_to_timespec(timer->interval);
}

int vfs_timerfd_gettime(struct vfs_file *file, struct itimerspec *current_value)
{
    if (!vfs_file_is_timerfd(file))
        return -EINVAL;
    timerfd_current(file, current_value);
    return 0;
}

int vfs_timerfd_settime(struct vfs_file *file, int flags, const struct itimerspec *new_value,
                        struct itimerspec *old_value)
{
    /* TFD_TIMER_CANCEL_ON_SET is accepted: the sandbox's clock is never set, so there is nothing to cancel */
    if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET))
        return -EINVAL;
    if (!timespec_valid(&new_value->it_value) || !timespec_valid(&new_value->it_interval))
        return -EINVAL;
    if (!file)
        return -EBADF;
    if (!vfs_file_is_timerfd(file))
        return -EINVAL;
    struct timerfd *timer = timerfd_of(file);
    if (old_value)
        timerfd_current(file, old_value);
    uint64_t now = clock_now(timer->clock);
    uint64_t value = timespec_to_ns(&new_value->it_value);
    timer->expirations = 0;
    timer->interval = timespec_to_ns(&new_value->it_interval);
    if (value == 0)
        timer->next_expiry = 0;
    else if (flags & TFD_TIMER_ABSTIME)
        timer->next_expiry = value;
    else
        timer->next_expiry = now + value;
    timerfd_update(file);
    if (timer->expirations)
        wait_queue_notify(file->queue, POLLIN | POLLRDNORM);
    return 0;
}
