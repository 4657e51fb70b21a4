/* gofer: the only process that opens host files. It serves a 9P-style protocol over a Unix socket and
 * donates file descriptors (SCM_RIGHTS); this header is its public face: the client the Sentry uses and the
 * server entry points runsc/ starts. The wire codec is internal (gofer/protocol.h). */
#ifndef USANDBOX_GOFER_H
#define USANDBOX_GOFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* File attributes as the Gofer reports them (from fstatat on the host, never trusted for escaping paths). */
struct gofer_attr {
    uint64_t inode, device, link_count, size, blocks, raw_device;
    uint32_t mode, uid, gid, block_size;
    struct timespec access_time, modify_time, change_time;
};

/* Which fields of gofer_setattr to apply. */
enum {
    GOFER_SETATTR_MODE = 1 << 0,
    GOFER_SETATTR_UID = 1 << 1,
    GOFER_SETATTR_GID = 1 << 2,
    GOFER_SETATTR_SIZE = 1 << 3,
    GOFER_SETATTR_ACCESS_TIME = 1 << 4,  /* tv_nsec may be UTIME_NOW / UTIME_OMIT semantics via the mask */
    GOFER_SETATTR_MODIFY_TIME = 1 << 5,
};
struct gofer_setattr {
    uint32_t mask, mode, uid, gid;
    uint64_t size;
    struct timespec access_time, modify_time;
};

struct gofer_dirent {
    uint64_t inode;
    uint64_t next_cookie;  /* pass to the next gofer_readdir to continue after this entry */
    uint8_t type;          /* DT_* */
    char name[256];
};

/* ---- client (used by the Sentry's vfs) ----
 * Every call is a synchronous request/reply on the socket; errors are negative errno values from the host
 * operation, or -EIO when the Gofer's reply is malformed or the connection is gone (never a crash).
 * Fids are handles the client allocates; each walk/create yields a new fid the caller must clunk. */
struct gofer_client;
struct gofer_client *gofer_client_new(int socket_fd);  /* takes ownership of socket_fd */
void gofer_client_free(struct gofer_client *client);

int gofer_attach(struct gofer_client *client, const char *attach_name, uint32_t *root_fid, struct gofer_attr *attr);
/* Walk one component (not "", ".", "..", nor containing '/') from directory fid; never follows a symlink. */
int gofer_walk(struct gofer_client *client, uint32_t directory_fid, const char *name, uint32_t *new_fid,
               struct gofer_attr *attr);
int gofer_getattr(struct gofer_client *client, uint32_t fid, struct gofer_attr *attr);
int gofer_setattr(struct gofer_client *client, uint32_t fid, const struct gofer_setattr *changes);
/* Open the file behind fid with open(2) flags (O_ACCMODE, O_TRUNC, O_APPEND, O_DIRECTORY; never O_CREAT) and
 * receive the host fd. The fd is the Sentry's to read, write and close. */
int gofer_open(struct gofer_client *client, uint32_t fid, int flags, int *host_fd);
/* Create a regular file in a directory, open it, and return both its fid and its fd. */
int gofer_create(struct gofer_client *client, uint32_t directory_fid, const char *name, int flags, uint32_t mode,
                 uint32_t uid, uint32_t gid, uint32_t *new_fid, struct gofer_attr *attr, int *host_fd);
int gofer_mkdir(struct gofer_client *client, uint32_t directory_fid, const char *name, uint32_t mode, uint32_t uid,
                uint32_t gid, struct gofer_attr *attr);
int gofer_symlink(struct gofer_client *client, uint32_t directory_fid, const char *name, const char *target,
                  uint32_t uid, uint32_t gid, struct gofer_attr *attr);
int gofer_link(struct gofer_client *client, uint32_t directory_fid, const char *name, uint32_t target_fid);
int gofer_unlink(struct gofer_client *client, uint32_t directory_fid, const char *name, int flags /* AT_REMOVEDIR */);
int gofer_rename(struct gofer_client *client, uint32_t old_directory_fid, const char *old_name,
                 uint32_t new_directory_fid, const char *new_name);
/* Read up to max entries starting at cookie (0 = start); *count = 0 means end of directory. */
int gofer_readdir(struct gofer_client *client, uint32_t directory_fid, uint64_t cookie, struct gofer_dirent *entries,
                  size_t max, size_t *count);
/* Returns the target's length (not NUL-terminated, like readlink(2)), or -errno. */
ssize_t gofer_readlink(struct gofer_client *client, uint32_t fid, char *buffer, size_t size);
int gofer_clunk(struct gofer_client *client, uint32_t fid);

/* ---- server (the Gofer process) ---- */

/* A host file or directory the sandbox mounts somewhere (an OCI bind mount), served beside the root.
 * The Sentry attaches to it by name: GOFER_BIND_ATTACH_PREFIX followed by its index in gofer_config. */
#define GOFER_BIND_ATTACH_PREFIX "bind:"
struct gofer_bind {
    const char *host_path;  /* resolved on the host, symlinks followed, before the Gofer confines itself */
    bool read_only;
};
struct gofer_config {
    const char *root_path;  /* host directory served as "/" */
    bool read_only;         /* refuse every mutation with EROFS, open only O_RDONLY */
    const struct gofer_bind *binds;
    size_t bind_count;
};

/* One tree the server serves: a directory, or a single non-directory file (parent_fd >= 0). */
struct gofer_tree {
    const char *name;       /* the attach name: "/" for the root */
    int fd;                 /* O_PATH fd of the tree's top */
    int parent_fd;          /* a file's directory (O_PATH), through which its fid reopens; -1 for a directory */
    const char *file_name;  /* a file's name in parent_fd */
    bool read_only;
};
/* Serve requests on socket_fd until the peer closes. Returns 0 on orderly shutdown, -errno on a socket
 * failure. Malformed requests get an error reply. Links and renames between trees fail with EXDEV. */
int gofer_serve_trees(int socket_fd, const struct gofer_tree *trees, size_t tree_count);
/* gofer_serve_trees with the root alone (root_directory_fd: O_PATH|O_DIRECTORY). */
int gofer_serve(int socket_fd, int root_directory_fd, bool read_only);
/* The Gofer process's main: open the root and the bind sources, confine itself (chroot into root_path, no
 * capabilities beyond what file serving needs, seccomp filter via libseccomp) and serve. Returns a process
 * exit status. */
int gofer_main(const struct gofer_config *config, int socket_fd);

#endif
