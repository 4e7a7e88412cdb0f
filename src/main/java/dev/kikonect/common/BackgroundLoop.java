package dev.kikonect.common;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * A named platform thread that runs {@link #runOnce()} over and over while the application runs, pausing as long as
 * each pass asks, and a second after a failure (a database restart, say) instead of dying.
 */
public abstract class BackgroundLoop implements SmartLifecycle {

    private final Logger log = LoggerFactory.getLogger(getClass());
    private final String name;
    private final boolean enabled;
    private volatile boolean running;
    private Thread thread;

    protected BackgroundLoop(String name, boolean enabled) {
        this.name = name;
        this.enabled = enabled;
    }

    /** One pass; returns how long to wait before the next one ({@link Duration#ZERO}: at once). */
    protected abstract Duration runOnce();

    @Override
    public synchronized void start() {
        if (!enabled || running) {
            return;
        }
        running = true;
        thread = Thread.ofPlatform().name(name).daemon(true).start(this::loop);
    }

    private void loop() {
        while (running) {
            Duration pause;
            try {
                pause = runOnce();
            } catch (Throwable e) { // no failure of one pass ends the loop (OutOfMemoryError exits the process)
                log.warn("{} failed; trying again in 1 s: {}", name, e.toString());
                pause = Duration.ofSeconds(1);
            }
            if (!pause.isZero() && running) {
                try {
                    Thread.sleep(pause.toMillis());
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    @Override
    public synchronized void stop() {
        if (!running) {
            return;
        }
        running = false;
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
