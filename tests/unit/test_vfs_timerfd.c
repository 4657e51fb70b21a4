/* tests/unit/test_vfs_timerfd.c: timerfd files: creation and settime errors, one-shot and interval expiry counts
 * from the clock, absolute times, gettime and old values, and the deadlines handed to the event loop's hook. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>

#include "vfs/vfs.h"

#define MS 1000000ULL

static struct wait_queue *hooked_queue;
static uint64_t hooked_deadline;
static int hook_calls;

static void record_hook(struct wait_queue *queue, uint64_t deadline)
{
    hooked_queue = queue;
    hooked_deadline = deadline;
    hook_calls++;
}

static void sleep_ms(long ms)
{
    struct timespec pause = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * (long)MS};
    while (nanosleep(&pause, &pause) != 0) {}
}

static struct itimerspec timer_value(uint64_t value_ns, uint64_t interval_ns)
{
    struct itimerspec value = {
        .it_value = {.tv_sec = (time_t)(value_ns / 1000000000), .tv_nsec = (long)(value_ns % 1000000000)},
        .it_interval = {.tv_sec = (time_t)(interval_ns / 1000000000), .tv_nsec = (long)(interval_ns % 1000000000)},
    };
    return value;
}

static uint64_t timespec_ns(const struct timespec *time)
{
    return (uint64_t)time->tv_sec * 1000000000 + (uint64_t)time->tv_nsec;
}

static void test_create_errors(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_timerfd_create(CLOCK_MONOTONIC, 0x4, &file), -EINVAL);
    assert_int_equal(vfs_timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0, &file), -EINVAL);
    assert_int_equal(vfs_timerfd_create(CLOCK_BOOTTIME_ALARM, 0, &file), -EPERM);
    assert_int_equal(vfs_timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC, &file), 0);
    assert_true(vfs_file_status_flags(file) & O_NONBLOCK);
    struct itimerspec value = timer_value(MS, 0);
    assert_int_equal(vfs_timerfd_settime(file, 0x10, &value, NULL), -EINVAL);
    value.it_value.tv_nsec = 1000000000;
    assert_int_equal(vfs_timerfd_settime(file, 0, &value, NULL), -EINVAL);
    assert_int_equal(vfs_timerfd_settime(NULL, 0, &value, NULL), -EINVAL); /* bad times before a bad fd */
    value = timer_value(MS, 0);
    assert_int_equal(vfs_timerfd_settime(NULL, 0, &value, NULL), -EBADF);
    struct vfs_file *eventfd;
    assert_int_equal(vfs_eventfd_create(0, 0, &eventfd), 0);
    assert_int_equal(vfs_timerfd_settime(eventfd, 0, &value, NULL), -EINVAL);
    assert_int_equal(vfs_timerfd_gettime(eventfd, &value), -EINVAL);
    vfs_file_put(eventfd);
    uint64_t count;
    char small[4];
    assert_int_equal(vfs_read(file, small, sizeof(small)), -EINVAL);
    assert_int_equal(vfs_read(file, &count, sizeof(count)), -EAGAIN);
    assert_int_equal(vfs_write(file, &count, sizeof(count)), -EINVAL);
    struct text_buffer name = {0};
    assert_int_equal(vfs_file_describe_path(file, NULL, &name), 0);
    assert_string_equal(name.data, "anon_inode:[timerfd]");
    text_buffer_free(&name);
    vfs_file_put(file);
}

static void test_one_shot_and_hook(void **state)
{
    (void)state;
    vfs_set_timer_hook(record_hook);
    hook_calls = 0;
    struct vfs_file *file;
    assert_int_equal(vfs_timerfd_create(CLOCK_MONOTONIC, 0, &file), 0);
    struct itimerspec value = timer_value(30 * MS, 0), old;
    uint64_t before = monotonic_nanoseconds();
    assert_int_equal(vfs_timerfd_settime(file, 0, &value, &old), 0);
    assert_int_equal(timespec_ns(&old.it_value), 0);
    assert_int_equal(hook_calls, 1);
    assert_ptr_equal(hooked_queue, vfs_file_wait_queue(file));
    assert_true(hooked_deadline >= before + 30 * MS && hooked_deadline <= monotonic_nanoseconds() + 30 * MS);
    assert_int_equal(vfs_poll(file, NULL), 0);
    struct itimerspec current;
    assert_int_equal(vfs_timerfd_gettime(file, &current), 0);
    assert_true(timespec_ns(&current.it_value) > 0 && timespec_ns(&current.it_value) <= 30 * MS);
    assert_int_equal(timespec_ns(&current.it_interval), 0);
    sleep_ms(40);
    assert_int_equal(vfs_poll(file, NULL), POLLIN | POLLRDNORM);
    uint64_t count = 0;
    assert_int_equal(vfs_read(file, &count, sizeof(count)), 8);
    assert_int_equal(count, 1);
    assert_int_equal(vfs_read(file, &count, sizeof(count)), -EAGAIN);
    assert_int_equal(vfs_timerfd_gettime(file, &current), 0);
    assert_int_equal(timespec_ns(&current.it_value), 0); /* a fired one-shot is disarmed */
    /* closing an armed timer cancels its deadline */
    value = timer_value(10 * 1000 * MS, 0);
    assert_int_equal(vfs_timerfd_settime(file, 0, &value, NULL), 0);
    assert_int_not_equal(hooked_deadline, 0);
    vfs_file_put(file);
    assert_int_equal(hooked_deadline, 0);
    vfs_set_timer_hook(NULL);
}

static void test_interval_and_absolute(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_timerfd_create(CLOCK_MONOTONIC, 0, &file), 0);
    struct itimerspec value = timer_value(10 * MS, 10 * MS), old;
    assert_int_equal(vfs_timerfd_settime(file, 0, &value, NULL), 0);
    sleep_ms(55);
    uint64_t count = 0;
    assert_int_equal(vfs_read(file, &count, sizeof(count)), 8);
    assert_true(count >= 5 && count <= 6);
    struct itimerspec current;
    assert_int_equal(vfs_timerfd_gettime(file, &current), 0);
    assert_int_equal(timespec_ns(&current.it_interval), 10 * MS);
    assert_true(timespec_ns(&current.it_value) > 0 && timespec_ns(&current.it_value) <= 10 * MS);
    /* an absolute time in the past fires at once, with the intervals since counted */
    uint64_t now = monotonic_nanoseconds();
    value = timer_value(now - 35 * MS, 10 * MS);
    assert_int_equal(vfs_timerfd_settime(file, TFD_TIMER_ABSTIME, &value, &old), 0);
    assert_int_equal(timespec_ns(&old.it_interval), 10 * MS);
    assert_int_equal(vfs_read(file, &count, sizeof(count)), 8);
    assert_true(count >= 4 && count <= 5);
    /* disarming clears what was counted */
    sleep_ms(12);
    value = timer_value(0, 0);
    assert_int_equal(vfs_timerfd_settime(file, 0, &value, NULL), 0);
    assert_int_equal(vfs_read(file, &count, sizeof(count)), -EAGAIN);
    assert_int_equal(vfs_timerfd_gettime(file, &current), 0);
    assert_int_equal(timespec_ns(&current.it_value), 0);
    assert_int_equal(timespec_ns(&current.it_interval), 0);
    vfs_file_put(file);

    assert_int_equal(vfs_timerfd_create(CLOCK_REALTIME, 0, &file), 0);
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    value = timer_value(timespec_ns(&wall) + 20 * MS, 0);
    assert_int_equal(vfs_timerfd_settime(file, TFD_TIMER_ABSTIME, &value, NULL), 0);
    assert_int_equal(vfs_poll(file, NULL), 0);
    sleep_ms(30);
    assert_int_equal(vfs_poll(file, NULL), POLLIN | POLLRDNORM);
    vfs_file_put(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_one_shot_and_hook),
        cmocka_unit_test(test_interval_and_absolute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
