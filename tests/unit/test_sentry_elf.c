/* tests/unit/test_sentry_elf.c: the ELF loader against files in an in-memory root: malformed images are
 * refused with ENOEXEC, a real static executable lands where its headers say, with Linux's initial stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sentry/internal.h"

static int fake_initialize(int fd) { (void)fd; return 0; }
static int fake_space_new(struct platform_address_space **space, struct platform_context **thread)
{
    static int dummy;
    *space = (struct platform_address_space *)&dummy;
    *thread = (struct platform_context *)&dummy;
    return 0;
}
static void fake_space_destroy(struct platform_address_space *space) { (void)space; }
static int fake_map(struct platform_address_space *s, uint64_t a, uint64_t l, int p, uint64_t o)
{
    (void)s; (void)a; (void)l; (void)p; (void)o;
    return 0;
}
static int fake_unmap(struct platform_address_space *s, uint64_t a, uint64_t l) { (void)s; (void)a; (void)l; return 0; }
static int fake_protect(struct platform_address_space *s, uint64_t a, uint64_t l, int p)
{
    (void)s; (void)a; (void)l; (void)p;
    return 0;
}
static const struct platform_ops fake_platform = {
    .name = "fake", .initialize = fake_initialize, .address_space_new = fake_space_new,
    .address_space_destroy = fake_space_destroy, .map = fake_map, .unmap = fake_unmap, .protect = fake_protect,
};

struct fixture {
    struct vfs_path root;
    struct thread_group group;
    struct task task;
    struct fs_state fs;
};

static int setup(void **state)
{
    static bool memory_ready;
    if (!memory_ready) {
        assert_true(memory_initialize() >= 0);
        memory_ready = true;
    }
    sentry_platform = &fake_platform;
    struct fixture *fixture = xcalloc(1, sizeof(*fixture));
    assert_int_equal(vfs_make_tmpfs_root(0755, &fixture->root), 0);
    for (int resource = 0; resource < RLIM_NLIMITS; resource++)
        fixture->group.limits[resource] = (struct rlimit){RLIM_INFINITY, RLIM_INFINITY};
    fixture->task.group = &fixture->group;
    fixture->fs.references = 1;
    fixture->fs.root = fixture->root;
    fixture->fs.cwd = fixture->root;
    fixture->fs.umask = 022;
    fixture->task.fs = &fixture->fs;
    fixture->task.credentials.uid = 1000;
    fixture->task.credentials.euid = 1000;
    *state = fixture;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fixture = *state;
    vfs_path_put(&fixture->root);
    free(fixture);
    return 0;
}

static struct vfs_file *write_file(struct fixture *fixture, const char *path, const void *bytes, size_t length)
{
    struct vfs_context ctx;
    struct vfs_credentials root = {.privileged = true};
    task_vfs_context(&fixture->task, &ctx);
    ctx.credentials = &root;
    struct vfs_file *file;
    assert_int_equal(vfs_open_at(&ctx, NULL, path, O_CREAT | O_RDWR | O_TRUNC, 0755, &file), 0);
    assert_int_equal(vfs_write(file, bytes, length), (ssize_t)length);
    return file;
}

static int load(struct fixture *fixture, struct vfs_file *file, struct mm **mm_out, struct exec_image *image)
{
    char *argv[] = {"prog", "first", NULL};
    char *envp[] = {"A=1", NULL};
    struct mm *mm = mm_new();
    int error = elf_load(&fixture->task, file, "/prog", argv, 2, envp, 1, mm, image);
    *mm_out = mm;
    return error;
}

static void test_malformed_images_are_refused(void **state)
{
    struct fixture *fixture = *state;
    struct exec_image image;
    struct mm *mm;
    const char *cases[] = {"", "#!/bin/sh\n", "\177ELF", "not an elf at all, just some text that is long enough"};
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct vfs_file *file = write_file(fixture, "/bad", cases[i], strlen(cases[i]));
        assert_int_equal(load(fixture, file, &mm, &image), -ENOEXEC);
        mm_put(mm);
        vfs_file_put(file);
    }
    /* A well-formed header with a wrong machine, then with absurd program headers. */
    Elf64_Ehdr header = {0};
    memcpy(header.e_ident, ELFMAG, SELFMAG);
    header.e_ident[EI_CLASS] = ELFCLASS64;
    header.e_ident[EI_DATA] = ELFDATA2LSB;
    header.e_type = ET_EXEC;
    header.e_machine = EM_AARCH64;
    header.e_phentsize = sizeof(Elf64_Phdr);
    header.e_phnum = 1;
    header.e_phoff = sizeof(header);
    struct vfs_file *file = write_file(fixture, "/bad", &header, sizeof(header));
    assert_int_equal(load(fixture, file, &mm, &image), -ENOEXEC);
    mm_put(mm);
    vfs_file_put(file);
    header.e_machine = EM_X86_64;
    header.e_phnum = 60000;
    file = write_file(fixture, "/bad", &header, sizeof(header));
    assert_int_equal(load(fixture, file, &mm, &image), -ENOEXEC);
    mm_put(mm);
    vfs_file_put(file);
    /* A LOAD segment whose file size exceeds its memory size. */
    struct {
        Elf64_Ehdr header;
        Elf64_Phdr segment;
    } image_bytes = {header, {0}};
    image_bytes.header.e_phnum = 1;
    image_bytes.segment.p_type = PT_LOAD;
    image_bytes.segment.p_filesz = 0x2000;
    image_bytes.segment.p_memsz = 0x1000;
    image_bytes.segment.p_vaddr = 0x400000;
    file = write_file(fixture, "/bad", &image_bytes, sizeof(image_bytes));
    assert_int_equal(load(fixture, file, &mm, &image), -ENOEXEC);
    mm_put(mm);
    vfs_file_put(file);
}

static void test_static_executable_layout(void **state)
{
    struct fixture *fixture = *state;
    int host = open("/bin/busybox", O_RDONLY);
    if (host < 0)
        skip();
    struct stat status;
    fstat(host, &status);
    char *bytes = malloc((size_t)status.st_size);
    assert_int_equal(read(host, bytes, (size_t)status.st_size), status.st_size);
    close(host);
    struct vfs_file *file = write_file(fixture, "/prog", bytes, (size_t)status.st_size);
    const Elf64_Ehdr *header = (const Elf64_Ehdr *)bytes;

    struct exec_image image;
    struct mm *mm;
    assert_int_equal(load(fixture, file, &mm, &image), 0);
    assert_int_equal(image.entry, header->e_entry);
    assert_int_equal(image.stack_pointer % 16, 0);
    /* The first bytes of the image are the ELF header, mapped read-only at its virtual address. */
    const Elf64_Phdr *segments = (const Elf64_Phdr *)(bytes + header->e_phoff);
    uint64_t first_load = 0;
    for (int i = 0; i < header->e_phnum && !first_load; i++)
        if (segments[i].p_type == PT_LOAD)
            first_load = segments[i].p_vaddr;
    char magic[4];
    assert_int_equal(mm_copy_in(mm, magic, first_load, 4), 0);
    assert_memory_equal(magic, ELFMAG, 4);
    assert_int_equal(mm_copy_out(mm, first_load, "x", 1, false), -EFAULT);

    /* argc, argv, envp and auxv as Linux lays them out. */
    uint64_t words[3];
    assert_int_equal(mm_copy_in(mm, words, image.stack_pointer, sizeof(words)), 0);
    assert_int_equal(words[0], 2);
    char string[16];
    assert_int_equal(mm_copy_in(mm, string, words[1], 5), 0);
    assert_string_equal(string, "prog");
    assert_int_equal(mm_copy_in(mm, string, words[2], 6), 0);
    assert_string_equal(string, "first");
    uint64_t cursor = image.stack_pointer + 4 * 8;  /* argc, argv[0], argv[1], NULL */
    uint64_t environment;
    assert_int_equal(mm_copy_in(mm, &environment, cursor, 8), 0);
    assert_int_equal(mm_copy_in(mm, string, environment, 4), 0);
    assert_string_equal(string, "A=1");
    cursor += 2 * 8;
    bool saw_entry = false, saw_phdr = false, saw_uid = false;
    for (int i = 0; i < 64; i++, cursor += 16) {
        uint64_t pair[2];
        assert_int_equal(mm_copy_in(mm, pair, cursor, sizeof(pair)), 0);
        if (pair[0] == AT_NULL)
            break;
        saw_entry |= pair[0] == AT_ENTRY && pair[1] == header->e_entry;
        saw_phdr |= pair[0] == AT_PHDR && pair[1] == first_load + header->e_phoff;
        saw_uid |= pair[0] == AT_UID && pair[1] == 1000;
    }
    assert_true(saw_entry && saw_phdr && saw_uid);
    /* The break starts after the last segment, page-aligned; /proc/PID/cmdline's range holds argv. */
    assert_true(mm->brk_start > first_load && mm->brk_start % PAGE_SIZE == 0);
    assert_int_equal(mm->arg_end - mm->arg_start, strlen("prog") + 1 + strlen("first") + 1);
    mm_put(mm);
    vfs_file_put(file);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_malformed_images_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_static_executable_layout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
