package dev.kikonect.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordPolicyTest {

    @Test
    void common_passwords_are_refused_whatever_their_case() {
        assertThat(PasswordPolicy.refusal("Password123", "ann@example.com"))
                .hasValueSatisfying(r -> assertThat(r).contains("common"));
        assertThat(PasswordPolicy.refusal("qwertyuiop", "ann@example.com")).isPresent();
    }

    @Test
    void a_password_that_is_or_contains_the_email_is_refused() {
        assertThat(PasswordPolicy.refusal("Ann.Smith@Example.com", "ann.smith@example.com"))
                .hasValueSatisfying(r -> assertThat(r).contains("email"));
        assertThat(PasswordPolicy.refusal("my ann.smith pass", "ann.smith@example.com"))
                .isPresent();
    }

    @Test
    void spaces_only_or_one_character_repeated_is_refused() {
        assertThat(PasswordPolicy.refusal("        ", "ann@example.com"))
                .hasValueSatisfying(r -> assertThat(r).contains("not only spaces"));
        assertThat(PasswordPolicy.refusal("zzzzzzzzzzzz", "ann@example.com")).isPresent();
        assertThat(PasswordPolicy.refusal("ab ab ab ab", "ann@example.com")).isEmpty();
    }

    @Test
    void an_ordinary_passphrase_passes() {
        assertThat(PasswordPolicy.refusal("correct horse battery", "ann@example.com"))
                .isEmpty();
        assertThat(PasswordPolicy.refusal("annotated list 42", "ann@example.com"))
                .as("a short name part is not matched")
                .isEmpty();
    }
}
