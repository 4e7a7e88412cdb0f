package dev.kikonect.auth;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a new password may not be, beyond its length: blank or fewer than three different characters, one of the most
 * common passwords of public breach lists
 * ({@code auth/common-passwords.txt}, compared without regard to case), the account's email address, or a
 * password that contains the email's name part (four characters or more).
 */
final class PasswordPolicy {

    private static final Set<String> COMMON = load();

    private PasswordPolicy() {}

    /** Why {@code password} is refused for the account {@code email}, if it is. */
    static Optional<String> refusal(String password, String email) {
        String lower = password.toLowerCase(Locale.ROOT);
        // Eight spaces (or one character eight times) pass a length rule and are guessed first.
        if (password.isBlank() || password.codePoints().distinct().count() < 3) {
            return Optional.of("needs at least three different characters, not only spaces");
        }
        if (COMMON.contains(lower)) {
            return Optional.of("is one of the most common passwords; choose another");
        }
        if (email != null) {
            String mail = email.toLowerCase(Locale.ROOT);
            int at = mail.indexOf('@');
            String name = at > 0 ? mail.substring(0, at) : mail;
            if (lower.equals(mail) || (name.length() >= 4 && lower.contains(name))) {
                return Optional.of("must not contain your email address");
            }
        }
        return Optional.empty();
    }

    private static Set<String> load() {
        try (InputStream in = PasswordPolicy.class.getResourceAsStream("/auth/common-passwords.txt")) {
            if (in == null) {
                throw new IllegalStateException("auth/common-passwords.txt is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .map(l -> l.toLowerCase(Locale.ROOT))
                    .collect(Collectors.toUnmodifiableSet());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
