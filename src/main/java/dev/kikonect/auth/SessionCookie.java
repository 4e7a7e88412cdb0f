package dev.kikonect.auth;

import dev.kikonect.common.PublicUrls;
import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Duration;
import java.time.Instant;
import org.springframework.http.ResponseCookie;
import org.springframework.stereotype.Component;

/**
 * The web app's session: the login token in an {@code HttpOnly}, {@code SameSite=Strict} cookie (and {@code Secure}
 * when KiKonect is reached over https), so that a reload or a new tab stays signed in and no script can read the
 * token. Requests signed in by this cookie that change something must carry {@value #CSRF_HEADER}: a header no
 * other site can make a browser send here (it would need a CORS preflight KiKonect never grants), on top of
 * SameSite=Strict. Bearer tokens work as before and need no such header.
 */
@Component
public class SessionCookie {

    public static final String NAME = "kikonect_session";
    public static final String CSRF_HEADER = "X-Requested-With";
    public static final String CSRF_VALUE = "KiKonect";

    private final PublicUrls urls;

    SessionCookie(PublicUrls urls) {
        this.urls = urls;
    }

    /** Sets the cookie holding {@code token} until {@code expiresAt}. */
    public void set(
            HttpServletRequest request, HttpServletResponse response, String token, Instant expiresAt, Instant now) {
        response.addHeader(
                "Set-Cookie",
                ResponseCookie.from(NAME, token)
                        .httpOnly(true)
                        .secure(secure(request))
                        .sameSite("Strict")
                        .path("/")
                        .maxAge(Duration.between(now, expiresAt))
                        .build()
                        .toString());
    }

    public void clear(HttpServletRequest request, HttpServletResponse response) {
        response.addHeader(
                "Set-Cookie",
                ResponseCookie.from(NAME, "")
                        .httpOnly(true)
                        .secure(secure(request))
                        .sameSite("Strict")
                        .path("/")
                        .maxAge(0)
                        .build()
                        .toString());
    }

    /** The token in the request's session cookie, if any. */
    static String read(HttpServletRequest request) {
        if (request.getCookies() == null) {
            return null;
        }
        for (Cookie cookie : request.getCookies()) {
            if (NAME.equals(cookie.getName()) && !cookie.getValue().isEmpty()) {
                return cookie.getValue();
            }
        }
        return null;
    }

    private boolean secure(HttpServletRequest request) {
        return request.isSecure() || urls.base().startsWith("https:");
    }
}
