/* vfs/epoll.c: epoll instances: the interest list of (file description, fd) pairs, level- and edge-triggered
 * and one-shot reporting, nesting with Linux's loop and depth limits, and the wake-ups that reach an epoll's
 * waiters whenever a file on its interest list signals an event. */
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "vfs/internal.h"

#define EPOLL_MAX_NESTS 4 /* Linux's EP_MAX_NESTS: how deep epolls may watch epolls */
/* Bits that steer epoll itself rather than name events; a fired one-shot entry keeps only these. */
#define EPOLL_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
/* What may accompany EPOLLEXCLUSIVE (Linux's EPOLLEXCLUSIVE_OK_BITS). */
#define EPOLL_EXCLUSIVE_OK_BITS (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLL_READABLE (POLLIN | POLLRDNORM)

struct epoll_instance {
    struct list_node interest; /* struct epoll_entry by in_interest; reported entries move to the tail */
    struct vfs_file *file;     /* the epoll's own description (its queue is what epoll_wait sleeps on) */
};

struct epoll_entry {
    struct list_node in_interest;
    struct list_node in_watchers; /* in target->epoll_watchers */
    struct epoll_instance *epoll;
    /* Not counted, as on Linux: the interest list must not keep a file open (a pipe's reader would never see
     * EOF); vfs_epoll_forget_file drops the entry when the description dies. */
    struct vfs_file *target;
    int fd;
    uint32_t events; /* as set by epoll_ctl, plus EPOLLERR|EPOLLHUP */
    uint64_t data;
    struct waiter waiter; /* on the target's queue for the entry's whole life */
    bool triggered;       /* the target signalled since the entry was last reported: what edge triggering sees */
};

static const struct vfs_file_operations epoll_file_operations;

bool vfs_file_is_epoll(struct vfs_file *file) { return file->ops == &epoll_file_operations; }

static struct epoll_instance *epoll_of(struct vfs_file *file) { return file->private_data; }

/* The events an entry still reports: none once a one-shot has fired. */
static uint32_t entry_wanted(const struct epoll_entry *entry) { return entry->events & ~EPOLL_PRIVATE_BITS; }

static void entry_wake(struct waiter *waiter, uint32_t events)
{
    (void)events; /* the queue only calls us for events in waiter->events */
    struct epoll_entry *entry = CONTAINER_OF(waiter, struct epoll_entry, waiter);
    entry->triggered = true;
    wait_queue_notify(entry->epoll->file->queue, EPOLL_READABLE);
}

/* What the entry would report now, without consuming anything. */
static uint32_t entry_ready(struct epoll_entry *entry)
{
    uint32_t wanted = entry_wanted(entry);
    if (!wanted || ((entry->events & EPOLLET) && !entry->triggered))
        return 0;
    return vfs_poll(entry->target, NULL) & wanted;
}

static void entry_free(struct epoll_entry *entry)
{
    waiter_remove(&entry->waiter);
    list_remove(&entry->in_interest);
    list_remove(&entry->in_watchers);
    free(entry);
}

/* After a change of what the entry asks for: an entry already ready is reported, edge-triggered or not, and
 * whoever waits on the epoll hears of it (as Linux's ep_insert and ep_modify). */
static void entry_check_ready(struct epoll_entry *entry, uint32_t ready)
{
    if (!(ready & entry_wanted(entry)))
        return;
    entry->triggered = true;
    wait_queue_notify(entry->epoll->file->queue, EPOLL_READABLE);
}

static uint32_t epoll_poll(struct vfs_file *file)
{
    LIST_FOR_EACH(node, &epoll_of(file)->interest) {
        if (entry_ready(CONTAINER_OF(node, struct epoll_entry, in_interest)))
            return EPOLL_READABLE;
    }
    return 0;
}

/* A waiter is about to sleep on the epoll: every target re-queues its entry's waiter, so that files whose
 * readiness the event loop must watch for (host fds, nested epolls) are watched again. A target found ready
 * here is no new edge: an edge-triggered entry reported it already. */
static void epoll_prepare_wait(struct vfs_file *file, uint32_t events)
{
    (void)events;
    LIST_FOR_EACH(node, &epoll_of(file)->interest) {
        struct epoll_entry *entry = CONTAINER_OF(node, struct epoll_entry, in_interest);
        waiter_remove(&entry->waiter);
        (void)vfs_poll(entry->target, &entry->waiter);
    }
}

static void epoll_release(struct vfs_file *file)
{
    struct epoll_instance *epoll = epoll_of(file);
    while (!list_empty(&epoll->interest))
        entry_free(CONTAINER_OF(epoll->interest.next, struct epoll_entry, in_interest));
    free(epoll);
}

static void epoll_describe(struct vfs_file *file, struct text_buffer *out)
{
    (void)file;
    text_buffer_append(out, "anon_inode:[eventpoll]");
}

static const struct vfs_file_operations epoll_file_operations = {
    .poll = epoll_poll,
    .prepare_wait = epoll_prepare_wait,
    .release = epoll_release,
    .describe = epoll_describe,
    .stream = true,
};

int vfs_epoll_create(int flags, struct vfs_file **out)
{
    if (flags & ~EPOLL_CLOEXEC)
        return -EINVAL;
    struct epoll_instance *epoll = xcalloc(1, sizeof(*epoll));
    list_init(&epoll->interest);
    struct vfs_inode *inode = vfs_anon_inode();
    struct vfs_file *file = vfs_file_new(NULL, inode, &epoll_file_operations, O_RDWR);
    vfs_inode_put(inode);
    file->private_data = epoll;
    epoll->file = file;
    *out = file;
    return 0;
}

void vfs_epoll_forget_file(struct vfs_file *file)
{
    if (!file->epoll_watchers.next)
        return; /* never watched */
    while (!list_empty(&file->epoll_watchers))
        entry_free(CONTAINER_OF(file->epoll_watchers.next, struct epoll_entry, in_watchers));
}

/* Linux's ep_loop_check: adding epoll `to` into `into` must not close a cycle, nor make the chain of epolls
 * below `into` deeper than EPOLL_MAX_NESTS. */
static bool epoll_would_loop(struct epoll_instance *into, struct epoll_instance *to, int depth)
{
    LIST_FOR_EACH(node, &to->interest) {
        struct epoll_entry *entry = CONTAINER_OF(node, struct epoll_entry, in_interest);
        if (!vfs_file_is_epoll(entry->target))
            continue;
        struct epoll_instance *nested = epoll_of(entry->target);
        if (nested == into || depth > EPOLL_MAX_NESTS || epoll_would_loop(into, nested, depth + 1))
            return true;
    }
    return false;
}

static struct epoll_entry *epoll_find(struct epoll_instance *epoll, struct vfs_file *target, int fd)
{
    LIST_FOR_EACH(node, &epoll->interest) {
        struct epoll_entry *entry = CONTAINER_OF(node, struct epoll_entry, in_interest);
        if (entry->target == target && entry->fd == fd)
            return entry;
    }
    return NULL;
}

static void epoll_insert(struct epoll_instance *epoll, struct vfs_file *target, int fd, uint32_t events,
                         uint64_t data)
{
    struct epoll_entry *entry = xcalloc(1, sizeof(*entry));
    entry->epoll = epoll;
    entry->target = target;
    entry->fd = fd;
    entry->events = events;
    entry->data = data;
    list_insert_tail(&epoll->interest, &entry->in_interest);
    if (!target->epoll_watchers.next)
        list_init(&target->epoll_watchers);
    list_insert_tail(&target->epoll_watchers, &entry->in_watchers);
    list_init(&entry->waiter.node);
    entry->waiter.events = entry_wanted(entry);
    entry->waiter.wake = entry_wake;
    entry->waiter.owner = entry;
    entry_check_ready(entry, vfs_poll(target, &entry->waiter));
}

int vfs_epoll_ctl(struct vfs_file *file, int operation, int fd, struct vfs_file *target,
                  const struct epoll_event *event)
{
    /* in Linux's order of checks */
    if (!target->ops || !target->ops->poll)
        return -EPERM; /* regular files and directories are always ready: epoll refuses them */
    if (file == target || !vfs_file_is_epoll(file))
        return -EINVAL;
    bool has_event = operation != EPOLL_CTL_DEL;
    /* EPOLLWAKEUP needs CAP_BLOCK_SUSPEND, which the sandbox never has: Linux then drops it silently */
    uint32_t events = has_event ? event->events & ~(uint32_t)EPOLLWAKEUP : 0;
    if (has_event && (events & EPOLLEXCLUSIVE)) {
        if (operation == EPOLL_CTL_MOD)
            return -EINVAL;
        if (operation == EPOLL_CTL_ADD && (vfs_file_is_epoll(target) || (events & ~EPOLL_EXCLUSIVE_OK_BITS)))
            return -EINVAL;
    }
    struct epoll_instance *epoll = epoll_of(file);
    if (operation == EPOLL_CTL_ADD && vfs_file_is_epoll(target) && epoll_would_loop(epoll, epoll_of(target), 0))
        return -ELOOP;
    struct epoll_entry *entry = epoll_find(epoll, target, fd);
    switch (operation) {
    case EPOLL_CTL_ADD:
        if (entry)
            return -EEXIST;
        epoll_insert(epoll, target, fd, events | EPOLLERR | EPOLLHUP, event->data.u64);
        return 0;
    case EPOLL_CTL_DEL:
        if (!entry)
            return -ENOENT;
        entry_free(entry);
        return 0;
    case EPOLL_CTL_MOD:
        if (!entry)
            return -ENOENT;
        /* an exclusive waiter was queued as such at ADD and cannot be changed */
        if (entry->events & EPOLLEXCLUSIVE)
            return -EINVAL;
        entry->events = events | EPOLLERR | EPOLLHUP;
        entry->data = event->data.u64;
        entry->waiter.events = entry_wanted(entry);
        entry->triggered = false;
        entry_check_ready(entry, vfs_poll(target, NULL));
        return 0;
    default: return -EINVAL;
    }
}

int vfs_epoll_collect(struct vfs_file *file, struct epoll_event *events, int max)
{
    if (!vfs_file_is_epoll(file))
        return -EINVAL;
    struct epoll_instance *epoll = epoll_of(file);
    struct list_node reported;
    list_init(&reported);
    int count = 0;
    LIST_FOR_EACH_SAFE(node, next, &epoll->interest) {
        if (count >= max)
            break;
        struct epoll_entry *entry = CONTAINER_OF(node, struct epoll_entry, in_interest);
        uint32_t ready = entry_ready(entry);
        if (!ready) {
            entry->triggered = false; /* an edge that is gone by now is not reported (Linux drops it too) */
            continue;
        }
        events[count].events = ready;
        events[count].data.u64 = entry->data;
        count++;
        entry->triggered = false;
        if (entry->events & EPOLLONESHOT) {
            entry->events &= EPOLL_PRIVATE_BITS;
            entry->waiter.events = 0;
        }
        /* to the back of the line, so that a small maxevents still lets every ready entry have its turn */
        list_remove(&entry->in_interest);
        list_insert_tail(&reported, &entry->in_interest);
    }
    while (!list_empty(&reported)) {
        struct list_node *node = reported.next;
        list_remove(node);
        list_insert_tail(&epoll->interest, node);
    }
    return count;
}
