/* vfs/namei.c: the path-based syscalls (open, stat, access, mkdir, mknod, unlink, rename, link, symlink,
 * readlink, chmod, chown, utimens, truncate, chdir support, getcwd) with Linux's checks in Linux's order. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>

#include "vfs/internal.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif

static const struct vfs_credentials *credentials_of(const struct vfs_context *ctx) { return ctx->credentials; }

/* Owner and mode of a new inode: the caller's fsuid; the directory's group and setgid bit when it has
 * S_ISGID (System V semantics), else the caller's fsgid. */
static void new_inode_attributes(const struct vfs_context *ctx, struct vfs_inode *dir, uint32_t mode,
                                 struct vfs_new_inode *out)
{
    const struct vfs_credentials *credentials = credentials_of(ctx);
    out->uid = credentials ? credentials->fsuid : 0;
    out->gid = credentials ? credentials->fsgid : 0;
    out->mode = mode;
    out->device = 0;
    if (dir->mode & S_ISGID) {
        out->gid = dir->gid;
        if (S_ISDIR(mode))
            out->mode |= S_ISGID;
    } else if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP) && !S_ISDIR(mode) && credentials &&
               !credentials->privileged && !vfs_credentials_in_group(credentials, dir->gid)) {
        out->mode &= ~(uint32_t)S_ISGID;
    }
}

/* may_create(): the directory still exists and the caller may write and search it. */
static int may_create(const struct vfs_context *ctx, const struct vfs_path *dir)
{
    if (dir->dentry->unlinked)
        return -ENOENT;
    return vfs_inode_permission(dir->dentry->inode, credentials_of(ctx), VFS_MAY_WRITE | VFS_MAY_EXEC);
}

/* may_delete(): write+search on the directory, the sticky-bit rule, the type the caller expects. */
static int may_delete(const struct vfs_context *ctx, const struct vfs_path *dir, struct vfs_dentry *victim,
                      bool expect_directory)
{
    const struct vfs_credentials *credentials = credentials_of(ctx);
    int error = vfs_inode_permission(dir->dentry->inode, credentials, VFS_MAY_WRITE | VFS_MAY_EXEC);
    if (error < 0)
        return error;
    struct vfs_inode *dir_inode = dir->dentry->inode;
    if ((dir_inode->mode & S_ISVTX) && credentials && !credentials->privileged &&
        credentials->fsuid != victim->inode->uid && credentials->fsuid != dir_inode->uid)
        return -EPERM;
    if (expect_directory && !S_ISDIR(victim->inode->mode))
        return -ENOTDIR;
    if (!expect_directory && S_ISDIR(victim->inode->mode))
        return -EISDIR;
    if (victim->mount_count)
        return -EBUSY;
    return 0;
}

/* Is path the root of some mount or the caller's root (which cannot be removed or renamed)? */
static bool is_busy_root(const struct vfs_context *ctx, struct vfs_dentry *dentry)
{
    return dentry->parent == NULL || dentry->mount_count > 0 || dentry == ctx->root.dentry;
}

/* filename_create(): the parent of a new name, with EEXIST/ENOENT/EROFS in Linux's order. */
static int prepare_create(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, bool directory,
                          struct vfs_resolved *out)
{
    int error = vfs_resolve_parent(ctx, dir, path, out);
    if (error < 0)
        return error;
    if (out->last_type != VFS_LAST_NORMAL) {
        vfs_resolved_release(out);
        return -EEXIST;
    }
    bool read_only = vfs_path_is_read_only(&out->parent);
    struct vfs_dentry *existing = NULL;
    error = vfs_dentry_lookup(out->parent.dentry, out->name, &existing);
    if (error == 0) {
        vfs_dentry_put(existing);
        vfs_resolved_release(out);
        return -EEXIST;
    }
    if (error != -ENOENT) {
        vfs_resolved_release(out);
        return error;
    }
    if (out->trailing_slash && !directory) {
        vfs_resolved_release(out);
        return -ENOENT;
    }
    if (read_only) {
        vfs_resolved_release(out);
        return -EROFS;
    }
    error = may_create(ctx, &out->parent);
    if (error < 0) {
        vfs_resolved_release(out);
        return error;
    }
    return 0;
}

/* A new dentry for a created inode, as a path in the parent's mount. */
static void finish_create(struct vfs_resolved *resolved, struct vfs_inode *inode, struct vfs_path *out)
{
    out->dentry = vfs_dentry_add(resolved->parent.dentry, resolved->name, inode);
    out->mount = resolved->parent.mount;
    vfs_mount_get(out->mount);
    vfs_inotify_created(resolved->parent.dentry, out->dentry);
}

static int at_flags_to_resolve(int at_flags, int allowed, int *resolve_flags)
{
    if (at_flags & ~allowed)
        return -EINVAL;
    *resolve_flags = 0;
    if (!(at_flags & AT_SYMLINK_NOFOLLOW))
        *resolve_flags |= VFS_RESOLVE_FOLLOW;
    if (at_flags & AT_EMPTY_PATH)
        *resolve_flags |= VFS_RESOLVE_EMPTY_PATH;
    return 0;
}

/* ---- open ---- */
static int open_access_mask(int flags)
{
    int mask = 0;
    switch (flags & O_ACCMODE) {
    case O_RDONLY: mask = VFS_MAY_READ; break;
    case O_WRONLY: mask = VFS_MAY_WRITE; break;
    default: mask = VFS_MAY_READ | VFS_MAY_WRITE; break;
    }
    if (flags & O_TRUNC)
        mask |= VFS_MAY_WRITE;
    return mask;
}

/* may_open(): type rules then permission. */
static int may_open(const struct vfs_context *ctx, const struct vfs_path *path, int flags)
{
    struct vfs_inode *inode = path->dentry->inode;
    int mask = open_access_mask(flags);
    switch (inode->mode & S_IFMT) {
    case S_IFLNK: return -ELOOP;
    case S_IFDIR:
        if (mask & VFS_MAY_WRITE)
            return -EISDIR;
        break;
    case S_IFREG:
        break;
    default:
        break;
    }
    if ((mask & VFS_MAY_WRITE) && vfs_path_is_read_only(path) &&
        (S_ISREG(inode->mode) || S_ISDIR(inode->mode) || S_ISLNK(inode->mode)))
        return -EROFS;
    return vfs_inode_permission(inode, credentials_of(ctx), mask);
}

static int open_path(const struct vfs_context *ctx, const struct vfs_path *path, int flags, bool created,
                     struct vfs_file **file_out)
{
    struct vfs_inode *inode = path->dentry->inode;
    struct vfs_file *file = vfs_file_new(path, inode, inode->file_ops, flags);
    if (!(flags & O_PATH) && inode->ops && inode->ops->open) {
        int error = inode->ops->open(file, ctx);
        if (error < 0) {
            /* the file never opened: its release must not run */
            file->ops = NULL;
            vfs_file_put(file);
            return error;
        }
    }
    vfs_inotify_file_event(file, IN_OPEN);
    /* O_TRUNC after the open, as Linux's do_open (watchers see IN_OPEN, then IN_MODIFY) */
    if (!(flags & O_PATH) && !created && (flags & O_TRUNC) && S_ISREG(inode->mode)) {
        int error = vfs_change_size(inode, path->dentry, 0);
        if (error < 0) {
            vfs_file_put(file);
            return error;
        }
    }
    *file_out = file;
    return 0;
}

int vfs_open_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int flags, uint32_t mode,
                struct vfs_file **file_out)
{
    *file_out = NULL;
    if ((flags & O_TMPFILE) == O_TMPFILE)
        return -EOPNOTSUPP;
    if (flags & O_PATH)
        flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    if ((flags & O_CREAT) && (flags & O_DIRECTORY))
        return -EINVAL;
    int resolve_flags = 0;
    if (!(flags & O_NOFOLLOW) && !((flags & O_CREAT) && (flags & O_EXCL)))
        resolve_flags |= VFS_RESOLVE_FOLLOW;
    if (flags & O_CREAT)
        resolve_flags |= VFS_RESOLVE_CREATE;
    if (flags & O_DIRECTORY)
        resolve_flags |= VFS_RESOLVE_DIRECTORY;

    struct vfs_resolved resolved;
    int error = vfs_resolve(ctx, dir, path, resolve_flags, &resolved);
    if (error < 0)
        return error;

    if (resolved.magic_file && !(flags & O_PATH)) {
        /* reopening /proc/PID/fd/N gives that open file description */
        *file_out = resolved.magic_file;
        resolved.magic_file = NULL;
        vfs_resolved_release(&resolved);
        return 0;
    }

    bool created = false;
    struct vfs_path target = {0};
    if (!resolved.path.dentry) {
        /* O_CREAT of a missing name */
        if (resolved.trailing_slash) {
            error = -EISDIR;
        } else if (vfs_path_is_read_only(&resolved.parent)) {
            error = -EROFS;
        } else if ((error = may_create(ctx, &resolved.parent)) == 0) {
            struct vfs_inode *parent_inode = resolved.parent.dentry->inode;
            struct vfs_new_inode attributes;
            new_inode_attributes(ctx, parent_inode, S_IFREG | (mode & 07777 & ~ctx->umask), &attributes);
            struct vfs_inode *inode = NULL;
            if (!parent_inode->ops || !parent_inode->ops->create)
                error = -EACCES;
            else
                error = parent_inode->ops->create(resolved.parent.dentry, resolved.name, &attributes, &inode);
            if (error == 0) {
                finish_create(&resolved, inode, &target);
                created = true;
            }
        }
    } else {
        target = resolved.path;
        resolved.path.mount = NULL;
        resolved.path.dentry = NULL;
        struct vfs_inode *inode = target.dentry->inode;
        if ((flags & O_CREAT) && (flags & O_EXCL))
            error = -EEXIST;
        else if ((flags & O_CREAT) && (S_ISDIR(inode->mode) || resolved.trailing_slash))
            error = -EISDIR;
        else if (flags & O_PATH)
            error = 0;
        else
            error = may_open(ctx, &target, flags);
    }
    if (error == 0)
        error = open_path(ctx, &target, flags, created, file_out);
    vfs_path_put(&target);
    vfs_resolved_release(&resolved);
    return error;
}

int vfs_open_for_exec(const struct vfs_context *ctx, const char *path, struct vfs_file **file_out)
{
    return vfs_open_for_exec_at(ctx, NULL, path, 0, file_out);
}

int vfs_open_for_exec_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int at_flags,
                         struct vfs_file **file_out)
{
    *file_out = NULL;
    int resolve_flags;
    int error = at_flags_to_resolve(at_flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &resolve_flags);
    if (error < 0)
        return error;
    /* A pathless file (pipe, socket) given with AT_EMPTY_PATH: not a regular file, so not executable. */
    if (dir && path[0] == '\0' && (at_flags & AT_EMPTY_PATH) && !dir->path.dentry)
        return -EACCES;
    struct vfs_resolved resolved;
    error = vfs_resolve(ctx, dir, path, resolve_flags, &resolved);
    if (error < 0)
        return error;
    struct vfs_inode *inode = resolved.path.dentry->inode;
    if (S_ISLNK(inode->mode) && !(resolve_flags & VFS_RESOLVE_FOLLOW))
        error = -ELOOP; /* execveat's AT_SYMLINK_NOFOLLOW on a symlink */
    else if (!S_ISREG(inode->mode))
        error = -EACCES;
    else
        error = vfs_inode_permission(inode, credentials_of(ctx), VFS_MAY_EXEC);
    /* execute-only files run: no read permission is needed to load them */
    if (error == 0)
        error = open_path(ctx, &resolved.path, O_RDONLY, false, file_out);
    vfs_resolved_release(&resolved);
    return error;
}

/* ---- stat, access ---- */
int vfs_stat_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int flags,
                struct stat *stat_out)
{
    int resolve_flags;
    int error = at_flags_to_resolve(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT, &resolve_flags);
    if (error < 0)
        return error;
    if ((flags & AT_EMPTY_PATH) && dir && path[0] == '\0')
        return vfs_fstat(dir, stat_out);
    struct vfs_resolved resolved;
    error = vfs_resolve(ctx, dir, path, resolve_flags, &resolved);
    if (error < 0)
        return error;
    if (resolved.magic_file)
        error = vfs_fstat(resolved.magic_file, stat_out);
    else
        error = vfs_inode_getattr(resolved.path.dentry->inode, stat_out);
    vfs_resolved_release(&resolved);
    return error;
}

int vfs_access_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int mode, int flags)
{
    if (mode & ~(R_OK | W_OK | X_OK))
        return -EINVAL;
    int resolve_flags;
    int error = at_flags_to_resolve(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_EACCESS, &resolve_flags);
    if (error < 0)
        return error;
    struct vfs_resolved resolved;
    error = vfs_resolve(ctx, dir, path, resolve_flags, &resolved);
    if (error < 0)
        return error;
    struct vfs_inode *inode = resolved.path.dentry->inode;
    int mask = ((mode & R_OK) ? VFS_MAY_READ : 0) | ((mode & W_OK) ? VFS_MAY_WRITE : 0) |
               ((mode & X_OK) ? VFS_MAY_EXEC : 0);
    if ((mask & VFS_MAY_WRITE) && vfs_path_is_read_only(&resolved.path) &&
        (S_ISREG(inode->mode) || S_ISDIR(inode->mode) || S_ISLNK(inode->mode)))
        error = -EROFS;
    else
        error = vfs_inode_permission(inode, credentials_of(ctx), mask);
    vfs_resolved_release(&resolved);
    return error;
}

/* ---- creation ---- */
int vfs_mkdir_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, uint32_t mode)
{
    struct vfs_resolved resolved;
    int error = prepare_create(ctx, dir, path, true, &resolved);
    if (error < 0)
        return error;
    struct vfs_inode *parent_inode = resolved.parent.dentry->inode;
    struct vfs_new_inode attributes;
    new_inode_attributes(ctx, parent_inode, S_IFDIR | (mode & (S_IRWXU | S_IRWXG | S_IRWXO | S_ISVTX) & ~ctx->umask),
                         &attributes);
    struct vfs_inode *inode = NULL;
    if (!parent_inode->ops || !parent_inode->ops->mkdir)
        error = -EPERM;
    else
        error = parent_inode->ops->mkdir(resolved.parent.dentry, resolved.name, &attributes, &inode);
    if (error == 0) {
        struct vfs_path created;
        finish_create(&resolved, inode, &created);
        vfs_path_put(&created);
    }
    vfs_resolved_release(&resolved);
    return error;
}

int vfs_mknod_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, uint32_t mode, dev_t device)
{
    if ((mode & S_IFMT) == 0)
        mode |= S_IFREG;
    switch (mode & S_IFMT) {
    case S_IFREG:
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
    case S_IFSOCK: break;
    case S_IFDIR: return -EPERM;
    default: return -EINVAL;
    }
    struct vfs_resolved resolved;
    int error = prepare_create(ctx, dir, path, false, &resolved);
    if (error < 0)
        return error;
    bool is_device = S_ISCHR(mode) || S_ISBLK(mode);
    bool whiteout = S_ISCHR(mode) && device == VFS_WHITEOUT_DEVICE;
    const struct vfs_credentials *credentials = credentials_of(ctx);
    struct vfs_inode *parent_inode = resolved.parent.dentry->inode;
    if (is_device && !whiteout && credentials && !credentials->privileged) {
        error = -EPERM;
    } else if (!parent_inode->ops || !parent_inode->ops->create) {
        error = -EPERM;
    } else {
        struct vfs_new_inode attributes;
        new_inode_attributes(ctx, parent_inode, (mode & S_IFMT) | (mode & 07777 & ~ctx->umask), &attributes);
        attributes.device = is_device ? device : 0;
        struct vfs_inode *inode = NULL;
        error = parent_inode->ops->create(resolved.parent.dentry, resolved.name, &attributes, &inode);
        if (error == 0) {
            struct vfs_path created;
            finish_create(&resolved, inode, &created);
            vfs_path_put(&created);
        }
    }
    vfs_resolved_release(&resolved);
    return error;
}

int vfs_symlink_at(const struct vfs_context *ctx, const char *target, struct vfs_file *dir, const char *path)
{
    if (target[0] == '\0')
        return -ENOENT;
    if (strnlen(target, VFS_PATH_MAX) >= VFS_PATH_MAX)
        return -ENAMETOOLONG;
    struct vfs_resolved resolved;
    int error = prepare_create(ctx, dir, path, false, &resolved);
    if (error < 0)
        return error;
    struct vfs_inode *parent_inode = resolved.parent.dentry->inode;
    struct vfs_new_inode attributes;
    new_inode_attributes(ctx, parent_inode, S_IFLNK | 0777, &attributes);
    struct vfs_inode *inode = NULL;
    if (!parent_inode->ops || !parent_inode->ops->symlink)
        error = -EPERM;
    else
        error = parent_inode->ops->symlink(resolved.parent.dentry, resolved.name, target, &attributes, &inode);
    if (error == 0) {
        struct vfs_path created;
        finish_create(&resolved, inode, &created);
        vfs_path_put(&created);
    }
    vfs_resolved_release(&resolved);
    return error;
}

int vfs_link_at(const struct vfs_context *ctx, struct vfs_file *old_dir, const char *old_path,
                struct vfs_file *new_dir, const char *new_path, int flags)
{
    if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
        return -EINVAL;
    int resolve_flags = 0;
    if (flags & AT_SYMLINK_FOLLOW)
        resolve_flags |= VFS_RESOLVE_FOLLOW;
    if (flags & AT_EMPTY_PATH)
        resolve_flags |= VFS_RESOLVE_EMPTY_PATH;
    struct vfs_resolved old;
    int error = vfs_resolve(ctx, old_dir, old_path, resolve_flags, &old);
    if (error < 0)
        return error;
    struct vfs_resolved resolved;
    error = prepare_create(ctx, new_dir, new_path, false, &resolved);
    if (error < 0) {
        vfs_resolved_release(&old);
        return error;
    }
    struct vfs_inode *inode = old.path.dentry->inode;
    struct vfs_inode *parent_inode = resolved.parent.dentry->inode;
    if (old.path.mount != resolved.parent.mount || inode->sb != parent_inode->sb)
        error = -EXDEV;
    else if (!parent_inode->ops || !parent_inode->ops->link)
        error = -EPERM;
    else if (S_ISDIR(inode->mode))
        error = -EPERM;
    else if (inode->link_count == 0 || old.path.dentry->unlinked)
        error = -ENOENT;
    else {
        struct vfs_inode *linked = NULL;
        error = parent_inode->ops->link(old.path.dentry, resolved.parent.dentry, resolved.name, &linked);
        if (error == 0) {
            vfs_inotify_link_count_changed(inode);
            struct vfs_path created;
            finish_create(&resolved, linked, &created);
            vfs_path_put(&created);
        }
    }
    vfs_resolved_release(&resolved);
    vfs_resolved_release(&old);
    return error;
}

/* ---- removal ---- */
int vfs_unlink_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int flags)
{
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    bool remove_directory = (flags & AT_REMOVEDIR) != 0;
    struct vfs_resolved resolved;
    int error = vfs_resolve_parent(ctx, dir, path, &resolved);
    if (error < 0)
        return error;
    if (resolved.last_type != VFS_LAST_NORMAL) {
        if (!remove_directory)
            error = -EISDIR;
        else if (resolved.last_type == VFS_LAST_DOT)
            error = -EINVAL;
        else if (resolved.last_type == VFS_LAST_DOTDOT)
            error = -ENOTEMPTY;
        else
            error = -EBUSY;
        vfs_resolved_release(&resolved);
        return error;
    }
    if (vfs_path_is_read_only(&resolved.parent)) {
        vfs_resolved_release(&resolved);
        return -EROFS;
    }
    struct vfs_dentry *victim = NULL;
    error = vfs_dentry_lookup(resolved.parent.dentry, resolved.name, &victim);
    if (error < 0) {
        vfs_resolved_release(&resolved);
        return error;
    }
    if (!remove_directory && resolved.trailing_slash)
        error = S_ISDIR(victim->inode->mode) ? -EISDIR : -ENOTDIR;
    if (error == 0)
        error = may_delete(ctx, &resolved.parent, victim, remove_directory);
    if (error == 0 && remove_directory && (is_busy_root(ctx, victim)))
        error = -EBUSY;
    struct vfs_inode *parent_inode = resolved.parent.dentry->inode;
    if (error == 0) {
        if (remove_directory)
            error = parent_inode->ops && parent_inode->ops->rmdir
                        ? parent_inode->ops->rmdir(resolved.parent.dentry, victim)
                        : -EPERM;
        else
            error = parent_inode->ops && parent_inode->ops->unlink
                        ? parent_inode->ops->unlink(resolved.parent.dentry, victim)
                        : -EPERM;
    }
    if (error == 0)
        vfs_dentry_mark_unlinked(victim);
    if (error == 0)
        vfs_inotify_removed(resolved.parent.dentry, victim, remove_directory);
    vfs_dentry_put(victim);
    vfs_resolved_release(&resolved);
    return error;
}

/* ---- rename ---- */
static int rename_checks(const struct vfs_context *ctx, struct vfs_resolved *old, struct vfs_dentry *source,
                         struct vfs_resolved *new, struct vfs_dentry *target, unsigned flags)
{
    bool source_is_dir = S_ISDIR(source->inode->mode);
    bool exchange = (flags & RENAME_EXCHANGE) != 0;
    if (exchange && target && !S_ISDIR(target->inode->mode) && new->trailing_slash)
        return -ENOTDIR;
    if (!source_is_dir) {
        if (old->trailing_slash)
            return -ENOTDIR;
        if (!exchange && new->trailing_slash)
            return -ENOTDIR;
    }
    /* a directory cannot move into itself; nothing can replace an ancestor of the source */
    if (source_is_dir && vfs_dentry_is_ancestor(source, new->parent.dentry))
        return -EINVAL;
    if (target && vfs_dentry_is_ancestor(target, old->parent.dentry))
        return exchange ? -EINVAL : -ENOTEMPTY;
    if (target && target->inode == source->inode)
        return 1; /* the same file under two names: nothing to do */
    int error = may_delete(ctx, &old->parent, source, source_is_dir);
    if (error < 0)
        return error;
    if (!target)
        error = may_create(ctx, &new->parent);
    else
        error = may_delete(ctx, &new->parent, target, exchange ? S_ISDIR(target->inode->mode) : source_is_dir);
    if (error < 0)
        return error;
    /* moving a directory rewrites its "..": that needs write permission on it */
    if (new->parent.dentry != old->parent.dentry) {
        if (source_is_dir &&
            (error = vfs_inode_permission(source->inode, credentials_of(ctx), VFS_MAY_WRITE)) < 0)
            return error;
        if (exchange && target && S_ISDIR(target->inode->mode) &&
            (error = vfs_inode_permission(target->inode, credentials_of(ctx), VFS_MAY_WRITE)) < 0)
            return error;
    }
    if (is_busy_root(ctx, source) || (target && is_busy_root(ctx, target)))
        return -EBUSY;
    return 0;
}

static void dentry_exchange(struct vfs_dentry *a, struct vfs_dentry *b)
{
    struct vfs_dentry *a_parent = a->parent, *b_parent = b->parent;
    char *a_name = xstrdup(a->name), *b_name = xstrdup(b->name);
    vfs_dentry_get(a_parent);
    vfs_dentry_get(b_parent);
    /* take a out of the way first so that the two names never collide in a cache */
    vfs_dentry_move(a, a_parent, "\x01rename-exchange");
    vfs_dentry_move(b, a_parent, a_name);
    vfs_dentry_move(a, b_parent, b_name);
    vfs_dentry_put(a_parent);
    vfs_dentry_put(b_parent);
    free(a_name);
    free(b_name);
}

int vfs_rename_at(const struct vfs_context *ctx, struct vfs_file *old_dir, const char *old_path,
                  struct vfs_file *new_dir, const char *new_path, unsigned int flags)
{
    if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
        return -EINVAL;
    if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
        return -EINVAL;
    if ((flags & RENAME_WHITEOUT) && (flags & RENAME_EXCHANGE))
        return -EINVAL;
    if (flags & RENAME_WHITEOUT)
        return -EINVAL; /* no file system here supports it */
    struct vfs_resolved old, new;
    int error = vfs_resolve_parent(ctx, old_dir, old_path, &old);
    if (error < 0)
        return error;
    error = vfs_resolve_parent(ctx, new_dir, new_path, &new);
    if (error < 0) {
        vfs_resolved_release(&old);
        return error;
    }
    struct vfs_dentry *source = NULL, *target = NULL;
    if (old.parent.mount != new.parent.mount)
        error = -EXDEV;
    else if (old.last_type != VFS_LAST_NORMAL)
        error = -EBUSY;
    else if (new.last_type != VFS_LAST_NORMAL)
        error = (flags & RENAME_NOREPLACE) ? -EEXIST : -EBUSY;
    else if (vfs_path_is_read_only(&old.parent))
        error = -EROFS;
    if (error == 0)
        error = vfs_dentry_lookup(old.parent.dentry, old.name, &source);
    if (error == 0) {
        error = vfs_dentry_lookup(new.parent.dentry, new.name, &target);
        if (error == -ENOENT) {
            target = NULL;
            error = (flags & RENAME_EXCHANGE) ? -ENOENT : 0;
        } else if (error == 0 && (flags & RENAME_NOREPLACE)) {
            error = -EEXIST;
        }
    }
    if (error == 0)
        error = rename_checks(ctx, &old, source, &new, target, flags);
    if (error == 0) {
        struct vfs_inode *old_parent_inode = old.parent.dentry->inode;
        if (!old_parent_inode->ops || !old_parent_inode->ops->rename)
            error = -EPERM;
        else
            error = old_parent_inode->ops->rename(old.parent.dentry, source, new.parent.dentry, new.name, target,
                                                  flags);
        if (error == 0) {
            if (flags & RENAME_EXCHANGE) {
                dentry_exchange(source, target);
            } else {
                if (target)
                    vfs_dentry_mark_unlinked(target);
                vfs_dentry_move(source, new.parent.dentry, new.name);
            }
            vfs_inotify_renamed(old.parent.dentry, old.name, new.parent.dentry, new.name, source, target,
                                (flags & RENAME_EXCHANGE) != 0);
        }
    }
    if (error == 1)
        error = 0;
    if (source)
        vfs_dentry_put(source);
    if (target)
        vfs_dentry_put(target);
    vfs_resolved_release(&new);
    vfs_resolved_release(&old);
    return error;
}

/* ---- links ---- */
ssize_t vfs_readlink_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, char *buffer,
                        size_t size)
{
    if (size == 0 || size > INT_MAX)
        return -EINVAL;
    struct vfs_resolved resolved;
    /* "" names dirfd's own link (an O_PATH|O_NOFOLLOW file), never the cwd */
    int error = vfs_resolve(ctx, dir, path, dir ? VFS_RESOLVE_EMPTY_PATH : 0, &resolved);
    if (error < 0)
        return error;
    struct vfs_dentry *dentry = resolved.path.dentry;
    struct text_buffer target = {0};
    if (!S_ISLNK(dentry->inode->mode) || !dentry->inode->ops || !dentry->inode->ops->readlink)
        error = -EINVAL;
    else
        error = dentry->inode->ops->readlink(dentry, ctx, &target);
    ssize_t result = error;
    if (error == 0) {
        size_t count = MIN(size, target.length);
        memcpy(buffer, target.data, count);
        result = (ssize_t)count;
    }
    text_buffer_free(&target);
    vfs_resolved_release(&resolved);
    return result;
}

/* ---- attributes by path ---- */
int vfs_chmod_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, uint32_t mode, int flags)
{
    int resolve_flags;
    int error = at_flags_to_resolve(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &resolve_flags);
    if (error < 0)
        return error;
    struct vfs_resolved resolved;
    error = vfs_resolve(ctx, dir, path, resolve_flags, &resolved);
    if (error < 0)
        return error;
    struct vfs_dentry *dentry = resolved.path.dentry;
    if (S_ISLNK(dentry->inode->mode))
        error = -EOPNOTSUPP; /* fchmodat2(AT_SYMLINK_NOFOLLOW) on a link */
    else
        error = vfs_change_mode(dentry->inode, dentry, vfs_path_is_read_only(&resolved.path), credentials_of(ctx),
                                mode);
    vfs_resolved_release(&resolved);
    return error;
}

int vfs_chown_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, uint32_t uid, uint32_t gid,
                 int flags)
{
    int resolve_flags;
    int error = at_flags_to_resolve(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &resolve_flags);
    if (error < 0)
        return error;
    struct vfs_resolved resolved;
    error = vfs_resolve(ctx, dir, path, resolve_flags, &resolved);
    if (error < 0)
        return error;
    struct vfs_dentry *dentry = resolved.path.dentry;
    error = vfs_change_owner(dentry->inode, dentry, vfs_path_is_read_only(&resolved.path), credentials_of(ctx), uid,
                             gid);
    vfs_resolved_release(&resolved);
    return error;
}

static bool timestamp_valid(const struct timespec *time)
{
    return time->tv_nsec == UTIME_NOW || time->tv_nsec == UTIME_OMIT ||
           (time->tv_nsec >= 0 && time->tv_nsec < 1000000000L);
}

int vfs_utimens_at(const struct vfs_context *ctx, struct vfs_file *dir, const char *path,
                   const struct timespec times[2], int flags)
{
    if (times && (!timestamp_valid(&times[0]) || !timestamp_valid(&times[1])))
        return -EINVAL;
    int resolve_flags;
    int error = at_flags_to_resolve(flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH, &resolve_flags);
    if (error < 0)
        return error;
    struct vfs_resolved resolved;
    error = vfs_resolve(ctx, dir, path, resolve_flags, &resolved);
    if (error < 0)
        return error;
    struct vfs_dentry *dentry = resolved.path.dentry;
    struct vfs_inode *inode = dentry->inode;
    if (resolved.magic_file && resolved.magic_file->inode && !resolved.magic_file->path.dentry) {
        inode = resolved.magic_file->inode;
        dentry = NULL;
    }
    struct timespec now = vfs_now();
    struct vfs_setattr attributes = {.mask = VFS_ATTR_CTIME, .ctime = now};
    bool explicit_time = false;
    for (int index = 0; index < 2; index++) {
        struct timespec value = times ? times[index] : (struct timespec){0, UTIME_NOW};
        if (value.tv_nsec == UTIME_OMIT)
            continue;
        if (value.tv_nsec == UTIME_NOW)
            value = now;
        else
            explicit_time = true;
        if (index == 0) {
            attributes.mask |= VFS_ATTR_ATIME;
            attributes.atime = value;
        } else {
            attributes.mask |= VFS_ATTR_MTIME;
            attributes.mtime = value;
        }
    }
    const struct vfs_credentials *credentials = credentials_of(ctx);
    if (!(attributes.mask & (VFS_ATTR_ATIME | VFS_ATTR_MTIME)))
        error = 0; /* both UTIME_OMIT */
    else if (vfs_path_is_read_only(&resolved.path))
        error = -EROFS;
    else if (explicit_time && !vfs_credentials_own(credentials, inode->uid))
        error = -EPERM;
    else if (!explicit_time && !vfs_credentials_own(credentials, inode->uid) &&
             vfs_inode_permission(inode, credentials, VFS_MAY_WRITE) < 0)
        error = -EACCES;
    else
        error = vfs_notify_change(inode, dentry, &attributes);
    vfs_resolved_release(&resolved);
    return error;
}

int vfs_truncate_at(const struct vfs_context *ctx, const char *path, off_t length)
{
    if (length < 0)
        return -EINVAL;
    struct vfs_resolved resolved;
    int error = vfs_resolve(ctx, NULL, path, VFS_RESOLVE_FOLLOW, &resolved);
    if (error < 0)
        return error;
    struct vfs_dentry *dentry = resolved.path.dentry;
    struct vfs_inode *inode = dentry->inode;
    if (S_ISDIR(inode->mode))
        error = -EISDIR;
    else if (!S_ISREG(inode->mode))
        error = -EINVAL;
    else if ((error = vfs_inode_permission(inode, credentials_of(ctx), VFS_MAY_WRITE)) < 0)
        ;
    else if (vfs_path_is_read_only(&resolved.path))
        error = -EROFS;
    else
        error = vfs_change_size(inode, dentry, length);
    vfs_resolved_release(&resolved);
    return error;
}

/* ---- directories for chdir/chroot and getcwd ---- */
int vfs_resolve_directory(const struct vfs_context *ctx, struct vfs_file *dir, const char *path,
                          struct vfs_path *out)
{
    struct vfs_resolved resolved;
    int error = vfs_resolve(ctx, dir, path, VFS_RESOLVE_FOLLOW | VFS_RESOLVE_DIRECTORY, &resolved);
    if (error < 0)
        return error;
    error = vfs_inode_permission(resolved.path.dentry->inode, credentials_of(ctx), VFS_MAY_EXEC);
    if (error == 0) {
        *out = resolved.path;
        resolved.path.mount = NULL;
        resolved.path.dentry = NULL;
    }
    vfs_resolved_release(&resolved);
    return error;
}

ssize_t vfs_getcwd(const struct vfs_context *ctx, char *buffer, size_t size)
{
    if (ctx->cwd.dentry->unlinked)
        return -ENOENT;
    struct text_buffer text = {0};
    vfs_path_describe(&ctx->cwd, ctx, &text, NULL);
    size_t needed = text.length + 1;
    ssize_t result;
    if (needed > VFS_PATH_MAX) {
        result = -ENAMETOOLONG;
    } else if (needed > size) {
        result = -ERANGE;
    } else {
        memcpy(buffer, text.data, needed);
        result = (ssize_t)needed;
    }
    text_buffer_free(&text);
    return result;
}
