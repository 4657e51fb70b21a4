/* vfs/procfs.c: /proc: its directory structure (global files, /proc/sys, /proc/PID with fd/ and task/, the
 * self and thread-self links) over the Sentry's vfs_procfs_provider; file content is generated at open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "vfs/internal.h"

enum proc_kind {
    PROC_STATIC_DIR,  /* the root and /proc/sys/...: name is the directory's path below /proc ("" = root) */
    PROC_PID_DIR,     /* /proc/PID and /proc/PID/task/TID */
    PROC_TASK_DIR,    /* /proc/PID/task */
    PROC_FD_DIR,      /* /proc/PID/fd */
    PROC_FDINFO_DIR,  /* /proc/PID/fdinfo */
    PROC_FILE,        /* content from the provider: name relative to /proc/PID, or below /proc for pid 0 */
    PROC_MOUNTS_FILE, /* /proc/PID/mounts: from the mount tree */
    PROC_MOUNTINFO_FILE, /* /proc/PID/mountinfo: likewise */
    PROC_LINK,        /* exe, cwd, root: target from the provider */
    PROC_STATIC_LINK, /* /proc/mounts -> self/mounts */
    PROC_SELF,
    PROC_THREAD_SELF,
    PROC_FD_LINK,
    PROC_FDINFO_FILE, /* /proc/PID/fdinfo/N: position, flags, mount and inode of that open file */
};

struct proc_node {
    enum proc_kind kind;
    int32_t pid; /* the process (or thread) the node describes; 0 for global nodes */
    bool thread; /* a task/TID directory: no task/ below it */
    int fd;
    char name[64];
};

struct proc_entry {
    const char *name;
    uint32_t mode;
    enum proc_kind kind;
};

/* Global entries, by path below /proc. Directories list the entries directly below them. */
static const struct proc_entry global_entries[] = {
    {"self", S_IFLNK | 0777, PROC_SELF},
    {"thread-self", S_IFLNK | 0777, PROC_THREAD_SELF},
    {"mounts", S_IFLNK | 0777, PROC_STATIC_LINK},
    {"cpuinfo", S_IFREG | 0444, PROC_FILE},
    {"meminfo", S_IFREG | 0444, PROC_FILE},
    {"uptime", S_IFREG | 0444, PROC_FILE},
    {"loadavg", S_IFREG | 0444, PROC_FILE},
    {"version", S_IFREG | 0444, PROC_FILE},
    {"stat", S_IFREG | 0444, PROC_FILE},
    {"filesystems", S_IFREG | 0444, PROC_FILE},
    {"sys", S_IFDIR | 0555, PROC_STATIC_DIR},
    {"sys/kernel", S_IFDIR | 0555, PROC_STATIC_DIR},
    {"sys/kernel/hostname", S_IFREG | 0444, PROC_FILE},
    {"sys/kernel/osrelease", S_IFREG | 0444, PROC_FILE},
    {"sys/kernel/ostype", S_IFREG | 0444, PROC_FILE},
    {"sys/kernel/version", S_IFREG | 0444, PROC_FILE},
    {"sys/kernel/pid_max", S_IFREG | 0444, PROC_FILE},
    {"sys/kernel/ngroups_max", S_IFREG | 0444, PROC_FILE},
    {"sys/kernel/cap_last_cap", S_IFREG | 0444, PROC_FILE},
    {"sys/kernel/random", S_IFDIR | 0555, PROC_STATIC_DIR},
    {"sys/kernel/random/boot_id", S_IFREG | 0444, PROC_FILE},
    {"sys/kernel/random/uuid", S_IFREG | 0444, PROC_FILE},
    {"sys/fs", S_IFDIR | 0555, PROC_STATIC_DIR},
    {"sys/fs/file-max", S_IFREG | 0444, PROC_FILE},
    {"sys/fs/nr_open", S_IFREG | 0444, PROC_FILE},
    {"sys/fs/pipe-max-size", S_IFREG | 0444, PROC_FILE},
    {"sys/vm", S_IFDIR | 0555, PROC_STATIC_DIR},
    {"sys/vm/overcommit_memory", S_IFREG | 0444, PROC_FILE},
    {"sys/vm/max_map_count", S_IFREG | 0444, PROC_FILE},
};

/* Entries of /proc/PID (and /proc/PID/task/TID, without "task"). */
static const struct proc_entry process_entries[] = {
    {"cmdline", S_IFREG | 0444, PROC_FILE},
    {"environ", S_IFREG | 0444, PROC_FILE},
    {"status", S_IFREG | 0444, PROC_FILE},
    {"stat", S_IFREG | 0444, PROC_FILE},
    {"statm", S_IFREG | 0444, PROC_FILE},
    {"maps", S_IFREG | 0444, PROC_FILE},
    {"comm", S_IFREG | 0444, PROC_FILE},
    {"limits", S_IFREG | 0444, PROC_FILE},
    {"cgroup", S_IFREG | 0444, PROC_FILE},
    {"mounts", S_IFREG | 0444, PROC_MOUNTS_FILE},
    {"mountinfo", S_IFREG | 0444, PROC_MOUNTINFO_FILE},
    {"exe", S_IFLNK | 0777, PROC_LINK},
    {"cwd", S_IFLNK | 0777, PROC_LINK},
    {"root", S_IFLNK | 0777, PROC_LINK},
    {"fd", S_IFDIR | 0555, PROC_FD_DIR},
    {"fdinfo", S_IFDIR | 0555, PROC_FDINFO_DIR},
    {"task", S_IFDIR | 0555, PROC_TASK_DIR},
};

static const struct vfs_inode_operations proc_dir_inode_operations;
static const struct vfs_inode_operations proc_file_inode_operations;
static const struct vfs_inode_operations proc_link_inode_operations;
static const struct vfs_inode_operations proc_fd_link_inode_operations;
static const struct vfs_file_operations proc_dir_file_operations;
static void proc_evict_inode(struct vfs_inode *inode) { free(inode->private_data); }
static void proc_kill(struct vfs_superblock *sb) { (void)sb; }
static const struct vfs_fs_type procfs_type = {.name = "proc", .kill = proc_kill, .evict_inode = proc_evict_inode};

static const struct vfs_procfs_provider *provider_of(struct vfs_inode *inode) { return inode->sb->private_data; }
static struct proc_node *node_of(struct vfs_inode *inode) { return inode->private_data; }

/* Stable inode numbers: the same /proc name always gets the same number while the sandbox runs. */
static uint64_t proc_inode_number(const struct proc_node *node)
{
    uint64_t hash = 1469598103934665603ULL;
    const unsigned char *bytes = (const unsigned char *)node->name;
    for (; *bytes; bytes++)
        hash = (hash ^ *bytes) * 1099511628211ULL;
    hash = (hash ^ (uint64_t)node->kind) * 1099511628211ULL;
    hash = (hash ^ (uint64_t)(uint32_t)node->pid) * 1099511628211ULL;
    hash = (hash ^ (uint64_t)(uint32_t)node->fd) * 1099511628211ULL;
    hash = (hash ^ (uint64_t)node->thread) * 1099511628211ULL;
    return (hash & 0x7fffffffULL) + 2; /* 1 is the root */
}

static struct vfs_inode *proc_inode_new(struct vfs_superblock *sb, uint32_t mode, const struct proc_node *template)
{
    const struct vfs_inode_operations *ops = S_ISDIR(mode)                     ? &proc_dir_inode_operations
                                             : template->kind == PROC_FD_LINK ? &proc_fd_link_inode_operations
                                             : S_ISLNK(mode)                  ? &proc_link_inode_operations
                                                                              : &proc_file_inode_operations;
    struct vfs_inode *inode = vfs_inode_new(sb, mode, ops, S_ISDIR(mode) ? &proc_dir_file_operations : NULL);
    struct proc_node *node = xcalloc(1, sizeof(*node));
    *node = *template;
    inode->private_data = node;
    inode->inode_number = proc_inode_number(node);
    if (S_ISDIR(mode))
        inode->link_count = 2;
    return inode;
}

struct vfs_superblock *vfs_procfs_new(const struct vfs_procfs_provider *provider)
{
    struct vfs_superblock *sb = vfs_superblock_new(&procfs_type, VFS_SB_NO_DENTRY_CACHE);
    sb->private_data = (void *)provider;
    struct proc_node root = {.kind = PROC_STATIC_DIR, .name = ""};
    struct vfs_inode *inode = proc_inode_new(sb, S_IFDIR | 0555, &root);
    inode->inode_number = 1;
    vfs_superblock_set_root(sb, inode);
    return sb;
}

/* ---- which processes exist ---- */
static size_t list_processes(const struct vfs_procfs_provider *provider, int32_t **pids_out)
{
    size_t capacity = 256;
    for (;;) {
        int32_t *pids = xcalloc(capacity, sizeof(*pids));
        size_t count = provider && provider->list_processes ? provider->list_processes(pids, capacity) : 0;
        if (count < capacity) {
            *pids_out = pids;
            return count;
        }
        free(pids);
        capacity *= 4;
    }
}

static size_t list_threads(const struct vfs_procfs_provider *provider, int32_t pid, int32_t **tids_out)
{
    size_t capacity = 64;
    for (;;) {
        int32_t *tids = xcalloc(capacity, sizeof(*tids));
        size_t count = provider && provider->list_threads ? provider->list_threads(pid, tids, capacity) : 0;
        if (count < capacity) {
            *tids_out = tids;
            return count;
        }
        free(tids);
        capacity *= 4;
    }
}

static bool contains(const int32_t *values, size_t count, int32_t value)
{
    for (size_t index = 0; index < count; index++)
        if (values[index] == value)
            return true;
    return false;
}

/* A pid names a directory when it is a process, or any process's thread (reachable though not listed). */
static bool pid_exists(const struct vfs_procfs_provider *provider, int32_t pid)
{
    int32_t *pids;
    size_t count = list_processes(provider, &pids);
    bool found = contains(pids, count, pid);
    for (size_t index = 0; !found && index < count; index++) {
        int32_t *tids;
        size_t thread_count = list_threads(provider, pids[index], &tids);
        found = contains(tids, thread_count, pid);
        free(tids);
    }
    free(pids);
    return found;
}

static bool parse_number(const char *name, int32_t *value)
{
    if (!*name || (name[0] == '0' && name[1]))
        return false;
    long long result = 0;
    for (const char *cursor = name; *cursor; cursor++) {
        if (*cursor < '0' || *cursor > '9')
            return false;
        result = result * 10 + (*cursor - '0');
        if (result > 0x7fffffff)
            return false;
    }
    *value = (int32_t)result;
    return true;
}

static int fd_list(const struct vfs_procfs_provider *provider, int32_t pid, int **fds_out, size_t *count_out)
{
    size_t capacity = 256;
    for (;;) {
        int *fds = xcalloc(capacity, sizeof(*fds));
        size_t count = 0;
        int error = provider && provider->list_fds ? provider->list_fds(pid, fds, capacity, &count) : -ENOENT;
        if (error < 0) {
            free(fds);
            return error;
        }
        if (count < capacity) {
            *fds_out = fds;
            *count_out = count;
            return 0;
        }
        free(fds);
        capacity *= 4;
    }
}

static uint32_t fd_link_mode(const struct vfs_procfs_provider *provider, int32_t pid, int fd)
{
    uint32_t mode = S_IFLNK;
    struct vfs_file *file = provider->get_fd_file ? provider->get_fd_file(pid, fd) : NULL;
    if (!file)
        return mode | 0700;
    if (vfs_file_readable(file))
        mode |= S_IRUSR | S_IXUSR;
    if (vfs_file_writable(file))
        mode |= S_IWUSR | S_IXUSR;
    vfs_file_put(file);
    return mode;
}

/* ---- directory contents ---- */
/* The static entries directly inside the directory at path ("" = /proc). */
static const char *static_child_name(const char *dir_path, const char *entry_path)
{
    size_t length = strlen(dir_path);
    if (length) {
        if (strncmp(entry_path, dir_path, length) != 0 || entry_path[length] != '/')
            return NULL;
        entry_path += length + 1;
    }
    return strchr(entry_path, '/') ? NULL : entry_path;
}

static int proc_lookup(struct vfs_dentry *dir, const char *name, struct vfs_inode **inode_out)
{
    struct vfs_inode *dir_inode = dir->inode;
    struct proc_node *parent = node_of(dir_inode);
    const struct vfs_procfs_provider *provider = provider_of(dir_inode);
    struct proc_node child = {.pid = parent->pid, .thread = parent->thread, .fd = -1};
    int32_t number;
    switch (parent->kind) {
    case PROC_STATIC_DIR:
        for (size_t index = 0; index < ARRAY_SIZE(global_entries); index++) {
            const char *child_name = static_child_name(parent->name, global_entries[index].name);
            if (!child_name || strcmp(child_name, name) != 0)
                continue;
            child.kind = global_entries[index].kind;
            snprintf(child.name, sizeof(child.name), "%s", global_entries[index].name);
            *inode_out = proc_inode_new(dir_inode->sb, global_entries[index].mode, &child);
            return 0;
        }
        if (parent->name[0] == '\0' && parse_number(name, &number) && number > 0 && pid_exists(provider, number)) {
            child.kind = PROC_PID_DIR;
            child.pid = number;
            *inode_out = proc_inode_new(dir_inode->sb, S_IFDIR | 0555, &child);
            return 0;
        }
        return -ENOENT;
    case PROC_PID_DIR:
        if (!pid_exists(provider, parent->pid))
            return -ENOENT;
        for (size_t index = 0; index < ARRAY_SIZE(process_entries); index++) {
            if (strcmp(process_entries[index].name, name) != 0)
                continue;
            if (parent->thread && process_entries[index].kind == PROC_TASK_DIR)
                return -ENOENT;
            child.kind = process_entries[index].kind;
            snprintf(child.name, sizeof(child.name), "%s", name);
            *inode_out = proc_inode_new(dir_inode->sb, process_entries[index].mode, &child);
            return 0;
        }
        return -ENOENT;
    case PROC_TASK_DIR: {
        if (!parse_number(name, &number))
            return -ENOENT;
        int32_t *tids;
        size_t count = list_threads(provider, parent->pid, &tids);
        bool found = contains(tids, count, number);
        free(tids);
        if (!found)
            return -ENOENT;
        child.kind = PROC_PID_DIR;
        child.pid = number;
        child.thread = true;
        *inode_out = proc_inode_new(dir_inode->sb, S_IFDIR | 0555, &child);
        return 0;
    }
    case PROC_FD_DIR:
    case PROC_FDINFO_DIR: {
        if (!parse_number(name, &number))
            return -ENOENT;
        int *fds;
        size_t count;
        int error = fd_list(provider, parent->pid, &fds, &count);
        if (error < 0)
            return error;
        bool found = false;
        for (size_t index = 0; index < count && !found; index++)
            found = fds[index] == number;
        free(fds);
        if (!found)
            return -ENOENT;
        child.fd = number;
        if (parent->kind == PROC_FDINFO_DIR) {
            child.kind = PROC_FDINFO_FILE;
            snprintf(child.name, sizeof(child.name), "fdinfo/%d", number);
            *inode_out = proc_inode_new(dir_inode->sb, S_IFREG | 0444, &child);
            return 0;
        }
        child.kind = PROC_FD_LINK;
        snprintf(child.name, sizeof(child.name), "fd/%d", number);
        *inode_out = proc_inode_new(dir_inode->sb, fd_link_mode(provider, parent->pid, number), &child);
        return 0;
    }
    default: return -ENOTDIR;
    }
}

/* Positions: 2 + the index of the entry in the directory's current listing. */
static int proc_iterate(struct vfs_file *file, int64_t position, struct vfs_dir_emitter *emitter)
{
    struct vfs_inode *inode = file->inode;
    struct proc_node *node = node_of(inode);
    const struct vfs_procfs_provider *provider = provider_of(inode);
    int64_t index = 2;
    struct proc_node child = {.pid = node->pid, .thread = node->thread, .fd = -1};
    char name[32];
#define EMIT(entry_name, entry_mode)                                                                      \
    do {                                                                                                 \
        if (index >= position) {                                                                         \
            if (!emitter->emit(emitter, (entry_name), proc_inode_number(&child),                         \
                               vfs_mode_to_dirent_type(entry_mode), index + 1))                          \
                goto done;                                                                               \
        }                                                                                                \
        index++;                                                                                         \
    } while (0)
    int32_t *ids = NULL;
    int *fds = NULL;
    switch (node->kind) {
    case PROC_STATIC_DIR: {
        for (size_t entry = 0; entry < ARRAY_SIZE(global_entries); entry++) {
            const char *child_name = static_child_name(node->name, global_entries[entry].name);
            if (!child_name)
                continue;
            child.kind = global_entries[entry].kind;
            snprintf(child.name, sizeof(child.name), "%s", global_entries[entry].name);
            EMIT(child_name, global_entries[entry].mode);
        }
        if (node->name[0] != '\0')
            break;
        size_t count = list_processes(provider, &ids);
        for (size_t entry = 0; entry < count; entry++) {
            child.kind = PROC_PID_DIR;
            child.pid = ids[entry];
            child.name[0] = '\0';
            snprintf(name, sizeof(name), "%d", ids[entry]);
            EMIT(name, S_IFDIR);
        }
        break;
    }
    case PROC_PID_DIR:
        for (size_t entry = 0; entry < ARRAY_SIZE(process_entries); entry++) {
            if (node->thread && process_entries[entry].kind == PROC_TASK_DIR)
                continue;
            child.kind = process_entries[entry].kind;
            snprintf(child.name, sizeof(child.name), "%s", process_entries[entry].name);
            EMIT(process_entries[entry].name, process_entries[entry].mode);
        }
        break;
    case PROC_TASK_DIR: {
        size_t count = list_threads(provider, node->pid, &ids);
        for (size_t entry = 0; entry < count; entry++) {
            child.kind = PROC_PID_DIR;
            child.pid = ids[entry];
            child.thread = true;
            child.name[0] = '\0';
            snprintf(name, sizeof(name), "%d", ids[entry]);
            EMIT(name, S_IFDIR);
        }
        break;
    }
    case PROC_FD_DIR:
    case PROC_FDINFO_DIR: {
        size_t count = 0;
        int error = fd_list(provider, node->pid, &fds, &count);
        if (error < 0)
            return error;
        bool info = node->kind == PROC_FDINFO_DIR;
        for (size_t entry = 0; entry < count; entry++) {
            child.kind = info ? PROC_FDINFO_FILE : PROC_FD_LINK;
            child.fd = fds[entry];
            snprintf(child.name, sizeof(child.name), info ? "fdinfo/%d" : "fd/%d", fds[entry]);
            snprintf(name, sizeof(name), "%d", fds[entry]);
            EMIT(name, info ? S_IFREG : S_IFLNK);
        }
        break;
    }
    default: break;
    }
#undef EMIT
done:
    free(ids);
    free(fds);
    return 0;
}

static const struct vfs_file_operations proc_dir_file_operations = {.iterate = proc_iterate};

static int proc_dir_getattr(struct vfs_inode *inode, struct stat *stat_out)
{
    vfs_inode_fill_stat(inode, stat_out);
    stat_out->st_size = 0;
    stat_out->st_blocks = 0;
    return 0;
}

static int proc_open_directory(struct vfs_file *file, const struct vfs_context *ctx)
{
    (void)ctx;
    struct proc_node *node = node_of(file->inode);
    if (node->kind == PROC_PID_DIR && !pid_exists(provider_of(file->inode), node->pid))
        return -ENOENT;
    return 0;
}

static const struct vfs_inode_operations proc_dir_inode_operations = {
    .lookup = proc_lookup,
    .getattr = proc_dir_getattr,
    .open = proc_open_directory,
};

/* ---- files ---- */
static void random_uuid(struct text_buffer *out)
{
    uint8_t bytes[16] = {0};
    if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
        log_warning("procfs: getrandom failed: %d", errno);
    bytes[6] = (uint8_t)((bytes[6] & 0x0f) | 0x40);
    bytes[8] = (uint8_t)((bytes[8] & 0x3f) | 0x80);
    text_buffer_append(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x\n", bytes[0],
                       bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                       bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
}

/* Content Linux always has, for global files the provider does not serve. */
static int default_global_content(const char *name, struct text_buffer *out)
{
    static const struct {
        const char *name, *content;
    } defaults[] = {
        {"filesystems", "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevpts\nnodev\tpipefs\nnodev\toverlay\n"},
        {"sys/kernel/ostype", "Linux\n"},
        {"sys/kernel/pid_max", "4194304\n"},
        {"sys/kernel/ngroups_max", "65536\n"},
        {"sys/kernel/cap_last_cap", "40\n"},
        {"sys/fs/file-max", "9223372036854775807\n"},
        {"sys/fs/nr_open", "1048576\n"},
        {"sys/fs/pipe-max-size", "1048576\n"},
        {"sys/vm/overcommit_memory", "0\n"},
        {"sys/vm/max_map_count", "65530\n"},
    };
    for (size_t index = 0; index < ARRAY_SIZE(defaults); index++) {
        if (strcmp(defaults[index].name, name) == 0) {
            text_buffer_append(out, "%s", defaults[index].content);
            return 0;
        }
    }
    if (strcmp(name, "sys/kernel/random/uuid") == 0) {
        random_uuid(out);
        return 0;
    }
    if (strcmp(name, "sys/kernel/random/boot_id") == 0) {
        static struct text_buffer boot_id;
        if (!boot_id.length)
            random_uuid(&boot_id);
        text_buffer_append(out, "%s", boot_id.data);
        return 0;
    }
    return -ENOENT;
}

/* /proc/PID/fdinfo/N as Linux's first lines: offset, open flags (with O_CLOEXEC when the fd has it, in
 * octal), the mount's id and the inode number. */
static int describe_fd(const struct vfs_procfs_provider *provider, int32_t pid, int fd, struct text_buffer *out)
{
    struct vfs_file *open_file = provider && provider->get_fd_file ? provider->get_fd_file(pid, fd) : NULL;
    if (!open_file)
        return -ENOENT;
    int flags = vfs_file_status_flags(open_file);
    if (provider->fd_close_on_exec && provider->fd_close_on_exec(pid, fd) > 0)
        flags |= O_CLOEXEC;
    int mount_id = open_file->path.mount ? open_file->path.mount->id : 0;
    text_buffer_append(out, "pos:\t%lld\nflags:\t0%o\nmnt_id:\t%d\nino:\t%llu\n", (long long)open_file->offset,
                       (unsigned)flags, mount_id,
                       (unsigned long long)(open_file->inode ? open_file->inode->inode_number : 0));
    vfs_file_put(open_file);
    return 0;
}

static int proc_open_file(struct vfs_file *file, const struct vfs_context *ctx)
{
    /* /proc content here is never written: Linux's writable files (comm, sys knobs) are not emulated */
    if (vfs_file_writable(file) || (file->flags & O_TRUNC))
        return -EACCES;
    struct proc_node *node = node_of(file->inode);
    const struct vfs_procfs_provider *provider = provider_of(file->inode);
    file->ops = &vfs_snapshot_file_operations;
    int error;
    if (node->kind == PROC_FDINFO_FILE)
        return describe_fd(provider, node->pid, node->fd, &file->snapshot);
    if (node->kind == PROC_MOUNTS_FILE || node->kind == PROC_MOUNTINFO_FILE) {
        if (node->pid && !pid_exists(provider, node->pid))
            return -ENOENT;
        vfs_describe_mounts(ctx, node->kind == PROC_MOUNTINFO_FILE, &file->snapshot);
        return 0;
    }
    error = provider && provider->read_file ? provider->read_file(node->pid, node->name, &file->snapshot)
                                            : -ENOENT;
    if (error == -ENOENT && node->pid == 0) {
        text_buffer_free(&file->snapshot);
        error = default_global_content(node->name, &file->snapshot);
    }
    if (error < 0)
        text_buffer_free(&file->snapshot);
    return error;
}

static int proc_file_getattr(struct vfs_inode *inode, struct stat *stat_out)
{
    vfs_inode_fill_stat(inode, stat_out);
    stat_out->st_size = 0; /* as Linux: the size of generated content is unknown until read */
    stat_out->st_blocks = 0;
    stat_out->st_blksize = 1024;
    return 0;
}

static const struct vfs_inode_operations proc_file_inode_operations = {
    .getattr = proc_file_getattr,
    .open = proc_open_file,
};

/* ---- links ---- */
static int proc_readlink(struct vfs_dentry *dentry, const struct vfs_context *ctx, struct text_buffer *out)
{
    struct proc_node *node = node_of(dentry->inode);
    const struct vfs_procfs_provider *provider = provider_of(dentry->inode);
    switch (node->kind) {
    case PROC_SELF:
        if (!ctx || ctx->pid <= 0)
            return -ENOENT;
        text_buffer_append(out, "%d", ctx->pid);
        return 0;
    case PROC_THREAD_SELF:
        if (!ctx || ctx->pid <= 0)
            return -ENOENT;
        text_buffer_append(out, "%d/task/%d", ctx->pid, ctx->tid);
        return 0;
    case PROC_STATIC_LINK: text_buffer_append(out, "self/mounts"); return 0;
    case PROC_LINK:
        return provider && provider->read_link ? provider->read_link(node->pid, node->name, out) : -ENOENT;
    case PROC_FD_LINK:
        return provider && provider->read_fd_link ? provider->read_fd_link(node->pid, node->fd, out) : -ENOENT;
    default: return -EINVAL;
    }
}

static int proc_open_fd_link(struct vfs_dentry *dentry, struct vfs_file **file_out)
{
    struct proc_node *node = node_of(dentry->inode);
    const struct vfs_procfs_provider *provider = provider_of(dentry->inode);
    struct vfs_file *file = provider && provider->get_fd_file ? provider->get_fd_file(node->pid, node->fd) : NULL;
    if (!file)
        return -ENOENT;
    *file_out = file;
    return 0;
}

static int proc_link_getattr(struct vfs_inode *inode, struct stat *stat_out)
{
    vfs_inode_fill_stat(inode, stat_out);
    stat_out->st_size = 0;
    stat_out->st_blocks = 0;
    stat_out->st_blksize = 1024;
    return 0;
}

static const struct vfs_inode_operations proc_link_inode_operations = {
    .readlink = proc_readlink,
    .getattr = proc_link_getattr,
};

/* fd links are "magic": following one reaches the open file itself. */
static const struct vfs_inode_operations proc_fd_link_inode_operations = {
    .readlink = proc_readlink,
    .getattr = proc_link_getattr,
    .open_magic_link = proc_open_fd_link,
};
