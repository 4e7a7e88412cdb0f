package dev.kikonect.web;

import dev.kikonect.KiKonectProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * A node started without the {@code api} role ({@code kikonect.roles=executor}, say) answers only its health and
 * metrics endpoints (/health, /metrics), so that a load balancer never sends it traffic it should not take.
 */
@Component
class RoleFilter extends OncePerRequestFilter {

    private final boolean api;

    RoleFilter(KiKonectProperties properties) {
        this.api = properties.hasRole("api");
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String uri = request.getRequestURI();
        return api || uri.startsWith("/health") || uri.equals("/metrics") || uri.equals("/openapi.json");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        Problems.write(
                response,
                503,
                "role-not-served",
                "Service unavailable",
                "This node runs without the api role (kikonect.roles); send API requests to an api node; this one serves /health and /metrics.");
    }
}
