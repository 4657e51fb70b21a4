/* tests/unit/test_vfs_resolve.c: path resolution over an in-memory root: "." and "..", the root jail,
 * symlinks and ELOOP, trailing slashes, ENAMETOOLONG, ENOTDIR, search permission and mount crossing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vfs_make_tmpfs_root(0755, &root), 0);
    ctx = (struct vfs_context){.root = root, .cwd = root, .credentials = &root_credentials, .umask = 022,
                               .pid = 1, .tid = 1};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vfs_path_put(&root);
    return 0;
}

static void make_file(const char *path, const char *content)
{
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, path, O_WRONLY | O_CREAT | O_TRUNC, 0644, &file), 0);
    assert_int_equal(vfs_write(file, content, strlen(content)), (ssize_t)strlen(content));
    vfs_file_put(file);
}

static uint64_t inode_of(const char *path)
{
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&ctx, NULL, path, 0, &attributes), 0);
    return attributes.st_ino;
}

static int stat_error(const char *path, int flags)
{
    struct stat attributes;
    return vfs_stat_at(&ctx, NULL, path, flags, &attributes);
}

static void test_dot_and_dotdot(void **state)
{
    (void)state;
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/a", 0755), 0);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/a/b", 0755), 0);
    make_file("/a/b/f", "x");
    uint64_t b = inode_of("/a/b");
    assert_int_equal(inode_of("a/./b/../b"), b);
    assert_int_equal(stat_error("/a/b/f/..", 0), -ENOTDIR);
    assert_int_equal(inode_of("/a/b/../../a/b/."), b);
    assert_int_equal(inode_of("/.."), inode_of("/"));
    assert_int_equal(inode_of("/../../.."), inode_of("/"));
    assert_int_equal(inode_of("//a//b//"), b);
    assert_int_equal(stat_error("", 0), -ENOENT);
    assert_int_equal(stat_error("/a/missing/x", 0), -ENOENT);
}

static void test_root_jail(void **state)
{
    (void)state;
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/jail", 0755), 0);
    make_file("/secret", "host");
    make_file("/jail/secret", "inside");
    assert_int_equal(vfs_symlink_at(&ctx, "/", NULL, "/jail/to_root"), 0);
    assert_int_equal(vfs_symlink_at(&ctx, "../../..", NULL, "/jail/up"), 0);
    struct vfs_path jail;
    assert_int_equal(vfs_resolve_directory(&ctx, NULL, "/jail", &jail), 0);
    struct vfs_context jailed = ctx;
    jailed.root = jail;
    jailed.cwd = jail;
    const char *escapes[] = {"/../../secret", "../secret", "to_root/secret", "up/secret", "/up/../secret",
                             "to_root/../../secret"};
    for (size_t index = 0; index < sizeof(escapes) / sizeof(escapes[0]); index++) {
        struct vfs_file *file;
        assert_int_equal(vfs_open_at(&jailed, NULL, escapes[index], O_RDONLY, 0, &file), 0);
        char buffer[16] = {0};
        assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), 6);
        assert_string_equal(buffer, "inside");
        vfs_file_put(file);
    }
    char cwd[64];
    assert_int_equal(vfs_getcwd(&jailed, cwd, sizeof(cwd)), 2);
    assert_string_equal(cwd, "/");
    vfs_path_put(&jail);
}

static void test_symlinks(void **state)
{
    (void)state;
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/d", 0755), 0);
    make_file("/d/f", "data");
    assert_int_equal(vfs_symlink_at(&ctx, "d", NULL, "/ld"), 0);
    assert_int_equal(vfs_symlink_at(&ctx, "/d/f", NULL, "/lf"), 0);
    assert_int_equal(vfs_symlink_at(&ctx, "missing", NULL, "/dangling"), 0);
    assert_int_equal(vfs_symlink_at(&ctx, "loop2", NULL, "/loop1"), 0);
    assert_int_equal(vfs_symlink_at(&ctx, "loop1", NULL, "/loop2"), 0);
    assert_int_equal(vfs_symlink_at(&ctx, "", NULL, "/empty"), -ENOENT);
    assert_int_equal(inode_of("/ld/f"), inode_of("/d/f"));
    assert_int_equal(inode_of("/lf"), inode_of("/d/f"));
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/lf", AT_SYMLINK_NOFOLLOW, &attributes), 0);
    assert_true(S_ISLNK(attributes.st_mode));
    assert_int_equal(attributes.st_size, 4);
    assert_int_equal(stat_error("/loop1", 0), -ELOOP);
    assert_int_equal(stat_error("/loop1", AT_SYMLINK_NOFOLLOW), 0);
    assert_int_equal(stat_error("/loop1/x", AT_SYMLINK_NOFOLLOW), -ELOOP);
    assert_int_equal(stat_error("/dangling", 0), -ENOENT);
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/lf", O_RDONLY | O_NOFOLLOW, 0, &file), -ELOOP);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/lf", O_PATH | O_NOFOLLOW, 0, &file), 0);
    vfs_file_put(file);
    /* O_CREAT follows a dangling link and creates its target; O_EXCL does not follow */
    assert_int_equal(vfs_open_at(&ctx, NULL, "/dangling", O_WRONLY | O_CREAT | O_EXCL, 0644, &file), -EEXIST);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/dangling", O_WRONLY | O_CREAT, 0644, &file), 0);
    vfs_file_put(file);
    assert_int_equal(stat_error("/missing", 0), 0);
    /* a chain of 40 links resolves, 41 do not */
    char name[32], target[32];
    for (int index = 1; index <= 41; index++) {
        snprintf(name, sizeof(name), "/chain%d", index);
        if (index == 1)
            snprintf(target, sizeof(target), "/d/f");
        else
            snprintf(target, sizeof(target), "chain%d", index - 1);
        assert_int_equal(vfs_symlink_at(&ctx, target, NULL, name), 0);
    }
    assert_int_equal(stat_error("/chain40", 0), 0);
    assert_int_equal(stat_error("/chain41", 0), -ELOOP);
    char buffer[64];
    assert_int_equal(vfs_readlink_at(&ctx, NULL, "/lf", buffer, sizeof(buffer)), 4);
    assert_memory_equal(buffer, "/d/f", 4);
    assert_int_equal(vfs_readlink_at(&ctx, NULL, "/lf", buffer, 2), 2);
    assert_int_equal(vfs_readlink_at(&ctx, NULL, "/d/f", buffer, sizeof(buffer)), -EINVAL);
    assert_int_equal(vfs_readlink_at(&ctx, NULL, "/lf", buffer, 0), -EINVAL);
}

static void test_trailing_slash(void **state)
{
    (void)state;
    make_file("/f", "x");
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/d/", 0755), 0);
    assert_int_equal(vfs_symlink_at(&ctx, "d", NULL, "/ld"), 0);
    assert_int_equal(vfs_symlink_at(&ctx, "f", NULL, "/lf"), 0);
    assert_int_equal(stat_error("/f/", 0), -ENOTDIR);
    assert_int_equal(stat_error("/d/", 0), 0);
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/ld/", AT_SYMLINK_NOFOLLOW, &attributes), 0);
    assert_true(S_ISDIR(attributes.st_mode));
    assert_int_equal(stat_error("/lf/", AT_SYMLINK_NOFOLLOW), -ENOTDIR);
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/f/", O_RDONLY, 0, &file), -ENOTDIR);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/new/", O_RDWR | O_CREAT, 0644, &file), -EISDIR);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/d/", O_RDONLY | O_CREAT, 0644, &file), -EISDIR);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/f/", 0), -ENOTDIR);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/d/", 0), -EISDIR);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/f", AT_REMOVEDIR), -ENOTDIR);
    assert_int_equal(vfs_symlink_at(&ctx, "x", NULL, "/newlink/"), -ENOENT);
    assert_int_equal(vfs_symlink_at(&ctx, "x", NULL, "/f/"), -EEXIST);
    assert_int_equal(vfs_mknod_at(&ctx, NULL, "/node/", S_IFREG | 0644, 0), -ENOENT);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/f/", NULL, "/g", 0), -ENOTDIR);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/f", NULL, "/g/", 0), -ENOTDIR);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/d/", NULL, "/e/", 0), 0);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/e/", AT_REMOVEDIR), 0);
}

static void test_name_too_long_and_not_dir(void **state)
{
    (void)state;
    char long_name[300];
    memset(long_name, 'n', sizeof(long_name));
    long_name[0] = '/';
    long_name[257] = '\0';
    assert_int_equal(stat_error(long_name, 0), -ENAMETOOLONG);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, long_name, 0755), -ENAMETOOLONG);
    long_name[256] = '\0'; /* exactly NAME_MAX */
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, long_name, 0755), 0);
    char *long_path = calloc(1, 5000);
    for (size_t index = 0; index < 4500; index += 2)
        memcpy(long_path + index, "/.", 2);
    assert_int_equal(stat_error(long_path, 0), -ENAMETOOLONG);
    long_path[4094] = '\0';
    assert_int_equal(stat_error(long_path, 0), 0);
    free(long_path);
    make_file("/f", "x");
    assert_int_equal(stat_error("/f/x", 0), -ENOTDIR);
    assert_int_equal(stat_error("/f/.", 0), -ENOTDIR);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/f/x", 0755), -ENOTDIR);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/missing/x", 0755), -ENOENT);
}

static void test_directory_files(void **state)
{
    (void)state;
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/a", 0755), 0);
    make_file("/a/f", "x");
    struct vfs_file *dir, *regular;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/a", O_RDONLY | O_DIRECTORY, 0, &dir), 0);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/a/f", O_RDONLY | O_DIRECTORY, 0, &regular), -ENOTDIR);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/a/f", O_RDONLY, 0, &regular), 0);
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&ctx, dir, "f", 0, &attributes), 0);
    assert_int_equal(vfs_stat_at(&ctx, regular, "x", 0, &attributes), -ENOTDIR);
    assert_int_equal(vfs_stat_at(&ctx, regular, "", AT_EMPTY_PATH, &attributes), 0);
    assert_true(S_ISREG(attributes.st_mode));
    assert_int_equal(vfs_stat_at(&ctx, regular, "", 0, &attributes), -ENOENT);
    assert_int_equal(vfs_stat_at(&ctx, regular, "/a", 0, &attributes), 0);
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/a", 0x40000000, &attributes), -EINVAL);
    struct vfs_path path;
    assert_int_equal(vfs_file_path(regular, &path), -ENOTDIR);
    vfs_file_put(regular);
    assert_int_equal(vfs_file_path(dir, &path), 0);
    struct vfs_context inside = ctx;
    inside.cwd = path;
    char cwd[64];
    assert_int_equal(vfs_getcwd(&inside, cwd, sizeof(cwd)), 3);
    assert_string_equal(cwd, "/a");
    assert_int_equal(vfs_getcwd(&inside, cwd, 2), -ERANGE);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/a/f", 0), 0);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/a", AT_REMOVEDIR), 0);
    assert_int_equal(vfs_getcwd(&inside, cwd, sizeof(cwd)), -ENOENT);
    assert_int_equal(vfs_stat_at(&inside, NULL, ".", 0, &attributes), 0);
    assert_int_equal(vfs_stat_at(&inside, NULL, "x", 0, &attributes), -ENOENT);
    assert_int_equal(vfs_open_at(&inside, NULL, "new", O_CREAT | O_WRONLY, 0644, &regular), -ENOENT);
    vfs_path_put(&path);
    vfs_file_put(dir);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/a/f", O_RDONLY, 0, &regular), -ENOENT);
}

static void test_search_permission(void **state)
{
    (void)state;
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/private", 0700), 0);
    make_file("/private/f", "x");
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/open", 0755), 0);
    assert_int_equal(vfs_symlink_at(&ctx, "/private/f", NULL, "/open/link"), 0);
    struct vfs_context user = ctx;
    user.credentials = &user_credentials;
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&user, NULL, "/private/f", 0, &attributes), -EACCES);
    assert_int_equal(vfs_stat_at(&user, NULL, "/private", 0, &attributes), 0);
    assert_int_equal(vfs_stat_at(&user, NULL, "/open/link", 0, &attributes), -EACCES);
    assert_int_equal(vfs_stat_at(&user, NULL, "/open/link", AT_SYMLINK_NOFOLLOW, &attributes), 0);
    struct vfs_path path;
    assert_int_equal(vfs_resolve_directory(&user, NULL, "/private", &path), -EACCES);
    assert_int_equal(vfs_access_at(&user, NULL, "/open", X_OK, 0), 0);
    assert_int_equal(vfs_access_at(&user, NULL, "/open", W_OK, 0), -EACCES);
    assert_int_equal(vfs_access_at(&ctx, NULL, "/private/f", X_OK, 0), -EACCES); /* no x bit: even root */
    assert_int_equal(vfs_access_at(&ctx, NULL, "/private/f", W_OK, 0), 0);
    assert_int_equal(vfs_access_at(&ctx, NULL, "/private/f", 8, 0), -EINVAL);
}

static void test_mount_crossing(void **state)
{
    (void)state;
    assert_int_equal(vfs_mount_tmpfs(&ctx, "/mnt", 01777), 0); /* creates /mnt */
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/mnt/sub", 0755), 0);
    make_file("/mnt/sub/f", "x");
    make_file("/g", "y");
    struct stat root_attributes, mount_attributes, up_attributes;
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/", 0, &root_attributes), 0);
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/mnt", 0, &mount_attributes), 0);
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/mnt/sub/../..", 0, &up_attributes), 0);
    assert_int_not_equal(root_attributes.st_dev, mount_attributes.st_dev);
    assert_int_equal(mount_attributes.st_mode & 07777, 01777);
    assert_int_equal(up_attributes.st_dev, root_attributes.st_dev);
    assert_int_equal(up_attributes.st_ino, root_attributes.st_ino);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/g", NULL, "/mnt/g", 0), -EXDEV);
    assert_int_equal(vfs_link_at(&ctx, NULL, "/g", NULL, "/mnt/g", 0), -EXDEV);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/mnt", AT_REMOVEDIR), -EBUSY);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/mnt", NULL, "/mnt2", 0), -EBUSY);
    struct vfs_path sub;
    assert_int_equal(vfs_resolve_directory(&ctx, NULL, "/mnt/sub", &sub), 0);
    struct vfs_context inside = ctx;
    inside.cwd = sub;
    char cwd[64];
    assert_int_equal(vfs_getcwd(&inside, cwd, sizeof(cwd)), 9);
    assert_string_equal(cwd, "/mnt/sub");
    assert_int_equal(vfs_stat_at(&inside, NULL, "../../g", 0, &up_attributes), 0);
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&inside, NULL, "f", O_RDONLY, 0, &file), 0);
    struct text_buffer text = {0};
    assert_int_equal(vfs_file_describe_path(file, &ctx, &text), 0);
    assert_string_equal(text.data, "/mnt/sub/f");
    text_buffer_free(&text);
    vfs_file_put(file);
    vfs_path_put(&sub);
    vfs_describe_mounts(&ctx, false, &text);
    assert_non_null(strstr(text.data, "none / tmpfs rw,relatime 0 0\n"));
    assert_non_null(strstr(text.data, "tmpfs /mnt tmpfs rw,relatime 0 0\n"));
    text_buffer_free(&text);
}

static void test_mount_outlives_root(void **state)
{
    (void)state;
    /* a cwd inside a mount keeps working after the root is released (lazy-unmount semantics) */
    assert_int_equal(vfs_mount_tmpfs(&ctx, "/mnt", 0755), 0);
    make_file("/mnt/f", "x");
    struct vfs_path inside_mount;
    assert_int_equal(vfs_resolve_directory(&ctx, NULL, "/mnt", &inside_mount), 0);
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/mnt/f", O_RDONLY, 0, &file), 0);
    vfs_path_put(&root);
    struct vfs_context detached = {.root = inside_mount, .cwd = inside_mount, .credentials = &root_credentials};
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&detached, NULL, "f", 0, &attributes), 0);
    assert_int_equal(vfs_stat_at(&detached, NULL, "../f", 0, &attributes), 0);
    vfs_path_put(&inside_mount);
    char buffer[4];
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), 1);
    vfs_file_put(file);
    assert_int_equal(vfs_make_tmpfs_root(0755, &root), 0); /* for teardown */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_dot_and_dotdot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_jail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_slash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_too_long_and_not_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_permission, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mount_crossing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mount_outlives_root, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
