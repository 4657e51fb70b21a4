/* tests/unit/test_vfs_eventfd.c: eventfd counters (plain and semaphore), the 8-byte rule, overflow, poll bits
 * and wake-ups, what fstat and /proc show of one; and memfd files: I/O, size, names and flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

static void waiter_init(struct counting_waiter *waiter, uint32_t events)
{
    memset(waiter, 0, sizeof(*waiter));
    list_init(&waiter->base.node);
    waiter->base.events = events;
    waiter->base.wake = count_wake;
}

static ssize_t write_value(struct vfs_file *file, uint64_t value) { return vfs_write(file, &value, sizeof(value)); }

static uint64_t read_value(struct vfs_file *file)
{
    uint64_t value = 0;
    assert_int_equal(vfs_read(file, &value, sizeof(value)), 8);
    return value;
}

static void test_counter(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_eventfd_create(3, 0, &file), 0);
    assert_int_equal(vfs_poll(file, NULL), POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
    assert_int_equal(write_value(file, 4), 8);
    assert_int_equal(read_value(file), 7);
    uint64_t value;
    assert_int_equal(vfs_read(file, &value, sizeof(value)), -EAGAIN);
    assert_int_equal(vfs_poll(file, NULL), POLLOUT | POLLWRNORM);
    char small[7];
    assert_int_equal(vfs_read(file, small, sizeof(small)), -EINVAL);
    assert_int_equal(vfs_write(file, small, sizeof(small)), -EINVAL);
    /* a longer buffer is fine: 8 bytes are used */
    uint64_t big[2] = {5, 99};
    assert_int_equal(vfs_write(file, big, sizeof(big)), 8);
    assert_int_equal(read_value(file), 5);
    assert_int_equal(write_value(file, UINT64_MAX), -EINVAL);
    assert_int_equal(write_value(file, UINT64_MAX - 1), 8);
    assert_int_equal(vfs_poll(file, NULL), POLLIN | POLLRDNORM);
    assert_int_equal(write_value(file, 1), -EAGAIN);
    assert_int_equal(write_value(file, 0), 8);
    assert_int_equal(read_value(file), UINT64_MAX - 1);
    assert_int_equal(vfs_lseek(file, 0, SEEK_SET), -ESPIPE);
    assert_int_equal(vfs_pread(file, &value, 8, 0), -ESPIPE);
    vfs_file_put(file);
}

static void test_semaphore_and_flags(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_eventfd_create(0, 0x12345, &file), -EINVAL);
    assert_int_equal(vfs_eventfd_create(2, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC, &file), 0);
    assert_true(vfs_file_status_flags(file) & O_NONBLOCK);
    assert_int_equal(vfs_file_status_flags(file) & O_ACCMODE, O_RDWR);
    assert_int_equal(read_value(file), 1);
    assert_int_equal(read_value(file), 1);
    uint64_t value;
    assert_int_equal(vfs_read(file, &value, sizeof(value)), -EAGAIN);
    vfs_file_put(file);
}

static void test_wakeups_and_identity(void **state)
{
    (void)state;
    struct vfs_file *file, *other;
    assert_int_equal(vfs_eventfd_create(0, 0, &file), 0);
    assert_int_equal(vfs_eventfd_create(0, 0, &other), 0);
    struct counting_waiter reader, writer;
    waiter_init(&reader, POLLIN);
    waiter_init(&writer, POLLOUT);
    vfs_poll(file, &reader.base);
    vfs_poll(file, &writer.base);
    assert_int_equal(write_value(file, 1), 8);
    assert_int_equal(reader.wakes, 1);
    assert_int_equal(writer.wakes, 0);
    read_value(file);
    assert_int_equal(writer.wakes, 1);
    waiter_remove(&reader.base);
    waiter_remove(&writer.base);

    struct stat a, b;
    assert_int_equal(vfs_fstat(file, &a), 0);
    assert_int_equal(vfs_fstat(other, &b), 0);
    assert_int_equal(a.st_mode, 0600); /* anon_inodefs: no file type */
    assert_int_equal(a.st_ino, b.st_ino);
    assert_int_equal(a.st_dev, b.st_dev);
    struct text_buffer name = {0};
    assert_int_equal(vfs_file_describe_path(file, NULL, &name), 0);
    assert_string_equal(name.data, "anon_inode:[eventfd]");
    text_buffer_free(&name);
    vfs_file_put(file);
    vfs_file_put(other);
}

static struct vfs_credentials user_credentials = {.fsuid = 1000, .fsgid = 100, .privileged = false};

static void test_memfd(void **state)
{
    (void)state;
    struct vfs_file *file, *twin;
    assert_int_equal(vfs_memfd_create("buffer", MFD_CLOEXEC | MFD_ALLOW_SEALING, &user_credentials, &file), 0);
    assert_int_equal(vfs_memfd_create("buffer", 0, &user_credentials, &twin), 0); /* names need not be unique */
    assert_int_equal(vfs_write(file, "hello world", 11), 11);
    assert_int_equal(vfs_lseek(file, 6, SEEK_SET), 6);
    char buffer[16] = {0};
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), 5);
    assert_string_equal(buffer, "world");
    assert_int_equal(vfs_pread(file, buffer, 5, 0), 5);
    assert_memory_equal(buffer, "hello", 5);
    assert_int_equal(vfs_ftruncate(file, 8192), 0);
    struct stat attributes;
    assert_int_equal(vfs_fstat(file, &attributes), 0);
    assert_true(S_ISREG(attributes.st_mode));
    assert_int_equal(attributes.st_mode & 07777, 0777);
    assert_int_equal(attributes.st_size, 8192);
    assert_int_equal(attributes.st_nlink, 0);
    assert_int_equal(attributes.st_uid, 1000);
    assert_int_equal(attributes.st_gid, 100);
    struct stat twin_attributes;
    assert_int_equal(vfs_fstat(twin, &twin_attributes), 0);
    assert_int_not_equal(attributes.st_ino, twin_attributes.st_ino);
    assert_int_equal(vfs_file_status_flags(file) & O_ACCMODE, O_RDWR);
    struct text_buffer name = {0};
    assert_int_equal(vfs_file_describe_path(file, NULL, &name), 0);
    assert_string_equal(name.data, "/memfd:buffer (deleted)");
    text_buffer_free(&name);
    vfs_file_put(twin);
    vfs_file_put(file);
}

static void test_memfd_errors(void **state)
{
    (void)state;
    struct vfs_file *file;
    char longest[250];
    memset(longest, 'n', 249);
    longest[249] = '\0';
    assert_int_equal(vfs_memfd_create(longest, 0, NULL, &file), 0);
    vfs_file_put(file);
    char too_long[251];
    memset(too_long, 'n', 250);
    too_long[250] = '\0';
    assert_int_equal(vfs_memfd_create(too_long, 0, NULL, &file), -EINVAL);
    assert_int_equal(vfs_memfd_create("x", 0x100, NULL, &file), -EINVAL);
    assert_int_equal(vfs_memfd_check_flags(0x100), -EINVAL);
    assert_int_equal(vfs_memfd_check_flags((21U << 26)), -EINVAL); /* a size without MFD_HUGETLB */
    assert_int_equal(vfs_memfd_check_flags(MFD_HUGETLB | (21U << 26)), 0);
    assert_int_equal(vfs_memfd_create("x", MFD_HUGETLB, NULL, &file), -ENOSYS);
    assert_int_equal(vfs_memfd_create("with/slash", 0, NULL, &file), 0);
    struct text_buffer name = {0};
    assert_int_equal(vfs_file_describe_path(file, NULL, &name), 0);
    assert_string_equal(name.data, "/memfd:with/slash (deleted)");
    text_buffer_free(&name);
    vfs_file_put(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter),
        cmocka_unit_test(test_semaphore_and_flags),
        cmocka_unit_test(test_wakeups_and_identity),
        cmocka_unit_test(test_memfd),
        cmocka_unit_test(test_memfd_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
