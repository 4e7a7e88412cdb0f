package dev.kikonect.credentials;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kikonect.common.ResumeTokens;
import dev.kikonect.support.TestProperties;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

/**
 * Resume tokens ({@link MasterKeyResumeTokens}) without the app: a token verifies as its run and step and as nothing
 * else; one altered character, another run or step, another master key refuse it; after a rotation, tokens made under
 * the previous key (still configured) keep working and new ones are made under the new key.
 */
class ResumeTokensTest {

    private static String key() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return Base64.getEncoder().encodeToString(key);
    }

    private static ResumeTokens tokens(Map<String, String> settings) {
        return new MasterKeyResumeTokens(new MasterKeys(TestProperties.of(settings), new MockEnvironment()));
    }

    @Test
    void a_token_opens_its_run_and_step_only_and_survives_a_rotation_while_the_old_key_is_configured() {
        String current = key();
        String next = key();
        ResumeTokens before = tokens(Map.of("secrets.master-key", current));
        String token = before.token(42, "signed");

        assertThat(before.verify(token)).contains(new ResumeTokens.Target(42, "signed"));
        assertThat(token.length()).as("run, step and a 192-bit MAC").isGreaterThan(32);
        String mac = token.substring(token.lastIndexOf('.') + 1);
        assertThat(before.verify("43.signed." + mac)).as("another run").isEmpty();
        assertThat(before.verify("42.approved." + mac)).as("another step").isEmpty();
        String altered = token.substring(0, token.length() - 1) + (token.endsWith("A") ? "B" : "A");
        assertThat(before.verify(altered)).isEmpty();
        assertThat(before.verify("42.signed")).isEmpty();
        assertThat(before.verify("")).isEmpty();
        assertThat(tokens(Map.of("secrets.master-key", next)).verify(token))
                .as("another master key")
                .isEmpty();

        ResumeTokens rotated = tokens(Map.of("secrets.master-key", next, "secrets.previous-master-keys", current));
        assertThat(rotated.verify(token))
                .as("made before the rotation")
                .contains(new ResumeTokens.Target(42, "signed"));
        assertThat(rotated.token(42, "signed")).as("made under the new key").isNotEqualTo(token);
        assertThat(tokens(Map.of("secrets.master-key", next)).verify(rotated.token(42, "signed")))
                .isPresent();
    }
}
