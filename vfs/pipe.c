/* vfs/pipe.c: pipes and the pipes behind named fifos: a 64 KiB ring with PIPE_BUF atomicity, EOF and EPIPE
 * when one side is gone, and wake-ups on the pipe's shared wait queue so blocked readers and writers retry. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vfs/internal.h"

#define PIPE_CAPACITY (64 * 1024)
#define PIPE_ATOMIC_SIZE 4096 /* PIPE_BUF */

struct vfs_pipe {
    int refcount; /* open ends, plus the fifo inode that owns it */
    uint8_t *ring;
    size_t head, count;
    int readers, writers;
    struct wait_queue queue;
    struct vfs_inode *inode; /* anonymous pipes: their pipefs inode */
};

static void pipe_evict_inode(struct vfs_inode *inode) { (void)inode; }
static const struct vfs_fs_type pipefs_type = {.name = "pipefs", .evict_inode = pipe_evict_inode};

/* All anonymous pipes share one superblock (one st_dev), as on Linux; it lives as long as the process. */
static struct vfs_superblock *pipefs_superblock(void)
{
    static struct vfs_superblock *superblock;
    if (!superblock)
        superblock = vfs_superblock_new(&pipefs_type, 0);
    return superblock;
}

struct vfs_pipe *vfs_pipe_new(void)
{
    struct vfs_pipe *pipe = xcalloc(1, sizeof(*pipe));
    pipe->refcount = 1;
    pipe->ring = xcalloc(1, PIPE_CAPACITY);
    wait_queue_init(&pipe->queue);
    return pipe;
}

void vfs_pipe_put(struct vfs_pipe *pipe)
{
    if (!pipe || --pipe->refcount > 0)
        return;
    LIST_FOR_EACH_SAFE(node, next, &pipe->queue.waiters) list_remove(node);
    if (pipe->inode)
        vfs_inode_put(pipe->inode);
    free(pipe->ring);
    free(pipe);
}

static struct vfs_pipe *pipe_of(struct vfs_file *file) { return file->private_data; }

static ssize_t pipe_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct vfs_pipe *pipe = pipe_of(file);
    if (length == 0)
        return 0;
    if (pipe->count == 0)
        return pipe->writers == 0 ? 0 : -EAGAIN;
    size_t total = MIN(length, pipe->count);
    size_t first = MIN(total, PIPE_CAPACITY - pipe->head);
    memcpy(buffer, pipe->ring + pipe->head, first);
    memcpy((uint8_t *)buffer + first, pipe->ring, total - first);
    pipe->head = (pipe->head + total) % PIPE_CAPACITY;
    pipe->count -= total;
    if (pipe->count == 0)
        pipe->head = 0;
    wait_queue_notify(&pipe->queue, POLLOUT | POLLWRNORM);
    return (ssize_t)total;
}

/* Writes of at most PIPE_BUF go in whole or not at all; larger ones take what fits (the caller retries the
 * rest when it blocks, as Linux's blocking write would). */
static ssize_t pipe_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct vfs_pipe *pipe = pipe_of(file);
    if (pipe->readers == 0)
        return -EPIPE;
    if (length == 0)
        return 0;
    size_t space = PIPE_CAPACITY - pipe->count;
    if (length <= PIPE_ATOMIC_SIZE ? space < length : space == 0)
        return -EAGAIN;
    size_t total = MIN(length, space);
    size_t tail = (pipe->head + pipe->count) % PIPE_CAPACITY;
    size_t first = MIN(total, PIPE_CAPACITY - tail);
    memcpy(pipe->ring + tail, buffer, first);
    memcpy(pipe->ring, (const uint8_t *)buffer + first, total - first);
    pipe->count += total;
    wait_queue_notify(&pipe->queue, POLLIN | POLLRDNORM);
    return (ssize_t)total;
}

static uint32_t pipe_poll(struct vfs_file *file)
{
    struct vfs_pipe *pipe = pipe_of(file);
    uint32_t events = 0;
    if (vfs_file_readable(file)) {
        if (pipe->count > 0)
            events |= POLLIN | POLLRDNORM;
        if (pipe->writers == 0)
            events |= POLLHUP;
    }
    if (vfs_file_writable(file)) {
        if (PIPE_CAPACITY - pipe->count >= PIPE_ATOMIC_SIZE)
            events |= POLLOUT | POLLWRNORM;
        if (pipe->readers == 0)
            events |= POLLERR;
    }
    return events;
}

static int pipe_ioctl(struct vfs_file *file, unsigned long command, void *argument, size_t argument_size)
{
    if (command != FIONREAD)
        return -ENOTTY;
    if (argument_size < sizeof(int))
        return -EFAULT;
    int available = (int)pipe_of(file)->count;
    memcpy(argument, &available, sizeof(available));
    return 0;
}

static void pipe_release(struct vfs_file *file)
{
    struct vfs_pipe *pipe = pipe_of(file);
    if (!pipe)
        return;
    uint32_t events = 0;
    if (vfs_file_readable(file) && --pipe->readers == 0)
        events |= POLLERR | POLLOUT | POLLWRNORM; /* writers learn of EPIPE */
    if (vfs_file_writable(file) && --pipe->writers == 0)
        events |= POLLHUP | POLLIN | POLLRDNORM; /* readers see EOF */
    file->queue = &file->own_queue;
    if (events)
        wait_queue_notify(&pipe->queue, events);
    vfs_pipe_put(pipe);
}

static int pipe_fsync(struct vfs_file *file)
{
    (void)file;
    return -EINVAL;
}

static const struct vfs_file_operations pipe_file_operations = {
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
    .fsync = pipe_fsync,
    .stream = true,
};

static void pipe_attach(struct vfs_pipe *pipe, struct vfs_file *file)
{
    pipe->refcount++;
    file->private_data = pipe;
    file->ops = &pipe_file_operations;
    file->queue = &pipe->queue;
    if (vfs_file_readable(file))
        pipe->readers++;
    if (vfs_file_writable(file))
        pipe->writers++;
}

int vfs_pipe_open_fifo(struct vfs_pipe *pipe, struct vfs_file *file)
{
    if ((file->flags & O_ACCMODE) == O_WRONLY && (file->flags & O_NONBLOCK) && pipe->readers == 0)
        return -ENXIO;
    pipe_attach(pipe, file);
    wait_queue_notify(&pipe->queue, POLLIN | POLLOUT);
    return 0;
}

int vfs_pipe_create(int flags, struct vfs_file **read_end, struct vfs_file **write_end)
{
    if (flags & ~(O_NONBLOCK | O_CLOEXEC | O_DIRECT))
        return -EINVAL;
    struct vfs_pipe *pipe = vfs_pipe_new();
    struct vfs_superblock *sb = pipefs_superblock();
    pipe->inode = vfs_inode_new(sb, S_IFIFO | 0600, NULL, NULL);
    int status = flags & (O_NONBLOCK | O_DIRECT);
    struct vfs_file *reader = vfs_file_new(NULL, pipe->inode, NULL, O_RDONLY | status);
    struct vfs_file *writer = vfs_file_new(NULL, pipe->inode, NULL, O_WRONLY | status);
    pipe_attach(pipe, reader);
    pipe_attach(pipe, writer);
    vfs_pipe_put(pipe); /* the ends hold it now */
    *read_end = reader;
    *write_end = writer;
    return 0;
}

/* ---- what splice, tee and vmsplice need to know of a pipe end ---- */

bool vfs_file_is_pipe(struct vfs_file *file) { return file->ops == &pipe_file_operations && file->private_data; }

void vfs_pipe_status(struct vfs_file *file, struct vfs_pipe_status *status)
{
    struct vfs_pipe *pipe = pipe_of(file);
    status->available = pipe->count;
    status->space = PIPE_CAPACITY - pipe->count;
    status->readers = pipe->readers;
    status->writers = pipe->writers;
    status->identity = pipe;
}

size_t vfs_pipe_peek(struct vfs_file *file, void *buffer, size_t length)
{
    struct vfs_pipe *pipe = pipe_of(file);
    size_t total = MIN(length, pipe->count);
    size_t first = MIN(total, PIPE_CAPACITY - pipe->head);
    memcpy(buffer, pipe->ring + pipe->head, first);
    memcpy((uint8_t *)buffer + first, pipe->ring, total - first);
    return total;
}
