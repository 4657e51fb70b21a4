/* vfs/attr.c: attribute changes (chmod, chown, truncate) with Linux's rules on who may change what and which
 * side effects follow (ctime, setuid/setgid clearing); file systems then only store the validated change. */
#include "vfs/internal.h"

int vfs_notify_change(struct vfs_inode *inode, struct vfs_dentry *dentry, const struct vfs_setattr *attributes)
{
    if (!inode->ops || !inode->ops->setattr)
        return -EPERM;
    int error = inode->ops->setattr(inode, dentry, attributes);
    if (error == 0)
        vfs_inotify_attributes_changed(inode, dentry, attributes->mask);
    return error;
}

int vfs_change_mode(struct vfs_inode *inode, struct vfs_dentry *dentry, bool read_only,
                    const struct vfs_credentials *credentials, uint32_t mode)
{
    if (read_only)
        return -EROFS;
    if (!vfs_credentials_own(credentials, inode->uid))
        return -EPERM;
    mode &= 07777;
    /* without CAP_FSETID the setgid bit only stays for a member of the file's group */
    bool privileged = !credentials || credentials->privileged;
    if (!privileged && !vfs_credentials_in_group(credentials, inode->gid))
        mode &= ~(uint32_t)S_ISGID;
    struct vfs_setattr attributes = {.mask = VFS_ATTR_MODE | VFS_ATTR_CTIME, .mode = mode, .ctime = vfs_now()};
    return vfs_notify_change(inode, dentry, &attributes);
}

int vfs_change_owner(struct vfs_inode *inode, struct vfs_dentry *dentry, bool read_only,
                     const struct vfs_credentials *credentials, uint32_t uid, uint32_t gid)
{
    if (read_only)
        return -EROFS;
    bool privileged = !credentials || credentials->privileged;
    struct vfs_setattr attributes = {.mask = VFS_ATTR_CTIME, .ctime = vfs_now()};
    if (uid != (uint32_t)-1) {
        if (!privileged && !(credentials->fsuid == inode->uid && uid == inode->uid))
            return -EPERM;
        attributes.mask |= VFS_ATTR_UID;
        attributes.uid = uid;
    }
    if (gid != (uint32_t)-1) {
        if (!privileged && !(credentials->fsuid == inode->uid &&
                             (gid == inode->gid || vfs_credentials_in_group(credentials, gid))))
            return -EPERM;
        attributes.mask |= VFS_ATTR_GID;
        attributes.gid = gid;
    }
    if (!S_ISDIR(inode->mode)) {
        /* a new owner must not inherit the old owner's setuid power (Linux does this even for root) */
        uint32_t mode = inode->mode & 07777;
        if (mode & S_ISUID)
            mode &= ~(uint32_t)S_ISUID;
        if ((mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
            mode &= ~(uint32_t)S_ISGID;
        if (mode != (inode->mode & 07777)) {
            attributes.mask |= VFS_ATTR_MODE;
            attributes.mode = mode;
        }
    }
    return vfs_notify_change(inode, dentry, &attributes);
}

int vfs_change_size(struct vfs_inode *inode, struct vfs_dentry *dentry, off_t length)
{
    if (length < 0)
        return -EINVAL;
    struct timespec now = vfs_now();
    struct vfs_setattr attributes = {.mask = VFS_ATTR_SIZE | VFS_ATTR_MTIME | VFS_ATTR_CTIME,
                                     .size = length, .mtime = now, .ctime = now};
    return vfs_notify_change(inode, dentry, &attributes);
}
