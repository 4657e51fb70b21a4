/* vfs: the Sentry's virtual file system: mounts, dentries, open file descriptions and fd tables, and the file
 * systems behind them (tmpfs, devfs, procfs, pipes, host-fd files, gofer-backed files, overlay root).
 * Every function is non-blocking: where Linux would sleep, it returns -EAGAIN and the caller waits on the
 * file's wait queue (vfs_poll) and retries. Errors are negative errno values, exactly as Linux returns them. */
#ifndef USANDBOX_VFS_H
#define USANDBOX_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/common.h"

struct gofer_client;
struct vfs_mount;
struct vfs_dentry;
struct vfs_file;
struct vfs_fd_table;

/* Who is asking: the task's file-system credentials. privileged = CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_CHOWN. */
struct vfs_credentials {
    uint32_t fsuid, fsgid;
    const uint32_t *groups;
    size_t group_count;
    bool privileged;
};

/* A location: a dentry as seen through a mount. Holds references when owned (vfs_path_get/put). */
struct vfs_path {
    struct vfs_mount *mount;
    struct vfs_dentry *dentry;
};
void vfs_path_get(struct vfs_path *path);
void vfs_path_put(struct vfs_path *path);  /* releases and clears */

/* Everything path resolution needs from the calling task; the paths are borrowed for the call. */
struct vfs_context {
    struct vfs_path root, cwd;
    const struct vfs_credentials *credentials;
    uint32_t umask;
    int32_t pid, tid;  /* the caller's sandbox pid and tid, for /proc/self and /proc/thread-self */
};

/* ---- set-up of the sandbox's mount tree ---- */
/* The root: gofer-served host tree (read-only underneath), with an in-memory upper layer when overlay is set:
 * writes, creations and deletions then live in Sentry memory and vanish with the sandbox. Without overlay,
 * read_only mounts the served tree read-only (an OCI root.readonly). */
int vfs_make_root(struct gofer_client *gofer, bool overlay, bool read_only, struct vfs_path *root_out);
/* A bind mount: the Gofer's tree attach_name (a directory or a single file) mounted at target, which is made
 * (directory or empty file) when missing. Writes reach the host unless read_only. */
int vfs_mount_gofer_tree(const struct vfs_context *ctx, struct gofer_client *gofer, const char *attach_name,
                         const char *target, bool read_only);
/* Mount a file system at target (resolved in ctx), creating the directory in the overlay if it is missing. */
int vfs_mount_tmpfs(const struct vfs_context *ctx, const char *target, uint32_t mode);
int vfs_mount_devfs(const struct vfs_context *ctx, const char *target);
struct vfs_procfs_provider;
int vfs_mount_procfs(const struct vfs_context *ctx, const char *target, const struct vfs_procfs_provider *provider);
int vfs_mount_sysfs(const struct vfs_context *ctx, const char *target);
/* An in-memory root (a tmpfs, no Gofer): for tests and tools that need a file system without a host tree. */
int vfs_make_tmpfs_root(uint32_t mode, struct vfs_path *root_out);
/* One line per mount, for /proc/self/mounts (mountinfo false) or /proc/self/mountinfo. */
void vfs_describe_mounts(const struct vfs_context *ctx, bool mountinfo, struct text_buffer *out);

/* ---- procfs: the Sentry provides the process-dependent content ----
 * Names are relative to /proc/PID: "cmdline", "environ", "status", "stat", "statm", "maps", "comm",
 * "mounts"; links "exe", "cwd", "root"; global files are asked with pid 0 and their path below /proc:
 * "cpuinfo", "meminfo", "uptime", "loadavg", "version", "stat", "sys/kernel/hostname",
 * "sys/kernel/osrelease", "sys/kernel/ostype", ... A callback returns 0 and fills out, or -errno
 * (-ENOENT: no such process or file). */
struct vfs_procfs_provider {
    size_t (*list_processes)(int32_t *pids, size_t max);  /* thread-group ids, ascending */
    size_t (*list_threads)(int32_t pid, int32_t *tids, size_t max);
    int (*read_file)(int32_t pid, const char *name, struct text_buffer *out);
    int (*read_link)(int32_t pid, const char *name, struct text_buffer *out);
    int (*list_fds)(int32_t pid, int *fds, size_t max, size_t *count);
    int (*read_fd_link)(int32_t pid, int fd, struct text_buffer *out);
    /* reopen /proc/PID/fd/N: a new reference to that open file description, or NULL */
    struct vfs_file *(*get_fd_file)(int32_t pid, int fd);
    int (*fd_close_on_exec)(int32_t pid, int fd); /* 1 or 0, or -errno */
};

/* ---- files: open file descriptions ---- */
void vfs_file_get(struct vfs_file *file);
void vfs_file_put(struct vfs_file *file);

/* dir is where a relative path starts (a directory file), or NULL for ctx->cwd. flags are open(2)'s. */
int vfs_open_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int flags, uint32_t mode,
                struct vfs_file **file_out);
/* For execve: a regular file the caller may execute, opened read-only; -EACCES otherwise. */
int vfs_open_for_exec(const struct vfs_context *ctx, const char *path, struct vfs_file **file_out);
/* execveat: path from dir (NULL: cwd); at_flags AT_EMPTY_PATH (path "" names dir itself) and
 * AT_SYMLINK_NOFOLLOW (a final symlink gives -ELOOP); others -EINVAL. */
int vfs_open_for_exec_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int at_flags,
                         struct vfs_file **file_out);
/* The host's stdio for the sandbox: reads poll first and return -EAGAIN when nothing is there. The file
 * works on its own duplicate of host_fd (closed with the file); NULL if host_fd cannot be duplicated. */
struct vfs_file *vfs_file_from_host_fd(int host_fd, int open_flags);
/* The Sentry calls this once: whenever a host-fd file returns -EAGAIN (or vfs_poll queues a waiter on one
 * that is not ready), watch(host_fd, events, queue) asks the event loop to poll host_fd for events and to
 * wait_queue_notify(queue, ready events) when it is ready. events == 0 means "forget every watch of this
 * host_fd and queue": the file is being closed and its queue freed. */
void vfs_set_host_fd_watcher(void (*watch)(int host_fd, uint32_t events, struct wait_queue *queue));
int vfs_pipe_create(int flags /* O_NONBLOCK, O_CLOEXEC ignored here, O_DIRECT */, struct vfs_file **read_end,
                    struct vfs_file **write_end);

ssize_t vfs_read(struct vfs_file *file, void *buffer, size_t length);
/* -EPIPE: caller sends SIGPIPE. On a pipe, a write of more than PIPE_BUF bytes takes what fits (a short count)
 * when there is some room; a blocking caller then waits and writes the rest, as Linux's blocking write does. */
ssize_t vfs_write(struct vfs_file *file, const void *buffer, size_t length);
ssize_t vfs_pread(struct vfs_file *file, void *buffer, size_t length, off_t offset);
ssize_t vfs_pwrite(struct vfs_file *file, const void *buffer, size_t length, off_t offset);
off_t vfs_lseek(struct vfs_file *file, off_t offset, int whence);
int vfs_fstat(struct vfs_file *file, struct stat *stat_out);
/* The memory-file pages holding [offset, offset + length) of a file, made as needed: an in-memory file's own
 * pages (writes_reach_file: every mapping and read/write see the same bytes), or a host file's cached copy
 * (shared by every read-only mapping of it, so executables and libraries are not copied at each exec).
 * Each piece holds a reference on its region for the caller; vfs_shared_pages_release drops what the caller
 * did not take over. -ENODEV when the file has no such pages (devices, files too big to cache); -ENOSPC
 * when the memory file is full. */
struct vfs_shared_piece {
    struct memory_region *region;
    uint64_t region_offset, length;
};
struct vfs_shared_pages {
    struct vfs_shared_piece *pieces;
    size_t count;
    bool writes_reach_file;
};
int vfs_file_map_shared(struct vfs_file *file, uint64_t offset, uint64_t length, struct vfs_shared_pages *out);
void vfs_shared_pages_release(struct vfs_shared_pages *pages);
ssize_t vfs_getdents64(struct vfs_file *file, void *buffer, size_t length); /* linux_dirent64 records */
int vfs_ftruncate(struct vfs_file *file, off_t length);
int vfs_fsync(struct vfs_file *file);
int vfs_fchmod(struct vfs_file *file, const struct vfs_credentials *credentials, uint32_t mode);
int vfs_fchown(struct vfs_file *file, const struct vfs_credentials *credentials, uint32_t uid, uint32_t gid);
/* Ready events now (POLLIN|POLLOUT|POLLHUP|POLLERR); when waiter is not NULL it is also queued on the file's
 * wait queue, to be woken on any change (remove it with waiter_remove). */
uint32_t vfs_poll(struct vfs_file *file, struct waiter *waiter);
/* The queue vfs_poll uses for this file (a pipe's two ends share their pipe's queue). */
struct wait_queue *vfs_file_wait_queue(struct vfs_file *file);
/* Terminal ioctls on host-fd files (TCGETS, TCSETS*, TIOCGWINSZ, TIOCGPGRP...); argument is a Sentry
 * buffer of the size the command needs. Anything else: -ENOTTY. */
int vfs_ioctl(struct vfs_file *file, unsigned long command, void *argument, size_t argument_size);
int vfs_file_status_flags(struct vfs_file *file);               /* O_ACCMODE|O_APPEND|O_NONBLOCK|... */
/* Open for reading / for writing (Linux's FMODE_READ/FMODE_WRITE): never an O_PATH file, nor one opened
 * with access mode 3 (ioctl only). */
bool vfs_file_readable(const struct vfs_file *file);
bool vfs_file_writable(const struct vfs_file *file);
int vfs_file_set_status_flags(struct vfs_file *file, int flags); /* F_SETFL: only O_APPEND|O_NONBLOCK|... */
bool vfs_file_is_directory(struct vfs_file *file);
/* The file's path as the caller sees it ("/tmp/x", "pipe:[12]", "/dev/null"), for /proc/PID/fd and getcwd. */
int vfs_file_describe_path(struct vfs_file *file, const struct vfs_context *ctx, struct text_buffer *out);

/* ---- signalfd (signalfd.c) ----
 * The Sentry owns the signals: a source answers for the thread that reads or polls (its own queue, then its
 * process's), as Linux's signalfd sees only what is pending for current. siginfo is a siginfo_t. */
struct vfs_signalfd_source {
    bool (*dequeue)(uint64_t mask, void *siginfo); /* take the lowest pending signal of mask, or false */
    bool (*pending)(uint64_t mask);
};
/* signalfd4 with fd -1: flags SFD_NONBLOCK|SFD_CLOEXEC (the last is the fd table's), others -EINVAL. mask: bit
 * (signal-1); SIGKILL and SIGSTOP are dropped from it silently, as Linux does. */
int vfs_signalfd_create(uint64_t mask, int flags, const struct vfs_signalfd_source *source, struct vfs_file **out);
bool vfs_file_is_signalfd(struct vfs_file *file);
int vfs_signalfd_set_mask(struct vfs_file *file, uint64_t mask); /* -EINVAL unless a signalfd */
/* A signal was queued somewhere: wake the readers and pollers of each signalfd whose mask has it. */
void vfs_signalfd_notify(int signal);

/* ---- inotify (inotify.c) ----
 * Events come from what the sandbox does through the VFS; changes made on the host behind the Gofer's back are
 * not seen. inotify_init1 flags: IN_NONBLOCK|IN_CLOEXEC (the last is the fd table's), others -EINVAL. */
int vfs_inotify_create(int flags, struct vfs_file **out);
bool vfs_file_is_inotify(struct vfs_file *file);
/* inotify_add_watch's first checks, before the fd is looked at: -EINVAL. */
int vfs_inotify_check_mask(uint32_t mask);
/* The watch descriptor (the same one again for an inode already watched), or -EINVAL (not an inotify file, bad
 * mask), -EEXIST (IN_MASK_CREATE), -EACCES, -ENOSPC and path resolution's errors. */
int vfs_inotify_add_watch(const struct vfs_context *ctx, struct vfs_file *inotify, const char *path, uint32_t mask);
int vfs_inotify_rm_watch(struct vfs_file *inotify, int32_t wd); /* -EINVAL: not inotify, unknown wd */

/* ---- event files, timers, epoll, memfd and locks (eventfd.c, timerfd.c, epoll.c, memfd.c, locks.c) ----
 * Their files are anonymous ("anon_inode:[eventfd]") except memfd's. Blocking is the caller's business as for
 * pipes: -EAGAIN, then wait on the file (vfs_poll) or, for locks, on vfs_lock_wait_queue. */
struct epoll_event;
struct itimerspec;
struct flock;
/* eventfd2: flags EFD_NONBLOCK|EFD_SEMAPHORE|EFD_CLOEXEC (the last is the fd table's); others -EINVAL. */
int vfs_eventfd_create(unsigned int initial_value, int flags, struct vfs_file **out);

/* timerfd_create: clock CLOCK_REALTIME, CLOCK_MONOTONIC or CLOCK_BOOTTIME (the *_ALARM clocks: -EPERM),
 * flags TFD_NONBLOCK|TFD_CLOEXEC. settime/gettime: -EINVAL when file is not a timerfd. settime checks its flags and
 * times first (-EINVAL), then file: NULL stands for a bad fd (-EBADF), as Linux orders these errors. */
int vfs_timerfd_create(int clock_id, int flags, struct vfs_file **out);
int vfs_timerfd_settime(struct vfs_file *file, int flags, const struct itimerspec *new_value,
                        struct itimerspec *old_value /* may be NULL */);
int vfs_timerfd_gettime(struct vfs_file *file, struct itimerspec *current_value);
bool vfs_file_is_timerfd(struct vfs_file *file);
/* The Sentry's event loop installs arm() once: a timerfd calls it whenever its next expiry changes, with the
 * expiry as a CLOCK_MONOTONIC deadline (0 = cancel); at the deadline the loop calls
 * wait_queue_notify(queue, POLLIN). Without it, expiries are still seen by every read and poll (from the clock),
 * only nobody is woken at the right time. */
void vfs_set_timer_hook(void (*arm)(struct wait_queue *queue, uint64_t deadline_monotonic_ns));

/* epoll_create1: flags EPOLL_CLOEXEC (the fd table's) or 0; others -EINVAL. */
int vfs_epoll_create(int flags, struct vfs_file **out);
bool vfs_file_is_epoll(struct vfs_file *file);
/* epoll_ctl on epoll for (target, fd): the interest list keys on the file description and the fd it was added
 * with, as Linux's. event is ignored for EPOLL_CTL_DEL. Errors as epoll_ctl(2): -EPERM (target cannot be polled),
 * -EINVAL, -EEXIST, -ENOENT, -ELOOP. */
int vfs_epoll_ctl(struct vfs_file *epoll, int operation, int fd, struct vfs_file *target,
                  const struct epoll_event *event);
/* The ready events, at most max, consuming edge-triggered and one-shot ones; 0 when nothing is ready (the
 * caller then waits on the epoll file itself, whose queue hears of every change of an interest file). */
int vfs_epoll_collect(struct vfs_file *epoll, struct epoll_event *events, int max);

/* memfd_create: an unlinked tmpfs file "memfd:NAME" opened read-write. flags MFD_CLOEXEC (the fd table's),
 * MFD_ALLOW_SEALING; MFD_HUGETLB: -ENOSYS (no hugetlbfs). name is at most 249 bytes (-EINVAL). */
int vfs_memfd_create(const char *name, unsigned int flags, const struct vfs_credentials *credentials,
                     struct vfs_file **out);
/* memfd_create's first check, before it reads the name: -EINVAL for unknown flags. */
int vfs_memfd_check_flags(unsigned int flags);

/* flock(2): operation LOCK_SH, LOCK_EX or LOCK_UN, optionally with LOCK_NB (ignored here); a conflict gives
 * -EWOULDBLOCK, after which a blocking caller waits on vfs_lock_wait_queue and retries. */
int vfs_flock(struct vfs_file *file, int operation);
/* fcntl record locks: command F_GETLK, F_SETLK, F_SETLKW (owned by owner_pid) or F_OFD_GETLK, F_OFD_SETLK,
 * F_OFD_SETLKW (owned by the file description); lock is fcntl's struct flock, updated for the GETLK commands.
 * A conflict gives -EAGAIN for the SETLK and SETLKW commands alike: a SETLKW caller waits and retries. */
int vfs_posix_lock(struct vfs_file *file, int32_t owner_pid, int command, struct flock *lock);
/* A process closed some fd of file (close, dup2 over it, exec, exit): its POSIX record locks on the file go. */
void vfs_posix_locks_release(struct vfs_file *file, int32_t owner_pid);
/* Where a task blocked by a lock on file's inode waits (notified with POLLIN on every unlock); NULL when no lock
 * is held there any more (retry at once). */
struct wait_queue *vfs_lock_wait_queue(struct vfs_file *file);

/* ---- pipes for splice, tee and vmsplice (pipe.c): the file is a pipe or fifo end ---- */
bool vfs_file_is_pipe(struct vfs_file *file);
struct vfs_pipe_status {
    size_t available, space;   /* bytes queued; bytes that fit */
    int readers, writers;      /* open ends */
    const void *identity;      /* the same for both ends of one pipe */
};
void vfs_pipe_status(struct vfs_file *file, struct vfs_pipe_status *status);
/* Copy up to length queued bytes without taking them (tee). */
size_t vfs_pipe_peek(struct vfs_file *file, void *buffer, size_t length);

/* ---- fallocate (fallocate.c): mode 0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE|KEEP_SIZE on regular files
 * that can be written; other modes -EOPNOTSUPP as Linux's tmpfs answers. Errors in Linux's order. ---- */
int vfs_fallocate(struct vfs_file *file, int mode, off_t offset, off_t length);

/* ---- pidfds (pidfd.c): the Sentry keeps one vfs_pidfd per process that has been asked for one, tells it
 * when the process exits (pidfds poll readable) and when it is reaped (which drops the process's reference). */
struct vfs_pidfd;
struct vfs_pidfd *vfs_pidfd_new(int32_t pid);
void vfs_pidfd_process_exited(struct vfs_pidfd *pidfd);
void vfs_pidfd_process_reaped(struct vfs_pidfd *pidfd);
int32_t vfs_pidfd_pid(const struct vfs_pidfd *pidfd); /* 0 once reaped */
/* flags: O_NONBLOCK (PIDFD_NONBLOCK) only; -EINVAL otherwise. The file takes its own reference. */
int vfs_pidfd_open(struct vfs_pidfd *pidfd, int flags, struct vfs_file **out);
struct vfs_pidfd *vfs_file_pidfd(struct vfs_file *file); /* borrowed; NULL unless a pidfd */

/* ---- path operations (dir: starting directory file or NULL for cwd; flags: AT_*) ---- */
int vfs_stat_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int flags,
                struct stat *stat_out);
int vfs_access_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int mode, int flags);
int vfs_mkdir_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, uint32_t mode);
int vfs_mknod_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, uint32_t mode, dev_t device);
int vfs_unlink_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int flags);
int vfs_rename_at(const struct vfs_context *ctx, struct vfs_file *old_dir, const char *old_path,
                  struct vfs_file *new_dir, const char *new_path, unsigned int flags);
ssize_t vfs_readlink_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, char *buffer,
                        size_t size);
int vfs_symlink_at(const struct vfs_context *ctx, const char *target, struct vfs_file *dir, const char *path);
int vfs_link_at(const struct vfs_context *ctx, struct vfs_file *old_dir, const char *old_path,
                struct vfs_file *new_dir, const char *new_path, int flags);
int vfs_chmod_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, uint32_t mode, int flags);
int vfs_chown_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, uint32_t uid, uint32_t gid,
                 int flags);
int vfs_utimens_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path,
                   const struct timespec times[2] /* NULL = now */, int flags);
int vfs_truncate_at(const struct vfs_context *ctx, const char *path, off_t length);
/* Resolve a directory the caller may search (chdir/chroot); returns a path holding references. */
int vfs_resolve_directory(const struct vfs_context *ctx, struct vfs_file *dir, const char *path,
                          struct vfs_path *out);
int vfs_file_path(struct vfs_file *file, struct vfs_path *out); /* fchdir: -ENOTDIR unless a directory */
/* getcwd: the path of cwd relative to root; -ENOENT if cwd was removed. Returns the length with the NUL. */
ssize_t vfs_getcwd(const struct vfs_context *ctx, char *buffer, size_t size);

/* ---- fd tables ---- */
struct vfs_fd_table *vfs_fd_table_new(void);
struct vfs_fd_table *vfs_fd_table_clone(struct vfs_fd_table *table);  /* fork: a copy sharing the files */
void vfs_fd_table_get(struct vfs_fd_table *table);                      /* CLONE_FILES */
void vfs_fd_table_put(struct vfs_fd_table *table);
/* Install at the lowest free fd >= minimum_fd below limit (RLIMIT_NOFILE); takes a new reference. */
int vfs_fd_install(struct vfs_fd_table *table, struct vfs_file *file, int minimum_fd, bool close_on_exec,
                   uint64_t limit);
/* dup2/dup3: put file at fd, closing what was there. */
int vfs_fd_install_at(struct vfs_fd_table *table, int fd, struct vfs_file *file, bool close_on_exec, uint64_t limit);
struct vfs_file *vfs_fd_get(struct vfs_fd_table *table, int fd);  /* a new reference, or NULL */
int vfs_fd_close(struct vfs_fd_table *table, int fd);
int vfs_fd_get_close_on_exec(struct vfs_fd_table *table, int fd);  /* 0/1 or -EBADF */
int vfs_fd_set_close_on_exec(struct vfs_fd_table *table, int fd, bool close_on_exec);
void vfs_fd_table_close_on_exec(struct vfs_fd_table *table);
int vfs_fd_next_open(struct vfs_fd_table *table, int from);  /* lowest open fd >= from, or -1 */

/* ---- AF_UNIX sockets (unix_socket.c) ----
 * Non-blocking like every vfs call: -EAGAIN where Linux would wait (the caller waits with vfs_poll). */
#include <sys/socket.h>
#include <sys/un.h>
struct vfs_unix_credentials {
    int32_t pid;
    uint32_t uid, gid;
};
struct vfs_unix_send {
    const void *data;
    size_t length;
    struct vfs_file *const *rights;   /* SCM_RIGHTS: files to pass (the message takes its own references) */
    size_t rights_count;
    const struct vfs_unix_credentials *credentials; /* SCM_CREDENTIALS, already validated; NULL: the socket's */
    const void *to;                    /* datagram destination (a sockaddr of the socket's family), or NULL */
    socklen_t to_length;
    const struct vfs_context *context; /* to resolve path names in to */
};
struct vfs_unix_receive {
    void *data;
    size_t length;
    int flags;                          /* MSG_PEEK, MSG_TRUNC */
    int message_flags;                  /* out: MSG_TRUNC */
    struct vfs_file **rights;           /* out: passed files, owned by the caller (free the array) */
    size_t rights_count;
    struct vfs_unix_credentials credentials;  /* out: the sender's */
    bool credentials_present;                 /* out: SO_PASSCRED is on */
    struct sockaddr_storage from;             /* out: the sender's name (or address) */
    socklen_t from_length;
};
bool vfs_file_is_unix_socket(struct vfs_file *file);
int vfs_unix_socket_create(int type, int flags, const struct vfs_unix_credentials *credentials, struct vfs_file **out);
int vfs_unix_socketpair(int type, int flags, const struct vfs_unix_credentials *credentials, struct vfs_file **first,
                        struct vfs_file **second);
int vfs_unix_bind(const struct vfs_context *ctx, struct vfs_file *socket, const struct sockaddr_un *address,
                  socklen_t length);
int vfs_unix_listen(struct vfs_file *socket, int backlog);
int vfs_unix_connect(const struct vfs_context *ctx, struct vfs_file *socket, const struct sockaddr_un *address,
                     socklen_t length);
int vfs_unix_accept(struct vfs_file *listener, int flags, struct vfs_file **out);
int vfs_unix_name(struct vfs_file *socket, bool peer, struct sockaddr_storage *address, socklen_t *length);
int vfs_unix_shutdown(struct vfs_file *socket, int how);
int vfs_unix_get_option(struct vfs_file *socket, int option, int *value, struct vfs_unix_credentials *peer);
int vfs_unix_set_option(struct vfs_file *socket, int option, int value);
ssize_t vfs_unix_send(struct vfs_file *socket, const struct vfs_unix_send *request);
ssize_t vfs_unix_receive(struct vfs_file *socket, struct vfs_unix_receive *request);

/* ---- IPv4/IPv6 sockets on the loopback interface only (inet_socket.c) ----
 * Same conventions as AF_UNIX; the send/receive requests are shared (rights and credentials unused). */
bool vfs_file_is_inet_socket(struct vfs_file *file);
int vfs_inet_socket_create(int family, int type, int protocol, int flags, uint32_t uid, struct vfs_file **out);
/* privileged: may bind ports below 1024 (CAP_NET_BIND_SERVICE). */
int vfs_inet_bind(struct vfs_file *socket, const void *address, socklen_t length, bool privileged);
int vfs_inet_listen(struct vfs_file *socket, int backlog);
/* -EINPROGRESS: still connecting (a blocking caller waits for POLLOUT and calls again). */
int vfs_inet_connect(struct vfs_file *socket, const void *address, socklen_t length, bool nonblocking);
int vfs_inet_accept(struct vfs_file *listener, int flags, struct vfs_file **out);
int vfs_inet_name(struct vfs_file *socket, bool peer, struct sockaddr_storage *address, socklen_t *length);
int vfs_inet_shutdown(struct vfs_file *socket, int how);
/* Option values as bytes, as the application passes them; *length in: room, out: written. */
int vfs_inet_get_option(struct vfs_file *socket, int level, int option, void *value, socklen_t *length);
int vfs_inet_set_option(struct vfs_file *socket, int level, int option, const void *value, socklen_t length);
ssize_t vfs_inet_send(struct vfs_file *socket, const struct vfs_unix_send *request);
ssize_t vfs_inet_receive(struct vfs_file *socket, struct vfs_unix_receive *request);
int vfs_inet_socket_type(struct vfs_file *socket);  /* SOCK_STREAM or SOCK_DGRAM */

/* ---- AF_NETLINK NETLINK_ROUTE: the loopback interface's links and addresses (netlink_socket.c) ---- */
bool vfs_file_is_netlink_socket(struct vfs_file *file);
int vfs_netlink_socket_create(int type, int protocol, int flags, struct vfs_file **out);
/* process: the caller's tgid, the first port id an automatic bind tries */
int vfs_netlink_bind(struct vfs_file *socket, const void *address, socklen_t length, int32_t process);
int vfs_netlink_connect(struct vfs_file *socket, const void *address, socklen_t length, int32_t process);
int vfs_netlink_name(struct vfs_file *socket, bool peer, struct sockaddr_storage *address, socklen_t *length);
ssize_t vfs_netlink_send(struct vfs_file *socket, const struct vfs_unix_send *request);
ssize_t vfs_netlink_receive(struct vfs_file *socket, struct vfs_unix_receive *request);
int vfs_netlink_get_option(struct vfs_file *socket, int level, int option, void *value, socklen_t *length);
int vfs_netlink_set_option(struct vfs_file *socket, int level, int option, const void *value, socklen_t length);

#endif
