/* vfs/inotify.c: inotify instances (their event queues, with Linux's coalescing and overflow rules), watches on
 * inodes with Linux's descriptors and flags, and the notification hooks the VFS operations call. */
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

#include "vfs/internal.h"

/* Linux's defaults for /proc/sys/fs/inotify/max_queued_events and max_user_instances; watches are capped
 * sandbox-wide (Linux's per-user max_user_watches depends on the host's memory). */
#define INOTIFY_MAX_QUEUED_EVENTS 16384
#define INOTIFY_MAX_INSTANCES 128
#define INOTIFY_MAX_WATCHES 65536
#define INOTIFY_EVENT_SIZE ((uint32_t)sizeof(struct inotify_event))
/* the flags add_watch understands beside events (ALL_INOTIFY_BITS in Linux) */
#define INOTIFY_WATCH_FLAGS (IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ONESHOT)
#define INOTIFY_ALL_BITS \
    (IN_ALL_EVENTS | IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ISDIR | INOTIFY_WATCH_FLAGS)
/* events a directory's watch also hears of for its children (with their names) */
#define INOTIFY_CHILD_EVENTS (IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN)
#define WATCH_BUCKETS 256

struct inotify_record {
    struct list_node node;
    int32_t wd;
    uint32_t mask, cookie;
    uint32_t padded_name_length; /* 0 without a name; else the name, NUL and zero padding to 16 bytes */
    char name[];
};

struct inotify_instance {
    struct vfs_file *file;
    struct list_node events;      /* struct inotify_record, oldest first */
    size_t queued_count;          /* including a queued overflow record */
    size_t queued_bytes;          /* what FIONREAD reports */
    bool overflow_queued;
    int32_t last_wd;              /* descriptors are allocated cyclically after it */
    struct list_node watches;     /* struct inotify_watch, by in_instance */
};

struct inotify_watch {
    struct inotify_instance *instance;
    struct vfs_inode *inode;      /* the key: events are about inodes */
    struct vfs_dentry *dentry;    /* counted: keeps the name cache (and so the inode) in place */
    int32_t wd;
    uint32_t mask;                /* events and the flags IN_ONESHOT, IN_EXCL_UNLINK */
    bool deletion_pending;        /* the inode lost its last name while in use: IN_DELETE_SELF at its last put */
    struct list_node in_instance, in_bucket;
};

static struct list_node watch_buckets[WATCH_BUCKETS];
static bool watch_buckets_ready;
static size_t watch_count, instance_count;
static uint32_t next_cookie;

static struct list_node *bucket_of(const struct vfs_inode *inode)
{
    if (!watch_buckets_ready) {
        for (size_t i = 0; i < WATCH_BUCKETS; i++)
            list_init(&watch_buckets[i]);
        watch_buckets_ready = true;
    }
    uintptr_t key = (uintptr_t)inode;
    return &watch_buckets[(key >> 4 ^ key >> 12) % WATCH_BUCKETS];
}

static struct inotify_instance *instance_of(struct vfs_file *file) { return file->private_data; }

/* ---- the event queue ---- */

static uint32_t padded_length_of(const char *name)
{
    if (!name)
        return 0;
    size_t length = strlen(name) + 1;
    return (uint32_t)((length + INOTIFY_EVENT_SIZE - 1) / INOTIFY_EVENT_SIZE * INOTIFY_EVENT_SIZE);
}

static bool record_matches(const struct inotify_record *record, int32_t wd, uint32_t mask, uint32_t cookie,
                           const char *name)
{
    if (record->wd != wd || record->mask != mask || record->cookie != cookie)
        return false;
    if (!name || !record->padded_name_length)
        return !name && !record->padded_name_length;
    return strcmp(record->name, name) == 0;
}

static void append_record(struct inotify_instance *instance, int32_t wd, uint32_t mask, uint32_t cookie,
                          const char *name)
{
    uint32_t padded = padded_length_of(name);
    struct inotify_record *record = xcalloc(1, sizeof(*record) + padded);
    record->wd = wd;
    record->mask = mask;
    record->cookie = cookie;
    record->padded_name_length = padded;
    if (name)
        memcpy(record->name, name, strlen(name));
    list_insert_tail(&instance->events, &record->node);
    instance->queued_count++;
    instance->queued_bytes += INOTIFY_EVENT_SIZE + padded;
    wait_queue_notify(instance->file->queue, POLLIN | POLLRDNORM);
}

/* fsnotify_insert_event(): past the limit one IN_Q_OVERFLOW record stands for everything lost; an event equal
 * to the newest unread one is merged into it (inotify_merge). */
static void queue_event(struct inotify_instance *instance, int32_t wd, uint32_t mask, uint32_t cookie,
                        const char *name)
{
    if (instance->queued_count >= INOTIFY_MAX_QUEUED_EVENTS) {
        if (!instance->overflow_queued) {
            instance->overflow_queued = true;
            append_record(instance, -1, IN_Q_OVERFLOW, 0, NULL);
        }
        return;
    }
    if (!list_empty(&instance->events) &&
        record_matches(CONTAINER_OF(instance->events.prev, struct inotify_record, node), wd, mask, cookie, name))
        return;
    append_record(instance, wd, mask, cookie, name);
}

static void drop_record(struct inotify_instance *instance, struct inotify_record *record)
{
    list_remove(&record->node);
    instance->queued_count--;
    instance->queued_bytes -= INOTIFY_EVENT_SIZE + record->padded_name_length;
    if (record->wd == -1 && record->mask == IN_Q_OVERFLOW)
        instance->overflow_queued = false;
    free(record);
}

/* ---- watches ---- */

/* A watch ended while events are being delivered keeps its dentry until the delivery is over: dropping it
 * may end a removed file's last use, whose IN_DELETE_SELF would end more watches of the list being walked. */
static int delivery_depth;
static struct vfs_dentry **deferred_puts;
static size_t deferred_count, deferred_capacity;
static bool flushing;

static void release_dentry(struct vfs_dentry *dentry)
{
    if (delivery_depth == 0) {
        vfs_dentry_put(dentry);
        return;
    }
    if (deferred_count == deferred_capacity) {
        size_t capacity = deferred_capacity ? deferred_capacity * 2 : 16;
        struct vfs_dentry **grown = realloc(deferred_puts, capacity * sizeof(*grown));
        if (!grown)
            abort(); /* as xcalloc: the Sentry cannot go on without host memory */
        deferred_puts = grown;
        deferred_capacity = capacity;
    }
    deferred_puts[deferred_count++] = dentry;
}

static void delivery_begin(void) { delivery_depth++; }

static void delivery_end(void)
{
    if (--delivery_depth > 0 || flushing)
        return;
    flushing = true;
    while (deferred_count > 0)
        vfs_dentry_put(deferred_puts[--deferred_count]);
    flushing = false;
}

static void watch_destroy(struct inotify_watch *watch, bool report)
{
    if (report)
        queue_event(watch->instance, watch->wd, IN_IGNORED, 0, NULL);
    list_remove(&watch->in_instance);
    list_remove(&watch->in_bucket);
    release_dentry(watch->dentry);
    watch_count--;
    free(watch);
}

static struct inotify_watch *watch_find_inode(struct inotify_instance *instance, struct vfs_inode *inode)
{
    LIST_FOR_EACH(node, &instance->watches) {
        struct inotify_watch *watch = CONTAINER_OF(node, struct inotify_watch, in_instance);
        if (watch->inode == inode)
            return watch;
    }
    return NULL;
}

static struct inotify_watch *watch_find_descriptor(struct inotify_instance *instance, int32_t wd)
{
    LIST_FOR_EACH(node, &instance->watches) {
        struct inotify_watch *watch = CONTAINER_OF(node, struct inotify_watch, in_instance);
        if (watch->wd == wd)
            return watch;
    }
    return NULL;
}

/* idr_alloc_cyclic(1..INT_MAX): the next free descriptor after the last one given, wrapping around. */
static int32_t allocate_descriptor(struct inotify_instance *instance)
{
    int32_t candidate = instance->last_wd;
    for (;;) {
        candidate = candidate == INT32_MAX ? 1 : candidate + 1;
        if (!watch_find_descriptor(instance, candidate))
            break;
    }
    instance->last_wd = candidate;
    return candidate;
}

/* Deliver one event about inode to every watch on it that asks for it. name: the child's name when inode is
 * the directory hearing of a child. through_unlinked_path: the event comes through an open file whose name
 * was removed (IN_EXCL_UNLINK watches ignore those). */
static void deliver(struct vfs_inode *inode, uint32_t mask, uint32_t cookie, const char *name,
                    bool through_unlinked_path)
{
    struct list_node *bucket = bucket_of(inode);
    delivery_begin();
    LIST_FOR_EACH_SAFE(node, next, bucket) {
        struct inotify_watch *watch = CONTAINER_OF(node, struct inotify_watch, in_bucket);
        if (watch->inode != inode || !(watch->mask & mask & IN_ALL_EVENTS))
            continue;
        if (through_unlinked_path && (watch->mask & IN_EXCL_UNLINK))
            continue;
        queue_event(watch->instance, watch->wd, mask, cookie, name);
        if (watch->mask & IN_ONESHOT)
            watch_destroy(watch, true);
    }
    delivery_end();
}

static uint32_t with_directory_bit(const struct vfs_inode *inode, uint32_t mask)
{
    return S_ISDIR(inode->mode) ? mask | IN_ISDIR : mask;
}

/* fsnotify_parent() then the inode's own watches: a watched directory hears of its child (with the name)
 * first, the child's watch after. */
static void notify_dentry(struct vfs_dentry *dentry, uint32_t mask, bool through_unlinked_path)
{
    if (watch_count == 0 || !dentry)
        return;
    mask = with_directory_bit(dentry->inode, mask);
    if (dentry->parent && (mask & INOTIFY_CHILD_EVENTS) && S_ISDIR(dentry->parent->inode->mode))
        deliver(dentry->parent->inode, mask, 0, dentry->name, through_unlinked_path);
    deliver(dentry->inode, mask, 0, NULL, through_unlinked_path);
}

/* The inode is gone (its last link, or a directory removed): IN_DELETE_SELF, then every watch on it ends. */
static void notify_inode_deleted(struct vfs_inode *inode)
{
    /* inotify never reports IN_ISDIR with IN_DELETE_SELF or IN_MOVE_SELF (Linux masks it out) */
    delivery_begin();
    deliver(inode, IN_DELETE_SELF, 0, NULL, false);
    struct list_node *bucket = bucket_of(inode);
    LIST_FOR_EACH_SAFE(node, next, bucket) {
        struct inotify_watch *watch = CONTAINER_OF(node, struct inotify_watch, in_bucket);
        if (watch->inode == inode)
            watch_destroy(watch, true);
    }
    delivery_end();
}

/* The references to dentry that its watches hold. */
static int watch_references(struct vfs_dentry *dentry, bool pending_only)
{
    int count = 0;
    LIST_FOR_EACH(node, bucket_of(dentry->inode)) {
        struct inotify_watch *watch = CONTAINER_OF(node, struct inotify_watch, in_bucket);
        if (watch->dentry == dentry && (!pending_only || watch->deletion_pending))
            count++;
    }
    return count;
}

/* The inode lost its last name: Linux reports IN_DELETE_SELF when the dentry's last user lets go (dput), so
 * at once unless an open file (or a cwd) still holds it. held: the references the caller itself holds. */
static void inode_unlinked(struct vfs_dentry *dentry, int held)
{
    if (dentry->refcount - held - watch_references(dentry, false) <= 0) {
        notify_inode_deleted(dentry->inode);
        return;
    }
    LIST_FOR_EACH(node, bucket_of(dentry->inode)) {
        struct inotify_watch *watch = CONTAINER_OF(node, struct inotify_watch, in_bucket);
        if (watch->dentry == dentry)
            watch->deletion_pending = true;
    }
}

void vfs_inotify_dentry_put(struct vfs_dentry *dentry)
{
    if (watch_count == 0 || !dentry->unlinked)
        return;
    int pending = watch_references(dentry, true);
    if (pending == 0 || dentry->refcount > watch_references(dentry, false))
        return;
    /* only watches hold it now: this was the last user */
    LIST_FOR_EACH(node, bucket_of(dentry->inode)) {
        struct inotify_watch *watch = CONTAINER_OF(node, struct inotify_watch, in_bucket);
        if (watch->dentry == dentry)
            watch->deletion_pending = false;
    }
    notify_inode_deleted(dentry->inode);
}

/* ---- hooks for the VFS operations (declared in vfs/internal.h) ---- */

void vfs_inotify_file_event(struct vfs_file *file, uint32_t mask)
{
    if (watch_count == 0 || !file || !file->path.dentry || (file->flags & O_PATH))
        return;
    notify_dentry(file->path.dentry, mask, file->path.dentry->unlinked);
}

void vfs_inotify_file_closed(struct vfs_file *file)
{
    if (!file->ops)
        return; /* never opened */
    vfs_inotify_file_event(file, vfs_file_writable(file) ? IN_CLOSE_WRITE : IN_CLOSE_NOWRITE);
}

void vfs_inotify_attributes_changed(struct vfs_inode *inode, struct vfs_dentry *dentry, uint32_t attribute_mask)
{
    if (watch_count == 0)
        return;
    /* fsnotify_change(): which event a change of attributes makes */
    uint32_t mask = 0;
    if (attribute_mask & (VFS_ATTR_UID | VFS_ATTR_GID | VFS_ATTR_MODE))
        mask |= IN_ATTRIB;
    if (attribute_mask & VFS_ATTR_SIZE)
        mask |= IN_MODIFY;
    if ((attribute_mask & (VFS_ATTR_ATIME | VFS_ATTR_MTIME)) == (VFS_ATTR_ATIME | VFS_ATTR_MTIME))
        mask |= IN_ATTRIB;
    else if (attribute_mask & VFS_ATTR_ATIME)
        mask |= IN_ACCESS;
    else if (attribute_mask & VFS_ATTR_MTIME)
        mask |= IN_MODIFY;
    if (!mask)
        return;
    if (dentry && dentry->inode == inode)
        notify_dentry(dentry, mask, false);
    else
        deliver(inode, with_directory_bit(inode, mask), 0, NULL, false);
}

void vfs_inotify_created(struct vfs_dentry *dir, struct vfs_dentry *child)
{
    if (watch_count == 0)
        return;
    deliver(dir->inode, with_directory_bit(child->inode, IN_CREATE), 0, child->name, false);
}

void vfs_inotify_link_count_changed(struct vfs_inode *inode)
{
    if (watch_count == 0)
        return;
    deliver(inode, with_directory_bit(inode, IN_ATTRIB), 0, NULL, false);
}

void vfs_inotify_removed(struct vfs_dentry *dir, struct vfs_dentry *victim, bool directory)
{
    if (watch_count == 0)
        return;
    struct vfs_inode *inode = victim->inode;
    /* vfs_unlink: the link count (files), the inode's end when that was its last name, then the directory */
    if (!directory)
        vfs_inotify_link_count_changed(inode);
    if (directory || inode->link_count == 0)
        inode_unlinked(victim, 1);
    deliver(dir->inode, with_directory_bit(inode, IN_DELETE), 0, victim->name, false);
}

/* fsnotify_move(): IN_MOVED_FROM and IN_MOVED_TO share a cookie; a replaced target loses a link; the moved
 * inode hears IN_MOVE_SELF. */
static void notify_move(struct vfs_dentry *old_dir, const char *old_name, struct vfs_dentry *new_dir,
                        const char *new_name, struct vfs_inode *moved, struct vfs_inode *replaced)
{
    uint32_t cookie = ++next_cookie;
    if (cookie == 0)
        cookie = ++next_cookie;
    deliver(old_dir->inode, with_directory_bit(moved, IN_MOVED_FROM), cookie, old_name, false);
    deliver(new_dir->inode, with_directory_bit(moved, IN_MOVED_TO), cookie, new_name, false);
    if (replaced)
        vfs_inotify_link_count_changed(replaced);
    deliver(moved, IN_MOVE_SELF, 0, NULL, false);
}

void vfs_inotify_renamed(struct vfs_dentry *old_dir, const char *old_name, struct vfs_dentry *new_dir,
                         const char *new_name, struct vfs_dentry *source, struct vfs_dentry *target, bool exchange)
{
    if (watch_count == 0)
        return;
    notify_move(old_dir, old_name, new_dir, new_name, source->inode, exchange || !target ? NULL : target->inode);
    if (exchange && target)
        notify_move(new_dir, new_name, old_dir, old_name, target->inode, NULL);
    else if (target && (S_ISDIR(target->inode->mode) || target->inode->link_count == 0))
        inode_unlinked(target, 1);
}

/* ---- the inotify file ---- */

static ssize_t inotify_file_read(struct vfs_file *file, void *buffer, size_t length, off_t *offset)
{
    (void)offset;
    struct inotify_instance *instance = instance_of(file);
    if (list_empty(&instance->events))
        return -EAGAIN;
    size_t used = 0;
    while (!list_empty(&instance->events)) {
        struct inotify_record *record = CONTAINER_OF(instance->events.next, struct inotify_record, node);
        size_t size = INOTIFY_EVENT_SIZE + record->padded_name_length;
        if (size > length - used)
            return used ? (ssize_t)used : -EINVAL;
        struct inotify_event header = {.wd = record->wd, .mask = record->mask, .cookie = record->cookie,
                                       .len = record->padded_name_length};
        memcpy((char *)buffer + used, &header, sizeof(header));
        memcpy((char *)buffer + used + sizeof(header), record->name, record->padded_name_length);
        used += size;
        drop_record(instance, record);
    }
    return (ssize_t)used;
}

static uint32_t inotify_file_poll(struct vfs_file *file)
{
    return list_empty(&instance_of(file)->events) ? 0 : POLLIN | POLLRDNORM;
}

static int inotify_file_ioctl(struct vfs_file *file, unsigned long command, void *argument, size_t argument_size)
{
    if (command != FIONREAD)
        return -ENOTTY;
    if (argument_size < sizeof(int))
        return -EFAULT;
    int bytes = (int)instance_of(file)->queued_bytes;
    memcpy(argument, &bytes, sizeof(bytes));
    return 0;
}

static void inotify_file_release(struct vfs_file *file)
{
    struct inotify_instance *instance = instance_of(file);
    while (!list_empty(&instance->watches))
        watch_destroy(CONTAINER_OF(instance->watches.next, struct inotify_watch, in_instance), false);
    while (!list_empty(&instance->events))
        drop_record(instance, CONTAINER_OF(instance->events.next, struct inotify_record, node));
    instance_count--;
    free(instance);
}

static void inotify_file_describe(struct vfs_file *file, struct text_buffer *out)
{
    (void)file;
    text_buffer_append(out, "anon_inode:inotify");
}

static const struct vfs_file_operations inotify_file_operations = {
    .read = inotify_file_read,
    .poll = inotify_file_poll,
    .ioctl = inotify_file_ioctl,
    .release = inotify_file_release,
    .describe = inotify_file_describe,
    .stream = true,
    .seek_is_noop = true, /* Linux's inotify files have noop_llseek */
};

bool vfs_file_is_inotify(struct vfs_file *file) { return file->ops == &inotify_file_operations; }

int vfs_inotify_create(int flags, struct vfs_file **out)
{
    if (flags & ~(IN_CLOEXEC | IN_NONBLOCK))
        return -EINVAL;
    if (instance_count >= INOTIFY_MAX_INSTANCES)
        return -EMFILE;
    struct inotify_instance *instance = xcalloc(1, sizeof(*instance));
    list_init(&instance->events);
    list_init(&instance->watches);
    struct vfs_inode *inode = vfs_anon_inode();
    struct vfs_file *file = vfs_file_new(NULL, inode, &inotify_file_operations, O_RDONLY | (flags & IN_NONBLOCK));
    vfs_inode_put(inode);
    file->private_data = instance;
    instance->file = file;
    instance_count++;
    *out = file;
    return 0;
}

int vfs_inotify_check_mask(uint32_t mask)
{
    if ((mask & IN_MASK_ADD) && (mask & IN_MASK_CREATE))
        return -EINVAL;
    if ((mask & ~(uint32_t)INOTIFY_ALL_BITS) || !(mask & INOTIFY_ALL_BITS))
        return -EINVAL;
    return 0;
}

int vfs_inotify_add_watch(const struct vfs_context *ctx, struct vfs_file *file, const char *path, uint32_t mask)
{
    int error = vfs_inotify_check_mask(mask);
    if (error)
        return error;
    if (!vfs_file_is_inotify(file))
        return -EINVAL;
    int resolve_flags = 0;
    if (!(mask & IN_DONT_FOLLOW))
        resolve_flags |= VFS_RESOLVE_FOLLOW;
    if (mask & IN_ONLYDIR)
        resolve_flags |= VFS_RESOLVE_DIRECTORY;
    struct vfs_resolved resolved;
    error = vfs_resolve(ctx, NULL, path, resolve_flags, &resolved);
    if (error < 0)
        return error;
    struct vfs_dentry *dentry = resolved.path.dentry;
    if (resolved.magic_file && resolved.magic_file->path.dentry)
        dentry = resolved.magic_file->path.dentry;
    /* only what the caller may read can be watched */
    error = vfs_inode_permission(dentry->inode, ctx->credentials, VFS_MAY_READ);
    if (error == 0) {
        struct inotify_instance *instance = instance_of(file);
        uint32_t kept = mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK);
        struct inotify_watch *watch = watch_find_inode(instance, dentry->inode);
        if (watch && (mask & IN_MASK_CREATE)) {
            error = -EEXIST;
        } else if (watch) {
            watch->mask = (mask & IN_MASK_ADD) ? watch->mask | kept : kept;
            error = watch->wd;
        } else if (watch_count >= INOTIFY_MAX_WATCHES) {
            error = -ENOSPC;
        } else {
            watch = xcalloc(1, sizeof(*watch));
            watch->instance = instance;
            watch->inode = dentry->inode;
            watch->dentry = dentry;
            vfs_dentry_get(dentry);
            watch->wd = allocate_descriptor(instance);
            watch->mask = kept;
            list_insert_tail(&instance->watches, &watch->in_instance);
            list_insert_tail(bucket_of(watch->inode), &watch->in_bucket);
            watch_count++;
            error = watch->wd;
        }
    }
    vfs_resolved_release(&resolved);
    return error;
}

int vfs_inotify_rm_watch(struct vfs_file *file, int32_t wd)
{
    if (!vfs_file_is_inotify(file))
        return -EINVAL;
    struct inotify_watch *watch = watch_find_descriptor(instance_of(file), wd);
    if (!watch)
        return -EINVAL;
    watch_destroy(watch, true);
    return 0;
}
