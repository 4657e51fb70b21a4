/* vfs/hostfile.c: files over the Sentry's own host descriptors (the sandbox's stdio): reads that never block
 * the event loop, the watcher hook that tells the Sentry which host fd to wait for, and the terminal ioctls
 * an interactive program needs, passed through to the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vfs/internal.h"

/* Sizes of the kernel's ioctl structures (not glibc's struct termios, which is larger). */
#define KERNEL_TERMIOS_SIZE 36
#define KERNEL_WINSIZE_SIZE 8

struct host_file {
    int fd;
};

static void (*host_fd_watcher)(int host_fd, uint32_t events, struct wait_queue *queue);
/* The foreground process group as the sandbox sees it: host pgrp numbers mean nothing inside. */
static int32_t sandbox_foreground_pgrp = 1;

void vfs_set_host_fd_watcher(void (*watch)(int host_fd, uint32_t events, struct wait_queue *queue))
{
    host_fd_watcher = watch;
}

static int host_fd_of(struct vfs_file *file) { return ((struct host_file *)file->private_data)->fd; }

static void host_watch(struct vfs_file *file, uint32_t events)
{
    if (host_fd_watcher)
        host_fd_watcher(host_fd_of(file), events, file->queue);
}

static short host_ready(int fd, short events)
{
    struct pollfd poller = {.fd = fd, .events = events};
    for (;;) {
        int count = poll(&poller, 1, 0);
        if (count >= 0)
            return count ? poller.revents : 0;
        if (errno != EINTR)
            return POLLERR;
    }
}

static ssize_t host_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    int fd = host_fd_of(file);
    if (length == 0)
        return 0;
    if (!host_ready(fd, POLLIN)) {
        host_watch(file, POLLIN);
        return -EAGAIN;
    }
    for (;;) {
        ssize_t got = read(fd, buffer, length);
        if (got >= 0)
            return got;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            host_watch(file, POLLIN);
            return -EAGAIN;
        }
        return -errno;
    }
}

static ssize_t host_write(struct vfs_file *file, const void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    int fd = host_fd_of(file);
    for (;;) {
        ssize_t written = write(fd, buffer, length);
        if (written >= 0)
            return written;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            host_watch(file, POLLOUT);
            return -EAGAIN;
        }
        return -errno;
    }
}

static uint32_t host_poll(struct vfs_file *file)
{
    short wanted = 0;
    if (vfs_file_readable(file))
        wanted |= POLLIN | POLLRDNORM;
    if (vfs_file_writable(file))
        wanted |= POLLOUT | POLLWRNORM;
    return (uint32_t)(uint16_t)host_ready(host_fd_of(file), wanted);
}

static void host_prepare_wait(struct vfs_file *file, uint32_t events) { host_watch(file, events); }

static int host_ioctl_pass(int fd, unsigned long command, void *argument, size_t argument_size, size_t needed)
{
    if (argument_size < needed)
        return -EFAULT;
    if (ioctl(fd, command, argument) < 0)
        return -errno;
    return 0;
}

static int host_ioctl(struct vfs_file *file, unsigned long command, void *argument, size_t argument_size)
{
    int fd = host_fd_of(file);
    switch (command) {
    case TCGETS:
    case TCSETS:
    case TCSETSW:
    case TCSETSF: return host_ioctl_pass(fd, command, argument, argument_size, KERNEL_TERMIOS_SIZE);
    case TIOCGWINSZ:
    case TIOCSWINSZ: return host_ioctl_pass(fd, command, argument, argument_size, KERNEL_WINSIZE_SIZE);
    case FIONREAD: return host_ioctl_pass(fd, command, argument, argument_size, sizeof(int));
    case TIOCGPGRP: {
        if (argument_size < sizeof(int32_t))
            return -EFAULT;
        pid_t host_pgrp;
        if (ioctl(fd, TIOCGPGRP, &host_pgrp) < 0)
            return -errno;
        memcpy(argument, &sandbox_foreground_pgrp, sizeof(int32_t));
        return 0;
    }
    case TIOCSPGRP: {
        /* the host's foreground group stays the Sentry's; the sandbox keeps its own notion of it */
        if (argument_size < sizeof(int32_t))
            return -EFAULT;
        int32_t pgrp;
        memcpy(&pgrp, argument, sizeof(pgrp));
        if (pgrp < 0)
            return -EINVAL;
        pid_t host_pgrp;
        if (ioctl(fd, TIOCGPGRP, &host_pgrp) < 0)
            return -errno;
        sandbox_foreground_pgrp = pgrp;
        return 0;
    }
    default: return -ENOTTY;
    }
}

static void host_release(struct vfs_file *file)
{
    struct host_file *host = file->private_data;
    if (!host)
        return;
    /* events 0: the Sentry must forget any pending watch, whose queue dies with this file */
    if (host_fd_watcher)
        host_fd_watcher(host->fd, 0, file->queue);
    close(host->fd);
    free(host);
    file->private_data = NULL;
}

/* What /proc/PID/fd shows, as Linux names the same kinds of file: the Sentry cannot see host paths (it has no
 * /proc of the host), but pipes, sockets and terminals are named by what fstat says. */
static void host_describe(struct vfs_file *file, struct text_buffer *out)
{
    struct stat status;
    if (fstat(host_fd_of(file), &status) < 0) {
        text_buffer_append(out, "anon_inode:[hostfd]");
        return;
    }
    unsigned int device_major = major(status.st_rdev);
    if (S_ISFIFO(status.st_mode))
        text_buffer_append(out, "pipe:[%lu]", (unsigned long)status.st_ino);
    else if (S_ISSOCK(status.st_mode))
        text_buffer_append(out, "socket:[%lu]", (unsigned long)status.st_ino);
    else if (S_ISCHR(status.st_mode) && device_major >= 136 && device_major <= 143) /* UNIX98 pseudo-terminals */
        text_buffer_append(out, "/dev/pts/%u", (device_major - 136) * 256 + minor(status.st_rdev));
    else
        text_buffer_append(out, "anon_inode:[hostfd]");
}

static const struct vfs_file_operations host_file_operations = {
    .read = host_read,
    .write = host_write,
    .poll = host_poll,
    .ioctl = host_ioctl,
    .release = host_release,
    .prepare_wait = host_prepare_wait,
    .describe = host_describe,
    .stream = true,
};

static int host_getattr(struct vfs_inode *inode, struct stat *stat_out)
{
    struct host_file *host = inode->private_data;
    if (fstat(host->fd, stat_out) < 0)
        return -errno;
    return 0;
}

static const struct vfs_inode_operations host_inode_operations = {.getattr = host_getattr};
static void host_evict_inode(struct vfs_inode *inode) { (void)inode; }
static const struct vfs_fs_type hostfs_type = {.name = "hostfd", .evict_inode = host_evict_inode};

struct vfs_file *vfs_file_from_host_fd(int host_fd, int open_flags)
{
    static struct vfs_superblock *hostfs;
    if (!hostfs)
        hostfs = vfs_superblock_new(&hostfs_type, 0);
    /* our own descriptor: the sandbox closing its stdio must not close the Sentry's */
    int fd = fcntl(host_fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
        log_warning("vfs: cannot duplicate host fd %d: %d", host_fd, errno);
        return NULL;
    }
    struct stat attributes;
    uint32_t mode = S_IFCHR | 0620;
    if (fstat(fd, &attributes) == 0)
        mode = attributes.st_mode;
    struct host_file *host = xcalloc(1, sizeof(*host));
    host->fd = fd;
    struct vfs_inode *inode = vfs_inode_new(hostfs, mode, &host_inode_operations, &host_file_operations);
    inode->private_data = host;
    struct vfs_file *file = vfs_file_new(NULL, inode, &host_file_operations, open_flags);
    file->private_data = host;
    vfs_inode_put(inode);
    return file;
}
