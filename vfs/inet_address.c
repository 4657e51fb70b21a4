/* vfs/inet_address.c: loopback addresses and the port table of the sandbox's IPv4/IPv6 sockets: which addresses
 * exist, which bindings conflict (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY), ephemeral ports and delivery lookup. */
#include <string.h>
#include <sys/socket.h>

#include "vfs/internal.h"

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void inet_endpoint_set_v4(struct inet_endpoint *endpoint, const void *address_network_order, uint16_t port)
{
    memcpy(endpoint->address, v4_mapped_prefix, sizeof(v4_mapped_prefix));
    memcpy(endpoint->address + 12, address_network_order, 4);
    endpoint->port = port;
}

bool inet_address_is_v4(const uint8_t address[16]) { return memcmp(address, v4_mapped_prefix, 12) == 0; }

bool inet_address_is_any(const uint8_t address[16])
{
    static const uint8_t zero[16];
    /* :: for IPv6, 0.0.0.0 (kept v4-mapped) for IPv4 */
    return memcmp(address, zero, 16) == 0 || (inet_address_is_v4(address) && memcmp(address + 12, zero, 4) == 0);
}

bool inet_address_is_loopback(const uint8_t address[16])
{
    static const uint8_t v6_loopback[16] = {[15] = 1};
    return memcmp(address, v6_loopback, 16) == 0 || (inet_address_is_v4(address) && address[12] == 127);
}

/* The part of the address space a binding covers: all of IPv4 and/or IPv6, or one address. */
struct coverage {
    bool all_v4, all_v6;
    const uint8_t *single;  /* one address (v4-mapped for IPv4), or NULL */
};

static struct coverage coverage_of(const struct inet_port_user *user)
{
    struct coverage result = {0};
    const uint8_t *address = user->endpoint.address;
    if (!inet_address_is_any(address)) {
        result.single = address;
    } else if (user->family == AF_INET || inet_address_is_v4(address)) {
        result.all_v4 = true;
    } else {
        result.all_v6 = true;
        result.all_v4 = !user->v6only;
    }
    return result;
}

static bool covers(const struct coverage *coverage, const uint8_t address[16])
{
    if (coverage->single)
        return memcmp(coverage->single, address, 16) == 0;
    return inet_address_is_v4(address) ? coverage->all_v4 : coverage->all_v6;
}

static bool overlap(const struct inet_port_user *first, const struct inet_port_user *second)
{
    struct coverage a = coverage_of(first), b = coverage_of(second);
    if (a.single)
        return covers(&b, a.single);
    if (b.single)
        return covers(&a, b.single);
    return (a.all_v4 && b.all_v4) || (a.all_v6 && b.all_v6);
}

/* Linux's bind conflict rules (inet_csk_bind_conflict): SO_REUSEPORT on both by one user shares; SO_REUSEADDR on
 * both shares unless the socket already there is listening. */
static bool conflicts(const struct inet_port_user *existing, const struct inet_port_user *candidate)
{
    if (existing == candidate || existing->protocol != candidate->protocol ||
        existing->endpoint.port != candidate->endpoint.port || !overlap(existing, candidate))
        return false;
    if (existing->reuse_port && candidate->reuse_port && existing->uid == candidate->uid)
        return false;
    if (existing->reuse_address && candidate->reuse_address && !existing->listening)
        return false;
    return true;
}

void inet_port_table_init(struct inet_port_table *table, uint16_t low, uint16_t high)
{
    list_init(&table->users);
    table->ephemeral_low = low;
    table->ephemeral_high = high;
    table->next_ephemeral = low;
}

bool inet_ports_conflict(const struct inet_port_table *table, const struct inet_port_user *candidate)
{
    LIST_FOR_EACH(node, &table->users) {
        if (conflicts(CONTAINER_OF(node, struct inet_port_user, node), candidate))
            return true;
    }
    return false;
}

static bool port_unused(const struct inet_port_table *table, int protocol, uint16_t port)
{
    LIST_FOR_EACH(node, &table->users) {
        const struct inet_port_user *user = CONTAINER_OF(node, struct inet_port_user, node);
        if (user->protocol == protocol && user->endpoint.port == port)
            return false;
    }
    return true;
}

int inet_ports_bind(struct inet_port_table *table, struct inet_port_user *user)
{
    if (user->endpoint.port == 0) {
        /* An ephemeral port nobody of this protocol uses, taken in turn through the range. */
        uint32_t span = (uint32_t)table->ephemeral_high - table->ephemeral_low + 1;
        bool found = false;
        for (uint32_t i = 0; i < span && !found; i++) {
            uint16_t candidate = table->next_ephemeral;
            table->next_ephemeral = candidate >= table->ephemeral_high ? table->ephemeral_low : candidate + 1;
            if (port_unused(table, user->protocol, candidate)) {
                user->endpoint.port = candidate;
                found = true;
            }
        }
        if (!found)
            return -EADDRINUSE;
    } else if (inet_ports_conflict(table, user)) {
        return -EADDRINUSE;
    }
    list_insert_tail(&table->users, &user->node);
    return 0;
}

void inet_ports_unbind(struct inet_port_user *user)
{
    list_remove(&user->node);
    list_init(&user->node);
}

struct inet_port_user *inet_ports_find(const struct inet_port_table *table, int protocol,
                                       const struct inet_endpoint *destination, bool listening_only)
{
    struct inet_port_user *wildcard = NULL;
    LIST_FOR_EACH(node, &table->users) {
        struct inet_port_user *user = CONTAINER_OF(node, struct inet_port_user, node);
        if (user->protocol != protocol || user->endpoint.port != destination->port ||
            (listening_only && !user->listening))
            continue;
        /* An IPv4 socket sees no IPv6 traffic. */
        if (user->family == AF_INET && !inet_address_is_v4(destination->address))
            continue;
        struct coverage coverage = coverage_of(user);
        if (!covers(&coverage, destination->address))
            continue;
        if (coverage.single)
            return user;  /* an exact address wins over a wildcard, as in Linux's socket lookup */
        if (!wildcard)
            wildcard = user;
    }
    return wildcard;
}
