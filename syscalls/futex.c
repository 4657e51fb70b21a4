/* syscalls/futex.c: futex(2) waits and wakes, keyed by address space and address (private) or by memory-file
 * offset (shared mappings), with bitsets, requeue and wake-op as glibc's locks and condition variables use them,
 * the priority-inheritance lock protocol (owner tid in the word), and robust lists at thread death. */
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
/* FUTEX_STATE_WOKEN values for a FUTEX_LOCK_PI waiter */
enum { FUTEX_PI_HANDED_OVER = 1, FUTEX_PI_RETRY = 2 };
#define ROBUST_LIST_LIMIT 2048 /* Linux's bound on a list walk, against cycles */

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
 * passes the comparison. */
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
    /* Application threads update lock words without us: the change must be one atomic step. */
    uint32_t *word = mm_word_for_atomic_update(task->group->mm, address2);
    if (!word)
        return -EFAULT;
    uint32_t old = __atomic_load_n(word, __ATOMIC_SEQ_CST), updated;
    do {
        switch (operation) {
        case FUTEX_OP_SET: updated = argument; break;
        case FUTEX_OP_ADD: updated = old + argument; break;
        case FUTEX_OP_OR: updated = old | argument; break;
        case FUTEX_OP_ANDN: updated = old & ~argument; break;
        case FUTEX_OP_XOR: updated = old ^ argument; break;
        default: return -ENOSYS;
        }
    } while (!__atomic_compare_exchange_n(word, &old, updated, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
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

/* ---- priority inheritance ----
 * The lock word holds the owner's tid, FUTEX_WAITERS when someone sleeps on it (so that unlocking must come
 * here) and FUTEX_OWNER_DIED after a robust owner died. Unlocking hands the lock straight to the first
 * waiter. Priorities are not boosted: the Sentry has no priorities to lend, only the protocol to keep. */

static uint64_t deadline_from(const struct timespec *timeout, clockid_t clock)
{
    struct timespec now;
    clock_gettime(clock, &now);
    int64_t left = (timeout->tv_sec - now.tv_sec) * (int64_t)NANOSECONDS_PER_SECOND + (timeout->tv_nsec - now.tv_nsec);
    return monotonic_nanoseconds() + (left > 0 ? (uint64_t)left : 0);
}

static long futex_lock_pi(struct task *task, uint64_t address, uint64_t timeout_address, clockid_t clock, bool try,
                          bool private_futex)
{
    uint64_t *state = task_syscall_restart_state(task);
    struct futex_key key;
    int error = futex_key_of(task, address, private_futex, &key);
    if (error < 0)
        return error;
    uint32_t *word = mm_word_for_atomic_update(task->group->mm, address);
    if (!word)
        return -EFAULT;
    if (state[FUTEX_STATE_QUEUED]) {
        if (state[FUTEX_STATE_WOKEN] == FUTEX_PI_HANDED_OVER)
            return 0;
        if (state[FUTEX_STATE_DEADLINE] && monotonic_nanoseconds() >= state[FUTEX_STATE_DEADLINE])
            return -ETIMEDOUT;
        state[FUTEX_STATE_WOKEN] = 0; /* woken to try again (its owner died), or spuriously */
    } else if (timeout_address && !try) {
        struct timespec timeout;
        if (task_copy_in(task, &timeout, timeout_address, sizeof(timeout)) < 0)
            return -EFAULT;
        if (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= (long)NANOSECONDS_PER_SECOND)
            return -EINVAL;
        state[FUTEX_STATE_DEADLINE] = deadline_from(&timeout, clock);
    }
    struct futex_queue *queue = queue_find(&key, false);
    bool others_wait = queue && !list_empty(&queue->waiters.waiters);
    for (;;) {
        uint32_t value = __atomic_load_n(word, __ATOMIC_SEQ_CST);
        uint32_t owner = value & FUTEX_TID_MASK;
        if (owner == 0) {
            uint32_t taken = (uint32_t)task->tid | (value & FUTEX_OWNER_DIED) | (others_wait ? FUTEX_WAITERS : 0);
            if (__atomic_compare_exchange_n(word, &value, taken, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                return 0;
            continue;
        }
        if (owner == (uint32_t)task->tid)
            return -EDEADLK;
        if (!task_by_tid((int32_t)owner))
            return -ESRCH; /* no such thread owns it: a corrupt or stale lock word */
        if (try)
            return -EWOULDBLOCK;
        if (value & FUTEX_WAITERS)
            break;
        if (__atomic_compare_exchange_n(word, &value, value | FUTEX_WAITERS, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            break;
    }
    state[FUTEX_STATE_QUEUED] = 1;
    if (state[FUTEX_STATE_DEADLINE] && monotonic_nanoseconds() >= state[FUTEX_STATE_DEADLINE])
        return -ETIMEDOUT;
    long result = task_wait_queue(task, &queue_find(&key, true)->waiters, FUTEX_BITSET_MATCH_ANY);
    if (state[FUTEX_STATE_DEADLINE])
        task->wait_deadline = state[FUTEX_STATE_DEADLINE];
    return result;
}

static long futex_unlock_pi(struct task *task, uint64_t address, bool private_futex)
{
    struct futex_key key;
    int error = futex_key_of(task, address, private_futex, &key);
    if (error < 0)
        return error;
    uint32_t *word = mm_word_for_atomic_update(task->group->mm, address);
    if (!word)
        return -EFAULT;
    struct futex_queue *queue = queue_find(&key, false);
    for (;;) {
        uint32_t value = __atomic_load_n(word, __ATOMIC_SEQ_CST);
        if ((value & FUTEX_TID_MASK) != (uint32_t)task->tid)
            return -EPERM;
        struct waiter *next = NULL;
        bool more = false;
        if (queue && !list_empty(&queue->waiters.waiters)) {
            next = CONTAINER_OF(queue->waiters.waiters.next, struct waiter, node);
            more = queue->waiters.waiters.next->next != &queue->waiters.waiters;
        }
        uint32_t handed = next ? (uint32_t)((struct task *)next->owner)->tid | (more ? FUTEX_WAITERS : 0) : 0;
        if (!__atomic_compare_exchange_n(word, &value, handed, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            continue; /* a locker just set FUTEX_WAITERS: look again */
        if (next) {
            ((struct task *)next->owner)->restart_state[FUTEX_STATE_WOKEN] = FUTEX_PI_HANDED_OVER;
            next->wake(next, FUTEX_BITSET_MATCH_ANY);
        }
        return 0;
    }
}

/* ---- robust lists ---- */

/* Linux's handle_futex_death: a lock the dead thread held gets FUTEX_OWNER_DIED and one waiter is woken. */
static void robust_futex_died(struct task *task, uint64_t address, bool pi, bool pending)
{
    uint32_t *word = mm_word_for_atomic_update(task->group->mm, address);
    if (!word)
        return;
    struct futex_key key;
    if (futex_key_of(task, address, false, &key) < 0)
        return;
    uint32_t value = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    for (;;) {
        if (pending && !pi && value == 0) {
            /* it died between releasing the lock and waking a waiter */
            wake_waiters(queue_find(&key, false), 1, FUTEX_BITSET_MATCH_ANY);
            return;
        }
        if ((value & FUTEX_TID_MASK) != (uint32_t)task->tid)
            return;
        uint32_t died = (value & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        if (__atomic_compare_exchange_n(word, &value, died, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            break;
    }
    if (!(value & FUTEX_WAITERS))
        return;
    struct futex_queue *queue = queue_find(&key, false);
    if (!queue || list_empty(&queue->waiters.waiters))
        return;
    struct waiter *waiter = CONTAINER_OF(queue->waiters.waiters.next, struct waiter, node);
    ((struct task *)waiter->owner)->restart_state[FUTEX_STATE_WOKEN] = pi ? FUTEX_PI_RETRY : 1;
    waiter->wake(waiter, FUTEX_BITSET_MATCH_ANY);
}

void futex_release_robust_list(struct task *task)
{
    uint64_t head = task->robust_list;
    task->robust_list = 0;
    if (!head || !task->group->mm)
        return;
    struct {
        uint64_t next;      /* struct robust_list *, bit 0: a PI futex */
        int64_t futex_offset;
        uint64_t pending;   /* list_op_pending, bit 0 likewise */
    } list;
    if (task_copy_in(task, &list, head, sizeof(list)) < 0)
        return;
    uint64_t pending = list.pending & ~1ULL;
    bool pending_pi = list.pending & 1;
    uint64_t entry = list.next & ~1ULL;
    bool pi = list.next & 1;
    for (int walked = 0; entry != head && walked < ROBUST_LIST_LIMIT; walked++) {
        uint64_t next;
        if (task_copy_in(task, &next, entry, sizeof(next)) < 0)
            return;
        if (entry != pending)
            robust_futex_died(task, entry + (uint64_t)list.futex_offset, pi, false);
        entry = next & ~1ULL;
        pi = next & 1;
    }
    if (pending)
        robust_futex_died(task, pending + (uint64_t)list.futex_offset, pending_pi, true);
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
    case FUTEX_LOCK_PI: /* its timeout is absolute on CLOCK_REALTIME */
        return futex_lock_pi(task, ARG(0), ARG(3), CLOCK_REALTIME, false, private_futex);
    case FUTEX_LOCK_PI2:
        return futex_lock_pi(task, ARG(0), ARG(3), realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, false, private_futex);
    case FUTEX_TRYLOCK_PI:
        return futex_lock_pi(task, ARG(0), 0, CLOCK_MONOTONIC, true, private_futex);
    case FUTEX_UNLOCK_PI:
        return futex_unlock_pi(task, ARG(0), private_futex);
    default:
        /* FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI (glibc no longer uses them), and unknown ones */
        return -ENOSYS;
    }
}

const struct syscall_binding syscall_bindings_futex[] = {
    {__NR_futex, sys_futex}, {-1, NULL},
};
