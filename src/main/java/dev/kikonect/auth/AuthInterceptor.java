package dev.kikonect.auth;

import dev.kikonect.web.PublicEndpoint;
import dev.kikonect.common.DomainException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
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
 * Requires {@code Authorization: Bearer <token>} on every API handler not marked {@link PublicEndpoint}, checks that
 * the token's {@link Scope} covers the handler's (403 {@code insufficient-scope} otherwise), and hands the caller to
 * handlers that declare a {@link Caller} parameter.
 */
@Component
class AuthInterceptor implements HandlerInterceptor, HandlerMethodArgumentResolver {

  private static final String CALLER = AuthInterceptor.class.getName() + ".caller";

  private final AuthService auth;

  AuthInterceptor(AuthService auth) {
    this.auth = auth;
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
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new DomainException.NotAuthenticated("This endpoint needs an 'Authorization: Bearer <token>' header; get a token from POST /login.");
    }
    String token = header.substring(7).strip();
    Caller caller =
        auth.authenticate(token)
            .orElseThrow(() -> new DomainException.NotAuthenticated("The token is invalid, expired or revoked; log in again."));
    Scope needed = needed(method, request.getMethod());
    if (!caller.scope().covers(needed)) {
      throw new DomainException.Forbidden(
          "insufficient-scope", "This API key has scope " + caller.scope().wire() + "; this operation needs " + needed.wire() + ".");
    }
    request.setAttribute(CALLER, caller);
    return true;
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
