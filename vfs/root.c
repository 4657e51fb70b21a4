/* vfs/root.c: the sandbox's root file system from the Gofer: the served tree alone, or under an in-memory
 * overlay. Kept apart from the rest of the VFS so that code without a Gofer links without the client. */
#include "vfs/internal.h"

int vfs_make_root(struct gofer_client *gofer, bool overlay, struct vfs_path *root_out)
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
    struct vfs_superblock *lower = vfs_goferfs_new(gofer, root_fid, &attr, overlay);
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
