/* tests/unit/test_vfs_epoll.c: epoll through the VFS: epoll_ctl's errors, level- and edge-triggered and
 * one-shot reporting, fairness under a small maxevents, nesting and its loop check, interest that outlives an
 * fd but not the description, and wake-ups of whoever sleeps on the epoll. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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

static void waiter_init(struct counting_waiter *waiter, uint32_t events)
{
    memset(waiter, 0, sizeof(*waiter));
    list_init(&waiter->base.node);
    waiter->base.events = events;
    waiter->base.wake = count_wake;
}

static int ctl(struct vfs_file *epoll, int operation, int fd, struct vfs_file *target, uint32_t events,
               uint64_t data)
{
    struct epoll_event event = {.events = events, .data.u64 = data};
    return vfs_epoll_ctl(epoll, operation, fd, target, &event);
}

static struct vfs_file *new_epoll(void)
{
    struct vfs_file *epoll;
    assert_int_equal(vfs_epoll_create(0, &epoll), 0);
    return epoll;
}

static void test_ctl_errors(void **state)
{
    (void)state;
    struct vfs_file *epoll, *reader, *writer, *eventfd;
    assert_int_equal(vfs_epoll_create(0x1, &epoll), -EINVAL);
    assert_int_equal(vfs_epoll_create(EPOLL_CLOEXEC, &epoll), 0);
    assert_int_equal(vfs_pipe_create(0, &reader, &writer), 0);
    assert_int_equal(vfs_eventfd_create(0, 0, &eventfd), 0);
    /* a regular file cannot be polled */
    struct vfs_path root;
    struct vfs_credentials root_credentials = {.privileged = true};
    assert_int_equal(vfs_make_tmpfs_root(0755, &root), 0);
    struct vfs_context ctx = {.root = root, .cwd = root, .credentials = &root_credentials, .umask = 022};
    struct vfs_file *regular;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/f", O_RDWR | O_CREAT, 0644, &regular), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 9, regular, EPOLLIN, 0), -EPERM);
    /* the first file must be an epoll, and not the target */
    assert_int_equal(ctl(eventfd, EPOLL_CTL_ADD, 3, reader, EPOLLIN, 0), -EINVAL);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 4, epoll, EPOLLIN, 0), -EINVAL);
    assert_int_equal(ctl(epoll, EPOLL_CTL_MOD, 3, reader, EPOLLIN, 0), -ENOENT);
    assert_int_equal(ctl(epoll, EPOLL_CTL_DEL, 3, reader, 0, 0), -ENOENT);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 3, reader, EPOLLIN, 1), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 3, reader, EPOLLIN, 1), -EEXIST);
    /* the same description under another fd (a dup) is another entry */
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 5, reader, EPOLLIN, 2), 0);
    assert_int_equal(ctl(epoll, 99, 3, reader, EPOLLIN, 1), -EINVAL);
    /* EPOLLEXCLUSIVE: ADD only, with few companions, never on an epoll */
    assert_int_equal(ctl(epoll, EPOLL_CTL_MOD, 3, reader, EPOLLIN | EPOLLEXCLUSIVE, 1), -EINVAL);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 6, eventfd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 1), -EINVAL);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 6, eventfd, EPOLLIN | EPOLLEXCLUSIVE | EPOLLET, 1), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_MOD, 6, eventfd, EPOLLIN, 1), -EINVAL);
    struct vfs_file *inner = new_epoll();
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 7, inner, EPOLLIN | EPOLLEXCLUSIVE, 1), -EINVAL);
    assert_int_equal(ctl(epoll, EPOLL_CTL_DEL, 5, reader, 0, 0), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_DEL, 5, reader, 0, 0), -ENOENT);

    struct stat attributes;
    assert_int_equal(vfs_fstat(epoll, &attributes), 0);
    assert_int_equal(attributes.st_mode, 0600);
    struct text_buffer name = {0};
    assert_int_equal(vfs_file_describe_path(epoll, NULL, &name), 0);
    assert_string_equal(name.data, "anon_inode:[eventpoll]");
    text_buffer_free(&name);
    char byte;
    assert_int_equal(vfs_read(epoll, &byte, 1), -EINVAL);

    vfs_file_put(inner);
    vfs_file_put(regular);
    vfs_path_put(&root);
    vfs_file_put(eventfd);
    vfs_file_put(reader);
    vfs_file_put(writer);
    vfs_file_put(epoll);
}

static void test_level_edge_oneshot(void **state)
{
    (void)state;
    struct vfs_file *epoll = new_epoll(), *level, *edge, *once;
    assert_int_equal(vfs_eventfd_create(0, 0, &level), 0);
    assert_int_equal(vfs_eventfd_create(0, 0, &edge), 0);
    assert_int_equal(vfs_eventfd_create(0, 0, &once), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 3, level, EPOLLIN, 30), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 4, edge, EPOLLIN | EPOLLET, 40), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 5, once, EPOLLIN | EPOLLONESHOT, 50), 0);
    struct epoll_event events[8];
    assert_int_equal(vfs_epoll_collect(epoll, events, 8), 0);
    assert_int_equal(vfs_poll(epoll, NULL), 0);
    uint64_t one = 1;
    assert_int_equal(vfs_write(level, &one, 8), 8);
    assert_int_equal(vfs_write(edge, &one, 8), 8);
    assert_int_equal(vfs_write(once, &one, 8), 8);
    assert_int_equal(vfs_poll(epoll, NULL), POLLIN | POLLRDNORM);
    assert_int_equal(vfs_epoll_collect(epoll, events, 8), 3);
    uint64_t seen = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(events[i].events, EPOLLIN);
        seen += events[i].data.u64;
    }
    assert_int_equal(seen, 120);
    /* level: again; edge: not until a new event; one-shot: not until re-armed */
    assert_int_equal(vfs_epoll_collect(epoll, events, 8), 1);
    assert_int_equal(events[0].data.u64, 30);
    /* a sleeper on the epoll re-queues every entry: that is no new edge */
    struct counting_waiter sleeper;
    waiter_init(&sleeper, POLLIN);
    assert_int_equal(ctl(epoll, EPOLL_CTL_DEL, 3, level, 0, 0), 0);
    assert_int_equal(vfs_poll(epoll, &sleeper.base), 0);
    waiter_remove(&sleeper.base);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 3, level, EPOLLIN, 30), 0);
    assert_int_equal(vfs_epoll_collect(epoll, events, 8), 1);
    assert_int_equal(vfs_write(edge, &one, 8), 8);
    assert_int_equal(vfs_write(once, &one, 8), 8);
    assert_int_equal(vfs_epoll_collect(epoll, events, 8), 2);
    assert_int_equal(events[0].data.u64 + events[1].data.u64, 70);
    assert_int_equal(ctl(epoll, EPOLL_CTL_MOD, 5, once, EPOLLIN | EPOLLONESHOT, 51), 0);
    assert_int_equal(vfs_epoll_collect(epoll, events, 8), 2);
    assert_int_equal(events[0].data.u64 + events[1].data.u64, 81);
    /* EPOLLERR and EPOLLHUP are always reported: a pipe whose writer is gone */
    struct vfs_file *reader, *writer;
    assert_int_equal(vfs_pipe_create(0, &reader, &writer), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 6, reader, EPOLLOUT, 60), 0);
    vfs_file_put(writer);
    vfs_file_put(level);
    vfs_file_put(once);
    assert_int_equal(vfs_epoll_collect(epoll, events, 8), 1);
    assert_int_equal(events[0].events, EPOLLHUP);
    assert_int_equal(events[0].data.u64, 60);
    vfs_file_put(reader);
    vfs_file_put(edge);
    vfs_file_put(epoll);
}

static void test_fairness(void **state)
{
    (void)state;
    struct vfs_file *epoll = new_epoll(), *files[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vfs_eventfd_create(1, 0, &files[i]), 0);
        assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, i, files[i], EPOLLIN, (uint64_t)i), 0);
    }
    struct epoll_event events[2];
    assert_int_equal(vfs_epoll_collect(epoll, events, 2), 2);
    assert_int_equal(events[0].data.u64, 0);
    assert_int_equal(events[1].data.u64, 1);
    assert_int_equal(vfs_epoll_collect(epoll, events, 2), 2);
    assert_int_equal(events[0].data.u64, 2);
    assert_int_equal(events[1].data.u64, 0);
    for (int i = 0; i < 3; i++)
        vfs_file_put(files[i]);
    vfs_file_put(epoll);
}

static void test_wakeups_and_lifetime(void **state)
{
    (void)state;
    struct vfs_file *epoll = new_epoll(), *reader, *writer;
    assert_int_equal(vfs_pipe_create(0, &reader, &writer), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 3, reader, EPOLLIN, 7), 0);
    struct counting_waiter sleeper;
    waiter_init(&sleeper, POLLIN);
    assert_int_equal(vfs_poll(epoll, &sleeper.base), 0);
    assert_int_equal(vfs_write(writer, "x", 1), 1);
    assert_int_equal(sleeper.wakes, 1);
    /* output space is no news for a reader's entry */
    char byte;
    assert_int_equal(vfs_read(reader, &byte, 1), 1);
    assert_int_equal(sleeper.wakes, 1);
    waiter_remove(&sleeper.base);

    /* the interest list does not hold the description: the last close removes it, and the reader sees EOF */
    vfs_file_get(reader); /* as if the fd were closed but a dup lived on */
    vfs_file_put(reader);
    assert_int_equal(vfs_write(writer, "y", 1), 1);
    struct epoll_event events[4];
    assert_int_equal(vfs_epoll_collect(epoll, events, 4), 1);
    vfs_file_put(reader);
    assert_int_equal(vfs_epoll_collect(epoll, events, 4), 0);
    assert_int_equal(ctl(epoll, EPOLL_CTL_ADD, 4, writer, EPOLLOUT, 8), 0);
    /* an epoll that dies first leaves its targets clean */
    vfs_file_put(epoll);
    assert_int_equal(vfs_write(writer, "z", 1), -EPIPE);
    vfs_file_put(writer);
}

static void test_nesting(void **state)
{
    (void)state;
    struct vfs_file *outer = new_epoll(), *inner = new_epoll(), *eventfd;
    assert_int_equal(vfs_eventfd_create(0, 0, &eventfd), 0);
    assert_int_equal(ctl(inner, EPOLL_CTL_ADD, 3, eventfd, EPOLLIN, 1), 0);
    assert_int_equal(ctl(outer, EPOLL_CTL_ADD, 4, inner, EPOLLIN, 2), 0);
    assert_int_equal(ctl(inner, EPOLL_CTL_ADD, 5, outer, EPOLLIN, 3), -ELOOP);
    struct counting_waiter sleeper;
    waiter_init(&sleeper, POLLIN);
    vfs_poll(outer, &sleeper.base);
    uint64_t one = 1;
    assert_int_equal(vfs_write(eventfd, &one, 8), 8);
    assert_int_equal(sleeper.wakes, 1);
    waiter_remove(&sleeper.base);
    struct epoll_event events[2];
    assert_int_equal(vfs_epoll_collect(outer, events, 2), 1);
    assert_int_equal(events[0].events, EPOLLIN);
    assert_int_equal(events[0].data.u64, 2);

    /* a chain deeper than Linux's limit of nested epolls is refused: looking down from the epoll being added,
     * an epoll found more than EP_MAX_NESTS (4) levels below it is one too many */
    struct vfs_file *chain[10] = {0};
    chain[0] = new_epoll();
    int failed_at = 0;
    for (int i = 1; i < 10 && !failed_at; i++) {
        chain[i] = new_epoll();
        int error = ctl(chain[i], EPOLL_CTL_ADD, 3, chain[i - 1], EPOLLIN, 0);
        if (error) {
            assert_int_equal(error, -ELOOP);
            failed_at = i;
        }
    }
    assert_int_equal(failed_at, 7);
    for (int i = 0; i < 10; i++)
        if (chain[i])
            vfs_file_put(chain[i]);
    vfs_file_put(eventfd);
    vfs_file_put(outer);
    vfs_file_put(inner);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctl_errors),
        cmocka_unit_test(test_level_edge_oneshot),
        cmocka_unit_test(test_fairness),
        cmocka_unit_test(test_wakeups_and_lifetime),
        cmocka_unit_test(test_nesting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
