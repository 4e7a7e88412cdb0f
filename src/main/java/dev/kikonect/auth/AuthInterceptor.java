package dev.kikonect.auth;

import dev.kikonect.common.DomainException;
import dev.kikonect.web.PublicEndpoint;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Optional;
import org.springframework.core.MethodParameter;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.support.WebDataBinderFactory;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.method.HandlerMethod;
import org.springframework.web.method.support.HandlerMethodArgumentResolver;
import org.springframework.web.method.support.ModelAndViewContainer;
import org.springframework.web.servlet.HandlerInterceptor;

/**
 * Requires {@code Authorization: Bearer <token>} on every API handler not marked {@link PublicEndpoint}; puts the
 * caller in a workspace (the {@value #WORKSPACE_HEADER} header, else the user's personal workspace; an API key is
 * always in its own), answering 404 when the caller is not a member of the one named, exactly as for a missing
 * object; then checks that both the token's {@link Scope} and the member's {@link Role} cover the handler's (403
 * {@code insufficient-scope} / {@code insufficient-role} otherwise), and hands the caller to handlers that declare a
 * {@link Caller} parameter. {@link UserLevel} handlers skip the workspace.
 */
@Component
class AuthInterceptor implements HandlerInterceptor, HandlerMethodArgumentResolver {

    static final String WORKSPACE_HEADER = "KiKonect-Workspace";
    private static final String CALLER = AuthInterceptor.class.getName() + ".caller";

    private final AuthService auth;
    private final Memberships memberships;

    AuthInterceptor(AuthService auth, Memberships memberships) {
        this.auth = auth;
        this.memberships = memberships;
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler) {
        if (!(handler instanceof HandlerMethod method)) {
            return true; // static resources and the like
        }
        if (method.hasMethodAnnotation(PublicEndpoint.class)
                || method.getBeanType().isAnnotationPresent(PublicEndpoint.class)
                || !method.getBeanType().getPackageName().startsWith("dev.kikonect")) {
            return true;
        }
        String header = request.getHeader("Authorization");
        String token;
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            token = header.substring(7).strip();
        } else if ((token = SessionCookie.read(request)) != null) {
            // signed in by the browser's cookie: a change must carry the header no other site can send
            String verb = request.getMethod();
            if (!("GET".equals(verb) || "HEAD".equals(verb) || "OPTIONS".equals(verb))
                    && !SessionCookie.CSRF_VALUE.equals(request.getHeader(SessionCookie.CSRF_HEADER))) {
                throw new DomainException.Forbidden(
                        "csrf-header-missing",
                        "A request signed in by the session cookie that changes something must carry '"
                                + SessionCookie.CSRF_HEADER + ": " + SessionCookie.CSRF_VALUE
                                + "' (or use an Authorization: Bearer token).");
            }
        } else {
            throw new DomainException.NotAuthenticated(
                    "This endpoint needs an 'Authorization: Bearer <token>' header; get a token from POST /login.");
        }
        AuthService.Authenticated found = auth.authenticate(token)
                .orElseThrow(() -> new DomainException.NotAuthenticated(
                        "The token is invalid, expired or revoked; log in again."));
        Caller caller = found.caller();
        Scope needed = needed(method, request.getMethod());
        UserLevel userLevel = method.getMethodAnnotation(UserLevel.class);
        if (userLevel == null) {
            userLevel = method.getBeanType().getAnnotation(UserLevel.class); // on the controller: all its routes
        }
        if (userLevel != null) {
            if (userLevel.sessionOnly() && caller.isApiKey()) {
                throw new DomainException.Forbidden(
                        "session-required",
                        "This operation acts on a person's account: sign in, an API key cannot do it.");
            }
            if (!caller.scope().covers(needed)) {
                throw insufficientScope(caller, needed);
            }
            request.setAttribute(CALLER, caller.in(null, request.getRemoteAddr()));
            return true;
        }
        Long named = workspace(request.getHeader(WORKSPACE_HEADER));
        if (found.keyWorkspace() != null && named != null && !named.equals(found.keyWorkspace())) {
            throw new DomainException.NotFound("Workspace " + named);
        }
        Long wanted = found.keyWorkspace() != null ? found.keyWorkspace() : named;
        Optional<Membership> membership = memberships.find(caller.userId(), wanted);
        if (membership.isEmpty()) {
            if (caller.isApiKey()) { // its maker left the workspace: the key went with them
                throw new DomainException.NotAuthenticated("The token is invalid, expired or revoked; log in again.");
            }
            throw new DomainException.NotFound("Workspace " + (wanted == null ? "" : wanted));
        }
        if (membership.get().requireSso() && "password".equals(caller.method())) {
            throw new DomainException.Forbidden(
                    "sso-required",
                    "Workspace " + membership.get().workspaceId()
                            + " admits only single sign-on sessions: sign in with your identity provider.");
        }
        if (!caller.scope().covers(needed)) {
            throw insufficientScope(caller, needed);
        }
        if (!membership.get().role().ceiling().covers(needed)) {
            throw new DomainException.Forbidden(
                    "insufficient-role",
                    "Your role in this workspace is " + membership.get().role().wire() + "; this operation needs "
                            + Role.of(needed).wire() + ".");
        }
        request.setAttribute(CALLER, caller.in(membership.get(), request.getRemoteAddr()));
        return true;
    }

    private static DomainException insufficientScope(Caller caller, Scope needed) {
        return new DomainException.Forbidden(
                "insufficient-scope",
                "This API key has scope " + caller.scope().wire() + "; this operation needs " + needed.wire() + ".");
    }

    /** The header's workspace id; a malformed one is a workspace nobody has (404). */
    private static Long workspace(String header) {
        if (header == null || header.isBlank()) {
            return null;
        }
        try {
            long id = Long.parseLong(header.strip());
            if (id > 0) {
                return id;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new DomainException.InvalidRequest(
                "bad-workspace-header",
                WORKSPACE_HEADER + " must be a workspace id (a positive integer), as GET /workspaces lists them.");
    }

    /** The handler's {@link Scoped} (method, then class), else read for GET/HEAD and write for the rest. */
    private static Scope needed(HandlerMethod method, String httpMethod) {
        Scoped scoped = method.getMethodAnnotation(Scoped.class);
        if (scoped == null) {
            scoped = method.getBeanType().getAnnotation(Scoped.class);
        }
        if (scoped != null) {
            return scoped.value();
        }
        return "GET".equals(httpMethod) || "HEAD".equals(httpMethod) ? Scope.READ : Scope.WRITE;
    }

    @Override
    public boolean supportsParameter(MethodParameter parameter) {
        return parameter.getParameterType() == Caller.class;
    }

    @Override
    public Object resolveArgument(
            MethodParameter parameter,
            ModelAndViewContainer container,
            NativeWebRequest request,
            WebDataBinderFactory binderFactory) {
        Object caller = request.getAttribute(CALLER, RequestAttributes.SCOPE_REQUEST);
        if (caller == null) {
            throw new DomainException.NotAuthenticated("Authentication required.");
        }
        return caller;
    }
}
