package dev.kikonect.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

class InFlightLimitFilterTest {

    @Test
    void a_request_beyond_the_bound_gets_503_with_retry_after_and_health_checks_always_pass() throws Exception {
        InFlightLimitFilter filter = new InFlightLimitFilter(1);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<MockHttpServletResponse> first = CompletableFuture.supplyAsync(() -> {
            MockHttpServletResponse response = new MockHttpServletResponse();
            try {
                filter.doFilter(new MockHttpServletRequest("POST", "/hooks/x"), response, (req, res) -> {
                    inside.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return response;
        });
        inside.await();

        MockHttpServletResponse refused = new MockHttpServletResponse();
        filter.doFilter(
                new MockHttpServletRequest("POST", "/hooks/y"),
                refused,
                (req, res) -> ((MockHttpServletResponse) res).setStatus(202));
        MockHttpServletResponse health = new MockHttpServletResponse();
        filter.doFilter(
                new MockHttpServletRequest("GET", "/health/ready"),
                health,
                (req, res) -> ((MockHttpServletResponse) res).setStatus(200));
        release.countDown();

        assertThat(refused.getStatus()).isEqualTo(503);
        assertThat(refused.getHeader("Retry-After")).isEqualTo("1");
        assertThat(refused.getContentType()).startsWith("application/problem+json");
        assertThat(health.getStatus()).isEqualTo(200);
        assertThat(first.get().getStatus()).isEqualTo(200);
        MockHttpServletResponse after = new MockHttpServletResponse();
        filter.doFilter(
                new MockHttpServletRequest("POST", "/hooks/z"),
                after,
                (req, res) -> ((MockHttpServletResponse) res).setStatus(202));
        assertThat(after.getStatus()).isEqualTo(202);
    }
}
