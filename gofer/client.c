/* gofer/client.c: the Sentry's side of the Gofer protocol: synchronous requests, fid allocation, and the
 * host fds the Gofer donates. A Gofer reply is checked as carefully as a request is on the other side. */
#include "gofer/gofer.h"

#include "common/common.h"
#include "gofer/protocol.h"
#include "gofer/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct gofer_client {
    pthread_mutex_t lock;  /* one request in flight at a time: replies are matched by order and tag */
    int socket_fd;
    bool message_oriented;
    /* Set once the connection is gone or out of step; every later call fails fast with -EIO. */
    bool broken;
    bool version_negotiated;
    uint16_t next_tag;
    uint32_t next_fid;
    uint32_t *free_fids;
    size_t free_fid_count, free_fid_capacity;
    struct protocol_message request, reply;
    uint8_t buffer[PROTOCOL_MAX_MESSAGE_SIZE];
};

struct gofer_client *gofer_client_new(int socket_fd)
{
    struct gofer_client *client = calloc(1, sizeof(*client));
    if (!client) {
        close(socket_fd);
        return NULL;
    }
    pthread_mutex_init(&client->lock, NULL);
    client->socket_fd = socket_fd;
    client->message_oriented = transport_is_message_oriented(socket_fd);
    client->next_fid = 1;
    return client;
}

void gofer_client_free(struct gofer_client *client)
{
    if (!client)
        return;
    close(client->socket_fd);
    pthread_mutex_destroy(&client->lock);
    free(client->free_fids);
    free(client);
}

/* ---- fids ---- (called with the lock held) */

static int allocate_fid(struct gofer_client *client, uint32_t *fid)
{
    if (client->free_fid_count > 0) {
        *fid = client->free_fids[--client->free_fid_count];
        return 0;
    }
    if (client->next_fid == UINT32_MAX)
        return -ENFILE;
    *fid = client->next_fid++;
    return 0;
}

static void release_fid(struct gofer_client *client, uint32_t fid)
{
    if (client->free_fid_count == client->free_fid_capacity) {
        size_t capacity = MAX(client->free_fid_capacity * 2, (size_t)64);
        uint32_t *grown = realloc(client->free_fids, capacity * sizeof(*grown));
        if (!grown)
            return;  /* the number is simply never reused */
        client->free_fids = grown;
        client->free_fid_capacity = capacity;
    }
    client->free_fids[client->free_fid_count++] = fid;
}

/* ---- one request/reply ---- (called with the lock held) */

static int connection_lost(struct gofer_client *client, const char *why)
{
    if (!client->broken)
        log_error("gofer connection lost: %s", why);
    client->broken = true;
    return -EIO;
}

/* Sends client->request and decodes the answer into client->reply. Returns 0 when the reply is the
 * request's own reply type, the Gofer's -errno for an Rerror, or -EIO. When host_fd is not NULL a successful
 * reply must carry exactly one fd, which is stored there; stray fds are always closed. */
static int transact(struct gofer_client *client, int *host_fd)
{
    if (client->broken)
        return -EIO;
    struct protocol_message *request = &client->request;
    request->tag = client->next_tag;
    client->next_tag = (uint16_t)((client->next_tag + 1) % PROTOCOL_NO_TAG);
    int length = protocol_encode(request, client->buffer, sizeof(client->buffer));
    if (length < 0)
        return length;  /* the caller's arguments did not fit; nothing was sent */
    int error = transport_send(client->socket_fd, client->buffer, (size_t)length, -1);
    if (error)
        return connection_lost(client, strerror(-error));

    int fds[PROTOCOL_MAX_FDS];
    size_t fd_count;
    length = transport_receive(client->socket_fd, client->message_oriented, client->buffer,
                               sizeof(client->buffer), fds, &fd_count);
    if (length <= 0)
        return connection_lost(client, length == 0 ? "the Gofer hung up" : strerror(-length));
    struct protocol_message *reply = &client->reply;
    error = protocol_decode(client->buffer, (size_t)length, reply);
    if (!error && reply->tag != request->tag)
        error = -EBADMSG;
    if (!error && reply->type != PROTOCOL_RERROR && reply->type != request->type + 1)
        error = -EBADMSG;
    if (error) {
        transport_close_fds(fds, &fd_count);
        return connection_lost(client, "malformed reply");
    }
    if (reply->type == PROTOCOL_RERROR) {
        transport_close_fds(fds, &fd_count);
        uint32_t errno_value = reply->error.error;
        if (errno_value == 0 || errno_value > 4095)
            return connection_lost(client, "Rerror without a valid errno");
        return -(int)errno_value;
    }
    if (host_fd) {
        if (fd_count == 0)
            return connection_lost(client, "open reply without a file descriptor");
        *host_fd = fds[0];
        for (size_t i = 1; i < fd_count; i++)
            close(fds[i]);
        fd_count = 0;
    }
    transport_close_fds(fds, &fd_count);
    return 0;
}

static int negotiate_version(struct gofer_client *client)
{
    if (client->version_negotiated)
        return 0;
    client->request.type = PROTOCOL_TVERSION;
    client->request.version.max_message_size = PROTOCOL_MAX_MESSAGE_SIZE;
    strcpy(client->request.version.version, PROTOCOL_VERSION_STRING);
    int error = transact(client, NULL);
    if (error)
        return error;
    const struct protocol_message *reply = &client->reply;
    if (strcmp(reply->version.version, PROTOCOL_VERSION_STRING) != 0 ||
        reply->version.max_message_size < PROTOCOL_MIN_MESSAGE_SIZE ||
        reply->version.max_message_size > PROTOCOL_MAX_MESSAGE_SIZE)
        return connection_lost(client, "the Gofer speaks another protocol");
    client->version_negotiated = true;
    return 0;
}

/* Copies a caller's name into a request field after the same checks the Gofer makes. */
static int copy_name(char destination[PROTOCOL_NAME_MAX + 1], const char *name)
{
    if (!name)
        return -EINVAL;
    int error = protocol_check_name(name);
    if (error)
        return error;
    strcpy(destination, name);
    return 0;
}

static int copy_path(char destination[PROTOCOL_PATH_MAX + 1], const char *path)
{
    size_t length = strnlen(path, PROTOCOL_PATH_MAX + 1);
    if (length > PROTOCOL_PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(destination, path, length + 1);
    return 0;
}

static void copy_attr(struct gofer_attr *attr, const struct gofer_client *client)
{
    if (attr)
        *attr = client->reply.attr;
}

/* Requests that yield a new fid: allocate it, and give it back if the Gofer did not take it. */
static int transact_with_new_fid(struct gofer_client *client, uint32_t *fid_field, uint32_t *new_fid,
                                 int *host_fd)
{
    uint32_t fid;
    int error = allocate_fid(client, &fid);
    if (error)
        return error;
    *fid_field = fid;
    error = transact(client, host_fd);
    if (error) {
        if (!client->broken)
            release_fid(client, fid);
        return error;
    }
    *new_fid = fid;
    return 0;
}

#define LOCKED(client, body)                      \
    do {                                          \
        pthread_mutex_lock(&(client)->lock);      \
        memset(&(client)->request, 0, sizeof((client)->request)); \
        int locked_result_ = (body);              \
        pthread_mutex_unlock(&(client)->lock);    \
        return locked_result_;                    \
    } while (0)

/* ---- the API ---- */

static int attach_locked(struct gofer_client *client, const char *attach_name, uint32_t *root_fid,
                         struct gofer_attr *attr)
{
    int error = negotiate_version(client);
    if (error)
        return error;
    memset(&client->request, 0, sizeof(client->request));
    client->request.type = PROTOCOL_TATTACH;
    error = copy_path(client->request.attach.name, attach_name ? attach_name : "");
    if (!error)
        error = transact_with_new_fid(client, &client->request.attach.fid, root_fid, NULL);
    if (!error)
        copy_attr(attr, client);
    return error;
}

int gofer_attach(struct gofer_client *client, const char *attach_name, uint32_t *root_fid, struct gofer_attr *attr)
{
    LOCKED(client, attach_locked(client, attach_name, root_fid, attr));
}

static int walk_locked(struct gofer_client *client, uint32_t directory_fid, const char *name, uint32_t *new_fid,
                       struct gofer_attr *attr)
{
    client->request.type = PROTOCOL_TWALK;
    client->request.walk.directory_fid = directory_fid;
    int error = copy_name(client->request.walk.name, name);
    if (!error)
        error = transact_with_new_fid(client, &client->request.walk.new_fid, new_fid, NULL);
    if (!error)
        copy_attr(attr, client);
    return error;
}

int gofer_walk(struct gofer_client *client, uint32_t directory_fid, const char *name, uint32_t *new_fid,
               struct gofer_attr *attr)
{
    LOCKED(client, walk_locked(client, directory_fid, name, new_fid, attr));
}

static int getattr_locked(struct gofer_client *client, uint32_t fid, struct gofer_attr *attr)
{
    client->request.type = PROTOCOL_TGETATTR;
    client->request.getattr.fid = fid;
    int error = transact(client, NULL);
    if (!error)
        copy_attr(attr, client);
    return error;
}

int gofer_getattr(struct gofer_client *client, uint32_t fid, struct gofer_attr *attr)
{
    LOCKED(client, getattr_locked(client, fid, attr));
}

static int setattr_locked(struct gofer_client *client, uint32_t fid, const struct gofer_setattr *changes)
{
    if (!changes)
        return -EINVAL;
    client->request.type = PROTOCOL_TSETATTR;
    client->request.setattr.fid = fid;
    client->request.setattr.changes = *changes;
    return transact(client, NULL);
}

int gofer_setattr(struct gofer_client *client, uint32_t fid, const struct gofer_setattr *changes)
{
    LOCKED(client, setattr_locked(client, fid, changes));
}

static int open_locked(struct gofer_client *client, uint32_t fid, int flags, int *host_fd)
{
    if (!host_fd || (flags & (O_CREAT | O_EXCL | O_PATH)))
        return -EINVAL;
    client->request.type = PROTOCOL_TOPEN;
    client->request.open.fid = fid;
    client->request.open.flags = (uint32_t)flags;
    return transact(client, host_fd);
}

int gofer_open(struct gofer_client *client, uint32_t fid, int flags, int *host_fd)
{
    LOCKED(client, open_locked(client, fid, flags, host_fd));
}

static int create_locked(struct gofer_client *client, uint32_t directory_fid, const char *name, int flags,
                         uint32_t mode, uint32_t uid, uint32_t gid, uint32_t *new_fid, struct gofer_attr *attr,
                         int *host_fd)
{
    if (!host_fd)
        return -EINVAL;
    client->request.type = PROTOCOL_TCREATE;
    client->request.create.directory_fid = directory_fid;
    /* O_CREAT | O_EXCL are implied: the Gofer only ever creates a new file. */
    client->request.create.flags = (uint32_t)(flags & ~(O_CREAT | O_EXCL));
    client->request.create.mode = mode;
    client->request.create.uid = uid;
    client->request.create.gid = gid;
    int error = copy_name(client->request.create.name, name);
    if (!error)
        error = transact_with_new_fid(client, &client->request.create.new_fid, new_fid, host_fd);
    if (!error)
        copy_attr(attr, client);
    return error;
}

int gofer_create(struct gofer_client *client, uint32_t directory_fid, const char *name, int flags, uint32_t mode,
                 uint32_t uid, uint32_t gid, uint32_t *new_fid, struct gofer_attr *attr, int *host_fd)
{
    LOCKED(client, create_locked(client, directory_fid, name, flags, mode, uid, gid, new_fid, attr, host_fd));
}

static int mkdir_locked(struct gofer_client *client, uint32_t directory_fid, const char *name, uint32_t mode,
                        uint32_t uid, uint32_t gid, struct gofer_attr *attr)
{
    client->request.type = PROTOCOL_TMKDIR;
    client->request.mkdir.directory_fid = directory_fid;
    client->request.mkdir.mode = mode;
    client->request.mkdir.uid = uid;
    client->request.mkdir.gid = gid;
    int error = copy_name(client->request.mkdir.name, name);
    if (!error)
        error = transact(client, NULL);
    if (!error)
        copy_attr(attr, client);
    return error;
}

int gofer_mkdir(struct gofer_client *client, uint32_t directory_fid, const char *name, uint32_t mode, uint32_t uid,
                uint32_t gid, struct gofer_attr *attr)
{
    LOCKED(client, mkdir_locked(client, directory_fid, name, mode, uid, gid, attr));
}

static int symlink_locked(struct gofer_client *client, uint32_t directory_fid, const char *name,
                          const char *target, uint32_t uid, uint32_t gid, struct gofer_attr *attr)
{
    if (!target)
        return -EINVAL;
    if (target[0] == '\0')
        return -ENOENT;
    client->request.type = PROTOCOL_TSYMLINK;
    client->request.symlink.directory_fid = directory_fid;
    client->request.symlink.uid = uid;
    client->request.symlink.gid = gid;
    int error = copy_name(client->request.symlink.name, name);
    if (!error)
        error = copy_path(client->request.symlink.target, target);
    if (!error)
        error = transact(client, NULL);
    if (!error)
        copy_attr(attr, client);
    return error;
}

int gofer_symlink(struct gofer_client *client, uint32_t directory_fid, const char *name, const char *target,
                  uint32_t uid, uint32_t gid, struct gofer_attr *attr)
{
    LOCKED(client, symlink_locked(client, directory_fid, name, target, uid, gid, attr));
}

static int link_locked(struct gofer_client *client, uint32_t directory_fid, const char *name, uint32_t target_fid)
{
    client->request.type = PROTOCOL_TLINK;
    client->request.link.directory_fid = directory_fid;
    client->request.link.target_fid = target_fid;
    int error = copy_name(client->request.link.name, name);
    return error ? error : transact(client, NULL);
}

int gofer_link(struct gofer_client *client, uint32_t directory_fid, const char *name, uint32_t target_fid)
{
    LOCKED(client, link_locked(client, directory_fid, name, target_fid));
}

static int unlink_locked(struct gofer_client *client, uint32_t directory_fid, const char *name, int flags)
{
    if (flags & ~AT_REMOVEDIR)
        return -EINVAL;
    client->request.type = PROTOCOL_TUNLINK;
    client->request.unlink.directory_fid = directory_fid;
    client->request.unlink.flags = (uint32_t)flags;
    int error = copy_name(client->request.unlink.name, name);
    return error ? error : transact(client, NULL);
}

int gofer_unlink(struct gofer_client *client, uint32_t directory_fid, const char *name, int flags)
{
    LOCKED(client, unlink_locked(client, directory_fid, name, flags));
}

static int rename_locked(struct gofer_client *client, uint32_t old_directory_fid, const char *old_name,
                         uint32_t new_directory_fid, const char *new_name)
{
    client->request.type = PROTOCOL_TRENAME;
    client->request.rename.old_directory_fid = old_directory_fid;
    client->request.rename.new_directory_fid = new_directory_fid;
    int error = copy_name(client->request.rename.old_name, old_name);
    if (!error)
        error = copy_name(client->request.rename.new_name, new_name);
    return error ? error : transact(client, NULL);
}

int gofer_rename(struct gofer_client *client, uint32_t old_directory_fid, const char *old_name,
                 uint32_t new_directory_fid, const char *new_name)
{
    LOCKED(client, rename_locked(client, old_directory_fid, old_name, new_directory_fid, new_name));
}

static int readdir_locked(struct gofer_client *client, uint32_t directory_fid, uint64_t cookie,
                          struct gofer_dirent *entries, size_t max, size_t *count)
{
    if (!count || !entries || max == 0)
        return -EINVAL;
    *count = 0;
    client->request.type = PROTOCOL_TREADDIR;
    client->request.readdir.fid = directory_fid;
    client->request.readdir.cookie = cookie;
    client->request.readdir.max_entries = (uint32_t)MIN(max, (size_t)UINT32_MAX);
    int error = transact(client, NULL);
    if (error)
        return error;
    if (client->reply.readdir_reply.count > max)
        return connection_lost(client, "readdir reply with more entries than asked for");
    struct protocol_dirent_cursor cursor;
    protocol_dirent_cursor_init(&cursor, &client->reply);
    size_t filled = 0;
    while (filled < max && protocol_dirent_cursor_next(&cursor, &entries[filled]))
        filled++;
    *count = filled;
    return 0;
}

int gofer_readdir(struct gofer_client *client, uint32_t directory_fid, uint64_t cookie, struct gofer_dirent *entries,
                  size_t max, size_t *count)
{
    LOCKED(client, readdir_locked(client, directory_fid, cookie, entries, max, count));
}

static int readlink_locked(struct gofer_client *client, uint32_t fid, char *buffer, size_t size)
{
    if (!buffer && size)
        return -EINVAL;
    client->request.type = PROTOCOL_TREADLINK;
    client->request.readlink.fid = fid;
    int error = transact(client, NULL);
    if (error)
        return error;
    size_t length = MIN(strlen(client->reply.readlink_reply.target), size);
    if (length)
        memcpy(buffer, client->reply.readlink_reply.target, length);
    return (int)length;  /* at most PROTOCOL_PATH_MAX */
}

ssize_t gofer_readlink(struct gofer_client *client, uint32_t fid, char *buffer, size_t size)
{
    pthread_mutex_lock(&client->lock);
    memset(&client->request, 0, sizeof(client->request));
    ssize_t result = readlink_locked(client, fid, buffer, size);
    pthread_mutex_unlock(&client->lock);
    return result;
}

static int clunk_locked(struct gofer_client *client, uint32_t fid)
{
    client->request.type = PROTOCOL_TCLUNK;
    client->request.clunk.fid = fid;
    int error = transact(client, NULL);
    /* Only a fid the Gofer really dropped may be handed out again; a failed clunk (a double clunk, say)
     * must not put a number on the free list twice. */
    if (!error)
        release_fid(client, fid);
    return error;
}

int gofer_clunk(struct gofer_client *client, uint32_t fid)
{
    LOCKED(client, clunk_locked(client, fid));
}
