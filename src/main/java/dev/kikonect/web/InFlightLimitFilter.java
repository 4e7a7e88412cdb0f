package dev.kikonect.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.Semaphore;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Bounds the requests handled at once ({@code kikonect.server.max-in-flight}, default 512). With virtual threads
 * Tomcat's thread pool no longer does: an overloaded node would otherwise turn a client backlog into heap until it
 * runs out. Past the bound a request gets 503 with Retry-After at once, which clients and load balancers handle,
 * and the node keeps serving what it has. Health checks are never refused.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 3) // after BodyBufferFilter: a permit is taken once the body is in memory
class InFlightLimitFilter extends OncePerRequestFilter {

    private final Semaphore permits;

    InFlightLimitFilter(@Value("${kikonect.server.max-in-flight:512}") int maxInFlight) {
        this.permits = new Semaphore(Math.max(1, maxInFlight));
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return request.getRequestURI().startsWith("/health");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (!permits.tryAcquire()) {
            response.setHeader("Retry-After", "1");
            Problems.write(
                    response,
                    503,
                    "overloaded",
                    "Service unavailable",
                    "This node is handling as many requests as it takes at once; retry in a second.");
            return;
        }
        try {
            chain.doFilter(request, response);
        } finally {
            permits.release();
        }
    }
}
