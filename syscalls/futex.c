/* syscalls/futex.c: futex(2) waits and wakes, keyed by address space and address (private) or by memory-file
 * offset (shared mappings), with bitsets, requeue and wake-op as glibc's locks and condition variables use them. */
#include "syscalls/syscalls.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>

#include "sentry/internal.h"

#define ARG(i) (args->arg[i])
#define NANOSECONDS_PER_SECOND 1000000000ULL

/* restart_state slots of a waiting task */
enum { FUTEX_STATE_QUEUED, FUTEX_STATE_DEADLINE, FUTEX_STATE_WOKEN };

struct futex_key {
    const void *space;  /* the mm for private futexes, NULL for shared ones */
    uint64_t address;   /* the address, or the memory-file offset */
};

struct futex_queue {
    struct futex_key key;
    struct wait_queue waiters;
};

static struct futex_queue **queues;
static size_t queue_count, queue_capacity;

static int futex_key_of(struct task *task, uint64_t address, bool private_futex, struct futex_key *key)
{
    if (address & 3)
        return -EINVAL;
    const struct vma *vma = mm_find_vma(task->group->mm, address);
    if (!vma || vma->start > address)
        return -EFAULT;
    if (!private_futex && (vma->flags & MAP_SHARED)) {
        key->space = NULL;
        key->address = vma->region->offset + vma->region_offset + (address - vma->start);
    } else {
        key->space = task->group->mm;
        key->address = address;
    }
    return 0;
}

static struct futex_queue *queue_find(const struct futex_key *key, bool create)
{
    size_t kept = 0;
    struct futex_queue *found = NULL;
    for (size_t i = 0; i < queue_count; i++) {
        struct futex_queue *queue = queues[i];
        if (queue->key.space == key->space && queue->key.address == key->address) {
            found = queue;
        } else if (list_empty(&queue->waiters.waiters)) {
            free(queue);  /* nobody waits here any more: tidy up on the way */
            continue;
        }
        queues[kept++] = queue;
    }
    queue_count = kept;
    if (found || !create)
        return found;
    if (queue_count == queue_capacity) {
        queue_capacity = queue_capacity ? queue_capacity * 2 : 16;
        struct futex_queue **grown = realloc(queues, queue_capacity * sizeof(*grown));
        if (!grown)
            abort();
        queues = grown;
    }
    found = xcalloc(1, sizeof(*found));
    found->key = *key;
    wait_queue_init(&found->waiters);
    queues[queue_count++] = found;
    return found;
}

/* Wake up to count waiters whose bitset matches; each learns it was woken, not timed out. */
static long wake_waiters(struct futex_queue *queue, int count, uint32_t bitset)
{
    long woken = 0;
    if (!queue)
        return 0;
    LIST_FOR_EACH_SAFE(node, next, &queue->waiters.waiters) {
        if (woken >= count)
            break;
        struct waiter *waiter = CONTAINER_OF(node, struct waiter, node);
        if (!(waiter->events & bitset))
            continue;
        struct task *sleeper = waiter->owner;
        sleeper->restart_state[FUTEX_STATE_WOKEN] = 1;
        waiter->wake(waiter, bitset);
        woken++;
    }
    return woken;
}

static long futex_wait(struct task *task, uint64_t address, uint32_t expected, uint64_t timeout_address,
                       bool absolute, clockid_t clock, uint32_t bitset, bool private_futex)
{
    uint64_t *state = task_syscall_restart_state(task);
    if (bitset == 0)
        return -EINVAL;
    struct futex_key key;
    int error = futex_key_of(task, address, private_futex, &key);
    if (error < 0)
        return error;
    if (state[FUTEX_STATE_QUEUED]) {
        if (state[FUTEX_STATE_WOKEN])
            return 0;
        if (state[FUTEX_STATE_DEADLINE] && monotonic_nanoseconds() >= state[FUTEX_STATE_DEADLINE])
            return -ETIMEDOUT;
    } else {
        uint32_t current;
        if (task_copy_in(task, &current, address, sizeof(current)) < 0)
            return -EFAULT;
        if (timeout_address) {
            struct timespec timeout;
            if (task_copy_in(task, &timeout, timeout_address, sizeof(timeout)) < 0)
                return -EFAULT;
            if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= (long)NANOSECONDS_PER_SECOND)
                return -EINVAL;
            uint64_t duration = (uint64_t)timeout.tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)timeout.tv_nsec;
            if (absolute) {
                struct timespec now;
                clock_gettime(clock, &now);
                uint64_t now_ns = (uint64_t)now.tv_sec * NANOSECONDS_PER_SECOND + (uint64_t)now.tv_nsec;
                duration = duration > now_ns ? duration - now_ns : 0;
            }
            state[FUTEX_STATE_DEADLINE] = monotonic_nanoseconds() + duration;
        }
        if (current != expected)
            return -EAGAIN;
        state[FUTEX_STATE_QUEUED] = 1;
        if (state[FUTEX_STATE_DEADLINE] && monotonic_nanoseconds() >= state[FUTEX_STATE_DEADLINE])
            return -ETIMEDOUT;
    }
    long result = task_wait_queue(task, &queue_find(&key, true)->waiters, bitset);
    if (state[FUTEX_STATE_DEADLINE])
        task->wait_deadline = state[FUTEX_STATE_DEADLINE];
    return result;
}

static long futex_requeue(struct task *task, uint64_t address, int wake_count, int requeue_count,
                          uint64_t target_address, bool compare, uint32_t expected, bool private_futex)
{
    if (wake_count < 0 || requeue_count < 0)
        return -EINVAL;
    struct futex_key source_key, target_key;
    int error = futex_key_of(task, address, private_futex, &source_key);
    if (error == 0)
        error = futex_key_of(task, target_address, private_futex, &target_key);
    if (error < 0)
        return error;
    if (compare) {
        uint32_t current;
        if (task_copy_in(task, &current, address, sizeof(current)) < 0)
            return -EFAULT;
        if (current != expected)
            return -EAGAIN;
    }
    struct futex_queue *source = queue_find(&source_key, false);
    long woken = wake_waiters(source, wake_count, FUTEX_BITSET_MATCH_ANY);
    long moved = 0;
    if (source && requeue_count > 0 &&
        !(source_key.space == target_key.space && source_key.address == target_key.address)) {
        struct futex_queue *target = queue_find(&target_key, true);
        source = queue_find(&source_key, false);  /* queue_find may have tidied the table */
        LIST_FOR_EACH_SAFE(node, next, source ? &source->waiters.waiters : &target->waiters.waiters) {
            if (!source || moved >= requeue_count)
                break;
            struct waiter *waiter = CONTAINER_OF(node, struct waiter, node);
            list_remove(&waiter->node);
            wait_queue_add(&target->waiters, waiter);
            moved++;
        }
    }
    return woken + (compare ? moved : 0);
}

/* FUTEX_WAKE_OP: *address2 = *address2 OP argument, then wake on address, and on address2 if the old value
 * passes the comparison. The Sentry runs one handler at a time, so the update is atomic for every task. */
static long futex_wake_op(struct task *task, uint64_t address, int wake_count, int wake_count2, uint64_t address2,
                          uint32_t encoded, bool private_futex)
{
    int operation = (encoded >> 28) & 0xf, comparison = (encoded >> 24) & 0xf;
    uint32_t argument = (encoded >> 12) & 0xfff, comparand = encoded & 0xfff;
    if (operation & FUTEX_OP_OPARG_SHIFT) {
        if (argument > 31)
            argument &= 31;  /* Linux warns and masks */
        argument = 1U << argument;
        operation &= ~FUTEX_OP_OPARG_SHIFT;
    }
    struct futex_key key, key2;
    int error = futex_key_of(task, address, private_futex, &key);
    if (error == 0)
        error = futex_key_of(task, address2, private_futex, &key2);
    if (error < 0)
        return error;
    uint32_t old;
    if (task_copy_in(task, &old, address2, sizeof(old)) < 0)
        return -EFAULT;
    uint32_t updated;
    switch (operation) {
    case FUTEX_OP_SET: updated = argument; break;
    case FUTEX_OP_ADD: updated = old + argument; break;
    case FUTEX_OP_OR: updated = old | argument; break;
    case FUTEX_OP_ANDN: updated = old & ~argument; break;
    case FUTEX_OP_XOR: updated = old ^ argument; break;
    default: return -ENOSYS;
    }
    bool passes;
    int32_t signed_old = (int32_t)old, signed_comparand = (int32_t)comparand;
    switch (comparison) {
    case FUTEX_OP_CMP_EQ: passes = signed_old == signed_comparand; break;
    case FUTEX_OP_CMP_NE: passes = signed_old != signed_comparand; break;
    case FUTEX_OP_CMP_LT: passes = signed_old < signed_comparand; break;
    case FUTEX_OP_CMP_LE: passes = signed_old <= signed_comparand; break;
    case FUTEX_OP_CMP_GT: passes = signed_old > signed_comparand; break;
    case FUTEX_OP_CMP_GE: passes = signed_old >= signed_comparand; break;
    default: return -ENOSYS;
    }
    if (task_copy_out(task, address2, &updated, sizeof(updated)) < 0)
        return -EFAULT;
    long woken = wake_waiters(queue_find(&key, false), wake_count, FUTEX_BITSET_MATCH_ANY);
    if (passes)
        woken += wake_waiters(queue_find(&key2, false), wake_count2, FUTEX_BITSET_MATCH_ANY);
    return woken;
}

long futex_wake_address(struct task *task, uint64_t address, int count)
{
    struct futex_key key;
    if (futex_key_of(task, address, false, &key) < 0)
        return 0;
    return wake_waiters(queue_find(&key, false), count, FUTEX_BITSET_MATCH_ANY);
}

static SYSCALL_HANDLER(futex)
{
    int operation = (int)ARG(1);
    bool private_futex = operation & FUTEX_PRIVATE_FLAG;
    bool realtime = operation & FUTEX_CLOCK_REALTIME;
    int command = operation & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    if (realtime && command != FUTEX_WAIT_BITSET && command != FUTEX_WAIT_REQUEUE_PI && command != FUTEX_LOCK_PI2)
        return -ENOSYS;
    uint32_t value = (uint32_t)ARG(2);
    switch (command) {
    case FUTEX_WAIT:
        return futex_wait(task, ARG(0), value, ARG(3), false, CLOCK_MONOTONIC, FUTEX_BITSET_MATCH_ANY, private_futex);
    case FUTEX_WAIT_BITSET:
        return futex_wait(task, ARG(0), value, ARG(3), true, realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC,
                          (uint32_t)ARG(5), private_futex);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        uint32_t bitset = command == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : (uint32_t)ARG(5);
        if (bitset == 0)
            return -EINVAL;
        struct futex_key key;
        int error = futex_key_of(task, ARG(0), private_futex, &key);
        if (error < 0)
            return error;
        return wake_waiters(queue_find(&key, false), (int)MIN(value, (uint32_t)INT32_MAX), bitset);
    }
    case FUTEX_REQUEUE:
        return futex_requeue(task, ARG(0), (int)value, (int)ARG(3), ARG(4), false, 0, private_futex);
    case FUTEX_CMP_REQUEUE:
        return futex_requeue(task, ARG(0), (int)value, (int)ARG(3), ARG(4), true, (uint32_t)ARG(5), private_futex);
    case FUTEX_WAKE_OP:
        return futex_wake_op(task, ARG(0), (int)value, (int)ARG(3), ARG(4), (uint32_t)ARG(5), private_futex);
    default:
        /* Priority-inheritance futexes need the owner-tid protocol; not there yet. */
        return -ENOSYS;
    }
}

const struct syscall_binding syscall_bindings_futex[] = {
    {__NR_futex, sys_futex}, {-1, NULL},
};
