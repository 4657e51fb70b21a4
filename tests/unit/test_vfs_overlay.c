/* tests/unit/test_vfs_overlay.c: the Gofer-backed root against a real Gofer (gofer_serve in a forked child
 * serving a mkdtemp tree): the overlay never changes the host, hides deletions, merges listings and copies up
 * content, symlinks cannot escape the served tree; and without the overlay, changes reach the host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gofer/gofer.h"
#include "vfs/internal.h" /* vfs_set_unused_dentry_limit */
#include "vfs/vfs.h"

static struct vfs_credentials root_credentials = {.fsuid = 0, .fsgid = 0, .privileged = true};

struct harness {
    char outer[64];      /* a temporary directory holding the served tree and a file outside it */
    char served[96];
    pid_t server;
    bool overlay;
    struct gofer_client *client;
    struct vfs_path root;
    struct vfs_context ctx;
};

static void host_write(const char *directory, const char *name, const char *content)
{
    char path[PATH_MAX];
    int length = snprintf(path, sizeof(path), "%s/%s", directory, name);
    assert_true(length > 0 && (size_t)length < sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
}

static char *host_read(const struct harness *harness, const char *name)
{
    static char buffer[256];
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", harness->served, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    ssize_t length = read(fd, buffer, sizeof(buffer) - 1);
    close(fd);
    buffer[length < 0 ? 0 : length] = '\0';
    return buffer;
}

static bool host_exists(const struct harness *harness, const char *name)
{
    char path[PATH_MAX];
    struct stat status;
    snprintf(path, sizeof(path), "%s/%s", harness->served, name);
    return lstat(path, &status) == 0;
}

static void host_command(const char *format, const char *argument)
{
    char command[PATH_MAX];
    snprintf(command, sizeof(command), format, argument);
    assert_int_equal(system(command), 0);
}

static int setup_with(void **state, bool overlay)
{
    struct harness *harness = calloc(1, sizeof(*harness));
    strcpy(harness->outer, "/tmp/vfs-overlay-XXXXXX");
    assert_non_null(mkdtemp(harness->outer));
    snprintf(harness->served, sizeof(harness->served), "%s/root", harness->outer);
    assert_int_equal(mkdir(harness->served, 0755), 0);
    host_write(harness->outer, "secret.txt", "HOST SECRET");
    host_write(harness->served, "hello.txt", "host content");
    host_write(harness->served, "secret.txt", "sandbox secret");
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/sub", harness->served);
    assert_int_equal(mkdir(path, 0755), 0);
    host_write(path, "a", "A");
    host_write(path, "b", "B");
    snprintf(path, sizeof(path), "%s/empty", harness->served);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof(path), "%s/escape", harness->served);
    assert_int_equal(symlink("/", path), 0);
    snprintf(path, sizeof(path), "%s/up", harness->served);
    assert_int_equal(symlink("../..", path), 0);
    snprintf(path, sizeof(path), "%s/absolute", harness->served);
    char target[PATH_MAX];
    snprintf(target, sizeof(target), "%s/secret.txt", harness->outer);
    assert_int_equal(symlink(target, path), 0);

    int sockets[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sockets[0]);
        int root_fd = open(harness->served, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int result = root_fd < 0 ? -errno : gofer_serve(sockets[1], root_fd, false);
        _exit(result == 0 ? 0 : 1);
    }
    close(sockets[1]);
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(sockets[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    harness->server = pid;
    harness->overlay = overlay;
    harness->client = gofer_client_new(sockets[0]);
    assert_non_null(harness->client);
    assert_int_equal(vfs_make_root(harness->client, overlay, false, &harness->root), 0);
    harness->ctx = (struct vfs_context){.root = harness->root, .cwd = harness->root,
                                        .credentials = &root_credentials, .umask = 022, .pid = 1, .tid = 1};
    *state = harness;
    return 0;
}

static int setup_overlay(void **state) { return setup_with(state, true); }
static int setup_direct(void **state) { return setup_with(state, false); }

static int teardown(void **state)
{
    struct harness *harness = *state;
    vfs_path_put(&harness->root);
    gofer_client_free(harness->client);
    int status = 0;
    waitpid(harness->server, &status, 0);
    host_command("rm -rf '%s'", harness->outer);
    free(harness);
    return 0;
}

static char *sandbox_read(struct harness *harness, const char *path)
{
    static char buffer[256];
    struct vfs_file *file;
    int error = vfs_open_at(&harness->ctx, NULL, path, O_RDONLY, 0, &file);
    if (error < 0) {
        snprintf(buffer, sizeof(buffer), "error %d", error);
        return buffer;
    }
    ssize_t length = vfs_read(file, buffer, sizeof(buffer) - 1);
    buffer[length < 0 ? 0 : length] = '\0';
    vfs_file_put(file);
    return buffer;
}

static void sandbox_write(struct harness *harness, const char *path, int flags, const char *content)
{
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&harness->ctx, NULL, path, O_WRONLY | flags, 0644, &file), 0);
    assert_int_equal(vfs_write(file, content, strlen(content)), (ssize_t)strlen(content));
    vfs_file_put(file);
}

/* The names in a directory, sorted, joined by spaces (without "." and ".."). */
static char *sandbox_list(struct harness *harness, const char *path)
{
    static char joined[1024];
    char names[64][64];
    size_t count = 0;
    struct vfs_file *dir;
    assert_int_equal(vfs_open_at(&harness->ctx, NULL, path, O_RDONLY | O_DIRECTORY, 0, &dir), 0);
    char buffer[512];
    ssize_t length;
    while ((length = vfs_getdents64(dir, buffer, sizeof(buffer))) > 0) {
        for (ssize_t offset = 0; offset < length;) {
            struct dirent64 *entry = (struct dirent64 *)(buffer + offset);
            offset += entry->d_reclen;
            if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..") && count < 64)
                snprintf(names[count++], 64, "%.63s", entry->d_name);
        }
    }
    assert_int_equal(length, 0);
    vfs_file_put(dir);
    qsort(names, count, sizeof(names[0]), (int (*)(const void *, const void *))strcmp);
    joined[0] = '\0';
    for (size_t index = 0; index < count; index++) {
        if (index)
            strcat(joined, " ");
        strcat(joined, names[index]);
    }
    return joined;
}

static void test_reads_through_the_gofer(void **state)
{
    struct harness *harness = *state;
    assert_string_equal(sandbox_read(harness, "/hello.txt"), "host content");
    assert_string_equal(sandbox_read(harness, "/sub/a"), "A");
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/hello.txt", 0, &attributes), 0);
    assert_true(S_ISREG(attributes.st_mode));
    assert_int_equal(attributes.st_size, 12);
    char target[64];
    assert_int_equal(vfs_readlink_at(&harness->ctx, NULL, "/escape", target, sizeof(target)), 1);
    assert_string_equal(sandbox_list(harness, "/sub"), "a b");
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/missing", 0, &attributes), -ENOENT);
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/hello.txt/x", 0, &attributes), -ENOTDIR);
}

static void test_symlinks_stay_inside(void **state)
{
    struct harness *harness = *state;
    assert_string_equal(sandbox_read(harness, "/escape/secret.txt"), "sandbox secret");
    assert_string_equal(sandbox_read(harness, "/up/secret.txt"), "sandbox secret");
    assert_string_equal(sandbox_read(harness, "/sub/../../../secret.txt"), "sandbox secret");
    assert_string_equal(sandbox_read(harness, "/escape/up/escape/sub/a"), "A");
    char expected[32];
    snprintf(expected, sizeof(expected), "error %d", -ENOENT);
    assert_string_equal(sandbox_read(harness, "/absolute"), expected);
}

static void test_overlay_writes_stay_in_memory(void **state)
{
    struct harness *harness = *state;
    sandbox_write(harness, "/hello.txt", O_APPEND, " + sandbox");
    assert_string_equal(sandbox_read(harness, "/hello.txt"), "host content + sandbox");
    assert_string_equal(host_read(harness, "hello.txt"), "host content");
    sandbox_write(harness, "/sub/a", O_TRUNC, "new A");
    assert_string_equal(sandbox_read(harness, "/sub/a"), "new A");
    assert_string_equal(host_read(harness, "sub/a"), "A");
    sandbox_write(harness, "/created", O_CREAT | O_EXCL, "fresh");
    assert_string_equal(sandbox_read(harness, "/created"), "fresh");
    assert_false(host_exists(harness, "created"));
    assert_int_equal(vfs_mkdir_at(&harness->ctx, NULL, "/newdir", 0755), 0);
    sandbox_write(harness, "/newdir/f", O_CREAT, "x");
    assert_false(host_exists(harness, "newdir"));
    /* attribute changes copy up and leave the host alone */
    assert_int_equal(vfs_chmod_at(&harness->ctx, NULL, "/sub/b", 0600, 0), 0);
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/sub/b", 0, &attributes), 0);
    assert_int_equal(attributes.st_mode & 07777, 0600);
    struct stat host;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/sub/b", harness->served);
    assert_int_equal(stat(path, &host), 0);
    assert_int_equal(host.st_mode & 07777, 0644);
    assert_string_equal(sandbox_read(harness, "/sub/b"), "B"); /* copy-up kept the content */
    assert_int_equal(vfs_truncate_at(&harness->ctx, "/secret.txt", 3), 0);
    assert_string_equal(sandbox_read(harness, "/secret.txt"), "san");
    assert_string_equal(host_read(harness, "secret.txt"), "sandbox secret");
    assert_int_equal(vfs_link_at(&harness->ctx, NULL, "/sub/a", NULL, "/a-link", 0), 0);
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/a-link", 0, &attributes), 0);
    assert_int_equal(attributes.st_nlink, 2);
    assert_false(host_exists(harness, "a-link"));
    struct text_buffer mounts = {0};
    vfs_describe_mounts(&harness->ctx, false, &mounts);
    assert_string_equal(mounts.data, "none / overlay rw,relatime 0 0\n");
    text_buffer_free(&mounts);
}

static void test_overlay_deletions_and_listing(void **state)
{
    struct harness *harness = *state;
    assert_string_equal(sandbox_list(harness, "/"), "absolute empty escape hello.txt secret.txt sub up");
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/hello.txt", 0), 0);
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/hello.txt", 0, &attributes), -ENOENT);
    assert_true(host_exists(harness, "hello.txt"));
    sandbox_write(harness, "/sub/c", O_CREAT, "C");
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/sub/a", 0), 0);
    assert_string_equal(sandbox_list(harness, "/sub"), "b c");
    assert_string_equal(sandbox_list(harness, "/"), "absolute empty escape secret.txt sub up");
    /* a deleted name can be created again, with nothing of the old file */
    sandbox_write(harness, "/hello.txt", O_CREAT | O_EXCL, "again");
    assert_string_equal(sandbox_read(harness, "/hello.txt"), "again");
    assert_string_equal(host_read(harness, "hello.txt"), "host content");
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/hello.txt", 0), 0);
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/hello.txt", 0, &attributes), -ENOENT);
    sandbox_write(harness, "/hello.txt", O_CREAT | O_EXCL, "again");
    /* a non-empty merged directory cannot go; emptied, it can, and a new one of that name is empty */
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/sub", AT_REMOVEDIR), -ENOTEMPTY);
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/sub/b", 0), 0);
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/sub/c", 0), 0);
    assert_string_equal(sandbox_list(harness, "/sub"), "");
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/sub", AT_REMOVEDIR), 0);
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/sub/b", 0, &attributes), -ENOENT);
    assert_int_equal(vfs_mkdir_at(&harness->ctx, NULL, "/sub", 0700), 0);
    assert_string_equal(sandbox_list(harness, "/sub"), "");
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/sub/b", 0, &attributes), -ENOENT);
    assert_true(host_exists(harness, "sub/a"));
    assert_true(host_exists(harness, "sub/b"));
    /* renames: files move (leaving the lower one hidden), lower directories give EXDEV */
    assert_int_equal(vfs_rename_at(&harness->ctx, NULL, "/secret.txt", NULL, "/sub/moved", 0), 0);
    assert_string_equal(sandbox_read(harness, "/sub/moved"), "sandbox secret");
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/secret.txt", 0, &attributes), -ENOENT);
    assert_int_equal(vfs_rename_at(&harness->ctx, NULL, "/empty", NULL, "/empty2", 0), -EXDEV);
    assert_int_equal(vfs_rename_at(&harness->ctx, NULL, "/sub", NULL, "/sub2", 0), 0); /* upper only now */
    assert_string_equal(sandbox_read(harness, "/sub2/moved"), "sandbox secret");
    assert_true(host_exists(harness, "secret.txt"));
    assert_true(host_exists(harness, "empty"));
    assert_int_equal(vfs_rename_at(&harness->ctx, NULL, "/sub2", NULL, "/empty", 0), 0); /* onto lower empty */
    assert_string_equal(sandbox_list(harness, "/empty"), "moved");
    assert_string_equal(sandbox_list(harness, "/"), "absolute empty escape hello.txt up");
}

static void test_direct_mutations_reach_host(void **state)
{
    struct harness *harness = *state;
    sandbox_write(harness, "/hello.txt", O_APPEND, "!");
    assert_string_equal(host_read(harness, "hello.txt"), "host content!");
    sandbox_write(harness, "/new.txt", O_CREAT | O_EXCL, "made");
    assert_string_equal(host_read(harness, "new.txt"), "made");
    assert_int_equal(vfs_mkdir_at(&harness->ctx, NULL, "/d", 0755), 0);
    assert_true(host_exists(harness, "d"));
    assert_int_equal(vfs_rename_at(&harness->ctx, NULL, "/new.txt", NULL, "/d/renamed", 0), 0);
    assert_string_equal(host_read(harness, "d/renamed"), "made");
    assert_string_equal(sandbox_read(harness, "/d/renamed"), "made");
    assert_int_equal(vfs_symlink_at(&harness->ctx, "renamed", NULL, "/d/link"), 0);
    assert_string_equal(sandbox_read(harness, "/d/link"), "made");
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/d/link", 0), 0);
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/d/renamed", 0), 0);
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/d", AT_REMOVEDIR), 0);
    assert_false(host_exists(harness, "d"));
    assert_int_equal(vfs_truncate_at(&harness->ctx, "/hello.txt", 4), 0);
    assert_string_equal(host_read(harness, "hello.txt"), "host");
    assert_int_equal(vfs_chmod_at(&harness->ctx, NULL, "/hello.txt", 0600, 0), 0);
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&harness->ctx, NULL, "/hello.txt", 0, &attributes), 0);
    assert_int_equal(attributes.st_mode & 07777, 0600);
    assert_string_equal(sandbox_list(harness, "/"), "absolute empty escape hello.txt secret.txt sub up");
    /* the sandbox's own mounts still work on a Gofer root */
    assert_int_equal(vfs_mount_tmpfs(&harness->ctx, "/empty", 0755), 0);
    sandbox_write(harness, "/empty/in-memory", O_CREAT, "m");
    assert_false(host_exists(harness, "empty/in-memory"));
    assert_string_equal(sandbox_read(harness, "/escape/secret.txt"), "sandbox secret");
}

static void test_bounded_dentry_cache(void **state)
{
    struct harness *harness = *state;
    char path[PATH_MAX], name[64];
    snprintf(path, sizeof(path), "%s/many", harness->served);
    assert_int_equal(mkdir(path, 0755), 0);
    for (int index = 0; index < 40; index++) {
        snprintf(name, sizeof(name), "f%02d", index);
        host_write(path, name, name);
    }
    vfs_set_unused_dentry_limit(4);
    sandbox_write(harness, "/many/f07", O_TRUNC, "changed");
    assert_int_equal(vfs_unlink_at(&harness->ctx, NULL, "/many/f08", 0), 0);
    for (int round = 0; round < 2; round++) {
        for (int index = 0; index < 40; index++) {
            snprintf(name, sizeof(name), "/many/f%02d", index);
            char *content = sandbox_read(harness, name);
            if (index == 7)
                assert_string_equal(content, "changed");
            else if (index == 8)
                assert_string_equal(content, "error -2");
            else
                assert_string_equal(content, name + 6);
        }
    }
    struct vfs_file *held;
    assert_int_equal(vfs_open_at(&harness->ctx, NULL, "/many/f01", O_RDONLY, 0, &held), 0);
    assert_string_equal(sandbox_read(harness, "/many/f02"), "f02");
    struct text_buffer text = {0};
    assert_int_equal(vfs_file_describe_path(held, &harness->ctx, &text), 0);
    assert_string_equal(text.data, "/many/f01");
    text_buffer_free(&text);
    vfs_file_put(held);
    vfs_set_unused_dentry_limit(4096);
    assert_string_equal(host_read(harness, "many/f07"), harness->overlay ? "f07" : "changed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reads_through_the_gofer, setup_overlay, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_stay_inside, setup_overlay, teardown),
        cmocka_unit_test_setup_teardown(test_overlay_writes_stay_in_memory, setup_overlay, teardown),
        cmocka_unit_test_setup_teardown(test_overlay_deletions_and_listing, setup_overlay, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_dentry_cache, setup_overlay, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_dentry_cache, setup_direct, teardown),
        cmocka_unit_test_setup_teardown(test_reads_through_the_gofer, setup_direct, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_stay_inside, setup_direct, teardown),
        cmocka_unit_test_setup_teardown(test_direct_mutations_reach_host, setup_direct, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
