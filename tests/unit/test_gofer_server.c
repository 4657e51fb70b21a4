/* tests/unit/test_gofer_server.c: a real Gofer (gofer_serve in a forked child) serving a temporary tree,
 * driven through the client API and through raw messages: file operations, read-only mode, escapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/common.h"
#include "gofer/gofer.h"
#include "gofer/protocol.h"
#include "gofer/transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MANY_FILES 150

struct harness {
    char root[64];
    pid_t server;
    int socket_fd;  /* the client's end, for raw tests (the client owns it otherwise) */
    struct gofer_client *client;
    uint32_t root_fid;
    bool server_may_fail;  /* tests that make the Gofer hang up */
    bool read_only;
};

/* ---- the served tree ---- */

static void write_file(const char *root, const char *name, const char *content, mode_t mode)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", root, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write_all(fd, content, strlen(content)), 0);
    close(fd);
}

static void make_tree(const char *root)
{
    char path[PATH_MAX];
    write_file(root, "hello.txt", "hello gofer\n", 0644);
    snprintf(path, sizeof(path), "%s/subdir", root);
    assert_int_equal(mkdir(path, 0755), 0);
    write_file(root, "subdir/nested.txt", "nested\n", 0644);
    snprintf(path, sizeof(path), "%s/escape_link", root);
    assert_int_equal(symlink("/etc", path), 0);
    snprintf(path, sizeof(path), "%s/updir_link", root);
    assert_int_equal(symlink("../../..", path), 0);
    snprintf(path, sizeof(path), "%s/inner_link", root);
    assert_int_equal(symlink("hello.txt", path), 0);
    snprintf(path, sizeof(path), "%s/many", root);
    assert_int_equal(mkdir(path, 0755), 0);
    for (int i = 0; i < MANY_FILES; i++) {
        char name[32];
        snprintf(name, sizeof(name), "many/f%03d", i);
        write_file(root, name, "", 0600);
    }
}

static int remove_entry(const char *path, const struct stat *status, int type, struct FTW *position)
{
    (void)status;
    (void)type;
    (void)position;
    return remove(path);
}

static void host_path(const struct harness *harness, const char *name, char *path)
{
    snprintf(path, PATH_MAX, "%s/%s", harness->root, name);
}

static void host_stat(const struct harness *harness, const char *name, struct stat *status)
{
    char path[PATH_MAX];
    host_path(harness, name, path);
    assert_int_equal(lstat(path, status), 0);
}

static bool host_exists(const struct harness *harness, const char *name)
{
    char path[PATH_MAX];
    struct stat status;
    host_path(harness, name, path);
    return lstat(path, &status) == 0;
}

/* ---- the Gofer in a child ---- */

static int start_server(struct harness *harness, bool read_only, int socket_type)
{
    int sockets[2];
    assert_int_equal(socketpair(AF_UNIX, socket_type | SOCK_CLOEXEC, 0, sockets), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sockets[0]);
        int root_fd = open(harness->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int result = root_fd < 0 ? -errno : gofer_serve(sockets[1], root_fd, read_only);
        _exit(result == 0 ? 0 : 1);
    }
    close(sockets[1]);
    /* A wedged Gofer fails the test instead of hanging it. */
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(sockets[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    harness->server = pid;
    harness->socket_fd = sockets[0];
    return sockets[0];
}

static int wait_server(struct harness *harness)
{
    int status = 0;
    assert_int_equal(waitpid(harness->server, &status, 0), harness->server);
    harness->server = 0;
    return status;
}

static int setup_with(void **state, bool read_only, int socket_type, bool attach)
{
    struct harness *harness = calloc(1, sizeof(*harness));
    strcpy(harness->root, "/tmp/gofer-test-XXXXXX");
    assert_non_null(mkdtemp(harness->root));
    make_tree(harness->root);
    harness->read_only = read_only;
    int fd = start_server(harness, read_only, socket_type);
    if (attach) {
        harness->client = gofer_client_new(fd);
        assert_non_null(harness->client);
        struct gofer_attr attr;
        assert_int_equal(gofer_attach(harness->client, "/", &harness->root_fid, &attr), 0);
        assert_true(S_ISDIR(attr.mode));
    }
    *state = harness;
    return 0;
}

static int setup_read_write(void **state) { return setup_with(state, false, SOCK_STREAM, true); }
static int setup_read_only(void **state) { return setup_with(state, true, SOCK_STREAM, true); }
static int setup_raw(void **state) { return setup_with(state, false, SOCK_STREAM, false); }
static int setup_seqpacket(void **state) { return setup_with(state, false, SOCK_SEQPACKET, true); }

static int teardown(void **state)
{
    struct harness *harness = *state;
    if (harness->client)
        gofer_client_free(harness->client);
    else if (harness->socket_fd >= 0)
        close(harness->socket_fd);
    if (harness->server > 0) {
        int status = wait_server(harness);
        if (!harness->server_may_fail) {
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
    }
    nftw(harness->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(harness);
    return 0;
}

/* ---- client helpers ---- */

static uint32_t walk(struct harness *harness, uint32_t directory_fid, const char *name, struct gofer_attr *attr)
{
    uint32_t fid = 0;
    int result = gofer_walk(harness->client, directory_fid, name, &fid, attr);
    if (result != 0)
        fail_msg("walk %s: %s", name, strerror(-result));
    return fid;
}

static size_t read_fid(struct harness *harness, uint32_t fid, char *content, size_t size)
{
    int fd = -1;
    assert_int_equal(gofer_open(harness->client, fid, O_RDONLY, &fd), 0);
    assert_true(fd >= 0);
    ssize_t length = read(fd, content, size - 1);
    assert_true(length >= 0);
    content[length] = '\0';
    close(fd);
    return (size_t)length;
}

/* ---- tests through the client ---- */

static void test_attach_and_getattr(void **state)
{
    struct harness *harness = *state;
    struct gofer_attr attr;
    struct stat status;
    assert_int_equal(gofer_getattr(harness->client, harness->root_fid, &attr), 0);
    assert_int_equal(stat(harness->root, &status), 0);
    assert_true(S_ISDIR(attr.mode));
    assert_int_equal(attr.inode, status.st_ino);
    assert_int_equal(attr.device, status.st_dev);
    assert_int_equal(attr.uid, status.st_uid);

    /* A second attach is a second, independent fid. */
    uint32_t second_root;
    assert_int_equal(gofer_attach(harness->client, "", &second_root, NULL), 0);
    assert_int_not_equal(second_root, harness->root_fid);
    assert_int_equal(gofer_clunk(harness->client, second_root), 0);
    assert_int_equal(gofer_attach(harness->client, "/elsewhere", &second_root, NULL), -ENOENT);
}

static void test_walk_open_and_read(void **state)
{
    struct harness *harness = *state;
    struct gofer_attr attr;
    char content[64];
    uint32_t hello = walk(harness, harness->root_fid, "hello.txt", &attr);
    assert_true(S_ISREG(attr.mode));
    assert_int_equal(attr.size, strlen("hello gofer\n"));
    assert_int_equal(read_fid(harness, hello, content, sizeof(content)), strlen("hello gofer\n"));
    assert_string_equal(content, "hello gofer\n");

    /* The donated fd is close-on-exec and blocking, as asked. */
    int fd;
    assert_int_equal(gofer_open(harness->client, hello, O_RDONLY, &fd), 0);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    close(fd);
    assert_int_equal(gofer_open(harness->client, hello, O_RDONLY | O_DIRECTORY, &fd), -ENOTDIR);
    assert_int_equal(gofer_open(harness->client, hello, O_RDONLY | O_CREAT, &fd), -EINVAL);

    uint32_t subdir = walk(harness, harness->root_fid, "subdir", &attr);
    assert_true(S_ISDIR(attr.mode));
    uint32_t nested = walk(harness, subdir, "nested.txt", NULL);
    read_fid(harness, nested, content, sizeof(content));
    assert_string_equal(content, "nested\n");
    assert_int_equal(gofer_open(harness->client, subdir, O_RDONLY | O_DIRECTORY, &fd), 0);
    close(fd);
    assert_int_equal(gofer_open(harness->client, subdir, O_WRONLY, &fd), -EISDIR);

    uint32_t unused;
    assert_int_equal(gofer_walk(harness->client, harness->root_fid, "missing", &unused, NULL), -ENOENT);
    assert_int_equal(gofer_walk(harness->client, hello, "x", &unused, NULL), -ENOTDIR);

    assert_int_equal(gofer_clunk(harness->client, nested), 0);
    assert_int_equal(gofer_clunk(harness->client, nested), -EBADF);
    assert_int_equal(gofer_getattr(harness->client, nested, &attr), -EBADF);
    assert_int_equal(gofer_clunk(harness->client, subdir), 0);
    assert_int_equal(gofer_clunk(harness->client, hello), 0);
}

static void test_readdir_pages_through_a_directory(void **state)
{
    struct harness *harness = *state;
    uint32_t many = walk(harness, harness->root_fid, "many", NULL);
    bool seen[MANY_FILES] = {false};
    int dots = 0, total = 0;
    uint64_t cookie = 0;
    struct gofer_dirent entries[7];
    for (;;) {
        size_t count = 99;
        assert_int_equal(gofer_readdir(harness->client, many, cookie, entries, ARRAY_SIZE(entries), &count), 0);
        assert_true(count <= ARRAY_SIZE(entries));
        if (count == 0)
            break;
        for (size_t i = 0; i < count; i++) {
            total++;
            if (strcmp(entries[i].name, ".") == 0 || strcmp(entries[i].name, "..") == 0) {
                dots++;
                continue;
            }
            int index;
            assert_int_equal(sscanf(entries[i].name, "f%d", &index), 1);
            assert_true(index >= 0 && index < MANY_FILES);
            assert_false(seen[index]);
            seen[index] = true;
            assert_int_equal(entries[i].type, DT_REG);
        }
        cookie = entries[count - 1].next_cookie;
        assert_true(total < 1000);
    }
    assert_int_equal(dots, 2);  /* listed like Linux lists them; the client layer decides */
    for (int i = 0; i < MANY_FILES; i++)
        assert_true(seen[i]);

    struct gofer_dirent top[32];
    size_t count;
    assert_int_equal(gofer_readdir(harness->client, harness->root_fid, 0, top, ARRAY_SIZE(top), &count), 0);
    int found = 0;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(top[i].name, "hello.txt") == 0 && top[i].type == DT_REG)
            found++;
        if (strcmp(top[i].name, "subdir") == 0 && top[i].type == DT_DIR)
            found++;
        if (strcmp(top[i].name, "escape_link") == 0 && top[i].type == DT_LNK)
            found++;
    }
    assert_int_equal(found, 3);
    uint32_t hello = walk(harness, harness->root_fid, "hello.txt", NULL);
    assert_int_equal(gofer_readdir(harness->client, hello, 0, top, ARRAY_SIZE(top), &count), -ENOTDIR);
    assert_int_equal(gofer_readdir(harness->client, many, 0, top, 0, &count), -EINVAL);
}

static void test_readlink(void **state)
{
    struct harness *harness = *state;
    struct gofer_attr attr;
    char target[PATH_MAX];
    uint32_t link = walk(harness, harness->root_fid, "escape_link", &attr);
    assert_true(S_ISLNK(attr.mode));
    assert_int_equal(attr.size, 4);
    assert_int_equal(gofer_readlink(harness->client, link, target, sizeof(target)), 4);
    assert_memory_equal(target, "/etc", 4);
    assert_int_equal(gofer_readlink(harness->client, link, target, 2), 2);  /* truncated, like readlink(2) */
    assert_memory_equal(target, "/e", 2);
    uint32_t updir = walk(harness, harness->root_fid, "updir_link", NULL);
    assert_int_equal(gofer_readlink(harness->client, updir, target, sizeof(target)), 8);
    assert_memory_equal(target, "../../..", 8);
    uint32_t hello = walk(harness, harness->root_fid, "hello.txt", NULL);
    assert_int_equal(gofer_readlink(harness->client, hello, target, sizeof(target)), -EINVAL);
}

/* The point of the Gofer: nothing the Sentry asks can reach outside the root. */
static void test_symlinks_are_never_followed(void **state)
{
    struct harness *harness = *state;
    const char *links[] = {"escape_link", "updir_link", "inner_link"};
    for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
        struct gofer_attr attr;
        struct stat status;
        uint32_t link = walk(harness, harness->root_fid, links[i], &attr);
        host_stat(harness, links[i], &status);
        assert_true(S_ISLNK(attr.mode));
        assert_int_equal(attr.inode, status.st_ino);  /* the link itself, not /etc or the root's parent */
        int fd = -1;
        assert_int_equal(gofer_open(harness->client, link, O_RDONLY, &fd), -ELOOP);
        assert_int_equal(gofer_open(harness->client, link, O_RDONLY | O_DIRECTORY, &fd), -ELOOP);
        assert_int_equal(fd, -1);
        uint32_t beyond;
        assert_int_equal(gofer_walk(harness->client, link, "passwd", &beyond, NULL), -ENOTDIR);
        size_t count;
        struct gofer_dirent entries[4];
        assert_int_equal(gofer_readdir(harness->client, link, 0, entries, 4, &count), -ENOTDIR);
        /* A tree's read-only flag is its fids': a mutation looks at the fid first, then refuses. */
        int refused = harness->read_only ? -EROFS : 0;
        assert_int_equal(gofer_create(harness->client, link, "x", O_WRONLY, 0600, 0, 0, &beyond, NULL, &fd), -ENOTDIR);
        struct gofer_setattr chmod = {.mask = GOFER_SETATTR_MODE, .mode = 0777};
        assert_int_equal(gofer_setattr(harness->client, link, &chmod), refused ? refused : -EOPNOTSUPP);
        struct gofer_setattr truncate = {.mask = GOFER_SETATTR_SIZE, .size = 0};
        assert_int_equal(gofer_setattr(harness->client, link, &truncate), refused ? refused : -EINVAL);
        assert_int_equal(gofer_clunk(harness->client, link), 0);
    }
    /* The file behind inner_link was not touched. */
    struct stat status;
    host_stat(harness, "hello.txt", &status);
    assert_int_equal(status.st_size, strlen("hello gofer\n"));
}

static void test_escaping_names_are_refused_by_the_client(void **state)
{
    struct harness *harness = *state;
    char long_name[PROTOCOL_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    const char *bad[] = {"..", ".", "", "a/b", "/etc", "../etc"};
    uint32_t fid;
    int fd;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(gofer_walk(harness->client, harness->root_fid, bad[i], &fid, NULL), -EINVAL);
        assert_int_equal(gofer_create(harness->client, harness->root_fid, bad[i], O_RDWR, 0600, 0, 0, &fid,
                                      NULL, &fd), -EINVAL);
        assert_int_equal(gofer_mkdir(harness->client, harness->root_fid, bad[i], 0700, 0, 0, NULL), -EINVAL);
        assert_int_equal(gofer_symlink(harness->client, harness->root_fid, bad[i], "t", 0, 0, NULL), -EINVAL);
        assert_int_equal(gofer_unlink(harness->client, harness->root_fid, bad[i], 0), -EINVAL);
        assert_int_equal(gofer_rename(harness->client, harness->root_fid, "hello.txt", harness->root_fid, bad[i]),
                         -EINVAL);
    }
    assert_int_equal(gofer_walk(harness->client, harness->root_fid, NULL, &fid, NULL), -EINVAL);
    assert_int_equal(gofer_walk(harness->client, harness->root_fid, long_name, &fid, NULL), -ENAMETOOLONG);
    char long_target[PATH_MAX + 1];
    memset(long_target, 't', PATH_MAX);
    long_target[PATH_MAX] = '\0';
    assert_int_equal(gofer_symlink(harness->client, harness->root_fid, "s", long_target, 0, 0, NULL),
                     -ENAMETOOLONG);
    /* Nothing was sent; the connection is fine. */
    assert_int_equal(gofer_getattr(harness->client, harness->root_fid, NULL), 0);
    assert_true(host_exists(harness, "hello.txt"));
}

static void test_create_and_write(void **state)
{
    struct harness *harness = *state;
    struct gofer_attr attr;
    uint32_t fid;
    int fd = -1;
    uint32_t owner = geteuid() == 0 ? 1234 : (uint32_t)-1;
    assert_int_equal(gofer_create(harness->client, harness->root_fid, "new.txt", O_RDWR, 0640, owner, owner, &fid,
                                  &attr, &fd), 0);
    assert_true(fd >= 0);
    assert_true(S_ISREG(attr.mode));
    assert_int_equal(attr.mode & 07777, 0640);  /* the Gofer's umask does not apply */
    assert_int_equal(write(fd, "data", 4), 4);
    close(fd);
    struct stat status;
    host_stat(harness, "new.txt", &status);
    assert_int_equal(status.st_size, 4);
    assert_int_equal(status.st_ino, attr.inode);
    assert_int_equal(status.st_mode & 07777, 0640);
    if (geteuid() == 0) {
        assert_int_equal(status.st_uid, 1234);
        assert_int_equal(status.st_gid, 1234);
        assert_int_equal(attr.uid, 1234);
    }
    char content[16];
    read_fid(harness, fid, content, sizeof(content));
    assert_string_equal(content, "data");

    uint32_t again;
    assert_int_equal(gofer_create(harness->client, harness->root_fid, "new.txt", O_RDWR, 0600, -1, -1, &again,
                                  NULL, &fd), -EEXIST);
    assert_int_equal(gofer_create(harness->client, harness->root_fid, "escape_link", O_RDWR, 0600, -1, -1,
                                  &again, NULL, &fd), -EEXIST);  /* O_EXCL: never through a symlink */
    assert_int_equal(gofer_create(harness->client, fid, "inner", O_RDWR, 0600, -1, -1, &again, NULL, &fd),
                     -ENOTDIR);
    /* Failed creations hand their fid back: the next one reuses it. */
    uint32_t next;
    assert_int_equal(gofer_create(harness->client, harness->root_fid, "second", O_WRONLY | O_TRUNC, 0600, -1, -1,
                                  &next, NULL, &fd), 0);
    close(fd);
    assert_int_equal(gofer_open(harness->client, next, O_WRONLY | O_APPEND, &fd), 0);
    assert_int_equal(write(fd, "xy", 2), 2);
    close(fd);
    host_stat(harness, "second", &status);
    assert_int_equal(status.st_size, 2);
}

static void test_mkdir_symlink_link_and_unlink(void **state)
{
    struct harness *harness = *state;
    struct gofer_attr attr;
    struct stat status;
    assert_int_equal(gofer_mkdir(harness->client, harness->root_fid, "made", 0750, -1, -1, &attr), 0);
    assert_true(S_ISDIR(attr.mode));
    assert_int_equal(attr.mode & 07777, 0750);
    host_stat(harness, "made", &status);
    assert_true(S_ISDIR(status.st_mode));
    assert_int_equal(gofer_mkdir(harness->client, harness->root_fid, "made", 0750, -1, -1, &attr), -EEXIST);

    uint32_t made = walk(harness, harness->root_fid, "made", NULL);
    uint32_t inside;
    int fd;
    assert_int_equal(gofer_create(harness->client, made, "inside", O_WRONLY, 0600, -1, -1, &inside, NULL, &fd), 0);
    close(fd);
    assert_int_equal(gofer_unlink(harness->client, harness->root_fid, "made", AT_REMOVEDIR), -ENOTEMPTY);
    assert_int_equal(gofer_unlink(harness->client, made, "inside", AT_REMOVEDIR), -ENOTDIR);
    assert_int_equal(gofer_unlink(harness->client, made, "inside", 0), 0);
    assert_int_equal(gofer_unlink(harness->client, harness->root_fid, "made", 0x100), -EINVAL);
    assert_int_equal(gofer_unlink(harness->client, harness->root_fid, "made", AT_REMOVEDIR), 0);
    assert_false(host_exists(harness, "made"));

    assert_int_equal(gofer_symlink(harness->client, harness->root_fid, "new_link", "../../outside", -1, -1, &attr),
                     0);
    assert_true(S_ISLNK(attr.mode));
    char target[64], path[PATH_MAX];
    host_path(harness, "new_link", path);
    ssize_t length = readlink(path, target, sizeof(target));
    assert_int_equal(length, strlen("../../outside"));
    assert_memory_equal(target, "../../outside", (size_t)length);
    assert_int_equal(gofer_symlink(harness->client, harness->root_fid, "empty_link", "", -1, -1, NULL), -ENOENT);

    uint32_t hello = walk(harness, harness->root_fid, "hello.txt", NULL);
    assert_int_equal(gofer_link(harness->client, harness->root_fid, "hard", hello), 0);
    host_stat(harness, "hard", &status);
    struct stat original;
    host_stat(harness, "hello.txt", &original);
    assert_int_equal(status.st_ino, original.st_ino);
    assert_int_equal(original.st_nlink, 2);
    uint32_t subdir = walk(harness, harness->root_fid, "subdir", NULL);
    assert_int_equal(gofer_link(harness->client, harness->root_fid, "dirlink", subdir), -EPERM);
    assert_int_equal(gofer_link(harness->client, harness->root_fid, "hard", hello), -EEXIST);
    assert_int_equal(gofer_unlink(harness->client, harness->root_fid, "hard", 0), 0);
    assert_int_equal(gofer_unlink(harness->client, harness->root_fid, "hard", 0), -ENOENT);
}

static void test_rename_keeps_fids_usable(void **state)
{
    struct harness *harness = *state;
    uint32_t hello = walk(harness, harness->root_fid, "hello.txt", NULL);
    uint32_t subdir = walk(harness, harness->root_fid, "subdir", NULL);
    assert_int_equal(gofer_rename(harness->client, harness->root_fid, "hello.txt", subdir, "moved.txt"), 0);
    assert_false(host_exists(harness, "hello.txt"));
    assert_true(host_exists(harness, "subdir/moved.txt"));
    char content[64];
    read_fid(harness, hello, content, sizeof(content));  /* the fid followed its file */
    assert_string_equal(content, "hello gofer\n");
    assert_int_equal(gofer_rename(harness->client, harness->root_fid, "missing", subdir, "x"), -ENOENT);
    assert_int_equal(gofer_rename(harness->client, hello, "a", subdir, "b"), -ENOTDIR);

    /* A name replaced behind the fid's back is noticed, not silently opened. */
    write_file(harness->root, "subdir/replacement", "other\n", 0644);
    char from[PATH_MAX], to[PATH_MAX];
    host_path(harness, "subdir/replacement", from);
    host_path(harness, "subdir/moved.txt", to);
    assert_int_equal(rename(from, to), 0);
    int fd;
    assert_int_equal(gofer_open(harness->client, hello, O_RDONLY, &fd), -ESTALE);
}

static void test_setattr(void **state)
{
    struct harness *harness = *state;
    struct stat status;
    uint32_t hello = walk(harness, harness->root_fid, "hello.txt", NULL);
    struct gofer_setattr changes = {.mask = GOFER_SETATTR_MODE, .mode = 04600};
    assert_int_equal(gofer_setattr(harness->client, hello, &changes), 0);
    host_stat(harness, "hello.txt", &status);
    assert_int_equal(status.st_mode & 07777, 04600);

    changes = (struct gofer_setattr){.mask = GOFER_SETATTR_SIZE, .size = 5};
    assert_int_equal(gofer_setattr(harness->client, hello, &changes), 0);
    host_stat(harness, "hello.txt", &status);
    assert_int_equal(status.st_size, 5);

    changes = (struct gofer_setattr){.mask = GOFER_SETATTR_ACCESS_TIME | GOFER_SETATTR_MODIFY_TIME,
                                     .access_time = {.tv_sec = 1000, .tv_nsec = 5},
                                     .modify_time = {.tv_sec = 2000, .tv_nsec = 7}};
    assert_int_equal(gofer_setattr(harness->client, hello, &changes), 0);
    host_stat(harness, "hello.txt", &status);
    assert_int_equal(status.st_atim.tv_sec, 1000);
    assert_int_equal(status.st_mtim.tv_sec, 2000);
    assert_int_equal(status.st_mtim.tv_nsec, 7);
    changes = (struct gofer_setattr){.mask = GOFER_SETATTR_MODIFY_TIME, .modify_time = {.tv_sec = 3000}};
    assert_int_equal(gofer_setattr(harness->client, hello, &changes), 0);
    host_stat(harness, "hello.txt", &status);
    assert_int_equal(status.st_atim.tv_sec, 1000);  /* left alone */
    assert_int_equal(status.st_mtim.tv_sec, 3000);

    if (geteuid() == 0) {
        changes = (struct gofer_setattr){.mask = GOFER_SETATTR_UID | GOFER_SETATTR_GID, .uid = 4321, .gid = 8765};
        assert_int_equal(gofer_setattr(harness->client, hello, &changes), 0);
        host_stat(harness, "hello.txt", &status);
        assert_int_equal(status.st_uid, 4321);
        assert_int_equal(status.st_gid, 8765);
        /* ownership of a symlink is the link's, never its target's */
        uint32_t link = walk(harness, harness->root_fid, "inner_link", NULL);
        changes = (struct gofer_setattr){.mask = GOFER_SETATTR_UID, .uid = 999};
        assert_int_equal(gofer_setattr(harness->client, link, &changes), 0);
        host_stat(harness, "inner_link", &status);
        assert_int_equal(status.st_uid, 999);
        host_stat(harness, "hello.txt", &status);
        assert_int_equal(status.st_uid, 4321);
    }

    uint32_t subdir = walk(harness, harness->root_fid, "subdir", NULL);
    changes = (struct gofer_setattr){.mask = GOFER_SETATTR_MODE, .mode = 0711};
    assert_int_equal(gofer_setattr(harness->client, subdir, &changes), 0);
    host_stat(harness, "subdir", &status);
    assert_int_equal(status.st_mode & 07777, 0711);
    changes = (struct gofer_setattr){.mask = GOFER_SETATTR_SIZE};
    assert_int_equal(gofer_setattr(harness->client, subdir, &changes), -EISDIR);
    changes = (struct gofer_setattr){.mask = 1u << 20};
    assert_int_equal(gofer_setattr(harness->client, hello, &changes), -EINVAL);
    assert_int_equal(gofer_setattr(harness->client, 777, &changes), -EBADF);
}

static void test_special_files_are_refused(void **state)
{
    struct harness *harness = *state;
    char path[PATH_MAX];
    host_path(harness, "fifo", path);
    assert_int_equal(mkfifo(path, 0666), 0);
    uint32_t fifo = walk(harness, harness->root_fid, "fifo", NULL);
    int fd = -1;
    assert_int_equal(gofer_open(harness->client, fifo, O_RDONLY, &fd), -EACCES);  /* and no hang */
    host_path(harness, "null", path);
    if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        uint32_t device = walk(harness, harness->root_fid, "null", NULL);
        assert_int_equal(gofer_open(harness->client, device, O_RDWR, &fd), -EACCES);
    }
    assert_int_equal(fd, -1);
}

static void test_read_only_refuses_every_mutation(void **state)
{
    struct harness *harness = *state;
    uint32_t hello = walk(harness, harness->root_fid, "hello.txt", NULL);
    uint32_t subdir = walk(harness, harness->root_fid, "subdir", NULL);
    uint32_t fid;
    int fd = -1;
    struct gofer_setattr changes = {.mask = GOFER_SETATTR_MODE, .mode = 0777};
    assert_int_equal(gofer_setattr(harness->client, hello, &changes), -EROFS);
    changes = (struct gofer_setattr){.mask = GOFER_SETATTR_SIZE};
    assert_int_equal(gofer_setattr(harness->client, hello, &changes), -EROFS);
    assert_int_equal(gofer_create(harness->client, harness->root_fid, "n", O_RDWR, 0600, -1, -1, &fid, NULL, &fd),
                     -EROFS);
    assert_int_equal(gofer_mkdir(harness->client, harness->root_fid, "d", 0700, -1, -1, NULL), -EROFS);
    assert_int_equal(gofer_symlink(harness->client, harness->root_fid, "s", "t", -1, -1, NULL), -EROFS);
    assert_int_equal(gofer_link(harness->client, harness->root_fid, "l", hello), -EROFS);
    assert_int_equal(gofer_unlink(harness->client, harness->root_fid, "hello.txt", 0), -EROFS);
    assert_int_equal(gofer_rename(harness->client, harness->root_fid, "hello.txt", subdir, "x"), -EROFS);
    assert_int_equal(gofer_open(harness->client, hello, O_WRONLY, &fd), -EROFS);
    assert_int_equal(gofer_open(harness->client, hello, O_RDWR, &fd), -EROFS);
    assert_int_equal(gofer_open(harness->client, hello, O_RDONLY | O_TRUNC, &fd), -EROFS);
    assert_int_equal(fd, -1);

    /* Reading still works. */
    char content[64];
    read_fid(harness, hello, content, sizeof(content));
    assert_string_equal(content, "hello gofer\n");
    struct gofer_dirent entries[8];
    size_t count;
    assert_int_equal(gofer_readdir(harness->client, subdir, 0, entries, 8, &count), 0);
    assert_true(count >= 3);
    uint32_t link = walk(harness, harness->root_fid, "escape_link", NULL);
    char target[16];
    assert_int_equal(gofer_readlink(harness->client, link, target, sizeof(target)), 4);

    struct stat status;
    host_stat(harness, "hello.txt", &status);
    assert_int_equal(status.st_mode & 07777, 0644);
    assert_int_equal(status.st_size, strlen("hello gofer\n"));
    assert_false(host_exists(harness, "n"));
    assert_false(host_exists(harness, "d"));
}

static void test_seqpacket_socket(void **state)
{
    struct harness *harness = *state;
    char content[64];
    uint32_t hello = walk(harness, harness->root_fid, "hello.txt", NULL);
    read_fid(harness, hello, content, sizeof(content));
    assert_string_equal(content, "hello gofer\n");
    uint32_t many = walk(harness, harness->root_fid, "many", NULL);
    static struct gofer_dirent entries[1000];
    size_t count;
    assert_int_equal(gofer_readdir(harness->client, many, 0, entries, ARRAY_SIZE(entries), &count), 0);
    assert_int_equal(count, MANY_FILES + 2);
}

static void test_client_survives_a_dead_server(void **state)
{
    struct harness *harness = *state;
    kill(harness->server, SIGKILL);
    wait_server(harness);
    struct gofer_attr attr;
    assert_int_equal(gofer_getattr(harness->client, harness->root_fid, &attr), -EIO);
    uint32_t fid;
    assert_int_equal(gofer_walk(harness->client, harness->root_fid, "hello.txt", &fid, &attr), -EIO);
    int fd;
    assert_int_equal(gofer_open(harness->client, harness->root_fid, O_RDONLY, &fd), -EIO);
}

/* ---- raw messages, as a hostile Sentry could send them ---- */

static struct protocol_message raw_reply;

static void raw_send_bytes(int fd, const void *bytes, size_t length)
{
    assert_int_equal(transport_send(fd, bytes, length, -1), 0);
}

/* Receives one reply; returns 0 for the expected reply type, or the -errno of an Rerror. */
static int raw_receive(int fd, uint8_t expected_type, uint16_t expected_tag)
{
    static uint8_t buffer[PROTOCOL_MAX_MESSAGE_SIZE];
    int fds[PROTOCOL_MAX_FDS];
    size_t fd_count;
    int length = transport_receive(fd, false, buffer, sizeof(buffer), fds, &fd_count);
    transport_close_fds(fds, &fd_count);
    assert_true(length > 0);
    assert_int_equal(protocol_decode(buffer, (size_t)length, &raw_reply), 0);
    assert_int_equal(raw_reply.tag, expected_tag);
    if (raw_reply.type == PROTOCOL_RERROR)
        return -(int)raw_reply.error.error;
    assert_int_equal(raw_reply.type, expected_type);
    return 0;
}

static int raw_call(int fd, struct protocol_message *request)
{
    static uint8_t buffer[PROTOCOL_MAX_MESSAGE_SIZE];
    int length = protocol_encode(request, buffer, sizeof(buffer));
    assert_true(length > 0);
    raw_send_bytes(fd, buffer, (size_t)length);
    return raw_receive(fd, (uint8_t)(request->type + 1), request->tag);
}

static struct protocol_message request;

static struct protocol_message *new_request(uint8_t type, uint16_t tag)
{
    memset(&request, 0, sizeof(request));
    request.type = type;
    request.tag = tag;
    return &request;
}

static int raw_walk(int fd, uint32_t directory_fid, uint32_t new_fid, const char *name)
{
    struct protocol_message *walk = new_request(PROTOCOL_TWALK, 40);
    walk->walk.directory_fid = directory_fid;
    walk->walk.new_fid = new_fid;
    strcpy(walk->walk.name, name);
    return raw_call(fd, walk);
}

static void raw_attach(int fd, uint32_t fid)
{
    struct protocol_message *version = new_request(PROTOCOL_TVERSION, 1);
    version->version.max_message_size = PROTOCOL_MAX_MESSAGE_SIZE;
    strcpy(version->version.version, PROTOCOL_VERSION_STRING);
    assert_int_equal(raw_call(fd, version), 0);
    struct protocol_message *attach = new_request(PROTOCOL_TATTACH, 2);
    attach->attach.fid = fid;
    assert_int_equal(raw_call(fd, attach), 0);
}

static void assert_server_still_answers(int fd)
{
    struct protocol_message *getattr = new_request(PROTOCOL_TGETATTR, 77);
    getattr->getattr.fid = 1;
    assert_int_equal(raw_call(fd, getattr), 0);
    assert_true(S_ISDIR(raw_reply.attr.mode));
}

static void test_server_refuses_escaping_names(void **state)
{
    struct harness *harness = *state;
    int fd = harness->socket_fd;
    raw_attach(fd, 1);
    const char *bad[] = {"..", ".", "", "a/b", "/etc", "../../etc"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        assert_int_equal(raw_walk(fd, 1, 100 + (uint32_t)i, bad[i]), -EINVAL);
        struct protocol_message *create = new_request(PROTOCOL_TCREATE, 41);
        create->create.directory_fid = 1;
        create->create.new_fid = 200;
        create->create.flags = O_RDWR;
        strcpy(create->create.name, bad[i]);
        assert_int_equal(raw_call(fd, create), -EINVAL);
        struct protocol_message *mkdir = new_request(PROTOCOL_TMKDIR, 42);
        mkdir->mkdir.directory_fid = 1;
        strcpy(mkdir->mkdir.name, bad[i]);
        assert_int_equal(raw_call(fd, mkdir), -EINVAL);
        struct protocol_message *symlink = new_request(PROTOCOL_TSYMLINK, 43);
        symlink->symlink.directory_fid = 1;
        strcpy(symlink->symlink.name, bad[i]);
        strcpy(symlink->symlink.target, "x");
        assert_int_equal(raw_call(fd, symlink), -EINVAL);
        struct protocol_message *unlink = new_request(PROTOCOL_TUNLINK, 44);
        unlink->unlink.directory_fid = 1;
        strcpy(unlink->unlink.name, bad[i]);
        assert_int_equal(raw_call(fd, unlink), -EINVAL);
        struct protocol_message *rename = new_request(PROTOCOL_TRENAME, 45);
        rename->rename.old_directory_fid = rename->rename.new_directory_fid = 1;
        strcpy(rename->rename.old_name, "hello.txt");
        strcpy(rename->rename.new_name, bad[i]);
        assert_int_equal(raw_call(fd, rename), -EINVAL);
        struct protocol_message *link = new_request(PROTOCOL_TLINK, 46);
        link->link.directory_fid = 1;
        link->link.target_fid = 1;
        strcpy(link->link.name, bad[i]);
        assert_int_equal(raw_call(fd, link), -EINVAL);
    }
    /* A 256-byte name written straight onto the wire. */
    uint8_t message[PROTOCOL_HEADER_SIZE + 10 + 256];
    memset(message, 'a', sizeof(message));
    uint32_t size = sizeof(message);
    memcpy(message, &size, 4);
    message[4] = PROTOCOL_TWALK;
    message[5] = 9;
    message[6] = 0;
    memcpy(message + PROTOCOL_HEADER_SIZE, &(uint32_t){1}, 4);
    memcpy(message + PROTOCOL_HEADER_SIZE + 4, &(uint32_t){300}, 4);
    memcpy(message + PROTOCOL_HEADER_SIZE + 8, &(uint16_t){256}, 2);
    raw_send_bytes(fd, message, sizeof(message));
    assert_int_equal(raw_receive(fd, PROTOCOL_RWALK, 9), -ENAMETOOLONG);
    assert_true(host_exists(harness, "hello.txt"));
    assert_server_still_answers(fd);
}

static void test_server_fid_rules(void **state)
{
    struct harness *harness = *state;
    int fd = harness->socket_fd;
    raw_attach(fd, 1);
    struct protocol_message *attach = new_request(PROTOCOL_TATTACH, 3);
    attach->attach.fid = 1;
    assert_int_equal(raw_call(fd, attach), -EEXIST);  /* a live fid cannot be reused */
    assert_int_equal(raw_walk(fd, 1, 1, "hello.txt"), -EEXIST);
    assert_int_equal(raw_walk(fd, 1, 2, "hello.txt"), 0);
    assert_int_equal(raw_walk(fd, 1, 2, "subdir"), -EEXIST);
    assert_int_equal(raw_walk(fd, 999, 3, "hello.txt"), -EBADF);
    assert_int_equal(raw_walk(fd, 2, 3, "x"), -ENOTDIR);
    struct protocol_message *getattr = new_request(PROTOCOL_TGETATTR, 4);
    getattr->getattr.fid = 0xFFFFFFFFu;
    assert_int_equal(raw_call(fd, getattr), -EBADF);
    struct protocol_message *open = new_request(PROTOCOL_TOPEN, 5);
    open->open.fid = 2;
    open->open.flags = O_RDONLY | O_PATH;
    assert_int_equal(raw_call(fd, open), -EINVAL);
    open->open.flags = O_RDWR | O_CREAT;
    assert_int_equal(raw_call(fd, open), -EINVAL);
    open->open.flags = O_ACCMODE;
    assert_int_equal(raw_call(fd, open), -EINVAL);
    struct protocol_message *clunk = new_request(PROTOCOL_TCLUNK, 6);
    clunk->clunk.fid = 2;
    assert_int_equal(raw_call(fd, clunk), 0);
    assert_int_equal(raw_call(fd, clunk), -EBADF);
    assert_int_equal(raw_walk(fd, 1, 2, "subdir"), 0);  /* a clunked number is free again */
    struct protocol_message *readdir = new_request(PROTOCOL_TREADDIR, 7);
    readdir->readdir.fid = 2;
    readdir->readdir.max_entries = 0;
    assert_int_equal(raw_call(fd, readdir), -EINVAL);
    readdir->readdir.max_entries = 100000;
    assert_int_equal(raw_call(fd, readdir), 0);
    assert_true(raw_reply.readdir_reply.count >= 3);
}

static void test_malformed_messages_get_error_replies(void **state)
{
    struct harness *harness = *state;
    int fd = harness->socket_fd;
    raw_attach(fd, 1);

    /* Unknown type: the tag comes back with the error. */
    uint8_t unknown[] = {11, 0, 0, 0, 200, 0x34, 0x12, 1, 2, 3, 4};
    raw_send_bytes(fd, unknown, sizeof(unknown));
    assert_int_equal(raw_receive(fd, 0, 0x1234), -EPROTO);
    assert_server_still_answers(fd);

    /* A reply type sent as a request. */
    struct protocol_message *reply = new_request(PROTOCOL_RCLUNK, 8);
    assert_int_equal(raw_call(fd, reply), -EPROTO);

    /* A body shorter than its type needs: Tgetattr with 2 of its 4 fid bytes. */
    uint8_t short_body[] = {9, 0, 0, 0, PROTOCOL_TGETATTR, 9, 0, 1, 0};
    raw_send_bytes(fd, short_body, sizeof(short_body));
    assert_int_equal(raw_receive(fd, PROTOCOL_RGETATTR, 9), -EPROTO);

    /* Trailing garbage after a whole Tclunk. */
    uint8_t trailing[] = {13, 0, 0, 0, PROTOCOL_TCLUNK, 10, 0, 1, 0, 0, 0, 0xAA, 0xBB};
    raw_send_bytes(fd, trailing, sizeof(trailing));
    assert_int_equal(raw_receive(fd, PROTOCOL_RCLUNK, 10), -EPROTO);

    /* A walk name with a NUL in the middle ("a\0/.."). */
    uint8_t nul_name[PROTOCOL_HEADER_SIZE + 10 + 5] = {sizeof(nul_name), 0, 0, 0, PROTOCOL_TWALK, 11, 0,
                                                       1, 0, 0, 0, 5, 0, 0, 0, 5, 0, 'a', 0, '/', '.', '.'};
    raw_send_bytes(fd, nul_name, sizeof(nul_name));
    assert_int_equal(raw_receive(fd, PROTOCOL_RWALK, 11), -EINVAL);

    /* A string length running past the end of the message. */
    uint8_t overlong[PROTOCOL_HEADER_SIZE + 10 + 2] = {sizeof(overlong), 0, 0, 0, PROTOCOL_TWALK, 12, 0,
                                                       1, 0, 0, 0, 6, 0, 0, 0, 100, 0, 'a', 'b'};
    raw_send_bytes(fd, overlong, sizeof(overlong));
    assert_int_equal(raw_receive(fd, PROTOCOL_RWALK, 12), -EPROTO);

    /* A version the server does not speak, and one whose message size is unusable. */
    struct protocol_message *version = new_request(PROTOCOL_TVERSION, 13);
    version->version.max_message_size = PROTOCOL_MAX_MESSAGE_SIZE;
    strcpy(version->version.version, "9P2000");
    assert_int_equal(raw_call(fd, version), -EPROTONOSUPPORT);
    strcpy(version->version.version, PROTOCOL_VERSION_STRING);
    version->version.max_message_size = 100;
    assert_int_equal(raw_call(fd, version), -EINVAL);

    /* Fds donated to the Gofer are closed and ignored. */
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    static uint8_t encoded[PROTOCOL_MAX_MESSAGE_SIZE];
    struct protocol_message *getattr = new_request(PROTOCOL_TGETATTR, 14);
    getattr->getattr.fid = 1;
    int length = protocol_encode(getattr, encoded, sizeof(encoded));
    assert_int_equal(transport_send(fd, encoded, (size_t)length, pipe_fds[0]), 0);
    assert_int_equal(raw_receive(fd, PROTOCOL_RGETATTR, 14), 0);
    close(pipe_fds[0]);
    /* Had the Gofer kept its copy of the read end, this write would succeed. */
    assert_int_equal(write(pipe_fds[1], "x", 1), -1);
    assert_int_equal(errno, EPIPE);
    close(pipe_fds[1]);

    /* After all that, a good request is still served. */
    assert_server_still_answers(fd);
}

static void test_unframeable_message_closes_the_connection(void **state)
{
    struct harness *harness = *state;
    harness->server_may_fail = true;
    int fd = harness->socket_fd;
    raw_attach(fd, 1);
    uint8_t huge[] = {0xFF, 0xFF, 0xFF, 0x7F, PROTOCOL_TGETATTR, 1, 0, 1, 0, 0, 0};
    raw_send_bytes(fd, huge, sizeof(huge));
    char byte;
    /* Hung up, no reply: EOF, or ECONNRESET when the Gofer closed before our unread bytes were dropped. */
    errno = 0;
    ssize_t got = read(fd, &byte, 1);
    assert_true(got == 0 || (got == -1 && errno == ECONNRESET));
    int status = wait_server(harness);
    assert_true(WIFEXITED(status));
}

static void test_undersized_frame_closes_the_connection(void **state)
{
    struct harness *harness = *state;
    harness->server_may_fail = true;
    int fd = harness->socket_fd;
    uint8_t tiny[] = {3, 0, 0, 0, PROTOCOL_TGETATTR, 1, 0};
    raw_send_bytes(fd, tiny, sizeof(tiny));
    char byte;
    errno = 0;
    ssize_t got = read(fd, &byte, 1);
    assert_true(got == 0 || (got == -1 && errno == ECONNRESET)); /* as above */
}

/* Serving the host's "/" must not hand out the host kernel's own interfaces: the root of a procfs or sysfs
 * mount shows its attributes (so "ls -l /" works) and nothing else. */
static void test_kernel_interface_filesystems_are_refused(void **state)
{
    (void)state;
    const char *roots[] = {"/", "/proc"};
    for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
        int sockets[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(sockets[0]);
            int root_fd = open(roots[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
            _exit(root_fd >= 0 && gofer_serve(sockets[1], root_fd, true) == 0 ? 0 : 1);
        }
        close(sockets[1]);
        struct gofer_client *client = gofer_client_new(sockets[0]);
        uint32_t root, fid;
        if (strcmp(roots[i], "/proc") == 0) {
            assert_int_equal(gofer_attach(client, "/", &root, NULL), -EACCES);
        } else {
            assert_int_equal(gofer_attach(client, "/", &root, NULL), 0);
            struct statfs filesystem;
            const char *mounts[] = {"proc", "sys"};
            for (size_t m = 0; m < ARRAY_SIZE(mounts); m++) {
                char path[16];
                snprintf(path, sizeof(path), "/%s", mounts[m]);
                if (statfs(path, &filesystem) != 0 ||
                    (filesystem.f_type != PROC_SUPER_MAGIC && filesystem.f_type != SYSFS_MAGIC))
                    continue;
                struct gofer_attr attr;
                assert_int_equal(gofer_walk(client, root, mounts[m], &fid, &attr), 0);
                assert_true(S_ISDIR(attr.mode));
                assert_int_equal(gofer_getattr(client, fid, &attr), 0);
                uint32_t inside;
                assert_int_equal(gofer_walk(client, fid, "self", &inside, NULL), -EACCES);
                assert_int_equal(gofer_walk(client, fid, "kernel", &inside, NULL), -EACCES);
                int fd = -1;
                assert_int_equal(gofer_open(client, fid, O_RDONLY | O_DIRECTORY, &fd), -EACCES);
                assert_int_equal(fd, -1);
                struct gofer_dirent entries[4];
                size_t count;
                assert_int_equal(gofer_readdir(client, fid, 0, entries, ARRAY_SIZE(entries), &count), -EACCES);
                assert_int_equal(gofer_clunk(client, fid), 0);
            }
            assert_int_equal(gofer_walk(client, root, "etc", &fid, NULL), 0);  /* ordinary files are fine */
        }
        gofer_client_free(client);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

/* ---- a lying Gofer: the client must answer -EIO, never crash or leak ---- */

enum fake_reply {
    FAKE_WRONG_TAG,
    FAKE_WRONG_TYPE,
    FAKE_ERROR_WITHOUT_ERRNO,
    FAKE_GARBAGE_BODY,
    FAKE_TORN_MESSAGE,
    FAKE_OPEN_WITHOUT_FD,
    FAKE_TOO_MANY_ENTRIES,
    FAKE_HUGE_FRAME,
};

static void fake_gofer(int fd, enum fake_reply mode)
{
    static uint8_t buffer[PROTOCOL_MAX_MESSAGE_SIZE];
    static struct protocol_message incoming, outgoing;
    int fds[PROTOCOL_MAX_FDS];
    size_t fd_count;
    int length = transport_receive(fd, false, buffer, sizeof(buffer), fds, &fd_count);
    if (length <= 0 || protocol_decode(buffer, (size_t)length, &incoming) != 0)
        _exit(2);
    memset(&outgoing, 0, sizeof(outgoing));
    outgoing.type = (uint8_t)(incoming.type + 1);
    outgoing.tag = incoming.tag;
    static struct gofer_dirent entries[4] = {{.name = "a"}, {.name = "b"}, {.name = "c"}, {.name = "d"}};
    switch (mode) {
    case FAKE_WRONG_TAG: outgoing.tag++; break;
    case FAKE_WRONG_TYPE: outgoing.type = PROTOCOL_RCLUNK; break;
    case FAKE_ERROR_WITHOUT_ERRNO: outgoing.type = PROTOCOL_RERROR; break;
    case FAKE_TOO_MANY_ENTRIES:
        outgoing.readdir_reply.count = 4;
        outgoing.readdir_reply.entries = entries;
        break;
    default: break;
    }
    length = protocol_encode(&outgoing, buffer, sizeof(buffer));
    if (mode == FAKE_GARBAGE_BODY) {
        buffer[PROTOCOL_HEADER_SIZE] = 0xFF;  /* Rgetattr grows a byte it should not have */
        buffer[0] = (uint8_t)(length + 1);
        length++;
    }
    if (mode == FAKE_TORN_MESSAGE)
        length -= 3;
    if (mode == FAKE_HUGE_FRAME)
        buffer[3] = 0x10;
    transport_send(fd, buffer, (size_t)length, -1);
    _exit(0);
}

static void test_client_rejects_lying_replies(void **state)
{
    (void)state;
    for (enum fake_reply mode = FAKE_WRONG_TAG; mode <= FAKE_HUGE_FRAME; mode++) {
        int sockets[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(sockets[0]);
            fake_gofer(sockets[1], mode);
        }
        close(sockets[1]);
        struct gofer_client *client = gofer_client_new(sockets[0]);
        int result;
        if (mode == FAKE_OPEN_WITHOUT_FD) {
            int fd = -1;
            result = gofer_open(client, 1, O_RDONLY, &fd);
            assert_int_equal(fd, -1);
        } else if (mode == FAKE_TOO_MANY_ENTRIES) {
            struct gofer_dirent entries[2];
            size_t count = 0;
            result = gofer_readdir(client, 1, 0, entries, 2, &count);
            assert_int_equal(count, 0);
        } else {
            struct gofer_attr attr;
            result = gofer_getattr(client, 1, &attr);
        }
        assert_int_equal(result, -EIO);
        /* Once out of step, the client stays failed rather than misreading later replies. */
        assert_int_equal(gofer_getattr(client, 1, NULL), -EIO);
        gofer_client_free(client);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
}

/* ---- the whole Gofer process: confinement then serving ---- */

static void test_gofer_main_confines_itself_and_serves(void **state)
{
    struct harness *harness = *state;
    int sockets[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sockets[0]);
        struct gofer_config config = {.root_path = harness->root, .read_only = false};
        _exit(gofer_main(&config, sockets[1]));
    }
    close(sockets[1]);
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(sockets[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    struct gofer_client *client = gofer_client_new(sockets[0]);
    uint32_t root, hello, link;
    struct gofer_attr attr;
    assert_int_equal(gofer_attach(client, "/", &root, &attr), 0);
    assert_int_equal(gofer_walk(client, root, "hello.txt", &hello, NULL), 0);
    int fd;
    assert_int_equal(gofer_open(client, hello, O_RDONLY, &fd), 0);
    char content[32] = {0};
    assert_int_equal(read(fd, content, sizeof(content) - 1), strlen("hello gofer\n"));
    assert_string_equal(content, "hello gofer\n");
    close(fd);
    assert_int_equal(gofer_walk(client, root, "escape_link", &link, NULL), 0);
    assert_int_equal(gofer_open(client, link, O_RDONLY, &fd), -ELOOP);
    size_t count;
    struct gofer_dirent entries[16];
    assert_int_equal(gofer_readdir(client, root, 0, entries, ARRAY_SIZE(entries), &count), 0);
    assert_int_equal(gofer_mkdir(client, root, "made_by_main", 0755, -1, -1, NULL), 0);
    assert_true(host_exists(harness, "made_by_main"));
    uint32_t created;
    assert_int_equal(gofer_create(client, root, "created", O_RDWR, 0600, -1, -1, &created, NULL, &fd), 0);
    close(fd);
    struct gofer_setattr changes = {.mask = GOFER_SETATTR_MODE | GOFER_SETATTR_SIZE, .mode = 0640, .size = 10};
    assert_int_equal(gofer_setattr(client, created, &changes), 0);
    struct stat status;
    host_stat(harness, "created", &status);
    assert_int_equal(status.st_size, 10);

    /* While it serves, the kernel shows the confinement. */
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *proc = fopen(path, "re");
    assert_non_null(proc);
    bool no_new_privs = false, filtered = false;
    unsigned long long effective = ~0ull;
    while (fgets(line, sizeof(line), proc)) {
        if (strcmp(line, "NoNewPrivs:\t1\n") == 0)
            no_new_privs = true;
        if (strcmp(line, "Seccomp:\t2\n") == 0)
            filtered = true;
        sscanf(line, "CapEff:\t%llx", &effective);
    }
    fclose(proc);
    assert_true(no_new_privs);
    assert_true(filtered);
    if (geteuid() == 0) {
        assert_int_equal(effective & (1ull << 21), 0);  /* CAP_SYS_ADMIN gone */
        assert_int_equal(effective & (1ull << 18), 0);  /* CAP_SYS_CHROOT gone */
        snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
        char root_seen[PATH_MAX] = {0};
        ssize_t length = readlink(path, root_seen, sizeof(root_seen) - 1);
        if (length > 0)
            assert_string_equal(root_seen, harness->root);  /* chrooted into the served tree */
    }

    gofer_client_free(client);
    int exit_status;
    assert_int_equal(waitpid(pid, &exit_status, 0), pid);
    if (!WIFEXITED(exit_status))
        fail_msg("the Gofer died of signal %d", WTERMSIG(exit_status));
    assert_int_equal(WEXITSTATUS(exit_status), 0);
}

/* Bind mount sources served beside the root: a directory read-write, the same read-only, and a single file
 * (a symlink to it on the host is followed, as the source is the operator's). Each tree keeps its own
 * read-only flag, nothing links or renames between trees, and an unknown tree name is ENOENT. */
static void test_gofer_main_serves_bind_trees(void **state)
{
    struct harness *harness = *state;
    char outside[] = "/tmp/gofer-bind-XXXXXX";
    assert_non_null(mkdtemp(outside));
    write_file(outside, "data.txt", "bound\n", 0644);
    char file_path[PATH_MAX], link_path[PATH_MAX];
    snprintf(file_path, sizeof(file_path), "%s/data.txt", outside);
    snprintf(link_path, sizeof(link_path), "%s/link-to-data", outside);
    assert_int_equal(symlink(file_path, link_path), 0);
    int sockets[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(sockets[0]);
        const struct gofer_bind binds[] = {{outside, false}, {outside, true}, {link_path, true}};
        struct gofer_config config = {.root_path = harness->root, .binds = binds, .bind_count = 3};
        _exit(gofer_main(&config, sockets[1]));
    }
    close(sockets[1]);
    struct timeval timeout = {.tv_sec = 5};
    setsockopt(sockets[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    struct gofer_client *client = gofer_client_new(sockets[0]);
    uint32_t root, writable, read_only, file, data, nope;
    struct gofer_attr attr;
    assert_int_equal(gofer_attach(client, "/", &root, &attr), 0);
    assert_int_equal(gofer_attach(client, "bind:0", &writable, &attr), 0);
    assert_true(S_ISDIR(attr.mode));
    assert_int_equal(gofer_attach(client, "bind:1", &read_only, &attr), 0);
    assert_int_equal(gofer_attach(client, "bind:2", &file, &attr), 0);
    assert_true(S_ISREG(attr.mode));
    assert_int_equal(attr.size, strlen("bound\n"));
    assert_int_equal(gofer_attach(client, "bind:3", &nope, &attr), -ENOENT);
    assert_int_equal(gofer_attach(client, "../", &nope, &attr), -ENOENT);

    int fd;
    assert_int_equal(gofer_open(client, file, O_RDONLY, &fd), 0);
    char content[16] = {0};
    assert_int_equal(read(fd, content, sizeof(content) - 1), strlen("bound\n"));
    assert_string_equal(content, "bound\n");
    close(fd);
    assert_int_equal(gofer_open(client, file, O_RDWR, &fd), -EROFS);

    uint32_t created;
    assert_int_equal(gofer_create(client, writable, "new.txt", O_RDWR, 0644, -1, -1, &created, NULL, &fd), 0);
    close(fd);
    char new_path[PATH_MAX];
    snprintf(new_path, sizeof(new_path), "%s/new.txt", outside);
    assert_int_equal(access(new_path, F_OK), 0);
    assert_int_equal(gofer_mkdir(client, read_only, "dir", 0755, -1, -1, NULL), -EROFS);
    assert_int_equal(gofer_walk(client, read_only, "data.txt", &data, NULL), 0);
    assert_int_equal(gofer_open(client, data, O_WRONLY, &fd), -EROFS);
    assert_int_equal(gofer_unlink(client, read_only, "data.txt", 0), -EROFS);
    /* one host directory, two trees: still no crossing between them */
    assert_int_equal(gofer_rename(client, writable, "new.txt", root, "moved.txt"), -EXDEV);
    assert_int_equal(gofer_link(client, root, "linked.txt", created), -EXDEV);
    assert_false(host_exists(harness, "moved.txt"));
    assert_false(host_exists(harness, "linked.txt"));

    gofer_client_free(client);
    int exit_status;
    assert_int_equal(waitpid(pid, &exit_status, 0), pid);
    assert_true(WIFEXITED(exit_status));
    assert_int_equal(WEXITSTATUS(exit_status), 0);
    unlink(new_path);
    unlink(link_path);
    unlink(file_path);
    rmdir(outside);
}

static void test_gofer_main_fails_cleanly_without_a_root(void **state)
{
    (void)state;
    int sockets[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
    struct gofer_config config = {.root_path = "/nonexistent/gofer/root", .read_only = true};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(gofer_main(&config, sockets[1]));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
    close(sockets[0]);
    close(sockets[1]);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    alarm(60);  /* a hang fails the run instead of stalling it */
    log_set_level(LOG_LEVEL_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_attach_and_getattr, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_walk_open_and_read, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_readdir_pages_through_a_directory, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_readlink, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_are_never_followed, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_escaping_names_are_refused_by_the_client, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_create_and_write, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_mkdir_symlink_link_and_unlink, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_rename_keeps_fids_usable, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_setattr, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_special_files_are_refused, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_refuses_every_mutation, setup_read_only, teardown),
        cmocka_unit_test_setup_teardown(test_symlinks_are_never_followed, setup_read_only, teardown),
        cmocka_unit_test_setup_teardown(test_seqpacket_socket, setup_seqpacket, teardown),
        cmocka_unit_test_setup_teardown(test_client_survives_a_dead_server, setup_read_write, teardown),
        cmocka_unit_test_setup_teardown(test_server_refuses_escaping_names, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_server_fid_rules, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_messages_get_error_replies, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_unframeable_message_closes_the_connection, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_undersized_frame_closes_the_connection, setup_raw, teardown),
        cmocka_unit_test(test_kernel_interface_filesystems_are_refused),
        cmocka_unit_test(test_client_rejects_lying_replies),
        cmocka_unit_test_setup_teardown(test_gofer_main_confines_itself_and_serves, setup_raw, teardown),
        cmocka_unit_test_setup_teardown(test_gofer_main_serves_bind_trees, setup_raw, teardown),
        cmocka_unit_test(test_gofer_main_fails_cleanly_without_a_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
