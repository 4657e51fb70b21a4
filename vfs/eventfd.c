/* vfs/eventfd.c: eventfd files: a 64-bit counter that writes add to and reads take (all of it, or one in
 * semaphore mode), with Linux's overflow rule (the counter stays below 2^64-1) and wake-ups on its queue. */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "vfs/internal.h"

#define EVENTFD_COUNTER_MAX UINT64_MAX /* a write may bring the counter up to this minus one */

struct eventfd_counter {
    uint64_t counter;
    bool semaphore;
};

static struct eventfd_counter *eventfd_of(struct vfs_file *file) { return file->private_data; }

static ssize_t eventfd_file_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct eventfd_counter *eventfd = eventfd_of(file);
    if (length < sizeof(uint64_t))
        return -EINVAL;
    if (eventfd->counter == 0)
        return -EAGAIN;
    uint64_t value = eventfd->semaphore ? 1 : eventfd->counter;
    eventfd->counter -= value;
    memcpy(buffer, &value, sizeof(value));
    wait_queue_notify(file->queue, POLLOUT | POLLWRNORM);
    return sizeof(uint64_t);
}

static ssize_t eventfd_file_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct eventfd_counter *eventfd = eventfd_of(file);
    if (length < sizeof(uint64_t))
        return -EINVAL;
    uint64_t value;
    memcpy(&value, buffer, sizeof(value));
    /* 2^64-1 is reserved: Linux would use it to signal an overflow by other means */
    if (value == EVENTFD_COUNTER_MAX)
        return -EINVAL;
    if (EVENTFD_COUNTER_MAX - eventfd->counter <= value)
        return -EAGAIN;
    eventfd->counter += value;
    /* even a zero wakes: Linux's does, and an edge-triggered watcher of a non-zero counter sees an event */
    wait_queue_notify(file->queue, POLLIN | POLLRDNORM);
    return sizeof(uint64_t);
}

static uint32_t eventfd_file_poll(struct vfs_file *file)
{
    struct eventfd_counter *eventfd = eventfd_of(file);
    uint32_t events = 0;
    if (eventfd->counter > 0)
        events |= POLLIN | POLLRDNORM;
    if (eventfd->counter == EVENTFD_COUNTER_MAX)
        events |= POLLERR;
    if (eventfd->counter < EVENTFD_COUNTER_MAX - 1)
        events |= POLLOUT | POLLWRNORM;
    return events;
}

static void eventfd_file_release(struct vfs_file *file) { free(file->private_data); }

static void eventfd_file_describe(struct vfs_file *file, struct text_buffer *out)
{
    (void)file;
    text_buffer_append(out, "anon_inode:[eventfd]");
}

static const struct vfs_file_operations eventfd_file_operations = {
    .read = eventfd_file_read,
    .write = eventfd_file_write,
    .poll = eventfd_file_poll,
    .release = eventfd_file_release,
    .describe = eventfd_file_describe,
    .stream = true, /* anonymous files cannot seek (ESPIPE), as Linux's lack FMODE_LSEEK */
};

int vfs_eventfd_create(unsigned int initial_value, int flags, struct vfs_file **out)
{
    if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
        return -EINVAL;
    struct eventfd_counter *eventfd = xcalloc(1, sizeof(*eventfd));
    eventfd->counter = initial_value;
    eventfd->semaphore = (flags & EFD_SEMAPHORE) != 0;
    struct vfs_inode *inode = vfs_anon_inode();
    struct vfs_file *file = vfs_file_new(NULL, inode, &eventfd_file_operations, O_RDWR | (flags & EFD_NONBLOCK));
    vfs_inode_put(inode);
    file->private_data = eventfd;
    *out = file;
    return 0;
}
