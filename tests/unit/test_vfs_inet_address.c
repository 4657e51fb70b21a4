/* tests/unit/test_vfs_inet_address.c: the loopback network's address predicates and port table: ephemeral ports,
 * bind conflicts with SO_REUSEADDR/SO_REUSEPORT/IPV6_V6ONLY, and which socket a destination reaches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "vfs/internal.h"

static struct inet_endpoint endpoint_of(const char *text, uint16_t port)
{
    struct inet_endpoint endpoint;
    struct in_addr v4;
    if (inet_pton(AF_INET, text, &v4) == 1) {
        inet_endpoint_set_v4(&endpoint, &v4, port);
    } else {
        assert_int_equal(inet_pton(AF_INET6, text, endpoint.address), 1);
        endpoint.port = port;
    }
    return endpoint;
}

static struct inet_port_user user_of(int family, int protocol, const char *address, uint16_t port)
{
    return (struct inet_port_user){.family = family, .protocol = protocol, .endpoint = endpoint_of(address, port)};
}

static void test_address_predicates(void **state)
{
    (void)state;
    assert_true(inet_address_is_loopback(endpoint_of("127.0.0.1", 0).address));
    assert_true(inet_address_is_loopback(endpoint_of("127.255.0.9", 0).address));
    assert_true(inet_address_is_loopback(endpoint_of("::1", 0).address));
    assert_true(inet_address_is_loopback(endpoint_of("::ffff:127.0.0.3", 0).address));
    assert_false(inet_address_is_loopback(endpoint_of("10.0.0.1", 0).address));
    assert_false(inet_address_is_loopback(endpoint_of("::2", 0).address));
    assert_true(inet_address_is_any(endpoint_of("0.0.0.0", 0).address));
    assert_true(inet_address_is_any(endpoint_of("::", 0).address));
    assert_false(inet_address_is_any(endpoint_of("::1", 0).address));
    assert_true(inet_address_is_v4(endpoint_of("127.0.0.1", 0).address));
    assert_false(inet_address_is_v4(endpoint_of("::1", 0).address));
}

static void test_ephemeral_ports_cycle_and_run_out(void **state)
{
    (void)state;
    struct inet_port_table table;
    inet_port_table_init(&table, 40000, 40002);
    struct inet_port_user users[4];
    for (int i = 0; i < 3; i++) {
        users[i] = user_of(AF_INET, IPPROTO_TCP, "0.0.0.0", 0);
        assert_int_equal(inet_ports_bind(&table, &users[i]), 0);
        assert_int_equal(users[i].endpoint.port, 40000 + i);
    }
    users[3] = user_of(AF_INET, IPPROTO_TCP, "127.0.0.1", 0);
    assert_int_equal(inet_ports_bind(&table, &users[3]), -EADDRINUSE);
    /* UDP has its own ports */
    struct inet_port_user udp = user_of(AF_INET, IPPROTO_UDP, "0.0.0.0", 0);
    assert_int_equal(inet_ports_bind(&table, &udp), 0);
    inet_ports_unbind(&users[1]);
    assert_int_equal(inet_ports_bind(&table, &users[3]), 0);
    assert_int_equal(users[3].endpoint.port, 40001);
}

static void test_bind_conflicts(void **state)
{
    (void)state;
    struct inet_port_table table;
    inet_port_table_init(&table, 32768, 60999);
    struct inet_port_user listener = user_of(AF_INET, IPPROTO_TCP, "127.0.0.1", 8080);
    listener.reuse_address = true;
    assert_int_equal(inet_ports_bind(&table, &listener), 0);
    listener.listening = true;
    struct inet_port_user other = user_of(AF_INET, IPPROTO_TCP, "127.0.0.2", 8080);
    assert_int_equal(inet_ports_bind(&table, &other), 0);  /* different specific addresses */
    inet_ports_unbind(&other);
    struct inet_port_user wildcard = user_of(AF_INET, IPPROTO_TCP, "0.0.0.0", 8080);
    wildcard.reuse_address = true;
    assert_int_equal(inet_ports_bind(&table, &wildcard), -EADDRINUSE);  /* the listener stays in the way */
    listener.listening = false;
    assert_int_equal(inet_ports_bind(&table, &wildcard), 0);  /* both SO_REUSEADDR, neither listening */
    inet_ports_unbind(&wildcard);
    /* IPv6 :: covers IPv4 unless IPV6_V6ONLY; ::1 does not */
    struct inet_port_user dual = user_of(AF_INET6, IPPROTO_TCP, "::", 8080);
    assert_int_equal(inet_ports_bind(&table, &dual), -EADDRINUSE);
    dual.v6only = true;
    assert_int_equal(inet_ports_bind(&table, &dual), 0);
    struct inet_port_user six = user_of(AF_INET6, IPPROTO_TCP, "::1", 8080);
    assert_int_equal(inet_ports_bind(&table, &six), -EADDRINUSE);  /* inside the v6only wildcard */
    /* SO_REUSEPORT shares among one user's sockets only */
    struct inet_port_user first = user_of(AF_INET, IPPROTO_UDP, "127.0.0.1", 5353);
    struct inet_port_user second = first, stranger = first;
    first.reuse_port = second.reuse_port = stranger.reuse_port = true;
    stranger.uid = 1000;
    assert_int_equal(inet_ports_bind(&table, &first), 0);
    assert_int_equal(inet_ports_bind(&table, &second), 0);
    assert_int_equal(inet_ports_bind(&table, &stranger), -EADDRINUSE);
}

static void test_lookup_prefers_exact_and_respects_families(void **state)
{
    (void)state;
    struct inet_port_table table;
    inet_port_table_init(&table, 32768, 60999);
    struct inet_port_user dual = user_of(AF_INET6, IPPROTO_UDP, "::", 9000);
    dual.reuse_address = true;
    struct inet_port_user exact = user_of(AF_INET, IPPROTO_UDP, "127.0.0.1", 9000);
    exact.reuse_address = true;
    assert_int_equal(inet_ports_bind(&table, &dual), 0);
    assert_int_equal(inet_ports_bind(&table, &exact), 0);
    struct inet_endpoint to_v4 = endpoint_of("127.0.0.1", 9000), to_other_v4 = endpoint_of("127.0.0.2", 9000);
    struct inet_endpoint to_v6 = endpoint_of("::1", 9000), to_nothing = endpoint_of("::1", 9001);
    assert_ptr_equal(inet_ports_find(&table, IPPROTO_UDP, &to_v4, false), &exact);
    assert_ptr_equal(inet_ports_find(&table, IPPROTO_UDP, &to_other_v4, false), &dual);
    assert_ptr_equal(inet_ports_find(&table, IPPROTO_UDP, &to_v6, false), &dual);
    assert_null(inet_ports_find(&table, IPPROTO_UDP, &to_nothing, false));
    assert_null(inet_ports_find(&table, IPPROTO_TCP, &to_v4, false));
    assert_null(inet_ports_find(&table, IPPROTO_UDP, &to_v4, true));  /* nobody listens */
    dual.v6only = true;
    assert_null(inet_ports_find(&table, IPPROTO_UDP, &to_other_v4, false));
    /* an IPv4 socket never sees IPv6 */
    inet_ports_unbind(&dual);
    struct inet_port_user v4_any = user_of(AF_INET, IPPROTO_UDP, "0.0.0.0", 9002);
    assert_int_equal(inet_ports_bind(&table, &v4_any), 0);
    struct inet_endpoint to_v6_9002 = endpoint_of("::1", 9002), to_v4_9002 = endpoint_of("127.9.9.9", 9002);
    assert_null(inet_ports_find(&table, IPPROTO_UDP, &to_v6_9002, false));
    assert_ptr_equal(inet_ports_find(&table, IPPROTO_UDP, &to_v4_9002, false), &v4_any);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_predicates),
        cmocka_unit_test(test_ephemeral_ports_cycle_and_run_out),
        cmocka_unit_test(test_bind_conflicts),
        cmocka_unit_test(test_lookup_prefers_exact_and_respects_families),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
