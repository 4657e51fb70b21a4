/* vfs/internal.h: the objects shared by the VFS core and the file systems behind it (superblocks, inodes,
 * dentries, mounts, open files) and the operation tables each file system fills. Not for use outside vfs/. */
#ifndef USANDBOX_VFS_INTERNAL_H
#define USANDBOX_VFS_INTERNAL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>

#include "gofer/gofer.h"
#include "vfs/vfs.h"

enum { VFS_MAY_EXEC = 1, VFS_MAY_WRITE = 2, VFS_MAY_READ = 4 };
#define VFS_NAME_MAX 255
#define VFS_PATH_MAX 4096
#define VFS_MAX_SYMLINKS 40
#define VFS_BLOCK_SIZE 4096
/* Linux caps one read/write at INT_MAX rounded down to a page (MAX_RW_COUNT). */
#define VFS_MAX_RW_COUNT ((size_t)(0x7fffffff & ~(PAGE_SIZE - 1)))

/* ---- hashed names (dentry children, tmpfs directories) ---- */
struct name_table_node {
    struct name_table_node *next;
    uint64_t hash;
    const char *name;
};
struct name_table {
    struct name_table_node **buckets;
    size_t bucket_count, count;
};
void vfs_name_table_init(struct name_table *table);
void vfs_name_table_destroy(struct name_table *table); /* frees the buckets, not the nodes */
void vfs_name_table_insert(struct name_table *table, struct name_table_node *node, const char *name);
void vfs_name_table_remove(struct name_table *table, struct name_table_node *node);
struct name_table_node *vfs_name_table_find(const struct name_table *table, const char *name);
/* Any node (for draining a table), or NULL when empty. */
struct name_table_node *vfs_name_table_any(const struct name_table *table);

/* ---- superblocks: one per file-system instance ---- */
struct vfs_superblock;
struct vfs_inode;
struct vfs_dentry;

struct vfs_fs_type {
    const char *name;                               /* as /proc/mounts shows it */
    void (*kill)(struct vfs_superblock *sb);        /* free private data; the dentry tree is already gone */
    void (*evict_inode)(struct vfs_inode *inode);   /* free an inode's private data */
};

enum {
    VFS_SB_READ_ONLY = 1 << 0,
    /* Lookups always ask the file system: its names change behind the VFS's back (procfs). */
    VFS_SB_NO_DENTRY_CACHE = 1 << 1,
    /* Unused cached dentries are dropped beyond a bound (each Gofer-backed one holds a host fd). */
    VFS_SB_BOUNDED_DENTRY_CACHE = 1 << 2,
};

struct vfs_superblock {
    int refcount;
    const struct vfs_fs_type *type;
    dev_t device;
    unsigned flags;
    struct vfs_dentry *root;
    uint64_t next_inode_number;
    void *private_data;
};
struct vfs_superblock *vfs_superblock_new(const struct vfs_fs_type *type, unsigned flags);
/* Gives the superblock its root directory; takes over the inode reference. */
void vfs_superblock_set_root(struct vfs_superblock *sb, struct vfs_inode *root_inode);
void vfs_superblock_get(struct vfs_superblock *sb);
void vfs_superblock_put(struct vfs_superblock *sb);
dev_t vfs_anonymous_device(void);

/* ---- inodes ---- */
enum {
    VFS_ATTR_MODE = 1 << 0,
    VFS_ATTR_UID = 1 << 1,
    VFS_ATTR_GID = 1 << 2,
    VFS_ATTR_SIZE = 1 << 3,
    VFS_ATTR_ATIME = 1 << 4,
    VFS_ATTR_MTIME = 1 << 5,
    VFS_ATTR_CTIME = 1 << 6,
};
/* A validated change: permission rules were applied by the VFS; the file system only stores it. */
struct vfs_setattr {
    uint32_t mask;
    uint32_t mode, uid, gid; /* mode: permission bits only (07777) */
    off_t size;
    struct timespec atime, mtime, ctime;
};

/* What a creation makes: type and permission bits after umask, owner after setgid-directory rules. */
struct vfs_new_inode {
    uint32_t mode, uid, gid;
    dev_t device;
};

struct vfs_file;
struct vfs_dir_emitter {
    /* Emit one entry; returns false when the caller's buffer is full (the entry was not taken).
     * next_offset is the position to resume after this entry. */
    bool (*emit)(struct vfs_dir_emitter *emitter, const char *name, uint64_t inode_number, unsigned type,
                 int64_t next_offset);
};

struct vfs_inode_operations {
    /* Directory operations take the directory's dentry: the overlay needs the parent chain for copy-up. */
    int (*lookup)(struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out); /* -ENOENT */
    /* Regular files, fifos, devices and sockets (mknod and O_CREAT). */
    int (*create)(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                  struct vfs_inode **inode_out);
    int (*mkdir)(struct vfs_dentry *dir, const char *name, const struct vfs_new_inode *attributes,
                 struct vfs_inode **inode_out);
    int (*symlink)(struct vfs_dentry *dir, const char *name, const char *target,
                   const struct vfs_new_inode *attributes, struct vfs_inode **inode_out);
    int (*link)(struct vfs_dentry *old, struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out);
    int (*unlink)(struct vfs_dentry *dir, struct vfs_dentry *victim);
    int (*rmdir)(struct vfs_dentry *dir, struct vfs_dentry *victim); /* -ENOTEMPTY */
    /* target is the existing entry at new_name, or NULL. flags: RENAME_NOREPLACE/EXCHANGE already checked. */
    int (*rename)(struct vfs_dentry *old_dir, struct vfs_dentry *old, struct vfs_dentry *new_dir,
                  const char *new_name, struct vfs_dentry *target, unsigned flags);
    int (*readlink)(struct vfs_dentry *dentry, const struct vfs_context *ctx, struct text_buffer *out);
    /* A "magic" link (/proc/PID/fd/N) that opens an existing file description instead of a path. */
    int (*open_magic_link)(struct vfs_dentry *dentry, struct vfs_file **file_out);
    /* dentry may be NULL when the change comes through an open file without a path. */
    int (*setattr)(struct vfs_inode *inode, struct vfs_dentry *dentry, const struct vfs_setattr *attributes);
    int (*getattr)(struct vfs_inode *inode, struct stat *stat_out); /* NULL: from the inode's fields */
    /* Called when a file is opened: may replace file->inode, file->ops and set file->private_data. */
    int (*open)(struct vfs_file *file, const struct vfs_context *ctx);
};

struct vfs_file_operations {
    /* offset is NULL for stream files (pipes, host fds) */
    ssize_t (*read)(struct vfs_file *file, void *buffer, size_t length, off_t *offset);
    ssize_t (*write)(struct vfs_file *file, const void *buffer, size_t length, off_t *offset);
    /* Entries at positions >= position (>= 2: "." and ".." are the VFS's). */
    int (*iterate)(struct vfs_file *file, int64_t position, struct vfs_dir_emitter *emitter);
    uint32_t (*poll)(struct vfs_file *file); /* NULL: always readable and writable */
    int (*ioctl)(struct vfs_file *file, unsigned long command, void *argument, size_t argument_size);
    int (*fsync)(struct vfs_file *file);
    void (*release)(struct vfs_file *file);
    bool seek_is_noop; /* lseek succeeds and changes nothing (Linux's noop_llseek), pread still -ESPIPE */
    /* before a waiter is queued, with the events it waits for (host fds ask the Sentry to watch) */
    void (*prepare_wait)(struct vfs_file *file, uint32_t events);
    /* the name /proc/PID/fd shows for a file without a path; NULL: "anon_inode:[INO]" */
    void (*describe)(struct vfs_file *file, struct text_buffer *out);
    bool stream; /* no offsets: lseek and pread give -ESPIPE */
    /* mmap: the memory-file pages behind a range (NULL: none, see vfs_file_map_shared) */
    int (*map_pages)(struct vfs_file *file, uint64_t offset, uint64_t length, struct vfs_shared_pages *out);
};

struct vfs_inode {
    int refcount;
    struct vfs_superblock *sb;
    const struct vfs_inode_operations *ops;
    const struct vfs_file_operations *file_ops;
    uint32_t mode, uid, gid;
    uint64_t link_count, inode_number;
    off_t size;
    dev_t raw_device;
    struct timespec atime, mtime, ctime;
    void *private_data;
};
/* A new inode with one reference, a fresh inode number, owner 0:0, times now, one link. */
struct vfs_inode *vfs_inode_new(struct vfs_superblock *sb, uint32_t mode, const struct vfs_inode_operations *ops,
                                const struct vfs_file_operations *file_ops);
void vfs_inode_get(struct vfs_inode *inode);
void vfs_inode_put(struct vfs_inode *inode);
int vfs_inode_getattr(struct vfs_inode *inode, struct stat *stat_out);
void vfs_inode_fill_stat(const struct vfs_inode *inode, struct stat *stat_out);
/* Applies a validated change to the inode's fields (for file systems that keep attributes in memory). */
void vfs_inode_apply_setattr(struct vfs_inode *inode, const struct vfs_setattr *attributes);
struct timespec vfs_now(void);
void vfs_inode_touch_modified(struct vfs_inode *inode); /* mtime = ctime = now */
void vfs_inode_touch_changed(struct vfs_inode *inode);  /* ctime = now */
unsigned vfs_mode_to_dirent_type(uint32_t mode);

/* The access check of generic_permission(): owner, group or other bits; privileged bypasses r/w and x when
 * any x bit is set (or for directories). mask: VFS_MAY_*. */
int vfs_permission_check(uint32_t mode, uint32_t uid, uint32_t gid, const struct vfs_credentials *credentials,
                         int mask);
int vfs_inode_permission(struct vfs_inode *inode, const struct vfs_credentials *credentials, int mask);
bool vfs_credentials_in_group(const struct vfs_credentials *credentials, uint32_t gid);
bool vfs_credentials_own(const struct vfs_credentials *credentials, uint32_t uid);

/* ---- dentries: the name cache; always positive (a missing name has no dentry) ---- */
struct vfs_dentry {
    int refcount; /* users, plus one per cached child */
    struct vfs_superblock *sb;
    struct vfs_dentry *parent; /* counted; NULL for a superblock's root */
    char *name;
    struct vfs_inode *inode; /* counted */
    struct name_table children;
    struct name_table_node in_parent;
    struct list_node unused; /* in the bounded cache's least-recently-used list while nobody uses it */
    bool cached;   /* in the parent's children table */
    bool unlinked; /* removed from its directory; open files and cwd keep it alive */
    int mount_count;
};
/* How many unused dentries of bounded superblocks stay cached (4096 by default; tests lower it). */
void vfs_set_unused_dentry_limit(size_t limit);
void vfs_dentry_get(struct vfs_dentry *dentry);
void vfs_dentry_put(struct vfs_dentry *dentry);
/* The child named name (not "." or ".."): from the cache, else from the file system. A new reference. */
int vfs_dentry_lookup(struct vfs_dentry *dir, const char *name, struct vfs_dentry **child_out);
/* A child for a freshly created inode (takes over the inode reference); returns a new reference. */
struct vfs_dentry *vfs_dentry_add(struct vfs_dentry *dir, const char *name, struct vfs_inode *inode);
void vfs_dentry_mark_unlinked(struct vfs_dentry *dentry);
void vfs_dentry_move(struct vfs_dentry *dentry, struct vfs_dentry *new_parent, const char *new_name);
/* Forget cached children of dir that nobody uses (after the file system changed them by other means). */
void vfs_dentry_forget_child(struct vfs_dentry *dir, const char *name);
bool vfs_dentry_is_ancestor(const struct vfs_dentry *ancestor, const struct vfs_dentry *dentry);

/* ---- mounts ---- */
struct vfs_mount {
    int refcount;
    struct vfs_superblock *sb;  /* counted */
    struct vfs_dentry *root;    /* counted */
    struct vfs_mount *parent;   /* NULL for the root or a detached mount; the parent holds us */
    struct vfs_dentry *mountpoint; /* counted while attached */
    struct list_node children, sibling;
    char *source;
    bool read_only;
    int id;                     /* /proc/PID/mountinfo's mount id */
};
/* A mount of sb's root, not attached anywhere; takes a new reference on sb. */
struct vfs_mount *vfs_mount_new(struct vfs_superblock *sb, const char *source);
void vfs_mount_get(struct vfs_mount *mount);
void vfs_mount_put(struct vfs_mount *mount);
/* Attach mount (taking over its reference) on the directory at where. */
int vfs_mount_attach(const struct vfs_path *where, struct vfs_mount *mount);
/* The topmost mount attached on dentry as seen through parent, or NULL (no reference taken). */
struct vfs_mount *vfs_mount_find_child(struct vfs_mount *parent, struct vfs_dentry *dentry);
/* Mount sb at target (resolved in ctx), creating the directory if missing. */
int vfs_mount_superblock_at(const struct vfs_context *ctx, const char *target, struct vfs_superblock *sb,
                            const char *source);

/* ---- open file descriptions ---- */
struct vfs_file {
    int refcount;
    struct vfs_path path; /* empty for anonymous files (pipes, host fds) */
    struct vfs_inode *inode;
    const struct vfs_file_operations *ops;
    int flags; /* open(2) flags kept: access mode and status flags */
    off_t offset;
    void *private_data;
    struct wait_queue own_queue;
    struct wait_queue *queue; /* own_queue, or an object's shared queue (a pipe's) */
    struct text_buffer snapshot; /* content generated at open (procfs, sysfs) */
    /* the epoll entries watching this description (epoll.c); all-zero until the first one */
    struct list_node epoll_watchers;
};
/* A new file with one reference; takes new references on path (may be NULL) and inode. */
struct vfs_file *vfs_file_new(const struct vfs_path *path, struct vfs_inode *inode,
                              const struct vfs_file_operations *ops, int flags);
/* Read from a snapshot text: for files whose content is generated at open. */
ssize_t vfs_snapshot_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset);
extern const struct vfs_file_operations vfs_snapshot_file_operations;

/* ---- path resolution (resolve.c) ---- */
enum {
    VFS_RESOLVE_FOLLOW = 1 << 0,     /* follow a final symlink */
    VFS_RESOLVE_DIRECTORY = 1 << 1,  /* the result must be a directory */
    VFS_RESOLVE_EMPTY_PATH = 1 << 2, /* "" means the start directory (AT_EMPTY_PATH) */
    VFS_RESOLVE_CREATE = 1 << 3,     /* a missing final component is not an error: parent and name returned */
};
enum vfs_last_type { VFS_LAST_NORMAL, VFS_LAST_DOT, VFS_LAST_DOTDOT, VFS_LAST_ROOT };

struct vfs_resolved {
    struct vfs_path path;   /* the object found (refs), or empty when missing under VFS_RESOLVE_CREATE */
    struct vfs_path parent; /* the directory of the final component (refs) when missing, or for _parent */
    char name[VFS_NAME_MAX + 1];
    enum vfs_last_type last_type;
    bool trailing_slash;
    /* the final component was a followed magic link (/proc/PID/fd/N): the file it stands for; path is then
     * the file's path when it has one, else the link's own */
    struct vfs_file *magic_file;
};
void vfs_resolved_release(struct vfs_resolved *resolved);
/* Resolve path to an object (or to a parent + missing name with VFS_RESOLVE_CREATE). */
int vfs_resolve(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, int flags,
                struct vfs_resolved *out);
/* Resolve all but the final component: out->parent, out->name, out->last_type, out->trailing_slash. */
int vfs_resolve_parent(const struct vfs_context *ctx, struct vfs_file *dir, const char *path,
                       struct vfs_resolved *out);
/* One component below a directory, crossing into mounts; follows nothing. */
int vfs_lookup_child(const struct vfs_path *dir, const char *name, struct vfs_path *child_out);
/* Where a path is relative to: ctx->cwd, dir's path, or ctx->root for absolute paths (borrowed). */
int vfs_start_path(const struct vfs_context *ctx, struct vfs_file *dir, const char *path, struct vfs_path *out);
/* The path from ctx->root to path ("/a/b"); -ENOENT when unlinked. Paths outside the root are shown from the
 * real top of the mount tree, as Linux does. */
int vfs_path_describe(const struct vfs_path *path, const struct vfs_context *ctx, struct text_buffer *out,
                      bool *unlinked_out);
bool vfs_path_equal(const struct vfs_path *a, const struct vfs_path *b);
bool vfs_path_is_read_only(const struct vfs_path *path);

/* ---- attribute changes with Linux's permission rules (attr.c) ---- */
int vfs_notify_change(struct vfs_inode *inode, struct vfs_dentry *dentry, const struct vfs_setattr *attributes);
int vfs_change_mode(struct vfs_inode *inode, struct vfs_dentry *dentry, bool read_only,
                    const struct vfs_credentials *credentials, uint32_t mode);
int vfs_change_owner(struct vfs_inode *inode, struct vfs_dentry *dentry, bool read_only,
                     const struct vfs_credentials *credentials, uint32_t uid, uint32_t gid);
int vfs_change_size(struct vfs_inode *inode, struct vfs_dentry *dentry, off_t length);

/* ---- inotify's hooks (inotify.c): each VFS operation reports what it did; all return at once when nothing is
 * watched. mask: one IN_* event. ---- */
void vfs_inotify_file_event(struct vfs_file *file, uint32_t mask);    /* open, read, write through a file */
void vfs_inotify_file_closed(struct vfs_file *file);                   /* the description's last reference */
void vfs_inotify_attributes_changed(struct vfs_inode *inode, struct vfs_dentry *dentry, uint32_t attribute_mask);
void vfs_inotify_created(struct vfs_dentry *dir, struct vfs_dentry *child);
void vfs_inotify_link_count_changed(struct vfs_inode *inode);
void vfs_inotify_removed(struct vfs_dentry *dir, struct vfs_dentry *victim, bool directory);
void vfs_inotify_renamed(struct vfs_dentry *old_dir, const char *old_name, struct vfs_dentry *new_dir,
                         const char *new_name, struct vfs_dentry *source, struct vfs_dentry *target, bool exchange);
/* A reference to dentry went (it may be the last user of a removed file: IN_DELETE_SELF is due then). */
void vfs_inotify_dentry_put(struct vfs_dentry *dentry);

/* ---- directory listings taken at once (goferfs, overlay): positions are 2 + the entry's index ---- */
struct vfs_dir_snapshot_entry {
    char *name;
    uint64_t inode_number;
    unsigned type;
};
struct vfs_dir_snapshot {
    struct vfs_dir_snapshot_entry *entries;
    size_t count, capacity;
};
void vfs_dir_snapshot_add(struct vfs_dir_snapshot *snapshot, const char *name, uint64_t inode_number, unsigned type);
void vfs_dir_snapshot_free(struct vfs_dir_snapshot *snapshot);
struct vfs_dir_snapshot_entry *vfs_dir_snapshot_find(struct vfs_dir_snapshot *snapshot, const char *name);
int vfs_dir_snapshot_emit(const struct vfs_dir_snapshot *snapshot, int64_t position, struct vfs_dir_emitter *emitter);
/* A directory file listed once at its start (and again on rewind) by list(), then served from that snapshot
 * (kept in file->private_data) so offsets stay valid: iterate and release for such files. */
int vfs_dir_snapshot_iterate(struct vfs_file *file, int64_t position, struct vfs_dir_emitter *emitter,
                             int (*list)(struct vfs_inode *dir, struct vfs_dir_snapshot *out));
void vfs_dir_snapshot_release(struct vfs_file *file);
/* Every entry of a directory inode of any file system, through its iterate operation. */
int vfs_dir_snapshot_collect(struct vfs_inode *dir, struct vfs_dir_snapshot *out);

/* ---- file systems ---- */
/* The overlay calls the inode operations of its layers with stand-in dentries that carry only inode, name
 * and sb: tmpfs and goferfs must not use a dentry's parent, children or reference count. */
void vfs_stand_in_dentry(struct vfs_dentry *dentry, struct vfs_inode *inode, const char *name);
/* The Gofer-served tree; takes over root_fid. read_only: the Gofer refuses mutations (the overlay's lower). */
struct vfs_superblock *vfs_goferfs_new(struct gofer_client *client, uint32_t root_fid, const struct gofer_attr *root_attr,
                                   bool read_only);
struct vfs_superblock *vfs_overlay_new(struct vfs_superblock *upper, struct vfs_superblock *lower);
struct vfs_superblock *vfs_tmpfs_new(uint32_t root_mode, uint32_t uid, uint32_t gid);
struct vfs_superblock *vfs_devfs_new(void);
struct vfs_superblock *vfs_procfs_new(const struct vfs_procfs_provider *provider);
struct vfs_superblock *vfs_sysfs_new(void);
/* A stand-alone inode of tmpfs type (overlay copy-up, tests). */
bool vfs_tmpfs_is_inode(const struct vfs_inode *inode);
/* Replace the data of a tmpfs regular file (copy-up). */
int vfs_tmpfs_write_data(struct vfs_inode *inode, const void *data, size_t length, off_t offset);
/* The overlay's "opaque" mark on an upper directory: lower entries below it are hidden. */
void vfs_tmpfs_set_opaque(struct vfs_inode *inode, bool opaque);
bool vfs_tmpfs_is_opaque(const struct vfs_inode *inode);
/* The same devices devfs serves, for device nodes made with mknod on other file systems. */
const struct vfs_file_operations *vfs_devfs_device_operations(dev_t device);
/* Pipes behind named fifos: one pipe per fifo inode, created at the first open. */
struct vfs_pipe;
struct vfs_pipe *vfs_pipe_new(void);
void vfs_pipe_put(struct vfs_pipe *pipe);
/* Open file as one end of the fifo's pipe per its access mode; -ENXIO for a non-blocking writer without
 * readers. Sets file->ops, file->queue and file->private_data. */
int vfs_pipe_open_fifo(struct vfs_pipe *pipe, struct vfs_file *file);
/* Whiteout marker used by the overlay: a character device 0:0 in the upper layer. */
#define VFS_WHITEOUT_DEVICE 0

/* ---- anonymous inodes, epoll interest and lock state (anon_inode.c, epoll.c, locks.c) ---- */
/* The one inode every anonymous file shares (eventfd, timerfd, epoll), as Linux's anon_inode_inode: mode 0600
 * without a type, one st_ino. A new reference. */
struct vfs_inode *vfs_anon_inode(void);
/* vfs_file_put calls these when a file description dies, before its release operation: epoll instances forget
 * it, and its flock and OFD locks go. */
void vfs_epoll_forget_file(struct vfs_file *file);
void vfs_locks_forget_file(struct vfs_file *file);


/* ---- tmpfs file data (tmpfs_data.c) ----
 * Sorted, non-overlapping extents of the memory file; pages without an extent are holes and read as zeros. */
struct tmpfs_extent {
    uint64_t first_page, page_count;
    struct memory_region *region; /* the file's reference */
};
struct tmpfs_data {
    struct tmpfs_extent *extents;
    size_t count, capacity;
};
void tmpfs_data_read(const struct tmpfs_data *data, void *buffer, size_t length, off_t offset);
int tmpfs_data_write(struct tmpfs_data *data, const void *buffer, size_t length, off_t offset); /* 0 or -ENOSPC */
void tmpfs_data_truncate(struct tmpfs_data *data, off_t old_size, off_t new_size);
void tmpfs_data_free(struct tmpfs_data *data);
uint64_t tmpfs_data_blocks(const struct tmpfs_data *data); /* 512-byte blocks the host holds */
int tmpfs_data_map(struct tmpfs_data *data, uint64_t offset, uint64_t length, struct vfs_shared_pages *out);

/* ---- IPv4/IPv6 loopback addresses and ports (inet_address.c) ---- */
struct inet_endpoint {
    uint8_t address[16];  /* IPv6 form; an IPv4 address is kept v4-mapped (::ffff:a.b.c.d) */
    uint16_t port;        /* host order */
};
struct inet_port_user {
    struct list_node node;  /* in inet_port_table.users */
    int family;             /* the socket's: AF_INET or AF_INET6 */
    int protocol;           /* IPPROTO_TCP or IPPROTO_UDP */
    struct inet_endpoint endpoint;
    bool v6only, reuse_address, reuse_port, listening;
    uint32_t uid;           /* SO_REUSEPORT shares only among one user's sockets */
    void *owner;            /* the socket */
};
struct inet_port_table {
    struct list_node users;
    uint16_t ephemeral_low, ephemeral_high, next_ephemeral;
};
void inet_endpoint_set_v4(struct inet_endpoint *endpoint, const void *address_network_order, uint16_t port);
bool inet_address_is_v4(const uint8_t address[16]);
bool inet_address_is_any(const uint8_t address[16]);
bool inet_address_is_loopback(const uint8_t address[16]);
void inet_port_table_init(struct inet_port_table *table, uint16_t low, uint16_t high);
bool inet_ports_conflict(const struct inet_port_table *table, const struct inet_port_user *candidate);
/* Port 0 takes an ephemeral port. -EADDRINUSE on a conflict or a full range. */
int inet_ports_bind(struct inet_port_table *table, struct inet_port_user *user);
void inet_ports_unbind(struct inet_port_user *user);
/* Who receives traffic for destination: an exact address before a wildcard. */
struct inet_port_user *inet_ports_find(const struct inet_port_table *table, int protocol,
                                       const struct inet_endpoint *destination, bool listening_only);

/* The sockfs inode every socket's file points at. */
struct vfs_inode *vfs_socket_inode_new(void);

#endif
