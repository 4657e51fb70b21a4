/* tests/unit/test_vfs_fdtable.c: fd tables: lowest free descriptor, EMFILE at RLIMIT_NOFILE, dup2 over an
 * open fd, EBADF rules, close-on-exec, fork copies and CLONE_FILES sharing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>

#include "vfs/vfs.h"

static void test_allocation(void **state)
{
    (void)state;
    struct vfs_file *reader, *writer;
    assert_int_equal(vfs_pipe_create(0, &reader, &writer), 0);
    struct vfs_fd_table *table = vfs_fd_table_new();
    assert_int_equal(vfs_fd_install(table, reader, 0, false, 1024), 0);
    assert_int_equal(vfs_fd_install(table, writer, 0, true, 1024), 1);
    assert_int_equal(vfs_fd_install(table, reader, 0, false, 1024), 2);
    assert_int_equal(vfs_fd_install(table, reader, 10, false, 1024), 10);
    assert_int_equal(vfs_fd_install(table, reader, 0, false, 1024), 3);
    assert_int_equal(vfs_fd_close(table, 1), 0);
    assert_int_equal(vfs_fd_close(table, 1), -EBADF);
    assert_int_equal(vfs_fd_close(table, -1), -EBADF);
    assert_int_equal(vfs_fd_close(table, 5000), -EBADF);
    assert_int_equal(vfs_fd_install(table, writer, 0, false, 1024), 1);
    assert_int_equal(vfs_fd_install(table, writer, 0, false, 5), 4);
    assert_int_equal(vfs_fd_install(table, writer, 0, false, 5), -EMFILE);
    assert_int_equal(vfs_fd_install(table, writer, 5, false, 5), -EINVAL);
    assert_int_equal(vfs_fd_install(table, writer, -1, false, 5), -EINVAL);
    assert_int_equal(vfs_fd_install(table, writer, 0, false, 0), -EMFILE);
    assert_int_equal(vfs_fd_next_open(table, 5), 10);
    assert_int_equal(vfs_fd_next_open(table, 11), -1);
    assert_int_equal(vfs_fd_next_open(table, -3), 0);

    struct vfs_file *got = vfs_fd_get(table, 10);
    assert_ptr_equal(got, reader);
    vfs_file_put(got);
    assert_null(vfs_fd_get(table, 7));
    assert_null(vfs_fd_get(table, -1));
    /* dup2 over an open descriptor, and out of range */
    assert_int_equal(vfs_fd_install_at(table, 10, writer, true, 1024), 10);
    got = vfs_fd_get(table, 10);
    assert_ptr_equal(got, writer);
    vfs_file_put(got);
    assert_int_equal(vfs_fd_install_at(table, 1024, writer, false, 1024), -EBADF);
    assert_int_equal(vfs_fd_install_at(table, -1, writer, false, 1024), -EBADF);
    assert_int_equal(vfs_fd_install_at(table, 100, writer, false, 1024), 100);
    assert_int_equal(vfs_fd_install(table, writer, 99, false, 1024), 99);
    assert_int_equal(vfs_fd_install(table, writer, 99, false, 1024), 101);

    vfs_file_put(reader);
    vfs_file_put(writer);
    vfs_fd_table_put(table);
}

static void test_close_on_exec_and_sharing(void **state)
{
    (void)state;
    struct vfs_file *reader, *writer;
    assert_int_equal(vfs_pipe_create(0, &reader, &writer), 0);
    struct vfs_fd_table *table = vfs_fd_table_new();
    assert_int_equal(vfs_fd_install(table, reader, 0, true, 64), 0);
    assert_int_equal(vfs_fd_install(table, writer, 0, false, 64), 1);
    assert_int_equal(vfs_fd_get_close_on_exec(table, 0), 1);
    assert_int_equal(vfs_fd_get_close_on_exec(table, 1), 0);
    assert_int_equal(vfs_fd_get_close_on_exec(table, 2), -EBADF);
    assert_int_equal(vfs_fd_set_close_on_exec(table, 1, true), 0);
    assert_int_equal(vfs_fd_set_close_on_exec(table, 2, true), -EBADF);
    assert_int_equal(vfs_fd_set_close_on_exec(table, 1, false), 0);

    struct vfs_fd_table *copy = vfs_fd_table_clone(table);
    assert_int_equal(vfs_fd_close(copy, 1), 0);
    struct vfs_file *still = vfs_fd_get(table, 1);
    assert_ptr_equal(still, writer); /* the parent's table is untouched */
    vfs_file_put(still);
    assert_int_equal(vfs_fd_get_close_on_exec(copy, 0), 1);

    vfs_fd_table_get(table); /* CLONE_FILES: the same table */
    vfs_fd_table_close_on_exec(table);
    assert_null(vfs_fd_get(table, 0));
    assert_int_equal(vfs_fd_next_open(table, 0), 1);
    vfs_fd_table_put(table);
    assert_int_equal(vfs_fd_next_open(table, 0), 1);

    /* the write end stays open through the tables: no EOF yet for the copy's reader */
    struct vfs_file *copy_reader = vfs_fd_get(copy, 0);
    char byte;
    assert_int_equal(vfs_read(copy_reader, &byte, 1), -EAGAIN);
    vfs_file_put(writer);
    vfs_fd_table_put(table);
    assert_int_equal(vfs_read(copy_reader, &byte, 1), 0);
    vfs_file_put(copy_reader);
    vfs_file_put(reader);
    vfs_fd_table_put(copy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocation),
        cmocka_unit_test(test_close_on_exec_and_sharing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
