/* tests/unit/test_vfs_pipe.c: pipes: PIPE_BUF atomicity and partial writes, EAGAIN, EOF, EPIPE, ESPIPE, poll
 * bits, wake-ups of waiters on the shared queue, and what fstat and /proc show of a pipe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/vfs.h"

#define CAPACITY (64 * 1024)

struct counting_waiter {
    struct waiter base;
    int wakes;
    uint32_t last_events;
};

static void count_wake(struct waiter *base, uint32_t events)
{
    struct counting_waiter *waiter = CONTAINER_OF(base, struct counting_waiter, base);
    waiter->wakes++;
    waiter->last_events = events;
}

static void waiter_init(struct counting_waiter *waiter, uint32_t events)
{
    memset(waiter, 0, sizeof(*waiter));
    list_init(&waiter->base.node);
    waiter->base.events = events;
    waiter->base.wake = count_wake;
}

static void test_data_and_eof(void **state)
{
    (void)state;
    struct vfs_file *reader, *writer;
    assert_int_equal(vfs_pipe_create(0, &reader, &writer), 0);
    char buffer[16];
    assert_int_equal(vfs_read(reader, buffer, sizeof(buffer)), -EAGAIN);
    assert_int_equal(vfs_write(writer, "hello", 5), 5);
    assert_int_equal(vfs_write(writer, "", 0), 0);
    int available = 0;
    assert_int_equal(vfs_ioctl(reader, FIONREAD, &available, sizeof(available)), 0);
    assert_int_equal(available, 5);
    assert_int_equal(vfs_read(reader, buffer, 3), 3);
    assert_memory_equal(buffer, "hel", 3);
    assert_int_equal(vfs_read(reader, buffer, sizeof(buffer)), 2);
    assert_int_equal(vfs_write(reader, "x", 1), -EBADF);
    assert_int_equal(vfs_read(writer, buffer, 1), -EBADF);
    assert_int_equal(vfs_lseek(reader, 0, SEEK_SET), -ESPIPE);
    assert_int_equal(vfs_pread(reader, buffer, 1, 0), -ESPIPE);
    struct stat attributes;
    assert_int_equal(vfs_fstat(reader, &attributes), 0);
    assert_true(S_ISFIFO(attributes.st_mode));
    struct text_buffer name = {0};
    assert_int_equal(vfs_file_describe_path(reader, NULL, &name), 0);
    char expected[64];
    snprintf(expected, sizeof(expected), "pipe:[%llu]", (unsigned long long)attributes.st_ino);
    assert_string_equal(name.data, expected);
    text_buffer_free(&name);
    assert_int_equal(vfs_write(writer, "tail", 4), 4);
    vfs_file_put(writer);
    assert_int_equal(vfs_read(reader, buffer, sizeof(buffer)), 4); /* data before EOF */
    assert_int_equal(vfs_read(reader, buffer, sizeof(buffer)), 0);
    assert_int_equal(vfs_poll(reader, NULL) & POLLHUP, POLLHUP);
    vfs_file_put(reader);
}

static void test_epipe(void **state)
{
    (void)state;
    struct vfs_file *reader, *writer;
    assert_int_equal(vfs_pipe_create(O_NONBLOCK, &reader, &writer), 0);
    assert_int_equal(vfs_file_status_flags(reader) & (O_NONBLOCK | O_ACCMODE), O_NONBLOCK | O_RDONLY);
    assert_int_equal(vfs_file_status_flags(writer) & O_ACCMODE, O_WRONLY);
    vfs_file_put(reader);
    assert_int_equal(vfs_write(writer, "x", 1), -EPIPE);
    assert_int_equal(vfs_poll(writer, NULL) & POLLERR, POLLERR);
    vfs_file_put(writer);
    assert_int_equal(vfs_pipe_create(O_APPEND, &reader, &writer), -EINVAL);
}

static void test_atomicity_and_partial_writes(void **state)
{
    (void)state;
    struct vfs_file *reader, *writer;
    assert_int_equal(vfs_pipe_create(0, &reader, &writer), 0);
    char *block = calloc(1, CAPACITY + 8192);
    memset(block, 'a', CAPACITY + 8192);
    assert_int_equal(vfs_write(writer, block, CAPACITY - 100), CAPACITY - 100);
    assert_int_equal(vfs_poll(writer, NULL) & POLLOUT, 0);
    assert_int_equal(vfs_write(writer, block, 200), -EAGAIN);         /* <= PIPE_BUF: all or nothing */
    assert_int_equal(vfs_write(writer, block, 100), 100);             /* fits exactly */
    assert_int_equal(vfs_write(writer, block, 1), -EAGAIN);           /* full */
    char *sink = calloc(1, CAPACITY);
    assert_int_equal(vfs_read(reader, sink, 1000), 1000);
    assert_int_equal(vfs_write(writer, block, 5000), 1000);           /* > PIPE_BUF: what fits */
    assert_int_equal(vfs_read(reader, sink, CAPACITY), CAPACITY);
    assert_int_equal(vfs_poll(reader, NULL) & POLLIN, 0);
    assert_int_equal(vfs_write(writer, block, CAPACITY + 8192), CAPACITY); /* wraps around the ring */
    assert_int_equal(vfs_read(reader, sink, CAPACITY), CAPACITY);
    for (size_t index = 0; index < CAPACITY; index++)
        assert_int_equal(sink[index], 'a');
    free(block);
    free(sink);
    vfs_file_put(reader);
    vfs_file_put(writer);
}

static void test_wakeups(void **state)
{
    (void)state;
    struct vfs_file *reader, *writer;
    assert_int_equal(vfs_pipe_create(0, &reader, &writer), 0);
    struct counting_waiter blocked_reader, blocked_writer;
    waiter_init(&blocked_reader, POLLIN | POLLHUP);
    waiter_init(&blocked_writer, POLLOUT | POLLERR);
    uint32_t ready = vfs_poll(reader, &blocked_reader.base);
    assert_int_equal(ready & (POLLIN | POLLHUP), 0);
    assert_int_equal(vfs_poll(writer, NULL) & POLLOUT, POLLOUT);
    assert_int_equal(vfs_write(writer, "data", 4), 4);
    assert_int_equal(blocked_reader.wakes, 1);
    assert_int_equal(blocked_reader.last_events & POLLIN, POLLIN);
    waiter_remove(&blocked_reader.base);

    char *block = calloc(1, CAPACITY);
    assert_int_equal(vfs_write(writer, block, CAPACITY - 4), CAPACITY - 4);
    ready = vfs_poll(writer, &blocked_writer.base);
    assert_int_equal(ready & POLLOUT, 0);
    char buffer[16];
    assert_int_equal(vfs_read(reader, buffer, sizeof(buffer)), (ssize_t)sizeof(buffer));
    assert_int_equal(blocked_writer.wakes, 1);
    assert_int_equal(blocked_writer.last_events & POLLOUT, POLLOUT);
    waiter_remove(&blocked_writer.base);

    /* closing one end wakes the other */
    waiter_init(&blocked_writer, POLLOUT | POLLERR);
    vfs_poll(writer, &blocked_writer.base);
    vfs_file_put(reader);
    assert_int_equal(blocked_writer.wakes, 1);
    assert_int_equal(blocked_writer.last_events & POLLERR, POLLERR);
    waiter_remove(&blocked_writer.base);
    vfs_file_put(writer);

    assert_int_equal(vfs_pipe_create(0, &reader, &writer), 0);
    waiter_init(&blocked_reader, POLLIN | POLLHUP);
    vfs_poll(reader, &blocked_reader.base);
    vfs_file_put(writer);
    assert_int_equal(blocked_reader.wakes, 1);
    assert_int_equal(blocked_reader.last_events & POLLHUP, POLLHUP);
    waiter_remove(&blocked_reader.base);
    vfs_file_put(reader);
    free(block);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_and_eof),
        cmocka_unit_test(test_epipe),
        cmocka_unit_test(test_atomicity_and_partial_writes),
        cmocka_unit_test(test_wakeups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
