/* tests/unit/test_vfs_locks.c: flock locks per description (sharing, conversion, release at the last close) and
 * fcntl record locks: ranges and their errors, splitting and merging, process and OFD owners, F_GETLK's answers,
 * release by process, and wake-ups of blocked lockers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>

#include "vfs/vfs.h"

static struct vfs_credentials root_credentials = {.fsuid = 0, .fsgid = 0, .privileged = true};
static struct vfs_path root;
static struct vfs_context ctx;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vfs_make_tmpfs_root(0755, &root), 0);
    ctx = (struct vfs_context){.root = root, .cwd = root, .credentials = &root_credentials, .umask = 022};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vfs_path_put(&root);
    return 0;
}

static struct vfs_file *open_file(int flags)
{
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/data", flags | O_CREAT, 0644, &file), 0);
    return file;
}

struct counting_waiter {
    struct waiter base;
    int wakes;
};

static void count_wake(struct waiter *base, uint32_t events)
{
    (void)events;
    struct counting_waiter *waiter = CONTAINER_OF(base, struct counting_waiter, base);
    waiter->wakes++;
    waiter_remove(base); /* as a task's wake does */
}

static void wait_on_locks(struct counting_waiter *waiter, struct vfs_file *file)
{
    memset(waiter, 0, sizeof(*waiter));
    list_init(&waiter->base.node);
    waiter->base.events = POLLIN;
    waiter->base.wake = count_wake;
    struct wait_queue *queue = vfs_lock_wait_queue(file);
    assert_non_null(queue);
    wait_queue_add(queue, &waiter->base);
}

static void test_flock(void **state)
{
    (void)state;
    struct vfs_file *a = open_file(O_RDWR), *b = open_file(O_RDONLY), *path_only = open_file(O_PATH);
    assert_null(vfs_lock_wait_queue(a));
    assert_int_equal(vfs_flock(a, LOCK_SH), 0);
    assert_int_equal(vfs_flock(b, LOCK_SH | LOCK_NB), 0);
    assert_int_equal(vfs_flock(b, LOCK_EX | LOCK_NB), -EWOULDBLOCK);
    /* the failed conversion dropped b's shared lock, as on Linux */
    assert_int_equal(vfs_flock(a, LOCK_EX), 0);
    assert_int_equal(vfs_flock(b, LOCK_SH), -EWOULDBLOCK);
    struct counting_waiter waiter;
    wait_on_locks(&waiter, b);
    assert_int_equal(vfs_flock(a, LOCK_UN), 0);
    assert_int_equal(waiter.wakes, 1);
    assert_int_equal(vfs_flock(b, LOCK_EX), 0);
    assert_int_equal(vfs_flock(b, LOCK_EX), 0); /* again: nothing to do */
    assert_int_equal(vfs_flock(a, LOCK_SH), -EWOULDBLOCK);
    /* record locks do not meet flock locks */
    struct flock record = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    assert_int_equal(vfs_posix_lock(a, 10, F_SETLK, &record), 0);
    /* the lock belongs to the description: gone at its last close */
    vfs_file_get(b);
    vfs_file_put(b);
    assert_int_equal(vfs_flock(a, LOCK_SH), -EWOULDBLOCK);
    vfs_file_put(b);
    assert_int_equal(vfs_flock(a, LOCK_SH), 0);
    assert_int_equal(vfs_flock(a, 0), -EINVAL);
    assert_int_equal(vfs_flock(a, LOCK_SH | LOCK_EX), -EINVAL);
    assert_int_equal(vfs_flock(path_only, LOCK_SH), -EBADF);
    assert_int_equal(vfs_flock(path_only, LOCK_UN), 0);
    vfs_file_put(path_only);
    vfs_file_put(a);
}

static struct flock range(short type, short whence, off_t start, off_t length)
{
    return (struct flock){.l_type = type, .l_whence = whence, .l_start = start, .l_len = length};
}

/* F_GETLK from another process: what blocks a write lock on [start, start+length) */
static struct flock probe(struct vfs_file *file, off_t start, off_t length)
{
    struct flock query = range(F_WRLCK, SEEK_SET, start, length);
    assert_int_equal(vfs_posix_lock(file, 999, F_GETLK, &query), 0);
    return query;
}

static void test_record_ranges(void **state)
{
    (void)state;
    struct vfs_file *file = open_file(O_RDWR);
    struct flock lock = range(F_WRLCK, SEEK_SET, 10, 10); /* [10, 19] */
    assert_int_equal(vfs_posix_lock(file, 1, F_SETLK, &lock), 0);
    struct flock seen = probe(file, 0, 0);
    assert_int_equal(seen.l_type, F_WRLCK);
    assert_int_equal(seen.l_whence, SEEK_SET);
    assert_int_equal(seen.l_start, 10);
    assert_int_equal(seen.l_len, 10);
    assert_int_equal(seen.l_pid, 1);
    seen = probe(file, 20, 5);
    assert_int_equal(seen.l_type, F_UNLCK);
    assert_int_equal(seen.l_pid, 999);
    assert_int_equal(seen.l_start, 20); /* untouched without a conflict */
    /* unlocking the middle splits the lock */
    lock = range(F_UNLCK, SEEK_SET, 13, 4);
    assert_int_equal(vfs_posix_lock(file, 1, F_SETLK, &lock), 0);
    seen = probe(file, 12, 1);
    assert_int_equal(seen.l_start, 10); /* the first piece is [10, 12] */
    assert_int_equal(seen.l_len, 3);
    assert_int_equal(probe(file, 13, 4).l_type, F_UNLCK);
    seen = probe(file, 13, 100);
    assert_int_equal(seen.l_start, 17);
    assert_int_equal(seen.l_len, 3);
    /* filling the gap with the same type merges everything back */
    lock = range(F_WRLCK, SEEK_SET, 13, 4);
    assert_int_equal(vfs_posix_lock(file, 1, F_SETLK, &lock), 0);
    seen = probe(file, 0, 0);
    assert_int_equal(seen.l_start, 10);
    assert_int_equal(seen.l_len, 10);
    /* a read lock over part turns it into three pieces; a reader now only conflicts with the write parts */
    lock = range(F_RDLCK, SEEK_SET, 12, 2);
    assert_int_equal(vfs_posix_lock(file, 1, F_SETLK, &lock), 0);
    struct flock read_probe = range(F_RDLCK, SEEK_SET, 12, 2);
    assert_int_equal(vfs_posix_lock(file, 2, F_GETLK, &read_probe), 0);
    assert_int_equal(read_probe.l_type, F_UNLCK);
    read_probe = range(F_RDLCK, SEEK_SET, 11, 2);
    assert_int_equal(vfs_posix_lock(file, 2, F_GETLK, &read_probe), 0);
    assert_int_equal(read_probe.l_type, F_WRLCK);
    assert_int_equal(read_probe.l_start, 10);
    assert_int_equal(read_probe.l_len, 2);
    /* l_len 0 reaches to the end of any file; a negative one reaches back */
    lock = range(F_WRLCK, SEEK_SET, 100, 0);
    assert_int_equal(vfs_posix_lock(file, 1, F_SETLK, &lock), 0);
    seen = probe(file, 1000000, 1);
    assert_int_equal(seen.l_start, 100);
    assert_int_equal(seen.l_len, 0);
    lock = range(F_WRLCK, SEEK_SET, 50, -10); /* [40, 49] */
    assert_int_equal(vfs_posix_lock(file, 1, F_SETLK, &lock), 0);
    seen = probe(file, 30, 15);
    assert_int_equal(seen.l_start, 40);
    assert_int_equal(seen.l_len, 10);
    /* SEEK_CUR and SEEK_END */
    assert_int_equal(vfs_write(file, "0123456789", 10), 10);
    lock = range(F_WRLCK, SEEK_CUR, -2, 1); /* [8, 8] */
    assert_int_equal(vfs_posix_lock(file, 3, F_SETLK, &lock), 0);
    lock = range(F_WRLCK, SEEK_END, -3, 2); /* [7, 8] */
    assert_int_equal(vfs_posix_lock(file, 4, F_SETLK, &lock), -EAGAIN);
    seen = probe(file, 8, 1);
    assert_int_equal(seen.l_pid, 3);
    vfs_posix_locks_release(file, 1);
    vfs_posix_locks_release(file, 3);
    assert_null(vfs_lock_wait_queue(file));
    vfs_file_put(file);
}

static void test_record_errors(void **state)
{
    (void)state;
    struct vfs_file *reader = open_file(O_RDONLY), *writer = open_file(O_WRONLY);
    struct flock lock = range(F_WRLCK, SEEK_SET, 0, 1);
    assert_int_equal(vfs_posix_lock(reader, 1, F_SETLK, &lock), -EBADF);
    lock = range(F_RDLCK, SEEK_SET, 0, 1);
    assert_int_equal(vfs_posix_lock(writer, 1, F_SETLK, &lock), -EBADF);
    assert_int_equal(vfs_posix_lock(writer, 1, F_GETLK, &lock), 0); /* testing needs no access */
    lock = range(F_UNLCK, SEEK_SET, 0, 1);
    assert_int_equal(vfs_posix_lock(writer, 1, F_GETLK, &lock), -EINVAL);
    lock = range(7, SEEK_SET, 0, 1);
    assert_int_equal(vfs_posix_lock(writer, 1, F_SETLK, &lock), -EINVAL);
    lock = range(F_WRLCK, 9, 0, 1);
    assert_int_equal(vfs_posix_lock(writer, 1, F_SETLK, &lock), -EINVAL);
    lock = range(F_WRLCK, SEEK_SET, -1, 1);
    assert_int_equal(vfs_posix_lock(writer, 1, F_SETLK, &lock), -EINVAL);
    lock = range(F_WRLCK, SEEK_SET, 5, -6);
    assert_int_equal(vfs_posix_lock(writer, 1, F_SETLK, &lock), -EINVAL);
    lock = range(F_WRLCK, SEEK_SET, INT64_MAX, 2);
    assert_int_equal(vfs_posix_lock(writer, 1, F_SETLK, &lock), -EOVERFLOW);
    assert_int_equal(vfs_lseek(writer, 10, SEEK_SET), 10);
    lock = range(F_WRLCK, SEEK_CUR, INT64_MAX, 1);
    assert_int_equal(vfs_posix_lock(writer, 1, F_SETLK, &lock), -EOVERFLOW);
    lock = range(F_WRLCK, SEEK_SET, 0, 1);
    lock.l_pid = 5;
    assert_int_equal(vfs_posix_lock(writer, 1, F_OFD_SETLK, &lock), -EINVAL);
    assert_int_equal(vfs_posix_lock(writer, 1, F_OFD_GETLK, &lock), -EINVAL);
    assert_int_equal(vfs_posix_lock(writer, 1, F_SETLK, &lock), 0); /* l_pid is ignored there */
    assert_int_equal(vfs_posix_lock(writer, 1, F_DUPFD, &lock), -EINVAL);
    vfs_posix_locks_release(writer, 1);
    vfs_file_put(reader);
    vfs_file_put(writer);
}

static void test_owners_and_release(void **state)
{
    (void)state;
    struct vfs_file *first = open_file(O_RDWR), *second = open_file(O_RDWR);
    struct flock lock = range(F_WRLCK, SEEK_SET, 0, 0);
    assert_int_equal(vfs_posix_lock(first, 1, F_SETLK, &lock), 0);
    /* the same process through another description: same owner, no conflict */
    assert_int_equal(vfs_posix_lock(second, 1, F_SETLK, &lock), 0);
    assert_int_equal(vfs_posix_lock(second, 2, F_SETLK, &lock), -EAGAIN);
    /* an OFD lock of the same process's description conflicts: different owner */
    assert_int_equal(vfs_posix_lock(second, 1, F_OFD_SETLK, &lock), -EAGAIN);
    assert_int_equal(vfs_posix_lock(second, 1, F_OFD_SETLKW, &lock), -EAGAIN);
    struct counting_waiter waiter;
    wait_on_locks(&waiter, second);
    /* closing any fd of the file releases the process's locks */
    vfs_posix_locks_release(second, 1);
    assert_int_equal(waiter.wakes, 1);
    assert_int_equal(vfs_posix_lock(second, 1, F_OFD_SETLK, &lock), 0);
    struct flock query = range(F_RDLCK, SEEK_SET, 0, 1);
    assert_int_equal(vfs_posix_lock(first, 7, F_GETLK, &query), 0);
    assert_int_equal(query.l_type, F_WRLCK);
    assert_int_equal(query.l_pid, -1); /* an OFD lock has no process */
    query = range(F_RDLCK, SEEK_SET, 0, 1);
    assert_int_equal(vfs_posix_lock(second, 0, F_OFD_GETLK, &query), 0);
    assert_int_equal(query.l_type, F_UNLCK); /* its own lock does not conflict */
    assert_int_equal(query.l_pid, -1);
    /* OFD locks go with their description */
    vfs_posix_locks_release(second, 1);
    assert_int_equal(vfs_posix_lock(first, 1, F_SETLK, &lock), -EAGAIN);
    vfs_file_put(second);
    assert_int_equal(vfs_posix_lock(first, 1, F_SETLK, &lock), 0);
    /* and a dying description takes the process locks set through it */
    vfs_file_put(first);
    struct vfs_file *third = open_file(O_RDWR);
    assert_null(vfs_lock_wait_queue(third));
    vfs_file_put(third);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_owners_and_release, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
