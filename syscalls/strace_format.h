/* syscalls/strace_format.h: the pure formatters behind --strace (no task, no Sentry), so that unit tests can
 * link syscalls/strace_format.c alone. Internal to syscalls/. */
#ifndef USANDBOX_SYSCALLS_STRACE_FORMAT_H
#define USANDBOX_SYSCALLS_STRACE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/* How many bytes of a buffer or string argument are shown before "...". */
#define STRACE_STRING_LIMIT 32
/* How many elements of an argv-like array are shown before "...". */
#define STRACE_ARRAY_LIMIT 4

const char *strace_errno_name(int error);        /* "ENOENT"; NULL when Linux has no such errno */
const char *strace_errno_description(int error); /* "No such file or directory"; NULL when unknown */

void strace_format_signal(struct text_buffer *out, int64_t signal); /* SIGINT, SIGRTMIN, SIGRT_3, or decimal */
/* O_RDONLY|O_CLOEXEC. with_access_mode: the open family, whose flags always carry an access mode; otherwise
 * (pipe2, dup3) a zero prints as 0. Bits no name covers are appended in octal. */
void strace_format_open_flags(struct text_buffer *out, uint64_t flags, bool with_access_mode);
void strace_format_octal(struct text_buffer *out, uint64_t mode);   /* 0644, 0 */
void strace_format_fd(struct text_buffer *out, uint64_t fd);        /* 3, AT_FDCWD */
void strace_format_pointer(struct text_buffer *out, uint64_t address); /* 0x7ffd..., NULL */
/* "bytes" C-escaped in quotes; when truncated, "..." follows the closing quote. */
void strace_format_escaped(struct text_buffer *out, const void *bytes, size_t length, bool truncated);
/* " = 3", " = 0x7f...", " = -1 ENOENT (No such file or directory)", " = ? ERESTARTSYS (...)". */
void strace_format_result(struct text_buffer *out, uint64_t number, long result);

#endif
