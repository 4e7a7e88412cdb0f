package dev.kikonect.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Security headers. Every response: {@code X-Content-Type-Options: nosniff} and {@code Referrer-Policy: no-referrer}.
 * The pages a browser renders ({@code /app/}, {@code /docs}) also get a Content-Security-Policy that allows only this
 * origin's scripts (plus, on /docs, its one inline script by hash), no framing ({@code frame-ancestors 'none'},
 * {@code X-Frame-Options: DENY}), no plugins and no base-URI tricks. Styles may be inline: React and Swagger UI set
 * style attributes.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
class SecurityHeadersFilter extends OncePerRequestFilter {

    static final String APP_POLICY =
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                    + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    static final String DOCS_POLICY = APP_POLICY.replace(
            "script-src 'self'", "script-src 'self' '" + sha256(OpenApiController.DOCS_SCRIPT) + "'");

    private static String sha256(String script) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(script.getBytes(StandardCharsets.UTF_8));
            return "sha256-" + Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        response.setHeader("X-Content-Type-Options", "nosniff");
        response.setHeader("Referrer-Policy", "no-referrer");
        String uri = request.getRequestURI();
        if (uri.equals("/docs")) {
            page(response, DOCS_POLICY);
        } else if (uri.equals("/app") || uri.startsWith("/app/") || uri.equals("/")) {
            page(response, APP_POLICY);
        }
        chain.doFilter(request, response);
    }

    private static void page(HttpServletResponse response, String policy) {
        response.setHeader("Content-Security-Policy", policy);
        response.setHeader("X-Frame-Options", "DENY");
    }
}
