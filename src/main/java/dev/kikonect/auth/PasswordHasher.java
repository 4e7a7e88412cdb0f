package dev.kikonect.auth;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
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
    /**
     * Argon2 verifications, real or against the dummy hash (kikonect_auth_password_checks_total): the node's most
     * expensive request work, worth watching; and how a test tells that an unknown email costs what a wrong password does.
     */
    private final Counter checks;

    PasswordHasher(MeterRegistry meters) {
        this.checks = Counter.builder("kikonect.auth.password.checks")
                .description("Argon2id password verifications (a wrong password and an unknown email cost one each)")
                .register(meters);
    }

    String hash(String password) {
        return encoder.encode(password);
    }

    boolean matches(String password, String hash) {
        checks.increment();
        return encoder.matches(password, hash);
    }

    /** Spends the same work as a real check, for an email that has no account. */
    void burn(String password) {
        checks.increment();
        encoder.matches(password, dummyHash);
    }
}
