/* common/memory_file.c: the memory file: one memfd holding every application page of the sandbox and the
 * data of its in-memory files, mapped whole into the Sentry; and the shared, counted regions carved from it. */
#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Sparse: the host allocates a page only when it is touched, by a stub or by the Sentry. */
#define MEMORY_FILE_SIZE (64ULL << 30)

struct free_range {
    uint64_t offset, length;
};

static int memory_fd = -1;
static uint8_t *memory_base;
static uint64_t memory_bump;  /* everything at or above is free */
static struct free_range *free_ranges;
static size_t free_range_count, free_range_capacity;

int memory_initialize(void)
{
    memory_fd = memfd_create("usandbox-memory", MFD_CLOEXEC);
    if (memory_fd < 0)
        return -errno;
    if (ftruncate(memory_fd, (off_t)MEMORY_FILE_SIZE) < 0)
        return -errno;
    void *base = mmap(NULL, MEMORY_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, memory_fd, 0);
    if (base == MAP_FAILED)
        return -errno;
    memory_base = base;
    memory_bump = PAGE_SIZE;  /* offset 0 is never handed out, so 0 can mean "none" */
    return memory_fd;
}

int memory_file_descriptor(void) { return memory_fd; }

/* Tools and unit tests that never called memory_initialize get the memory file on first use. */
static bool memory_ready(void)
{
    if (memory_base)
        return true;
    int error = memory_initialize();
    if (error < 0)
        log_error("memory: cannot create the memory file: %s", strerror(-error));
    return error >= 0;
}

void *memory_at(uint64_t offset) { return memory_base + offset; }

/* First fit over a sorted list of freed ranges, then the bump pointer. Ranges are whole pages. */
int64_t memory_allocate(uint64_t length)
{
    if (!memory_ready())
        return -ENOMEM;
    length = PAGE_ROUND_UP(length);
    for (size_t i = 0; i < free_range_count; i++) {
        if (free_ranges[i].length >= length) {
            uint64_t offset = free_ranges[i].offset;
            free_ranges[i].offset += length;
            free_ranges[i].length -= length;
            if (free_ranges[i].length == 0) {
                memmove(&free_ranges[i], &free_ranges[i + 1], (free_range_count - i - 1) * sizeof(*free_ranges));
                free_range_count--;
            }
            return (int64_t)offset;
        }
    }
    if (memory_bump + length > MEMORY_FILE_SIZE || memory_bump + length < memory_bump)
        return -ENOMEM;
    uint64_t offset = memory_bump;
    memory_bump += length;
    return (int64_t)offset;
}

void memory_release_pages(uint64_t offset, uint64_t length)
{
    if (fallocate(memory_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)length) < 0)
        log_warning("memory: cannot release %#lx+%#lx: %s", (unsigned long)offset, (unsigned long)length,
                    strerror(errno));
}

void memory_free(uint64_t offset, uint64_t length)
{
    length = PAGE_ROUND_UP(length);
    if (length == 0)
        return;
    /* Give the pages back to the host now (a recycled range must read as zeros); keep the range. */
    memory_release_pages(offset, length);
    size_t index = 0;
    while (index < free_range_count && free_ranges[index].offset < offset)
        index++;
    bool merged = false;
    if (index > 0 && free_ranges[index - 1].offset + free_ranges[index - 1].length == offset) {
        free_ranges[index - 1].length += length;
        merged = true;
        if (index < free_range_count && offset + length == free_ranges[index].offset) {
            free_ranges[index - 1].length += free_ranges[index].length;
            memmove(&free_ranges[index], &free_ranges[index + 1],
                    (free_range_count - index - 1) * sizeof(*free_ranges));
            free_range_count--;
        }
    } else if (index < free_range_count && offset + length == free_ranges[index].offset) {
        free_ranges[index].offset = offset;
        free_ranges[index].length += length;
        merged = true;
    }
    if (merged)
        return;
    if (free_range_count == free_range_capacity) {
        free_range_capacity = free_range_capacity ? free_range_capacity * 2 : 64;
        struct free_range *grown = realloc(free_ranges, free_range_capacity * sizeof(*grown));
        if (!grown)
            abort();
        free_ranges = grown;
    }
    memmove(&free_ranges[index + 1], &free_ranges[index], (free_range_count - index) * sizeof(*free_ranges));
    free_ranges[index] = (struct free_range){offset, length};
    free_range_count++;
}

uint64_t memory_data_bytes(uint64_t offset, uint64_t length)
{
    uint64_t position = offset, end = offset + length, bytes = 0;
    while (position < end) {
        off_t data = lseek(memory_fd, (off_t)position, SEEK_DATA);
        if (data < 0 || (uint64_t)data >= end)
            break;
        off_t hole = lseek(memory_fd, data, SEEK_HOLE);
        uint64_t stop = hole < 0 ? end : MIN((uint64_t)hole, end);
        bytes += stop - (uint64_t)data;
        position = stop;
    }
    return bytes;
}

/* Copy only the pages that hold data: a fresh fork of a big, mostly empty heap stays cheap. */
void memory_copy(uint64_t destination, uint64_t source, uint64_t length)
{
    uint64_t position = source, end = source + length;
    while (position < end) {
        off_t data = lseek(memory_fd, (off_t)position, SEEK_DATA);
        if (data < 0 || (uint64_t)data >= end)
            break;
        off_t hole = lseek(memory_fd, data, SEEK_HOLE);
        uint64_t stop = hole < 0 ? end : MIN((uint64_t)hole, end);
        memcpy(memory_base + destination + ((uint64_t)data - source), memory_base + data, stop - (uint64_t)data);
        position = stop;
    }
}

struct memory_region *memory_region_new(uint64_t length)
{
    int64_t offset = memory_allocate(length);
    if (offset < 0)
        return NULL;
    struct memory_region *region = xcalloc(1, sizeof(*region));
    region->offset = (uint64_t)offset;
    region->length = PAGE_ROUND_UP(length);
    region->references = 1;
    return region;
}

void memory_region_get(struct memory_region *region) { region->references++; }

void memory_region_put(struct memory_region *region)
{
    if (region && --region->references == 0) {
        memory_free(region->offset, region->length);
        free(region);
    }
}
