/* sentry/ipc.c: the sandbox's System V IPC namespace for semaphore sets, message queues and shared memory:
 * ids and keys, ipc_perm checks with the caller's credentials, semop with SEM_UNDO, queues, segments, waits. */
#include "sentry/internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <time.h>

/* Linux's defaults (ipc/util.h, include/uapi/linux/sem.h and msg.h). */
#define IPC_MAX_IDS 32768 /* IPCMNI: ids are seq * IPCMNI + index */
#define SEM_MAX_SETS 32000       /* SEMMNI */
#define SEM_MAX_PER_SET 32000    /* SEMMSL */
#define SEM_MAX_TOTAL 1024000000 /* SEMMNS */
#define SEM_MAX_OPS 500          /* SEMOPM */
#define SEM_MAX_VALUE 32767      /* SEMVMX */
#define SEM_MAX_ADJUST SEM_MAX_VALUE /* SEMAEM */
#define MSG_MAX_QUEUES 32000     /* MSGMNI */
#define MSG_MAX_SIZE 8192        /* MSGMAX */
#define MSG_MAX_QUEUE_BYTES 16384 /* MSGMNB */
#define SEQ_MAX (INT_MAX / IPC_MAX_IDS)
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
#define MSG_EXCEPT_FLAG 020000

/* The x86-64 kernel structures (glibc's differ in names only, but we keep our own). */
struct kernel_ipc_perm {
    int32_t key;
    uint32_t uid, gid, cuid, cgid;
    uint32_t mode;
    uint16_t seq, pad;
    uint64_t unused[2];
};
struct kernel_semid_ds {
    struct kernel_ipc_perm perm;
    int64_t otime;
    uint64_t unused1;
    int64_t ctime;
    uint64_t unused2;
    uint64_t nsems;
    uint64_t unused3, unused4;
};
struct kernel_msqid_ds {
    struct kernel_ipc_perm perm;
    int64_t stime, rtime, ctime;
    uint64_t cbytes, qnum, qbytes;
    int32_t lspid, lrpid;
    uint64_t unused4, unused5;
};
struct kernel_seminfo {
    int32_t semmap, semmni, semmns, semmnu, semmsl, semopm, semume, semusz, semvmx, semaem;
};
struct kernel_msginfo {
    int32_t msgpool, msgmap, msgmax, msgmnb, msgmni, msgssz, msgtql;
    uint16_t msgseg;
};
_Static_assert(sizeof(struct kernel_ipc_perm) == 48, "ipc64_perm");
_Static_assert(sizeof(struct kernel_semid_ds) == 104, "semid64_ds");
_Static_assert(sizeof(struct kernel_msqid_ds) == 120, "msqid64_ds");

struct ipc_object {
    int32_t id, key;
    uint32_t uid, gid, cuid, cgid, mode;
    uint16_t seq;
    struct wait_queue waiters;   /* tasks blocked in semop, msgsnd or msgrcv */
};

struct semaphore {
    uint16_t value;
    int32_t pid;
    int64_t otime;
};
struct semaphore_undo {
    struct list_node in_set;
    struct thread_group *owner;
    int16_t *adjust;   /* one per semaphore */
};
struct semaphore_set {
    struct ipc_object object;
    size_t count;
    struct semaphore *semaphores;
    int64_t ctime;
    struct list_node undos;
};

struct message {
    struct list_node node;
    int64_t type;
    size_t size;
    char text[];
};
struct message_queue {
    struct ipc_object object;
    struct list_node messages;
    uint64_t bytes, count, max_bytes;
    int64_t stime, rtime, ctime;
    int32_t lspid, lrpid;
};

/* One table per kind: index -> object. */
struct ipc_table {
    void **slots;      /* IPC_MAX_IDS entries, allocated on first use */
    size_t used;
    int32_t max_index; /* highest used index, -1 if none */
    uint16_t next_seq;
};
static struct ipc_table semaphore_table = {.max_index = -1}, queue_table = {.max_index = -1};
static uint64_t semaphores_in_use;

enum { IPC_READ = 4, IPC_WRITE = 2 };

static int64_t now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return now.tv_sec;
}

/* CAP_IPC_OWNER, CAP_SYS_ADMIN and CAP_SYS_RESOURCE: the sandbox's root has them, as in a container. */
static bool task_is_privileged(const struct task *task) { return task->credentials.euid == 0; }

static bool task_in_group(const struct task *task, uint32_t gid)
{
    if (task->credentials.egid == gid)
        return true;
    for (size_t i = 0; i < task->credentials.group_count; i++)
        if (task->credentials.groups[i] == gid)
            return true;
    return false;
}

/* ipcperms(): flag's low bits as a mode request (rwx in any of the three triplets). 0 or -EACCES. */
static int ipc_permission(const struct task *task, const struct ipc_object *object, int flag)
{
    int requested = (flag >> 6) | (flag >> 3) | flag;
    int granted = (int)object->mode;
    uint32_t euid = task->credentials.euid;
    if (euid == object->cuid || euid == object->uid)
        granted >>= 6;
    else if (task_in_group(task, object->gid) || task_in_group(task, object->cgid))
        granted >>= 3;
    if ((requested & ~granted & 0007) && !task_is_privileged(task))
        return -EACCES;
    return 0;
}

/* The owner or creator, or a privileged caller, may change or remove an object: else -EPERM. */
static int ipc_may_control(const struct task *task, const struct ipc_object *object)
{
    uint32_t euid = task->credentials.euid;
    return task_is_privileged(task) || euid == object->cuid || euid == object->uid ? 0 : -EPERM;
}

static void *table_at_index(struct ipc_table *table, int32_t index)
{
    if (!table->slots || index < 0 || index >= IPC_MAX_IDS)
        return NULL;
    return table->slots[index];
}

/* ipc_obtain_object_check(): the object with that exact id, or NULL (-EINVAL for the caller). */
static struct ipc_object *table_find_id(struct ipc_table *table, int32_t id)
{
    if (id < 0)
        return NULL;
    struct ipc_object *object = table_at_index(table, id % IPC_MAX_IDS);
    return object && object->id == id ? object : NULL;
}

static struct ipc_object *table_find_key(struct ipc_table *table, int32_t key)
{
    for (int32_t index = 0; index <= table->max_index; index++) {
        struct ipc_object *object = table_at_index(table, index);
        if (object && object->key == key)
            return object;
    }
    return NULL;
}

/* ipc_addid(): the lowest free index, the next sequence number. */
static int table_add(struct ipc_table *table, struct ipc_object *object, size_t limit)
{
    if (table->used >= limit)
        return -ENOSPC;
    if (!table->slots)
        table->slots = xcalloc(IPC_MAX_IDS, sizeof(void *));
    int32_t index = 0;
    while (table->slots[index])
        index++;
    table->slots[index] = object;
    table->used++;
    if (index > table->max_index)
        table->max_index = index;
    object->seq = table->next_seq;
    table->next_seq = table->next_seq >= SEQ_MAX ? 0 : table->next_seq + 1;
    object->id = object->seq * IPC_MAX_IDS + index;
    return 0;
}

static void table_remove(struct ipc_table *table, struct ipc_object *object)
{
    int32_t index = object->id % IPC_MAX_IDS;
    table->slots[index] = NULL;
    table->used--;
    while (table->max_index >= 0 && !table->slots[table->max_index])
        table->max_index--;
}

static void object_init(struct task *task, struct ipc_object *object, int32_t key, int flags)
{
    object->key = key;
    object->uid = object->cuid = task->credentials.euid;
    object->gid = object->cgid = task->credentials.egid;
    object->mode = (uint32_t)flags & 0777;
    wait_queue_init(&object->waiters);
}

/* Waiters are woken to find the object gone (-EIDRM); their queue entries must not point into freed memory. */
static void object_release_waiters(struct ipc_object *object)
{
    wait_queue_notify(&object->waiters, POLLIN);
    LIST_FOR_EACH_SAFE(node, next, &object->waiters.waiters) list_remove(node);
}

static void fill_perm(const struct ipc_object *object, struct kernel_ipc_perm *perm)
{
    memset(perm, 0, sizeof(*perm));
    perm->key = object->key;
    perm->uid = object->uid;
    perm->gid = object->gid;
    perm->cuid = object->cuid;
    perm->cgid = object->cgid;
    perm->mode = object->mode;
    perm->seq = object->seq;
}

/* The object IPC_STAT (by id) or SEM_STAT/MSG_STAT/SHM_STAT and their _ANY forms (by table index) look at,
 * with what they return on success: 0 for IPC_STAT, the object's id for the others; -EINVAL if none, -EACCES
 * without read permission (the _ANY forms skip that check). */
static struct ipc_object *object_for_stat(struct task *task, struct ipc_table *table, int32_t id, bool by_index,
                                          bool check_permission, long *result)
{
    struct ipc_object *object = by_index ? table_at_index(table, id % IPC_MAX_IDS) : table_find_id(table, id);
    if (!object) {
        *result = -EINVAL;
        return NULL;
    }
    if (check_permission && ipc_permission(task, object, 0444)) {
        *result = -EACCES;
        return NULL;
    }
    *result = by_index ? object->id : 0;
    return object;
}

/* IPC_SET's and IPC_RMID's lookup: the object by id, which the caller must own, have created, or be
 * privileged for. NULL with -EINVAL or -EPERM in *error. */
static struct ipc_object *object_for_control(struct task *task, struct ipc_table *table, int32_t id, long *error)
{
    struct ipc_object *object = table_find_id(table, id);
    *error = object ? ipc_may_control(task, object) : -EINVAL;
    return *error ? NULL : object;
}

/* IPC_SET's change of owner and permission bits. */
static long object_set_owner(struct ipc_object *object, const struct kernel_ipc_perm *perm)
{
    if (perm->uid == UINT32_MAX || perm->gid == UINT32_MAX)
        return -EINVAL;
    object->uid = perm->uid;
    object->gid = perm->gid;
    object->mode = (object->mode & ~0777u) | (perm->mode & 0777);
    return 0;
}

/* ipcget(): IPC_PRIVATE always makes a new object; a key finds or (IPC_CREAT) makes one. */
typedef long (*ipc_create_function)(struct task *task, int32_t key, int flags, long argument);
typedef long (*ipc_check_function)(struct ipc_object *object, long argument);
static long ipc_get(struct task *task, struct ipc_table *table, int32_t key, int flags, long argument,
                    ipc_create_function create, ipc_check_function more_checks)
{
    if (key == IPC_PRIVATE)
        return create(task, key, flags, argument);
    struct ipc_object *object = table_find_key(table, key);
    if (!object)
        return (flags & IPC_CREAT) ? create(task, key, flags, argument) : -ENOENT;
    if ((flags & IPC_CREAT) && (flags & IPC_EXCL))
        return -EEXIST;
    if (more_checks) {
        long error = more_checks(object, argument);
        if (error)
            return error;
    }
    if (ipc_permission(task, object, flags))
        return -EACCES;
    return object->id;
}

/* ---------------------------------------------------------------- semaphores */

static struct semaphore_set *semaphore_set_of(struct ipc_object *object)
{
    return object ? CONTAINER_OF(object, struct semaphore_set, object) : NULL;
}

static long semaphore_create(struct task *task, int32_t key, int flags, long count)
{
    if (count == 0)
        return -EINVAL;
    if (semaphores_in_use + (uint64_t)count > SEM_MAX_TOTAL)
        return -ENOSPC;
    struct semaphore_set *set = xcalloc(1, sizeof(*set));
    object_init(task, &set->object, key, flags);
    set->count = (size_t)count;
    set->semaphores = xcalloc(set->count, sizeof(struct semaphore));
    set->ctime = now_seconds();
    list_init(&set->undos);
    int error = table_add(&semaphore_table, &set->object, SEM_MAX_SETS);
    if (error) {
        free(set->semaphores);
        free(set);
        return error;
    }
    semaphores_in_use += set->count;
    return set->object.id;
}

static long semaphore_more_checks(struct ipc_object *object, long count)
{
    return (size_t)count > semaphore_set_of(object)->count ? -EINVAL : 0;
}

long ipc_semget(struct task *task, int32_t key, int count, int flags)
{
    if (count < 0 || count > SEM_MAX_PER_SET)
        return -EINVAL;
    return ipc_get(task, &semaphore_table, key, flags, count, semaphore_create, semaphore_more_checks);
}

static void semaphore_set_destroy(struct semaphore_set *set)
{
    table_remove(&semaphore_table, &set->object);
    semaphores_in_use -= set->count;
    object_release_waiters(&set->object);
    LIST_FOR_EACH_SAFE(node, next, &set->undos) {
        struct semaphore_undo *undo = CONTAINER_OF(node, struct semaphore_undo, in_set);
        free(undo->adjust);
        free(undo);
    }
    free(set->semaphores);
    free(set);
}

static struct semaphore_undo *semaphore_undo_of(struct semaphore_set *set, struct thread_group *group, bool create)
{
    LIST_FOR_EACH(node, &set->undos) {
        struct semaphore_undo *undo = CONTAINER_OF(node, struct semaphore_undo, in_set);
        if (undo->owner == group)
            return undo;
    }
    if (!create)
        return NULL;
    struct semaphore_undo *undo = xcalloc(1, sizeof(*undo));
    undo->owner = group;
    undo->adjust = xcalloc(set->count, sizeof(int16_t));
    list_insert_tail(&set->undos, &undo->in_set);
    return undo;
}

/* restart_state of a blocked semop: where it waits, so that GETNCNT/GETZCNT can count it. */
enum { SEMOP_STATE_DEADLINE, SEMOP_STATE_WAITED, SEMOP_STATE_BLOCKING, SEMOP_STATE_ID };
enum { BLOCKING_ON_ZERO = 1, BLOCKING_ON_DECREASE = 2 };

/* perform_atomic_semop(): all operations or none, each seeing the ones before it. 0 done, 1 would block
 * (*blocking set), or -EAGAIN / -ERANGE. */
static int semaphore_try(struct semaphore_set *set, const struct sembuf *operations, size_t count,
                         struct semaphore_undo *undo, const struct sembuf **blocking)
{
    int values[SEM_MAX_OPS];
    int adjustments[SEM_MAX_OPS];
    for (size_t i = 0; i < count; i++) {
        const struct sembuf *operation = &operations[i];
        /* the value as earlier operations of this call left it */
        int value = set->semaphores[operation->sem_num].value;
        int adjustment = undo ? undo->adjust[operation->sem_num] : 0;
        for (size_t j = 0; j < i; j++) {
            if (operations[j].sem_num == operation->sem_num) {
                value = values[j];
                adjustment = adjustments[j];
            }
        }
        if (operation->sem_op == 0 && value != 0)
            goto would_block;
        int result = value + operation->sem_op;
        if (result < 0)
            goto would_block;
        if (result > SEM_MAX_VALUE)
            return -ERANGE;
        if (operation->sem_flg & SEM_UNDO) {
            int new_adjustment = adjustment - operation->sem_op;
            if (new_adjustment < -SEM_MAX_ADJUST - 1 || new_adjustment > SEM_MAX_ADJUST)
                return -ERANGE;
            adjustment = new_adjustment;
        }
        values[i] = result;
        adjustments[i] = adjustment;
        continue;
    would_block:
        *blocking = operation;
        return (operation->sem_flg & IPC_NOWAIT) ? -EAGAIN : 1;
    }
    /* commit, in order (a later operation on the same semaphore holds the final value) */
    int32_t pid = task_current() ? task_current()->group->tgid : 0;
    for (size_t i = 0; i < count; i++) {
        struct semaphore *semaphore = &set->semaphores[operations[i].sem_num];
        semaphore->value = (uint16_t)values[i];
        semaphore->pid = pid;
        if (undo && (operations[i].sem_flg & SEM_UNDO))
            undo->adjust[operations[i].sem_num] = (int16_t)adjustments[i];
    }
    return 0;
}

long ipc_semtimedop(struct task *task, int32_t id, uint64_t operations_address, uint64_t count,
                    uint64_t timeout_address, bool has_timeout)
{
    /* Linux's order: the timeout is read first, then the operations, then both are checked */
    struct timespec timeout = {0};
    if (has_timeout && task_copy_in(task, &timeout, timeout_address, sizeof(timeout)) < 0)
        return -EFAULT;
    if (count > SEM_MAX_OPS)
        return -E2BIG;
    if (count < 1)
        return -EINVAL;
    struct sembuf operations[SEM_MAX_OPS];
    if (task_copy_in(task, operations, operations_address, count * sizeof(struct sembuf)) < 0)
        return -EFAULT;
    if (id < 0)
        return -EINVAL;
    if (has_timeout && (timeout.tv_sec < 0 || timeout.tv_nsec < 0 || timeout.tv_nsec >= 1000000000L))
        return -EINVAL;
    uint64_t *state = task_syscall_restart_state(task);
    bool restarted = task_syscall_is_restarted(task) && state[SEMOP_STATE_WAITED];
    if (has_timeout && !restarted) {
        uint64_t relative = (uint64_t)timeout.tv_sec * 1000000000ULL + (uint64_t)timeout.tv_nsec;
        state[SEMOP_STATE_DEADLINE] = monotonic_nanoseconds() + relative;
        if (state[SEMOP_STATE_DEADLINE] == 0)
            state[SEMOP_STATE_DEADLINE] = 1;
    } else if (!restarted) {
        state[SEMOP_STATE_DEADLINE] = 0;
    }
    size_t highest = 0;
    bool undos = false, alter = false;
    for (size_t i = 0; i < count; i++) {
        highest = MAX(highest, (size_t)operations[i].sem_num);
        undos |= (operations[i].sem_flg & SEM_UNDO) != 0;
        alter |= operations[i].sem_op != 0;
    }
    struct semaphore_set *set = semaphore_set_of(table_find_id(&semaphore_table, id));
    if (!set)
        return restarted && (int32_t)state[SEMOP_STATE_ID] == id ? -EIDRM : -EINVAL;
    if (highest >= set->count)
        return -EFBIG;
    if (ipc_permission(task, &set->object, alter ? 0222 : 0444))
        return -EACCES;
    struct semaphore_undo *undo = undos ? semaphore_undo_of(set, task->group, true) : NULL;
    const struct sembuf *blocking = NULL;
    int result = semaphore_try(set, operations, count, undo, &blocking);
    if (result == 0) {
        int64_t now = now_seconds();
        for (size_t i = 0; i < count; i++)
            set->semaphores[operations[i].sem_num].otime = now;
        if (alter)
            wait_queue_notify(&set->object.waiters, POLLIN);
        return 0;
    }
    if (result < 0)
        return result;
    if (restarted && state[SEMOP_STATE_DEADLINE] && monotonic_nanoseconds() >= state[SEMOP_STATE_DEADLINE])
        return -EAGAIN;
    state[SEMOP_STATE_WAITED] = 1;
    state[SEMOP_STATE_ID] = (uint32_t)id;
    state[SEMOP_STATE_BLOCKING] = ((uint64_t)(blocking->sem_op == 0 ? BLOCKING_ON_ZERO : BLOCKING_ON_DECREASE) << 32) |
                                  blocking->sem_num;
    task->interrupted_result = -EINTR; /* semop is never restarted after a handler */
    long waited = task_wait_queue(task, &set->object.waiters, POLLIN);
    if (waited != -SENTRY_ERESTARTSYS)
        return waited;
    return task_wait_deadline(task, state[SEMOP_STATE_DEADLINE]);
}

/* count_semcnt(): tasks whose blocking operation is on this semaphore (decrease or wait-for-zero). */
static int semaphore_count_waiters(struct semaphore_set *set, size_t number, int kind)
{
    int count = 0;
    LIST_FOR_EACH(node, &set->object.waiters.waiters) {
        struct waiter *waiter = CONTAINER_OF(node, struct waiter, node);
        struct task *waiting = waiter->owner;
        uint64_t blocking = task_syscall_restart_state(waiting)[SEMOP_STATE_BLOCKING];
        if ((blocking & 0xffffffffULL) == number && (int)(blocking >> 32) == kind)
            count++;
    }
    return count;
}

static long semaphore_info(struct task *task, int command, uint64_t address)
{
    struct kernel_seminfo info = {
        .semmap = SEM_MAX_TOTAL, .semmni = SEM_MAX_SETS, .semmns = SEM_MAX_TOTAL, .semmnu = SEM_MAX_TOTAL,
        .semmsl = SEM_MAX_PER_SET, .semopm = SEM_MAX_OPS, .semume = SEM_MAX_OPS, .semusz = 20,
        .semvmx = SEM_MAX_VALUE, .semaem = SEM_MAX_ADJUST};
    if (command == SEM_INFO) {
        info.semusz = (int32_t)semaphore_table.used;
        info.semaem = (int32_t)semaphores_in_use;
    }
    if (task_copy_out(task, address, &info, sizeof(info)) < 0)
        return -EFAULT;
    return semaphore_table.max_index < 0 ? 0 : semaphore_table.max_index;
}

static long semaphore_stat(struct task *task, int32_t id, int command, uint64_t address)
{
    long result;
    struct semaphore_set *set = semaphore_set_of(object_for_stat(
        task, &semaphore_table, id, command != IPC_STAT, command != SEM_STAT_ANY, &result));
    if (!set)
        return result;
    struct kernel_semid_ds status = {0};
    fill_perm(&set->object, &status.perm);
    for (size_t i = 0; i < set->count; i++)
        status.otime = MAX(status.otime, set->semaphores[i].otime);
    status.ctime = set->ctime;
    status.nsems = set->count;
    if (task_copy_out(task, address, &status, sizeof(status)) < 0)
        return -EFAULT;
    return result;
}

long ipc_semctl(struct task *task, int32_t id, int number, int command, uint64_t argument)
{
    if (id < 0)
        return -EINVAL;
    switch (command) {
    case IPC_INFO:
    case SEM_INFO:
        return semaphore_info(task, command, argument);
    case IPC_STAT:
    case SEM_STAT:
    case SEM_STAT_ANY:
        return semaphore_stat(task, id, command, argument);
    case IPC_SET: {
        struct kernel_semid_ds replacement;
        if (task_copy_in(task, &replacement, argument, sizeof(replacement)) < 0)
            return -EFAULT;
        long error;
        struct semaphore_set *set = semaphore_set_of(object_for_control(task, &semaphore_table, id, &error));
        if (!set)
            return error;
        if ((error = object_set_owner(&set->object, &replacement.perm)))
            return error;
        set->ctime = now_seconds();
        return 0;
    }
    case IPC_RMID: {
        long error;
        struct semaphore_set *set = semaphore_set_of(object_for_control(task, &semaphore_table, id, &error));
        if (!set)
            return error;
        semaphore_set_destroy(set);
        return 0;
    }
    case SETVAL: {
        int value = (int)(uint32_t)argument;
        if (value > SEM_MAX_VALUE || value < 0)
            return -ERANGE;
        struct semaphore_set *set = semaphore_set_of(table_find_id(&semaphore_table, id));
        if (!set)
            return -EINVAL;
        if (number < 0 || (size_t)number >= set->count)
            return -EINVAL;
        if (ipc_permission(task, &set->object, 0222))
            return -EACCES;
        LIST_FOR_EACH(node, &set->undos)
            CONTAINER_OF(node, struct semaphore_undo, in_set)->adjust[number] = 0;
        set->semaphores[number].value = (uint16_t)value;
        set->semaphores[number].pid = task->group->tgid;
        set->ctime = now_seconds();
        wait_queue_notify(&set->object.waiters, POLLIN);
        return 0;
    }
    case GETALL:
    case SETALL:
    case GETVAL:
    case GETPID:
    case GETNCNT:
    case GETZCNT:
        break;
    default:
        return -EINVAL;
    }
    struct semaphore_set *set = semaphore_set_of(table_find_id(&semaphore_table, id));
    if (!set)
        return -EINVAL;
    if (ipc_permission(task, &set->object, command == SETALL ? 0222 : 0444))
        return -EACCES;
    if (command == GETALL || command == SETALL) {
        uint16_t *values = xcalloc(set->count, sizeof(uint16_t));
        long result = 0;
        if (command == GETALL) {
            for (size_t i = 0; i < set->count; i++)
                values[i] = set->semaphores[i].value;
            if (task_copy_out(task, argument, values, set->count * sizeof(uint16_t)) < 0)
                result = -EFAULT;
        } else if (task_copy_in(task, values, argument, set->count * sizeof(uint16_t)) < 0) {
            result = -EFAULT;
        } else {
            for (size_t i = 0; i < set->count && result == 0; i++)
                if (values[i] > SEM_MAX_VALUE)
                    result = -ERANGE;
            if (result == 0) {
                LIST_FOR_EACH(node, &set->undos)
                    memset(CONTAINER_OF(node, struct semaphore_undo, in_set)->adjust, 0,
                           set->count * sizeof(int16_t));
                for (size_t i = 0; i < set->count; i++) {
                    set->semaphores[i].value = values[i];
                    set->semaphores[i].pid = task->group->tgid;
                }
                set->ctime = now_seconds();
                wait_queue_notify(&set->object.waiters, POLLIN);
            }
        }
        free(values);
        return result;
    }
    if (number < 0 || (size_t)number >= set->count)
        return -EINVAL;
    switch (command) {
    case GETVAL: return set->semaphores[number].value;
    case GETPID: return set->semaphores[number].pid;
    case GETNCNT: return semaphore_count_waiters(set, (size_t)number, BLOCKING_ON_DECREASE);
    default: return semaphore_count_waiters(set, (size_t)number, BLOCKING_ON_ZERO);
    }
}

/* exit_sem(): a process's SEM_UNDO adjustments are applied, clamped to 0..SEMVMX, when it exits. */
void ipc_process_exit(struct thread_group *group)
{
    for (int32_t index = 0; index <= semaphore_table.max_index; index++) {
        struct semaphore_set *set = semaphore_set_of(table_at_index(&semaphore_table, index));
        if (!set)
            continue;
        struct semaphore_undo *undo = semaphore_undo_of(set, group, false);
        if (!undo)
            continue;
        for (size_t i = 0; i < set->count; i++) {
            if (!undo->adjust[i])
                continue;
            int value = set->semaphores[i].value + undo->adjust[i];
            set->semaphores[i].value = (uint16_t)(value < 0 ? 0 : value > SEM_MAX_VALUE ? SEM_MAX_VALUE : value);
            set->semaphores[i].pid = group->tgid;
        }
        list_remove(&undo->in_set);
        free(undo->adjust);
        free(undo);
        wait_queue_notify(&set->object.waiters, POLLIN);
    }
}

/* ---------------------------------------------------------------- message queues */

static struct message_queue *queue_of(struct ipc_object *object)
{
    return object ? CONTAINER_OF(object, struct message_queue, object) : NULL;
}

static long queue_create(struct task *task, int32_t key, int flags, long argument)
{
    (void)argument;
    struct message_queue *queue = xcalloc(1, sizeof(*queue));
    object_init(task, &queue->object, key, flags);
    list_init(&queue->messages);
    queue->max_bytes = MSG_MAX_QUEUE_BYTES;
    queue->ctime = now_seconds();
    int error = table_add(&queue_table, &queue->object, MSG_MAX_QUEUES);
    if (error) {
        free(queue);
        return error;
    }
    return queue->object.id;
}

long ipc_msgget(struct task *task, int32_t key, int flags)
{
    return ipc_get(task, &queue_table, key, flags, 0, queue_create, NULL);
}

static void queue_destroy(struct message_queue *queue)
{
    table_remove(&queue_table, &queue->object);
    object_release_waiters(&queue->object);
    LIST_FOR_EACH_SAFE(node, next, &queue->messages) free(CONTAINER_OF(node, struct message, node));
    free(queue);
}

/* restart_state of a blocked msgsnd/msgrcv: the id it waits on, for -EIDRM when the queue goes. */
enum { MESSAGE_STATE_WAITED, MESSAGE_STATE_ID };

static long message_wait(struct task *task, struct message_queue *queue)
{
    uint64_t *state = task_syscall_restart_state(task);
    state[MESSAGE_STATE_WAITED] = 1;
    state[MESSAGE_STATE_ID] = (uint32_t)queue->object.id;
    task->interrupted_result = -SENTRY_ERESTARTNOHAND;
    return task_wait_queue(task, &queue->object.waiters, POLLIN);
}

static struct message_queue *queue_for_wait(struct task *task, int32_t id, long *error)
{
    struct message_queue *queue = queue_of(table_find_id(&queue_table, id));
    if (!queue) {
        uint64_t *state = task_syscall_restart_state(task);
        bool waited = task_syscall_is_restarted(task) && state[MESSAGE_STATE_WAITED] &&
                      (int32_t)state[MESSAGE_STATE_ID] == id;
        *error = waited ? -EIDRM : -EINVAL;
    }
    return queue;
}

long ipc_msgsnd(struct task *task, int32_t id, uint64_t message_address, uint64_t size, int flags)
{
    int64_t type;
    if (task_copy_in(task, &type, message_address, sizeof(type)) < 0)
        return -EFAULT;
    if (size > MSG_MAX_SIZE || (int64_t)size < 0 || id < 0)
        return -EINVAL;
    if (type < 1)
        return -EINVAL;
    struct message *message = xcalloc(1, sizeof(*message) + size);
    if (size && task_copy_in(task, message->text, message_address + sizeof(type), size) < 0) {
        free(message);
        return -EFAULT;
    }
    message->type = type;
    message->size = size;
    long error = 0;
    struct message_queue *queue = queue_for_wait(task, id, &error);
    if (!queue) {
        free(message);
        return error;
    }
    if (ipc_permission(task, &queue->object, 0222)) {
        free(message);
        return -EACCES;
    }
    /* msg_fits_inqueue(): bytes and the number of messages are both bounded by the queue's size */
    if (size + queue->bytes > queue->max_bytes || 1 + queue->count > queue->max_bytes) {
        free(message);
        if (flags & IPC_NOWAIT)
            return -EAGAIN;
        return message_wait(task, queue);
    }
    list_insert_tail(&queue->messages, &message->node);
    queue->bytes += size;
    queue->count++;
    queue->lspid = task->group->tgid;
    queue->stime = now_seconds();
    wait_queue_notify(&queue->object.waiters, POLLIN);
    return 0;
}

static struct message *message_find(struct message_queue *queue, int64_t type, int flags)
{
    /* convert_mode() and find_msg() */
    if (type == 0)
        return list_empty(&queue->messages) ? NULL : CONTAINER_OF(queue->messages.next, struct message, node);
    if (type < 0) {
        int64_t limit = type == INT64_MIN ? INT64_MAX : -type;
        struct message *found = NULL;
        LIST_FOR_EACH(node, &queue->messages) {
            struct message *message = CONTAINER_OF(node, struct message, node);
            if (message->type <= limit && (!found || message->type < found->type))
                found = message;
        }
        return found;
    }
    LIST_FOR_EACH(node, &queue->messages) {
        struct message *message = CONTAINER_OF(node, struct message, node);
        if ((flags & MSG_EXCEPT_FLAG) ? message->type != type : message->type == type)
            return message;
    }
    return NULL;
}

long ipc_msgrcv(struct task *task, int32_t id, uint64_t message_address, uint64_t size, int64_t type, int flags)
{
    if (id < 0 || (int64_t)size < 0)
        return -EINVAL;
    if (flags & MSG_COPY) {
        if ((flags & MSG_EXCEPT_FLAG) || !(flags & IPC_NOWAIT))
            return -EINVAL;
        return -ENOSYS; /* as a kernel built without CONFIG_CHECKPOINT_RESTORE */
    }
    long error = 0;
    struct message_queue *queue = queue_for_wait(task, id, &error);
    if (!queue)
        return error;
    if (ipc_permission(task, &queue->object, 0444))
        return -EACCES;
    struct message *message = message_find(queue, type, flags);
    if (!message) {
        if (flags & IPC_NOWAIT)
            return -ENOMSG;
        return message_wait(task, queue);
    }
    if (size < message->size && !(flags & MSG_NOERROR))
        return -E2BIG;
    list_remove(&message->node);
    queue->count--;
    queue->bytes -= message->size;
    queue->rtime = now_seconds();
    queue->lrpid = task->group->tgid;
    wait_queue_notify(&queue->object.waiters, POLLIN);
    /* the message is taken: a fault while handing it over loses it, as in Linux */
    size_t delivered = MIN((size_t)size, message->size);
    long result = (long)delivered;
    if (task_copy_out(task, message_address, &message->type, sizeof(message->type)) < 0 ||
        (delivered && task_copy_out(task, message_address + sizeof(message->type), message->text, delivered) < 0))
        result = -EFAULT;
    free(message);
    return result;
}

static long queue_info(struct task *task, int command, uint64_t address)
{
    struct kernel_msginfo info = {
        .msgpool = MSG_MAX_QUEUES * MSG_MAX_QUEUE_BYTES / 1024, .msgmap = MSG_MAX_QUEUE_BYTES,
        .msgmax = MSG_MAX_SIZE, .msgmnb = MSG_MAX_QUEUE_BYTES, .msgmni = MSG_MAX_QUEUES, .msgssz = 16,
        .msgtql = MSG_MAX_QUEUE_BYTES, .msgseg = 0xffff};
    if (command == MSG_INFO) {
        uint64_t messages = 0, bytes = 0;
        for (int32_t index = 0; index <= queue_table.max_index; index++) {
            struct message_queue *queue = queue_of(table_at_index(&queue_table, index));
            if (queue) {
                messages += queue->count;
                bytes += queue->bytes;
            }
        }
        info.msgpool = (int32_t)queue_table.used;
        info.msgmap = (int32_t)messages;
        info.msgtql = (int32_t)bytes;
    }
    if (task_copy_out(task, address, &info, sizeof(info)) < 0)
        return -EFAULT;
    return queue_table.max_index < 0 ? 0 : queue_table.max_index;
}

long ipc_msgctl(struct task *task, int32_t id, int command, uint64_t address)
{
    if (id < 0 || command < 0)
        return -EINVAL;
    switch (command) {
    case IPC_INFO:
    case MSG_INFO:
        return queue_info(task, command, address);
    case IPC_STAT:
    case MSG_STAT:
    case MSG_STAT_ANY: {
        long result;
        struct message_queue *queue = queue_of(
            object_for_stat(task, &queue_table, id, command != IPC_STAT, command != MSG_STAT_ANY, &result));
        if (!queue)
            return result;
        struct kernel_msqid_ds status = {0};
        fill_perm(&queue->object, &status.perm);
        status.stime = queue->stime;
        status.rtime = queue->rtime;
        status.ctime = queue->ctime;
        status.cbytes = queue->bytes;
        status.qnum = queue->count;
        status.qbytes = queue->max_bytes;
        status.lspid = queue->lspid;
        status.lrpid = queue->lrpid;
        if (task_copy_out(task, address, &status, sizeof(status)) < 0)
            return -EFAULT;
        return result;
    }
    case IPC_SET: {
        struct kernel_msqid_ds replacement;
        if (task_copy_in(task, &replacement, address, sizeof(replacement)) < 0)
            return -EFAULT;
        long error;
        struct message_queue *queue = queue_of(object_for_control(task, &queue_table, id, &error));
        if (!queue)
            return error;
        if (replacement.qbytes > MSG_MAX_QUEUE_BYTES && !task_is_privileged(task))
            return -EPERM;
        if ((error = object_set_owner(&queue->object, &replacement.perm)))
            return error;
        queue->max_bytes = replacement.qbytes;
        queue->ctime = now_seconds();
        /* senders may fit now; receivers re-check their permission */
        wait_queue_notify(&queue->object.waiters, POLLIN);
        return 0;
    }
    case IPC_RMID: {
        long error;
        struct message_queue *queue = queue_of(object_for_control(task, &queue_table, id, &error));
        if (!queue)
            return error;
        queue_destroy(queue);
        return 0;
    }
    default:
        return -EINVAL;
    }
}

/* ---------------------------------------------------------------- shared memory
 * A segment is an unlinked in-memory file: shmat maps it MAP_SHARED like any tmpfs file, so fork, mremap and
 * the memory accounting of shared file mappings all apply. Its attachments are the VMAs that map the file,
 * counted when asked (a VMA split by mprotect counts twice, as on Linux). A removed segment (IPC_RMID) lives
 * on, keyless, until nothing maps it. */

#define SHM_MIN_SIZE 1                              /* SHMMIN */
#define SHM_MAX_SIZE (UINT64_MAX - (1ULL << 24))    /* SHMMAX */
#define SHM_MAX_SEGMENTS 4096                       /* SHMMNI */
#define SHM_MAX_PAGES (UINT64_MAX - (1ULL << 24))   /* SHMALL */
#define SHM_LOW_BOUNDARY 4096                       /* SHMLBA on x86-64 */
#define SHM_STAT_ANY 15
#define SHM_DEST_FLAG 01000
#define SHM_LOCKED_FLAG 02000

struct kernel_shmid_ds {
    struct kernel_ipc_perm perm;
    uint64_t segsz;
    int64_t atime, dtime, ctime;
    int32_t cpid, lpid;
    uint64_t nattch;
    uint64_t unused4, unused5;
};
_Static_assert(sizeof(struct kernel_shmid_ds) == 112, "shmid64_ds");
struct kernel_shminfo {
    uint64_t shmmax, shmmin, shmmni, shmseg, shmall, unused[4];
};
struct kernel_shm_info {
    int32_t used_ids;
    uint64_t shm_tot, shm_rss, shm_swp, swap_attempts, swap_successes;
};

struct shared_segment {
    struct ipc_object object;
    struct vfs_file *file;
    uint64_t size;
    int64_t atime, dtime, ctime;
    int32_t cpid, lpid;
};
static struct ipc_table segment_table = {.max_index = -1};

static struct shared_segment *segment_of(struct ipc_object *object)
{
    return object ? CONTAINER_OF(object, struct shared_segment, object) : NULL;
}

/* VMAs of every address space (each counted once, though vfork children share one) that map the segment. */
static uint64_t segment_attachments(const struct shared_segment *segment)
{
    int32_t pids[4096];
    size_t count = task_list_groups(pids, ARRAY_SIZE(pids));
    const struct mm *seen[4096];
    size_t seen_count = 0;
    uint64_t attachments = 0;
    for (size_t i = 0; i < count; i++) {
        struct thread_group *group = thread_group_by_tgid(pids[i]);
        if (!group || !group->mm)
            continue;
        bool counted = false;
        for (size_t j = 0; j < seen_count && !counted; j++)
            counted = seen[j] == group->mm;
        if (counted)
            continue;
        seen[seen_count++] = group->mm;
        for (size_t v = 0; v < group->mm->vma_count; v++)
            attachments += group->mm->vmas[v].file == segment->file;
    }
    return attachments;
}

static void segment_destroy(struct shared_segment *segment)
{
    table_remove(&segment_table, &segment->object);
    vfs_file_put(segment->file);
    free(segment);
}

/* Removed segments go once nothing maps them; looked at on every shared-memory call, before anyone can see. */
static void segments_collect(void)
{
    for (int32_t index = 0; index <= segment_table.max_index; index++) {
        struct shared_segment *segment = segment_of(table_at_index(&segment_table, index));
        if (segment && (segment->object.mode & SHM_DEST_FLAG) && segment_attachments(segment) == 0)
            segment_destroy(segment);
    }
}

static uint64_t segments_total_pages(void)
{
    uint64_t pages = 0;
    for (int32_t index = 0; index <= segment_table.max_index; index++) {
        struct shared_segment *segment = segment_of(table_at_index(&segment_table, index));
        if (segment)
            pages += PAGE_ROUND_UP(segment->size) / PAGE_SIZE;
    }
    return pages;
}

static long segment_create(struct task *task, int32_t key, int flags, long size)
{
    uint64_t length = (uint64_t)size;
    if (length < SHM_MIN_SIZE || length > SHM_MAX_SIZE)
        return -EINVAL;
    if (flags & SHM_HUGETLB)
        return -EINVAL; /* the sandbox has no huge pages to give */
    if (segments_total_pages() + PAGE_ROUND_UP(length) / PAGE_SIZE > SHM_MAX_PAGES)
        return -ENOSPC;
    char name[32];
    snprintf(name, sizeof(name), "SYSV%08x", (uint32_t)key);
    struct vfs_file *file;
    int error = vfs_memfd_create(name, 0, &task->vfs_credentials, &file);
    if (error < 0)
        return error;
    if ((error = vfs_ftruncate(file, (off_t)length)) < 0) {
        vfs_file_put(file);
        return error;
    }
    struct shared_segment *segment = xcalloc(1, sizeof(*segment));
    object_init(task, &segment->object, key, flags);
    segment->file = file;
    segment->size = length;
    segment->ctime = now_seconds();
    segment->cpid = task->group->tgid;
    if ((error = table_add(&segment_table, &segment->object, SHM_MAX_SEGMENTS)) < 0) {
        vfs_file_put(file);
        free(segment);
        return error;
    }
    return segment->object.id;
}

static long segment_more_checks(struct ipc_object *object, long size)
{
    return (uint64_t)size > segment_of(object)->size ? -EINVAL : 0;
}

long ipc_shmget(struct task *task, int32_t key, uint64_t size, int flags)
{
    segments_collect();
    return ipc_get(task, &segment_table, key, flags, (long)size, segment_create, segment_more_checks);
}

long ipc_shmat(struct task *task, int32_t id, uint64_t address, int flags)
{
    segments_collect();
    struct shared_segment *segment = segment_of(table_find_id(&segment_table, id));
    if (!segment)
        return -EINVAL;
    if (address & (SHM_LOW_BOUNDARY - 1)) {
        if (!(flags & SHM_RND))
            return -EINVAL;
        address &= ~(uint64_t)(SHM_LOW_BOUNDARY - 1);
    }
    if ((flags & SHM_REMAP) && !address)
        return -EINVAL;
    int wanted = (flags & SHM_RDONLY) ? 0444 : 0666;
    int protection = (flags & SHM_RDONLY) ? PROT_READ : PROT_READ | PROT_WRITE;
    if (flags & SHM_EXEC) {
        wanted |= 0111;
        protection |= PROT_EXEC;
    }
    if (ipc_permission(task, &segment->object, wanted))
        return -EACCES;
    int map_flags = MAP_SHARED;
    if (address)
        map_flags |= (flags & SHM_REMAP) ? MAP_FIXED : MAP_FIXED_NOREPLACE;
    long mapped = mm_map_shared_file(task->group->mm, address, segment->size, protection, map_flags, segment->file,
                                     0, !(flags & SHM_RDONLY));
    if (mapped == -EEXIST)
        return -EINVAL; /* over another mapping without SHM_REMAP */
    if (mapped < 0)
        return mapped;
    segment->atime = now_seconds();
    segment->lpid = task->group->tgid;
    return mapped;
}

long ipc_shmdt(struct task *task, uint64_t address)
{
    if (address & (SHM_LOW_BOUNDARY - 1))
        return -EINVAL;
    struct mm *mm = task->group->mm;
    const struct vma *first = mm_find_vma(mm, address);
    struct shared_segment *segment = NULL;
    for (int32_t index = 0; first && first->start == address && index <= segment_table.max_index; index++) {
        struct shared_segment *candidate = segment_of(table_at_index(&segment_table, index));
        if (candidate && candidate->file == first->file && first->file_offset == 0)
            segment = candidate;
    }
    if (!segment)
        return -EINVAL;
    /* Every mapping of the segment within its size from there goes, as Linux's shmdt does. */
    uint64_t end = address + PAGE_ROUND_UP(segment->size);
    for (uint64_t cursor = address; cursor < end;) {
        const struct vma *vma = mm_find_vma(mm, cursor);
        if (!vma || vma->start >= end)
            break;
        uint64_t start = MAX(vma->start, cursor), stop = MIN(vma->end, end);
        bool ours = vma->file == segment->file;
        cursor = stop;
        if (ours)
            mm_unmap(mm, start, stop - start);
    }
    segment->dtime = now_seconds();
    segment->lpid = task->group->tgid;
    segments_collect();
    return 0;
}

static long segment_info(struct task *task, int command, uint64_t address)
{
    if (command == IPC_INFO) {
        struct kernel_shminfo info = {.shmmax = SHM_MAX_SIZE, .shmmin = SHM_MIN_SIZE, .shmmni = SHM_MAX_SEGMENTS,
                                      .shmseg = SHM_MAX_SEGMENTS, .shmall = SHM_MAX_PAGES};
        if (task_copy_out(task, address, &info, sizeof(info)) < 0)
            return -EFAULT;
    } else {
        struct kernel_shm_info info = {.used_ids = (int32_t)segment_table.used, .shm_tot = segments_total_pages()};
        for (int32_t index = 0; index <= segment_table.max_index; index++) {
            struct shared_segment *segment = segment_of(table_at_index(&segment_table, index));
            struct stat status;
            if (segment && vfs_fstat(segment->file, &status) == 0)
                info.shm_rss += (uint64_t)status.st_blocks * 512 / PAGE_SIZE;
        }
        if (task_copy_out(task, address, &info, sizeof(info)) < 0)
            return -EFAULT;
    }
    return segment_table.max_index < 0 ? 0 : segment_table.max_index;
}

long ipc_shmctl(struct task *task, int32_t id, int command, uint64_t address)
{
    if (id < 0 || command < 0)
        return -EINVAL;
    segments_collect();
    switch (command) {
    case IPC_INFO:
    case SHM_INFO:
        return segment_info(task, command, address);
    case IPC_STAT:
    case SHM_STAT:
    case SHM_STAT_ANY: {
        long result;
        struct shared_segment *segment = segment_of(
            object_for_stat(task, &segment_table, id, command != IPC_STAT, command != SHM_STAT_ANY, &result));
        if (!segment)
            return result;
        struct kernel_shmid_ds status = {0};
        fill_perm(&segment->object, &status.perm);
        status.segsz = segment->size;
        status.atime = segment->atime;
        status.dtime = segment->dtime;
        status.ctime = segment->ctime;
        status.cpid = segment->cpid;
        status.lpid = segment->lpid;
        status.nattch = segment_attachments(segment);
        if (task_copy_out(task, address, &status, sizeof(status)) < 0)
            return -EFAULT;
        return result;
    }
    case IPC_SET: {
        struct kernel_shmid_ds replacement;
        if (task_copy_in(task, &replacement, address, sizeof(replacement)) < 0)
            return -EFAULT;
        long error;
        struct shared_segment *segment = segment_of(object_for_control(task, &segment_table, id, &error));
        if (!segment)
            return error;
        if ((error = object_set_owner(&segment->object, &replacement.perm)))
            return error;
        segment->ctime = now_seconds();
        return 0;
    }
    case IPC_RMID: {
        long error;
        struct shared_segment *segment = segment_of(object_for_control(task, &segment_table, id, &error));
        if (!segment)
            return error;
        /* keyless from now on; gone once nothing maps it */
        segment->object.key = IPC_PRIVATE;
        segment->object.mode |= SHM_DEST_FLAG;
        segment->ctime = now_seconds();
        segments_collect();
        return 0;
    }
    case SHM_LOCK:
    case SHM_UNLOCK: {
        struct shared_segment *segment = segment_of(table_find_id(&segment_table, id));
        if (!segment)
            return -EINVAL;
        if (!task_is_privileged(task) && task->credentials.euid != segment->object.uid &&
            task->credentials.euid != segment->object.cuid)
            return -EPERM;
        /* Memory-file pages are never swapped out by the Sentry: the flag is what there is to keep. */
        if (command == SHM_LOCK)
            segment->object.mode |= SHM_LOCKED_FLAG;
        else
            segment->object.mode &= ~(uint32_t)SHM_LOCKED_FLAG;
        segment->ctime = now_seconds();
        return 0;
    }
    default:
        return -EINVAL;
    }
}
