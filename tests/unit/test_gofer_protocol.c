/* tests/unit/test_gofer_protocol.c: the Gofer wire codec: every message round-trips, and no malformed,
 * truncated, oversized or random input makes the decoder read out of bounds or accept it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/common.h"
#include "gofer/protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

static const struct gofer_attr sample_attr = {
    .inode = 0x0102030405060708ull,
    .device = 0x1112131415161718ull,
    .link_count = 3,
    .size = 0xFFFFFFFFFFull,
    .blocks = 77,
    .raw_device = 0x0803,
    .mode = 0100644,
    .uid = 1000,
    .gid = 4294967294u,
    .block_size = 4096,
    .access_time = {.tv_sec = -5, .tv_nsec = 999999999},
    .modify_time = {.tv_sec = 1700000000, .tv_nsec = 1},
    .change_time = {.tv_sec = 0, .tv_nsec = 0},
};

static const struct gofer_dirent sample_entries[] = {
    {.inode = 1, .next_cookie = 10, .type = 4, .name = "."},
    {.inode = 2, .next_cookie = 20, .type = 4, .name = ".."},
    {.inode = 3, .next_cookie = 0x7FFFFFFFFFFFFFFFull, .type = 8, .name = "a file with spaces"},
};

static struct protocol_message *add_sample(struct protocol_message *messages, size_t *count, uint8_t type)
{
    struct protocol_message *message = &messages[(*count)++];
    memset(message, 0, sizeof(*message));
    message->type = type;
    message->tag = (uint16_t)(100 + *count);
    return message;
}

/* One message of every type, each with distinctive field values. */
static size_t sample_messages(struct protocol_message *messages)
{
    size_t count = 0;
    struct protocol_message *m;
    m = add_sample(messages, &count, PROTOCOL_RERROR);
    m->error.error = ENOENT;
    m = add_sample(messages, &count, PROTOCOL_TVERSION);
    m->version.max_message_size = 65536;
    strcpy(m->version.version, PROTOCOL_VERSION_STRING);
    m = add_sample(messages, &count, PROTOCOL_RVERSION);
    m->version.max_message_size = 8192;
    strcpy(m->version.version, "other");
    m = add_sample(messages, &count, PROTOCOL_TATTACH);
    m->attach.fid = 7;
    strcpy(m->attach.name, "/");
    m = add_sample(messages, &count, PROTOCOL_RATTACH);
    m->attr = sample_attr;
    m = add_sample(messages, &count, PROTOCOL_TWALK);
    m->walk.directory_fid = 1;
    m->walk.new_fid = 0xFFFFFFFEu;
    strcpy(m->walk.name, "etc");
    m = add_sample(messages, &count, PROTOCOL_RWALK);
    m->attr = sample_attr;
    m = add_sample(messages, &count, PROTOCOL_TGETATTR);
    m->getattr.fid = 42;
    m = add_sample(messages, &count, PROTOCOL_RGETATTR);
    m->attr = sample_attr;
    m = add_sample(messages, &count, PROTOCOL_TSETATTR);
    m->setattr.fid = 9;
    m->setattr.changes = (struct gofer_setattr){
        .mask = GOFER_SETATTR_MODE | GOFER_SETATTR_SIZE | GOFER_SETATTR_MODIFY_TIME,
        .mode = 0755,
        .uid = 1,
        .gid = 2,
        .size = 1ull << 40,
        .access_time = {.tv_sec = 3, .tv_nsec = UTIME_NOW},
        .modify_time = {.tv_sec = 4, .tv_nsec = UTIME_OMIT},
    };
    add_sample(messages, &count, PROTOCOL_RSETATTR);
    m = add_sample(messages, &count, PROTOCOL_TOPEN);
    m->open.fid = 5;
    m->open.flags = O_RDWR | O_TRUNC;
    add_sample(messages, &count, PROTOCOL_ROPEN);
    m = add_sample(messages, &count, PROTOCOL_TCREATE);
    m->create.directory_fid = 1;
    m->create.new_fid = 2;
    m->create.flags = O_WRONLY;
    m->create.mode = 0600;
    m->create.uid = 3;
    m->create.gid = 4;
    strcpy(m->create.name, "new");
    m = add_sample(messages, &count, PROTOCOL_RCREATE);
    m->attr = sample_attr;
    m = add_sample(messages, &count, PROTOCOL_TMKDIR);
    m->mkdir.directory_fid = 1;
    m->mkdir.mode = 0700;
    m->mkdir.uid = 5;
    m->mkdir.gid = 6;
    strcpy(m->mkdir.name, "dir");
    m = add_sample(messages, &count, PROTOCOL_RMKDIR);
    m->attr = sample_attr;
    m = add_sample(messages, &count, PROTOCOL_TSYMLINK);
    m->symlink.directory_fid = 8;
    m->symlink.uid = 9;
    m->symlink.gid = 10;
    strcpy(m->symlink.name, "link");
    memset(m->symlink.target, 'x', PROTOCOL_PATH_MAX);  /* the longest target allowed */
    m = add_sample(messages, &count, PROTOCOL_RSYMLINK);
    m->attr = sample_attr;
    m = add_sample(messages, &count, PROTOCOL_TLINK);
    m->link.directory_fid = 3;
    m->link.target_fid = 4;
    strcpy(m->link.name, "hard");
    add_sample(messages, &count, PROTOCOL_RLINK);
    m = add_sample(messages, &count, PROTOCOL_TUNLINK);
    m->unlink.directory_fid = 3;
    m->unlink.flags = AT_REMOVEDIR;
    strcpy(m->unlink.name, "gone");
    add_sample(messages, &count, PROTOCOL_RUNLINK);
    m = add_sample(messages, &count, PROTOCOL_TRENAME);
    m->rename.old_directory_fid = 1;
    m->rename.new_directory_fid = 2;
    strcpy(m->rename.old_name, "from");
    strcpy(m->rename.new_name, "to");
    add_sample(messages, &count, PROTOCOL_RRENAME);
    m = add_sample(messages, &count, PROTOCOL_TREADDIR);
    m->readdir.fid = 6;
    m->readdir.max_entries = 128;
    m->readdir.cookie = 1ull << 62;
    m = add_sample(messages, &count, PROTOCOL_RREADDIR);
    m->readdir_reply.count = ARRAY_SIZE(sample_entries);
    m->readdir_reply.entries = sample_entries;
    m = add_sample(messages, &count, PROTOCOL_TREADLINK);
    m->readlink.fid = 11;
    m = add_sample(messages, &count, PROTOCOL_RREADLINK);
    strcpy(m->readlink_reply.target, "../../..");
    m = add_sample(messages, &count, PROTOCOL_TCLUNK);
    m->clunk.fid = 12;
    add_sample(messages, &count, PROTOCOL_RCLUNK);
    return count;
}

#define MAX_SAMPLES 64
static struct protocol_message samples[MAX_SAMPLES];
static struct protocol_message decoded;
static uint8_t buffer[PROTOCOL_MAX_MESSAGE_SIZE];
static uint8_t second_buffer[PROTOCOL_MAX_MESSAGE_SIZE];

/* A heap copy of exactly `length` bytes, so that ASan catches any read past the end. */
static uint8_t *exact_copy(const uint8_t *bytes, size_t length)
{
    uint8_t *copy = malloc(length ? length : 1);
    assert_non_null(copy);
    if (length)
        memcpy(copy, bytes, length);
    return copy;
}

static int decode_exact(const uint8_t *bytes, size_t length, struct protocol_message *message)
{
    uint8_t *copy = exact_copy(bytes, length);
    int result = protocol_decode(copy, length, message);
    free(copy);
    return result;
}

static void put_le32(uint8_t *where, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        where[i] = (uint8_t)(value >> (8 * i));
}

static void assert_same_attr(const struct gofer_attr *a, const struct gofer_attr *b)
{
    assert_int_equal(a->inode, b->inode);
    assert_int_equal(a->device, b->device);
    assert_int_equal(a->link_count, b->link_count);
    assert_int_equal(a->size, b->size);
    assert_int_equal(a->blocks, b->blocks);
    assert_int_equal(a->raw_device, b->raw_device);
    assert_int_equal(a->mode, b->mode);
    assert_int_equal(a->uid, b->uid);
    assert_int_equal(a->gid, b->gid);
    assert_int_equal(a->block_size, b->block_size);
    assert_int_equal(a->access_time.tv_sec, b->access_time.tv_sec);
    assert_int_equal(a->access_time.tv_nsec, b->access_time.tv_nsec);
    assert_int_equal(a->modify_time.tv_sec, b->modify_time.tv_sec);
    assert_int_equal(a->modify_time.tv_nsec, b->modify_time.tv_nsec);
    assert_int_equal(a->change_time.tv_sec, b->change_time.tv_sec);
    assert_int_equal(a->change_time.tv_nsec, b->change_time.tv_nsec);
}

/* Field by field for the types with non-trivial layouts; the byte-exact re-encoding below covers the rest. */
static void assert_same_fields(const struct protocol_message *a, const struct protocol_message *b)
{
    switch (a->type) {
    case PROTOCOL_RERROR:
        assert_int_equal(a->error.error, b->error.error);
        break;
    case PROTOCOL_TVERSION:
    case PROTOCOL_RVERSION:
        assert_int_equal(a->version.max_message_size, b->version.max_message_size);
        assert_string_equal(a->version.version, b->version.version);
        break;
    case PROTOCOL_TATTACH:
        assert_int_equal(a->attach.fid, b->attach.fid);
        assert_string_equal(a->attach.name, b->attach.name);
        break;
    case PROTOCOL_TWALK:
        assert_int_equal(a->walk.directory_fid, b->walk.directory_fid);
        assert_int_equal(a->walk.new_fid, b->walk.new_fid);
        assert_string_equal(a->walk.name, b->walk.name);
        break;
    case PROTOCOL_TSETATTR:
        assert_int_equal(a->setattr.fid, b->setattr.fid);
        assert_int_equal(a->setattr.changes.mask, b->setattr.changes.mask);
        assert_int_equal(a->setattr.changes.mode, b->setattr.changes.mode);
        assert_int_equal(a->setattr.changes.uid, b->setattr.changes.uid);
        assert_int_equal(a->setattr.changes.gid, b->setattr.changes.gid);
        assert_int_equal(a->setattr.changes.size, b->setattr.changes.size);
        assert_int_equal(a->setattr.changes.access_time.tv_sec, b->setattr.changes.access_time.tv_sec);
        assert_int_equal(a->setattr.changes.access_time.tv_nsec, b->setattr.changes.access_time.tv_nsec);
        assert_int_equal(a->setattr.changes.modify_time.tv_sec, b->setattr.changes.modify_time.tv_sec);
        assert_int_equal(a->setattr.changes.modify_time.tv_nsec, b->setattr.changes.modify_time.tv_nsec);
        break;
    case PROTOCOL_TOPEN:
        assert_int_equal(a->open.fid, b->open.fid);
        assert_int_equal(a->open.flags, b->open.flags);
        break;
    case PROTOCOL_TCREATE:
        assert_memory_equal(&a->create, &b->create, offsetof(typeof(a->create), name));
        assert_string_equal(a->create.name, b->create.name);
        break;
    case PROTOCOL_TMKDIR:
        assert_memory_equal(&a->mkdir, &b->mkdir, offsetof(typeof(a->mkdir), name));
        assert_string_equal(a->mkdir.name, b->mkdir.name);
        break;
    case PROTOCOL_TSYMLINK:
        assert_int_equal(a->symlink.directory_fid, b->symlink.directory_fid);
        assert_int_equal(a->symlink.uid, b->symlink.uid);
        assert_int_equal(a->symlink.gid, b->symlink.gid);
        assert_string_equal(a->symlink.name, b->symlink.name);
        assert_string_equal(a->symlink.target, b->symlink.target);
        break;
    case PROTOCOL_TLINK:
        assert_int_equal(a->link.directory_fid, b->link.directory_fid);
        assert_int_equal(a->link.target_fid, b->link.target_fid);
        assert_string_equal(a->link.name, b->link.name);
        break;
    case PROTOCOL_TUNLINK:
        assert_int_equal(a->unlink.directory_fid, b->unlink.directory_fid);
        assert_int_equal(a->unlink.flags, b->unlink.flags);
        assert_string_equal(a->unlink.name, b->unlink.name);
        break;
    case PROTOCOL_TRENAME:
        assert_int_equal(a->rename.old_directory_fid, b->rename.old_directory_fid);
        assert_int_equal(a->rename.new_directory_fid, b->rename.new_directory_fid);
        assert_string_equal(a->rename.old_name, b->rename.old_name);
        assert_string_equal(a->rename.new_name, b->rename.new_name);
        break;
    case PROTOCOL_TREADDIR:
        assert_int_equal(a->readdir.fid, b->readdir.fid);
        assert_int_equal(a->readdir.cookie, b->readdir.cookie);
        assert_int_equal(a->readdir.max_entries, b->readdir.max_entries);
        break;
    case PROTOCOL_TGETATTR:
    case PROTOCOL_TREADLINK:
    case PROTOCOL_TCLUNK:
        assert_int_equal(a->getattr.fid, b->getattr.fid);
        break;
    case PROTOCOL_RATTACH:
    case PROTOCOL_RWALK:
    case PROTOCOL_RGETATTR:
    case PROTOCOL_RCREATE:
    case PROTOCOL_RMKDIR:
    case PROTOCOL_RSYMLINK:
        assert_same_attr(&a->attr, &b->attr);
        break;
    case PROTOCOL_RREADDIR: {
        assert_int_equal(a->readdir_reply.count, b->readdir_reply.count);
        struct protocol_dirent_cursor cursor;
        protocol_dirent_cursor_init(&cursor, b);
        struct gofer_dirent entry;
        for (uint32_t i = 0; i < a->readdir_reply.count; i++) {
            assert_true(protocol_dirent_cursor_next(&cursor, &entry));
            assert_int_equal(entry.inode, a->readdir_reply.entries[i].inode);
            assert_int_equal(entry.next_cookie, a->readdir_reply.entries[i].next_cookie);
            assert_int_equal(entry.type, a->readdir_reply.entries[i].type);
            assert_string_equal(entry.name, a->readdir_reply.entries[i].name);
        }
        assert_false(protocol_dirent_cursor_next(&cursor, &entry));
        break;
    }
    case PROTOCOL_RREADLINK:
        assert_string_equal(a->readlink_reply.target, b->readlink_reply.target);
        break;
    default:
        break;
    }
}

static void test_every_message_round_trips(void **state)
{
    (void)state;
    size_t count = sample_messages(samples);
    bool seen[256] = {false};
    for (size_t i = 0; i < count; i++) {
        int length = protocol_encode(&samples[i], buffer, sizeof(buffer));
        assert_true(length >= (int)PROTOCOL_HEADER_SIZE);
        assert_int_equal(buffer[0] | buffer[1] << 8 | buffer[2] << 16 | (uint32_t)buffer[3] << 24, length);
        memset(&decoded, 0xA5, sizeof(decoded));
        /* Kept until the end: a decoded Rreaddir points into it. */
        uint8_t *received = exact_copy(buffer, (size_t)length);
        assert_int_equal(protocol_decode(received, (size_t)length, &decoded), 0);
        assert_int_equal(decoded.type, samples[i].type);
        assert_int_equal(decoded.tag, samples[i].tag);
        assert_same_fields(&samples[i], &decoded);
        if (decoded.type == PROTOCOL_RREADDIR) {
            /* Re-encoding needs the entries as an array again. */
            static struct gofer_dirent entries[8];
            struct protocol_dirent_cursor cursor;
            protocol_dirent_cursor_init(&cursor, &decoded);
            size_t n = 0;
            while (n < 8 && protocol_dirent_cursor_next(&cursor, &entries[n]))
                n++;
            decoded.readdir_reply.entries = entries;
        }
        int second = protocol_encode(&decoded, second_buffer, sizeof(second_buffer));
        assert_int_equal(second, length);
        assert_memory_equal(buffer, second_buffer, (size_t)length);
        free(received);
        seen[samples[i].type] = true;
    }
    /* Every type the protocol defines has a sample. */
    assert_true(seen[PROTOCOL_RERROR]);
    for (int type = PROTOCOL_TVERSION; type <= PROTOCOL_RCLUNK; type++)
        assert_true(seen[type]);
}

static void test_request_types(void **state)
{
    (void)state;
    assert_true(protocol_is_request(PROTOCOL_TVERSION));
    assert_true(protocol_is_request(PROTOCOL_TWALK));
    assert_true(protocol_is_request(PROTOCOL_TCLUNK));
    assert_false(protocol_is_request(PROTOCOL_RWALK));
    assert_false(protocol_is_request(PROTOCOL_RERROR));
    assert_false(protocol_is_request(0));
    assert_false(protocol_is_request(255));
}

static void test_short_and_badly_sized_messages_are_rejected(void **state)
{
    (void)state;
    struct protocol_message message = {.type = PROTOCOL_TGETATTR, .tag = 3, .getattr.fid = 1};
    int length = protocol_encode(&message, buffer, sizeof(buffer));
    assert_int_equal(length, PROTOCOL_HEADER_SIZE + 4);
    for (size_t i = 0; i < PROTOCOL_HEADER_SIZE; i++)
        assert_int_equal(decode_exact(buffer, i, &decoded), -EPROTO);

    uint8_t bad[PROTOCOL_HEADER_SIZE + 4];
    memcpy(bad, buffer, sizeof(bad));
    put_le32(bad, PROTOCOL_MAX_MESSAGE_SIZE + 1);
    assert_int_equal(decode_exact(bad, sizeof(bad), &decoded), -EMSGSIZE);
    put_le32(bad, UINT32_MAX);
    assert_int_equal(decode_exact(bad, sizeof(bad), &decoded), -EMSGSIZE);
    put_le32(bad, 3);
    assert_int_equal(decode_exact(bad, sizeof(bad), &decoded), -EPROTO);
    put_le32(bad, sizeof(bad) + 1);  /* claims more than there is */
    assert_int_equal(decode_exact(bad, sizeof(bad), &decoded), -EPROTO);
    put_le32(bad, sizeof(bad) - 1);  /* claims less than there is */
    assert_int_equal(decode_exact(bad, sizeof(bad), &decoded), -EPROTO);

    struct protocol_header header;
    put_le32(bad, PROTOCOL_MAX_MESSAGE_SIZE + 1);
    assert_int_equal(protocol_decode_header(bad, sizeof(bad), &header), -EMSGSIZE);
    put_le32(bad, sizeof(bad));
    assert_int_equal(protocol_decode_header(bad, sizeof(bad), &header), 0);
    assert_int_equal(header.size, sizeof(bad));
    assert_int_equal(header.type, PROTOCOL_TGETATTR);
    assert_int_equal(header.tag, 3);
}

static void test_unknown_types_are_rejected(void **state)
{
    (void)state;
    const uint8_t unknown[] = {0, 2, 3, 9, PROTOCOL_RCLUNK + 1, 100, 255};
    for (size_t i = 0; i < sizeof(unknown); i++) {
        uint8_t message[PROTOCOL_HEADER_SIZE + 4] = {0};
        put_le32(message, sizeof(message));
        message[4] = unknown[i];
        message[5] = 0x34;
        message[6] = 0x12;
        assert_int_equal(decode_exact(message, sizeof(message), &decoded), -EPROTO);
        assert_int_equal(decoded.tag, 0x1234);  /* the tag survives for the error reply */
    }
    struct protocol_message message = {.type = 77};
    assert_int_equal(protocol_encode(&message, buffer, sizeof(buffer)), -EINVAL);
}

static void test_trailing_bytes_are_rejected(void **state)
{
    (void)state;
    struct protocol_message message = {.type = PROTOCOL_TCLUNK, .clunk.fid = 1};
    int length = protocol_encode(&message, buffer, sizeof(buffer));
    buffer[length] = 0;
    put_le32(buffer, (uint32_t)length + 1);
    assert_int_equal(decode_exact(buffer, (size_t)length + 1, &decoded), -EPROTO);
}

static void test_every_truncation_of_every_message_is_rejected(void **state)
{
    (void)state;
    size_t count = sample_messages(samples);
    for (size_t i = 0; i < count; i++) {
        int length = protocol_encode(&samples[i], buffer, sizeof(buffer));
        for (int cut = 0; cut < length; cut++) {
            /* As received: the size field still claims the full length. */
            assert_true(decode_exact(buffer, (size_t)cut, &decoded) < 0);
            /* As forged: the size field agrees with the cut, the body is short. */
            if (cut >= (int)PROTOCOL_HEADER_SIZE) {
                uint8_t *forged = exact_copy(buffer, (size_t)cut);
                put_le32(forged, (uint32_t)cut);
                int result = protocol_decode(forged, (size_t)cut, &decoded);
                free(forged);
                assert_true(result < 0);
            }
        }
    }
}

/* Builds a Twalk whose name field is the given raw bytes (length may lie). */
static size_t raw_walk(uint8_t *out, uint16_t claimed_length, const void *name, size_t name_length)
{
    size_t length = PROTOCOL_HEADER_SIZE + 4 + 4 + 2 + name_length;
    memset(out, 0, length);
    put_le32(out, (uint32_t)length);
    out[4] = PROTOCOL_TWALK;
    out[PROTOCOL_HEADER_SIZE + 8] = (uint8_t)claimed_length;
    out[PROTOCOL_HEADER_SIZE + 9] = (uint8_t)(claimed_length >> 8);
    memcpy(out + PROTOCOL_HEADER_SIZE + 10, name, name_length);
    return length;
}

static void test_bad_strings_are_rejected(void **state)
{
    (void)state;
    size_t length = raw_walk(buffer, 5, "ab\0cd", 5);
    assert_int_equal(decode_exact(buffer, length, &decoded), -EINVAL);

    char long_name[PROTOCOL_NAME_MAX + 1];
    memset(long_name, 'n', sizeof(long_name));
    length = raw_walk(buffer, sizeof(long_name), long_name, sizeof(long_name));
    assert_int_equal(decode_exact(buffer, length, &decoded), -ENAMETOOLONG);
    length = raw_walk(buffer, PROTOCOL_NAME_MAX, long_name, PROTOCOL_NAME_MAX);
    assert_int_equal(decode_exact(buffer, length, &decoded), 0);
    assert_int_equal(strlen(decoded.walk.name), PROTOCOL_NAME_MAX);

    /* A length field pointing past the end of the message. */
    length = raw_walk(buffer, 200, "abc", 3);
    assert_int_equal(decode_exact(buffer, length, &decoded), -EPROTO);
    length = raw_walk(buffer, 0xFFFF, "abc", 3);
    assert_true(decode_exact(buffer, length, &decoded) < 0);

    /* The encoder refuses what the decoder would refuse. */
    struct protocol_message message = {.type = PROTOCOL_TWALK};
    memset(message.walk.name, 'n', sizeof(message.walk.name));  /* no NUL within the limit */
    assert_int_equal(protocol_encode(&message, buffer, sizeof(buffer)), -ENAMETOOLONG);
    struct protocol_message symlink = {.type = PROTOCOL_TSYMLINK};
    strcpy(symlink.symlink.name, "s");
    memset(symlink.symlink.target, 't', sizeof(symlink.symlink.target));
    assert_int_equal(protocol_encode(&symlink, buffer, sizeof(buffer)), -ENAMETOOLONG);
}

static void test_encoder_respects_its_buffer(void **state)
{
    (void)state;
    size_t count = sample_messages(samples);
    for (size_t i = 0; i < count; i++) {
        int length = protocol_encode(&samples[i], buffer, sizeof(buffer));
        assert_true(length > 0);
        for (int capacity = 0; capacity < length; capacity++) {
            uint8_t *small = malloc((size_t)capacity + 1);
            assert_int_equal(protocol_encode(&samples[i], small, (size_t)capacity), -EMSGSIZE);
            free(small);
        }
    }
}

static void test_oversized_readdir_reply_cannot_be_encoded(void **state)
{
    (void)state;
    static struct gofer_dirent many[400];
    for (size_t i = 0; i < ARRAY_SIZE(many); i++) {
        memset(many[i].name, 'e', PROTOCOL_NAME_MAX);
        many[i].name[PROTOCOL_NAME_MAX] = '\0';
    }
    static uint8_t large[2 * PROTOCOL_MAX_MESSAGE_SIZE];
    struct protocol_message message = {.type = PROTOCOL_RREADDIR};
    message.readdir_reply.count = ARRAY_SIZE(many);
    message.readdir_reply.entries = many;
    assert_int_equal(protocol_encode(&message, large, sizeof(large)), -EMSGSIZE);
}

static void test_bad_directory_entries_are_rejected(void **state)
{
    (void)state;
    struct gofer_dirent entry = {.inode = 1, .next_cookie = 2, .type = 8, .name = "ok"};
    struct protocol_message message = {.type = PROTOCOL_RREADDIR};
    message.readdir_reply.count = 1;
    message.readdir_reply.entries = &entry;
    int length = protocol_encode(&message, buffer, sizeof(buffer));
    assert_int_equal(decode_exact(buffer, (size_t)length, &decoded), 0);

    /* The name field starts after header, count, inode, cookie, type and the name length. */
    size_t name_offset = PROTOCOL_HEADER_SIZE + 4 + 8 + 8 + 1 + 2;
    buffer[name_offset] = '/';
    assert_int_equal(decode_exact(buffer, (size_t)length, &decoded), -EPROTO);
    buffer[name_offset] = '\0';
    assert_int_equal(decode_exact(buffer, (size_t)length, &decoded), -EINVAL);

    struct gofer_dirent empty = {.name = ""};
    message.readdir_reply.entries = &empty;
    length = protocol_encode(&message, buffer, sizeof(buffer));
    assert_int_equal(decode_exact(buffer, (size_t)length, &decoded), -EPROTO);

    /* A count the bytes cannot possibly hold. */
    message.readdir_reply.entries = &entry;
    length = protocol_encode(&message, buffer, sizeof(buffer));
    put_le32(buffer + PROTOCOL_HEADER_SIZE, 0xFFFFFFFFu);
    assert_int_equal(decode_exact(buffer, (size_t)length, &decoded), -EPROTO);
    put_le32(buffer + PROTOCOL_HEADER_SIZE, 2);
    assert_int_equal(decode_exact(buffer, (size_t)length, &decoded), -EPROTO);
}

static void test_name_checks(void **state)
{
    (void)state;
    assert_int_equal(protocol_check_name("file"), 0);
    assert_int_equal(protocol_check_name("...") , 0);
    assert_int_equal(protocol_check_name(".hidden"), 0);
    assert_int_equal(protocol_check_name(""), -EINVAL);
    assert_int_equal(protocol_check_name("."), -EINVAL);
    assert_int_equal(protocol_check_name(".."), -EINVAL);
    assert_int_equal(protocol_check_name("a/b"), -EINVAL);
    assert_int_equal(protocol_check_name("/"), -EINVAL);
    char name[PROTOCOL_NAME_MAX + 2];
    memset(name, 'a', sizeof(name));
    name[PROTOCOL_NAME_MAX] = '\0';
    assert_int_equal(protocol_check_name(name), 0);
    name[PROTOCOL_NAME_MAX] = 'a';
    name[PROTOCOL_NAME_MAX + 1] = '\0';
    assert_int_equal(protocol_check_name(name), -ENAMETOOLONG);
}

/* Random bytes, and random corruptions of valid messages, must only ever yield 0 or a negative errno. */
static void test_random_input_never_crashes(void **state)
{
    (void)state;
    srand(12345);
    size_t count = sample_messages(samples);
    for (int round = 0; round < 20000; round++) {
        size_t length;
        if (round % 2 == 0) {
            length = (size_t)rand() % 300;
            for (size_t i = 0; i < length; i++)
                buffer[i] = (uint8_t)rand();
            if (length >= PROTOCOL_HEADER_SIZE && rand() % 2) {
                /* Make the framing right so the body decoder gets exercised. */
                put_le32(buffer, (uint32_t)length);
                buffer[4] = (uint8_t)(rand() % (PROTOCOL_RCLUNK + 2));
            }
        } else {
            const struct protocol_message *sample = &samples[(size_t)rand() % count];
            int encoded = protocol_encode(sample, buffer, sizeof(buffer));
            length = (size_t)encoded;
            int flips = 1 + rand() % 4;
            for (int i = 0; i < flips; i++) {
                /* Flip body bits mostly; the header's type and tag only when there is no body. */
                size_t at = length > PROTOCOL_HEADER_SIZE
                                ? PROTOCOL_HEADER_SIZE + (size_t)rand() % (length - PROTOCOL_HEADER_SIZE)
                                : 4 + (size_t)rand() % 3;
                buffer[at] ^= (uint8_t)(1u << (rand() % 8));
            }
            if (rand() % 3 == 0)
                length = (size_t)rand() % (length + 1);
            if (length >= PROTOCOL_HEADER_SIZE)
                put_le32(buffer, (uint32_t)length);
        }
        int result = decode_exact(buffer, length, &decoded);
        assert_true(result == 0 || result == -EPROTO || result == -EINVAL || result == -EMSGSIZE ||
                    result == -ENAMETOOLONG);
        if (result == 0 && decoded.type == PROTOCOL_RREADDIR) {
            /* The decoded view points into the freed copy; decode again in place and walk it. */
            assert_int_equal(protocol_decode(buffer, length, &decoded), 0);
            struct protocol_dirent_cursor cursor;
            struct gofer_dirent entry;
            protocol_dirent_cursor_init(&cursor, &decoded);
            uint32_t seen = 0;
            while (protocol_dirent_cursor_next(&cursor, &entry))
                seen++;
            assert_int_equal(seen, decoded.readdir_reply.count);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_message_round_trips),
        cmocka_unit_test(test_request_types),
        cmocka_unit_test(test_short_and_badly_sized_messages_are_rejected),
        cmocka_unit_test(test_unknown_types_are_rejected),
        cmocka_unit_test(test_trailing_bytes_are_rejected),
        cmocka_unit_test(test_every_truncation_of_every_message_is_rejected),
        cmocka_unit_test(test_bad_strings_are_rejected),
        cmocka_unit_test(test_encoder_respects_its_buffer),
        cmocka_unit_test(test_oversized_readdir_reply_cannot_be_encoded),
        cmocka_unit_test(test_bad_directory_entries_are_rejected),
        cmocka_unit_test(test_name_checks),
        cmocka_unit_test(test_random_input_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
