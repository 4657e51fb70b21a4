/* vfs/resolve.c: path resolution as Linux's namei does it: component by component from the root, cwd or a
 * directory file, with "." and "..", mount crossing, symlinks (40 at most), search permission and the
 * trailing-slash rules; and the reverse, a path's name as seen from the caller's root. */
#include <stdlib.h>
#include <string.h>

#include "vfs/internal.h"

void vfs_resolved_release(struct vfs_resolved *resolved)
{
    vfs_path_put(&resolved->path);
    vfs_path_put(&resolved->parent);
    if (resolved->magic_file) {
        vfs_file_put(resolved->magic_file);
        resolved->magic_file = NULL;
    }
}

int vfs_start_path(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, struct vfs_path *out)
{
    if (path[0] == '/') {
        *out = ctx->root;
        return 0;
    }
    if (!dir) {
        *out = ctx->cwd;
        return 0;
    }
    if (!dir->path.dentry)
        return -ENOTDIR;
    *out = dir->path;
    return 0;
}

/* Step onto whatever is mounted on path, repeatedly (mounts stack). */
static void follow_mounts_down(struct vfs_path *path)
{
    struct vfs_mount *child;
    while ((child = vfs_mount_find_child(path->mount, path->dentry))) {
        vfs_mount_get(child);
        vfs_dentry_get(child->root);
        vfs_path_put(path);
        path->mount = child;
        path->dentry = child->root;
    }
}

int vfs_lookup_child(const struct vfs_path *dir, const char *name, struct vfs_path *child_out)
{
    struct vfs_dentry *child;
    int error = vfs_dentry_lookup(dir->dentry, name, &child);
    if (error < 0)
        return error;
    vfs_mount_get(dir->mount);
    child_out->mount = dir->mount;
    child_out->dentry = child;
    follow_mounts_down(child_out);
    return 0;
}

/* ".." : never above the caller's root; through mount roots to the directory they are mounted on. */
static void step_up(const struct vfs_context *ctx, struct vfs_path *current)
{
    for (;;) {
        if (vfs_path_equal(current, &ctx->root))
            return;
        if (current->dentry == current->mount->root) {
            struct vfs_mount *parent = current->mount->parent;
            if (!parent || !current->mount->mountpoint)
                return; /* the top of a detached tree */
            struct vfs_path up = {parent, current->mount->mountpoint};
            vfs_path_get(&up);
            vfs_path_put(current);
            *current = up;
            continue;
        }
        struct vfs_dentry *parent = current->dentry->parent;
        if (!parent)
            return;
        vfs_dentry_get(parent);
        vfs_dentry_put(current->dentry);
        current->dentry = parent;
        follow_mounts_down(current);
        return;
    }
}

static int may_search(const struct vfs_context *ctx, const struct vfs_path *dir)
{
    if (!S_ISDIR(dir->dentry->inode->mode))
        return -ENOTDIR;
    return vfs_inode_permission(dir->dentry->inode, ctx->credentials, VFS_MAY_EXEC);
}

static int read_link_text(const struct vfs_context *ctx, struct vfs_dentry *link, struct text_buffer *out)
{
    if (!link->inode->ops || !link->inode->ops->readlink)
        return -EINVAL;
    return link->inode->ops->readlink(link, ctx, out);
}

enum resolve_mode { RESOLVE_OBJECT, RESOLVE_PARENT };

static int resolve_walk(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int flags,
                        enum resolve_mode mode, struct vfs_resolved *out)
{
    memset(out, 0, sizeof(*out));
    size_t path_length = strnlen(path, VFS_PATH_MAX);
    if (path_length >= VFS_PATH_MAX)
        return -ENAMETOOLONG;
    struct vfs_path start;
    int error = vfs_start_path(ctx, dir, path, &start);
    if (error < 0)
        return error;
    if (path_length == 0) {
        if (mode == RESOLVE_PARENT || !(flags & VFS_RESOLVE_EMPTY_PATH))
            return -ENOENT;
        out->path = start;
        vfs_path_get(&out->path);
        if ((flags & VFS_RESOLVE_DIRECTORY) && !S_ISDIR(out->path.dentry->inode->mode)) {
            vfs_path_put(&out->path);
            return -ENOTDIR;
        }
        return 0;
    }
    if (dir && path[0] != '/' && !S_ISDIR(start.dentry->inode->mode))
        return -ENOTDIR;

    struct vfs_path current = start;
    vfs_path_get(&current);
    char *pending = xstrdup(path);
    size_t position = 0;
    int links_followed = 0;
    bool trailing_slash = false;
    error = 0;

    for (;;) {
        while (pending[position] == '/')
            position++;
        if (pending[position] == '\0') {
            /* nothing but slashes left: the root, or the target of a symlink to a directory */
            if (mode == RESOLVE_PARENT) {
                out->parent = current;
                current.mount = NULL;
                current.dentry = NULL;
                strcpy(out->name, "/");
                out->last_type = VFS_LAST_ROOT;
                out->trailing_slash = true;
                break;
            }
            trailing_slash = true;
            goto found;
        }
        size_t end = position;
        while (pending[end] && pending[end] != '/')
            end++;
        size_t after = end;
        while (pending[after] == '/')
            after++;
        bool is_last = pending[after] == '\0';
        bool slash_follows = after > end;
        size_t name_length = end - position;
        if (name_length > VFS_NAME_MAX) {
            error = -ENAMETOOLONG;
            break;
        }
        char name[VFS_NAME_MAX + 1];
        memcpy(name, pending + position, name_length);
        name[name_length] = '\0';

        error = may_search(ctx, &current);
        if (error < 0)
            break;

        if (is_last && mode == RESOLVE_PARENT) {
            out->parent = current;
            current.mount = NULL;
            current.dentry = NULL;
            strcpy(out->name, name);
            out->last_type = strcmp(name, ".") == 0    ? VFS_LAST_DOT
                             : strcmp(name, "..") == 0 ? VFS_LAST_DOTDOT
                                                       : VFS_LAST_NORMAL;
            out->trailing_slash = slash_follows;
            break;
        }
        position = after;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            if (name[1] == '.')
                step_up(ctx, &current);
            if (is_last) {
                trailing_slash = slash_follows;
                goto found;
            }
            continue;
        }

        struct vfs_path child;
        error = vfs_lookup_child(&current, name, &child);
        if (error == -ENOENT && is_last && (flags & VFS_RESOLVE_CREATE) && mode == RESOLVE_OBJECT) {
            out->parent = current;
            current.mount = NULL;
            current.dentry = NULL;
            strcpy(out->name, name);
            out->last_type = VFS_LAST_NORMAL;
            out->trailing_slash = slash_follows;
            error = 0;
            break;
        }
        if (error < 0)
            break;

        struct vfs_inode *inode = child.dentry->inode;
        bool follow = !is_last || (flags & VFS_RESOLVE_FOLLOW) || slash_follows;
        if (S_ISLNK(inode->mode) && follow) {
            if (++links_followed > VFS_MAX_SYMLINKS) {
                vfs_path_put(&child);
                error = -ELOOP;
                break;
            }
            if (inode->ops && inode->ops->open_magic_link) {
                /* /proc/PID/fd/N: jump to the open file itself, not to its printed name */
                struct vfs_file *file = NULL;
                error = inode->ops->open_magic_link(child.dentry, &file);
                if (error < 0) {
                    vfs_path_put(&child);
                    break;
                }
                if (is_last) {
                    if (file->path.dentry) {
                        vfs_path_put(&child);
                        child = file->path;
                        vfs_path_get(&child);
                    }
                    vfs_path_put(&current);
                    current = child;
                    out->magic_file = file;
                    trailing_slash = slash_follows;
                    goto found;
                }
                if (!file->path.dentry) {
                    vfs_file_put(file);
                    vfs_path_put(&child);
                    error = -ENOTDIR;
                    break;
                }
                vfs_path_put(&child);
                vfs_path_put(&current);
                current = file->path;
                vfs_path_get(&current);
                vfs_file_put(file);
                continue;
            }
            struct text_buffer target = {0};
            error = read_link_text(ctx, child.dentry, &target);
            vfs_path_put(&child);
            if (error >= 0 && target.length == 0)
                error = -ENOENT;
            if (error < 0) {
                text_buffer_free(&target);
                break;
            }
            /* the rest of the path continues from where the link points */
            text_buffer_append(&target, "%s%s", slash_follows ? "/" : "", pending + after);
            free(pending);
            pending = target.data;
            position = 0;
            if (pending[0] == '/') {
                vfs_path_put(&current);
                current = ctx->root;
                vfs_path_get(&current);
            }
            continue;
        }
        vfs_path_put(&current);
        current = child;
        if (is_last) {
            trailing_slash = slash_follows;
            goto found;
        }
        if (!S_ISDIR(current.dentry->inode->mode)) {
            error = -ENOTDIR;
            break;
        }
    }
    free(pending);
    vfs_path_put(&current);
    if (error < 0)
        vfs_resolved_release(out);
    return error;

found:
    free(pending);
    out->path = current;
    out->trailing_slash = trailing_slash;
    if ((trailing_slash || (flags & VFS_RESOLVE_DIRECTORY)) && !S_ISDIR(current.dentry->inode->mode)) {
        vfs_resolved_release(out);
        return -ENOTDIR;
    }
    return 0;
}

int vfs_resolve(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int flags,
                struct vfs_resolved *out)
{
    return resolve_walk(ctx, dir, path, flags, RESOLVE_OBJECT, out);
}

int vfs_resolve_parent(const struct vfs_context *ctx, struct vfs_file *dir, const char *path,
                       struct vfs_resolved *out)
{
    return resolve_walk(ctx, dir, path, 0, RESOLVE_PARENT, out);
}

int vfs_path_describe(const struct vfs_path *path, const struct vfs_context *ctx, struct text_buffer *out,
                      bool *unlinked_out)
{
    size_t capacity = 16, count = 0;
    const char **names = xcalloc(capacity, sizeof(*names));
    struct vfs_mount *mount = path->mount;
    struct vfs_dentry *dentry = path->dentry;
    bool unlinked = false;
    while (mount && dentry) {
        if (ctx && mount == ctx->root.mount && dentry == ctx->root.dentry)
            break;
        if (dentry == mount->root) {
            if (!mount->parent || !mount->mountpoint)
                break;
            dentry = mount->mountpoint;
            mount = mount->parent;
            continue;
        }
        if (dentry->unlinked)
            unlinked = true;
        if (!dentry->parent)
            break;
        if (count == capacity) {
            capacity *= 2;
            const char **grown = xcalloc(capacity, sizeof(*grown));
            memcpy(grown, names, count * sizeof(*grown));
            free(names);
            names = grown;
        }
        names[count++] = dentry->name;
        dentry = dentry->parent;
    }
    if (count == 0)
        text_buffer_append(out, "/");
    while (count > 0)
        text_buffer_append(out, "/%s", names[--count]);
    free(names);
    if (unlinked_out)
        *unlinked_out = unlinked;
    return 0;
}
