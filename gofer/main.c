/* gofer/main.c: the Gofer process's entry: it confines itself (chroot, capabilities, no_new_privs, seccomp)
 * before it reads a single request, so a compromised Gofer holds little more than the served tree. */
#include "gofer/gofer.h"

#include "common/common.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452  /* see server.c: glibc 2.36 predates it */
#endif

/* Every fid holds host fds, so the Gofer wants all the fds it is allowed; not fatal if it cannot have them. */
static void raise_fd_limit(void)
{
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur == limit.rlim_max)
        return;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) < 0)
        log_warning("cannot raise the fd limit: %s", strerror(errno));
}

static int compare_fds(const void *a, const void *b)
{
    int left = *(const int *)a, right = *(const int *)b;
    return (left > right) - (left < right);
}

/* Whatever fds the launcher leaked to us would be reachable by a compromised Gofer: keep only stdio, the
 * socket, the log and the trees' fds. */
static int close_inherited_fds(const int *served_fds, size_t served_count)
{
    size_t count = 0;
    int *keep = xcalloc(served_count + 4, sizeof(*keep));
    keep[count++] = STDIN_FILENO;
    keep[count++] = STDOUT_FILENO;
    keep[count++] = STDERR_FILENO;
    keep[count++] = log_file_descriptor();
    for (size_t i = 0; i < served_count; i++)
        keep[count++] = served_fds[i];
    qsort(keep, count, sizeof(keep[0]), compare_fds);
    unsigned int next = 0;
    int result = 0;
    for (size_t i = 0; i < count && result == 0; i++) {
        if (keep[i] < 0 || (unsigned int)keep[i] < next)
            continue;
        if ((unsigned int)keep[i] > next && close_range(next, (unsigned int)keep[i] - 1, 0) < 0)
            result = -errno;
        next = (unsigned int)keep[i] + 1;
    }
    free(keep);
    if (result == 0 && close_range(next, ~0u, 0) < 0)
        result = -errno;
    return result;
}

/* A bind mount's source is the operator's choice, named on the host: it is resolved here, with the host's
 * view, symlinks followed, before the Gofer confines itself; from then on only fds lead to it. A
 * non-directory is held through its directory (so that its fid can be reopened) and must be a regular
 * file: a device, socket or fifo on the host is not something the sandbox may open. */
static int open_bind_tree(const struct gofer_bind *bind, struct gofer_tree *tree, char *name)
{
    char *resolved = realpath(bind->host_path, NULL);
    if (!resolved) {
        log_error("bind mount source %s: %s", bind->host_path, strerror(errno));
        return -1;
    }
    tree->name = name;
    tree->read_only = bind->read_only;
    tree->parent_fd = -1;
    tree->file_name = NULL;
    tree->fd = open(resolved, O_PATH | O_CLOEXEC);
    struct stat status;
    int result = 0;
    if (tree->fd < 0 || fstat(tree->fd, &status) < 0) {
        log_error("bind mount source %s: %s", resolved, strerror(errno));
        result = -1;
    } else if (!S_ISDIR(status.st_mode) && !S_ISREG(status.st_mode)) {
        log_error("bind mount source %s: only directories and regular files can be bind mounted", resolved);
        result = -1;
    } else if (!S_ISDIR(status.st_mode)) {
        char *slash = strrchr(resolved, '/');
        tree->file_name = xstrdup(slash + 1);
        *slash = '\0';
        tree->parent_fd = open(resolved[0] ? resolved : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (tree->parent_fd < 0) {
            log_error("bind mount source %s: its directory: %s", bind->host_path, strerror(errno));
            result = -1;
        }
    }
    free(resolved);
    return result;
}

/* As root, make the served tree the whole visible filesystem. A private mount namespace first, so that
 * nothing mounted on the host later propagates into our view. An unprivileged Gofer cannot chroot; it
 * relies on resolving beneath the root fd (openat2) and on the seccomp filter. */
static int confine_filesystem(int root_fd)
{
    if (geteuid() != 0) {
        log_info("not running as root: no chroot, confinement relies on beneath-root resolution and seccomp");
        return 0;
    }
    if (unshare(CLONE_NEWNS) < 0) {
        log_error("unshare(CLONE_NEWNS): %s", strerror(errno));
        return -1;
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
        log_error("making mounts private: %s", strerror(errno));
        return -1;
    }
    /* chroot through the fd we already hold, so the path cannot be swapped between open and chroot. */
    if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
        log_error("chroot into the served root: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* What file serving needs: chown on behalf of the guest, reach and modify files whatever their modes
 * (the Sentry enforces the guest's permissions), link by fd (linkat AT_EMPTY_PATH), keep set-id bits on
 * chmod. Everything else (CAP_SYS_ADMIN, CAP_SYS_CHROOT once chrooted, CAP_MKNOD, ...) goes, from the
 * bounding set too. */
static int drop_capabilities(void)
{
    static const int kept[] = {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID};
    capng_get_caps_process();
    if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
        return 0;
    bool can_change_bounding_set = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
    bool had[ARRAY_SIZE(kept)];
    for (size_t i = 0; i < ARRAY_SIZE(kept); i++)
        had[i] = capng_have_capability(CAPNG_PERMITTED, (unsigned int)kept[i]);
    capng_clear(CAPNG_SELECT_ALL);
    for (size_t i = 0; i < ARRAY_SIZE(kept); i++) {
        if (had[i] && capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
                                   (unsigned int)kept[i]) < 0) {
            log_error("capng_update failed for capability %d", kept[i]);
            return -1;
        }
    }
    int result = capng_apply(can_change_bounding_set ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS);
    if (result < 0) {
        log_error("dropping capabilities failed (capng_apply returned %d)", result);
        return -1;
    }
    return 0;
}

static int allow(scmp_filter_ctx filter, int syscall_number, const char *name)
{
    int result = seccomp_rule_add(filter, SCMP_ACT_ALLOW, syscall_number, 0);
    if (result < 0)
        log_error("seccomp: cannot allow %s: %s", name, strerror(-result));
    return result;
}
#define ALLOW(filter, name) allow(filter, SCMP_SYS(name), #name)

/* Only what serving needs; anything else kills the whole Gofer. Notably absent: execve, socket, connect,
 * ptrace, mount, chroot, mknod, open without a directory fd, and clone (the Gofer is single-threaded). */
static int install_seccomp_filter(void)
{
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!filter) {
        log_error("seccomp_init failed");
        return -1;
    }
    int failed = 0;
    /* The connection to the Sentry: messages and donated fds; SO_TYPE is how the transport learns whether
     * the socket keeps record boundaries; shutdown hangs up on a garbled stream. */
    failed |= ALLOW(filter, recvmsg);
    failed |= ALLOW(filter, sendmsg);
    failed |= ALLOW(filter, shutdown);
    failed |= seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2, SCMP_A1(SCMP_CMP_EQ, SOL_SOCKET),
                               SCMP_A2(SCMP_CMP_EQ, SO_TYPE));
    /* Resolving beneath the root and reading files: openat2 (or openat where it is missing), fd duplication
     * and flag changes (fcntl), stat by fd, the filesystem type (fstatfs: procfs, sysfs and the like are
     * refused), directory listing (lseek to a cookie, getdents64), readlink. */
    failed |= ALLOW(filter, openat);
    failed |= ALLOW(filter, openat2);
    failed |= ALLOW(filter, close);
    failed |= ALLOW(filter, fcntl);
    failed |= ALLOW(filter, fstat);
    failed |= ALLOW(filter, newfstatat);
    failed |= ALLOW(filter, fstatfs);
    failed |= ALLOW(filter, statx);
    failed |= ALLOW(filter, lseek);
    failed |= ALLOW(filter, getdents64);
    failed |= ALLOW(filter, readlinkat);
    /* Mutations, all relative to directory fds or on fds (refused earlier in read-only mode). umask is set
     * to 0 once because the Sentry applies the guest's. */
    failed |= ALLOW(filter, mkdirat);
    failed |= ALLOW(filter, unlinkat);
    failed |= ALLOW(filter, renameat);
    failed |= ALLOW(filter, renameat2);
    failed |= ALLOW(filter, linkat);
    failed |= ALLOW(filter, symlinkat);
    failed |= ALLOW(filter, fchmodat);
    failed |= allow(filter, SYS_fchmodat2, "fchmodat2");
    failed |= ALLOW(filter, fchmod);
    failed |= ALLOW(filter, fchownat);
    failed |= ALLOW(filter, utimensat);
    failed |= ALLOW(filter, ftruncate);
    failed |= ALLOW(filter, umask);
    /* Logging (common/log.c): write to the log fd, timestamps and pid. */
    failed |= ALLOW(filter, write);
    failed |= ALLOW(filter, clock_gettime);
    failed |= ALLOW(filter, getpid);
    failed |= ALLOW(filter, gettid);
    /* malloc and glibc's internal locks; memory may never become executable, so no injected code runs. */
    failed |= ALLOW(filter, brk);
    failed |= seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    failed |= seccomp_rule_add(filter, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                               SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    failed |= ALLOW(filter, munmap);
    failed |= ALLOW(filter, mremap);
    failed |= ALLOW(filter, madvise);
    failed |= ALLOW(filter, futex);
    /* Leaving. */
    failed |= ALLOW(filter, rt_sigreturn);
    failed |= ALLOW(filter, exit);
    failed |= ALLOW(filter, exit_group);
#if defined(__SANITIZE_ADDRESS__)
    /* Sanitizer builds only: the ASan runtime tears down its alternate signal stack on the way out. */
    failed |= ALLOW(filter, sigaltstack);
#endif
    if (failed) {
        log_error("seccomp: building the Gofer filter failed");
        seccomp_release(filter);
        return -1;
    }
    int result = seccomp_load(filter);
    seccomp_release(filter);
    if (result < 0) {
        log_error("seccomp_load: %s", strerror(-result));
        return -1;
    }
    return 0;
}

int gofer_main(const struct gofer_config *config, int socket_fd)
{
    log_set_component("gofer");
    if (!config || !config->root_path || socket_fd < 0) {
        log_error("gofer_main: no root path or no socket");
        return 2;
    }
    size_t tree_count = 1 + config->bind_count;
    struct gofer_tree *trees = xcalloc(tree_count, sizeof(*trees));
    int *served_fds = xcalloc(2 * tree_count + 1, sizeof(*served_fds));
    size_t served_count = 0;
    served_fds[served_count++] = socket_fd;
    trees[0] = (struct gofer_tree){.name = "/", .parent_fd = -1, .read_only = config->read_only};
    trees[0].fd = open(config->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (trees[0].fd < 0) {
        log_error("cannot open the root %s: %s", config->root_path, strerror(errno));
        return 1;
    }
    served_fds[served_count++] = trees[0].fd;
    for (size_t i = 0; i < config->bind_count; i++) {
        struct text_buffer name = {0};
        text_buffer_append(&name, "%s%zu", GOFER_BIND_ATTACH_PREFIX, i);
        if (open_bind_tree(&config->binds[i], &trees[1 + i], name.data) < 0)
            return 1;
        served_fds[served_count++] = trees[1 + i].fd;
        served_fds[served_count++] = trees[1 + i].parent_fd;
    }
    raise_fd_limit();
    int error = close_inherited_fds(served_fds, served_count);
    if (error)
        log_warning("cannot close inherited fds: %s", strerror(-error));
    if (confine_filesystem(trees[0].fd) < 0 || drop_capabilities() < 0)
        return 1;
    /* no_new_privs before seccomp: required for an unprivileged filter, and no execve could gain rights. */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        log_error("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        return 1;
    }
    if (install_seccomp_filter() < 0)
        return 1;
    log_info("serving %s%s and %zu bind mount source(s)", config->root_path, config->read_only ? " read-only" : "",
             config->bind_count);
    error = gofer_serve_trees(socket_fd, trees, tree_count);
    if (error < 0) {
        log_error("serving stopped: %s", strerror(-error));
        return 1;
    }
    return 0;
}
