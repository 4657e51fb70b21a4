/* vfs/tmpfs_data.c: a tmpfs file's data: extents of the memory file, so that the same pages serve read and
 * write and every MAP_SHARED mapping of the file (memfd, /dev/shm, SysV shared memory). */
#include <stdlib.h>
#include <string.h>

#include "vfs/internal.h"

/* Appending writes get extents that double up to this size, so a growing file needs few of them. */
#define EXTENT_GROWTH_LIMIT_PAGES 16384 /* 64 MiB */

/* Index of the first extent that ends after page, or count. */
static size_t extent_search(const struct tmpfs_data *data, uint64_t page)
{
    size_t low = 0, high = data->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        const struct tmpfs_extent *extent = &data->extents[middle];
        if (extent->first_page + extent->page_count <= page)
            low = middle + 1;
        else
            high = middle;
    }
    return low;
}

static void extent_insert(struct tmpfs_data *data, size_t index, uint64_t first_page, uint64_t page_count,
                          struct memory_region *region)
{
    if (data->count == data->capacity) {
        data->capacity = data->capacity ? data->capacity * 2 : 4;
        struct tmpfs_extent *grown = realloc(data->extents, data->capacity * sizeof(*grown));
        if (!grown)
            abort();
        data->extents = grown;
    }
    memmove(&data->extents[index + 1], &data->extents[index], (data->count - index) * sizeof(*data->extents));
    data->extents[index] = (struct tmpfs_extent){first_page, page_count, region};
    data->count++;
}

static void extent_remove(struct tmpfs_data *data, size_t index)
{
    memory_region_put(data->extents[index].region);
    memmove(&data->extents[index], &data->extents[index + 1], (data->count - index - 1) * sizeof(*data->extents));
    data->count--;
}

/* Give every page of [first_page, end_page) an extent. A gap right after an extent (a file written from
 * start to end) gets room to grow beyond what was asked, up to the next extent. */
static int extents_cover(struct tmpfs_data *data, uint64_t first_page, uint64_t end_page)
{
    uint64_t page = first_page;
    while (page < end_page) {
        size_t index = extent_search(data, page);
        if (index < data->count && data->extents[index].first_page <= page) {
            page = data->extents[index].first_page + data->extents[index].page_count;
            continue;
        }
        uint64_t gap_end = index < data->count ? data->extents[index].first_page : UINT64_MAX;
        uint64_t wanted = MIN(end_page, gap_end) - page;
        if (index > 0) {
            const struct tmpfs_extent *previous = &data->extents[index - 1];
            if (previous->first_page + previous->page_count == page)
                wanted = MAX(wanted, MIN(previous->page_count, EXTENT_GROWTH_LIMIT_PAGES));
        }
        wanted = MIN(wanted, gap_end - page);
        struct memory_region *region = memory_region_new(wanted * PAGE_SIZE);
        if (!region)
            return -ENOSPC;
        extent_insert(data, index, page, wanted, region);
        page += wanted;
    }
    return 0;
}

/* Calls visit for each run of [offset, offset + length) that lies in one extent (memory != NULL) or in a
 * hole (memory == NULL). */
static void for_each_run(const struct tmpfs_data *data, uint64_t offset, uint64_t length,
                         void (*visit)(uint8_t *memory, uint64_t run_length, uint64_t done, void *argument),
                         void *argument)
{
    uint64_t done = 0;
    while (done < length) {
        uint64_t position = offset + done;
        uint64_t page = position / PAGE_SIZE;
        size_t index = extent_search(data, page);
        uint64_t run;
        uint8_t *memory = NULL;
        if (index < data->count && data->extents[index].first_page <= page) {
            const struct tmpfs_extent *extent = &data->extents[index];
            uint64_t within = position - extent->first_page * PAGE_SIZE;
            run = extent->page_count * PAGE_SIZE - within;
            memory = memory_at(extent->region->offset + within);
        } else {
            uint64_t hole_end = index < data->count ? data->extents[index].first_page * PAGE_SIZE : UINT64_MAX;
            run = hole_end - position;
        }
        run = MIN(run, length - done);
        visit(memory, run, done, argument);
        done += run;
    }
}

static void copy_out(uint8_t *memory, uint64_t run_length, uint64_t done, void *argument)
{
    uint8_t *destination = (uint8_t *)argument + done;
    if (memory)
        memcpy(destination, memory, run_length);
    else
        memset(destination, 0, run_length); /* a hole reads as zeros */
}

static void copy_in(uint8_t *memory, uint64_t run_length, uint64_t done, void *argument)
{
    memcpy(memory, (const uint8_t *)argument + done, run_length);
}

void tmpfs_data_read(const struct tmpfs_data *data, void *buffer, size_t length, off_t offset)
{
    for_each_run(data, (uint64_t)offset, length, copy_out, buffer);
}

int tmpfs_data_write(struct tmpfs_data *data, const void *buffer, size_t length, off_t offset)
{
    if (length == 0)
        return 0;
    int error = extents_cover(data, (uint64_t)offset / PAGE_SIZE, PAGE_ROUND_UP((uint64_t)offset + length) / PAGE_SIZE);
    if (error < 0)
        return error;
    for_each_run(data, (uint64_t)offset, length, copy_in, (void *)buffer);
    return 0;
}

/* Pages past a new, smaller size go back to the host (a mapping still holding them reads zeros) and the
 * tail of the last page is zeroed, so a later extension reads zeros as Linux guarantees. */
void tmpfs_data_truncate(struct tmpfs_data *data, off_t old_size, off_t new_size)
{
    if (new_size >= old_size)
        return;
    uint64_t first_dropped = PAGE_ROUND_UP((uint64_t)new_size) / PAGE_SIZE;
    size_t index = extent_search(data, first_dropped);
    while (index < data->count) {
        struct tmpfs_extent *extent = &data->extents[index];
        if (extent->first_page >= first_dropped) {
            memory_release_pages(extent->region->offset, extent->page_count * PAGE_SIZE);
            extent_remove(data, index);
            continue;
        }
        uint64_t kept = first_dropped - extent->first_page;
        memory_release_pages(extent->region->offset + kept * PAGE_SIZE, (extent->page_count - kept) * PAGE_SIZE);
        index++;
    }
    size_t within = (uint64_t)new_size % PAGE_SIZE;
    if (within) {
        static const uint8_t zeros[PAGE_SIZE];
        uint64_t page = (uint64_t)new_size / PAGE_SIZE;
        index = extent_search(data, page);
        if (index < data->count && data->extents[index].first_page <= page)
            for_each_run(data, (uint64_t)new_size, PAGE_SIZE - within, copy_in, (void *)zeros);
    }
}

void tmpfs_data_free(struct tmpfs_data *data)
{
    while (data->count > 0)
        extent_remove(data, data->count - 1);
    free(data->extents);
    *data = (struct tmpfs_data){0};
}

uint64_t tmpfs_data_blocks(const struct tmpfs_data *data)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < data->count; i++)
        bytes += memory_data_bytes(data->extents[i].region->offset, data->extents[i].page_count * PAGE_SIZE);
    return bytes / 512;
}

int tmpfs_data_map(struct tmpfs_data *data, uint64_t offset, uint64_t length, struct vfs_shared_pages *out)
{
    uint64_t first_page = offset / PAGE_SIZE, end_page = PAGE_ROUND_UP(offset + length) / PAGE_SIZE;
    int error = extents_cover(data, first_page, end_page);
    if (error < 0)
        return error;
    out->count = 0;
    out->pieces = NULL;
    out->writes_reach_file = true;
    size_t capacity = 0;
    for (uint64_t page = first_page; page < end_page;) {
        const struct tmpfs_extent *extent = &data->extents[extent_search(data, page)];
        uint64_t within = page - extent->first_page;
        uint64_t pages = MIN(extent->page_count - within, end_page - page);
        if (out->count == capacity) {
            capacity = capacity ? capacity * 2 : 4;
            struct vfs_shared_piece *grown = realloc(out->pieces, capacity * sizeof(*grown));
            if (!grown)
                abort();
            out->pieces = grown;
        }
        memory_region_get(extent->region);
        out->pieces[out->count++] = (struct vfs_shared_piece){
            .region = extent->region, .region_offset = within * PAGE_SIZE, .length = pages * PAGE_SIZE};
        page += pages;
    }
    return 0;
}
