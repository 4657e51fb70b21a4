/* vfs/mounts.c: building the sandbox's mount tree (an in-memory root for tests and tools, tmpfs, devfs,
 * procfs and sysfs mounts) and describing it in /proc/mounts format. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "vfs/internal.h"

int vfs_make_tmpfs_root(uint32_t mode, struct vfs_path *root_out)
{
    struct vfs_superblock *sb = vfs_tmpfs_new(mode, 0, 0);
    struct vfs_mount *mount = vfs_mount_new(sb, "none");
    vfs_superblock_put(sb);
    root_out->mount = mount;
    root_out->dentry = mount->root;
    vfs_dentry_get(root_out->dentry);
    return 0;
}

int vfs_mount_superblock_at(const struct vfs_context *ctx, const char *target, struct vfs_superblock *sb,
                            const char *source)
{
    struct vfs_resolved resolved;
    int error = vfs_resolve(ctx, NULL, target, VFS_RESOLVE_FOLLOW, &resolved);
    if (error == -ENOENT) {
        error = vfs_mkdir_at(ctx, NULL, target, 0755);
        if (error < 0 && error != -EEXIST)
            return error;
        error = vfs_resolve(ctx, NULL, target, VFS_RESOLVE_FOLLOW, &resolved);
    }
    if (error < 0)
        return error;
    if (!S_ISDIR(resolved.path.dentry->inode->mode)) {
        vfs_resolved_release(&resolved);
        return -ENOTDIR;
    }
    struct vfs_mount *mount = vfs_mount_new(sb, source);
    error = vfs_mount_attach(&resolved.path, mount);
    if (error < 0)
        vfs_mount_put(mount);
    vfs_resolved_release(&resolved);
    return error;
}

int vfs_mount_tmpfs(const struct vfs_context *ctx, const char *target, uint32_t mode)
{
    struct vfs_superblock *sb = vfs_tmpfs_new(mode, 0, 0);
    int error = vfs_mount_superblock_at(ctx, target, sb, "tmpfs");
    vfs_superblock_put(sb);
    return error;
}

int vfs_mount_devfs(const struct vfs_context *ctx, const char *target)
{
    struct vfs_superblock *sb = vfs_devfs_new();
    int error = vfs_mount_superblock_at(ctx, target, sb, "tmpfs");
    vfs_superblock_put(sb);
    if (error < 0)
        return error;
    /* /dev/shm is its own tmpfs, as on Linux, so shm_open works and stays out of /dev's accounting */
    struct text_buffer shm = {0};
    text_buffer_append(&shm, "%s/shm", strcmp(target, "/") == 0 ? "" : target);
    error = vfs_mount_tmpfs(ctx, shm.data, 01777);
    text_buffer_free(&shm);
    return error;
}

int vfs_mount_procfs(const struct vfs_context *ctx, const char *target, const struct vfs_procfs_provider *provider)
{
    struct vfs_superblock *sb = vfs_procfs_new(provider);
    int error = vfs_mount_superblock_at(ctx, target, sb, "proc");
    vfs_superblock_put(sb);
    return error;
}

int vfs_mount_sysfs(const struct vfs_context *ctx, const char *target)
{
    struct vfs_superblock *sb = vfs_sysfs_new();
    int error = vfs_mount_superblock_at(ctx, target, sb, "sysfs");
    vfs_superblock_put(sb);
    return error;
}

/* /proc/mounts escapes the characters that would break its fields. */
static void append_escaped(struct text_buffer *out, const char *text)
{
    for (const char *cursor = text; *cursor; cursor++) {
        if (*cursor == ' ' || *cursor == '\t' || *cursor == '\n' || *cursor == '\\')
            text_buffer_append(out, "\\%03o", (unsigned char)*cursor);
        else
            text_buffer_append_bytes(out, cursor, 1);
    }
}

/* One line per mount, depth first: /proc/mounts' format, or mountinfo's (ids, device, root, options). */
static void describe_mount(const struct vfs_context *ctx, struct vfs_mount *mount, bool mountinfo,
                           struct text_buffer *out)
{
    struct text_buffer where = {0};
    struct vfs_path root = {mount, mount->root};
    vfs_path_describe(&root, ctx, &where, NULL);
    const char *options = vfs_path_is_read_only(&root) ? "ro" : "rw";
    if (mountinfo) {
        /* the mount at the caller's root names itself as its parent, as Linux's does for the namespace root */
        int parent = mount->parent && mount != ctx->root.mount ? mount->parent->id : mount->id;
        text_buffer_append(out, "%d %d %u:%u / ", mount->id, parent, major(mount->sb->device),
                           minor(mount->sb->device));
        append_escaped(out, where.data);
        text_buffer_append(out, " %s,relatime - %s ", options, mount->sb->type->name);
        append_escaped(out, mount->source);
        text_buffer_append(out, " %s\n", options);
    } else {
        append_escaped(out, mount->source);
        text_buffer_append(out, " ");
        append_escaped(out, where.data);
        text_buffer_append(out, " %s %s,relatime 0 0\n", mount->sb->type->name, options);
    }
    text_buffer_free(&where);
    LIST_FOR_EACH(node, &mount->children) {
        struct vfs_mount *child = CONTAINER_OF(node, struct vfs_mount, sibling);
        describe_mount(ctx, child, mountinfo, out);
    }
}

void vfs_describe_mounts(const struct vfs_context *ctx, bool mountinfo, struct text_buffer *out)
{
    if (!ctx->root.mount)
        return;
    describe_mount(ctx, ctx->root.mount, mountinfo, out);
}
