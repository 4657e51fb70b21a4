/* common/log.c: the logger every component uses, to stderr or to a per-component file under --debug-log.
 * Logging must never allocate or fail loudly: it runs inside the seccomp-confined Sentry and Gofer. */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *log_component = "usandbox";
static enum log_level log_threshold = LOG_LEVEL_ERROR;
static int log_fd = STDERR_FILENO;

void log_set_component(const char *component) { log_component = component; }
void log_set_level(enum log_level level) { log_threshold = level; }
int log_file_descriptor(void) { return log_fd; }

int log_open_directory(const char *directory)
{
    char path[4096];
    int length = snprintf(path, sizeof(path), "%s/%s.log", directory, log_component);
    if (length < 0 || (size_t)length >= sizeof(path))
        return -ENAMETOOLONG;
    if (mkdir(directory, 0755) < 0 && errno != EEXIST)
        return -errno;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    log_fd = fd;
    return 0;
}

void log_message(enum log_level level, const char *format, ...)
{
    static const char *const level_names[] = {"E", "W", "I", "D"};
    if (level > log_threshold)
        return;
    char line[2048];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int used = snprintf(line, sizeof(line), "%s %ld.%06ld %s[%d]: ", level_names[level], (long)now.tv_sec,
                        now.tv_nsec / 1000, log_component, (int)getpid());
    va_list arguments;
    va_start(arguments, format);
    int more = vsnprintf(line + used, sizeof(line) - (size_t)used - 1, format, arguments);
    va_end(arguments);
    size_t length = (size_t)used + (more < 0 ? 0 : MIN((size_t)more, sizeof(line) - (size_t)used - 2));
    line[length++] = '\n';
    (void)write_all(log_fd, line, length);
}
