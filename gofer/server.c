/* gofer/server.c: the Gofer's request loop and fid table; every host file operation the sandbox can cause
 * happens here, resolved one name at a time beneath the served root and never through a symlink. */
#include "gofer/gofer.h"

#include "common/common.h"
#include "gofer/protocol.h"
#include "gofer/transport.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The client picks fid numbers; this caps how many host fds a hostile client can make us hold. */
#define GOFER_MAX_FIDS 65536u
#define FID_BUCKETS 4096u
/* Entries per Rreaddir, beyond what the message size allows anyway. */
#define READDIR_MAX_ENTRIES 1024u

/* glibc 2.36 does not know fchmodat2 (Linux 6.6); new syscalls share one number on every architecture. */
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

struct fid_entry {
    struct fid_entry *next_in_bucket;
    uint32_t fid;
    int fd;  /* O_PATH|O_NOFOLLOW: the file itself; a symlink stays the symlink */
    mode_t type;
    bool kernel_interface;  /* the root of a host procfs/sysfs-like mount: its attributes only, nothing inside */
    const struct gofer_tree *tree;  /* which served tree the fid is in: its read-only flag, and no link or
                                     * rename across trees (they are different mounts in the sandbox) */
    dev_t device;
    ino_t inode;
    /* Without /proc an O_PATH fd of a non-directory cannot be turned into a readable one, so such a fid
     * remembers its directory (an O_PATH fd) and its name there, and reopening checks the inode is the same.
     * Directories reopen themselves through "." and need neither. */
    int parent_fd;
    dev_t parent_device;
    ino_t parent_inode;
    char *name;
    int directory_stream_fd;  /* a readable fd for getdents64, opened on the first readdir */
};

struct server {
    int socket_fd;
    const struct gofer_tree *trees;
    size_t tree_count;
    bool message_oriented;
    uint32_t max_message_size;
    size_t fid_count;
    struct fid_entry *buckets[FID_BUCKETS];
    struct protocol_message request, reply;
    uint8_t request_buffer[PROTOCOL_MAX_MESSAGE_SIZE];
    uint8_t reply_buffer[PROTOCOL_MAX_MESSAGE_SIZE];
    struct gofer_dirent readdir_entries[READDIR_MAX_ENTRIES];
    uint64_t getdents_buffer[4096];  /* uint64_t for struct dirent64's alignment */
};

/* ---- host helpers ---- */

/* Opens one name relative to directory_fd without following any symlink, not even the last one (with O_PATH
 * that yields the symlink itself). openat2 also refuses ".." and magic links; where it does not exist,
 * callers only ever pass single checked components, so openat with O_NOFOLLOW is just as confined. */
static int open_beneath(int directory_fd, const char *name, int flags, mode_t mode)
{
    static bool openat2_missing;
    flags |= O_NOFOLLOW | O_CLOEXEC;
    if (!openat2_missing) {
        struct open_how how = {
            .flags = (uint64_t)flags,
            .mode = (flags & O_CREAT) ? mode : 0,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, directory_fd, name, &how, sizeof(how));
        if (fd >= 0)
            return (int)fd;
        if (errno != ENOSYS)
            return -errno;
        openat2_missing = true;
    }
    int fd = openat(directory_fd, name, flags, mode);
    return fd < 0 ? -errno : fd;
}

/* procfs, sysfs and their kin are interfaces to the host kernel, not files: through them a compromised
 * Sentry could read other host processes' memory and environment or write kernel tunables. When the host's
 * own "/" is served they sit inside the root. The Sentry may walk to such a mount point (it mounts its own
 * procfs there, so it needs the directory's attributes), but nothing in it can be walked, listed or opened. */
static int refuse_kernel_interface(int fd)
{
    static const unsigned long kernel_interfaces[] = {
        PROC_SUPER_MAGIC, SYSFS_MAGIC,     DEBUGFS_MAGIC,  TRACEFS_MAGIC,       SECURITYFS_MAGIC,
        BPF_FS_MAGIC,     CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, EFIVARFS_MAGIC, PSTOREFS_MAGIC,
        SELINUX_MAGIC,    SMACK_MAGIC,     BINFMTFS_MAGIC, NSFS_MAGIC,
    };
    struct statfs filesystem;
    if (fstatfs(fd, &filesystem) < 0)
        return -errno;
    for (size_t i = 0; i < ARRAY_SIZE(kernel_interfaces); i++) {
        if ((unsigned long)filesystem.f_type == kernel_interfaces[i])
            return -EACCES;
    }
    return 0;
}

static int stat_fd(int fd, struct stat *status)
{
    return fstatat(fd, "", status, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

static void attr_from_stat(const struct stat *status, struct gofer_attr *attr)
{
    *attr = (struct gofer_attr){
        .inode = status->st_ino,
        .device = status->st_dev,
        .link_count = status->st_nlink,
        .size = (uint64_t)status->st_size,
        .blocks = (uint64_t)status->st_blocks,
        .raw_device = status->st_rdev,
        .mode = status->st_mode,
        .uid = status->st_uid,
        .gid = status->st_gid,
        .block_size = (uint32_t)status->st_blksize,
        .access_time = status->st_atim,
        .modify_time = status->st_mtim,
        .change_time = status->st_ctim,
    };
}

/* Ownership requested at creation is applied when the host lets us; an unprivileged Gofer cannot give files
 * away, and the attributes it replies with tell the Sentry the truth. */
static int apply_creation_owner(int fd, const char *name, uint32_t uid, uint32_t gid)
{
    if (uid == (uint32_t)-1 && gid == (uint32_t)-1)
        return 0;
    if (fchownat(fd, name, (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 || errno == EPERM)
        return 0;
    return -errno;
}

/* ---- fid table ---- */

static struct fid_entry **fid_slot(struct server *server, uint32_t fid)
{
    struct fid_entry **slot = &server->buckets[fid % FID_BUCKETS];
    while (*slot && (*slot)->fid != fid)
        slot = &(*slot)->next_in_bucket;
    return slot;
}

static struct fid_entry *fid_lookup(struct server *server, uint32_t fid) { return *fid_slot(server, fid); }

static int fid_check_unused(struct server *server, uint32_t fid)
{
    if (fid_lookup(server, fid))
        return -EEXIST;
    if (server->fid_count >= GOFER_MAX_FIDS)
        return -ENFILE;
    return 0;
}

static void fid_entry_free(struct fid_entry *entry)
{
    close(entry->fd);
    if (entry->parent_fd >= 0)
        close(entry->parent_fd);
    if (entry->directory_stream_fd >= 0)
        close(entry->directory_stream_fd);
    free(entry->name);
    free(entry);
}

/* Registers path_fd (an O_PATH fd reached as `name` in `directory`, or the root when directory is NULL)
 * under a fid the caller checked is unused. Takes path_fd in every case. */
static int fid_add(struct server *server, uint32_t fid, int path_fd, const struct gofer_tree *tree,
                   const struct fid_entry *directory, const char *name, struct gofer_attr *attr)
{
    struct stat status;
    int error = stat_fd(path_fd, &status);
    if (error) {
        close(path_fd);
        return error;
    }
    struct fid_entry *entry = calloc(1, sizeof(*entry));
    if (!entry) {
        close(path_fd);
        return -ENOMEM;
    }
    entry->fid = fid;
    entry->fd = path_fd;
    entry->tree = tree;
    entry->type = status.st_mode & S_IFMT;
    entry->device = status.st_dev;
    entry->inode = status.st_ino;
    entry->parent_fd = -1;
    entry->directory_stream_fd = -1;
    if (!S_ISDIR(status.st_mode) && directory) {
        entry->parent_fd = fcntl(directory->fd, F_DUPFD_CLOEXEC, 0);
        entry->name = strdup(name);
        if (entry->parent_fd < 0 || !entry->name) {
            error = entry->parent_fd < 0 ? -errno : -ENOMEM;
            fid_entry_free(entry);
            return error;
        }
        entry->parent_device = directory->device;
        entry->parent_inode = directory->inode;
    }
    struct fid_entry **slot = fid_slot(server, fid);
    entry->next_in_bucket = *slot;
    *slot = entry;
    server->fid_count++;
    if (attr)
        attr_from_stat(&status, attr);
    return 0;
}

static int fid_remove(struct server *server, uint32_t fid)
{
    struct fid_entry **slot = fid_slot(server, fid);
    struct fid_entry *entry = *slot;
    if (!entry)
        return -EBADF;
    *slot = entry->next_in_bucket;
    server->fid_count--;
    fid_entry_free(entry);
    return 0;
}

static void fid_remove_all(struct server *server)
{
    for (size_t bucket = 0; bucket < FID_BUCKETS; bucket++) {
        while (server->buckets[bucket]) {
            struct fid_entry *entry = server->buckets[bucket];
            server->buckets[bucket] = entry->next_in_bucket;
            fid_entry_free(entry);
        }
    }
    server->fid_count = 0;
}

static int lookup_directory(struct server *server, uint32_t fid, struct fid_entry **directory)
{
    *directory = fid_lookup(server, fid);
    if (!*directory)
        return -EBADF;
    if ((*directory)->kernel_interface)
        return -EACCES;
    return S_ISDIR((*directory)->type) ? 0 : -ENOTDIR;
}

/* A real (non-O_PATH) fd for the file behind entry. Symlinks are never opened and special files (devices,
 * fifos, sockets) are refused: opening them could reach host devices or block the Gofer. */
static int reopen_fid(const struct fid_entry *entry, int flags, int *opened_fd)
{
    if (entry->kernel_interface)
        return -EACCES;
    if (S_ISDIR(entry->type)) {
        int fd = open_beneath(entry->fd, ".", flags | O_DIRECTORY | O_NOCTTY, 0);
        if (fd < 0)
            return fd;
        *opened_fd = fd;
        return 0;
    }
    if (S_ISLNK(entry->type))
        return -ELOOP;
    if (!S_ISREG(entry->type))
        return -EACCES;
    if (entry->parent_fd < 0)
        return -ESTALE;
    /* O_NONBLOCK: should the name now be a fifo, opening it must not hang the Gofer. */
    int fd = open_beneath(entry->parent_fd, entry->name, flags | O_NONBLOCK | O_NOCTTY, 0);
    if (fd < 0)
        return fd;
    struct stat status;
    int error = stat_fd(fd, &status);
    if (!error && (!S_ISREG(status.st_mode) || status.st_dev != entry->device || status.st_ino != entry->inode))
        error = -ESTALE;  /* the name was replaced behind our back */
    if (!error && !(flags & O_NONBLOCK)) {
        int status_flags = fcntl(fd, F_GETFL);
        if (status_flags < 0 || fcntl(fd, F_SETFL, status_flags & ~O_NONBLOCK) < 0)
            error = -errno;
    }
    if (error) {
        close(fd);
        return error;
    }
    *opened_fd = fd;
    return 0;
}

/* ---- requests ----
 * Each handler fills server->reply's fields (the dispatcher sets type and tag) and returns 0 or -errno. */

static int handle_version(struct server *server, struct protocol_message *reply)
{
    const struct protocol_message *request = &server->request;
    if (strcmp(request->version.version, PROTOCOL_VERSION_STRING) != 0)
        return -EPROTONOSUPPORT;
    if (request->version.max_message_size < PROTOCOL_MIN_MESSAGE_SIZE)
        return -EINVAL;
    server->max_message_size = MIN(request->version.max_message_size, PROTOCOL_MAX_MESSAGE_SIZE);
    reply->version.max_message_size = server->max_message_size;
    strcpy(reply->version.version, PROTOCOL_VERSION_STRING);
    return 0;
}

static const struct gofer_tree *find_tree(const struct server *server, const char *name)
{
    if (name[0] == '\0')
        name = "/";
    for (size_t i = 0; i < server->tree_count; i++)
        if (strcmp(server->trees[i].name, name) == 0)
            return &server->trees[i];
    return NULL;
}

/* A tree that is a single file (a bind mount of /etc/hosts, say): its fid reopens through the directory
 * holding it, like any other non-directory, and only while that name still is the same file. */
static int attach_file_tree(struct server *server, const struct gofer_tree *tree, uint32_t fid,
                            struct gofer_attr *attr)
{
    struct stat parent_status, served, found;
    if (stat_fd(tree->parent_fd, &parent_status) < 0 || stat_fd(tree->fd, &served) < 0)
        return -ESTALE;
    int fd = open_beneath(tree->parent_fd, tree->file_name, O_PATH, 0);
    if (fd < 0)
        return fd;
    int error = stat_fd(fd, &found);
    if (!error && (found.st_dev != served.st_dev || found.st_ino != served.st_ino))
        error = -ESTALE;
    if (error) {
        close(fd);
        return error;
    }
    struct fid_entry parent = {.fd = tree->parent_fd, .device = parent_status.st_dev, .inode = parent_status.st_ino};
    return fid_add(server, fid, fd, tree, &parent, tree->file_name, attr);
}

static int handle_attach(struct server *server, struct protocol_message *reply)
{
    const struct protocol_message *request = &server->request;
    const struct gofer_tree *tree = find_tree(server, request->attach.name);
    if (!tree)
        return -ENOENT;
    int error = fid_check_unused(server, request->attach.fid);
    if (error)
        return error;
    if (tree->parent_fd >= 0)
        return attach_file_tree(server, tree, request->attach.fid, &reply->attr);
    int fd = open_beneath(tree->fd, ".", O_PATH | O_DIRECTORY, 0);
    if (fd < 0)
        return fd;
    error = refuse_kernel_interface(fd);
    if (error) {
        close(fd);
        return error;
    }
    return fid_add(server, request->attach.fid, fd, tree, NULL, NULL, &reply->attr);
}

static int handle_walk(struct server *server, struct protocol_message *reply)
{
    const struct protocol_message *request = &server->request;
    int error = protocol_check_name(request->walk.name);
    struct fid_entry *directory;
    if (!error)
        error = lookup_directory(server, request->walk.directory_fid, &directory);
    if (!error)
        error = fid_check_unused(server, request->walk.new_fid);
    if (error)
        return error;
    int fd = open_beneath(directory->fd, request->walk.name, O_PATH, 0);
    if (fd < 0)
        return fd;
    bool kernel_interface = refuse_kernel_interface(fd) == -EACCES;
    error = fid_add(server, request->walk.new_fid, fd, directory->tree, directory, request->walk.name, &reply->attr);
    if (!error && kernel_interface)
        fid_lookup(server, request->walk.new_fid)->kernel_interface = true;
    return error;
}

static int handle_getattr(struct server *server, struct protocol_message *reply)
{
    struct fid_entry *entry = fid_lookup(server, server->request.getattr.fid);
    if (!entry)
        return -EBADF;
    struct stat status;
    int error = stat_fd(entry->fd, &status);
    if (!error)
        attr_from_stat(&status, &reply->attr);
    return error;
}

static int change_mode(const struct fid_entry *entry, mode_t mode)
{
    if (S_ISLNK(entry->type))
        return -EOPNOTSUPP;  /* as fchmodat(AT_SYMLINK_NOFOLLOW) on Linux: symlinks have no mode */
    if (syscall(SYS_fchmodat2, entry->fd, "", mode, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != ENOSYS)
        return -errno;
    /* Older kernels: chmod through a real fd. "." of a directory cannot be a symlink. */
    if (S_ISDIR(entry->type))
        return fchmodat(entry->fd, ".", mode, 0) < 0 ? -errno : 0;
    int fd;
    int error = reopen_fid(entry, O_RDONLY, &fd);
    if (error == -EACCES)
        error = reopen_fid(entry, O_WRONLY, &fd);
    if (error)
        return error;
    error = fchmod(fd, mode) < 0 ? -errno : 0;
    close(fd);
    return error;
}

static int change_size(const struct fid_entry *entry, uint64_t size)
{
    if (S_ISDIR(entry->type))
        return -EISDIR;
    if (!S_ISREG(entry->type) || size > (uint64_t)INT64_MAX)
        return -EINVAL;
    int fd;
    int error = reopen_fid(entry, O_WRONLY, &fd);
    if (error)
        return error;
    error = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
    close(fd);
    return error;
}

static int change_times(const struct fid_entry *entry, const struct gofer_setattr *changes)
{
    struct timespec times[2] = {
        (changes->mask & GOFER_SETATTR_ACCESS_TIME) ? changes->access_time : (struct timespec){0, UTIME_OMIT},
        (changes->mask & GOFER_SETATTR_MODIFY_TIME) ? changes->modify_time : (struct timespec){0, UTIME_OMIT},
    };
    if (utimensat(entry->fd, "", times, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    /* Before Linux 5.8 utimensat had no AT_EMPTY_PATH; go through a real fd where one can be had. */
    if (errno != EINVAL || S_ISLNK(entry->type))
        return -errno;
    int fd;
    int error = reopen_fid(entry, O_RDONLY, &fd);
    if (error)
        return error;
    error = futimens(fd, times) < 0 ? -errno : 0;
    close(fd);
    return error;
}

static int handle_setattr(struct server *server)
{
    const struct protocol_message *request = &server->request;
    const struct gofer_setattr *changes = &request->setattr.changes;
    const uint32_t known = GOFER_SETATTR_MODE | GOFER_SETATTR_UID | GOFER_SETATTR_GID | GOFER_SETATTR_SIZE |
                           GOFER_SETATTR_ACCESS_TIME | GOFER_SETATTR_MODIFY_TIME;
    struct fid_entry *entry = fid_lookup(server, request->setattr.fid);
    if (!entry)
        return -EBADF;
    if (entry->tree->read_only)
        return -EROFS;
    if (entry->kernel_interface)
        return -EACCES;
    if (changes->mask & ~known)
        return -EINVAL;
    /* Owner first (chown clears set-id bits a following chmod may set again), times last (truncation
     * moves the modification time). */
    if (changes->mask & (GOFER_SETATTR_UID | GOFER_SETATTR_GID)) {
        uid_t uid = (changes->mask & GOFER_SETATTR_UID) ? (uid_t)changes->uid : (uid_t)-1;
        gid_t gid = (changes->mask & GOFER_SETATTR_GID) ? (gid_t)changes->gid : (gid_t)-1;
        if (fchownat(entry->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
            return -errno;
    }
    int error = 0;
    if (changes->mask & GOFER_SETATTR_MODE)
        error = change_mode(entry, (mode_t)(changes->mode & 07777));
    if (!error && (changes->mask & GOFER_SETATTR_SIZE))
        error = change_size(entry, changes->size);
    if (!error && (changes->mask & (GOFER_SETATTR_ACCESS_TIME | GOFER_SETATTR_MODIFY_TIME)))
        error = change_times(entry, changes);
    return error;
}

/* Open flags a client may ask for. O_CREAT, O_EXCL, O_PATH and O_TMPFILE are refused outright; anything
 * else unknown (O_LARGEFILE and the like) is dropped, and O_NOFOLLOW | O_CLOEXEC are always added. */
#define OPEN_ALLOWED_FLAGS \
    (O_ACCMODE | O_TRUNC | O_APPEND | O_DIRECTORY | O_NONBLOCK | O_DSYNC | O_SYNC | O_NOATIME | O_DIRECT)
#define OPEN_REFUSED_FLAGS (O_CREAT | O_EXCL | O_PATH | (O_TMPFILE & ~O_DIRECTORY))

static int check_open_flags(const struct fid_entry *entry, uint32_t flags)
{
    if (flags & OPEN_REFUSED_FLAGS)
        return -EINVAL;
    if ((flags & O_ACCMODE) == O_ACCMODE)
        return -EINVAL;
    if (entry->tree->read_only && ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC)))
        return -EROFS;
    return 0;
}

static int handle_open(struct server *server, int *donated_fd)
{
    const struct protocol_message *request = &server->request;
    struct fid_entry *entry = fid_lookup(server, request->open.fid);
    if (!entry)
        return -EBADF;
    int error = check_open_flags(entry, request->open.flags);
    if (error)
        return error;
    return reopen_fid(entry, (int)(request->open.flags & OPEN_ALLOWED_FLAGS), donated_fd);
}

static int handle_create(struct server *server, struct protocol_message *reply, int *donated_fd)
{
    const struct protocol_message *request = &server->request;
    int error = protocol_check_name(request->create.name);
    struct fid_entry *directory;
    if (!error)
        error = lookup_directory(server, request->create.directory_fid, &directory);
    if (!error && directory->tree->read_only)
        error = -EROFS;
    if (!error)
        error = fid_check_unused(server, request->create.new_fid);
    if (!error && (request->create.flags & (O_PATH | O_DIRECTORY | (O_TMPFILE & ~O_DIRECTORY))))
        error = -EINVAL;
    if (!error && (request->create.flags & O_ACCMODE) == O_ACCMODE)
        error = -EINVAL;
    if (error)
        return error;
    int flags = (int)(request->create.flags & OPEN_ALLOWED_FLAGS) | O_CREAT | O_EXCL | O_NOCTTY;
    const char *name = request->create.name;
    int fd = open_beneath(directory->fd, name, flags, (mode_t)(request->create.mode & 07777));
    if (fd < 0)
        return fd;
    error = apply_creation_owner(fd, "", request->create.uid, request->create.gid);
    int path_fd = error ? -1 : open_beneath(directory->fd, name, O_PATH, 0);
    if (!error && path_fd < 0)
        error = path_fd;
    if (!error)
        error = fid_add(server, request->create.new_fid, path_fd, directory->tree, directory, name, &reply->attr);
    if (!error) {
        struct stat status;
        if (fstat(fd, &status) < 0 || status.st_ino != reply->attr.inode || status.st_dev != reply->attr.device) {
            fid_remove(server, request->create.new_fid);
            error = -ESTALE;
        }
    }
    if (error) {
        close(fd);
        unlinkat(directory->fd, name, 0);  /* creation is all or nothing */
        return error;
    }
    *donated_fd = fd;
    return 0;
}

static int handle_mkdir(struct server *server, struct protocol_message *reply)
{
    const struct protocol_message *request = &server->request;
    int error = protocol_check_name(request->mkdir.name);
    struct fid_entry *directory;
    if (!error)
        error = lookup_directory(server, request->mkdir.directory_fid, &directory);
    if (!error && directory->tree->read_only)
        error = -EROFS;
    if (error)
        return error;
    const char *name = request->mkdir.name;
    if (mkdirat(directory->fd, name, (mode_t)(request->mkdir.mode & 07777)) < 0)
        return -errno;
    int fd = open_beneath(directory->fd, name, O_PATH | O_DIRECTORY, 0);
    error = fd < 0 ? fd : apply_creation_owner(fd, "", request->mkdir.uid, request->mkdir.gid);
    struct stat status;
    if (!error)
        error = stat_fd(fd, &status);
    if (fd >= 0)
        close(fd);
    if (error) {
        unlinkat(directory->fd, name, AT_REMOVEDIR);
        return error;
    }
    attr_from_stat(&status, &reply->attr);
    return 0;
}

static int handle_symlink(struct server *server, struct protocol_message *reply)
{
    const struct protocol_message *request = &server->request;
    int error = protocol_check_name(request->symlink.name);
    struct fid_entry *directory;
    if (!error)
        error = lookup_directory(server, request->symlink.directory_fid, &directory);
    if (!error && directory->tree->read_only)
        error = -EROFS;
    if (!error && request->symlink.target[0] == '\0')
        error = -ENOENT;  /* as symlink(2) */
    if (error)
        return error;
    const char *name = request->symlink.name;
    /* The target is stored, never resolved here: the Sentry follows symlinks on its own side. */
    if (symlinkat(request->symlink.target, directory->fd, name) < 0)
        return -errno;
    error = apply_creation_owner(directory->fd, name, request->symlink.uid, request->symlink.gid);
    struct stat status;
    if (!error && fstatat(directory->fd, name, &status, AT_SYMLINK_NOFOLLOW) < 0)
        error = -errno;
    if (error) {
        unlinkat(directory->fd, name, 0);
        return error;
    }
    attr_from_stat(&status, &reply->attr);
    return 0;
}

static int handle_link(struct server *server)
{
    const struct protocol_message *request = &server->request;
    int error = protocol_check_name(request->link.name);
    struct fid_entry *directory;
    if (!error)
        error = lookup_directory(server, request->link.directory_fid, &directory);
    if (!error && directory->tree->read_only)
        error = -EROFS;
    if (error)
        return error;
    struct fid_entry *target = fid_lookup(server, request->link.target_fid);
    if (!target)
        return -EBADF;
    if (target->tree != directory->tree)
        return -EXDEV;
    if (S_ISDIR(target->type))
        return -EPERM;  /* as link(2) */
    const char *name = request->link.name;
    if (linkat(target->fd, "", directory->fd, name, AT_EMPTY_PATH) == 0)
        return 0;
    /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; without it link by name (linkat without AT_SYMLINK_FOLLOW
     * does not follow a symlink) and check the name still meant our inode. */
    if (errno != ENOENT || target->parent_fd < 0)
        return -errno;
    if (linkat(target->parent_fd, target->name, directory->fd, name, 0) < 0)
        return -errno;
    struct stat status;
    if (fstatat(directory->fd, name, &status, AT_SYMLINK_NOFOLLOW) < 0 || status.st_ino != target->inode ||
        status.st_dev != target->device) {
        unlinkat(directory->fd, name, 0);
        return -ESTALE;
    }
    return 0;
}

static int handle_unlink(struct server *server)
{
    const struct protocol_message *request = &server->request;
    int error = protocol_check_name(request->unlink.name);
    struct fid_entry *directory;
    if (!error)
        error = lookup_directory(server, request->unlink.directory_fid, &directory);
    if (!error && directory->tree->read_only)
        error = -EROFS;
    if (!error && (request->unlink.flags & ~(uint32_t)AT_REMOVEDIR))
        error = -EINVAL;
    if (error)
        return error;
    return unlinkat(directory->fd, request->unlink.name, (int)request->unlink.flags) < 0 ? -errno : 0;
}

/* Non-directory fids find their file by (directory, name); after a rename those that named the moved
 * file must follow it. */
static void follow_rename(struct server *server, const struct fid_entry *old_directory, const char *old_name,
                          const struct fid_entry *new_directory, const char *new_name)
{
    for (size_t bucket = 0; bucket < FID_BUCKETS; bucket++) {
        for (struct fid_entry *entry = server->buckets[bucket]; entry; entry = entry->next_in_bucket) {
            if (entry->parent_fd < 0 || entry->parent_device != old_directory->device ||
                entry->parent_inode != old_directory->inode || strcmp(entry->name, old_name) != 0)
                continue;
            int parent_fd = fcntl(new_directory->fd, F_DUPFD_CLOEXEC, 0);
            char *name = strdup(new_name);
            if (parent_fd < 0 || !name) {
                /* Leave the fid as it was: reopening will find another inode or none and refuse. */
                if (parent_fd >= 0)
                    close(parent_fd);
                free(name);
                log_warning("fid %u could not follow a rename to %s", entry->fid, new_name);
                continue;
            }
            close(entry->parent_fd);
            free(entry->name);
            entry->parent_fd = parent_fd;
            entry->name = name;
            entry->parent_device = new_directory->device;
            entry->parent_inode = new_directory->inode;
        }
    }
}

static int handle_rename(struct server *server)
{
    const struct protocol_message *request = &server->request;
    int error = protocol_check_name(request->rename.old_name);
    if (!error)
        error = protocol_check_name(request->rename.new_name);
    struct fid_entry *old_directory, *new_directory;
    if (!error)
        error = lookup_directory(server, request->rename.old_directory_fid, &old_directory);
    if (!error)
        error = lookup_directory(server, request->rename.new_directory_fid, &new_directory);
    if (!error && old_directory->tree != new_directory->tree)
        error = -EXDEV;
    if (!error && old_directory->tree->read_only)
        error = -EROFS;
    if (error)
        return error;
    if (renameat(old_directory->fd, request->rename.old_name, new_directory->fd, request->rename.new_name) < 0)
        return -errno;
    follow_rename(server, old_directory, request->rename.old_name, new_directory, request->rename.new_name);
    return 0;
}

static int handle_readdir(struct server *server, struct protocol_message *reply)
{
    const struct protocol_message *request = &server->request;
    struct fid_entry *directory;
    int error = lookup_directory(server, request->readdir.fid, &directory);
    if (error)
        return error;
    if (request->readdir.max_entries == 0 || request->readdir.cookie > (uint64_t)INT64_MAX)
        return -EINVAL;
    if (directory->directory_stream_fd < 0) {
        error = reopen_fid(directory, O_RDONLY, &directory->directory_stream_fd);
        if (error) {
            directory->directory_stream_fd = -1;
            return error;
        }
    }
    int stream = directory->directory_stream_fd;
    /* Cookies are the host's d_off values, so every call can start from a plain seek. */
    if (lseek(stream, (off_t)request->readdir.cookie, SEEK_SET) < 0)
        return -errno;
    uint32_t limit = MIN(request->readdir.max_entries, READDIR_MAX_ENTRIES);
    size_t used = PROTOCOL_READDIR_REPLY_FIXED_SIZE;
    uint32_t count = 0;
    bool full = false;
    char *buffer = (char *)server->getdents_buffer;
    while (!full) {
        ssize_t length = getdents64(stream, buffer, sizeof(server->getdents_buffer));
        if (length < 0)
            return -errno;
        if (length == 0)
            break;
        for (ssize_t offset = 0; offset < length;) {
            const struct dirent64 *record = (const struct dirent64 *)(buffer + offset);
            offset += record->d_reclen;
            size_t name_length = strnlen(record->d_name, PROTOCOL_NAME_MAX + 1);
            if (name_length == 0 || name_length > PROTOCOL_NAME_MAX) {
                log_warning("readdir: skipping an entry whose name does not fit the protocol");
                continue;
            }
            size_t wire_size = protocol_dirent_size(name_length);
            if (count == limit || used + wire_size > server->max_message_size) {
                full = true;
                break;
            }
            struct gofer_dirent *entry = &server->readdir_entries[count++];
            entry->inode = record->d_ino;
            entry->next_cookie = (uint64_t)record->d_off;
            entry->type = record->d_type;
            memcpy(entry->name, record->d_name, name_length + 1);
            used += wire_size;
        }
    }
    reply->readdir_reply.count = count;
    reply->readdir_reply.entries = server->readdir_entries;
    return 0;
}

static int handle_readlink(struct server *server, struct protocol_message *reply)
{
    struct fid_entry *entry = fid_lookup(server, server->request.readlink.fid);
    if (!entry)
        return -EBADF;
    if (!S_ISLNK(entry->type))
        return -EINVAL;  /* as readlink(2) */
    char *target = reply->readlink_reply.target;
    ssize_t length = readlinkat(entry->fd, "", target, PROTOCOL_PATH_MAX + 1);
    if (length < 0)
        return -errno;
    if ((size_t)length > PROTOCOL_PATH_MAX)
        return -ENAMETOOLONG;
    target[length] = '\0';
    return 0;
}

static int dispatch(struct server *server, struct protocol_message *reply, int *donated_fd)
{
    switch (server->request.type) {
    case PROTOCOL_TVERSION: return handle_version(server, reply);
    case PROTOCOL_TATTACH: return handle_attach(server, reply);
    case PROTOCOL_TWALK: return handle_walk(server, reply);
    case PROTOCOL_TGETATTR: return handle_getattr(server, reply);
    case PROTOCOL_TSETATTR: return handle_setattr(server);
    case PROTOCOL_TOPEN: return handle_open(server, donated_fd);
    case PROTOCOL_TCREATE: return handle_create(server, reply, donated_fd);
    case PROTOCOL_TMKDIR: return handle_mkdir(server, reply);
    case PROTOCOL_TSYMLINK: return handle_symlink(server, reply);
    case PROTOCOL_TLINK: return handle_link(server);
    case PROTOCOL_TUNLINK: return handle_unlink(server);
    case PROTOCOL_TRENAME: return handle_rename(server);
    case PROTOCOL_TREADDIR: return handle_readdir(server, reply);
    case PROTOCOL_TREADLINK: return handle_readlink(server, reply);
    case PROTOCOL_TCLUNK: return fid_remove(server, server->request.clunk.fid);
    default: return -EPROTO;  /* a reply type, or Rerror, sent as a request */
    }
}

/* Turns the request in request_buffer[0..length) into an encoded reply; returns the reply's length. */
static size_t serve_one(struct server *server, size_t length, int *donated_fd)
{
    struct protocol_message *reply = &server->reply;
    memset(reply, 0, sizeof(*reply));
    *donated_fd = -1;
    int error = protocol_decode(server->request_buffer, length, &server->request);
    reply->tag = server->request.tag;  /* the framing was checked, so the header and its tag are good */
    if (!error) {
        reply->type = (uint8_t)(server->request.type + 1);
        error = dispatch(server, reply, donated_fd);
    }
    int encoded = error ? 0 : protocol_encode(reply, server->reply_buffer, server->max_message_size);
    if (encoded < 0) {
        log_error("cannot encode the reply to a type %u request: %s", server->request.type, strerror(-encoded));
        error = -EIO;
    }
    if (error) {
        if (*donated_fd >= 0)
            close(*donated_fd);
        *donated_fd = -1;
        log_debug("request type %u failed: %s", server->request.type, strerror(-error));
        *reply = (struct protocol_message){.type = PROTOCOL_RERROR, .tag = reply->tag, .error.error = (uint32_t)-error};
        encoded = protocol_encode(reply, server->reply_buffer, server->max_message_size);
    }
    return (size_t)encoded;
}

int gofer_serve(int socket_fd, int root_directory_fd, bool read_only)
{
    const struct gofer_tree root = {.name = "/", .fd = root_directory_fd, .parent_fd = -1, .read_only = read_only};
    return gofer_serve_trees(socket_fd, &root, 1);
}

int gofer_serve_trees(int socket_fd, const struct gofer_tree *trees, size_t tree_count)
{
    struct server *server = calloc(1, sizeof(*server));
    if (!server)
        return -ENOMEM;
    server->socket_fd = socket_fd;
    server->trees = trees;
    server->tree_count = tree_count;
    server->message_oriented = transport_is_message_oriented(socket_fd);
    server->max_message_size = PROTOCOL_MAX_MESSAGE_SIZE;
    /* Modes arrive with the guest's umask already applied by the Sentry; ours must not apply twice. */
    umask(0);
    int result;
    for (;;) {
        int fds[PROTOCOL_MAX_FDS];
        size_t fd_count;
        int length = transport_receive(socket_fd, server->message_oriented, server->request_buffer,
                                       sizeof(server->request_buffer), fds, &fd_count);
        transport_close_fds(fds, &fd_count);  /* the Sentry has no business donating fds to us */
        if (length == 0) {
            result = 0;
            break;
        }
        if (length < 0) {
            /* After a bad size the stream cannot be re-synchronised: hang up rather than guess. */
            log_warning("closing the Gofer connection: %s", strerror(-length));
            shutdown(socket_fd, SHUT_RDWR);
            result = length;
            break;
        }
        int donated_fd;
        size_t reply_length = serve_one(server, (size_t)length, &donated_fd);
        int error = transport_send(socket_fd, server->reply_buffer, reply_length, donated_fd);
        if (donated_fd >= 0)
            close(donated_fd);
        if (error) {
            log_warning("cannot send a Gofer reply: %s", strerror(-error));
            result = error;
            break;
        }
    }
    fid_remove_all(server);
    free(server);
    return result;
}
