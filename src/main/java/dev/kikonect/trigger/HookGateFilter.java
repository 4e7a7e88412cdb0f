package dev.kikonect.trigger;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.kikonect.web.Problems;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HexFormat;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * The door of {@code POST /hooks/{token}}, before anything else of the request is done (its body is not read yet):
 * anyone may knock, so a wrong token must cost next to nothing and a client that keeps guessing must stop costing
 * even that.
 *
 * <ul>
 *   <li>A token that cannot be one ({@link HookLookup#plausible}) gets its 404 here, without Spring MVC, an exception
 *       or a body read (a flood of 1,000 unknown 7.8 KB tokens a second took over a core through the whole stack and
 *       pushed a legitimate login past 1 s on two cores).
 *   <li>Every 404 a client address gets from this path spends one token of that address's miss bucket
 *       ({@code kikonect.hooks.misses-per-address} a second, bursts of ten times that); with the bucket empty the
 *       address gets 429 with Retry-After here, without a database lookup, for any token this node has not read
 *       lately. A token that exists never spends from it, and one this node remembers ({@link HookLookup}, the
 *       last minute) still passes, so a shared sender address (a SaaS's webhook egress) that gets some tokens wrong
 *       keeps delivering the right ones; a right one not remembered gets the 429 and its sender's retry.
 * </ul>
 *
 * The buckets live in Caffeine, bounded in bytes ({@link #MAX_BYTES}, counted as a bucket's size plus its key's) and
 * forgotten a minute after their last miss. An IPv6 client is keyed by its /64 (one host usually holds a whole /64:
 * rotating addresses inside it must not buy a fresh burst each). Refusals are counted in
 * {@code kikonect_hooks_refused_total{reason}}.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 1) // after SecurityHeadersFilter, before BodyBufferFilter reads a body
class HookGateFilter extends OncePerRequestFilter {

    static final String PREFIX = "/hooks/";
    /** What the miss buckets may hold at most. */
    static final long MAX_BYTES = 4L * 1024 * 1024;

    private static final int BUCKET_BYTES = 300;

    private final long perSecond;
    private final Cache<String, Bucket> misses;
    private final Counter implausible;
    private final Counter guessing;
    /** Looked up at the first request: a filter is made while Tomcat starts, before the beans behind HookLookup. */
    private final ObjectProvider<HookLookup> hooks;

    HookGateFilter(
            @Value("${kikonect.hooks.misses-per-address:20}") long perSecond,
            ObjectProvider<HookLookup> hooks,
            MeterRegistry meters) {
        this.perSecond = perSecond;
        this.hooks = hooks;
        this.misses = Caffeine.newBuilder()
                .maximumWeight(MAX_BYTES)
                .weigher((String key, Bucket bucket) -> BUCKET_BYTES + 2 * key.length())
                .expireAfterAccess(Duration.ofMinutes(1))
                .build();
        this.implausible = Counter.builder("kikonect.hooks.refused")
                .tag("reason", "implausible_token")
                .description("Webhook requests refused at the door")
                .register(meters);
        this.guessing = Counter.builder("kikonect.hooks.refused")
                .tag("reason", "too_many_misses")
                .description("Webhook requests refused at the door")
                .register(meters);
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !request.getRequestURI().startsWith(PREFIX);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String address = client(request.getRemoteAddr());
        String token = request.getRequestURI().substring(PREFIX.length());
        Bucket bucket = perSecond > 0 ? misses.getIfPresent(address) : null;
        if (bucket != null
                && bucket.getAvailableTokens() <= 0
                && !hooks.getObject().remembered(token)) {
            guessing.increment();
            long seconds = Math.max(
                    1, (bucket.estimateAbilityToConsume(1).getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
            response.setHeader("Retry-After", Long.toString(seconds));
            Problems.write(
                    response,
                    429,
                    "rate-limited",
                    "Too many requests",
                    "This address asked for too many webhooks that do not exist; retry after " + seconds + " s.");
            return;
        }
        if (!HookLookup.plausible(token)) {
            implausible.increment();
            miss(address);
            Problems.write(response, 404, "not-found", "Not found", "Webhook was not found");
            return;
        }
        chain.doFilter(request, response);
        if (response.getStatus() == 404) {
            miss(address);
        }
    }

    /** The key of a client: an IPv4 address as it is, an IPv6 address by its first four groups (its /64). */
    static String client(String address) {
        if (address == null || address.indexOf(':') < 0) {
            return String.valueOf(address);
        }
        try {
            byte[] bytes = InetAddress.getByName(address).getAddress(); // a literal: no lookup
            if (bytes.length != 16) {
                return address;
            }
            return HexFormat.of().formatHex(bytes, 0, 8) + "::/64";
        } catch (UnknownHostException e) {
            return address;
        }
    }

    private void miss(String address) {
        if (perSecond > 0) {
            misses.get(address, a -> newBucket()).tryConsume(1);
        }
    }

    private Bucket newBucket() {
        return Bucket.builder()
                .addLimit(Bandwidth.builder()
                        .capacity(perSecond * 10)
                        .refillGreedy(perSecond, Duration.ofSeconds(1))
                        .build())
                .build();
    }
}
