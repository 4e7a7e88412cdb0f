package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.ApiTest;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

/** /metrics behind kikonect.metrics.token (the same context as QuotasTest: one more context, not two). */
@TestPropertySource(
        properties = {
            "kikonect.metrics.token=scrape-me-0123456789",
            "kikonect.quotas.max-workflows=3",
            "kikonect.quotas.max-api-keys=2",
            "kikonect.quotas.min-cron-interval=10s",
            "kikonect.quotas.runs-per-minute=3",
            "kikonect.quotas.max-sessions=2"
        })
class MetricsTokenTest extends ApiTest {

    @Test
    void metrics_need_the_configured_token_and_other_routes_do_not_change() {
        assertThat(api.get("/metrics", null).status()).isEqualTo(401);
        assertThat(api.get("/metrics", "wrong-token").status()).isEqualTo(401);

        var scraped = api.get("/metrics", "scrape-me-0123456789");
        assertThat(scraped.status()).isEqualTo(200);
        assertThat(scraped.body()).contains("kikonect_");
        assertThat(api.get("/health/live", null).status()).isEqualTo(200);
    }
}
