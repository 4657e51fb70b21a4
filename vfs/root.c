/* vfs/root.c: the sandbox's root file system from the Gofer: the served tree alone, or under an in-memory
 * overlay. Kept apart from the rest of the VFS so that code without a Gofer links without the client. */
#include "vfs/internal.h"

int vfs_make_root(struct gofer_client *gofer, bool overlay, bool read_only, struct vfs_path *root_out)
{
    uint32_t root_fid;
    struct gofer_attr attr;
    int error = gofer_attach(gofer, "/", &root_fid, &attr);
    if (error < 0)
        return error;
    if (!S_ISDIR(attr.mode)) {
        gofer_clunk(gofer, root_fid);
        return -ENOTDIR;
    }
    struct vfs_superblock *lower = vfs_goferfs_new(gofer, root_fid, &attr, overlay || read_only);
    struct vfs_superblock *sb = lower;
    if (overlay) {
        /* the upper root starts as a copy of the host root's ownership and mode */
        struct vfs_superblock *upper = vfs_tmpfs_new(attr.mode & 07777, attr.uid, attr.gid);
        sb = vfs_overlay_new(upper, lower);
        vfs_superblock_put(upper);
        vfs_superblock_put(lower);
    }
    struct vfs_mount *mount = vfs_mount_new(sb, "none");
    vfs_superblock_put(sb);
    root_out->mount = mount;
    root_out->dentry = mount->root;
    vfs_dentry_get(root_out->dentry);
    return 0;
}

/* A bind mount's target is made when missing, as runc makes it: a directory for a directory, an empty file
 * for a file. In an overlay or tmpfs that happens in memory; on a writable served root, on the host. */
static int make_bind_target(const struct vfs_context *ctx, const char *target, bool directory)
{
    int error = directory ? vfs_mkdir_at(ctx, NULL, target, 0755) : vfs_mknod_at(ctx, NULL, target, S_IFREG | 0644, 0);
    return error == -EEXIST ? 0 : error;
}

int vfs_mount_gofer_tree(const struct vfs_context *ctx, struct gofer_client *gofer, const char *attach_name,
                         const char *target, bool read_only)
{
    uint32_t fid;
    struct gofer_attr attr;
    int error = gofer_attach(gofer, attach_name, &fid, &attr);
    if (error < 0)
        return error;
    bool directory = S_ISDIR(attr.mode);
    struct vfs_superblock *sb = vfs_goferfs_new(gofer, fid, &attr, read_only);
    struct vfs_resolved resolved;
    error = vfs_resolve(ctx, NULL, target, VFS_RESOLVE_FOLLOW, &resolved);
    if (error == -ENOENT) {
        error = make_bind_target(ctx, target, directory);
        if (error == 0)
            error = vfs_resolve(ctx, NULL, target, VFS_RESOLVE_FOLLOW, &resolved);
    }
    if (error == 0) {
        struct vfs_mount *mount = vfs_mount_new(sb, "bind");
        mount->read_only = read_only;
        error = vfs_mount_attach(&resolved.path, mount);
        if (error < 0)
            vfs_mount_put(mount);
        vfs_resolved_release(&resolved);
    }
    vfs_superblock_put(sb);
    return error;
}
