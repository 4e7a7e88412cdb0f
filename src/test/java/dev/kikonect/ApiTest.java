package dev.kikonect;

import dev.kikonect.support.Api;
import dev.kikonect.support.TestClock;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import tools.jackson.databind.JsonNode;

/**
 * Base of the end-to-end tests: the whole application on a random port, on a real embedded PostgreSQL (one per test
 * JVM, shared through Spring's context cache), spoken to over real HTTP. Tagged {@code app}: {@code mvn test
 * -DexcludedGroups=app} runs only the tests that need no application (units, and stores on {@code TestDatabase}).
 */
@Tag("app")
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {
            "kikonect.data-dir=target/test-data/${random.uuid}",
            "kikonect.delivery.timeout=1s",
            "kikonect.executor.poll-interval=50ms",
            "kikonect.scheduler.poll-interval=50ms",
            "kikonect.executor.sweep-interval=200ms",
            "kikonect.delivery.retry-delays=100ms,200ms",
            "kikonect.delivery.allowed-cidrs=127.0.0.1/32",
            "kikonect.auth.max-failures-per-address=100000",
            "kikonect.auth.registrations-per-hour=1000000", // every test registers its own users from 127.0.0.1
            "kikonect.quotas.min-cron-interval=1s",
            "logging.level.dev.kikonect=INFO"
        })
@Import(ApiTest.ClockConfig.class)
public abstract class ApiTest {

    @TestConfiguration(proxyBeanMethods = false)
    static class ClockConfig {
        @Bean
        @Primary
        TestClock testClock() {
            return new TestClock();
        }
    }

    @Value("${local.server.port}")
    int port;

    @Autowired
    protected TestClock clock;

    protected Api api;

    @BeforeEach
    void connect() {
        api = new Api(port);
    }

    protected static ConditionFactory eventually() {
        return Awaitility.await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(20));
    }

    /** Waits until the run reaches one of the final states and returns it. */
    protected JsonNode awaitFinished(Api.User user, long runId) {
        return eventually()
                .until(
                        () -> api.get("/runs/" + runId, user.token()).json(),
                        run -> run.path("status").asString().equals("succeeded")
                                || run.path("status").asString().equals("failed"));
    }
}
