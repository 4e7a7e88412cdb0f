package dev.kikonect.execution;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class HostLimiterTest {

    private final HostLimiter limiter = new HostLimiter(2);

    @Test
    void a_host_gets_at_most_its_turns_and_another_host_is_not_held_up() throws Exception {
        assertThat(limiter.acquire("a.example", Duration.ZERO)).isTrue();
        assertThat(limiter.acquire("a.example", Duration.ZERO)).isTrue();

        assertThat(limiter.acquire("a.example", Duration.ofMillis(50)))
                .as("a third turn")
                .isFalse();
        assertThat(limiter.acquire("b.example", Duration.ZERO)).isTrue();
    }

    @Test
    void a_waiting_delivery_gets_the_turn_released_and_an_idle_host_is_forgotten() throws Exception {
        limiter.acquire("a.example", Duration.ZERO);
        limiter.acquire("a.example", Duration.ZERO);
        CompletableFuture<Boolean> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return limiter.acquire("a.example", Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });

        limiter.release("a.example");

        assertThat(waiting.get()).isTrue();
        limiter.release("a.example");
        limiter.release("a.example");
        assertThat(limiter.hosts()).isZero();
    }
}
