/* syscalls/strace.c: --strace lines: each syscall's name and arguments decoded from the task's memory at entry,
 * and again at exit with the buffers the call filled and the result. The pure formatting is strace_format.c. */
#include <errno.h>
#include <limits.h>

#include "syscalls/strace_format.h"
#include "syscalls/syscalls.h"

#define SYSCALL_NUMBER_OPEN 2
#define SYSCALL_NUMBER_EXECVE 59
#define SYSCALL_NUMBER_MQ_OPEN 240
#define SYSCALL_NUMBER_OPENAT 257
#define SYSCALL_NUMBER_OPEN_BY_HANDLE_AT 304
#define SYSCALL_NUMBER_EXECVEAT 322

/* A string in the task, shown whole up to limit bytes, or its address when it cannot be read. */
static void append_task_string(struct task *task, uint64_t address, size_t limit, struct text_buffer *line)
{
    char text[PATH_MAX];
    if (address == 0) {
        text_buffer_append(line, "NULL");
        return;
    }
    limit = MIN(limit, sizeof(text) - 1);
    long length = task_copy_string_in(task, address, text, limit + 1);
    if (length >= 0) {
        strace_format_escaped(line, text, (size_t)length, false);
        return;
    }
    /* Longer than limit: at least limit+1 bytes are readable, so a prefix of that size copies. */
    if (length == -ENAMETOOLONG && task_copy_in(task, text, address, limit) == 0) {
        strace_format_escaped(line, text, limit, true);
        return;
    }
    strace_format_pointer(line, address);
}

static void append_task_buffer(struct task *task, uint64_t address, uint64_t length, struct text_buffer *line)
{
    unsigned char bytes[STRACE_STRING_LIMIT];
    size_t shown = (size_t)MIN(length, (uint64_t)sizeof(bytes));
    if (address == 0 || task_copy_in(task, bytes, address, shown) != 0) {
        strace_format_pointer(line, address);
        return;
    }
    strace_format_escaped(line, bytes, shown, length > shown);
}

/* ["sh", "-c", ...]: the first few elements of a NULL-terminated array of strings. */
static void append_task_string_array(struct task *task, uint64_t address, struct text_buffer *line)
{
    if (address == 0) {
        text_buffer_append(line, "NULL");
        return;
    }
    /* One more element than shown, to know whether "..." is due. */
    uint64_t elements[STRACE_ARRAY_LIMIT + 1];
    size_t count = 0;
    bool unreadable = false;
    while (count < ARRAY_SIZE(elements)) {
        if (task_copy_in(task, &elements[count], address + count * sizeof(uint64_t), sizeof(uint64_t)) != 0) {
            unreadable = true;
            break;
        }
        if (elements[count] == 0)
            break;
        count++;
    }
    if (unreadable && count == 0) {
        strace_format_pointer(line, address);
        return;
    }
    text_buffer_append(line, "[");
    for (size_t i = 0; i < count && i < STRACE_ARRAY_LIMIT; i++) {
        if (i > 0)
            text_buffer_append(line, ", ");
        append_task_string(task, elements[i], STRACE_STRING_LIMIT, line);
    }
    if (count > STRACE_ARRAY_LIMIT || unreadable)
        text_buffer_append(line, ", ...");
    text_buffer_append(line, "]");
}

static bool open_flags_carry_access_mode(uint64_t number)
{
    return number == SYSCALL_NUMBER_OPEN || number == SYSCALL_NUMBER_OPENAT || number == SYSCALL_NUMBER_MQ_OPEN ||
           number == SYSCALL_NUMBER_OPEN_BY_HANDLE_AT;
}

/* at_exit: buffers the call filled are shown (result bytes); before, only their address. memory_valid is false
 * when the task's memory no longer holds what the arguments pointed to (after a successful execve). */
static void append_argument(struct task *task, const struct syscall_args *args, int index, enum syscall_argument_kind kind,
                            bool at_exit, long result, bool memory_valid, struct text_buffer *line)
{
    uint64_t value = args->arg[index];
    if (!memory_valid && (kind == SYSCALL_ARGUMENT_PATH || kind == SYSCALL_ARGUMENT_BUFFER_IN ||
                          kind == SYSCALL_ARGUMENT_BUFFER_OUT || kind == SYSCALL_ARGUMENT_STRING_ARRAY))
        kind = SYSCALL_ARGUMENT_POINTER;

    switch (kind) {
    case SYSCALL_ARGUMENT_NONE:
        break;
    case SYSCALL_ARGUMENT_INTEGER:
        text_buffer_append(line, "%lld", (long long)(int64_t)value);
        break;
    case SYSCALL_ARGUMENT_UNSIGNED:
        text_buffer_append(line, "%llu", (unsigned long long)value);
        break;
    case SYSCALL_ARGUMENT_HEX:
        text_buffer_append(line, "%#llx", (unsigned long long)value);
        break;
    case SYSCALL_ARGUMENT_FD:
        strace_format_fd(line, value);
        break;
    case SYSCALL_ARGUMENT_PATH:
        append_task_string(task, value, PATH_MAX - 1, line);
        break;
    case SYSCALL_ARGUMENT_POINTER:
        strace_format_pointer(line, value);
        break;
    case SYSCALL_ARGUMENT_BUFFER_IN:
        append_task_buffer(task, value, index < 5 ? args->arg[index + 1] : 0, line);
        break;
    case SYSCALL_ARGUMENT_BUFFER_OUT:
        if (at_exit && result > 0)
            append_task_buffer(task, value, (uint64_t)result, line);
        else
            strace_format_pointer(line, value);
        break;
    case SYSCALL_ARGUMENT_SIGNAL:
        strace_format_signal(line, (int)(uint32_t)value);
        break;
    case SYSCALL_ARGUMENT_OPEN_FLAGS:
        strace_format_open_flags(line, (uint32_t)value, open_flags_carry_access_mode(args->number));
        break;
    case SYSCALL_ARGUMENT_OCTAL:
        strace_format_octal(line, value);
        break;
    case SYSCALL_ARGUMENT_STRING_ARRAY:
        append_task_string_array(task, value, line);
        break;
    }
}

static void append_call(struct task *task, const struct syscall_args *args, bool at_exit, long result,
                        struct text_buffer *line)
{
    const struct syscall_description *description = syscall_describe(args->number);
    bool exec_succeeded = at_exit && result == 0 &&
                          (args->number == SYSCALL_NUMBER_EXECVE || args->number == SYSCALL_NUMBER_EXECVEAT);

    text_buffer_append(line, "%s(", syscall_name(args->number));
    if (!description || !description->name) {
        /* Linux gives it no prototype: show every register the call could have used. */
        for (int i = 0; i < 6; i++)
            text_buffer_append(line, "%s%#llx", i ? ", " : "", (unsigned long long)args->arg[i]);
    } else {
        for (int i = 0; i < 6 && description->arguments[i] != SYSCALL_ARGUMENT_NONE; i++) {
            if (i > 0)
                text_buffer_append(line, ", ");
            append_argument(task, args, i, description->arguments[i], at_exit, result, !exec_succeeded, line);
        }
    }
    text_buffer_append(line, ")");
}

void syscall_trace_enter(struct task *task, const struct syscall_args *args, struct text_buffer *line)
{
    append_call(task, args, false, 0, line);
}

void syscall_trace_exit(struct task *task, const struct syscall_args *args, long result, struct text_buffer *line)
{
    append_call(task, args, true, result, line);
    strace_format_result(line, args->number, result);
}
