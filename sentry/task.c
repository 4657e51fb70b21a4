/* sentry/task.c: tasks and thread groups: the pid namespace (pid 1 is the first process), the process tree,
 * per-task file-system state and credentials, and the accessors syscall handlers use. */
#include "sentry/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define PID_MAXIMUM 4194304

static struct list_node all_tasks = {&all_tasks, &all_tasks};
static int32_t last_pid;

struct group_entry {
    struct list_node node;
    struct thread_group *group;
};
static struct list_node all_groups = {&all_groups, &all_groups};

int32_t pid_allocate(void)
{
    for (int attempt = 0; attempt < PID_MAXIMUM; attempt++) {
        last_pid = last_pid >= PID_MAXIMUM - 1 ? 1 : last_pid + 1;
        if (!task_by_tid(last_pid) && !thread_group_by_tgid(last_pid))
            return last_pid;
    }
    return -EAGAIN;
}

struct list_node *task_all_list(void) { return &all_tasks; }

struct task *task_by_tid(int32_t tid)
{
    LIST_FOR_EACH(node, &all_tasks) {
        struct task *task = CONTAINER_OF(node, struct task, all_node);
        if (task->tid == tid && task->state != TASK_STATE_DEAD)
            return task;
    }
    return NULL;
}

struct thread_group *thread_group_by_tgid(int32_t tgid)
{
    LIST_FOR_EACH(node, &all_groups) {
        struct group_entry *entry = CONTAINER_OF(node, struct group_entry, node);
        if (entry->group->tgid == tgid)
            return entry->group;
    }
    return NULL;
}

size_t task_list_groups(int32_t *pids, size_t max)
{
    size_t count = 0;
    LIST_FOR_EACH(node, &all_groups) {
        struct group_entry *entry = CONTAINER_OF(node, struct group_entry, node);
        if (entry->group->zombie)
            continue;
        if (count < max)
            pids[count] = entry->group->tgid;
        count++;
    }
    /* Ascending, as /proc lists them. */
    size_t listed = MIN(count, max);
    for (size_t i = 1; i < listed; i++)
        for (size_t j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
            int32_t swap = pids[j];
            pids[j] = pids[j - 1];
            pids[j - 1] = swap;
        }
    return listed;
}

struct thread_group *thread_group_new(struct thread_group *parent, struct mm *mm)
{
    struct thread_group *group = xcalloc(1, sizeof(*group));
    list_init(&group->threads);
    list_init(&group->children);
    list_init(&group->sibling_node);
    signal_queue_init(&group->signals);
    wait_queue_init(&group->child_exit);
    wait_queue_init(&group->vfork_done);
    group->mm = mm;
    group->exit_signal = SIGCHLD;
    group->parent = parent;
    group->start_time_ns = monotonic_nanoseconds();
    if (parent) {
        list_insert_tail(&parent->children, &group->sibling_node);
        group->process_group = parent->process_group;
        group->session = parent->session;
        memcpy(group->limits, parent->limits, sizeof(group->limits));
    } else {
        for (int resource = 0; resource < RLIM_NLIMITS; resource++)
            getrlimit(resource, &group->limits[resource]);
    }
    struct group_entry *entry = xcalloc(1, sizeof(*entry));
    entry->group = group;
    list_insert_tail(&all_groups, &entry->node);
    return group;
}

void thread_group_release(struct thread_group *group)
{
    LIST_FOR_EACH_SAFE(node, next, &all_groups) {
        struct group_entry *entry = CONTAINER_OF(node, struct group_entry, node);
        if (entry->group == group) {
            list_remove(&entry->node);
            free(entry);
        }
    }
    list_remove(&group->sibling_node);
    if (group->pidfd)
        vfs_pidfd_process_reaped(group->pidfd);
    /* Orphans go to pid 1, as Linux reparents to the namespace's init. */
    struct thread_group *init = thread_group_by_tgid(1);
    LIST_FOR_EACH_SAFE(node, next, &group->children) {
        struct thread_group *child = CONTAINER_OF(node, struct thread_group, sibling_node);
        list_remove(&child->sibling_node);
        child->parent = init;
        if (init && init != group)
            list_insert_tail(&init->children, &child->sibling_node);
    }
    LIST_FOR_EACH_SAFE(node, next, &group->threads) {
        struct task *task = CONTAINER_OF(node, struct task, group_node);
        list_remove(&task->group_node);
        list_remove(&task->all_node);
        free(task->waits);
        free(task);
    }
    signal_queue_clear(&group->signals);
    if (group->handlers)
        signal_handlers_put(group->handlers);
    free(group);
}

struct task *task_new(struct thread_group *group, struct platform_context *context)
{
    struct task *task = xcalloc(1, sizeof(*task));
    task->group = group;
    task->context = context;
    task->state = TASK_STATE_STOPPED;
    task->start_time_ns = monotonic_nanoseconds();
    list_init(&task->run_node);
    signal_queue_init(&task->signals);
    list_insert_tail(&group->threads, &task->group_node);
    list_insert_tail(&all_tasks, &task->all_node);
    group->live_threads++;
    if (context)
        sentry_platform->context_set_user(context, task);
    return task;
}

struct task *thread_group_leader(struct thread_group *group)
{
    LIST_FOR_EACH(node, &group->threads) {
        struct task *task = CONTAINER_OF(node, struct task, group_node);
        if (task->tid == group->tgid)
            return task;
    }
    return list_empty(&group->threads) ? NULL : CONTAINER_OF(group->threads.next, struct task, group_node);
}

void credentials_to_vfs(const struct credentials *credentials, struct vfs_credentials *out)
{
    out->fsuid = credentials->fsuid;
    out->fsgid = credentials->fsgid;
    out->groups = credentials->groups;
    out->group_count = credentials->group_count;
    /* The sandbox's root holds the file capabilities, as uid 0 does in a container. */
    out->privileged = credentials->euid == 0;
}

struct fs_state *fs_state_clone(struct fs_state *fs)
{
    struct fs_state *copy = xcalloc(1, sizeof(*copy));
    copy->references = 1;
    copy->root = fs->root;
    copy->cwd = fs->cwd;
    vfs_path_get(&copy->root);
    vfs_path_get(&copy->cwd);
    copy->umask = fs->umask;
    return copy;
}

void fs_state_put(struct fs_state *fs)
{
    if (!fs || --fs->references > 0)
        return;
    vfs_path_put(&fs->root);
    vfs_path_put(&fs->cwd);
    free(fs);
}

/* ---- sentry.h accessors ---- */
int32_t task_pid(const struct task *task) { return task->group->tgid; }
int32_t task_tid(const struct task *task) { return task->tid; }
struct vfs_fd_table *task_fd_table(struct task *task) { return task->fds; }
uint32_t task_umask(const struct task *task) { return task->fs->umask; }

uint32_t task_set_umask(struct task *task, uint32_t umask)
{
    uint32_t old = task->fs->umask;
    task->fs->umask = umask & 0777;
    return old;
}

void task_vfs_context(struct task *task, struct vfs_context *ctx)
{
    /* Kept in the task, so the pointer stays valid for the handler's duration. */
    credentials_to_vfs(&task->credentials, &task->vfs_credentials);
    ctx->root = task->fs->root;
    ctx->cwd = task->fs->cwd;
    ctx->credentials = &task->vfs_credentials;
    ctx->umask = task->fs->umask;
    ctx->pid = task->group->tgid;
    ctx->tid = task->tid;
}

void task_set_cwd(struct task *task, struct vfs_path *cwd)
{
    vfs_path_put(&task->fs->cwd);
    task->fs->cwd = *cwd;
}

void task_set_root(struct task *task, struct vfs_path *root)
{
    vfs_path_put(&task->fs->root);
    task->fs->root = *root;
}

uint64_t task_rlimit_current(const struct task *task, int resource)
{
    if (resource < 0 || resource >= RLIM_NLIMITS)
        return RLIM_INFINITY;
    return task->group->limits[resource].rlim_cur;
}

int task_copy_in(struct task *task, void *destination, uint64_t address, size_t length)
{
    return mm_copy_in(task->group->mm, destination, address, length);
}

int task_copy_out(struct task *task, uint64_t address, const void *source, size_t length)
{
    return mm_copy_out(task->group->mm, address, source, length, false);
}

long task_copy_string_in(struct task *task, uint64_t address, char *destination, size_t size)
{
    /* Page by page, so that a string ending just before an unmapped page is still read. */
    size_t copied = 0;
    while (copied < size) {
        uint64_t here = address + copied;
        size_t chunk = MIN(size - copied, PAGE_SIZE - (here & (PAGE_SIZE - 1)));
        if (task_copy_in(task, destination + copied, here, chunk) < 0)
            return -EFAULT;
        void *end = memchr(destination + copied, '\0', chunk);
        if (end)
            return (long)((char *)end - destination);
        copied += chunk;
    }
    return -ENAMETOOLONG;
}

long task_copy_path_in(struct task *task, uint64_t address, char *destination, bool allow_empty)
{
    long length = task_copy_string_in(task, address, destination, PATH_MAX);
    if (length < 0)
        return length;
    if (length == 0 && !allow_empty)
        return -ENOENT;
    return length;
}

int task_copy_string_array_in(struct task *task, uint64_t address, char ***out, size_t *count, size_t *bytes)
{
    /* Linux bounds argv+envp by a quarter of the stack limit (ARG_MAX) and each string by MAX_ARG_STRLEN. */
    const size_t total_maximum = 2 * 1024 * 1024, string_maximum = 32 * PAGE_SIZE;
    size_t capacity = 16, used = 0;
    char **array = xcalloc(capacity, sizeof(char *));
    char *string = xcalloc(1, string_maximum);
    int error = 0;
    for (; address; used++) {
        uint64_t pointer;
        if (task_copy_in(task, &pointer, address + used * sizeof(uint64_t), sizeof(pointer)) < 0) {
            error = -EFAULT;
            break;
        }
        if (pointer == 0)
            break;
        long length = task_copy_string_in(task, pointer, string, string_maximum);
        if (length < 0) {
            error = length == -ENAMETOOLONG ? -E2BIG : (int)length;
            break;
        }
        *bytes += (size_t)length + 1 + sizeof(char *);
        if (*bytes > total_maximum) {
            error = -E2BIG;
            break;
        }
        if (used + 1 >= capacity) {
            capacity *= 2;
            char **grown = realloc(array, capacity * sizeof(char *));
            if (!grown)
                abort();
            array = grown;
        }
        array[used] = xstrdup(string);
        array[used + 1] = NULL;
    }
    free(string);
    if (error < 0) {
        string_array_free(array);
        return error;
    }
    array[used] = NULL;
    *out = array;
    *count = used;
    return 0;
}

void string_array_free(char **array)
{
    if (!array)
        return;
    for (char **cursor = array; *cursor; cursor++)
        free(*cursor);
    free(array);
}

struct platform_registers *task_registers(struct task *task) { return &task->registers; }
void task_registers_changed(struct task *task) { task->registers_dirty = true; }
