/* vfs/fdtable.c: a task's file descriptor table: the lowest free descriptor, RLIMIT_NOFILE as EMFILE,
 * close-on-exec bits, and sharing (CLONE_FILES) or copying (fork) between tasks. */
#include <stdlib.h>
#include <string.h>

#include "vfs/internal.h"

/* Linux's fs.nr_open default: no table grows past this whatever the rlimit says. */
#define FD_TABLE_HARD_LIMIT (1024 * 1024)

struct vfs_fd_table {
    int refcount;
    struct vfs_file **files;
    bool *close_on_exec;
    size_t capacity;
    size_t lowest_free_hint; /* no free slot below it */
};

struct vfs_fd_table *vfs_fd_table_new(void)
{
    struct vfs_fd_table *table = xcalloc(1, sizeof(*table));
    table->refcount = 1;
    return table;
}

static void table_grow(struct vfs_fd_table *table, size_t needed)
{
    if (needed <= table->capacity)
        return;
    size_t capacity = MAX(needed, MAX(table->capacity * 2, (size_t)64));
    struct vfs_file **files = xcalloc(capacity, sizeof(*files));
    bool *close_on_exec = xcalloc(capacity, sizeof(*close_on_exec));
    if (table->capacity) {
        memcpy(files, table->files, table->capacity * sizeof(*files));
        memcpy(close_on_exec, table->close_on_exec, table->capacity * sizeof(*close_on_exec));
    }
    free(table->files);
    free(table->close_on_exec);
    table->files = files;
    table->close_on_exec = close_on_exec;
    table->capacity = capacity;
}

struct vfs_fd_table *vfs_fd_table_clone(struct vfs_fd_table *table)
{
    struct vfs_fd_table *copy = vfs_fd_table_new();
    table_grow(copy, table->capacity);
    for (size_t fd = 0; fd < table->capacity; fd++) {
        if (!table->files[fd])
            continue;
        copy->files[fd] = table->files[fd];
        vfs_file_get(copy->files[fd]);
        copy->close_on_exec[fd] = table->close_on_exec[fd];
    }
    copy->lowest_free_hint = table->lowest_free_hint;
    return copy;
}

void vfs_fd_table_get(struct vfs_fd_table *table) { table->refcount++; }

void vfs_fd_table_put(struct vfs_fd_table *table)
{
    if (!table || --table->refcount > 0)
        return;
    for (size_t fd = 0; fd < table->capacity; fd++)
        if (table->files[fd])
            vfs_file_put(table->files[fd]);
    free(table->files);
    free(table->close_on_exec);
    free(table);
}

static uint64_t effective_limit(uint64_t limit) { return MIN(limit, (uint64_t)FD_TABLE_HARD_LIMIT); }

int vfs_fd_install(struct vfs_fd_table *table, struct vfs_file *file, int minimum_fd, bool close_on_exec,
                   uint64_t limit)
{
    limit = effective_limit(limit);
    if (minimum_fd < 0 || (minimum_fd > 0 && (uint64_t)minimum_fd >= limit))
        return -EINVAL;
    size_t fd = MAX((size_t)minimum_fd, table->lowest_free_hint);
    while (fd < table->capacity && table->files[fd])
        fd++;
    if (fd >= limit)
        return -EMFILE;
    table_grow(table, fd + 1);
    vfs_file_get(file);
    table->files[fd] = file;
    table->close_on_exec[fd] = close_on_exec;
    if ((size_t)minimum_fd <= table->lowest_free_hint)
        table->lowest_free_hint = fd + 1;
    return (int)fd;
}

int vfs_fd_install_at(struct vfs_fd_table *table, int fd, struct vfs_file *file, bool close_on_exec, uint64_t limit)
{
    if (fd < 0 || (uint64_t)fd >= effective_limit(limit))
        return -EBADF;
    table_grow(table, (size_t)fd + 1);
    struct vfs_file *previous = table->files[fd];
    vfs_file_get(file);
    table->files[fd] = file;
    table->close_on_exec[fd] = close_on_exec;
    /* the slot is now taken; the hint stays a lower bound of free slots */
    if (previous)
        vfs_file_put(previous);
    return fd;
}

static bool fd_is_open(struct vfs_fd_table *table, int fd)
{
    return fd >= 0 && (size_t)fd < table->capacity && table->files[fd];
}

struct vfs_file *vfs_fd_get(struct vfs_fd_table *table, int fd)
{
    if (!fd_is_open(table, fd))
        return NULL;
    vfs_file_get(table->files[fd]);
    return table->files[fd];
}

int vfs_fd_close(struct vfs_fd_table *table, int fd)
{
    if (!fd_is_open(table, fd))
        return -EBADF;
    struct vfs_file *file = table->files[fd];
    table->files[fd] = NULL;
    table->close_on_exec[fd] = false;
    if ((size_t)fd < table->lowest_free_hint)
        table->lowest_free_hint = (size_t)fd;
    vfs_file_put(file);
    return 0;
}

int vfs_fd_get_close_on_exec(struct vfs_fd_table *table, int fd)
{
    if (!fd_is_open(table, fd))
        return -EBADF;
    return table->close_on_exec[fd] ? 1 : 0;
}

int vfs_fd_set_close_on_exec(struct vfs_fd_table *table, int fd, bool close_on_exec)
{
    if (!fd_is_open(table, fd))
        return -EBADF;
    table->close_on_exec[fd] = close_on_exec;
    return 0;
}

void vfs_fd_table_close_on_exec(struct vfs_fd_table *table)
{
    for (size_t fd = 0; fd < table->capacity; fd++)
        if (table->files[fd] && table->close_on_exec[fd])
            vfs_fd_close(table, (int)fd);
}

int vfs_fd_next_open(struct vfs_fd_table *table, int from)
{
    if (from < 0)
        from = 0;
    for (size_t fd = (size_t)from; fd < table->capacity; fd++)
        if (table->files[fd])
            return (int)fd;
    return -1;
}
