/* tests/unit/test_vfs_tmpfs.c: tmpfs and devfs through the VFS: file I/O and sparse files, truncate, rename
 * and unlink rules, link counts, getdents64 positions, timestamps and permissions of unprivileged callers. */
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
#include <sys/sysmacros.h>
#include <unistd.h>

#include "vfs/vfs.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#endif

static struct vfs_credentials root_credentials = {.fsuid = 0, .fsgid = 0, .privileged = true};
static uint32_t user_groups[] = {50};
static struct vfs_credentials user_credentials = {
    .fsuid = 1000, .fsgid = 1000, .groups = user_groups, .group_count = 1, .privileged = false};
static struct vfs_credentials other_credentials = {.fsuid = 2000, .fsgid = 2000, .privileged = false};
static struct vfs_path root;
static struct vfs_context ctx, user, other;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(vfs_make_tmpfs_root(0755, &root), 0);
    ctx = (struct vfs_context){.root = root, .cwd = root, .credentials = &root_credentials, .umask = 022,
                               .pid = 1, .tid = 1};
    user = ctx;
    user.credentials = &user_credentials;
    other = ctx;
    other.credentials = &other_credentials;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    vfs_path_put(&root);
    return 0;
}

static void make_file(const struct vfs_context *who, const char *path, const char *content)
{
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(who, NULL, path, O_WRONLY | O_CREAT | O_TRUNC, 0644, &file), 0);
    assert_int_equal(vfs_write(file, content, strlen(content)), (ssize_t)strlen(content));
    vfs_file_put(file);
}

static char *read_whole(const char *path)
{
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, path, O_RDONLY, 0, &file), 0);
    static char buffer[4096];
    ssize_t length = vfs_read(file, buffer, sizeof(buffer) - 1);
    assert_true(length >= 0);
    buffer[length] = '\0';
    vfs_file_put(file);
    return buffer;
}

static struct stat stat_of(const char *path)
{
    struct stat attributes;
    assert_int_equal(vfs_stat_at(&ctx, NULL, path, AT_SYMLINK_NOFOLLOW, &attributes), 0);
    return attributes;
}

static void test_read_write_seek(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/f", O_RDWR | O_CREAT | O_EXCL, 0666, &file), 0);
    assert_int_equal(stat_of("/f").st_mode, S_IFREG | 0644); /* umask 022 */
    assert_int_equal(vfs_write(file, "hello world", 11), 11);
    assert_int_equal(vfs_lseek(file, 0, SEEK_CUR), 11);
    assert_int_equal(vfs_lseek(file, 6, SEEK_SET), 6);
    char buffer[32] = {0};
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), 5);
    assert_string_equal(buffer, "world");
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), 0);
    assert_int_equal(vfs_pwrite(file, "W", 1, 6), 1);
    assert_int_equal(vfs_pread(file, buffer, 11, 0), 11);
    assert_memory_equal(buffer, "hello World", 11);
    assert_int_equal(vfs_lseek(file, -1, SEEK_SET), -EINVAL);
    assert_int_equal(vfs_lseek(file, -12, SEEK_END), -EINVAL);
    assert_int_equal(vfs_lseek(file, -1, SEEK_END), 10);
    assert_int_equal(vfs_lseek(file, 0, 42), -EINVAL);
    assert_int_equal(vfs_lseek(file, 3, SEEK_DATA), 3);
    assert_int_equal(vfs_lseek(file, 3, SEEK_HOLE), 11);
    assert_int_equal(vfs_lseek(file, 11, SEEK_DATA), -ENXIO);
    assert_int_equal(vfs_pread(file, buffer, 1, -1), -EINVAL);
    vfs_file_put(file);

    assert_int_equal(vfs_open_at(&ctx, NULL, "/f", O_WRONLY | O_APPEND, 0, &file), 0);
    assert_int_equal(vfs_write(file, "!", 1), 1);
    assert_int_equal(vfs_read(file, buffer, 1), -EBADF);
    assert_int_equal(vfs_pwrite(file, "?", 1, 0), 1); /* O_APPEND wins over the offset, as on Linux */
    vfs_file_put(file);
    assert_string_equal(read_whole("/f"), "hello World!?");

    assert_int_equal(vfs_open_at(&ctx, NULL, "/f", O_RDONLY | O_TRUNC, 0, &file), 0);
    vfs_file_put(file);
    assert_int_equal(stat_of("/f").st_size, 0);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/f", O_WRONLY | O_CREAT | O_EXCL, 0644, &file), -EEXIST);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/", O_WRONLY, 0, &file), -EISDIR);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/", O_RDONLY, 0, &file), 0);
    assert_int_equal(vfs_read(file, buffer, 1), -EISDIR);
    assert_int_equal(vfs_write(file, buffer, 1), -EBADF);
    vfs_file_put(file);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/t", O_RDWR | O_TMPFILE, 0600, &file), -EOPNOTSUPP);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/f", O_PATH, 0, &file), 0);
    assert_int_equal(vfs_read(file, buffer, 1), -EBADF);
    assert_int_equal(vfs_file_status_flags(file) & O_PATH, O_PATH);
    vfs_file_put(file);
}

static void test_sparse_and_truncate(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/sparse", O_RDWR | O_CREAT, 0644, &file), 0);
    assert_int_equal(vfs_pwrite(file, "end", 3, 1 << 20), 3);
    struct stat attributes;
    assert_int_equal(vfs_fstat(file, &attributes), 0);
    assert_int_equal(attributes.st_size, (1 << 20) + 3);
    assert_int_equal(attributes.st_blocks, 8); /* one page */
    assert_int_equal(attributes.st_blksize, 4096);
    char buffer[8192];
    memset(buffer, 'x', sizeof(buffer));
    assert_int_equal(vfs_pread(file, buffer, sizeof(buffer), 4096), (ssize_t)sizeof(buffer));
    for (size_t index = 0; index < sizeof(buffer); index++)
        assert_int_equal(buffer[index], 0);
    assert_int_equal(vfs_pwrite(file, "abcdef", 6, 0), 6);
    assert_int_equal(vfs_ftruncate(file, 3), 0);
    assert_int_equal(vfs_ftruncate(file, 10), 0);
    assert_int_equal(vfs_pread(file, buffer, sizeof(buffer), 0), 10);
    assert_memory_equal(buffer, "abc\0\0\0\0\0\0\0", 10);
    assert_int_equal(vfs_ftruncate(file, -1), -EINVAL);
    assert_int_equal(vfs_fstat(file, &attributes), 0);
    assert_int_equal(attributes.st_blocks, 8);
    vfs_file_put(file);
    assert_int_equal(vfs_truncate_at(&ctx, "/sparse", 0), 0);
    assert_int_equal(stat_of("/sparse").st_blocks, 0);
    assert_int_equal(vfs_truncate_at(&ctx, "/", 0), -EISDIR);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/sparse", O_RDONLY, 0, &file), 0);
    assert_int_equal(vfs_ftruncate(file, 0), -EINVAL);
    vfs_file_put(file);
}

/* MAP_SHARED's view of a tmpfs file: the pieces cover the range exactly, they are the file's own pages (a
 * write through memory is what read(2) returns, and the reverse), pages far apart in a sparse file work,
 * and the regions outlive the file for as long as a mapping holds them. */
static void test_shared_pages(void **state)
{
    (void)state;
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/shared", O_RDWR | O_CREAT, 0644, &file), 0);
    /* an appending writer, then a far write: several extents */
    char block[3000];
    memset(block, 'a', sizeof(block));
    for (int i = 0; i < 10; i++)
        assert_int_equal(vfs_write(file, block, sizeof(block)), (ssize_t)sizeof(block));
    assert_int_equal(vfs_pwrite(file, "far", 3, (off_t)1 << 30), 3);

    struct vfs_shared_pages pages;
    assert_int_equal(vfs_file_map_shared(file, 4096, 5 * 4096, &pages), 0);
    uint64_t covered = 0;
    for (size_t i = 0; i < pages.count; i++) {
        assert_int_equal(pages.pieces[i].length % 4096, 0);
        covered += pages.pieces[i].length;
    }
    assert_int_equal(covered, 5 * 4096);
    uint8_t *first = memory_at(pages.pieces[0].region->offset + pages.pieces[0].region_offset);
    assert_int_equal(first[0], 'a');
    memcpy(first, "MAPPED", 6);
    char buffer[8];
    assert_int_equal(vfs_pread(file, buffer, 6, 4096), 6);
    assert_memory_equal(buffer, "MAPPED", 6);
    assert_int_equal(vfs_pwrite(file, "WRITE", 5, 4096 + 10), 5);
    assert_memory_equal(first + 10, "WRITE", 5);

    /* a range that is a hole gets pages; the file still reads zeros there and its size does not change */
    struct vfs_shared_pages hole;
    assert_int_equal(vfs_file_map_shared(file, (uint64_t)1 << 29, 4096, &hole), 0);
    assert_int_equal(hole.count, 1);
    uint8_t *hole_page = memory_at(hole.pieces[0].region->offset + hole.pieces[0].region_offset);
    assert_int_equal(hole_page[0], 0);
    hole_page[0] = 'h';
    assert_int_equal(vfs_pread(file, buffer, 1, (off_t)1 << 29), 1);
    assert_int_equal(buffer[0], 'h');
    struct stat attributes;
    assert_int_equal(vfs_fstat(file, &attributes), 0);
    assert_int_equal(attributes.st_size, ((off_t)1 << 30) + 3);

    /* truncation zeroes what a mapping still holds */
    assert_int_equal(vfs_ftruncate(file, 4096 + 3), 0);
    assert_memory_equal(first, "MAP\0\0\0", 6);
    assert_int_equal(hole_page[0], 0);

    /* the file goes; the mapping's pages stay valid until released */
    vfs_file_put(file);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/shared", 0), 0);
    first[0] = 'z';
    vfs_shared_pages_release(&pages);
    vfs_shared_pages_release(&hole);
}

static void test_unlink_and_links(void **state)
{
    (void)state;
    make_file(&ctx, "/f", "data");
    assert_int_equal(vfs_link_at(&ctx, NULL, "/f", NULL, "/g", 0), 0);
    assert_int_equal(stat_of("/f").st_nlink, 2);
    assert_int_equal(stat_of("/f").st_ino, stat_of("/g").st_ino);
    assert_int_equal(vfs_link_at(&ctx, NULL, "/f", NULL, "/g", 0), -EEXIST);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/d", 0755), 0);
    assert_int_equal(vfs_link_at(&ctx, NULL, "/d", NULL, "/d2", 0), -EPERM);
    assert_int_equal(stat_of("/").st_nlink, 3);
    assert_int_equal(stat_of("/d").st_nlink, 2);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/d/sub", 0755), 0);
    assert_int_equal(stat_of("/d").st_nlink, 3);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/d/sub", 0755), -EEXIST);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/d/.", 0755), -EEXIST);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/", 0755), -EEXIST);

    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/f", O_RDONLY, 0, &file), 0);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/f", 0), 0);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/f", 0), -ENOENT);
    assert_int_equal(stat_of("/g").st_nlink, 1);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/g", 0), 0);
    struct stat attributes;
    assert_int_equal(vfs_fstat(file, &attributes), 0);
    assert_int_equal(attributes.st_nlink, 0);
    char buffer[8] = {0};
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), 4); /* still readable once unlinked */
    struct text_buffer text = {0};
    assert_int_equal(vfs_file_describe_path(file, &ctx, &text), 0);
    assert_string_equal(text.data, "/f (deleted)");
    text_buffer_free(&text);
    vfs_file_put(file);

    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/d", 0), -EISDIR);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/d", AT_REMOVEDIR), -ENOTEMPTY);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/d/.", AT_REMOVEDIR), -EINVAL);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/d/sub/..", AT_REMOVEDIR), -ENOTEMPTY);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/", AT_REMOVEDIR), -EBUSY);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/", 0), -EISDIR);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/d", 0x1), -EINVAL);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/d/sub", AT_REMOVEDIR), 0);
    assert_int_equal(stat_of("/d").st_nlink, 2);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/d", AT_REMOVEDIR), 0);
    assert_int_equal(stat_of("/").st_nlink, 2);
}

static void test_rename_rules(void **state)
{
    (void)state;
    make_file(&ctx, "/a", "A");
    make_file(&ctx, "/b", "B");
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/d", 0755), 0);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/d/sub", 0755), 0);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/e", 0755), 0);
    make_file(&ctx, "/e/x", "X");
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/empty", 0755), 0);

    assert_int_equal(vfs_rename_at(&ctx, NULL, "/a", NULL, "/b", RENAME_NOREPLACE), -EEXIST);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/a", NULL, "/b", RENAME_NOREPLACE | RENAME_EXCHANGE), -EINVAL);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/a", NULL, "/b", RENAME_EXCHANGE), 0);
    assert_string_equal(read_whole("/a"), "B");
    assert_string_equal(read_whole("/b"), "A");
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/a", NULL, "/nothing", RENAME_EXCHANGE), -ENOENT);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/missing", NULL, "/z", 0), -ENOENT);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/d", NULL, "/d/sub/inside", 0), -EINVAL);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/d", NULL, "/d/inside", 0), -EINVAL);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/d/sub", NULL, "/d", 0), -ENOTEMPTY);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/d", NULL, "/e", 0), -ENOTEMPTY);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/d", NULL, "/a", 0), -ENOTDIR);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/a", NULL, "/d", 0), -EISDIR);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/a", NULL, "/a", 0), 0);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/d/.", NULL, "/q", 0), -EBUSY);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/a", NULL, "/d/..", 0), -EBUSY);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/a", NULL, "/d/..", RENAME_NOREPLACE), -EEXIST);
    assert_int_equal(vfs_link_at(&ctx, NULL, "/a", NULL, "/a2", 0), 0);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/a", NULL, "/a2", 0), 0); /* same inode: no-op */
    assert_string_equal(read_whole("/a"), "B");
    assert_string_equal(read_whole("/a2"), "B");

    /* a directory replaces an empty one; the moved directory keeps its content and its cwd users */
    struct vfs_path sub;
    assert_int_equal(vfs_resolve_directory(&ctx, NULL, "/d/sub", &sub), 0);
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/d", NULL, "/empty", 0), 0);
    assert_int_equal(vfs_stat_at(&ctx, NULL, "/d", 0, &(struct stat){0}), -ENOENT);
    struct vfs_context inside = ctx;
    inside.cwd = sub;
    char cwd[64];
    assert_int_equal(vfs_getcwd(&inside, cwd, sizeof(cwd)), 11);
    assert_string_equal(cwd, "/empty/sub");
    vfs_path_put(&sub);
    /* exchange a file and a directory */
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/b", NULL, "/e", RENAME_EXCHANGE), 0);
    assert_string_equal(read_whole("/e"), "A");
    assert_string_equal(read_whole("/b/x"), "X");
    /* moving a file into another directory */
    assert_int_equal(vfs_rename_at(&ctx, NULL, "/e", NULL, "/b/moved", 0), 0);
    assert_string_equal(read_whole("/b/moved"), "A");
}

struct collected {
    char names[512][64];
    size_t count;
};

static ssize_t collect(struct vfs_file *dir, struct collected *out, size_t buffer_size)
{
    char buffer[4096];
    ssize_t length = vfs_getdents64(dir, buffer, buffer_size);
    for (ssize_t offset = 0; offset < length;) {
        struct dirent64 *entry = (struct dirent64 *)(buffer + offset);
        assert_int_equal(entry->d_reclen % 8, 0);
        snprintf(out->names[out->count++], 64, "%.63s", entry->d_name);
        offset += entry->d_reclen;
    }
    return length;
}

static bool collected_has(const struct collected *set, const char *name)
{
    for (size_t index = 0; index < set->count; index++)
        if (strcmp(set->names[index], name) == 0)
            return true;
    return false;
}

static void test_getdents_positions(void **state)
{
    (void)state;
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/dir", 0755), 0);
    char path[64];
    for (int index = 0; index < 100; index++) {
        snprintf(path, sizeof(path), "/dir/file%03d", index);
        make_file(&ctx, path, "");
    }
    struct vfs_file *dir;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/dir", O_RDONLY | O_DIRECTORY, 0, &dir), 0);
    char tiny[16];
    assert_int_equal(vfs_getdents64(dir, tiny, sizeof(tiny)), -EINVAL);
    static struct collected seen;
    memset(&seen, 0, sizeof(seen));
    assert_true(collect(dir, &seen, 32 * 12) > 0);
    assert_string_equal(seen.names[0], ".");
    assert_string_equal(seen.names[1], "..");
    size_t first_batch = seen.count;
    assert_true(first_batch > 2 && first_batch < 50);
    off_t resume = vfs_lseek(dir, 0, SEEK_CUR);
    /* remove one already listed and some not yet listed: the rest is listed exactly once */
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/dir/file000", 0), 0);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/dir/file090", 0), 0);
    assert_int_equal(vfs_unlink_at(&ctx, NULL, "/dir/file091", 0), 0);
    while (collect(dir, &seen, 4096) > 0)
        ;
    assert_int_equal(seen.count, 102 - 2);
    for (size_t a = 0; a < seen.count; a++)
        for (size_t b = a + 1; b < seen.count; b++)
            assert_string_not_equal(seen.names[a], seen.names[b]);
    assert_false(collected_has(&seen, "file090"));
    assert_true(collected_has(&seen, "file099"));
    /* resuming at a saved position lists the same tail */
    static struct collected again;
    memset(&again, 0, sizeof(again));
    assert_int_equal(vfs_lseek(dir, resume, SEEK_SET), resume);
    while (collect(dir, &again, 4096) > 0)
        ;
    assert_int_equal(again.count, seen.count - first_batch);
    assert_int_equal(vfs_lseek(dir, 0, SEEK_END), -EINVAL);
    assert_int_equal(vfs_lseek(dir, 0, SEEK_SET), 0);
    memset(&again, 0, sizeof(again));
    collect(dir, &again, 4096);
    assert_string_equal(again.names[0], ".");
    vfs_file_put(dir);
    struct vfs_file *regular;
    make_file(&ctx, "/plain", "");
    assert_int_equal(vfs_open_at(&ctx, NULL, "/plain", O_RDONLY, 0, &regular), 0);
    assert_int_equal(vfs_getdents64(regular, tiny, sizeof(tiny)), -ENOTDIR);
    vfs_file_put(regular);
}

static void test_timestamps(void **state)
{
    (void)state;
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/d", 0755), 0);
    struct timespec old[2] = {{1000, 0}, {2000, 0}};
    assert_int_equal(vfs_utimens_at(&ctx, NULL, "/d", old, 0), 0);
    struct stat before = stat_of("/d");
    assert_int_equal(before.st_atim.tv_sec, 1000);
    assert_int_equal(before.st_mtim.tv_sec, 2000);
    make_file(&ctx, "/d/f", "x");
    struct stat after = stat_of("/d");
    assert_true(after.st_mtim.tv_sec > 2000);
    assert_int_equal(vfs_utimens_at(&ctx, NULL, "/d/f", old, 0), 0);
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/d/f", O_WRONLY, 0, &file), 0);
    assert_int_equal(vfs_write(file, "y", 1), 1);
    vfs_file_put(file);
    assert_true(stat_of("/d/f").st_mtim.tv_sec > 2000);
    struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    assert_int_equal(vfs_utimens_at(&ctx, NULL, "/d/f", omit, 0), 0);
    struct timespec bad[2] = {{0, 1000000000L}, {0, 0}};
    assert_int_equal(vfs_utimens_at(&ctx, NULL, "/d/f", bad, 0), -EINVAL);
    assert_int_equal(vfs_utimens_at(&ctx, NULL, "/d/missing", NULL, 0), -ENOENT);
}

static void test_unprivileged_permissions(void **state)
{
    (void)state;
    make_file(&ctx, "/rootfile", "secret");
    assert_int_equal(vfs_chmod_at(&ctx, NULL, "/rootfile", 0600, 0), 0);
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&user, NULL, "/rootfile", O_RDONLY, 0, &file), -EACCES);
    assert_int_equal(vfs_open_at(&user, NULL, "/newfile", O_WRONLY | O_CREAT, 0644, &file), -EACCES);
    assert_int_equal(vfs_chmod_at(&user, NULL, "/rootfile", 0777, 0), -EPERM);
    assert_int_equal(vfs_chown_at(&user, NULL, "/rootfile", 1000, 1000, 0), -EPERM);
    assert_int_equal(vfs_unlink_at(&user, NULL, "/rootfile", 0), -EACCES);
    assert_int_equal(vfs_utimens_at(&user, NULL, "/rootfile", NULL, 0), -EACCES);
    struct timespec explicit_times[2] = {{1, 0}, {2, 0}};
    assert_int_equal(vfs_utimens_at(&user, NULL, "/rootfile", explicit_times, 0), -EPERM);
    assert_int_equal(vfs_mknod_at(&ctx, NULL, "/dev0", S_IFCHR | 0666, makedev(1, 3)), 0);
    assert_int_equal(vfs_mknod_at(&ctx, NULL, "/sticky/x", S_IFCHR | 0666, makedev(1, 3)), -ENOENT);

    /* a world-writable sticky directory: users create, but delete only their own files */
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/tmp", 0777), 0);
    assert_int_equal(vfs_chmod_at(&ctx, NULL, "/tmp", 01777, 0), 0);
    make_file(&user, "/tmp/mine", "m");
    struct stat attributes = stat_of("/tmp/mine");
    assert_int_equal(attributes.st_uid, 1000);
    assert_int_equal(attributes.st_gid, 1000);
    assert_int_equal(attributes.st_mode & 07777, 0644);
    assert_int_equal(vfs_unlink_at(&other, NULL, "/tmp/mine", 0), -EPERM);
    assert_int_equal(vfs_rename_at(&other, NULL, "/tmp/mine", NULL, "/tmp/theirs", 0), -EPERM);
    assert_int_equal(vfs_mknod_at(&user, NULL, "/tmp/dev", S_IFCHR | 0666, makedev(1, 3)), -EPERM);
    assert_int_equal(vfs_mknod_at(&user, NULL, "/tmp/dir", S_IFDIR | 0755, 0), -EPERM);
    assert_int_equal(vfs_mknod_at(&user, NULL, "/tmp/fifo", S_IFIFO | 0666, 0), 0);
    assert_int_equal(stat_of("/tmp/fifo").st_mode, S_IFIFO | 0644);
    assert_int_equal(vfs_chmod_at(&user, NULL, "/tmp/mine", 0600, 0), 0);
    assert_int_equal(vfs_chown_at(&user, NULL, "/tmp/mine", (uint32_t)-1, 50, 0), 0); /* a group of ours */
    assert_int_equal(vfs_chown_at(&user, NULL, "/tmp/mine", (uint32_t)-1, 60, 0), -EPERM);
    assert_int_equal(stat_of("/tmp/mine").st_gid, 50);
    assert_int_equal(vfs_open_at(&other, NULL, "/tmp/mine", O_RDONLY, 0, &file), -EACCES);
    assert_int_equal(vfs_utimens_at(&user, NULL, "/tmp/mine", explicit_times, 0), 0);
    assert_int_equal(vfs_unlink_at(&user, NULL, "/tmp/mine", 0), 0);

    /* setuid bits fall on chown; root may chown; group inheritance from a setgid directory */
    make_file(&ctx, "/suid", "");
    assert_int_equal(vfs_chmod_at(&ctx, NULL, "/suid", 04755, 0), 0);
    assert_int_equal(vfs_chown_at(&ctx, NULL, "/suid", 1000, 1000, 0), 0);
    attributes = stat_of("/suid");
    assert_int_equal(attributes.st_mode & 07777, 0755);
    assert_int_equal(attributes.st_uid, 1000);
    assert_int_equal(vfs_mkdir_at(&ctx, NULL, "/shared", 0777), 0);
    assert_int_equal(vfs_chown_at(&ctx, NULL, "/shared", 0, 77, 0), 0);
    assert_int_equal(vfs_chmod_at(&ctx, NULL, "/shared", 02777, 0), 0);
    make_file(&user, "/shared/f", "");
    assert_int_equal(stat_of("/shared/f").st_gid, 77);
    assert_int_equal(vfs_mkdir_at(&user, NULL, "/shared/sub", 0755), 0);
    assert_int_equal(stat_of("/shared/sub").st_mode & 07777, 02755);

    /* write-only and exec-only files */
    assert_int_equal(vfs_chmod_at(&ctx, NULL, "/suid", 0111, 0), 0);
    assert_int_equal(vfs_open_for_exec(&other, "/suid", &file), 0);
    vfs_file_put(file);
    assert_int_equal(vfs_open_at(&other, NULL, "/suid", O_RDONLY, 0, &file), -EACCES);
    assert_int_equal(vfs_open_for_exec(&other, "/rootfile", &file), -EACCES);
    assert_int_equal(vfs_open_for_exec(&ctx, "/tmp", &file), -EACCES);
}

static void test_devfs(void **state)
{
    (void)state;
    assert_int_equal(vfs_mount_devfs(&ctx, "/dev"), 0);
    struct vfs_file *file;
    char buffer[64];
    assert_int_equal(vfs_open_at(&user, NULL, "/dev/null", O_RDWR, 0, &file), 0);
    assert_int_equal(vfs_write(file, "abc", 3), 3);
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), 0);
    vfs_file_put(file);
    assert_int_equal(vfs_open_at(&user, NULL, "/dev/zero", O_RDONLY, 0, &file), 0);
    memset(buffer, 1, sizeof(buffer));
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), (ssize_t)sizeof(buffer));
    assert_int_equal(buffer[0] | buffer[63], 0);
    vfs_file_put(file);
    assert_int_equal(vfs_open_at(&user, NULL, "/dev/full", O_WRONLY, 0, &file), 0);
    assert_int_equal(vfs_write(file, "x", 1), -ENOSPC);
    vfs_file_put(file);
    assert_int_equal(vfs_open_at(&user, NULL, "/dev/urandom", O_RDONLY, 0, &file), 0);
    memset(buffer, 0, sizeof(buffer));
    assert_int_equal(vfs_read(file, buffer, sizeof(buffer)), (ssize_t)sizeof(buffer));
    int nonzero = 0;
    for (size_t index = 0; index < sizeof(buffer); index++)
        nonzero += buffer[index] != 0;
    assert_true(nonzero > 0);
    vfs_file_put(file);
    assert_int_equal(vfs_open_at(&user, NULL, "/dev/tty", O_RDWR, 0, &file), -ENXIO);
    struct stat attributes = stat_of("/dev/null");
    assert_true(S_ISCHR(attributes.st_mode));
    assert_int_equal(attributes.st_rdev, makedev(1, 3));
    assert_int_equal(vfs_readlink_at(&ctx, NULL, "/dev/stdout", buffer, sizeof(buffer)), 15);
    assert_memory_equal(buffer, "/proc/self/fd/1", 15);
    assert_true(S_ISDIR(stat_of("/dev/pts").st_mode));
    /* /dev/shm is a tmpfs of its own */
    make_file(&user, "/dev/shm/segment", "shared");
    assert_int_not_equal(stat_of("/dev/shm").st_dev, stat_of("/dev").st_dev);
    assert_int_equal(stat_of("/dev/shm").st_mode & 07777, 01777);
    /* a device node made with mknod elsewhere works too */
    assert_int_equal(vfs_mknod_at(&ctx, NULL, "/mynull", S_IFCHR | 0666, makedev(1, 3)), 0);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/mynull", O_WRONLY, 0, &file), 0);
    assert_int_equal(vfs_write(file, "abc", 3), 3);
    vfs_file_put(file);
    struct text_buffer mounts = {0};
    vfs_describe_mounts(&ctx, false, &mounts);
    assert_non_null(strstr(mounts.data, "tmpfs /dev tmpfs rw,relatime 0 0\ntmpfs /dev/shm tmpfs"));
    text_buffer_free(&mounts);
}

static void test_fifo(void **state)
{
    (void)state;
    assert_int_equal(vfs_mknod_at(&ctx, NULL, "/fifo", S_IFIFO | 0666, 0), 0);
    struct vfs_file *writer, *reader;
    assert_int_equal(vfs_open_at(&ctx, NULL, "/fifo", O_WRONLY | O_NONBLOCK, 0, &writer), -ENXIO);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/fifo", O_RDONLY | O_NONBLOCK, 0, &reader), 0);
    assert_int_equal(vfs_open_at(&ctx, NULL, "/fifo", O_WRONLY | O_NONBLOCK, 0, &writer), 0);
    assert_int_equal(vfs_write(writer, "ping", 4), 4);
    char buffer[8];
    assert_int_equal(vfs_read(reader, buffer, sizeof(buffer)), 4);
    assert_int_equal(vfs_read(reader, buffer, sizeof(buffer)), -EAGAIN);
    assert_int_equal(vfs_lseek(reader, 0, SEEK_SET), -ESPIPE);
    vfs_file_put(writer);
    assert_int_equal(vfs_read(reader, buffer, sizeof(buffer)), 0);
    vfs_file_put(reader);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_write_seek, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sparse_and_truncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unlink_and_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_getdents_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timestamps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unprivileged_permissions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devfs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
