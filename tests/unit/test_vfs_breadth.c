/* tests/unit/test_vfs_breadth.c: the vfs operations behind the breadth syscalls: fallocate's modes and errors on
 * a memory file, the pipe status and peek splice and tee use, and pidfd files' readiness through a process's life. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>

#include "vfs/vfs.h"

struct counting_waiter {
    struct waiter base;
    int wakes;
};

static void count_wake(struct waiter *base, uint32_t events)
{
    (void)events;
    CONTAINER_OF(base, struct counting_waiter, base)->wakes++;
}

static off_t size_of(struct vfs_file *file)
{
    struct stat status;
    assert_int_equal(vfs_fstat(file, &status), 0);
    return status.st_size;
}

static void test_fallocate_modes(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_memfd_create("data", 0, NULL, &file), 0);
    assert_int_equal(vfs_fallocate(file, 0, 0, 10000), 0);
    assert_int_equal(size_of(file), 10000);
    assert_int_equal(vfs_fallocate(file, 0, 10, 10), 0);  /* inside: the size stays */
    assert_int_equal(size_of(file), 10000);
    assert_int_equal(vfs_fallocate(file, FALLOC_FL_KEEP_SIZE, 9000, 5000), 0);
    assert_int_equal(size_of(file), 10000);
    assert_int_equal(vfs_pwrite(file, "abcdefghij", 10, 0), 10);
    assert_int_equal(vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 2, 3), 0);
    char data[10];
    assert_int_equal(vfs_pread(file, data, sizeof(data), 0), 10);
    assert_memory_equal(data, "ab\0\0\0fghij", 10);
    /* A hole punched past the end changes nothing. */
    assert_int_equal(vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 9990, 100), 0);
    assert_int_equal(size_of(file), 10000);
    vfs_file_put(file);
}

static void test_fallocate_errors(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_memfd_create("data", 0, NULL, &file), 0);
    assert_int_equal(vfs_fallocate(file, 0, 0, 0), -EINVAL);
    assert_int_equal(vfs_fallocate(file, 0, -1, 1), -EINVAL);
    assert_int_equal(vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE, 0, 1), -EOPNOTSUPP);
    assert_int_equal(vfs_fallocate(file, FALLOC_FL_ZERO_RANGE, 0, 1), -EOPNOTSUPP);      /* tmpfs has no zero range */
    assert_int_equal(vfs_fallocate(file, FALLOC_FL_COLLAPSE_RANGE, 0, 4096), -EOPNOTSUPP);
    assert_int_equal(vfs_fallocate(file, FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_KEEP_SIZE, 0, 1), -EOPNOTSUPP);
    assert_int_equal(vfs_fallocate(file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE, 0, 1), -EOPNOTSUPP);
    assert_int_equal(vfs_fallocate(file, 0x100, 0, 1), -EOPNOTSUPP);
    assert_int_equal(vfs_fallocate(file, 0, INT64_MAX, 2), -EFBIG);
    assert_int_equal(size_of(file), 0);
    vfs_file_put(file);

    struct vfs_file *read_end, *write_end;
    assert_int_equal(vfs_pipe_create(0, &read_end, &write_end), 0);
    assert_int_equal(vfs_fallocate(write_end, 0, 0, 1), -ESPIPE);
    assert_int_equal(vfs_fallocate(read_end, 0, 0, 1), -EBADF);  /* not open for writing comes first */
    vfs_file_put(read_end);
    vfs_file_put(write_end);
}

static void test_pipe_status_and_peek(void **state)
{
    (void)state;
    struct vfs_file *read_end, *write_end, *other_read, *other_write;
    assert_int_equal(vfs_pipe_create(0, &read_end, &write_end), 0);
    assert_int_equal(vfs_pipe_create(0, &other_read, &other_write), 0);
    assert_true(vfs_file_is_pipe(read_end));
    assert_true(vfs_file_is_pipe(write_end));
    struct vfs_file *memory;
    assert_int_equal(vfs_memfd_create("not a pipe", 0, NULL, &memory), 0);
    assert_false(vfs_file_is_pipe(memory));

    struct vfs_pipe_status status, other;
    vfs_pipe_status(read_end, &status);
    assert_int_equal(status.available, 0);
    assert_int_equal(status.space, 65536);
    assert_int_equal(status.readers, 1);
    assert_int_equal(status.writers, 1);
    vfs_pipe_status(write_end, &other);
    assert_ptr_equal(status.identity, other.identity);  /* both ends: one pipe */
    vfs_pipe_status(other_read, &other);
    assert_ptr_not_equal(status.identity, other.identity);

    assert_int_equal(vfs_write(write_end, "peekaboo", 8), 8);
    char data[16] = {0};
    assert_int_equal(vfs_pipe_peek(read_end, data, 4), 4);
    assert_memory_equal(data, "peek", 4);
    vfs_pipe_status(read_end, &status);
    assert_int_equal(status.available, 8);  /* peeking takes nothing */
    assert_int_equal(status.space, 65536 - 8);
    assert_int_equal(vfs_pipe_peek(read_end, data, sizeof(data)), 8);
    assert_int_equal(vfs_read(read_end, data, sizeof(data)), 8);
    assert_memory_equal(data, "peekaboo", 8);
    vfs_file_put(write_end);
    vfs_pipe_status(read_end, &status);
    assert_int_equal(status.writers, 0);
    vfs_file_put(read_end);
    vfs_file_put(other_read);
    vfs_file_put(other_write);
    vfs_file_put(memory);
}

static void test_pidfd_life(void **state)
{
    (void)state;
    struct vfs_pidfd *pidfd = vfs_pidfd_new(42);
    struct vfs_file *file, *nonblocking;
    assert_int_equal(vfs_pidfd_open(pidfd, O_CLOEXEC, &file), -EINVAL);
    assert_int_equal(vfs_pidfd_open(pidfd, 0, &file), 0);
    assert_int_equal(vfs_pidfd_open(pidfd, O_NONBLOCK, &nonblocking), 0);
    assert_ptr_equal(vfs_file_pidfd(file), pidfd);
    assert_int_equal(vfs_file_status_flags(nonblocking) & O_NONBLOCK, O_NONBLOCK);
    assert_int_equal(vfs_pidfd_pid(pidfd), 42);
    assert_int_equal(vfs_poll(file, NULL), 0);
    char byte;
    assert_int_equal(vfs_read(file, &byte, 1), -EINVAL);

    struct counting_waiter waiter;
    memset(&waiter, 0, sizeof(waiter));
    list_init(&waiter.base.node);
    waiter.base.events = POLLIN;
    waiter.base.wake = count_wake;
    vfs_poll(file, &waiter.base);
    vfs_pidfd_process_exited(pidfd);
    assert_int_equal(waiter.wakes, 1);
    waiter_remove(&waiter.base);
    assert_int_equal(vfs_poll(file, NULL), POLLIN | POLLRDNORM);
    assert_int_equal(vfs_pidfd_pid(pidfd), 42);  /* a zombie still has its pid */

    vfs_pidfd_process_reaped(pidfd);  /* drops the process's reference: the files keep the object */
    assert_int_equal(vfs_pidfd_pid(pidfd), 0);
    assert_int_equal(vfs_poll(file, NULL), POLLIN | POLLRDNORM | POLLHUP);
    vfs_file_put(nonblocking);
    vfs_file_put(file);

    struct vfs_file *memory;
    assert_int_equal(vfs_memfd_create("not a pidfd", 0, NULL, &memory), 0);
    assert_null(vfs_file_pidfd(memory));
    vfs_file_put(memory);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fallocate_modes),
        cmocka_unit_test(test_fallocate_errors),
        cmocka_unit_test(test_pipe_status_and_peek),
        cmocka_unit_test(test_pidfd_life),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
