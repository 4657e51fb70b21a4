/* syscalls/fs.c: syscalls that name files by path: open and create, stat and statx, access, mkdir/mknod,
 * unlink/rename/link/symlink/readlink, chmod/chown/utimes, truncate, the cwd and root, umask, statfs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>

#include "syscalls/internal.h"

/* Linux's open flags, by their x86-64 values. */
#define LINUX_O_SYNC_ONLY 04000000 /* __O_SYNC */
#define LINUX_VALID_OPEN_FLAGS                                                                                  \
    (O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | LINUX_O_SYNC_ONLY | O_DSYNC | \
     O_ASYNC | O_DIRECT | LINUX_O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC | LINUX_O_PATH | \
     LINUX_O_TMPFILE_ONLY)
/* With O_PATH, only these flags mean anything; open() drops the rest, openat2() refuses them. */
#define LINUX_O_PATH_FLAGS (O_DIRECTORY | O_NOFOLLOW | LINUX_O_PATH | O_CLOEXEC)
#define LINUX_O_TMPFILE_MASK (LINUX_O_TMPFILE_ONLY | O_DIRECTORY | O_CREAT)
#define LINUX_S_IALLUGO 07777
#define LINUX_VALID_RESOLVE_FLAGS \
    (RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED)
#define OPEN_HOW_SIZE_VER0 24
/* struct statfs f_flags (ST_VALID says the others are meaningful). */
#define LINUX_ST_NOSUID 0x0002
#define LINUX_ST_NODEV 0x0004
#define LINUX_ST_NOEXEC 0x0008
#define LINUX_ST_VALID 0x0020
#define LINUX_ST_RELATIME 0x0400
/* Linux's MAXSYMLINKS: symlinks followed in one resolution before -ELOOP. */
#define SYMLINK_FOLLOW_MAX 40
#define UTIME_NSEC_VALID(nsec) ((nsec) == UTIME_NOW || (nsec) == UTIME_OMIT || ((nsec) >= 0 && (nsec) < 1000000000L))

/* ---- path arguments ---- */

/* A path argument of a *at() syscall with the directory it starts from. */
struct at_path {
    char path[PATH_MAX];
    struct vfs_file *dir; /* NULL: the cwd (or the root, for an absolute path) */
};

/* Copies the path in (-EFAULT, -ENAMETOOLONG, -ENOENT when empty unless allow_empty) and looks dirfd up. An
 * empty path from AT_FDCWD names the cwd, which is what "." says to the VFS. */
static long at_path_get(struct task *task, int dirfd, uint64_t address, bool allow_empty, struct at_path *out)
{
    out->dir = NULL;
    long length = task_copy_path_in(task, address, out->path, allow_empty);
    if (length < 0)
        return length;
    if (out->path[0] == '\0' && dirfd == AT_FDCWD)
        strcpy(out->path, ".");
    return syscall_get_start_directory(task, dirfd, out->path, &out->dir);
}

static void at_path_put(struct at_path *at)
{
    if (at->dir)
        vfs_file_put(at->dir);
    at->dir = NULL;
}

/* AT_EMPTY_PATH on a file descriptor: the operation applies to dirfd's file itself. */
static bool at_path_is_fd_itself(const struct at_path *at) { return at->path[0] == '\0'; }

/* ---- RESOLVE_* for openat2: a walk one component at a time ----
 * The VFS resolves whole paths and knows no RESOLVE_* rules, so openat2 walks the path here: every symlink is
 * read and spliced in by this code (which is where NO_SYMLINKS, BENEATH and IN_ROOT apply), every step is
 * checked for a change of device (NO_XDEV), and the VFS finally opens a path with no symlink left in it. The
 * Sentry runs one syscall at a time, so nothing in the sandbox can change the tree during the walk. */

struct walk {
    char text[PATH_MAX];            /* the resolved path so far, relative to the start unless it begins with / */
    size_t length;
    size_t starts[PATH_MAX / 2];    /* where each component begins in text */
    size_t count;
    size_t parents;                 /* leading ".." components: a relative start left behind upward */
};

static void walk_reset(struct walk *walk, bool from_root)
{
    walk->length = from_root ? 1 : 0;
    walk->text[0] = '/';
    walk->text[walk->length] = '\0';
    walk->count = walk->parents = 0;
}

static int walk_push(struct walk *walk, const char *name, size_t name_length)
{
    size_t separator = walk->length > 0 && walk->text[walk->length - 1] != '/' ? 1 : 0;
    if (walk->length + separator + name_length + 1 > sizeof(walk->text))
        return -ENAMETOOLONG;
    walk->starts[walk->count++] = walk->length;
    if (separator)
        walk->text[walk->length++] = '/';
    memcpy(walk->text + walk->length, name, name_length);
    walk->length += name_length;
    walk->text[walk->length] = '\0';
    return 0;
}

static void walk_pop(struct walk *walk)
{
    walk->length = walk->starts[--walk->count];
    walk->text[walk->length] = '\0';
}

/* What the VFS should be asked about: "." for the start itself. */
static const char *walk_path(const struct walk *walk) { return walk->length ? walk->text : "."; }

static int walk_check_device(const struct vfs_context *ctx, struct vfs_file *dir, const struct walk *walk,
                             dev_t start_device)
{
    struct stat status;
    int error = vfs_stat_at(ctx, dir, walk_path(walk), 0, &status);
    if (error)
        return error;
    return status.st_dev == start_device ? 0 : -EXDEV;
}

/* Fills walk with a symlink-free path equivalent to path under the resolve rules, or returns -errno
 * (-EXDEV for an escape, -ELOOP for a forbidden or looping symlink). */
static int resolve_restricted(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, uint64_t resolve,
                              int open_flags, struct walk *walk)
{
    bool beneath = resolve & RESOLVE_BENEATH, in_root = resolve & RESOLVE_IN_ROOT;
    bool no_xdev = resolve & RESOLVE_NO_XDEV, no_symlinks = resolve & RESOLVE_NO_SYMLINKS;
    /* The rest of the path to walk: the argument, then symlink targets spliced in front of what is left. */
    char *pending = malloc(2 * PATH_MAX);
    char *spliced = malloc(2 * PATH_MAX);
    int error = 0;
    if (!pending || !spliced) {
        error = -ENOMEM;
        goto out;
    }
    strcpy(pending, path);

    struct stat status;
    dev_t start_device = 0;
    if (no_xdev) {
        error = vfs_stat_at(ctx, dir, ".", 0, &status);
        if (error)
            goto out;
        start_device = status.st_dev;
    }
    walk_reset(walk, false);
    int symlinks_followed = 0;
    size_t position = 0;
    bool at_start = true;
    for (;;) {
        if (pending[position] == '/' || (at_start && pending[0] == '/')) {
            if (at_start && pending[0] == '/') {
                /* An absolute path or symlink target: a jump to the root. */
                if (beneath) {
                    error = -EXDEV;
                    goto out;
                }
                walk_reset(walk, !in_root);
                if (no_xdev && (error = walk_check_device(ctx, dir, walk, start_device)))
                    goto out;
            }
            while (pending[position] == '/')
                position++;
        }
        at_start = false;
        if (pending[position] == '\0')
            break;
        const char *name = pending + position;
        size_t name_length = strcspn(name, "/");
        size_t after = position + name_length;
        bool trailing_slash = pending[after] == '/';
        size_t next = after;
        while (pending[next] == '/')
            next++;
        bool is_last = pending[next] == '\0';
        position = next;

        if (name_length == 1 && name[0] == '.')
            continue;
        if (name_length == 2 && name[0] == '.' && name[1] == '.') {
            if (walk->count > walk->parents) {
                walk_pop(walk);
            } else if (beneath) {
                error = -EXDEV;
                goto out;
            } else if (in_root || walk->text[0] == '/') {
                /* ".." at the root (or the IN_ROOT start) stays there, as in Linux. */
            } else {
                if ((error = walk_push(walk, "..", 2)))
                    goto out;
                walk->parents++;
            }
            if (no_xdev && (error = walk_check_device(ctx, dir, walk, start_device)))
                goto out;
            continue;
        }

        if ((error = walk_push(walk, name, name_length)))
            goto out;
        error = vfs_stat_at(ctx, dir, walk->text, AT_SYMLINK_NOFOLLOW, &status);
        if (error == -ENOENT && is_last) {
            error = 0; /* for O_CREAT to make, or for the open to report */
            break;
        }
        if (error)
            goto out;
        if (S_ISLNK(status.st_mode)) {
            if (is_last && !trailing_slash && (open_flags & O_NOFOLLOW))
                break; /* the open itself says what O_NOFOLLOW does with it */
            if (no_symlinks || ++symlinks_followed > SYMLINK_FOLLOW_MAX) {
                error = -ELOOP;
                goto out;
            }
            char target[PATH_MAX];
            ssize_t target_length = vfs_readlink_at(ctx, dir, walk->text, target, sizeof(target) - 1);
            if (target_length < 0) {
                error = (int)target_length;
                goto out;
            }
            walk_pop(walk);
            /* The target replaces the link; whatever followed the link follows the target. */
            const char *rest = pending + after;
            if ((size_t)target_length + strlen(rest) + 1 > 2 * PATH_MAX) {
                error = -ENAMETOOLONG;
                goto out;
            }
            memcpy(spliced, target, (size_t)target_length);
            strcpy(spliced + target_length, rest);
            strcpy(pending, spliced);
            position = 0;
            at_start = true;
            continue;
        }
        if (no_xdev && status.st_dev != start_device) {
            error = -EXDEV;
            goto out;
        }
        if (!is_last && !S_ISDIR(status.st_mode)) {
            error = -ENOTDIR;
            goto out;
        }
        if (is_last && trailing_slash) {
            /* Keep the slash, so the open still insists on a directory. */
            if (walk->length + 2 > sizeof(walk->text)) {
                error = -ENAMETOOLONG;
                goto out;
            }
            walk->text[walk->length++] = '/';
            walk->text[walk->length] = '\0';
        }
    }
out:
    free(pending);
    free(spliced);
    return error;
}

/* ---- open, openat, creat, openat2 ---- */

/* The open itself, once flags and mode are validated: resolve, open, install the fd. */
static long open_file(struct task *task, int dirfd, uint64_t path_address, int flags, uint32_t mode,
                      uint64_t resolve)
{
    struct at_path at;
    long result = at_path_get(task, dirfd, path_address, false, &at);
    if (result)
        goto out;
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    /* O_CLOEXEC belongs to the fd, not to the open file description (F_GETFL does not show it). */
    int file_flags = flags & ~O_CLOEXEC;
    struct vfs_file *file = NULL;
    if (resolve & ~(uint64_t)RESOLVE_NO_MAGICLINKS) {
        struct walk *walk = malloc(sizeof(*walk));
        if (!walk) {
            result = -ENOMEM;
            goto out;
        }
        result = resolve_restricted(&ctx, at.dir, at.path, resolve, flags, walk);
        if (!result)
            result = vfs_open_at(&ctx, at.dir, walk_path(walk), file_flags, mode, &file);
        free(walk);
    } else {
        result = vfs_open_at(&ctx, at.dir, at.path, file_flags, mode, &file);
    }
    if (result)
        goto out;
    result = vfs_fd_install(task_fd_table(task), file, 0, (flags & O_CLOEXEC) != 0,
                            task_rlimit_current(task, RLIMIT_NOFILE));
    vfs_file_put(file);
out:
    at_path_put(&at);
    return result;
}

/* build_open_flags(): the checks every open makes on flags and mode, before the path is even read. */
static long check_open_flags(uint64_t flags, uint64_t mode, bool strict)
{
    bool creates = (flags & O_CREAT) || (flags & LINUX_O_TMPFILE_ONLY);
    if (strict) {
        if (flags & ~(uint64_t)LINUX_VALID_OPEN_FLAGS)
            return -EINVAL;
        if (creates ? (mode & ~(uint64_t)LINUX_S_IALLUGO) != 0 : mode != 0)
            return -EINVAL;
        if ((flags & LINUX_O_PATH) && (flags & ~(uint64_t)LINUX_O_PATH_FLAGS))
            return -EINVAL;
    }
    if (flags & LINUX_O_TMPFILE_ONLY) {
        /* O_TMPFILE needs O_DIRECTORY, refuses O_CREAT, and makes no sense without write access. */
        if ((flags & LINUX_O_TMPFILE_MASK) != (LINUX_O_TMPFILE_ONLY | O_DIRECTORY))
            return -EINVAL;
        if ((flags & O_ACCMODE) != O_WRONLY && (flags & O_ACCMODE) != O_RDWR)
            return -EINVAL;
    }
    return 0;
}

/* open/openat/creat: unknown flags are ignored, the mode only counts when a file may be created, O_PATH drops
 * what it does not use, and a 64-bit kernel always adds O_LARGEFILE. */
static long open_legacy(struct task *task, int dirfd, uint64_t path_address, int flags, uint32_t mode)
{
    flags &= LINUX_VALID_OPEN_FLAGS;
    bool creates = (flags & O_CREAT) || (flags & LINUX_O_TMPFILE_ONLY);
    mode = creates ? mode & LINUX_S_IALLUGO : 0;
    if (flags & LINUX_O_PATH)
        flags &= LINUX_O_PATH_FLAGS;
    long error = check_open_flags((uint32_t)flags, mode, false);
    if (error)
        return error;
    if (flags & LINUX_O_SYNC_ONLY)
        flags |= O_DSYNC;
    return open_file(task, dirfd, path_address, flags | LINUX_O_LARGEFILE, mode, 0);
}

static SYSCALL_HANDLER(open)
{
    return open_legacy(task, AT_FDCWD, args->arg[0], syscall_argument_int(args, 1), (uint32_t)args->arg[2]);
}

static SYSCALL_HANDLER(openat)
{
    return open_legacy(task, syscall_argument_int(args, 0), args->arg[1], syscall_argument_int(args, 2),
                       (uint32_t)args->arg[3]);
}

static SYSCALL_HANDLER(creat)
{
    return open_legacy(task, AT_FDCWD, args->arg[0], O_CREAT | O_WRONLY | O_TRUNC, (uint32_t)args->arg[1]);
}

static SYSCALL_HANDLER(openat2)
{
    int dirfd = syscall_argument_int(args, 0);
    uint64_t how_address = args->arg[2], size = args->arg[3];
    struct open_how how = { 0 };
    if (size < OPEN_HOW_SIZE_VER0)
        return -EINVAL;
    if (size > PAGE_SIZE)
        return -E2BIG;
    if (task_copy_in(task, &how, how_address, MIN(size, (uint64_t)sizeof(how))) != 0)
        return -EFAULT;
    /* A newer caller's larger struct is fine as long as everything this kernel does not know is zero. */
    if (size > sizeof(how)) {
        unsigned char tail[PAGE_SIZE];
        size_t tail_length = (size_t)size - sizeof(how);
        if (task_copy_in(task, tail, how_address + sizeof(how), tail_length) != 0)
            return -EFAULT;
        for (size_t i = 0; i < tail_length; i++) {
            if (tail[i])
                return -E2BIG;
        }
    }
    if (!(how.flags & LINUX_O_PATH))
        how.flags |= LINUX_O_LARGEFILE;
    long error = check_open_flags(how.flags, how.mode, true);
    if (error)
        return error;
    if (how.resolve & ~(uint64_t)LINUX_VALID_RESOLVE_FLAGS)
        return -EINVAL;
    if ((how.resolve & RESOLVE_BENEATH) && (how.resolve & RESOLVE_IN_ROOT))
        return -EINVAL;
    /* RESOLVE_CACHED asks for a lookup that cannot block: never creating or truncating, and allowed to say
     * -EAGAIN whenever it cannot promise that, which is always here (the caller then retries without it). */
    if (how.resolve & RESOLVE_CACHED)
        return -EAGAIN;
    int flags = (int)how.flags;
    if (flags & LINUX_O_SYNC_ONLY)
        flags |= O_DSYNC;
    return open_file(task, dirfd, args->arg[1], flags, (uint32_t)how.mode, how.resolve);
}

/* ---- stat, lstat, newfstatat, statx ---- */

/* The status of what at names: dirfd's file itself for AT_EMPTY_PATH with an empty path. */
static long stat_at_path(struct task *task, const struct at_path *at, int flags, struct stat *status)
{
    if (at_path_is_fd_itself(at))
        return vfs_fstat(at->dir, status);
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    return vfs_stat_at(&ctx, at->dir, at->path, flags & AT_SYMLINK_NOFOLLOW, status);
}

static long stat_to_task(struct task *task, int dirfd, uint64_t path_address, int flags, uint64_t stat_address)
{
    struct at_path at;
    long result = at_path_get(task, dirfd, path_address, flags & AT_EMPTY_PATH, &at);
    if (!result) {
        struct stat status;
        result = stat_at_path(task, &at, flags, &status);
        if (!result && task_copy_out(task, stat_address, &status, sizeof(status)) != 0)
            result = -EFAULT;
    }
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(stat) { return stat_to_task(task, AT_FDCWD, args->arg[0], 0, args->arg[1]); }

static SYSCALL_HANDLER(lstat)
{
    return stat_to_task(task, AT_FDCWD, args->arg[0], AT_SYMLINK_NOFOLLOW, args->arg[1]);
}

static SYSCALL_HANDLER(newfstatat)
{
    int flags = syscall_argument_int(args, 3);
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    return stat_to_task(task, syscall_argument_int(args, 0), args->arg[1], flags, args->arg[2]);
}

static struct statx_timestamp statx_time(struct timespec time)
{
    return (struct statx_timestamp){ .tv_sec = time.tv_sec, .tv_nsec = (uint32_t)time.tv_nsec };
}

static SYSCALL_HANDLER(statx)
{
    int dirfd = syscall_argument_int(args, 0);
    int flags = syscall_argument_int(args, 2);
    uint32_t mask = (uint32_t)args->arg[3];
    if (mask & STATX__RESERVED)
        return -EINVAL;
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
        return -EINVAL;
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE))
        return -EINVAL;
    struct at_path at;
    long result = at_path_get(task, dirfd, args->arg[1], flags & AT_EMPTY_PATH, &at);
    struct stat status;
    if (!result)
        result = stat_at_path(task, &at, flags, &status);
    at_path_put(&at);
    if (result)
        return result;

    /* Everything struct stat holds, whatever was asked: the mask is a hint, stx_mask says what is valid. The
     * VFS knows no birth time nor mount id, so those are left out of stx_mask. */
    struct statx out = {
        .stx_mask = STATX_BASIC_STATS,
        .stx_blksize = (uint32_t)status.st_blksize,
        .stx_nlink = (uint32_t)status.st_nlink,
        .stx_uid = status.st_uid,
        .stx_gid = status.st_gid,
        .stx_mode = (uint16_t)status.st_mode,
        .stx_ino = status.st_ino,
        .stx_size = (uint64_t)status.st_size,
        .stx_blocks = (uint64_t)status.st_blocks,
        .stx_atime = statx_time(status.st_atim),
        .stx_ctime = statx_time(status.st_ctim),
        .stx_mtime = statx_time(status.st_mtim),
        .stx_rdev_major = major(status.st_rdev),
        .stx_rdev_minor = minor(status.st_rdev),
        .stx_dev_major = major(status.st_dev),
        .stx_dev_minor = minor(status.st_dev),
    };
    return task_copy_out(task, args->arg[4], &out, sizeof(out)) ? -EFAULT : 0;
}

/* ---- access, faccessat, faccessat2 ---- */

static long access_at(struct task *task, int dirfd, uint64_t path_address, int mode, int flags)
{
    if (mode & ~(R_OK | W_OK | X_OK))
        return -EINVAL;
    if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct at_path at;
    long result = at_path_get(task, dirfd, path_address, flags & AT_EMPTY_PATH, &at);
    if (!result) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        result = vfs_access_at(&ctx, at.dir, at.path, mode, flags);
    }
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(access) { return access_at(task, AT_FDCWD, args->arg[0], syscall_argument_int(args, 1), 0); }

static SYSCALL_HANDLER(faccessat)
{
    return access_at(task, syscall_argument_int(args, 0), args->arg[1], syscall_argument_int(args, 2), 0);
}

static SYSCALL_HANDLER(faccessat2)
{
    return access_at(task, syscall_argument_int(args, 0), args->arg[1], syscall_argument_int(args, 2),
                     syscall_argument_int(args, 3));
}

/* ---- mkdir, mkdirat, mknod, mknodat ---- */

static long make_directory(struct task *task, int dirfd, uint64_t path_address, uint32_t mode)
{
    struct at_path at;
    long result = at_path_get(task, dirfd, path_address, false, &at);
    if (!result) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        /* The VFS applies the umask (ctx.umask). */
        result = vfs_mkdir_at(&ctx, at.dir, at.path, mode & LINUX_S_IALLUGO);
    }
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(mkdir) { return make_directory(task, AT_FDCWD, args->arg[0], (uint32_t)args->arg[1]); }

static SYSCALL_HANDLER(mkdirat)
{
    return make_directory(task, syscall_argument_int(args, 0), args->arg[1], (uint32_t)args->arg[2]);
}

static long make_node(struct task *task, int dirfd, uint64_t path_address, uint32_t mode, uint32_t encoded_device)
{
    struct at_path at;
    long result = at_path_get(task, dirfd, path_address, false, &at);
    if (result)
        goto out;
    /* may_mknod(): a type of 0 means a regular file; directories have mkdir; anything else is unknown. */
    switch (mode & S_IFMT) {
    case 0:
        mode |= S_IFREG;
        break;
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK:
        break;
    case S_IFDIR:
        result = -EPERM;
        goto out;
    default:
        result = -EINVAL;
        goto out;
    }
    /* The syscall's dev is the kernel's 32-bit encoding: 12 bits of major, 20 of minor, interleaved. */
    unsigned int device_major = (encoded_device & 0xfff00) >> 8;
    unsigned int device_minor = (encoded_device & 0xff) | ((encoded_device >> 12) & 0xfff00);
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    result = vfs_mknod_at(&ctx, at.dir, at.path, (mode & S_IFMT) | (mode & LINUX_S_IALLUGO),
                          makedev(device_major, device_minor));
out:
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(mknod)
{
    return make_node(task, AT_FDCWD, args->arg[0], (uint32_t)args->arg[1], (uint32_t)args->arg[2]);
}

static SYSCALL_HANDLER(mknodat)
{
    return make_node(task, syscall_argument_int(args, 0), args->arg[1], (uint32_t)args->arg[2],
                     (uint32_t)args->arg[3]);
}

/* ---- rmdir, unlink, unlinkat ---- */

static long remove_at(struct task *task, int dirfd, uint64_t path_address, int flags)
{
    struct at_path at;
    long result = at_path_get(task, dirfd, path_address, false, &at);
    if (!result) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        result = vfs_unlink_at(&ctx, at.dir, at.path, flags);
    }
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(rmdir) { return remove_at(task, AT_FDCWD, args->arg[0], AT_REMOVEDIR); }

static SYSCALL_HANDLER(unlink) { return remove_at(task, AT_FDCWD, args->arg[0], 0); }

static SYSCALL_HANDLER(unlinkat)
{
    int flags = syscall_argument_int(args, 2);
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    return remove_at(task, syscall_argument_int(args, 0), args->arg[1], flags);
}

/* ---- rename, renameat, renameat2 ---- */

static long rename_at(struct task *task, int old_dirfd, uint64_t old_address, int new_dirfd, uint64_t new_address,
                      unsigned int flags)
{
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) && (flags & RENAME_EXCHANGE))
        return -EINVAL;
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    /* A whiteout is a device node: making one takes CAP_MKNOD. */
    if ((flags & RENAME_WHITEOUT) && !ctx.credentials->privileged)
        return -EPERM;
    struct at_path *paths = malloc(2 * sizeof(*paths));
    if (!paths)
        return -ENOMEM;
    paths[0].dir = paths[1].dir = NULL;
    long result = at_path_get(task, old_dirfd, old_address, false, &paths[0]);
    if (!result)
        result = at_path_get(task, new_dirfd, new_address, false, &paths[1]);
    if (!result)
        result = vfs_rename_at(&ctx, paths[0].dir, paths[0].path, paths[1].dir, paths[1].path, flags);
    at_path_put(&paths[0]);
    at_path_put(&paths[1]);
    free(paths);
    return result;
}

static SYSCALL_HANDLER(rename) { return rename_at(task, AT_FDCWD, args->arg[0], AT_FDCWD, args->arg[1], 0); }

static SYSCALL_HANDLER(renameat)
{
    return rename_at(task, syscall_argument_int(args, 0), args->arg[1], syscall_argument_int(args, 2), args->arg[3],
                     0);
}

static SYSCALL_HANDLER(renameat2)
{
    return rename_at(task, syscall_argument_int(args, 0), args->arg[1], syscall_argument_int(args, 2), args->arg[3],
                     (unsigned int)args->arg[4]);
}

/* ---- link, linkat, symlink, symlinkat ---- */

static long link_at(struct task *task, int old_dirfd, uint64_t old_address, int new_dirfd, uint64_t new_address,
                    int flags)
{
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    /* Linking a file by its fd alone takes CAP_DAC_READ_SEARCH; without it Linux answers as for no name. */
    if ((flags & AT_EMPTY_PATH) && !ctx.credentials->privileged)
        return -ENOENT;
    struct at_path *paths = malloc(2 * sizeof(*paths));
    if (!paths)
        return -ENOMEM;
    paths[0].dir = paths[1].dir = NULL;
    long result = at_path_get(task, old_dirfd, old_address, flags & AT_EMPTY_PATH, &paths[0]);
    if (!result)
        result = at_path_get(task, new_dirfd, new_address, false, &paths[1]);
    if (!result)
        result = vfs_link_at(&ctx, paths[0].dir, paths[0].path, paths[1].dir, paths[1].path, flags);
    at_path_put(&paths[0]);
    at_path_put(&paths[1]);
    free(paths);
    return result;
}

static SYSCALL_HANDLER(link) { return link_at(task, AT_FDCWD, args->arg[0], AT_FDCWD, args->arg[1], 0); }

static SYSCALL_HANDLER(linkat)
{
    return link_at(task, syscall_argument_int(args, 0), args->arg[1], syscall_argument_int(args, 2), args->arg[3],
                   syscall_argument_int(args, 4));
}

static long symlink_at(struct task *task, uint64_t target_address, int dirfd, uint64_t path_address)
{
    char *target = malloc(PATH_MAX);
    if (!target)
        return -ENOMEM;
    struct at_path at = { .dir = NULL };
    long result = task_copy_path_in(task, target_address, target, false);
    if (result >= 0)
        result = at_path_get(task, dirfd, path_address, false, &at);
    if (!result) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        result = vfs_symlink_at(&ctx, target, at.dir, at.path);
    }
    at_path_put(&at);
    free(target);
    return result;
}

static SYSCALL_HANDLER(symlink) { return symlink_at(task, args->arg[0], AT_FDCWD, args->arg[1]); }

static SYSCALL_HANDLER(symlinkat)
{
    return symlink_at(task, args->arg[0], syscall_argument_int(args, 1), args->arg[2]);
}

/* ---- readlink, readlinkat ---- */

static long read_link_at(struct task *task, int dirfd, uint64_t path_address, uint64_t buffer_address, int size)
{
    if (size <= 0)
        return -EINVAL;
    struct at_path at;
    /* readlinkat accepts an empty path: the link opened with O_PATH|O_NOFOLLOW at dirfd. */
    long result = at_path_get(task, dirfd, path_address, true, &at);
    if (result)
        goto out;
    if (dirfd == AT_FDCWD && strcmp(at.path, ".") == 0) {
        /* An empty path at the cwd: a directory, never a link; "." (given as such) is simply not a link. */
        result = -EINVAL;
        char first;
        if (task_copy_in(task, &first, path_address, 1) == 0 && first == '\0')
            result = -ENOENT;
        goto out;
    }
    char target[PATH_MAX];
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    ssize_t length = vfs_readlink_at(&ctx, at.dir, at.path, target, MIN((size_t)size, sizeof(target)));
    if (length < 0) {
        result = length;
        goto out;
    }
    result = task_copy_out(task, buffer_address, target, (size_t)length) ? -EFAULT : (long)length;
out:
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(readlink)
{
    return read_link_at(task, AT_FDCWD, args->arg[0], args->arg[1], syscall_argument_int(args, 2));
}

static SYSCALL_HANDLER(readlinkat)
{
    return read_link_at(task, syscall_argument_int(args, 0), args->arg[1], args->arg[2],
                        syscall_argument_int(args, 3));
}

/* ---- chmod, fchmodat, fchmodat2, chown, lchown, fchownat ---- */

static long change_mode_at(struct task *task, int dirfd, uint64_t path_address, uint32_t mode, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct at_path at;
    long result = at_path_get(task, dirfd, path_address, flags & AT_EMPTY_PATH, &at);
    if (!result) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        if (at_path_is_fd_itself(&at))
            result = vfs_fchmod(at.dir, ctx.credentials, mode & LINUX_S_IALLUGO);
        else
            result = vfs_chmod_at(&ctx, at.dir, at.path, mode & LINUX_S_IALLUGO, flags & AT_SYMLINK_NOFOLLOW);
    }
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(chmod) { return change_mode_at(task, AT_FDCWD, args->arg[0], (uint32_t)args->arg[1], 0); }

static SYSCALL_HANDLER(fchmodat)
{
    return change_mode_at(task, syscall_argument_int(args, 0), args->arg[1], (uint32_t)args->arg[2], 0);
}

static SYSCALL_HANDLER(fchmodat2)
{
    return change_mode_at(task, syscall_argument_int(args, 0), args->arg[1], (uint32_t)args->arg[2],
                          syscall_argument_int(args, 3));
}

static long change_owner_at(struct task *task, int dirfd, uint64_t path_address, uint32_t uid, uint32_t gid, int flags)
{
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct at_path at;
    long result = at_path_get(task, dirfd, path_address, flags & AT_EMPTY_PATH, &at);
    if (!result) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        if (at_path_is_fd_itself(&at))
            result = vfs_fchown(at.dir, ctx.credentials, uid, gid);
        else
            result = vfs_chown_at(&ctx, at.dir, at.path, uid, gid, flags & AT_SYMLINK_NOFOLLOW);
    }
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(chown)
{
    return change_owner_at(task, AT_FDCWD, args->arg[0], (uint32_t)args->arg[1], (uint32_t)args->arg[2], 0);
}

static SYSCALL_HANDLER(lchown)
{
    return change_owner_at(task, AT_FDCWD, args->arg[0], (uint32_t)args->arg[1], (uint32_t)args->arg[2],
                           AT_SYMLINK_NOFOLLOW);
}

static SYSCALL_HANDLER(fchownat)
{
    return change_owner_at(task, syscall_argument_int(args, 0), args->arg[1], (uint32_t)args->arg[2],
                           (uint32_t)args->arg[3], syscall_argument_int(args, 4));
}

/* ---- utimensat, utimes, futimesat, utime ---- */

/* do_utimes(): a NULL path with a real dirfd is futimens() on that fd; times NULL means now. */
static long set_times(struct task *task, int dirfd, uint64_t path_address, const struct timespec *times, int flags)
{
    if (times && (!UTIME_NSEC_VALID(times[0].tv_nsec) || !UTIME_NSEC_VALID(times[1].tv_nsec)))
        return -EINVAL;
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    if (path_address == 0 && dirfd != AT_FDCWD) {
        if (flags)
            return -EINVAL;
        struct vfs_file *file;
        long error = syscall_get_file(task, dirfd, false, &file);
        if (error)
            return error;
        error = vfs_utimens_at(&ctx, file, "", times, AT_EMPTY_PATH);
        vfs_file_put(file);
        return error;
    }
    if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    struct at_path at;
    long result = at_path_get(task, dirfd, path_address, flags & AT_EMPTY_PATH, &at);
    if (!result)
        result = vfs_utimens_at(&ctx, at.dir, at.path, times, flags);
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(utimensat)
{
    struct timespec times[2];
    uint64_t times_address = args->arg[2];
    if (times_address) {
        if (task_copy_in(task, times, times_address, sizeof(times)) != 0)
            return -EFAULT;
        /* Nothing to change: Linux does not even look at the path. */
        if (times[0].tv_nsec == UTIME_OMIT && times[1].tv_nsec == UTIME_OMIT)
            return 0;
    }
    return set_times(task, syscall_argument_int(args, 0), args->arg[1], times_address ? times : NULL,
                     syscall_argument_int(args, 3));
}

static long set_times_from_timevals(struct task *task, int dirfd, uint64_t path_address, uint64_t times_address)
{
    if (!times_address)
        return set_times(task, dirfd, path_address, NULL, 0);
    struct timeval values[2];
    if (task_copy_in(task, values, times_address, sizeof(values)) != 0)
        return -EFAULT;
    struct timespec times[2];
    for (int i = 0; i < 2; i++) {
        if (values[i].tv_usec < 0 || values[i].tv_usec >= 1000000)
            return -EINVAL;
        times[i] = (struct timespec){ .tv_sec = values[i].tv_sec, .tv_nsec = values[i].tv_usec * 1000 };
    }
    return set_times(task, dirfd, path_address, times, 0);
}

static SYSCALL_HANDLER(utimes) { return set_times_from_timevals(task, AT_FDCWD, args->arg[0], args->arg[1]); }

static SYSCALL_HANDLER(futimesat)
{
    return set_times_from_timevals(task, syscall_argument_int(args, 0), args->arg[1], args->arg[2]);
}

static SYSCALL_HANDLER(utime)
{
    uint64_t times_address = args->arg[1];
    if (!times_address)
        return set_times(task, AT_FDCWD, args->arg[0], NULL, 0);
    struct {
        int64_t access_time, modification_time; /* struct utimbuf */
    } value;
    if (task_copy_in(task, &value, times_address, sizeof(value)) != 0)
        return -EFAULT;
    struct timespec times[2] = { { .tv_sec = value.access_time }, { .tv_sec = value.modification_time } };
    return set_times(task, AT_FDCWD, args->arg[0], times, 0);
}

/* ---- truncate ---- */

static SYSCALL_HANDLER(truncate)
{
    int64_t length = (int64_t)args->arg[1];
    if (length < 0)
        return -EINVAL;
    char *path = malloc(PATH_MAX);
    if (!path)
        return -ENOMEM;
    long result = task_copy_path_in(task, args->arg[0], path, false);
    if (result >= 0) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        result = vfs_truncate_at(&ctx, path, (off_t)length);
    }
    free(path);
    return result;
}

/* ---- getcwd, chdir, fchdir, chroot, umask ---- */

static SYSCALL_HANDLER(getcwd)
{
    uint64_t address = args->arg[0], size = args->arg[1];
    char *path = malloc(PATH_MAX);
    if (!path)
        return -ENOMEM;
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    ssize_t length = vfs_getcwd(&ctx, path, PATH_MAX);
    long result = length;
    if (length >= 0) {
        /* The length counts the NUL; a buffer that cannot take it all gets nothing. */
        if ((uint64_t)length > size)
            result = -ERANGE;
        else if (task_copy_out(task, address, path, (size_t)length) != 0)
            result = -EFAULT;
    }
    free(path);
    return result;
}

static SYSCALL_HANDLER(chdir)
{
    struct at_path at;
    long result = at_path_get(task, AT_FDCWD, args->arg[0], false, &at);
    if (!result) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        struct vfs_path directory;
        result = vfs_resolve_directory(&ctx, NULL, at.path, &directory);
        if (!result)
            task_set_cwd(task, &directory);
    }
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(fchdir)
{
    struct vfs_file *file;
    long result = syscall_get_file(task, syscall_argument_int(args, 0), true, &file);
    if (result)
        return result;
    struct vfs_path directory;
    result = vfs_file_path(file, &directory);
    if (!result)
        task_set_cwd(task, &directory);
    vfs_file_put(file);
    return result;
}

static SYSCALL_HANDLER(chroot)
{
    struct at_path at;
    long result = at_path_get(task, AT_FDCWD, args->arg[0], false, &at);
    if (!result) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        struct vfs_path directory;
        /* Linux resolves (and checks search permission) first, then asks for CAP_SYS_CHROOT. */
        result = vfs_resolve_directory(&ctx, NULL, at.path, &directory);
        if (!result && !ctx.credentials->privileged) {
            vfs_path_put(&directory);
            result = -EPERM;
        }
        if (!result)
            task_set_root(task, &directory);
    }
    at_path_put(&at);
    return result;
}

static SYSCALL_HANDLER(umask) { return task_set_umask(task, (uint32_t)args->arg[0] & 0777); }

/* ---- statfs, fstatfs ---- */

/* The VFS reports no file-system statistics: describe the file system a path lives on from where it is, with
 * the magic numbers programs test for (/proc, /sys) and the in-memory upper layer's for the rest. */
static void describe_file_system(struct task *task, struct vfs_file *file, struct statfs *out)
{
    struct vfs_context ctx;
    task_vfs_context(task, &ctx);
    struct text_buffer where = { 0 };
    if (vfs_file_describe_path(file, &ctx, &where) != 0)
        where.length = 0;
    text_buffer_append_bytes(&where, "", 1);
    const char *path = where.data;

    static const struct {
        const char *prefix;
        long type;
        long extra_flags;
    } kinds[] = {
        { "/proc", PROC_SUPER_MAGIC, LINUX_ST_NOSUID | LINUX_ST_NODEV | LINUX_ST_NOEXEC },
        { "/sys", SYSFS_MAGIC, LINUX_ST_NOSUID | LINUX_ST_NODEV | LINUX_ST_NOEXEC },
        { "/dev/pts", DEVPTS_SUPER_MAGIC, LINUX_ST_NOSUID | LINUX_ST_NOEXEC },
        { "/dev", TMPFS_MAGIC, LINUX_ST_NOSUID },
        { "/tmp", TMPFS_MAGIC, LINUX_ST_NOSUID | LINUX_ST_NODEV },
        { "pipe:", PIPEFS_MAGIC, 0 },
        { "socket:", SOCKFS_MAGIC, 0 },
        { "anon_inode:", ANON_INODE_FS_MAGIC, 0 },
    };
    long type = OVERLAYFS_SUPER_MAGIC, extra_flags = 0;
    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        size_t length = strlen(kinds[i].prefix);
        bool path_kind = kinds[i].prefix[0] == '/';
        if (strncmp(path, kinds[i].prefix, length) == 0 &&
            (!path_kind || path[length] == '\0' || path[length] == '/')) {
            type = kinds[i].type;
            extra_flags = kinds[i].extra_flags;
            break;
        }
    }
    text_buffer_free(&where);

    struct stat status;
    if (vfs_fstat(file, &status) != 0)
        status.st_dev = 0;
    memset(out, 0, sizeof(*out));
    out->f_type = type;
    out->f_bsize = PAGE_SIZE;
    out->f_frsize = PAGE_SIZE;
    /* Pseudo file systems have no blocks; the others show 4 GiB, all free. */
    bool pseudo = type != OVERLAYFS_SUPER_MAGIC && type != TMPFS_MAGIC;
    out->f_blocks = pseudo ? 0 : 1048576;
    out->f_bfree = out->f_bavail = out->f_blocks;
    out->f_files = pseudo ? 0 : 1048576;
    out->f_ffree = pseudo ? 0 : 1048576 - 4096;
    memcpy(&out->f_fsid, (uint32_t[2]){ (uint32_t)status.st_dev, (uint32_t)((uint64_t)status.st_dev >> 32) },
           sizeof(out->f_fsid));
    out->f_namelen = NAME_MAX;
    out->f_flags = LINUX_ST_VALID | LINUX_ST_RELATIME | extra_flags;
}

static SYSCALL_HANDLER(statfs)
{
    struct at_path at;
    long result = at_path_get(task, AT_FDCWD, args->arg[0], false, &at);
    struct vfs_file *file = NULL;
    if (!result) {
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        /* O_PATH: like statfs(), this needs search permission on the way only, not access to the file. */
        result = vfs_open_at(&ctx, NULL, at.path, LINUX_O_PATH, 0, &file);
    }
    at_path_put(&at);
    if (result)
        return result;
    struct statfs status;
    describe_file_system(task, file, &status);
    vfs_file_put(file);
    return task_copy_out(task, args->arg[1], &status, sizeof(status)) ? -EFAULT : 0;
}

static SYSCALL_HANDLER(fstatfs)
{
    struct vfs_file *file;
    long result = syscall_get_file(task, syscall_argument_int(args, 0), true, &file);
    if (result)
        return result;
    struct statfs status;
    describe_file_system(task, file, &status);
    vfs_file_put(file);
    return task_copy_out(task, args->arg[1], &status, sizeof(status)) ? -EFAULT : 0;
}

const struct syscall_binding syscall_bindings_fs[] = {
    { 2, sys_open },
    { 4, sys_stat },
    { 6, sys_lstat },
    { 21, sys_access },
    { 76, sys_truncate },
    { 79, sys_getcwd },
    { 80, sys_chdir },
    { 81, sys_fchdir },
    { 82, sys_rename },
    { 83, sys_mkdir },
    { 84, sys_rmdir },
    { 85, sys_creat },
    { 86, sys_link },
    { 87, sys_unlink },
    { 88, sys_symlink },
    { 89, sys_readlink },
    { 90, sys_chmod },
    { 92, sys_chown },
    { 94, sys_lchown },
    { 95, sys_umask },
    { 132, sys_utime },
    { 133, sys_mknod },
    { 137, sys_statfs },
    { 138, sys_fstatfs },
    { 161, sys_chroot },
    { 235, sys_utimes },
    { 257, sys_openat },
    { 258, sys_mkdirat },
    { 259, sys_mknodat },
    { 260, sys_fchownat },
    { 261, sys_futimesat },
    { 262, sys_newfstatat },
    { 263, sys_unlinkat },
    { 264, sys_renameat },
    { 265, sys_linkat },
    { 266, sys_symlinkat },
    { 267, sys_readlinkat },
    { 268, sys_fchmodat },
    { 269, sys_faccessat },
    { 280, sys_utimensat },
    { 316, sys_renameat2 },
    { 332, sys_statx },
    { 437, sys_openat2 },
    { 439, sys_faccessat2 },
    { 452, sys_fchmodat2 },
    { -1, NULL },
};
