package dev.kikonect.auth;

import dev.kikonect.common.DomainException;
import dev.kikonect.common.PublicUrls;
import dev.kikonect.web.PublicEndpoint;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
class AuthController {

    private final AuthService auth;

    private final AccountThrottle throttle;
    private final SessionCookie cookie;
    private final Clock clock;

    private final EmailVerification verification;
    private final PublicUrls urls;

    AuthController(
            AuthService auth,
            AccountThrottle throttle,
            SessionCookie cookie,
            Clock clock,
            EmailVerification verification,
            PublicUrls urls) {
        this.verification = verification;
        this.urls = urls;
        this.auth = auth;
        this.throttle = throttle;
        this.cookie = cookie;
        this.clock = clock;
    }

    /** What the web app gets on signing in: the user and when the session ends; the token only in the cookie. */
    record CookieSession(User user, Instant expiresAt) {}

    /**
     * Signs in the browser way: the session token goes into an HttpOnly cookie (see {@link SessionCookie}), never into
     * the answer, so the web app stays signed in across reloads and tabs without any script holding the token.
     */
    @PublicEndpoint
    @PostMapping("/session")
    CookieSession startSession(
            @RequestBody Map<String, Object> body, HttpServletRequest request, HttpServletResponse response) {
        Session session = auth.login(body, request.getRemoteAddr());
        cookie.set(request, response, session.token(), session.expiresAt(), clock.instant());
        return new CookieSession(session.user(), session.expiresAt());
    }

    /**
     * Whether the browser's cookie holds a live session: {@code {user}} or {@code {user: null}} (200 either way, so that
     * the web app's first question on a reload is not an error).
     */
    @PublicEndpoint
    @GetMapping("/session")
    Map<String, Object> currentSession(HttpServletRequest request) {
        String token = SessionCookie.read(request);
        User user = token == null || token.startsWith(AuthService.API_KEY_PREFIX)
                ? null
                : auth.authenticate(token).map(a -> a.caller().user()).orElse(null);
        Map<String, Object> answer = new HashMap<>();
        answer.put("user", user);
        return answer;
    }

    /** Signs the browser out: the session ends on the server and the cookie is cleared. */
    @UserLevel
    @Scoped(Scope.READ)
    @DeleteMapping("/session")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void endSession(Caller caller, HttpServletRequest request, HttpServletResponse response) {
        if (!caller.isApiKey()) {
            auth.logout(caller.token());
        }
        cookie.clear(request, response);
    }

    @PublicEndpoint
    @PostMapping("/register")
    @ResponseStatus(HttpStatus.CREATED)
    User register(@RequestBody Map<String, Object> body, HttpServletRequest request) {
        throttle.register(request.getRemoteAddr());
        User user;
        try {
            user = auth.register(body);
        } catch (DomainException.Conflict taken) {
            if (!"email-taken".equals(taken.type())) {
                throw taken;
            }
            // Registering must not tell who has an account here: the same answer, and (when the server sends mail) a
            // mail to the address's owner. See AuthService.decoy for what is left to a prober.
            if (verification.mailSetUp()) {
                verification.sendAlreadyRegistered(String.valueOf(body.get("email")));
            }
            return auth.decoy(body);
        }
        verification.send(user); // when mail is set up: a link that verifies the address
        return user;
    }

    /** A mailed verification link: verifies the address and sends the browser to the app's login page. */
    @PublicEndpoint
    @GetMapping("/verify-email")
    void verifyEmail(@RequestParam(required = false) String token, HttpServletResponse response) throws IOException {
        response.setHeader("Cache-Control", "no-store");
        boolean done = verification.verify(token).isPresent();
        response.sendRedirect(urls.base() + (done ? "/app/#/login?verified=1" : "/app/#/login?verify_error=expired"));
    }

    /** Mails the signed-in user another verification link. */
    @UserLevel(sessionOnly = true)
    @PostMapping("/me/email-verification")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void resendVerification(Caller caller) {
        verification.resend(caller.user());
    }

    @PublicEndpoint
    @PostMapping("/login")
    Session login(@RequestBody Map<String, Object> body, HttpServletRequest request) {
        return auth.login(body, request.getRemoteAddr());
    }

    @UserLevel
    @Scoped(Scope.READ)
    @PostMapping("/logout")
    @ResponseStatus(HttpStatus.NO_CONTENT)
    void logout(Caller caller) {
        if (caller.token().startsWith(AuthService.API_KEY_PREFIX)) {
            // A 204 here once suggested the key was revoked while it kept working.
            throw new DomainException.InvalidRequest(
                    "api-key-logout", "An API key is not logged out: delete it (DELETE /api-keys/{id}) to revoke it.");
        }
        auth.logout(caller.token());
    }

    @UserLevel
    @Scoped(Scope.READ)
    @GetMapping("/me")
    Map<String, Object> me(Caller caller) {
        User user = caller.user();
        Map<String, Object> me = new LinkedHashMap<>();
        me.put("id", user.id());
        me.put("email", user.email());
        me.put("firstname", user.firstname());
        me.put("lastname", user.lastname());
        me.put("created_at", user.createdAt());
        me.put("instance_admin", user.instanceAdmin());
        me.put("email_verified", verification.verified(user.id()));
        return me;
    }
}
