/* tests/unit/test_vfs_inotify.c: inotify's queue through the VFS on a tmpfs: record layout and name padding,
 * coalescing of identical consecutive events, IN_Q_OVERFLOW, short buffers, FIONREAD, watch descriptors,
 * IN_ONESHOT/IN_MASK_ADD/IN_MASK_CREATE, IN_IGNORED, moves with cookies; and signalfd's mask rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>

#include "vfs/vfs.h"

static struct vfs_credentials root_credentials = {.fsuid = 0, .fsgid = 0, .privileged = true};
static struct vfs_path root;
static struct vfs_context ctx;
static struct vfs_file *inotify;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vfs_make_tmpfs_root(0755, &root), 0);
    ctx = (struct vfs_context){.root = root, .cwd = root, .credentials = &root_credentials, .umask = 022,
                               .pid = 1, .tid = 1};
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/dir", 0755), 0);
    assert_int_equal(vfs_inotify_create(IN_NONBLOCK, &inotify), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vfs_file_put(inotify);
    vfs_path_put(&root);
    return 0;
}

static void touch(const char *path)
{
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, path, O_WRONLY | O_CREAT, 0644, &file), 0);
    vfs_file_put(file);
}

struct event_view {
    int wd;
    uint32_t mask, cookie, length;
    char name[64];
};

/* Reads up to max events with a large buffer; returns how many. */
static int read_events(struct event_view *events, int max)
{
    char buffer[8192] __attribute__((aligned(8)));
    ssize_t got = vfs_read(inotify, buffer, sizeof(buffer));
    if (got == -EAGAIN)
        return 0;
    assert_true(got > 0);
    int count = 0;
    for (char *at = buffer; at < buffer + got; count++) {
        struct inotify_event header;
        memcpy(&header, at, sizeof(header));
        assert_true(count < max);
        events[count].wd = header.wd;
        events[count].mask = header.mask;
        events[count].cookie = header.cookie;
        events[count].length = header.len;
        snprintf(events[count].name, sizeof(events[count].name), "%s", header.len ? at + sizeof(header) : "");
        at += sizeof(header) + header.len;
    }
    return count;
}

static void test_records_padding_and_coalescing(void **state)
{
    (void)state;
    int wd = vfs_inotify_add_watch(&ctx, inotify, "/dir", IN_ALL_EVENTS);
    assert_int_equal(wd, 1);
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/dir/a-name-of-sixteen", O_WRONLY | O_CREAT, 0644, &file), 0);
    assert_int_equal(vfs_write(file, "x", 1), 1);
    assert_int_equal(vfs_write(file, "x", 1), 1); /* identical to the newest: merged */
    vfs_file_put(file);
    int readable = -1;
    assert_int_equal(vfs_ioctl(inotify, FIONREAD, &readable, sizeof(readable)), 0);
    /* 16 characters plus NUL pad to 32 bytes: 4 events of 16 + 32 */
    assert_int_equal(readable, 4 * 48);
    struct event_view events[8];
    assert_int_equal(read_events(events, 8), 4);
    assert_int_equal(events[0].mask, IN_CREATE);
    assert_int_equal(events[1].mask, IN_OPEN);
    assert_int_equal(events[2].mask, IN_MODIFY);
    assert_int_equal(events[3].mask, IN_CLOSE_WRITE);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(events[i].wd, wd);
        assert_int_equal(events[i].length, 32);
        assert_string_equal(events[i].name, "a-name-of-sixteen");
    }
    assert_int_equal(vfs_ioctl(inotify, FIONREAD, &readable, sizeof(readable)), 0);
    assert_int_equal(readable, 0);
    assert_int_equal(vfs_poll(inotify, NULL) & POLLIN, 0);
}

static void test_short_buffers(void **state)
{
    (void)state;
    assert_int_equal(vfs_inotify_add_watch(&ctx, inotify, "/dir", IN_CREATE), 1);
    touch("/dir/one");
    touch("/dir/two");
    char buffer[64] __attribute__((aligned(8)));
    assert_int_equal(vfs_read(inotify, buffer, 31), -EINVAL); /* the first does not fit */
    assert_int_equal(vfs_poll(inotify, NULL) & POLLIN, POLLIN);
    assert_int_equal(vfs_read(inotify, buffer, 40), 32);     /* one fits, not two */
    assert_int_equal(vfs_read(inotify, buffer, 64), 32);
    assert_int_equal(vfs_read(inotify, buffer, 64), -EAGAIN);
}

static void test_overflow(void **state)
{
    (void)state;
    touch("/dir/file");
    assert_int_equal(vfs_inotify_add_watch(&ctx, inotify, "/dir/file", IN_OPEN | IN_CLOSE), 1);
    for (int i = 0; i < 9000; i++) {
        struct vfs_file *file;
        assert_int_equal(vfs_open_at(&ctx, NULL, "/dir/file", O_RDONLY, 0, &file), 0);
        vfs_file_put(file);
    }
    int readable = -1;
    assert_int_equal(vfs_ioctl(inotify, FIONREAD, &readable, sizeof(readable)), 0);
    assert_int_equal(readable, 16385 * 16);
    int total = 0;
    struct event_view events[600];
    struct event_view last = {0};
    for (int got; (got = read_events(events, 600)) > 0; total += got)
        last = events[got - 1];
    assert_int_equal(total, 16385);
    assert_int_equal(last.wd, -1);
    assert_int_equal(last.mask, IN_Q_OVERFLOW);
    /* with the queue drained, events flow again */
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/dir/file", O_RDONLY, 0, &file), 0);
    vfs_file_put(file);
    assert_int_equal(read_events(events, 600), 2);
}

static void test_watch_descriptors_and_flags(void **state)
{
    (void)state;
    touch("/dir/f");
    assert_int_equal(vfs_inotify_check_mask(0), -EINVAL);
    assert_int_equal(vfs_inotify_check_mask(IN_OPEN | IN_MASK_ADD | IN_MASK_CREATE), -EINVAL);
    assert_int_equal(vfs_inotify_check_mask(IN_OPEN | 0x1000), -EINVAL);
    assert_int_equal(vfs_inotify_add_watch(&ctx, inotify, "/dir/missing", IN_OPEN), -ENOENT);
    assert_int_equal(vfs_inotify_add_watch(&ctx, inotify, "/dir/f", IN_OPEN | IN_ONLYDIR), -ENOTDIR);
    int wd = vfs_inotify_add_watch(&ctx, inotify, "/dir/f", IN_OPEN);
    assert_int_equal(wd, 1);
    assert_int_equal(vfs_inotify_add_watch(&ctx, inotify, "/dir/f", IN_ATTRIB | IN_MASK_ADD), wd);
    assert_int_equal(vfs_inotify_add_watch(&ctx, inotify, "/dir/f", IN_OPEN | IN_MASK_CREATE), -EEXIST);
    assert_int_equal(vfs_chmod_at(&ctx, NULL, "/dir/f", 0600, 0), 0);
    struct event_view events[8];
    assert_int_equal(read_events(events, 8), 1);
    assert_int_equal(events[0].mask, IN_ATTRIB);
    assert_int_equal(vfs_inotify_rm_watch(inotify, wd), 0);
    assert_int_equal(vfs_inotify_rm_watch(inotify, wd), -EINVAL);
    assert_int_equal(read_events(events, 8), 1);
    assert_int_equal(events[0].mask, IN_IGNORED);
    /* descriptors are not reused at once: the next one follows */
    int oneshot = vfs_inotify_add_watch(&ctx, inotify, "/dir/f", IN_OPEN | IN_ONESHOT);
    assert_int_equal(oneshot, 2);
    touch("/dir/f");
    touch("/dir/f");
    assert_int_equal(read_events(events, 8), 2);
    assert_int_equal(events[0].mask, IN_OPEN);
    assert_int_equal(events[1].mask, IN_IGNORED);
    assert_int_equal(events[1].wd, oneshot);
    assert_int_equal(vfs_inotify_rm_watch(inotify, oneshot), -EINVAL);
}

static void test_moves_and_deletion(void **state)
{
    (void)state;
    touch("/dir/a");
    int dir_wd = vfs_inotify_add_watch(&ctx, inotify, "/dir", IN_MOVE | IN_DELETE);
    int file_wd = vfs_inotify_add_watch(&ctx, inotify, "/dir/a", IN_MOVE_SELF | IN_DELETE_SELF);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/dir/a", NULL, "/dir/b", 0), 0);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/dir/b", 0), 0);
    struct event_view events[8];
    assert_int_equal(read_events(events, 8), 6);
    assert_int_equal(events[0].wd, dir_wd);
    assert_int_equal(events[0].mask, IN_MOVED_FROM);
    assert_string_equal(events[0].name, "a");
    assert_int_equal(events[1].mask, IN_MOVED_TO);
    assert_string_equal(events[1].name, "b");
    assert_true(events[0].cookie != 0);
    assert_int_equal(events[0].cookie, events[1].cookie);
    assert_int_equal(events[2].wd, file_wd);
    assert_int_equal(events[2].mask, IN_MOVE_SELF);
    assert_int_equal(events[3].mask, IN_DELETE_SELF);
    assert_int_equal(events[4].mask, IN_IGNORED);
    assert_int_equal(events[5].wd, dir_wd);
    assert_int_equal(events[5].mask, IN_DELETE);
}

/* A one-shot watch ending while a removed file's last user goes: the other instance's watch gets the end. */
static void test_deletion_deferred_to_last_close(void **state)
{
    (void)state;
    touch("/dir/x");
    struct vfs_file *other;
    assert_int_equal(vfs_inotify_create(IN_NONBLOCK, &other), 0);
    assert_int_equal(vfs_inotify_add_watch(&ctx, inotify, "/dir/x", IN_CLOSE | IN_ONESHOT), 1);
    assert_int_equal(vfs_inotify_add_watch(&ctx, other, "/dir/x", IN_ALL_EVENTS), 1);
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/dir/x", O_RDONLY, 0, &file), 0);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/dir/x", 0), 0);
    struct event_view events[8];
    assert_int_equal(read_events(events, 8), 0); /* still open: no IN_DELETE_SELF yet */
    vfs_file_put(file);
    assert_int_equal(read_events(events, 8), 2);
    assert_int_equal(events[0].mask, IN_CLOSE_NOWRITE);
    assert_int_equal(events[1].mask, IN_IGNORED);
    struct vfs_file *saved = inotify;
    inotify = other;
    assert_int_equal(read_events(events, 8), 5);
    assert_int_equal(events[0].mask, IN_OPEN);
    assert_int_equal(events[1].mask, IN_ATTRIB);
    assert_int_equal(events[2].mask, IN_CLOSE_NOWRITE);
    assert_int_equal(events[3].mask, IN_DELETE_SELF);
    assert_int_equal(events[4].mask, IN_IGNORED);
    inotify = saved;
    vfs_file_put(other);
}

static bool never_dequeue(uint64_t mask, void *siginfo)
{
    (void)mask;
    (void)siginfo;
    return false;
}
static bool never_pending(uint64_t mask)
{
    (void)mask;
    return false;
}
static const struct vfs_signalfd_source empty_source = {.dequeue = never_dequeue, .pending = never_pending};

static void test_signalfd_rules(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_signalfd_create(1, O_APPEND, &empty_source, &file), -EINVAL);
    assert_int_equal(vfs_signalfd_create(~0ULL, SFD_NONBLOCK, &empty_source, &file), 0);
    char buffer[256];
    assert_int_equal(vfs_read(file, buffer, 127), -EINVAL);
    assert_int_equal(vfs_read(file, buffer, 256), -EAGAIN);
    assert_int_equal(vfs_poll(file, NULL), 0);
    assert_int_equal(vfs_signalfd_set_mask(inotify, 1), -EINVAL);
    assert_int_equal(vfs_signalfd_set_mask(file, 1), 0);
    assert_true(vfs_file_is_signalfd(file));
    vfs_file_put(file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_records_padding_and_coalescing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watch_descriptors_and_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_moves_and_deletion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deletion_deferred_to_last_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signalfd_rules, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
