package dev.kikonect.execution;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * Refuses delivery to any address that is not public: the SSRF guard. Covers loopback, private, link-local (with
 * the cloud metadata address), CGNAT, unique-local, "this network", multicast, reserved, broadcast, documentation
 * and benchmarking ranges, and the IPv4-mapped, IPv4-compatible, NAT64, 6to4 and Teredo forms that embed one of
 * those IPv4 addresses in an IPv6 one.
 */
public final class AddressGuard {

    /** An address block: {@code 10.0.0.0/8}, {@code fc00::/7}. */
    public record Cidr(byte[] network, int prefix) {

        public static Cidr parse(String text) {
            String[] parts = text.strip().split("/", 2);
            try {
                byte[] address = InetAddress.getByName(literal(parts[0])).getAddress();
                int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : address.length * 8;
                if (prefix < 0 || prefix > address.length * 8) {
                    throw new IllegalArgumentException("prefix out of range in " + text);
                }
                return new Cidr(address, prefix);
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException("not a CIDR block: " + text);
            }
        }

        private static String literal(String s) {
            if (!s.matches("[0-9a-fA-F:.\\[\\]]+")) {
                throw new IllegalArgumentException("not an IP address: " + s);
            }
            return s;
        }

        public boolean contains(InetAddress address) {
            byte[] bytes = address.getAddress();
            if (bytes.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (bytes[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = (0xff << (8 - rest)) & 0xff;
            return (bytes[full] & mask) == (network[full] & mask);
        }
    }

    private record Block(Cidr cidr, String what) {}

    private static final List<Block> V4 = List.of(
            block("0.0.0.0/8", "a 'this network' address"),
            block("10.0.0.0/8", "a private address"),
            block("100.64.0.0/10", "a carrier-grade NAT address"),
            block("127.0.0.0/8", "a loopback address"),
            block("169.254.169.254/32", "the cloud metadata address"),
            block("169.254.0.0/16", "a link-local address"),
            block("172.16.0.0/12", "a private address"),
            block("192.0.0.0/24", "an IETF protocol assignment address"),
            block("192.0.2.0/24", "a documentation address"),
            block("192.88.99.0/24", "a 6to4 relay anycast address"),
            block("192.168.0.0/16", "a private address"),
            block("198.18.0.0/15", "a benchmarking address"),
            block("198.51.100.0/24", "a documentation address"),
            block("203.0.113.0/24", "a documentation address"),
            block("224.0.0.0/4", "a multicast address"),
            block("255.255.255.255/32", "the broadcast address"),
            block("240.0.0.0/4", "a reserved address"));

    private static final List<Block> V6 = List.of(
            block("::/128", "the unspecified address"),
            block("::1/128", "a loopback address"),
            block("64:ff9b:1::/48", "a local-use NAT64 address"),
            block("100::/64", "a discard-only address"),
            block("::ffff:0:0:0/96", "an IPv4-translated address"),
            block("2001:2::/48", "a benchmarking address"),
            block("2001:db8::/32", "a documentation address"),
            block("3fff::/20", "a documentation address"),
            block("fc00::/7", "a unique-local address"),
            block("fe80::/10", "a link-local address"),
            block("fec0::/10", "a site-local address"),
            block("ff00::/8", "a multicast address"));

    private static final Cidr COMPATIBLE = Cidr.parse("::/96");
    private static final Cidr NAT64 = Cidr.parse("64:ff9b::/96");
    private static final Cidr SIX_TO_FOUR = Cidr.parse("2002::/16");
    private static final Cidr TEREDO = Cidr.parse("2001::/32");
    private static final Cidr ORCHID = Cidr.parse("2001:10::/28");

    private final boolean allowPrivate;
    private final List<Cidr> allowed;

    public AddressGuard(boolean allowPrivateNetworks, List<Cidr> allowedCidrs) {
        this.allowPrivate = allowPrivateNetworks;
        this.allowed = List.copyOf(allowedCidrs);
    }

    private static Block block(String cidr, String what) {
        return new Block(Cidr.parse(cidr), what);
    }

    /** Why delivering to {@code address} is refused, or empty when it is allowed. */
    public Optional<String> refusal(InetAddress address) {
        if (allowPrivate || allowed.stream().anyMatch(c -> c.contains(address))) {
            return Optional.empty();
        }
        return classify(address).map(what -> address.getHostAddress() + " is " + what);
    }

    /**
     * As {@link #refusal}, worded without the address ("the host resolves to a private address"): for errors a user
     * reads about a host name, who should not learn what an internal name resolves to.
     */
    public Optional<String> refusalWithoutAddress(InetAddress address) {
        if (allowPrivate || allowed.stream().anyMatch(c -> c.contains(address))) {
            return Optional.empty();
        }
        return classify(address).map(what -> "the host resolves to " + what);
    }

    /** What kind of non-public address this is, or empty for a public one. */
    static Optional<String> classify(InetAddress address) {
        if (address instanceof Inet4Address) {
            return classifyV4(address.getAddress());
        }
        byte[] b = address.getAddress();
        if (address instanceof Inet6Address) {
            for (Block block : V6) {
                if (block.cidr().contains(address)) {
                    return Optional.of(block.what());
                }
            }
            if (mapped(b) || NAT64.contains(address) || COMPATIBLE.contains(address)) {
                String form = mapped(b) ? "IPv4-mapped" : NAT64.contains(address) ? "NAT64" : "IPv4-compatible";
                return classifyV4(slice(b, 12)).map(what -> what + " in " + form + " form");
            }
            if (SIX_TO_FOUR.contains(address)) {
                return classifyV4(slice(b, 2)).map(what -> what + " in 6to4 form");
            }
            if (ORCHID.contains(address)) {
                return Optional.of("an ORCHID address");
            }
            if (TEREDO.contains(address)) {
                // Teredo: the server's IPv4 in bits 32..63, the client's (inverted) in the last 32 bits.
                byte[] client = slice(b, 12);
                for (int i = 0; i < 4; i++) {
                    client[i] = (byte) ~client[i];
                }
                Optional<String> server = classifyV4(slice(b, 4));
                return server.isPresent()
                        ? server.map(w -> w + " in Teredo form")
                        : classifyV4(client).map(w -> w + " in Teredo form");
            }
        }
        return Optional.empty();
    }

    private static Optional<String> classifyV4(byte[] v4) {
        InetAddress address;
        try {
            address = InetAddress.getByAddress(v4);
        } catch (UnknownHostException e) {
            return Optional.of("not an address");
        }
        for (Block block : V4) {
            if (block.cidr().contains(address)) {
                return Optional.of(block.what());
            }
        }
        return Optional.empty();
    }

    /** ::ffff:a.b.c.d (Java usually turns these into IPv4 addresses already; raw bytes may still carry one). */
    private static boolean mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff;
    }

    private static byte[] slice(byte[] bytes, int from) {
        byte[] v4 = new byte[4];
        System.arraycopy(bytes, from, v4, 0, 4);
        return v4;
    }
}
