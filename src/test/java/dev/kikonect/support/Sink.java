package dev.kikonect.support;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.function.Function;

/** A real local HTTP server that records every request and answers as the test tells it to. */
public class Sink implements AutoCloseable {

    /** One received request. Header names are lower-case. */
    public record Received(String method, String path, Map<String, List<String>> headers, String body, Instant at) {
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase());
            return values == null || values.isEmpty() ? null : values.get(0);
        }
    }

    /** What to answer. {@code hang} keeps the connection open without answering until the sink closes. */
    public record Reply(int status, Map<String, String> headers, String body, boolean hangs) {
        public static Reply status(int status) {
            return new Reply(status, Map.of(), "", false);
        }

        public static Reply hanging() {
            return new Reply(0, Map.of(), "", true);
        }
    }

    private final HttpServer server;
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile Function<Received, Reply> replies = r -> Reply.status(200);

    public Sink() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4096);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    private void handle(HttpExchange exchange) throws IOException {
        Map<String, List<String>> headers = new ConcurrentHashMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), List.copyOf(v)));
        String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        Received request = new Received(
                exchange.getRequestMethod(), exchange.getRequestURI().toString(), headers, body, Instant.now());
        received.add(request);
        Reply reply = replies.apply(request);
        if (reply.hangs()) {
            try {
                closing.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
            return;
        }
        reply.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        byte[] bytes = reply.body().getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(reply.status(), bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
        exchange.close();
    }

    public Sink replyWith(Function<Received, Reply> replies) {
        this.replies = replies;
        return this;
    }

    public Sink replyWith(int status) {
        return replyWith(r -> Reply.status(status));
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    public String url() {
        return url("/hook");
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
    }
}
