package dev.kikonect.auth;

import org.springframework.security.crypto.argon2.Argon2PasswordEncoder;
import org.springframework.stereotype.Component;

/**
 * Argon2id at the OWASP minimum (19 MiB, 2 iterations, parallelism 1). Logins for unknown emails verify against a
 * dummy hash so that they take as long as wrong passwords and cannot be told apart by timing.
 */
@Component
class PasswordHasher {

  private final Argon2PasswordEncoder encoder = new Argon2PasswordEncoder(16, 32, 1, 19 * 1024, 2);
  private final String dummyHash = encoder.encode("not-a-password-" + System.nanoTime());

  String hash(String password) {
    return encoder.encode(password);
  }

  boolean matches(String password, String hash) {
    return encoder.matches(password, hash);
  }

  /** Spends the same work as a real check, for an email that has no account. */
  void burn(String password) {
    encoder.matches(password, dummyHash);
  }
}
