/* gofer/protocol.c: encoding and decoding of Gofer messages, with every bound checked.
 * The decoder is the first thing untrusted Sentry bytes reach in the Gofer, so it trusts no length field. */
#include "gofer/protocol.h"

#include "common/common.h"

#include <errno.h>
#include <string.h>

/* ---- writing ----
 * Errors are sticky so a message can be emitted field by field and checked once at the end. */
struct writer {
    uint8_t *data;
    size_t capacity, length;
    int error;
};

static void put_bytes(struct writer *writer, const void *bytes, size_t count)
{
    if (writer->error)
        return;
    if (count > writer->capacity - writer->length) {
        writer->error = -EMSGSIZE;
        return;
    }
    memcpy(writer->data + writer->length, bytes, count);
    writer->length += count;
}

static void put_unsigned(struct writer *writer, uint64_t value, size_t width)
{
    uint8_t little_endian[8];
    for (size_t i = 0; i < width; i++)
        little_endian[i] = (uint8_t)(value >> (8 * i));
    put_bytes(writer, little_endian, width);
}

static void put_u8(struct writer *writer, uint8_t value) { put_unsigned(writer, value, 1); }
static void put_u16(struct writer *writer, uint16_t value) { put_unsigned(writer, value, 2); }
static void put_u32(struct writer *writer, uint32_t value) { put_unsigned(writer, value, 4); }
static void put_u64(struct writer *writer, uint64_t value) { put_unsigned(writer, value, 8); }

static void put_string(struct writer *writer, const char *string, size_t limit)
{
    size_t length = strnlen(string, limit + 1);
    if (length > limit) {
        if (!writer->error)
            writer->error = -ENAMETOOLONG;
        return;
    }
    put_u16(writer, (uint16_t)length);
    put_bytes(writer, string, length);
}

static void put_time(struct writer *writer, const struct timespec *time)
{
    put_u64(writer, (uint64_t)time->tv_sec);
    put_u32(writer, (uint32_t)time->tv_nsec);
}

static void put_attr(struct writer *writer, const struct gofer_attr *attr)
{
    put_u64(writer, attr->inode);
    put_u64(writer, attr->device);
    put_u64(writer, attr->link_count);
    put_u64(writer, attr->size);
    put_u64(writer, attr->blocks);
    put_u64(writer, attr->raw_device);
    put_u32(writer, attr->mode);
    put_u32(writer, attr->uid);
    put_u32(writer, attr->gid);
    put_u32(writer, attr->block_size);
    put_time(writer, &attr->access_time);
    put_time(writer, &attr->modify_time);
    put_time(writer, &attr->change_time);
}

static void put_dirent(struct writer *writer, const struct gofer_dirent *entry)
{
    put_u64(writer, entry->inode);
    put_u64(writer, entry->next_cookie);
    put_u8(writer, entry->type);
    put_string(writer, entry->name, PROTOCOL_NAME_MAX);
}

static int encode_body(struct writer *writer, const struct protocol_message *message)
{
    switch (message->type) {
    case PROTOCOL_RERROR:
        put_u32(writer, message->error.error);
        break;
    case PROTOCOL_TVERSION:
    case PROTOCOL_RVERSION:
        put_u32(writer, message->version.max_message_size);
        put_string(writer, message->version.version, PROTOCOL_VERSION_MAX);
        break;
    case PROTOCOL_TATTACH:
        put_u32(writer, message->attach.fid);
        put_string(writer, message->attach.name, PROTOCOL_PATH_MAX);
        break;
    case PROTOCOL_TWALK:
        put_u32(writer, message->walk.directory_fid);
        put_u32(writer, message->walk.new_fid);
        put_string(writer, message->walk.name, PROTOCOL_NAME_MAX);
        break;
    case PROTOCOL_TGETATTR:
        put_u32(writer, message->getattr.fid);
        break;
    case PROTOCOL_TSETATTR: {
        const struct gofer_setattr *changes = &message->setattr.changes;
        put_u32(writer, message->setattr.fid);
        put_u32(writer, changes->mask);
        put_u32(writer, changes->mode);
        put_u32(writer, changes->uid);
        put_u32(writer, changes->gid);
        put_u64(writer, changes->size);
        put_time(writer, &changes->access_time);
        put_time(writer, &changes->modify_time);
        break;
    }
    case PROTOCOL_TOPEN:
        put_u32(writer, message->open.fid);
        put_u32(writer, message->open.flags);
        break;
    case PROTOCOL_TCREATE:
        put_u32(writer, message->create.directory_fid);
        put_u32(writer, message->create.new_fid);
        put_string(writer, message->create.name, PROTOCOL_NAME_MAX);
        put_u32(writer, message->create.flags);
        put_u32(writer, message->create.mode);
        put_u32(writer, message->create.uid);
        put_u32(writer, message->create.gid);
        break;
    case PROTOCOL_TMKDIR:
        put_u32(writer, message->mkdir.directory_fid);
        put_string(writer, message->mkdir.name, PROTOCOL_NAME_MAX);
        put_u32(writer, message->mkdir.mode);
        put_u32(writer, message->mkdir.uid);
        put_u32(writer, message->mkdir.gid);
        break;
    case PROTOCOL_TSYMLINK:
        put_u32(writer, message->symlink.directory_fid);
        put_string(writer, message->symlink.name, PROTOCOL_NAME_MAX);
        put_string(writer, message->symlink.target, PROTOCOL_PATH_MAX);
        put_u32(writer, message->symlink.uid);
        put_u32(writer, message->symlink.gid);
        break;
    case PROTOCOL_TLINK:
        put_u32(writer, message->link.directory_fid);
        put_string(writer, message->link.name, PROTOCOL_NAME_MAX);
        put_u32(writer, message->link.target_fid);
        break;
    case PROTOCOL_TUNLINK:
        put_u32(writer, message->unlink.directory_fid);
        put_string(writer, message->unlink.name, PROTOCOL_NAME_MAX);
        put_u32(writer, message->unlink.flags);
        break;
    case PROTOCOL_TRENAME:
        put_u32(writer, message->rename.old_directory_fid);
        put_string(writer, message->rename.old_name, PROTOCOL_NAME_MAX);
        put_u32(writer, message->rename.new_directory_fid);
        put_string(writer, message->rename.new_name, PROTOCOL_NAME_MAX);
        break;
    case PROTOCOL_TREADDIR:
        put_u32(writer, message->readdir.fid);
        put_u64(writer, message->readdir.cookie);
        put_u32(writer, message->readdir.max_entries);
        break;
    case PROTOCOL_TREADLINK:
        put_u32(writer, message->readlink.fid);
        break;
    case PROTOCOL_TCLUNK:
        put_u32(writer, message->clunk.fid);
        break;
    case PROTOCOL_RATTACH:
    case PROTOCOL_RWALK:
    case PROTOCOL_RGETATTR:
    case PROTOCOL_RCREATE:
    case PROTOCOL_RMKDIR:
    case PROTOCOL_RSYMLINK:
        put_attr(writer, &message->attr);
        break;
    case PROTOCOL_RREADDIR:
        if (message->readdir_reply.count && !message->readdir_reply.entries)
            return -EINVAL;
        put_u32(writer, message->readdir_reply.count);
        for (uint32_t i = 0; i < message->readdir_reply.count && !writer->error; i++)
            put_dirent(writer, &message->readdir_reply.entries[i]);
        break;
    case PROTOCOL_RREADLINK:
        put_string(writer, message->readlink_reply.target, PROTOCOL_PATH_MAX);
        break;
    case PROTOCOL_RSETATTR:
    case PROTOCOL_ROPEN:
    case PROTOCOL_RLINK:
    case PROTOCOL_RUNLINK:
    case PROTOCOL_RRENAME:
    case PROTOCOL_RCLUNK:
        break;
    default:
        return -EINVAL;
    }
    return writer->error;
}

int protocol_encode(const struct protocol_message *message, uint8_t *buffer, size_t capacity)
{
    struct writer writer = {.data = buffer, .capacity = MIN(capacity, (size_t)PROTOCOL_MAX_MESSAGE_SIZE)};
    put_u32(&writer, 0);  /* size, patched below once known */
    put_u8(&writer, message->type);
    put_u16(&writer, message->tag);
    int error = encode_body(&writer, message);
    if (error)
        return error;
    uint32_t size = (uint32_t)writer.length;
    for (size_t i = 0; i < 4; i++)
        buffer[i] = (uint8_t)(size >> (8 * i));
    return (int)size;
}

/* ---- reading ----
 * Like the writer, errors are sticky: after the first failure every get returns zeros and nothing is read. */
struct reader {
    const uint8_t *data;
    size_t length, offset;
    int error;
};

static void fail(struct reader *reader, int error)
{
    if (!reader->error)
        reader->error = error;
}

static const uint8_t *take(struct reader *reader, size_t count)
{
    if (reader->error)
        return NULL;
    if (count > reader->length - reader->offset) {
        fail(reader, -EPROTO);
        return NULL;
    }
    const uint8_t *bytes = reader->data + reader->offset;
    reader->offset += count;
    return bytes;
}

static uint64_t get_unsigned(struct reader *reader, size_t width)
{
    const uint8_t *bytes = take(reader, width);
    uint64_t value = 0;
    for (size_t i = 0; bytes && i < width; i++)
        value |= (uint64_t)bytes[i] << (8 * i);
    return value;
}

static uint8_t get_u8(struct reader *reader) { return (uint8_t)get_unsigned(reader, 1); }
static uint16_t get_u16(struct reader *reader) { return (uint16_t)get_unsigned(reader, 2); }
static uint32_t get_u32(struct reader *reader) { return (uint32_t)get_unsigned(reader, 4); }
static uint64_t get_u64(struct reader *reader) { return get_unsigned(reader, 8); }

/* Copies a string into destination[0..limit] with a NUL; on failure destination is "". */
static void get_string(struct reader *reader, char *destination, size_t limit)
{
    destination[0] = '\0';
    uint16_t length = get_u16(reader);
    if (reader->error)
        return;
    if (length > limit) {
        fail(reader, -ENAMETOOLONG);
        return;
    }
    const uint8_t *bytes = take(reader, length);
    if (!bytes)
        return;
    if (memchr(bytes, '\0', length)) {
        fail(reader, -EINVAL);
        return;
    }
    memcpy(destination, bytes, length);
    destination[length] = '\0';
}

static void get_time(struct reader *reader, struct timespec *time)
{
    time->tv_sec = (time_t)get_u64(reader);
    time->tv_nsec = (long)get_u32(reader);
}

static void get_attr(struct reader *reader, struct gofer_attr *attr)
{
    attr->inode = get_u64(reader);
    attr->device = get_u64(reader);
    attr->link_count = get_u64(reader);
    attr->size = get_u64(reader);
    attr->blocks = get_u64(reader);
    attr->raw_device = get_u64(reader);
    attr->mode = get_u32(reader);
    attr->uid = get_u32(reader);
    attr->gid = get_u32(reader);
    attr->block_size = get_u32(reader);
    get_time(reader, &attr->access_time);
    get_time(reader, &attr->modify_time);
    get_time(reader, &attr->change_time);
}

/* A directory entry name the Sentry can use as one component: "." and ".." are fine (Linux lists them),
 * an empty name or one with '/' is not. */
static void get_dirent(struct reader *reader, struct gofer_dirent *entry)
{
    entry->inode = get_u64(reader);
    entry->next_cookie = get_u64(reader);
    entry->type = get_u8(reader);
    get_string(reader, entry->name, PROTOCOL_NAME_MAX);
    if (!reader->error && (entry->name[0] == '\0' || strchr(entry->name, '/')))
        fail(reader, -EPROTO);
}

static void decode_readdir_reply(struct reader *reader, struct protocol_message *message)
{
    uint32_t count = get_u32(reader);
    /* Cheap bound first, so a huge count cannot make us loop long over a short buffer. */
    if (!reader->error && count > (reader->length - reader->offset) / PROTOCOL_DIRENT_FIXED_SIZE) {
        fail(reader, -EPROTO);
        return;
    }
    size_t start = reader->offset;
    struct gofer_dirent scratch;
    for (uint32_t i = 0; i < count && !reader->error; i++)
        get_dirent(reader, &scratch);
    message->readdir_reply.count = count;
    message->readdir_reply.entries = NULL;
    message->readdir_reply.encoded = reader->data + start;
    message->readdir_reply.encoded_length = reader->offset - start;
}

static void decode_body(struct reader *reader, struct protocol_message *message)
{
    switch (message->type) {
    case PROTOCOL_RERROR:
        message->error.error = get_u32(reader);
        break;
    case PROTOCOL_TVERSION:
    case PROTOCOL_RVERSION:
        message->version.max_message_size = get_u32(reader);
        get_string(reader, message->version.version, PROTOCOL_VERSION_MAX);
        break;
    case PROTOCOL_TATTACH:
        message->attach.fid = get_u32(reader);
        get_string(reader, message->attach.name, PROTOCOL_PATH_MAX);
        break;
    case PROTOCOL_TWALK:
        message->walk.directory_fid = get_u32(reader);
        message->walk.new_fid = get_u32(reader);
        get_string(reader, message->walk.name, PROTOCOL_NAME_MAX);
        break;
    case PROTOCOL_TGETATTR:
        message->getattr.fid = get_u32(reader);
        break;
    case PROTOCOL_TSETATTR: {
        struct gofer_setattr *changes = &message->setattr.changes;
        message->setattr.fid = get_u32(reader);
        changes->mask = get_u32(reader);
        changes->mode = get_u32(reader);
        changes->uid = get_u32(reader);
        changes->gid = get_u32(reader);
        changes->size = get_u64(reader);
        get_time(reader, &changes->access_time);
        get_time(reader, &changes->modify_time);
        break;
    }
    case PROTOCOL_TOPEN:
        message->open.fid = get_u32(reader);
        message->open.flags = get_u32(reader);
        break;
    case PROTOCOL_TCREATE:
        message->create.directory_fid = get_u32(reader);
        message->create.new_fid = get_u32(reader);
        get_string(reader, message->create.name, PROTOCOL_NAME_MAX);
        message->create.flags = get_u32(reader);
        message->create.mode = get_u32(reader);
        message->create.uid = get_u32(reader);
        message->create.gid = get_u32(reader);
        break;
    case PROTOCOL_TMKDIR:
        message->mkdir.directory_fid = get_u32(reader);
        get_string(reader, message->mkdir.name, PROTOCOL_NAME_MAX);
        message->mkdir.mode = get_u32(reader);
        message->mkdir.uid = get_u32(reader);
        message->mkdir.gid = get_u32(reader);
        break;
    case PROTOCOL_TSYMLINK:
        message->symlink.directory_fid = get_u32(reader);
        get_string(reader, message->symlink.name, PROTOCOL_NAME_MAX);
        get_string(reader, message->symlink.target, PROTOCOL_PATH_MAX);
        message->symlink.uid = get_u32(reader);
        message->symlink.gid = get_u32(reader);
        break;
    case PROTOCOL_TLINK:
        message->link.directory_fid = get_u32(reader);
        get_string(reader, message->link.name, PROTOCOL_NAME_MAX);
        message->link.target_fid = get_u32(reader);
        break;
    case PROTOCOL_TUNLINK:
        message->unlink.directory_fid = get_u32(reader);
        get_string(reader, message->unlink.name, PROTOCOL_NAME_MAX);
        message->unlink.flags = get_u32(reader);
        break;
    case PROTOCOL_TRENAME:
        message->rename.old_directory_fid = get_u32(reader);
        get_string(reader, message->rename.old_name, PROTOCOL_NAME_MAX);
        message->rename.new_directory_fid = get_u32(reader);
        get_string(reader, message->rename.new_name, PROTOCOL_NAME_MAX);
        break;
    case PROTOCOL_TREADDIR:
        message->readdir.fid = get_u32(reader);
        message->readdir.cookie = get_u64(reader);
        message->readdir.max_entries = get_u32(reader);
        break;
    case PROTOCOL_TREADLINK:
        message->readlink.fid = get_u32(reader);
        break;
    case PROTOCOL_TCLUNK:
        message->clunk.fid = get_u32(reader);
        break;
    case PROTOCOL_RATTACH:
    case PROTOCOL_RWALK:
    case PROTOCOL_RGETATTR:
    case PROTOCOL_RCREATE:
    case PROTOCOL_RMKDIR:
    case PROTOCOL_RSYMLINK:
        get_attr(reader, &message->attr);
        break;
    case PROTOCOL_RREADDIR:
        decode_readdir_reply(reader, message);
        break;
    case PROTOCOL_RREADLINK:
        get_string(reader, message->readlink_reply.target, PROTOCOL_PATH_MAX);
        break;
    case PROTOCOL_RSETATTR:
    case PROTOCOL_ROPEN:
    case PROTOCOL_RLINK:
    case PROTOCOL_RUNLINK:
    case PROTOCOL_RRENAME:
    case PROTOCOL_RCLUNK:
        break;
    default:
        fail(reader, -EPROTO);
        return;
    }
    if (!reader->error && reader->offset != reader->length)
        fail(reader, -EPROTO);  /* trailing bytes: the peer and we disagree about the layout */
}

int protocol_decode_header(const uint8_t *buffer, size_t length, struct protocol_header *header)
{
    if (length < PROTOCOL_HEADER_SIZE)
        return -EPROTO;
    struct reader reader = {.data = buffer, .length = PROTOCOL_HEADER_SIZE};
    header->size = get_u32(&reader);
    header->type = get_u8(&reader);
    header->tag = get_u16(&reader);
    if (header->size > PROTOCOL_MAX_MESSAGE_SIZE)
        return -EMSGSIZE;
    if (header->size < PROTOCOL_HEADER_SIZE)
        return -EPROTO;
    return 0;
}

int protocol_decode(const uint8_t *buffer, size_t length, struct protocol_message *message)
{
    struct protocol_header header;
    int error = protocol_decode_header(buffer, length, &header);
    if (error)
        return error;
    message->type = header.type;
    message->tag = header.tag;
    if (header.size != length)
        return length > PROTOCOL_MAX_MESSAGE_SIZE ? -EMSGSIZE : -EPROTO;
    struct reader reader = {.data = buffer, .length = length, .offset = PROTOCOL_HEADER_SIZE};
    decode_body(&reader, message);
    return reader.error;
}

void protocol_dirent_cursor_init(struct protocol_dirent_cursor *cursor, const struct protocol_message *reply)
{
    cursor->next = reply->readdir_reply.encoded;
    cursor->end = cursor->next ? cursor->next + reply->readdir_reply.encoded_length : NULL;
    cursor->remaining = reply->readdir_reply.count;
}

bool protocol_dirent_cursor_next(struct protocol_dirent_cursor *cursor, struct gofer_dirent *entry)
{
    if (cursor->remaining == 0 || !cursor->next)
        return false;
    /* The decoder already validated these bytes; the reader keeps this safe even if a caller did not. */
    struct reader reader = {.data = cursor->next, .length = (size_t)(cursor->end - cursor->next)};
    get_dirent(&reader, entry);
    if (reader.error) {
        cursor->remaining = 0;
        return false;
    }
    cursor->next += reader.offset;
    cursor->remaining--;
    return true;
}

int protocol_check_name(const char *name)
{
    size_t length = strnlen(name, PROTOCOL_NAME_MAX + 1);
    if (length > PROTOCOL_NAME_MAX)
        return -ENAMETOOLONG;
    if (length == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || memchr(name, '/', length))
        return -EINVAL;
    return 0;
}

bool protocol_is_request(uint8_t type)
{
    return type >= PROTOCOL_TVERSION && type <= PROTOCOL_TCLUNK && (type - PROTOCOL_TVERSION) % 2 == 0;
}
