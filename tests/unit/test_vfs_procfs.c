/* tests/unit/test_vfs_procfs.c: /proc over a fake provider: self and thread-self, listings of processes,
 * threads and fds, per-process files, global files and their defaults, fd links that reopen the file,
 * mounts from the mount tree, read-only rules and modes; and the minimal /sys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/vfs.h"

static struct vfs_credentials root_credentials = {.fsuid = 0, .fsgid = 0, .privileged = true};
static struct vfs_credentials user_credentials = {.fsuid = 1000, .fsgid = 1000, .privileged = false};
static struct vfs_path root;
static struct vfs_context ctx;
static struct vfs_file *pipe_reader, *pipe_writer;

/* Processes 1 and 5; process 5 has threads 5 and 7. Process 1 has fds 0 (a pipe) and 3 (a tmpfs file). */
static size_t fake_list_processes(int32_t *pids, size_t max)
{
    static const int32_t all[] = {1, 5};
    size_t count = MIN(max, ARRAY_SIZE(all));
    memcpy(pids, all, count * sizeof(*pids));
    return count;
}

static size_t fake_list_threads(int32_t pid, int32_t *tids, size_t max)
{
    if (pid == 1 && max >= 1) {
        tids[0] = 1;
        return 1;
    }
    if (pid == 5 && max >= 2) {
        tids[0] = 5;
        tids[1] = 7;
        return 2;
    }
    return 0;
}

static int fake_read_file(int32_t pid, const char *name, struct text_buffer *out)
{
    if (pid == 0 && strcmp(name, "cpuinfo") == 0) {
        text_buffer_append(out, "processor\t: 0\n");
        return 0;
    }
    if (pid == 0 && strcmp(name, "sys/kernel/hostname") == 0) {
        text_buffer_append(out, "sandbox\n");
        return 0;
    }
    if (pid == 0)
        return -ENOENT;
    if (strcmp(name, "cmdline") == 0) {
        text_buffer_append_bytes(out, "prog\0arg\0", 9);
        return 0;
    }
    if (strcmp(name, "comm") == 0) {
        text_buffer_append(out, "task%d\n", pid);
        return 0;
    }
    return -ENOENT;
}

static int fake_read_link(int32_t pid, const char *name, struct text_buffer *out)
{
    if (strcmp(name, "exe") == 0) {
        text_buffer_append(out, "/bin/prog%d", pid);
        return 0;
    }
    if (strcmp(name, "cwd") == 0 || strcmp(name, "root") == 0) {
        text_buffer_append(out, "/");
        return 0;
    }
    return -ENOENT;
}

static int fake_list_fds(int32_t pid, int *fds, size_t max, size_t *count)
{
    if (pid != 1 && pid != 5)
        return -ENOENT;
    *count = 0;
    if (pid == 1 && max >= 2) {
        fds[0] = 0;
        fds[1] = 3;
        *count = 2;
    }
    return 0;
}

static struct vfs_file *regular_file;

static struct vfs_file *fake_get_fd_file(int32_t pid, int fd)
{
    struct vfs_file *file = NULL;
    if (pid == 1 && fd == 0)
        file = pipe_reader;
    if (pid == 1 && fd == 3)
        file = regular_file;
    if (file)
        vfs_file_get(file);
    return file;
}

static int fake_read_fd_link(int32_t pid, int fd, struct text_buffer *out)
{
    struct vfs_file *file = fake_get_fd_file(pid, fd);
    if (!file)
        return -ENOENT;
    int error = vfs_file_describe_path(file, &ctx, out);
    vfs_file_put(file);
    return error;
}

static const struct vfs_procfs_provider provider = {
    .list_processes = fake_list_processes,
    .list_threads = fake_list_threads,
    .read_file = fake_read_file,
    .read_link = fake_read_link,
    .list_fds = fake_list_fds,
    .read_fd_link = fake_read_fd_link,
    .get_fd_file = fake_get_fd_file,
};

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vfs_make_tmpfs_root(0755, &root), 0);
    ctx = (struct vfs_context){.root = root, .cwd = root, .credentials = &root_credentials, .umask = 022,
                               .pid = 1, .tid = 1};
    assert_int_equal(vfs_mount_procfs(&ctx, "/proc", &provider), 0);
    assert_int_equal(vfs_mount_sysfs(&ctx, "/sys"), 0);
    assert_int_equal(vfs_pipe_create(0, &pipe_reader, &pipe_writer), 0);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/data", O_RDWR | O_CREAT, 0644, &regular_file), 0);
    assert_int_equal(vfs_write(regular_file, "file data", 9), 9);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vfs_file_put(regular_file);
    vfs_file_put(pipe_reader);
    vfs_file_put(pipe_writer);
    vfs_path_put(&root);
    return 0;
}

static char *read_path(const char *path)
{
    static char buffer[4096];
    struct vfs_file *file;
    int error = vfs_open_at(&ctx, NULL, path, O_RDONLY, 0, &file);
    if (error < 0) {
        snprintf(buffer, sizeof(buffer), "error %d", error);
        return buffer;
    }
    size_t used = 0;
    ssize_t got;
    while ((got = vfs_read(file, buffer + used, 3)) > 0) /* small reads: offsets must carry on */
        used += (size_t)got;
    buffer[used] = '\0';
    vfs_file_put(file);
    return buffer;
}

static char *list_path(const char *path)
{
    static char joined[2048];
    joined[0] = '\0';
    struct vfs_file *dir;
    assert_int_equal(vfs_open_at(&ctx, NULL, path, O_RDONLY | O_DIRECTORY, 0, &dir), 0);
    _Alignas(8) char buffer[1024];
    ssize_t length;
    while ((length = vfs_getdents64(dir, buffer, sizeof(buffer))) > 0) {
        for (ssize_t offset = 0; offset < length;) {
            const struct dirent64 *entry = (const void *)(buffer + offset);
            const char *name = buffer + offset + offsetof(struct dirent64, d_name);
            offset += entry->d_reclen;
            if (strcmp(name, ".") && strcmp(name, "..")) {
                strcat(joined, name);
                strcat(joined, " ");
            }
        }
    }
    assert_int_equal(length, 0);
    vfs_file_put(dir);
    return joined;
}

static void test_self_and_listing(void **state)
{
    (void)state;
    char target[64] = {0};
    assert_int_equal(vfs_readlink_at(&ctx, NULL, "/proc/self", target, sizeof(target)), 1);
    assert_string_equal(target, "1");
    struct vfs_context thread = ctx;
    thread.pid = 5;
    thread.tid = 7;
    memset(target, 0, sizeof(target));
    assert_int_equal(vfs_readlink_at(&thread, NULL, "/proc/thread-self", target, sizeof(target)), 8);
    assert_string_equal(target, "5/task/7");
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&thread, NULL, "/proc/thread-self", 0, &attributes), 0);
    assert_true(S_ISDIR(attributes.st_mode));
    assert_int_equal(attributes.st_mode & 07777, 0555);
    char *listing = list_path("/proc");
    assert_non_null(strstr(listing, "self thread-self "));
    assert_non_null(strstr(listing, "cpuinfo "));
    assert_non_null(strstr(listing, " 1 5 "));
    assert_null(strstr(listing, " 7 "));
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/proc/7", 0, &attributes), 0); /* a thread: reachable */
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/proc/8", 0, &attributes), -ENOENT);
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/proc/01", 0, &attributes), -ENOENT);
    assert_string_equal(list_path("/proc/5/task"), "5 7 ");
    assert_null(strstr(list_path("/proc/5/task/7"), "task"));
    assert_non_null(strstr(list_path("/proc/self"), "cmdline environ status stat statm maps comm limits cgroup mounts mountinfo exe"));
    assert_string_equal(list_path("/proc/sys"), "kernel fs vm ");
}

static void test_files(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/proc/self/cmdline", O_RDONLY, 0, &file), 0);
    char buffer[32];
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), 9);
    assert_memory_equal(buffer, "prog\0arg\0", 9);
    assert_int_equal(vfs_lseek(file, 5, SEEK_SET), 5);
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), 4);
    assert_int_equal(vfs_pread(file, buffer, 4, 0), 4);
    assert_memory_equal(buffer, "prog", 4);
    struct stat attributes;
    assert_int_equal(vfs_fstat(file, &attributes), 0);
    assert_int_equal(attributes.st_mode, S_IFREG | 0444);
    assert_int_equal(attributes.st_size, 0);
    vfs_file_put(file);
    assert_string_equal(read_path("/proc/5/task/7/comm"), "task7\n");
    assert_string_equal(read_path("/proc/cpuinfo"), "processor\t: 0\n");
    assert_string_equal(read_path("/proc/sys/kernel/hostname"), "sandbox\n");
    assert_string_equal(read_path("/proc/sys/kernel/ostype"), "Linux\n"); /* a default */
    assert_string_equal(read_path("/proc/self/maps"), "error -2");      /* the provider said ENOENT */
    char *uuid = read_path("/proc/sys/kernel/random/uuid");
    assert_int_equal(strlen(uuid), 37);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/proc/self/comm", O_WRONLY, 0, &file), -EACCES);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/proc/cpuinfo", O_RDWR, 0, &file), -EACCES);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/proc/new", O_RDWR | O_CREAT, 0644, &file), -EACCES);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/proc/dir", 0755), -EPERM);
    struct vfs_context user = ctx;
    user.credentials = &user_credentials;
    assert_int_equal(vfs_open_at(&user, NULL, "/proc/new", O_RDWR | O_CREAT, 0644, &file), -EACCES);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/proc/cpuinfo", 0), -EPERM);
    assert_int_equal(vfs_chmod_at(&ctx, NULL, "/proc/cpuinfo", 0777, 0), -EPERM);
    char *mounts = read_path("/proc/self/mounts");
    assert_non_null(strstr(mounts, "none / tmpfs rw,relatime 0 0\n"));
    assert_non_null(strstr(mounts, "proc /proc proc rw,relatime 0 0\n"));
    assert_non_null(strstr(mounts, "sysfs /sys sysfs rw,relatime 0 0\n"));
    assert_string_equal(read_path("/proc/mounts"), mounts);
    char target[64] = {0};
    assert_int_equal(vfs_readlink_at(&ctx, NULL, "/proc/5/exe", target, sizeof(target)), 10);
    assert_string_equal(target, "/bin/prog5");
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/proc/self/exe", AT_SYMLINK_NOFOLLOW, &attributes), 0);
    assert_int_equal(attributes.st_mode, S_IFLNK | 0777);
}

static void test_fd_links(void **state)
{
    (void)state;
    assert_string_equal(list_path("/proc/self/fd"), "0 3 ");
    assert_string_equal(list_path("/proc/5/fd"), "");
    char target[64] = {0};
    assert_int_equal(vfs_readlink_at(&ctx, NULL, "/proc/self/fd/3", target, sizeof(target)), 5);
    assert_string_equal(target, "/data");
    memset(target, 0, sizeof(target));
    assert_true(vfs_readlink_at(&ctx, NULL, "/proc/1/fd/0", target, sizeof(target)) > 0);
    assert_memory_equal(target, "pipe:[", 6);
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/proc/self/fd/0", AT_SYMLINK_NOFOLLOW, &attributes), 0);
    assert_int_equal(attributes.st_mode, S_IFLNK | 0500);
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/proc/self/fd/0", 0, &attributes), 0);
    assert_true(S_ISFIFO(attributes.st_mode)); /* following reaches the pipe itself */
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/proc/self/fd/3", 0, &attributes), 0);
    assert_true(S_ISREG(attributes.st_mode));
    assert_int_equal(attributes.st_size, 9);
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/proc/self/fd/0", O_RDONLY, 0, &file), 0);
    assert_ptr_equal(file, pipe_reader);
    vfs_file_put(file);
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/proc/self/fd/4", 0, &attributes), -ENOENT);
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/proc/self/fd/0/x", 0, &attributes), -ENOTDIR);
}

static void test_sysfs(void **state)
{
    (void)state;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    char expected[32];
    if (cores <= 1)
        snprintf(expected, sizeof(expected), "0\n");
    else
        snprintf(expected, sizeof(expected), "0-%ld\n", cores - 1);
    assert_string_equal(read_path("/sys/devices/system/cpu/online"), expected);
    assert_string_equal(read_path("/sys/devices/system/cpu/possible"), expected);
    assert_string_equal(list_path("/sys/fs/cgroup"), "");
    assert_string_equal(list_path("/sys/devices/system/cpu"), "online possible present ");
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/sys/devices/system/cpu/online", O_WRONLY, 0, &file), -EACCES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_self_and_listing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fd_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sysfs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
