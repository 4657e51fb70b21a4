/* runsc/sandbox.c: one OCI container's sandbox: the Gofer over root.path, the Sentry pid 1 of a new pid
 * namespace with the config's process, user, limits and Sentry-served mounts, and its optional terminal. */
#include "runsc/sandbox.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "gofer/gofer.h"

/* mkdir -p of a mount point under the rootfs, as runc creates them before the root turns read-only. Walks
 * with O_NOFOLLOW so that a symlink in the rootfs never leads outside it; at a symlink it stops and leaves
 * the rest to the Sentry, which resolves symlinks inside the sandbox's root. */
static void make_mount_point(int root_fd, const char *destination)
{
    int directory = dup(root_fd);
    char copy[PATH_MAX];
    snprintf(copy, sizeof(copy), "%s", destination);
    char *saved = NULL;
    for (char *name = strtok_r(copy, "/", &saved); name && directory >= 0; name = strtok_r(NULL, "/", &saved)) {
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            break;
        if (mkdirat(directory, name, 0755) < 0 && errno != EEXIST)
            break;
        int next = openat(directory, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(directory);
        directory = next;
    }
    if (directory >= 0)
        close(directory);
}

/* A file bind mount needs a file to sit on: its directory as above, then an empty file unless something
 * (even a symlink, which the Sentry resolves inside the root) is already there. */
static void make_file_mount_point(int root_fd, const char *destination)
{
    char directory[PATH_MAX];
    snprintf(directory, sizeof(directory), "%s", destination);
    char *slash = strrchr(directory, '/');
    if (!slash || slash[1] == '\0')
        return;
    *slash = '\0';
    make_mount_point(root_fd, directory);
    int directory_fd = dup(root_fd);
    char *saved = NULL;
    for (char *name = strtok_r(directory, "/", &saved); name && directory_fd >= 0; name = strtok_r(NULL, "/", &saved)) {
        int next = strcmp(name, ".") == 0 || strcmp(name, "..") == 0
                       ? -1
                       : openat(directory_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(directory_fd);
        directory_fd = next;
    }
    if (directory_fd < 0)
        return;
    /* O_PATH fds cannot create: reopen the directory we reached through itself. */
    int writable = openat(directory_fd, ".", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (writable >= 0) {
        int file = openat(writable, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (file >= 0)
            close(file);
        close(writable);
    }
    close(directory_fd);
}

void sandbox_prepare_rootfs(const struct oci_config *config)
{
    int root_fd = open(config->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0)
        return;
    for (size_t i = 0; i < config->mount_count; i++) {
        const struct oci_mount *mount = &config->mounts[i];
        if (mount->kind == OCI_MOUNT_CGROUP)
            continue;
        /* Inside another Sentry mount (/dev/pts in /dev) the Sentry makes the directory in memory. */
        bool nested = false;
        for (size_t j = 0; j < i; j++) {
            size_t length = strlen(config->mounts[j].destination);
            if (strncmp(mount->destination, config->mounts[j].destination, length) == 0 &&
                (mount->destination[length] == '/' || length == 1))
                nested = true;
        }
        if (nested)
            continue;
        struct stat source;
        char *source_path = mount->kind == OCI_MOUNT_BIND ? oci_mount_host_source(config, mount) : NULL;
        if (source_path && stat(source_path, &source) == 0 && !S_ISDIR(source.st_mode))
            make_file_mount_point(root_fd, mount->destination);
        else
            make_mount_point(root_fd, mount->destination);
        free(source_path);
    }
    close(root_fd);
}

int sandbox_check_config(const struct oci_config *config, char *error, size_t error_size)
{
    struct stat root;
    if (stat(config->root_path, &root) < 0) {
        snprintf(error, error_size, "config.json: root.path: %s: %s", config->root_path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(root.st_mode)) {
        snprintf(error, error_size, "config.json: root.path: %s is not a directory", config->root_path);
        return -1;
    }
    return oci_config_check_supported(config, error, error_size);
}

/* What the Sentry serves for each OCI mount: its own in-memory file systems, and bind mounts through the
 * Gofer (the n-th bind mount is the Gofer's tree "bind:n"); never a host mount. */
static size_t translate_mounts(const struct oci_config *config, struct sentry_mount *mounts)
{
    size_t count = 0, bind_count = 0;
    for (size_t i = 0; i < config->mount_count; i++) {
        const struct oci_mount *mount = &config->mounts[i];
        struct sentry_mount *out = &mounts[count];
        out->destination = mount->destination;
        out->mode = mount->mode;
        switch (mount->kind) {
        case OCI_MOUNT_PROC: out->kind = SENTRY_MOUNT_PROCFS; break;
        case OCI_MOUNT_SYSFS: out->kind = SENTRY_MOUNT_SYSFS; break;
        case OCI_MOUNT_TMPFS:
            /* runc fills a /dev tmpfs with the standard device nodes; the Sentry's devfs is exactly that. */
            out->kind = strcmp(mount->destination, "/dev") == 0 ? SENTRY_MOUNT_DEVFS : SENTRY_MOUNT_TMPFS;
            break;
        case OCI_MOUNT_DEVPTS:  /* no pty support inside yet: an empty directory keeps /dev/pts present */
        case OCI_MOUNT_MQUEUE:  /* POSIX message queues live in a tmpfs-like directory */
            out->kind = SENTRY_MOUNT_TMPFS;
            break;
        case OCI_MOUNT_BIND: {
            struct text_buffer name = {0};
            text_buffer_append(&name, "%s%zu", GOFER_BIND_ATTACH_PREFIX, bind_count++);
            out->kind = SENTRY_MOUNT_BIND;
            out->gofer_tree = name.data;
            out->read_only = mount->read_only;
            break;
        }
        case OCI_MOUNT_CGROUP:  /* no cgroupfs inside yet: /sys/fs/cgroup stays as sysfs shows it */
            continue;
        }
        count++;
    }
    return count;
}

static int oci_sentry_process(const struct runsc_options *options, const struct oci_config *config, int gofer_socket,
                              bool wait_for_start, int start_fd, int ready_fd, int console_fd, int exec_control_fd)
{
    runsc_open_component_log(options, "sentry");
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setsid();
    if (console_fd >= 0) {
        for (int fd = 0; fd < 3; fd++)
            dup2(console_fd, fd);
        ioctl(0, TIOCSCTTY, 0);
        if (console_fd > 2)
            close(console_fd);
    }
    char hostname[65] = "usandbox";
    if (config->hostname)
        snprintf(hostname, sizeof(hostname), "%s", config->hostname);
    else
        gethostname(hostname, sizeof(hostname) - 1);
    if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
        fprintf(stderr, "usandbox: cannot create the Sentry's namespaces: %s\n", strerror(errno));
        return 125;
    }
    sethostname(hostname, strlen(hostname));
    procfs_capture_host_information_public();
    int error = runsc_sentry_isolate_mounts();
    if (error < 0) {
        fprintf(stderr, "usandbox: cannot isolate the Sentry's mounts: %s\n", strerror(-error));
        return 125;
    }
    capng_clear(CAPNG_SELECT_BOTH);
    if (capng_apply(CAPNG_SELECT_BOTH) < 0) {
        fprintf(stderr, "usandbox: cannot drop the Sentry's capabilities\n");
        return 125;
    }
    const struct oci_process *process = &config->process;
    struct sentry_mount *mounts = xcalloc(config->mount_count + 1, sizeof(*mounts));
    size_t mount_count = translate_mounts(config, mounts);
    struct sentry_rlimit *rlimits = xcalloc(process->rlimit_count + 1, sizeof(*rlimits));
    for (size_t i = 0; i < process->rlimit_count; i++) {
        rlimits[i].resource = process->rlimits[i].resource;
        rlimits[i].limit.rlim_cur = process->rlimits[i].soft;
        rlimits[i].limit.rlim_max = process->rlimits[i].hard;
    }
    struct sentry_config sentry = {
        .platform = options->platform,
        .gofer_socket = gofer_socket,
        .overlay = options->overlay,
        .root_read_only = config->root_readonly,
        .argv = process->args,
        .envp = process->env,
        .cwd = process->cwd,
        .uid = process->uid,
        .gid = process->gid,
        .hostname = hostname,
        .strace = options->strace,
        .groups = process->additional_gids,
        .group_count = process->additional_gid_count,
        .rlimits = rlimits,
        .rlimit_count = process->rlimit_count,
        .has_umask = process->has_umask,
        .umask = process->umask,
        .no_new_privileges = process->no_new_privileges,
        .custom_mounts = true,
        .mounts = mounts,
        .mount_count = mount_count,
        .wait_for_start = wait_for_start,
        .start_fd = start_fd,
        .ready_fd = ready_fd,
        .exec_control = exec_control_fd >= 0,
        .exec_control_fd = exec_control_fd,
    };
    int status = sentry_main(&sentry);
    if (status < 0) {
        fprintf(stderr, "usandbox: the sandbox could not start: %s\n", strerror(-status));
        return 125;
    }
    return status;
}

int sandbox_launch(const struct runsc_options *options, const struct oci_config *config, bool wait_for_start,
                   bool exec_control, int console_fd, struct sandbox *sandbox, char *error, size_t error_size)
{
    sandbox->gofer_pid = sandbox->sentry_pid = -1;
    sandbox->start_fd = sandbox->ready_fd = sandbox->exec_control_fd = -1;
    int sockets[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) < 0) {
        snprintf(error, error_size, "socketpair: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    sandbox->gofer_pid = fork();
    if (sandbox->gofer_pid < 0) {
        snprintf(error, error_size, "fork: %s", strerror(errno));
        close(sockets[0]);
        close(sockets[1]);
        return -1;
    }
    if (sandbox->gofer_pid == 0) {
        close(sockets[1]);
        if (console_fd >= 0) {
            close(console_fd);
            /* With a terminal, our stdio is the pipe an engine reads `create`'s output from until EOF
             * (containerd's shim): the Gofer, which lives as long as the container, must not hold it. */
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            for (int fd = 0; fd < 3 && null >= 0; fd++)
                dup2(null, fd);
            if (null > 2)
                close(null);
        }
        runsc_open_component_log(options, "gofer");
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setsid();
        /* Without root.readonly (and without --overlay) writes reach the rootfs, as with runc. */
        struct gofer_bind *binds = xcalloc(config->mount_count + 1, sizeof(*binds));
        size_t bind_count = 0;
        for (size_t i = 0; i < config->mount_count; i++) {
            if (config->mounts[i].kind != OCI_MOUNT_BIND)
                continue;
            binds[bind_count].host_path = oci_mount_host_source(config, &config->mounts[i]);
            binds[bind_count++].read_only = config->mounts[i].read_only;
        }
        struct gofer_config gofer = {.root_path = config->root_path,
                                     .read_only = config->root_readonly || options->overlay,
                                     .binds = binds,
                                     .bind_count = bind_count};
        _exit(gofer_main(&gofer, sockets[0]));
    }
    close(sockets[0]);

    int start_pipe[2] = {-1, -1}, ready_pipe[2] = {-1, -1};
    if (wait_for_start && (pipe2(start_pipe, O_CLOEXEC) < 0 || pipe2(ready_pipe, O_CLOEXEC) < 0)) {
        snprintf(error, error_size, "pipe: %s", strerror(errno));
        kill(sandbox->gofer_pid, SIGKILL);
        close(sockets[1]);
        return -1;
    }
    int control_pair[2] = {-1, -1};
    if (exec_control && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, control_pair) < 0) {
        snprintf(error, error_size, "socketpair: %s", strerror(errno));
        kill(sandbox->gofer_pid, SIGKILL);
        close(sockets[1]);
        return -1;
    }
    /* clone with CLONE_NEWPID rather than unshare: the caller stays in its own pid namespace and can keep
     * forking, and the Sentry is its direct child, so its exit status comes straight to us. */
    fflush(NULL);
    pid_t sentry = (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
    if (sentry < 0) {
        snprintf(error, error_size, "cannot create the sandbox's pid namespace: %s", strerror(errno));
        kill(sandbox->gofer_pid, SIGKILL);
        close(sockets[1]);
        if (control_pair[0] >= 0) {
            close(control_pair[0]);
            close(control_pair[1]);
        }
        return -1;
    }
    if (sentry == 0) {
        if (wait_for_start) {
            close(start_pipe[1]);
            close(ready_pipe[0]);
        }
        if (control_pair[0] >= 0)
            close(control_pair[0]);
        _exit(oci_sentry_process(options, config, sockets[1], wait_for_start, start_pipe[0], ready_pipe[1],
                                 console_fd, control_pair[1]));
    }
    sandbox->sentry_pid = sentry;
    close(sockets[1]);
    if (control_pair[1] >= 0) {
        close(control_pair[1]);
        sandbox->exec_control_fd = control_pair[0];
    }
    if (wait_for_start) {
        close(start_pipe[0]);
        close(ready_pipe[1]);
        sandbox->start_fd = start_pipe[1];
        sandbox->ready_fd = ready_pipe[0];
    }
    return 0;
}

int sandbox_wait(struct sandbox *sandbox)
{
    int status = 0;
    while (waitpid(sandbox->sentry_pid, &status, 0) < 0) {
        if (errno != EINTR)
            return 125;
    }
    sandbox->sentry_pid = -1;
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

void sandbox_stop_gofer(struct sandbox *sandbox)
{
    if (sandbox->gofer_pid <= 0)
        return;
    kill(sandbox->gofer_pid, SIGTERM);
    while (waitpid(sandbox->gofer_pid, NULL, 0) < 0 && errno == EINTR)
        ;
    sandbox->gofer_pid = -1;
}
