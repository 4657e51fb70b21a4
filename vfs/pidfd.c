/* vfs/pidfd.c: pidfd files (pidfd_open): an fd naming one process, readable once it has exited. The
 * Sentry owns the process side and tells the shared vfs_pidfd object when the process exits and is reaped. */
#include <stdlib.h>

#include "vfs/internal.h"

struct vfs_pidfd {
    int references;         /* the process's own (until reaped) plus one per pidfd file */
    int32_t pid;            /* 0 once the process has been reaped */
    bool exited;
    struct wait_queue queue;
};

struct vfs_pidfd *vfs_pidfd_new(int32_t pid)
{
    struct vfs_pidfd *pidfd = xcalloc(1, sizeof(*pidfd));
    pidfd->references = 1;
    pidfd->pid = pid;
    wait_queue_init(&pidfd->queue);
    return pidfd;
}

static void pidfd_put(struct vfs_pidfd *pidfd)
{
    if (--pidfd->references == 0)
        free(pidfd);
}

void vfs_pidfd_process_exited(struct vfs_pidfd *pidfd)
{
    pidfd->exited = true;
    wait_queue_notify(&pidfd->queue, POLLIN | POLLRDNORM);
}

void vfs_pidfd_process_reaped(struct vfs_pidfd *pidfd)
{
    pidfd->exited = true;
    pidfd->pid = 0;
    wait_queue_notify(&pidfd->queue, POLLIN | POLLRDNORM | POLLHUP);
    pidfd_put(pidfd);
}

int32_t vfs_pidfd_pid(const struct vfs_pidfd *pidfd) { return pidfd->pid; }

static uint32_t pidfd_file_poll(struct vfs_file *file)
{
    struct vfs_pidfd *pidfd = file->private_data;
    uint32_t events = 0;
    if (pidfd->exited)
        events |= POLLIN | POLLRDNORM;
    if (pidfd->pid == 0)
        events |= POLLHUP;
    return events;
}

static void pidfd_file_release(struct vfs_file *file) { pidfd_put(file->private_data); }

static void pidfd_file_describe(struct vfs_file *file, struct text_buffer *out)
{
    (void)file;
    text_buffer_append(out, "anon_inode:[pidfd]");
}

/* No read or write: Linux's pidfd file has neither, so both give -EINVAL. */
static ssize_t pidfd_file_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)file, (void)buffer, (void)length, (void)offset;
    return -EINVAL;
}

static ssize_t pidfd_file_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    (void)file, (void)buffer, (void)length, (void)offset;
    return -EINVAL;
}

static const struct vfs_file_operations pidfd_file_operations = {
    .read = pidfd_file_read,
    .write = pidfd_file_write,
    .poll = pidfd_file_poll,
    .release = pidfd_file_release,
    .describe = pidfd_file_describe,
    .stream = true,
};

int vfs_pidfd_open(struct vfs_pidfd *pidfd, int flags, struct vfs_file **out)
{
    if (flags & ~O_NONBLOCK)
        return -EINVAL;
    struct vfs_inode *inode = vfs_anon_inode();
    struct vfs_file *file = vfs_file_new(NULL, inode, &pidfd_file_operations, O_RDWR | flags);
    vfs_inode_put(inode);
    pidfd->references++;
    file->private_data = pidfd;
    file->queue = &pidfd->queue;
    *out = file;
    return 0;
}

struct vfs_pidfd *vfs_file_pidfd(struct vfs_file *file)
{
    return file->ops == &pidfd_file_operations ? file->private_data : NULL;
}
