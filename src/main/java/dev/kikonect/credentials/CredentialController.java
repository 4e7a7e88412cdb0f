package dev.kikonect.credentials;

import dev.kikonect.auth.Caller;
import dev.kikonect.auth.Scope;
import dev.kikonect.auth.Scoped;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.ResponseStatus;
import org.springframework.web.bind.annotation.RestController;

/** The credentials API: owner-scoped (another user's credential answers 404), never a secret in an answer. */
@RestController
class CredentialController {

  private final Credentials credentials;

  CredentialController(Credentials credentials) {
    this.credentials = credentials;
  }

  @PostMapping("/credentials")
  @ResponseStatus(HttpStatus.CREATED)
  @Scoped(Scope.ADMIN)
  Credential create(Caller caller, @RequestBody Map<String, Object> body) {
    return credentials.create(caller.userId(), body);
  }

  @GetMapping("/credentials")
  Map<String, List<Credential>> list(Caller caller) {
    return Map.of("items", credentials.list(caller.userId()));
  }

  @GetMapping("/credentials/{id}")
  Credential get(Caller caller, @PathVariable long id) {
    return credentials.get(caller.userId(), id);
  }

  @PutMapping("/credentials/{id}")
  @Scoped(Scope.ADMIN)
  Credential replace(Caller caller, @PathVariable long id, @RequestBody Map<String, Object> body) {
    return credentials.replace(caller.userId(), id, body);
  }

  @DeleteMapping("/credentials/{id}")
  @ResponseStatus(HttpStatus.NO_CONTENT)
  @Scoped(Scope.ADMIN)
  void delete(Caller caller, @PathVariable long id) {
    credentials.delete(caller.userId(), id);
  }
}
