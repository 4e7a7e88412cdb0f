package dev.kikonect.support;

import dev.kikonect.KiKonectApplication;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;

/**
 * A KiKonect node in its own JVM (this test JVM's class path, -Xmx256m, a free port), for the tests that kill a node
 * with SIGKILL: {@link #start} waits until it is ready; {@link #kill} is the SIGKILL; closing kills it too and waits
 * for the process to end. Its output goes to {@code node.log} in its data directory.
 */
public final class NodeProcess implements AutoCloseable {

    private final Process process;
    private final int port;
    private final Path log;

    private NodeProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Where its output goes. */
    public Path log() {
        return log;
    }

    /**
     * The settings of a node that a crash test kills: on {@code dataDir} and {@code port} (0: any), polling every 50
     * ms, leases of 3 s (what a killed node's jobs wait for before a rescue), a sweep every 500 ms, retries after 100
     * ms, receivers on 127.0.0.1 allowed.
     */
    public static List<String> crashTestArgs(Path dataDir, int port) {
        return List.of(
                "--server.port=" + port,
                "--kikonect.data-dir=" + dataDir,
                "--kikonect.executor.poll-interval=50ms",
                "--kikonect.executor.lease-duration=3s",
                "--kikonect.executor.sweep-interval=500ms",
                "--kikonect.delivery.retry-delays=100ms",
                "--kikonect.delivery.allowed-cidrs=127.0.0.1/32");
    }

    /** A free local port. */
    public static int freePort() {
        try (ServerSocket free = new ServerSocket(0)) {
            return free.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Starts a node on {@code dataDir} with {@code args} (which must include {@code --server.port=<port>}), and waits
     * until {@code /health/ready} answers 200.
     */
    public static NodeProcess start(Path dataDir, int port, List<String> args) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                KiKonectApplication.class.getName()));
        command.addAll(args);
        Path log = dataDir.resolve("node.log");
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        NodeProcess node = new NodeProcess(process, port, log);
        try {
            Api api = node.api();
            Awaitility.await()
                    .atMost(Duration.ofSeconds(90))
                    .ignoreExceptions()
                    .until(() -> api.get("/health/ready", null).status() == 200);
        } catch (RuntimeException e) {
            node.close();
            throw e;
        }
        return node;
    }

    public int port() {
        return port;
    }

    public Api api() {
        return new Api(port);
    }

    /** SIGKILL: no shutdown hook, no graceful anything. */
    public void kill() {
        process.destroyForcibly();
    }

    /** The underlying process (to stop it gracefully, say). */
    public Process process() {
        return process;
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the node did not end within 30 s of SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
