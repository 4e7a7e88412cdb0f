package dev.kikonect.auth;

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

  AuthController(AuthService auth) {
    this.auth = auth;
  }

  @PublicEndpoint
  @PostMapping("/register")
  @ResponseStatus(HttpStatus.CREATED)
  User register(@RequestBody Map<String, Object> body) {
    return auth.register(body);
  }

  @PublicEndpoint
  @PostMapping("/login")
  Session login(@RequestBody Map<String, Object> body, jakarta.servlet.http.HttpServletRequest request) {
    return auth.login(body, request.getRemoteAddr());
  }

  @PostMapping("/logout")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  void logout(Caller caller) {
    auth.logout(caller.token());
  }

  @GetMapping("/me")
  User me(Caller caller) {
    return caller.user();
  }
}
