package dev.kikonect.auth;

import dev.kikonect.common.DomainException;
import dev.kikonect.web.PublicEndpoint;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

@RestController
class AuthController {

  private final AuthService auth;

  private final AccountThrottle throttle;

  AuthController(AuthService auth, AccountThrottle throttle) {
    this.auth = auth;
    this.throttle = throttle;
  }

  @PublicEndpoint
  @PostMapping("/register")
  @ResponseStatus(HttpStatus.CREATED)
  User register(@RequestBody Map<String, Object> body, jakarta.servlet.http.HttpServletRequest request) {
    throttle.register(request.getRemoteAddr());
    return auth.register(body);
  }

  @PublicEndpoint
  @PostMapping("/login")
  Session login(@RequestBody Map<String, Object> body, jakarta.servlet.http.HttpServletRequest request) {
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
  User me(Caller caller) {
    return caller.user();
  }
}
