/* vfs/locks.c: advisory file locks: flock(2) locks owned by open file descriptions, and fcntl record locks
 * owned by a process (F_SETLK) or by a description (F_OFD_SETLK), split and merged by range as Linux does. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/file.h>

#include "vfs/internal.h"

#define LOCK_OFFSET_MAX INT64_MAX /* Linux's OFFSET_MAX: a lock "to end of file" ends here */

/* flock locks and record locks live side by side and never conflict with each other (as on Linux). */
enum lock_kind { LOCK_KIND_FLOCK, LOCK_KIND_POSIX, LOCK_KIND_OFD };

struct file_lock {
    struct list_node node;
    enum lock_kind kind;
    short type;             /* F_RDLCK or F_WRLCK */
    int32_t pid;            /* POSIX locks: the owning process */
    struct vfs_file *file;  /* flock and OFD locks: the owning description; POSIX ones: the one used (not counted) */
    int64_t start, end;     /* inclusive byte range; flock locks cover everything */
};

/* The locks of one inode. It exists only while some lock does, and holds the inode meanwhile. */
struct lock_state {
    struct list_node in_registry;
    struct vfs_inode *inode;
    struct list_node locks;
    struct wait_queue queue; /* blocked lockers; notified on every release */
};

static struct list_node lock_registry = {&lock_registry, &lock_registry};

/* An overlay file's identity is its path's inode, as fstat reports. */
static struct vfs_inode *lock_inode(struct vfs_file *file)
{
    return file->path.dentry ? file->path.dentry->inode : file->inode;
}

static struct lock_state *lock_state_find(struct vfs_inode *inode)
{
    LIST_FOR_EACH(node, &lock_registry) {
        struct lock_state *state = CONTAINER_OF(node, struct lock_state, in_registry);
        if (state->inode == inode)
            return state;
    }
    return NULL;
}

static struct lock_state *lock_state_get(struct vfs_inode *inode)
{
    struct lock_state *state = lock_state_find(inode);
    if (state)
        return state;
    state = xcalloc(1, sizeof(*state));
    vfs_inode_get(inode);
    state->inode = inode;
    list_init(&state->locks);
    wait_queue_init(&state->queue);
    list_insert_tail(&lock_registry, &state->in_registry);
    return state;
}

/* After locks were dropped: blocked lockers retry (a woken task leaves the queue at once), and a state without
 * locks goes, since nobody can be blocked on it any more. */
static void lock_state_changed(struct lock_state *state, bool released)
{
    if (released)
        wait_queue_notify(&state->queue, POLLIN | POLLOUT);
    if (!list_empty(&state->locks))
        return;
    LIST_FOR_EACH_SAFE(node, next, &state->queue.waiters) list_remove(node);
    list_remove(&state->in_registry);
    vfs_inode_put(state->inode);
    free(state);
}

static bool same_owner(const struct file_lock *a, const struct file_lock *b)
{
    if (a->kind != b->kind)
        return false;
    return a->kind == LOCK_KIND_POSIX ? a->pid == b->pid : a->file == b->file;
}

static bool locks_conflict(const struct file_lock *held, const struct file_lock *wanted)
{
    if ((held->kind == LOCK_KIND_FLOCK) != (wanted->kind == LOCK_KIND_FLOCK) || same_owner(held, wanted))
        return false;
    if (held->type != F_WRLCK && wanted->type != F_WRLCK)
        return false;
    return held->start <= wanted->end && wanted->start <= held->end;
}

static struct file_lock *first_conflict(struct lock_state *state, const struct file_lock *wanted)
{
    if (!state)
        return NULL;
    LIST_FOR_EACH(node, &state->locks) {
        struct file_lock *held = CONTAINER_OF(node, struct file_lock, node);
        if (locks_conflict(held, wanted))
            return held;
    }
    return NULL;
}

static struct file_lock *lock_new(const struct file_lock *model, int64_t start, int64_t end)
{
    struct file_lock *lock = xcalloc(1, sizeof(*lock));
    *lock = *model;
    list_init(&lock->node);
    lock->start = start;
    lock->end = end;
    return lock;
}

static void lock_free(struct file_lock *lock)
{
    list_remove(&lock->node);
    free(lock);
}

/* ---- flock ---- */
int vfs_flock(struct vfs_file *file, int operation)
{
    int command = operation & ~LOCK_NB;
    short type;
    switch (command) {
    case LOCK_SH: type = F_RDLCK; break;
    case LOCK_EX: type = F_WRLCK; break;
    case LOCK_UN: type = F_UNLCK; break;
    default: return -EINVAL;
    }
    if (type != F_UNLCK && !vfs_file_readable(file) && !vfs_file_writable(file))
        return -EBADF;
    struct vfs_inode *inode = lock_inode(file);
    if (!inode)
        return -EBADF;
    struct lock_state *state = lock_state_find(inode);
    bool released = false;
    if (state) {
        LIST_FOR_EACH(node, &state->locks) {
            struct file_lock *held = CONTAINER_OF(node, struct file_lock, node);
            if (held->kind != LOCK_KIND_FLOCK || held->file != file)
                continue;
            if (held->type == type)
                return 0;
            /* a conversion is not atomic on Linux either: the old lock goes first, even if the new one fails */
            lock_free(held);
            released = true;
            break;
        }
    }
    struct file_lock wanted = {.kind = LOCK_KIND_FLOCK, .type = type, .file = file, .start = 0,
                               .end = LOCK_OFFSET_MAX};
    int result = 0;
    if (type != F_UNLCK) {
        if (first_conflict(state, &wanted)) {
            result = -EWOULDBLOCK;
        } else {
            state = lock_state_get(inode);
            list_insert_tail(&state->locks, &lock_new(&wanted, 0, LOCK_OFFSET_MAX)->node);
        }
    }
    if (state)
        lock_state_changed(state, released);
    return result;
}

/* ---- record locks ---- */
static bool is_ofd_command(int command)
{
    return command == F_OFD_GETLK || command == F_OFD_SETLK || command == F_OFD_SETLKW;
}

/* struct flock to an inclusive range, as Linux's flock_to_posix_lock (with its errors, in its order). */
static int lock_range(struct vfs_file *file, const struct flock *request, int64_t *start_out, int64_t *end_out)
{
    int64_t base;
    switch (request->l_whence) {
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = file->offset; break;
    case SEEK_END: {
        struct stat attributes;
        base = vfs_fstat(file, &attributes) == 0 ? attributes.st_size : lock_inode(file)->size;
        break;
    }
    default: return -EINVAL;
    }
    if (request->l_start > LOCK_OFFSET_MAX - base)
        return -EOVERFLOW;
    int64_t start = base + request->l_start;
    if (start < 0)
        return -EINVAL;
    int64_t end;
    if (request->l_len > 0) {
        if (request->l_len - 1 > LOCK_OFFSET_MAX - start)
            return -EOVERFLOW;
        end = start + (request->l_len - 1);
    } else if (request->l_len < 0) {
        if (start + request->l_len < 0)
            return -EINVAL;
        end = start - 1;
        start += request->l_len;
    } else {
        end = LOCK_OFFSET_MAX;
    }
    if (request->l_type != F_RDLCK && request->l_type != F_WRLCK && request->l_type != F_UNLCK)
        return -EINVAL;
    *start_out = start;
    *end_out = end;
    return 0;
}

static void describe_lock(const struct file_lock *lock, struct flock *out)
{
    out->l_type = lock->type;
    out->l_whence = SEEK_SET;
    out->l_start = lock->start;
    out->l_len = lock->end == LOCK_OFFSET_MAX ? 0 : lock->end - lock->start + 1;
    out->l_pid = lock->kind == LOCK_KIND_OFD ? -1 : lock->pid;
}

/* The owner's locks over [start, end] are cut away (split where they straddle it), the new lock goes in, and
 * it merges with the owner's adjacent locks of its type: one owner never holds overlapping locks. */
static bool apply_lock(struct lock_state *state, const struct file_lock *wanted)
{
    bool released = false;
    int64_t start = wanted->start, end = wanted->end;
    LIST_FOR_EACH_SAFE(node, next, &state->locks) {
        struct file_lock *held = CONTAINER_OF(node, struct file_lock, node);
        if (!same_owner(held, wanted) || held->end < start || held->start > end)
            continue;
        if (held->type != wanted->type)
            released = true; /* a write lock turned read (or unlocked) may let someone in */
        if (held->start < start && held->end > end) {
            struct file_lock *right = lock_new(held, end + 1, held->end);
            list_insert_tail(&state->locks, &right->node);
            held->end = start - 1;
        } else if (held->start < start) {
            held->end = start - 1;
        } else if (held->end > end) {
            held->start = end + 1;
        } else {
            lock_free(held);
        }
    }
    if (wanted->type == F_UNLCK)
        return released;
    LIST_FOR_EACH_SAFE(node, next, &state->locks) {
        struct file_lock *held = CONTAINER_OF(node, struct file_lock, node);
        if (!same_owner(held, wanted) || held->type != wanted->type)
            continue;
        if (held->end != LOCK_OFFSET_MAX && held->end + 1 == start) {
            start = held->start;
            lock_free(held);
        } else if (end != LOCK_OFFSET_MAX && held->start == end + 1) {
            end = held->end;
            lock_free(held);
        }
    }
    list_insert_tail(&state->locks, &lock_new(wanted, start, end)->node);
    return released;
}

int vfs_posix_lock(struct vfs_file *file, int32_t owner_pid, int command, struct flock *request)
{
    bool ofd = is_ofd_command(command);
    bool test = command == F_GETLK || command == F_OFD_GETLK;
    if (!test && command != F_SETLK && command != F_SETLKW && command != F_OFD_SETLK && command != F_OFD_SETLKW)
        return -EINVAL;
    if (test && request->l_type != F_RDLCK && request->l_type != F_WRLCK)
        return -EINVAL;
    struct file_lock wanted = {.kind = ofd ? LOCK_KIND_OFD : LOCK_KIND_POSIX, .type = request->l_type,
                               .pid = owner_pid, .file = file};
    int error = lock_range(file, request, &wanted.start, &wanted.end);
    if (error)
        return error;
    if (!test && ((wanted.type == F_RDLCK && !vfs_file_readable(file)) ||
                  (wanted.type == F_WRLCK && !vfs_file_writable(file))))
        return -EBADF;
    if (ofd && request->l_pid != 0)
        return -EINVAL;
    struct vfs_inode *inode = lock_inode(file);
    if (!inode)
        return -EBADF;
    struct lock_state *state = lock_state_find(inode);
    if (test) {
        struct file_lock *held = first_conflict(state, &wanted);
        if (held) {
            describe_lock(held, request);
        } else {
            request->l_type = F_UNLCK;
            request->l_pid = ofd ? -1 : owner_pid;
        }
        return 0;
    }
    if (wanted.type != F_UNLCK && first_conflict(state, &wanted))
        return -EAGAIN;
    if (!state && wanted.type == F_UNLCK)
        return 0;
    state = lock_state_get(inode);
    bool released = apply_lock(state, &wanted);
    lock_state_changed(state, released);
    return 0;
}

/* Drops every lock of the inode that matches; returns whether any went. */
static bool drop_locks(struct lock_state *state, bool (*matches)(const struct file_lock *, const void *),
                       const void *key)
{
    bool dropped = false;
    LIST_FOR_EACH_SAFE(node, next, &state->locks) {
        struct file_lock *held = CONTAINER_OF(node, struct file_lock, node);
        if (matches(held, key)) {
            lock_free(held);
            dropped = true;
        }
    }
    return dropped;
}

static bool owned_by_process(const struct file_lock *lock, const void *pid)
{
    return lock->kind == LOCK_KIND_POSIX && lock->pid == *(const int32_t *)pid;
}

/* At the death of a description its flock and OFD locks go; so do the POSIX locks set through it, which the
 * process's close would have released on Linux anyway (a safety net for exit paths that do not call
 * vfs_posix_locks_release). */
static bool owned_by_description(const struct file_lock *lock, const void *file)
{
    return lock->file == file;
}

void vfs_posix_locks_release(struct vfs_file *file, int32_t owner_pid)
{
    struct lock_state *state = lock_state_find(lock_inode(file));
    if (state)
        lock_state_changed(state, drop_locks(state, owned_by_process, &owner_pid));
}

void vfs_locks_forget_file(struct vfs_file *file)
{
    struct vfs_inode *inode = lock_inode(file);
    if (!inode || list_empty(&lock_registry))
        return;
    struct lock_state *state = lock_state_find(inode);
    if (state)
        lock_state_changed(state, drop_locks(state, owned_by_description, file));
}

struct wait_queue *vfs_lock_wait_queue(struct vfs_file *file)
{
    struct lock_state *state = lock_state_find(lock_inode(file));
    return state ? &state->queue : NULL;
}
