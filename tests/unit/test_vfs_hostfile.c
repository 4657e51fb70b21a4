/* tests/unit/test_vfs_hostfile.c: files over host descriptors (the sandbox's stdio): non-blocking reads
 * that ask the Sentry's watcher to wait, writes, poll, fstat from the host, and the ioctl allow-list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/vfs.h"

static int watched_fd = -1;
static uint32_t watched_events;
static struct wait_queue *watched_queue;

static void watch(int host_fd, uint32_t events, struct wait_queue *queue)
{
    watched_fd = host_fd;
    watched_events = events;
    watched_queue = queue;
}

static void test_read_write_and_watch(void **state)
{
    (void)state;
    vfs_set_host_fd_watcher(watch);
    int host[2];
    assert_int_equal(pipe2(host, O_CLOEXEC), 0);
    struct vfs_file *input = vfs_file_from_host_fd(host[0], O_RDONLY);
    struct vfs_file *output = vfs_file_from_host_fd(host[1], O_WRONLY);
    assert_non_null(input);
    assert_non_null(output);
    close(host[0]); /* the files work on their own duplicates */
    close(host[1]);
    char buffer[16];
    assert_int_equal(vfs_read(input, buffer, sizeof(buffer)), -EAGAIN);
    assert_true(watched_fd >= 0);
    assert_int_equal(watched_events & POLLIN, POLLIN);
    assert_ptr_equal(watched_queue, vfs_file_wait_queue(input));
    assert_int_equal(vfs_poll(input, NULL) & POLLIN, 0);
    assert_int_equal(vfs_poll(output, NULL) & POLLOUT, POLLOUT);
    assert_int_equal(vfs_write(output, "typed", 5), 5);
    assert_int_equal(vfs_poll(input, NULL) & POLLIN, POLLIN);
    assert_int_equal(vfs_read(input, buffer, sizeof(buffer)), 5);
    assert_memory_equal(buffer, "typed", 5);
    assert_int_equal(vfs_write(input, "x", 1), -EBADF);
    assert_int_equal(vfs_lseek(input, 0, SEEK_SET), -ESPIPE);
    struct stat attributes;
    assert_int_equal(vfs_fstat(input, &attributes), 0);
    assert_true(S_ISFIFO(attributes.st_mode));
    int available = -1;
    assert_int_equal(vfs_ioctl(input, FIONREAD, &available, sizeof(available)), 0);
    assert_int_equal(available, 0);
    char termios[64];
    assert_int_equal(vfs_ioctl(input, TCGETS, termios, sizeof(termios)), -ENOTTY); /* a pipe: no tty */
    assert_int_equal(vfs_ioctl(input, TIOCSTI, termios, sizeof(termios)), -ENOTTY); /* never passed on */
    struct text_buffer name = {0};
    assert_int_equal(vfs_file_describe_path(input, NULL, &name), 0);
    assert_memory_equal(name.data, "pipe:[", 6);
    text_buffer_free(&name);
    vfs_file_put(output);
    assert_int_equal(vfs_read(input, buffer, sizeof(buffer)), 0); /* EOF */
    vfs_file_put(input);
    assert_null(vfs_file_from_host_fd(-1, O_RDONLY));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_write_and_watch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
