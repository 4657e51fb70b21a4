/* sentry/elf.c: execve's loader: maps an ELF64 x86-64 executable and its interpreter (PT_INTERP) into a
 * fresh address space and builds the initial stack (argv, envp, auxv) exactly as Linux lays it out. */
#include "sentry/internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>

#define ELF_DYNAMIC_BASE 0x555555554000ULL  /* where Linux puts a PIE executable without randomization */
/* The main thread's stack is mapped whole at exec (memory-file pages cost nothing until touched) with the
 * size RLIMIT_STACK allows, within the 256 MiB reserved below the mmap area. */
#define STACK_SIZE_MINIMUM (128ULL << 10)
#define STACK_SIZE_MAXIMUM ((256ULL << 20) - PAGE_SIZE * 32)

static uint64_t stack_size_for(struct task *task)
{
    uint64_t limit = task_rlimit_current(task, RLIMIT_STACK);
    return PAGE_ROUND_UP(MAX(STACK_SIZE_MINIMUM, MIN(limit, STACK_SIZE_MAXIMUM)));
}
#define PROGRAM_HEADERS_MAXIMUM 128

struct loaded_elf {
    uint64_t base;          /* load bias */
    uint64_t entry;
    uint64_t program_headers_address;
    uint16_t program_header_count;
    uint64_t end;           /* highest mapped byte, for brk */
};

static int read_exact(struct vfs_file *file, void *buffer, size_t length, off_t offset)
{
    size_t done = 0;
    while (done < length) {
        ssize_t got = vfs_pread(file, (char *)buffer + done, length - done, offset + (off_t)done);
        if (got < 0)
            return (int)got;
        if (got == 0)
            return -ENOEXEC;
        done += (size_t)got;
    }
    return 0;
}

static int elf_read_headers(struct vfs_file *file, Elf64_Ehdr *header, Elf64_Phdr *program_headers)
{
    int error = read_exact(file, header, sizeof(*header), 0);
    if (error < 0)
        return error == -EISDIR ? -EACCES : -ENOEXEC;
    if (memcmp(header->e_ident, ELFMAG, SELFMAG) != 0 || header->e_ident[EI_CLASS] != ELFCLASS64 ||
        header->e_ident[EI_DATA] != ELFDATA2LSB || header->e_machine != EM_X86_64 ||
        (header->e_type != ET_EXEC && header->e_type != ET_DYN) || header->e_phentsize != sizeof(Elf64_Phdr) ||
        header->e_phnum == 0 || header->e_phnum > PROGRAM_HEADERS_MAXIMUM)
        return -ENOEXEC;
    error = read_exact(file, program_headers, header->e_phnum * sizeof(Elf64_Phdr), (off_t)header->e_phoff);
    return error < 0 ? -ENOEXEC : 0;
}

static int protection_of(uint32_t segment_flags)
{
    return (segment_flags & PF_R ? PROT_READ : 0) | (segment_flags & PF_W ? PROT_WRITE : 0) |
           (segment_flags & PF_X ? PROT_EXEC : 0);
}

static int elf_map(struct mm *mm, struct vfs_file *file, const Elf64_Ehdr *header, const Elf64_Phdr *program_headers,
                   bool is_interpreter, struct loaded_elf *loaded)
{
    uint64_t lowest = UINT64_MAX, highest = 0;
    for (int i = 0; i < header->e_phnum; i++) {
        const Elf64_Phdr *segment = &program_headers[i];
        if (segment->p_type != PT_LOAD)
            continue;
        if (segment->p_filesz > segment->p_memsz || (segment->p_vaddr & (PAGE_SIZE - 1)) !=
                                                         (segment->p_offset & (PAGE_SIZE - 1)))
            return -ENOEXEC;
        lowest = MIN(lowest, PAGE_ROUND_DOWN(segment->p_vaddr));
        highest = MAX(highest, PAGE_ROUND_UP(segment->p_vaddr + segment->p_memsz));
    }
    if (lowest == UINT64_MAX || highest <= lowest || highest - lowest > APPLICATION_ADDRESS_LIMIT)
        return -ENOEXEC;
    uint64_t base = 0;
    if (header->e_type == ET_DYN) {
        /* Reserve the whole span first, so that segments land at their relative places. */
        uint64_t hint = is_interpreter ? 0 : ELF_DYNAMIC_BASE;
        long reserved = mm_map(mm, hint, highest - lowest, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
        if (reserved < 0)
            return (int)reserved;
        base = (uint64_t)reserved - lowest;
    }
    loaded->base = base;
    loaded->end = 0;
    loaded->program_headers_address = 0;
    for (int i = 0; i < header->e_phnum; i++) {
        const Elf64_Phdr *segment = &program_headers[i];
        if (segment->p_type == PT_PHDR)
            loaded->program_headers_address = base + segment->p_vaddr;
        if (segment->p_type != PT_LOAD)
            continue;
        uint64_t page_start = base + PAGE_ROUND_DOWN(segment->p_vaddr);
        uint64_t lead = segment->p_vaddr & (PAGE_SIZE - 1);
        uint64_t file_end = base + segment->p_vaddr + segment->p_filesz;
        uint64_t memory_end = base + segment->p_vaddr + segment->p_memsz;
        int protection = protection_of(segment->p_flags);
        if (segment->p_filesz > 0) {
            long mapped = mm_map(mm, page_start, lead + segment->p_filesz, protection, MAP_PRIVATE | MAP_FIXED, file,
                                 segment->p_offset - lead);
            if (mapped < 0)
                return (int)mapped;
        }
        uint64_t anonymous_start = segment->p_filesz > 0 ? PAGE_ROUND_UP(file_end) : page_start;
        if (memory_end > anonymous_start) {
            long mapped = mm_map(mm, anonymous_start, memory_end - anonymous_start, protection,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL, 0);
            if (mapped < 0)
                return (int)mapped;
        }
        if (segment->p_offset == 0 && loaded->program_headers_address == 0)
            loaded->program_headers_address = base + segment->p_vaddr + header->e_phoff;
        loaded->end = MAX(loaded->end, memory_end);
    }
    loaded->entry = base + header->e_entry;
    loaded->program_header_count = header->e_phnum;
    return 0;
}

/* Push bytes below *cursor on the new stack. */
static int stack_push(struct mm *mm, uint64_t *cursor, const void *bytes, size_t length)
{
    *cursor -= length;
    return mm_copy_out(mm, *cursor, bytes, length, false);
}

static int build_stack(struct task *task, struct mm *mm, const char *execfn, char *const *argv, size_t argc,
                       char *const *envp, size_t envc, const struct loaded_elf *program, uint64_t interpreter_base,
                       uint64_t *stack_pointer)
{
    uint64_t top = mm_find_vma(mm, mm->stack_start)->end;
    uint64_t cursor = top - sizeof(uint64_t);  /* Linux leaves the last word empty */
    int error = stack_push(mm, &cursor, execfn, strlen(execfn) + 1);
    uint64_t execfn_address = cursor;
    uint64_t *environment_addresses = xcalloc(envc + 1, sizeof(uint64_t));
    uint64_t *argument_addresses = xcalloc(argc + 1, sizeof(uint64_t));
    mm->env_end = cursor;
    for (size_t i = envc; error == 0 && i-- > 0;) {
        error = stack_push(mm, &cursor, envp[i], strlen(envp[i]) + 1);
        environment_addresses[i] = cursor;
    }
    mm->env_start = cursor;
    mm->arg_end = cursor;
    for (size_t i = argc; error == 0 && i-- > 0;) {
        error = stack_push(mm, &cursor, argv[i], strlen(argv[i]) + 1);
        argument_addresses[i] = cursor;
    }
    mm->arg_start = cursor;
    static const char platform[] = "x86_64";
    if (error == 0)
        error = stack_push(mm, &cursor, platform, sizeof(platform));
    uint64_t platform_address = cursor;
    uint8_t random_bytes[16];
    if (getrandom(random_bytes, sizeof(random_bytes), 0) != sizeof(random_bytes))
        memset(random_bytes, 0x5a, sizeof(random_bytes));
    if (error == 0)
        error = stack_push(mm, &cursor, random_bytes, sizeof(random_bytes));
    uint64_t random_address = cursor;
    cursor &= ~15ULL;

    const struct credentials *credentials = &task->credentials;
    uint64_t auxiliary[][2] = {
        {AT_HWCAP, getauxval(AT_HWCAP)},
        {AT_PAGESZ, PAGE_SIZE},
        {AT_CLKTCK, 100},
        {AT_PHDR, program->program_headers_address},
        {AT_PHENT, sizeof(Elf64_Phdr)},
        {AT_PHNUM, program->program_header_count},
        {AT_BASE, interpreter_base},
        {AT_FLAGS, 0},
        {AT_ENTRY, program->entry},
        {AT_UID, credentials->uid},
        {AT_EUID, credentials->euid},
        {AT_GID, credentials->gid},
        {AT_EGID, credentials->egid},
        {AT_SECURE, 0},
        {AT_RANDOM, random_address},
        {AT_HWCAP2, getauxval(AT_HWCAP2)},
        {AT_EXECFN, execfn_address},
        {AT_PLATFORM, platform_address},
        {AT_NULL, 0},
    };
    /* argc, argv[], NULL, envp[], NULL, auxv: keep the final stack pointer 16-byte aligned. */
    size_t words = 1 + argc + 1 + envc + 1 + ARRAY_SIZE(auxiliary) * 2;
    if ((cursor - words * 8) & 15)
        cursor -= 8;
    if (error == 0)
        error = stack_push(mm, &cursor, auxiliary, sizeof(auxiliary));
    uint64_t zero = 0;
    if (error == 0)
        error = stack_push(mm, &cursor, &zero, sizeof(zero));
    if (error == 0)
        error = stack_push(mm, &cursor, environment_addresses, envc * sizeof(uint64_t));
    if (error == 0)
        error = stack_push(mm, &cursor, &zero, sizeof(zero));
    if (error == 0)
        error = stack_push(mm, &cursor, argument_addresses, argc * sizeof(uint64_t));
    uint64_t count = argc;
    if (error == 0)
        error = stack_push(mm, &cursor, &count, sizeof(count));
    free(environment_addresses);
    free(argument_addresses);
    if (error < 0)
        return -E2BIG;
    *stack_pointer = cursor;
    return 0;
}

int elf_load(struct task *task, struct vfs_file *file, const char *path, char *const *argv, size_t argc,
             char *const *envp, size_t envc, struct mm *mm, struct exec_image *image)
{
    Elf64_Ehdr header;
    Elf64_Phdr program_headers[PROGRAM_HEADERS_MAXIMUM];
    int error = elf_read_headers(file, &header, program_headers);
    if (error < 0)
        return error;

    struct vfs_file *interpreter = NULL;
    Elf64_Ehdr interpreter_header;
    Elf64_Phdr interpreter_program_headers[PROGRAM_HEADERS_MAXIMUM];
    for (int i = 0; i < header.e_phnum; i++) {
        if (program_headers[i].p_type != PT_INTERP)
            continue;
        if (program_headers[i].p_filesz < 2 || program_headers[i].p_filesz > 4096)
            return -ENOEXEC;
        char interpreter_path[4097];
        error = read_exact(file, interpreter_path, program_headers[i].p_filesz, (off_t)program_headers[i].p_offset);
        if (error < 0)
            return -ENOEXEC;
        interpreter_path[program_headers[i].p_filesz] = '\0';
        if (strlen(interpreter_path) + 1 != program_headers[i].p_filesz)
            return -ENOEXEC;
        struct vfs_context ctx;
        task_vfs_context(task, &ctx);
        error = vfs_open_for_exec(&ctx, interpreter_path, &interpreter);
        if (error < 0)
            return error;
        error = elf_read_headers(interpreter, &interpreter_header, interpreter_program_headers);
        if (error < 0) {
            vfs_file_put(interpreter);
            return error == -ENOEXEC ? -ELIBBAD : error;
        }
        break;
    }

    /* From here on the old image is gone: failures are fatal to the caller (as Linux's point of no return). */
    struct loaded_elf program, loaded_interpreter = {0};
    error = elf_map(mm, file, &header, program_headers, false, &program);
    if (error == 0 && interpreter)
        error = elf_map(mm, interpreter, &interpreter_header, interpreter_program_headers, true, &loaded_interpreter);
    if (interpreter)
        vfs_file_put(interpreter);
    if (error < 0)
        return error;

    mm->brk_start = mm->brk_end = PAGE_ROUND_UP(program.end);
    mm->brk_limit = task_rlimit_current(task, RLIMIT_DATA);
    uint64_t stack_size = stack_size_for(task);
    long stack = mm_map(mm, mm->mmap_top + 0x10000000ULL - stack_size - PAGE_SIZE * 16, stack_size,
                        PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, NULL, 0);
    if (stack < 0)
        return (int)stack;
    mm->stack_start = (uint64_t)stack;
    struct vma *stack_vma = (struct vma *)mm_find_vma(mm, (uint64_t)stack);
    snprintf(stack_vma->name, sizeof(stack_vma->name), "[stack]");
    error = build_stack(task, mm, path, argv, argc, envp, envc, &program, interpreter ? loaded_interpreter.base : 0,
                        &image->stack_pointer);
    if (error < 0)
        return error;
    image->entry = interpreter ? loaded_interpreter.entry : program.entry;
    mm->executable = file;
    vfs_file_get(file);
    return 0;
}
