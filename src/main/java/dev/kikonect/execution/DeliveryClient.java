package dev.kikonect.execution;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.Call;
import okhttp3.Connection;
import okhttp3.ConnectionPool;
import okhttp3.EventListener;
import okhttp3.Headers;
import okhttp3.HttpUrl;
import okhttp3.Interceptor;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.internal.connection.RealConnection;
import okio.BufferedSource;

/**
 * The deliveries' HTTP client: OkHttp behind the SSRF guard. Chosen by measurement over Apache HttpClient 5 and
 * Jetty's client (see the README, "Outbound HTTP"); it has every property a delivery needs without code of ours:
 *
 * <ul>
 *   <li>OkHttp connects to exactly the addresses its {@link okhttp3.Dns} returns, and ours returns the addresses the
 *       guard checked (a name with any refused address is refused whole): no second lookup, so no window for DNS
 *       rebinding. OkHttp skips the lookup for IP literals, so every socket it opens also checks, in {@code
 *       connect}, the very address it connects to ({@link GuardedSockets}). No proxy is ever used, and the JDK's
 *       {@code ProxySelector} is never asked (plain sockets would ask it about SOCKS). TLS still checks the
 *       certificate against the URL's host name and sends it as SNI.
 *   <li>One deadline for the whole exchange: the call timeout covers the lookup, connecting, writing the request
 *       body (a receiver that stops reading cannot hold a delivery), waiting and reading the response.
 *   <li>No redirects followed, nothing retried by the client (KiKonect's retry policy decides), keep-alive
 *       connections pooled, gzip responses decoded.
 *   <li>Only the first {@link #BODY_PREFIX} bytes of a response are read (more for a step whose response is kept); a longer body ends the call, so the rest is
 *       never read (the connection is dropped instead of drained).
 * </ul>
 */
final class DeliveryClient implements AutoCloseable {

    /** The guard refused an address of this host; not worth retrying. */
    static final class RefusedAddressException extends UnknownHostException {
        RefusedAddressException(String reason) {
            super(reason);
        }
    }

    /** The deadline passed; {@code connected}: a connection had been made (so the receiver was slow to answer). */
    static final class DeadlineException extends IOException {
        final boolean connected;

        DeadlineException(boolean connected, Throwable cause) {
            super(connected ? "timed out" : "connect timed out", cause);
            this.connected = connected;
        }
    }

    record Response(int status, List<Map.Entry<String, String>> headers, byte[] body, boolean bodyTruncated) {
        Optional<String> header(String name) {
            return headers.stream()
                    .filter(h -> h.getKey().equalsIgnoreCase(name))
                    .map(Map.Entry::getValue)
                    .findFirst();
        }
    }

    /** Trust for TLS; null fields mean the JVM's default trust store. Tests pass their own. */
    record Tls(SSLSocketFactory socketFactory, X509TrustManager trustManager) {
        static final Tls SYSTEM = new Tls(null, null);
    }

    static final int BODY_PREFIX = 4096;
    /**
     * Idle keep-alive connections kept for reuse, across all receivers, and for how long: less than the 5 s after which
     * Node.js and Apache close an idle connection, because a request sent on a connection the receiver is closing
     * fails ("unexpected end of stream"). With 30 s, 151 and 206 of 15,000 first attempts to a Node receiver failed that
     * way; with 4 s, none (bench/results/2026-11-27-keep-alive.md). A connection busier than once per 4 s is reused.
     */
    private static final int MAX_IDLE_CONNECTIONS = 256;

    private static final Duration KEEP_ALIVE = Duration.ofSeconds(4);

    /** How far a call got; set by {@link #PROGRESS}, read when it fails or its deadline passes. */
    private static final class Progress {
        /** It has a connection. */
        volatile boolean connected;
        /** It opened that connection itself (else it took one from the pool). */
        volatile boolean opened;
        /** A response's head arrived. */
        volatile boolean answered;

        /**
         * Whether a failure can only be a connection the receiver had closed while it idled in the pool: the call took a
         * pooled connection and not a byte of an answer came back. Nothing was processed then (the receiver had already
         * let the connection go), so sending again, on a new connection and with the same webhook-id, is safe.
         */
        boolean stalePooled() {
            return connected && !opened && !answered;
        }
    }

    private static final EventListener PROGRESS = new EventListener() {
        @Override
        public void connectStart(Call call, InetSocketAddress address, Proxy proxy) {
            Progress progress = call.request().tag(Progress.class);
            if (progress != null) {
                progress.opened = true;
            }
        }

        @Override
        public void connectionAcquired(Call call, Connection connection) {
            Progress progress = call.request().tag(Progress.class);
            if (progress != null) {
                progress.connected = true;
            }
        }

        @Override
        public void responseHeadersEnd(Call call, okhttp3.Response response) {
            Progress progress = call.request().tag(Progress.class);
            if (progress != null) {
                progress.answered = true;
            }
        }
    };

    /**
     * Keeps a connection out of the pool when its response says the receiver closes it: an HTTP/1.0 answer without
     * "Connection: keep-alive" (Python's http.server once a handler sets Content-Length). OkHttp would pool it, and the
     * next request on it would fail with "unexpected end of stream" (3 of 6 first attempts did).
     * {@code noNewExchanges} is OkHttp's own way to retire a connection (it does the same on "Connection: close");
     * should a later OkHttp hide it, the stale-connection retry in {@link #send} still covers the case.
     */
    private static final Interceptor NO_REUSE_AFTER_HTTP_1_0 = chain -> {
        okhttp3.Response response = chain.proceed(chain.request());
        if (response.protocol() == Protocol.HTTP_1_0
                && !"keep-alive".equalsIgnoreCase(response.header("Connection"))
                && chain.connection() instanceof RealConnection connection) {
            connection.noNewExchanges();
        }
        return response;
    };

    private final AddressGuard guard;
    private final OkHttpClient client;
    /**
     * The same client with a pool that keeps nothing: a request whose pooled connection turned out dead is sent again
     * here, on a connection opened for it. Trying the pool again could take the next dead one (a receiver that closes
     * each connection after answering, sent to 16 at once, leaves many).
     */
    private final OkHttpClient unpooled;

    DeliveryClient(AddressGuard guard, Tls tls, Duration connectTimeout) {
        this.guard = guard;
        OkHttpClient.Builder builder = new OkHttpClient.Builder()
                .dns(this::resolve)
                .proxy(Proxy.NO_PROXY)
                .socketFactory(new GuardedSockets())
                .followRedirects(false)
                .followSslRedirects(false)
                .retryOnConnectionFailure(false)
                .connectionPool(new ConnectionPool(MAX_IDLE_CONNECTIONS, KEEP_ALIVE.toSeconds(), TimeUnit.SECONDS))
                .connectTimeout(connectTimeout)
                // The call timeout bounds everything; per-read and per-write timeouts would only restart with each
                // byte.
                .readTimeout(Duration.ZERO)
                .writeTimeout(Duration.ZERO)
                .eventListener(PROGRESS)
                .addNetworkInterceptor(NO_REUSE_AFTER_HTTP_1_0);
        if (tls.socketFactory() != null) {
            builder.sslSocketFactory(tls.socketFactory(), tls.trustManager());
        }
        this.client = builder.build();
        this.unpooled = client.newBuilder()
                .connectionPool(new ConnectionPool(0, 1, TimeUnit.MILLISECONDS))
                .build();
    }

    /**
     * Plain sockets that refuse to connect to an address the guard refuses, and never consult a proxy. OkHttp opens
     * every connection (TLS ones too, which it layers on top) through this factory.
     */
    private final class GuardedSockets extends SocketFactory {
        @Override
        public Socket createSocket() {
            return new Socket(Proxy.NO_PROXY) {
                @Override
                public void connect(SocketAddress endpoint, int timeout) throws IOException {
                    if (!(endpoint instanceof InetSocketAddress address) || address.getAddress() == null) {
                        throw new RefusedAddressException("unresolved address " + endpoint);
                    }
                    // Names were checked by the resolver below; what gets here unchecked is an address the URL spelled
                    // out.
                    Optional<String> refusal = guard.refusal(address.getAddress());
                    if (refusal.isPresent()) {
                        throw new RefusedAddressException(refusal.get());
                    }
                    super.connect(endpoint, timeout);
                }
            };
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            throw new UnsupportedOperationException("OkHttp creates unconnected sockets");
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) {
            throw new UnsupportedOperationException("OkHttp creates unconnected sockets");
        }

        @Override
        public Socket createSocket(InetAddress host, int port) {
            throw new UnsupportedOperationException("OkHttp creates unconnected sockets");
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) {
            throw new UnsupportedOperationException("OkHttp creates unconnected sockets");
        }
    }

    /** Resolves {@code host} once and checks every address; one refused address refuses the name. */
    List<InetAddress> resolve(String host) throws UnknownHostException {
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new UnknownHostException(host);
        }
        for (InetAddress address : addresses) {
            // Worded without the address: the error reaches the run's attempt log, and its readers need not learn what
            // an internal name resolves to.
            Optional<String> refusal = guard.refusalWithoutAddress(address);
            if (refusal.isPresent()) {
                // A name that mixes public and internal addresses is an attack, not a misconfiguration.
                throw new RefusedAddressException(refusal.get());
            }
        }
        return List.of(addresses);
    }

    /**
     * POSTs {@code body} to {@code uri} with {@code headers}; the whole exchange ends within {@code timeout}.
     *
     * @throws IllegalArgumentException when the URI is not an http or https URL
     */
    Response post(URI uri, List<Map.Entry<String, String>> headers, byte[] body, Duration timeout) throws IOException {
        return send("POST", uri, headers, body, timeout, BODY_PREFIX);
    }

    /**
     * Sends {@code method} with {@code body} (null: no body, for GET and DELETE) and reads at most {@code maxBody}
     * bytes of the response; the whole exchange ends within {@code timeout}.
     */
    Response send(
            String method, URI uri, List<Map.Entry<String, String>> headers, byte[] body, Duration timeout, int maxBody)
            throws IOException {
        HttpUrl url = HttpUrl.get(uri.toString());
        long deadline = System.nanoTime() + timeout.toNanos();
        // A request on a pooled connection the receiver had closed fails before any answer: sent again once, on a
        // connection opened for it, within the same deadline (OkHttp's own retryOnConnectionFailure is off: it also
        // retries requests a receiver may have processed).
        Progress progress = new Progress();
        try {
            return sendOnce(client, method, url, headers, body, deadline - System.nanoTime(), maxBody, progress);
        } catch (DeadlineException e) {
            throw e;
        } catch (IOException e) {
            if (!progress.stalePooled() || deadline - System.nanoTime() <= 0) {
                throw e;
            }
        }
        return sendOnce(unpooled, method, url, headers, body, deadline - System.nanoTime(), maxBody, new Progress());
    }

    private Response sendOnce(
            OkHttpClient via,
            String method,
            HttpUrl url,
            List<Map.Entry<String, String>> headers,
            byte[] body,
            long timeoutNanos,
            int maxBody,
            Progress progress)
            throws IOException {
        Request.Builder request = new Request.Builder().url(url).tag(Progress.class, progress);
        for (Map.Entry<String, String> h : headers) {
            request.addHeader(h.getKey(), h.getValue());
        }
        // No media type on the body: the Content-Type header above is sent as given.
        request.method(method, body == null ? null : RequestBody.create(body, null));
        Call call = via.newCall(request.build());
        call.timeout().timeout(Math.max(1, timeoutNanos), TimeUnit.NANOSECONDS);
        try (okhttp3.Response response = call.execute()) {
            BufferedSource source = response.body().source();
            boolean truncated = source.request(maxBody + 1L);
            byte[] prefix =
                    source.getBuffer().readByteArray(Math.min(source.getBuffer().size(), maxBody));
            if (truncated) {
                call.cancel(); // close the connection rather than read (or drain) the rest
            }
            return new Response(response.code(), headerList(response.headers()), prefix, truncated);
        } catch (InterruptedIOException e) {
            // The call timeout ("timeout") or a connect timeout (SocketTimeoutException) fired.
            throw new DeadlineException(progress.connected, e);
        }
    }

    private static List<Map.Entry<String, String>> headerList(Headers headers) {
        List<Map.Entry<String, String>> out = new ArrayList<>(headers.size());
        for (int i = 0; i < headers.size(); i++) {
            out.add(Map.entry(headers.name(i), headers.value(i)));
        }
        return out;
    }

    /** Idle pooled connections, for tests and metrics. */
    int idleConnections() {
        return client.connectionPool().idleConnectionCount();
    }

    @Override
    public void close() {
        client.connectionPool().evictAll();
        client.dispatcher().executorService().shutdown();
    }
}
