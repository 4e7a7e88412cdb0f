package dev.kikonect.web;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.SocketTimeoutException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.util.unit.DataSize;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Reads every request body into memory before anything else runs, under a deadline, a minimum rate and a byte budget
 * ({@link BodyBudget}), and only then lets the request take one of the node's in-flight permits ({@link
 * InFlightLimitFilter} runs after this filter). So:
 *
 * <ul>
 *   <li>no body exceeds 1 MiB (413, before reading when declared);
 *   <li>a body that takes longer than {@code kikonect.server.body-read-timeout} (10 s), or arrives slower than
 *       {@code kikonect.server.body-min-rate} per second after its first two seconds, gets 408 and its connection is
 *       closed (a single stalled read ends after {@code server.tomcat.connection-timeout}, 5 s);
 *   <li>one client address holds at most {@code body-reads-per-address} bodies and {@code body-memory-per-address}
 *       bytes at once (429 beyond), the node at most {@code body-memory} (503 beyond);
 *   <li>a client trickling its body holds no in-flight permit, so slow clients cannot lock everybody else out.
 * </ul>
 *
 * Handlers then read the buffered bytes without waiting on the network, and parse a complete body.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 2) // after HookGateFilter (trigger): a refused webhook reads no body
class BodyBufferFilter extends OncePerRequestFilter {

    static final long LIMIT = 1024 * 1024;
    private static final int STEP = 64 * 1024;
    private static final Duration GRACE = Duration.ofSeconds(2);

    private final BodyBudget budget;
    private final long timeoutNanos;
    private final long minBytesPerSecond;
    private final MeterRegistry meters;

    BodyBufferFilter(
            @Value("${kikonect.server.body-memory:32MB}") DataSize total,
            @Value("${kikonect.server.body-memory-per-address:8MB}") DataSize perAddress,
            @Value("${kikonect.server.body-reads-per-address:256}") int readsPerAddress,
            @Value("${kikonect.server.body-read-timeout:10s}") Duration timeout,
            @Value("${kikonect.server.body-min-rate:1KB}") DataSize minRate,
            MeterRegistry meters) {
        this.budget = new BodyBudget(total.toBytes(), perAddress.toBytes(), Math.max(1, readsPerAddress));
        this.timeoutNanos = timeout.toNanos();
        this.minBytesPerSecond = minRate.toBytes();
        this.meters = meters;
        Gauge.builder("kikonect.http.body.memory", budget, BodyBudget::used)
                .description("Bytes of request bodies held in memory now (bounded by kikonect.server.body-memory)")
                .baseUnit("bytes")
                .register(meters);
    }

    /** A body that did not arrive in time or fast enough. */
    private static final class TooSlow extends IOException {}

    /** A body longer than it said, or than 1 MiB. */
    private static final class TooLarge extends IOException {}

    /** A chunked body that kept coming after the budget ran out. */
    private static final class OverBudget extends IOException {
        final BodyBudget.Refusal refusal;

        OverBudget(BodyBudget.Refusal refusal) {
            this.refusal = refusal;
        }
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        long declared = request.getContentLengthLong();
        boolean chunked = declared < 0 && request.getHeader("Transfer-Encoding") != null;
        if (declared == 0 || (declared < 0 && !chunked)) {
            chain.doFilter(request, response);
            return;
        }
        if (declared > LIMIT) {
            refuse(
                    response,
                    413,
                    "payload-too-large",
                    "Payload too large",
                    "Request bodies are limited to 1 MiB.",
                    "too_large");
            return;
        }
        String address = request.getRemoteAddr();
        long reserved = chunked ? STEP : declared;
        BodyBudget.Refusal refusal = budget.begin(address, reserved);
        if (refusal != null) {
            refuseOverBudget(response, refusal);
            return;
        }
        Reservation reservation = new Reservation(address, reserved);
        try {
            byte[] body;
            try {
                body = read(request.getInputStream(), declared, reservation);
            } catch (TooSlow e) {
                refuse(
                        response,
                        408,
                        "body-timeout",
                        "Request timeout",
                        "The request body did not arrive in time; send it at once (at least " + minBytesPerSecond
                                + " bytes per second).",
                        "too_slow");
                return;
            } catch (TooLarge e) {
                refuse(
                        response,
                        413,
                        "payload-too-large",
                        "Payload too large",
                        "Request bodies are limited to 1 MiB.",
                        "too_large");
                return;
            } catch (OverBudget e) {
                refuseOverBudget(response, e.refusal);
                return;
            } catch (EOFException e) {
                refuse(
                        response,
                        400,
                        "incomplete-body",
                        "Bad request",
                        "The connection ended before the whole body arrived.",
                        "incomplete");
                return;
            } catch (IOException e) {
                // A single read stalled for server.tomcat.connection-timeout: Tomcat has already set 408 and answers it
                // through the error page (web/ProblemErrorController) once this filter returns. Or the client went
                // away.
                countRefusal(timedOut(e) ? "too_slow" : "client_gone");
                return;
            }
            chain.doFilter(new Buffered(request, body), response);
        } finally {
            budget.end(address, reservation.bytes);
        }
    }

    private static final class Reservation {
        final String address;
        long bytes;

        Reservation(String address, long bytes) {
            this.address = address;
            this.bytes = bytes;
        }
    }

    private byte[] read(ServletInputStream in, long declared, Reservation reservation) throws IOException {
        long started = System.nanoTime();
        if (declared >= 0) {
            byte[] body = new byte[(int) declared];
            int off = 0;
            while (off < body.length) {
                int n = in.read(body, off, body.length - off);
                if (n < 0) {
                    throw new EOFException();
                }
                off += n;
                checkPace(started, off, off == body.length);
            }
            return body;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
            if (out.size() > LIMIT) {
                throw new TooLarge();
            }
            while (out.size() > reservation.bytes) {
                BodyBudget.Refusal refusal = budget.grow(reservation.address, STEP);
                if (refusal != null) {
                    throw new OverBudget(refusal);
                }
                reservation.bytes += STEP;
            }
            checkPace(started, out.size(), false);
        }
        return out.toByteArray();
    }

    /** Throws when the body is past its deadline, or (after the grace) arriving below the minimum rate. */
    private void checkPace(long started, long received, boolean complete) throws TooSlow {
        long elapsed = System.nanoTime() - started;
        if (elapsed > timeoutNanos && !complete) {
            throw new TooSlow();
        }
        long afterGrace = elapsed - GRACE.toNanos();
        if (!complete && afterGrace > 0 && received < minBytesPerSecond * (elapsed / 1_000_000_000.0)) {
            throw new TooSlow();
        }
    }

    private static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    private void refuseOverBudget(HttpServletResponse response, BodyBudget.Refusal refusal) throws IOException {
        response.setHeader("Retry-After", "1");
        if (refusal == BodyBudget.Refusal.ADDRESS) {
            refuse(
                    response,
                    429,
                    "too-many-bodies",
                    "Too many requests",
                    "Your address is sending as many request bodies at once as one address may; retry when they are done.",
                    "address");
        } else {
            refuse(
                    response,
                    503,
                    "overloaded",
                    "Service unavailable",
                    "This node holds as many request bodies in memory as it may; retry in a second.",
                    "node");
        }
    }

    private void refuse(
            HttpServletResponse response, int status, String type, String title, String detail, String reason)
            throws IOException {
        countRefusal(reason);
        // The rest of the body is not read: the connection cannot carry another request.
        response.setHeader("Connection", "close");
        Problems.write(response, status, type, title, detail);
    }

    private void countRefusal(String reason) {
        Counter.builder("kikonect.http.body.refused")
                .description("Request bodies refused before they were read completely, by reason")
                .tag("reason", reason)
                .register(meters)
                .increment();
    }

    /** The request with its body already in memory. */
    private static final class Buffered extends HttpServletRequestWrapper {
        private final byte[] body;
        private ServletInputStream stream;

        Buffered(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            if (stream == null) {
                stream = stream(new ByteArrayInputStream(body));
            }
            return stream;
        }

        private static ServletInputStream stream(ByteArrayInputStream in) {
            return new ServletInputStream() {
                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    return in.read(b, off, len);
                }

                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new IllegalStateException("the body is already in memory; read it synchronously");
                }
            };
        }

        @Override
        public BufferedReader getReader() {
            String encoding = getCharacterEncoding();
            Charset charset = StandardCharsets.UTF_8;
            if (encoding != null && Charset.isSupported(encoding)) {
                charset = Charset.forName(encoding);
            }
            return new BufferedReader(new InputStreamReader(getInputStream(), charset));
        }
    }
}
