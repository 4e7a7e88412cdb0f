package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AddressGuardTest {

    private final AddressGuard guard = new AddressGuard(false, List.of());

    @ParameterizedTest(name = "{0} is refused as {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "127.0.0.1 | loopback",
                "127.255.0.9 | loopback",
                "::1 | loopback",
                "10.0.0.1 | private",
                "10.255.255.255 | private",
                "172.16.0.1 | private",
                "172.31.255.254 | private",
                "192.168.1.1 | private",
                "169.254.169.254 | cloud metadata",
                "169.254.10.10 | link-local",
                "fe80::1 | link-local",
                "100.64.0.1 | carrier-grade NAT",
                "100.127.255.254 | carrier-grade NAT",
                "fc00::1 | unique-local",
                "fd12:3456::1 | unique-local",
                "0.0.0.0 | this network",
                "0.1.2.3 | this network",
                "224.0.0.1 | multicast",
                "239.255.255.250 | multicast",
                "ff02::1 | multicast",
                "240.0.0.1 | reserved",
                "255.255.255.255 | broadcast",
                ":: | unspecified",
                "192.0.2.10 | documentation",
                "198.18.0.1 | benchmarking",
                "::ffff:127.0.0.1 | loopback",
                "::ffff:10.1.2.3 | private",
                "::ffff:169.254.169.254 | cloud metadata",
                "::10.0.0.1 | private address in IPv4-compatible form",
                "64:ff9b::7f00:1 | loopback address in NAT64 form",
                "64:ff9b::a9fe:a9fe | cloud metadata address in NAT64 form",
                "64:ff9b:1::1 | local-use NAT64",
                "2002:7f00:1::1 | loopback address in 6to4 form",
                "2002:c0a8:101::1 | private address in 6to4 form",
                "2001:0:4136:e378:8000:63bf:80ff:fffe | loopback address in Teredo form",
                "2001:0:a00:1:8000:63bf:3fff:fdd2 | private address in Teredo form",
                "2001:db8::1 | documentation",
                "::ffff:0:7f00:1 | IPv4-translated",
                "2001:2::1 | benchmarking",
                "3fff:123::1 | documentation",
            })
    void non_public_addresses_are_refused_with_a_reason(String address, String reason) throws Exception {
        assertThat(guard.refusal(InetAddress.getByName(address)))
                .hasValueSatisfying(r -> assertThat(r).contains(reason));
    }

    @ParameterizedTest(name = "{0} is public")
    @ValueSource(
            strings = {
                "8.8.8.8",
                "1.1.1.1",
                "93.184.216.34",
                "172.32.0.1",
                "100.128.0.1",
                "2606:4700:4700::1111",
                "2a00:1450:4001::200e",
                "2002:808:808::1"
            })
    void public_addresses_are_allowed(String address) throws Exception {
        assertThat(guard.refusal(InetAddress.getByName(address))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "10.0.0.1", "::1", "169.254.169.254"})
    void allowing_private_networks_allows_everything(String address) throws Exception {
        assertThat(new AddressGuard(true, List.of()).refusal(InetAddress.getByName(address)))
                .isEmpty();
    }

    @Test
    void an_allowed_cidr_opens_exactly_that_block() throws Exception {
        AddressGuard allowing = new AddressGuard(
                false, List.of(AddressGuard.Cidr.parse("10.1.0.0/16"), AddressGuard.Cidr.parse("fd00::/8")));

        assertThat(allowing.refusal(InetAddress.getByName("10.1.200.3"))).isEmpty();
        assertThat(allowing.refusal(InetAddress.getByName("fd00::5"))).isEmpty();
        assertThat(allowing.refusal(InetAddress.getByName("10.2.0.1"))).isPresent();
        assertThat(allowing.refusal(InetAddress.getByName("127.0.0.1"))).isPresent();
    }
}
