package dev.kikonect.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * With {@code kikonect.metrics.token} set, {@code /metrics} answers only {@code Authorization: Bearer <token>}
 * (Prometheus: {@code authorization: {credentials: <token>}}); without it, {@code /metrics} is open, as on a
 * private network behind the load balancer. The metrics name no tenant data, but they do tell load and failure rates.
 */
@Component
class MetricsTokenFilter extends OncePerRequestFilter {

    private final byte[] expected;

    MetricsTokenFilter(@Value("${kikonect.metrics.token:}") String token) {
        this.expected = token.isBlank() ? null : ("Bearer " + token.strip()).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return expected == null || !request.getRequestURI().equals("/metrics");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        String given = request.getHeader("Authorization");
        if (given != null && MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), expected)) {
            chain.doFilter(request, response);
            return;
        }
        response.setHeader("WWW-Authenticate", "Bearer");
        Problems.write(
                response,
                401,
                "unauthorized",
                "Unauthorized",
                "/metrics needs the token set in kikonect.metrics.token, as a Bearer token.");
    }
}
