/* gofer/protocol.h: the Gofer wire format, shared by the client (Sentry side) and the server (Gofer side).
 * Internal to gofer/: everything outside the module goes through gofer.h. */
#ifndef USANDBOX_GOFER_PROTOCOL_H
#define USANDBOX_GOFER_PROTOCOL_H

#include "gofer/gofer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every message: u32 size (of the whole message, header included), u8 type, u16 tag, all little-endian,
 * then the fields of that type in order. Strings are u16 length + bytes, never NUL-terminated on the wire,
 * and may not contain NUL. A reply carries the tag of its request. */
#define PROTOCOL_HEADER_SIZE 7u
#define PROTOCOL_MAX_MESSAGE_SIZE (64u * 1024u)
/* Below this a peer could not carry a symlink request with a full-length target. */
#define PROTOCOL_MIN_MESSAGE_SIZE (8u * 1024u)
#define PROTOCOL_VERSION_STRING "usandbox.gofer.1"
#define PROTOCOL_VERSION_MAX 64u
#define PROTOCOL_NAME_MAX 255u   /* one path component, like NAME_MAX */
#define PROTOCOL_PATH_MAX 4095u  /* symlink targets and attach names, PATH_MAX without the NUL */
#define PROTOCOL_NO_TAG 0xFFFFu  /* never used by the client, so a reply to garbage cannot match a request */
/* Most fds that ride along with one message; anything beyond is closed on receipt. */
#define PROTOCOL_MAX_FDS 4u

enum protocol_type {
    PROTOCOL_RERROR = 1,
    PROTOCOL_TVERSION = 10,
    PROTOCOL_RVERSION,
    PROTOCOL_TATTACH,
    PROTOCOL_RATTACH,
    PROTOCOL_TWALK,
    PROTOCOL_RWALK,
    PROTOCOL_TGETATTR,
    PROTOCOL_RGETATTR,
    PROTOCOL_TSETATTR,
    PROTOCOL_RSETATTR,
    PROTOCOL_TOPEN,
    PROTOCOL_ROPEN,     /* carries the opened host fd as SCM_RIGHTS */
    PROTOCOL_TCREATE,
    PROTOCOL_RCREATE,   /* carries the created file's host fd as SCM_RIGHTS */
    PROTOCOL_TMKDIR,
    PROTOCOL_RMKDIR,
    PROTOCOL_TSYMLINK,
    PROTOCOL_RSYMLINK,
    PROTOCOL_TLINK,
    PROTOCOL_RLINK,
    PROTOCOL_TUNLINK,
    PROTOCOL_RUNLINK,
    PROTOCOL_TRENAME,
    PROTOCOL_RRENAME,
    PROTOCOL_TREADDIR,
    PROTOCOL_RREADDIR,
    PROTOCOL_TREADLINK,
    PROTOCOL_RREADLINK,
    PROTOCOL_TCLUNK,
    PROTOCOL_RCLUNK,
};

/* Fixed cost of one directory entry in an Rreaddir: inode, next cookie, type, name length. */
#define PROTOCOL_DIRENT_FIXED_SIZE (8u + 8u + 1u + 2u)
/* Fixed part of an Rreaddir: header and entry count. */
#define PROTOCOL_READDIR_REPLY_FIXED_SIZE (PROTOCOL_HEADER_SIZE + 4u)

struct protocol_header {
    uint32_t size;
    uint8_t type;
    uint16_t tag;
};

/* One decoded (or to-be-encoded) message. Strings are NUL-terminated copies; the union member matching
 * `type` is the live one. Replies without fields (Rsetattr, Ropen, Rlink, Runlink, Rrename, Rclunk) use none. */
struct protocol_message {
    uint8_t type;
    uint16_t tag;
    union {
        struct { uint32_t error; } error;  /* Rerror: a positive errno */
        struct { uint32_t max_message_size; char version[PROTOCOL_VERSION_MAX + 1]; } version;  /* T and R */
        struct { uint32_t fid; char name[PROTOCOL_PATH_MAX + 1]; } attach;
        struct { uint32_t directory_fid, new_fid; char name[PROTOCOL_NAME_MAX + 1]; } walk;
        struct { uint32_t fid; } getattr;
        struct { uint32_t fid; struct gofer_setattr changes; } setattr;
        struct { uint32_t fid, flags; } open;
        struct {
            uint32_t directory_fid, new_fid, flags, mode, uid, gid;
            char name[PROTOCOL_NAME_MAX + 1];
        } create;
        struct { uint32_t directory_fid, mode, uid, gid; char name[PROTOCOL_NAME_MAX + 1]; } mkdir;
        struct {
            uint32_t directory_fid, uid, gid;
            char name[PROTOCOL_NAME_MAX + 1];
            char target[PROTOCOL_PATH_MAX + 1];
        } symlink;
        struct { uint32_t directory_fid, target_fid; char name[PROTOCOL_NAME_MAX + 1]; } link;
        struct { uint32_t directory_fid, flags; char name[PROTOCOL_NAME_MAX + 1]; } unlink;
        struct {
            uint32_t old_directory_fid, new_directory_fid;
            char old_name[PROTOCOL_NAME_MAX + 1];
            char new_name[PROTOCOL_NAME_MAX + 1];
        } rename;
        struct { uint32_t fid, max_entries; uint64_t cookie; } readdir;
        struct { uint32_t fid; } readlink;
        struct { uint32_t fid; } clunk;
        /* Rattach, Rwalk, Rgetattr, Rcreate, Rmkdir, Rsymlink */
        struct gofer_attr attr;
        /* Rreaddir. Encoding reads `entries[0..count)`. Decoding validates every entry and leaves `encoded`
         * pointing into the decoded buffer; walk it with protocol_dirent_cursor. */
        struct {
            uint32_t count;
            const struct gofer_dirent *entries;
            const uint8_t *encoded;
            size_t encoded_length;
        } readdir_reply;
        struct { char target[PROTOCOL_PATH_MAX + 1]; } readlink_reply;
    };
};

/* Encode into buffer[0..capacity). Returns the message length, or -EMSGSIZE (does not fit, or exceeds
 * PROTOCOL_MAX_MESSAGE_SIZE), -ENAMETOOLONG (a string over its limit), -EINVAL (unknown type). */
int protocol_encode(const struct protocol_message *message, uint8_t *buffer, size_t capacity);

/* Check the framing of the first `length` bytes (at least PROTOCOL_HEADER_SIZE): -EMSGSIZE if the size field
 * exceeds PROTOCOL_MAX_MESSAGE_SIZE, -EPROTO if it is smaller than a header. Does not look at the type. */
int protocol_decode_header(const uint8_t *buffer, size_t length, struct protocol_header *header);

/* Decode exactly one whole message of `length` bytes. Returns 0, or -EPROTO (truncated, trailing bytes,
 * unknown type, bad directory entry), -EMSGSIZE (size field over the cap), -EINVAL (a string holding NUL),
 * -ENAMETOOLONG (a string over its limit). Never reads outside buffer[0..length). On failure `message` holds
 * whatever was decoded so far and must not be used, except message->tag after a good header. */
int protocol_decode(const uint8_t *buffer, size_t length, struct protocol_message *message);

/* Iterates the entries of a decoded Rreaddir. */
struct protocol_dirent_cursor {
    const uint8_t *next, *end;
    uint32_t remaining;
};
void protocol_dirent_cursor_init(struct protocol_dirent_cursor *cursor, const struct protocol_message *reply);
bool protocol_dirent_cursor_next(struct protocol_dirent_cursor *cursor, struct gofer_dirent *entry);

/* Wire size of one directory entry with this name length. */
static inline size_t protocol_dirent_size(size_t name_length) { return PROTOCOL_DIRENT_FIXED_SIZE + name_length; }

/* A single path component the server may resolve: not "", ".", "..", no '/', at most NAME_MAX bytes.
 * Returns 0, -EINVAL or -ENAMETOOLONG. */
int protocol_check_name(const char *name);

/* True for the types a client may send. */
bool protocol_is_request(uint8_t type);

#endif
