/* platform/syscall_patch.c: the x86-64 encodings of syscall patching (platform.h): the instruction pattern a
 * patch replaces, the jump that replaces it, and the thunks and table header it jumps through. */
#include "platform/internal.h"

#include <string.h>

#define OPCODE_MOV_IMMEDIATE_TO_EAX 0xb8
#define OPCODE_INVALID_IN_64_BIT_MODE 0x06 /* "push %es" */
/* A thunk's pieces: where the patch's jump reads its target, the displaced instruction, "movabs $return,
 * %rcx" (REX.W, B8+1, imm64) and the jump through the table header. */
#define THUNK_DISPLACED 8
#define THUNK_SET_RETURN 13
#define THUNK_RETURN_ADDRESS (THUNK_SET_RETURN + 2)
#define THUNK_JUMP 23
static const uint8_t movabs_to_rcx[2] = {0x48, 0xb9};

_Static_assert(((PLATFORM_THUNK_TABLE_ADDRESS >> 16) & 0xff) == OPCODE_INVALID_IN_64_BIT_MODE &&
                   ((PLATFORM_THUNK_TABLE_ADDRESS + PLATFORM_THUNK_TABLE_SIZE - 1) >> 16) ==
                       (PLATFORM_THUNK_TABLE_ADDRESS >> 16),
               "every thunk address has 0x06 in the patch's sixth byte and 0 in its seventh");

static void put_u32(uint8_t *at, uint32_t value) { memcpy(at, &value, sizeof(value)); }
static void put_u64(uint8_t *at, uint64_t value) { memcpy(at, &value, sizeof(value)); }

/* The 5-byte instruction before the syscall moves to the thunk, so it must mean the same there, at the same
 * rsp: "mov $nr, %eax" (glibc's wrappers), or a load from the stack into rax or r9 ("mov disp8(%rsp), %r9" in
 * glibc's syscall(3), "mov disp8(%rsp), %rax" in Go's assembly wrappers); a load only reads. */
static const uint8_t load_from_stack_into_rax[4] = {0x48, 0x8b, 0x44, 0x24};
static const uint8_t load_from_stack_into_r9[4] = {0x4c, 0x8b, 0x4c, 0x24};

bool platform_is_patchable_syscall(const uint8_t code[PLATFORM_PATCH_SIZE], uint64_t number)
{
    if (code[5] != 0x0f || code[6] != 0x05)
        return false;
    uint32_t immediate;
    memcpy(&immediate, code + 1, sizeof(immediate));
    return (code[0] == OPCODE_MOV_IMMEDIATE_TO_EAX && immediate == number) ||
           memcmp(code, load_from_stack_into_rax, sizeof(load_from_stack_into_rax)) == 0 ||
           memcmp(code, load_from_stack_into_r9, sizeof(load_from_stack_into_r9)) == 0;
}

/* The header holds the fast entry's address, which every thunk jumps through. */
void platform_write_thunk_table_header(uint8_t header[PLATFORM_THUNK_SIZE])
{
    memset(header, 0xcc, PLATFORM_THUNK_SIZE);
    put_u64(header, TRAP_FAST_ENTRY_ADDRESS);
}

/* +0: the address of +8 (what the patch jumps through); +8: the displaced instruction; +13: movabs $return,
 * %rcx; +23: jmp *(table header), the same jump as a patch; then int3 padding. */
void platform_write_thunk(uint8_t thunk[PLATFORM_THUNK_SIZE], uint64_t thunk_address,
                          const uint8_t displaced[PLATFORM_PATCH_DISPLACED_SIZE], uint64_t return_address)
{
    memset(thunk, 0xcc, PLATFORM_THUNK_SIZE);
    put_u64(thunk, thunk_address + THUNK_DISPLACED);
    memcpy(thunk + THUNK_DISPLACED, displaced, PLATFORM_PATCH_DISPLACED_SIZE);
    memcpy(thunk + THUNK_SET_RETURN, movabs_to_rcx, sizeof(movabs_to_rcx));
    put_u64(thunk + THUNK_RETURN_ADDRESS, return_address);
    platform_write_patch(thunk + THUNK_JUMP, PLATFORM_THUNK_TABLE_ADDRESS);
}

/* jmp *thunk_address: ff 24 25 disp32, the absolute address sign-extended. */
void platform_write_patch(uint8_t patch[PLATFORM_PATCH_SIZE], uint64_t thunk_address)
{
    patch[0] = 0xff;
    patch[1] = 0x24;
    patch[2] = 0x25;
    put_u32(patch + 3, (uint32_t)thunk_address);
}

uint64_t platform_thunk_return_address(const uint8_t thunk[PLATFORM_THUNK_SIZE])
{
    if (memcmp(thunk + THUNK_SET_RETURN, movabs_to_rcx, sizeof(movabs_to_rcx)) != 0)
        return 0;
    uint64_t return_address;
    memcpy(&return_address, thunk + THUNK_RETURN_ADDRESS, sizeof(return_address));
    return return_address;
}
