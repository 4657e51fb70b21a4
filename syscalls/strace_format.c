/* syscalls/strace_format.c: the pure text formatters of --strace: errno and signal names, open flags, modes,
 * escaped buffers, results. No task memory is read here; syscalls/strace.c does that and calls these. */
#include <string.h>

#include "syscalls/strace_format.h"

/* Linux's highest errno (EHWPOISON); glibc's names and messages are the ones strace prints. */
#define LINUX_ERRNO_MAX 133

/* Errnos internal to the kernel that a tracer can still see, with strace's wording. */
static const struct {
    int error;
    const char *name;
    const char *description;
} restart_errors[] = {
    { 512, "ERESTARTSYS", "To be restarted if SA_RESTART is set" },
    { 513, "ERESTARTNOINTR", "To be restarted" },
    { 514, "ERESTARTNOHAND", "To be restarted if no handler" },
    { 515, "ENOIOCTLCMD", "No ioctl command" },
    { 516, "ERESTART_RESTARTBLOCK", "Interrupted by signal" },
};

const char *strace_errno_name(int error)
{
    if (error >= 1 && error <= LINUX_ERRNO_MAX)
        return strerrorname_np(error);
    for (size_t i = 0; i < ARRAY_SIZE(restart_errors); i++) {
        if (restart_errors[i].error == error)
            return restart_errors[i].name;
    }
    return NULL;
}

const char *strace_errno_description(int error)
{
    if (error >= 1 && error <= LINUX_ERRNO_MAX)
        return strerrordesc_np(error);
    for (size_t i = 0; i < ARRAY_SIZE(restart_errors); i++) {
        if (restart_errors[i].error == error)
            return restart_errors[i].description;
    }
    return NULL;
}

/* x86-64 numbering, spelled out so the host's libc cannot change what the sandbox's strace says. */
static const char *const signal_names[] = {
    [1] = "SIGHUP",   [2] = "SIGINT",     [3] = "SIGQUIT",  [4] = "SIGILL",   [5] = "SIGTRAP",
    [6] = "SIGABRT",  [7] = "SIGBUS",     [8] = "SIGFPE",   [9] = "SIGKILL",  [10] = "SIGUSR1",
    [11] = "SIGSEGV", [12] = "SIGUSR2",   [13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM",
    [16] = "SIGSTKFLT", [17] = "SIGCHLD", [18] = "SIGCONT", [19] = "SIGSTOP", [20] = "SIGTSTP",
    [21] = "SIGTTIN", [22] = "SIGTTOU",   [23] = "SIGURG",  [24] = "SIGXCPU", [25] = "SIGXFSZ",
    [26] = "SIGVTALRM", [27] = "SIGPROF", [28] = "SIGWINCH", [29] = "SIGIO",  [30] = "SIGPWR",
    [31] = "SIGSYS",
};
#define LINUX_SIGRTMIN 32
#define LINUX_SIGRTMAX 64

void strace_format_signal(struct text_buffer *out, int64_t signal)
{
    if (signal >= 1 && signal < (int64_t)ARRAY_SIZE(signal_names))
        text_buffer_append(out, "%s", signal_names[signal]);
    else if (signal == LINUX_SIGRTMIN)
        text_buffer_append(out, "SIGRTMIN");
    else if (signal > LINUX_SIGRTMIN && signal <= LINUX_SIGRTMAX)
        text_buffer_append(out, "SIGRT_%d", (int)(signal - LINUX_SIGRTMIN));
    else
        text_buffer_append(out, "%lld", (long long)signal);
}

/* Linux's x86-64 values: glibc defines some of them differently for user space (O_LARGEFILE is 0 there). */
#define LINUX_O_ACCMODE 03
#define LINUX_O_DSYNC 010000
#define LINUX_O_SYNC_ONLY 04000000   /* __O_SYNC: O_SYNC is this plus O_DSYNC */
#define LINUX_O_DIRECTORY 0200000
#define LINUX_O_TMPFILE_ONLY 020000000 /* __O_TMPFILE: O_TMPFILE is this plus O_DIRECTORY */

static const struct {
    uint64_t bits;
    const char *name;
} open_flag_names[] = {
    /* composite flags first, so that their parts are not named twice */
    { LINUX_O_TMPFILE_ONLY | LINUX_O_DIRECTORY, "O_TMPFILE" },
    { LINUX_O_SYNC_ONLY | LINUX_O_DSYNC, "O_SYNC" },
    { 0100, "O_CREAT" },
    { 0200, "O_EXCL" },
    { 0400, "O_NOCTTY" },
    { 01000, "O_TRUNC" },
    { 02000, "O_APPEND" },
    { 04000, "O_NONBLOCK" },
    { LINUX_O_DSYNC, "O_DSYNC" },
    { 020000, "O_ASYNC" },
    { 040000, "O_DIRECT" },
    { 0100000, "O_LARGEFILE" },
    { LINUX_O_DIRECTORY, "O_DIRECTORY" },
    { 0400000, "O_NOFOLLOW" },
    { 01000000, "O_NOATIME" },
    { 02000000, "O_CLOEXEC" },
    { 010000000, "O_PATH" },
};

void strace_format_open_flags(struct text_buffer *out, uint64_t flags, bool with_access_mode)
{
    static const char *const access_modes[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
    bool first = true;

    if (with_access_mode) {
        text_buffer_append(out, "%s", access_modes[flags & LINUX_O_ACCMODE]);
        flags &= ~(uint64_t)LINUX_O_ACCMODE;
        first = false;
    }
    for (size_t i = 0; i < ARRAY_SIZE(open_flag_names); i++) {
        if ((flags & open_flag_names[i].bits) != open_flag_names[i].bits)
            continue;
        text_buffer_append(out, "%s%s", first ? "" : "|", open_flag_names[i].name);
        flags &= ~open_flag_names[i].bits;
        first = false;
    }
    if (flags != 0 || first)
        text_buffer_append(out, "%s%#llo", first ? "" : "|", (unsigned long long)flags);
}

void strace_format_octal(struct text_buffer *out, uint64_t mode)
{
    text_buffer_append(out, "%#llo", (unsigned long long)mode);
}

void strace_format_fd(struct text_buffer *out, uint64_t fd)
{
    /* The kernel reads an int: only the low 32 bits count. */
    int value = (int)(uint32_t)fd;
    if (value == -100)
        text_buffer_append(out, "AT_FDCWD");
    else
        text_buffer_append(out, "%d", value);
}

void strace_format_pointer(struct text_buffer *out, uint64_t address)
{
    if (address == 0)
        text_buffer_append(out, "NULL");
    else
        text_buffer_append(out, "%#llx", (unsigned long long)address);
}

void strace_format_escaped(struct text_buffer *out, const void *bytes, size_t length, bool truncated)
{
    const unsigned char *data = bytes;
    text_buffer_append_bytes(out, "\"", 1);
    for (size_t i = 0; i < length; i++) {
        unsigned char c = data[i];
        switch (c) {
        case '"': text_buffer_append(out, "\\\""); continue;
        case '\\': text_buffer_append(out, "\\\\"); continue;
        case '\t': text_buffer_append(out, "\\t"); continue;
        case '\n': text_buffer_append(out, "\\n"); continue;
        case '\v': text_buffer_append(out, "\\v"); continue;
        case '\f': text_buffer_append(out, "\\f"); continue;
        case '\r': text_buffer_append(out, "\\r"); continue;
        default: break;
        }
        if (c >= 0x20 && c < 0x7f) {
            text_buffer_append_bytes(out, &c, 1);
            continue;
        }
        /* Shortest octal escape, unless a digit follows and would be read as part of it. */
        bool digit_follows = i + 1 < length && data[i + 1] >= '0' && data[i + 1] <= '7';
        if (digit_follows)
            text_buffer_append(out, "\\%03o", c);
        else
            text_buffer_append(out, "\\%o", c);
    }
    text_buffer_append_bytes(out, "\"", 1);
    if (truncated)
        text_buffer_append(out, "...");
}

/* Syscalls whose success value is an address, printed in hex as strace does. */
static bool result_is_address(uint64_t number)
{
    return number == 9 /* mmap */ || number == 12 /* brk */ || number == 25 /* mremap */ ||
           number == 30 /* shmat */;
}

void strace_format_result(struct text_buffer *out, uint64_t number, long result)
{
    /* Linux's convention: -4095..-1 are errors, anything else is a value (an mmap address may look negative). */
    if (result < 0 && result >= -4095) {
        int error = (int)-result;
        const char *name = strace_errno_name(error);
        const char *description = strace_errno_description(error);
        bool internal = error >= 512 && error <= 516;
        if (name)
            text_buffer_append(out, " = %s %s (%s)", internal ? "?" : "-1", name, description ? description : "");
        else
            text_buffer_append(out, " = -1 (errno %d)", error);
        return;
    }
    if (result_is_address(number))
        text_buffer_append(out, " = %#lx", (unsigned long)result);
    else
        text_buffer_append(out, " = %ld", result);
}
