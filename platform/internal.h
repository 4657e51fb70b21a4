/* platform/internal.h: what the platform implementations share: the trampoline page's layout and the
 * stub seccomp filter builder (unit-tested on its own). */
#ifndef USANDBOX_PLATFORM_INTERNAL_H
#define USANDBOX_PLATFORM_INTERNAL_H

#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "platform/platform.h"

#define STUB_SYSCALL_ADDRESS STUB_CODE_ADDRESS
#define STUB_SYSCALL_RETURN_ADDRESS (STUB_CODE_ADDRESS + 2) /* the ip seccomp sees: after "syscall" */
#define STUB_FILTER_HEADER_OFFSET 0x80
#define STUB_FILTER_OFFSET 0x100
#define SECCOMP_SET_MODE_FILTER_VALUE 1 /* SECCOMP_SET_MODE_FILTER */

size_t stub_build_filter(struct sock_filter *program, size_t capacity, uint64_t allowed_instruction_pointer);
int stub_page_install(void);

#endif
