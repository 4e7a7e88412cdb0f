package dev.kikonect.credentials;

import dev.kikonect.common.ResumeTokens;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.stereotype.Component;

/**
 * {@link ResumeTokens} as {@code <run id>.<step>.<mac>}: the MAC is HMAC-SHA256 over the run id and the step under a key
 * derived from the master key (its first 24 bytes, base64url). Tokens made under a previous master key keep working
 * while that key is configured ({@code kikonect.secrets.previous-master-keys}).
 */
@Component
class MasterKeyResumeTokens implements ResumeTokens {

    private static final Pattern FORMAT =
            Pattern.compile("([1-9][0-9]{0,18})\\.([a-z][a-z0-9_]{0,39})\\.([A-Za-z0-9_-]{32})");
    private static final byte[] PURPOSE = "kikonect resume tokens v1".getBytes(StandardCharsets.UTF_8);

    /** The current key first. */
    private final List<SecretKeySpec> keys;

    MasterKeyResumeTokens(MasterKeys masterKeys) {
        this.keys = masterKeys.raw().stream()
                .map(k -> new SecretKeySpec(hmac(new SecretKeySpec(k, "HmacSHA256"), PURPOSE), "HmacSHA256"))
                .toList();
    }

    @Override
    public String token(long runId, String step) {
        return runId + "." + step + "." + mac(keys.get(0), runId, step);
    }

    @Override
    public Optional<Target> verify(String token) {
        Matcher m = FORMAT.matcher(token);
        if (!m.matches()) {
            return Optional.empty();
        }
        long runId;
        try {
            runId = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        byte[] given = m.group(3).getBytes(StandardCharsets.US_ASCII);
        for (SecretKeySpec key : keys) {
            if (MessageDigest.isEqual(mac(key, runId, m.group(2)).getBytes(StandardCharsets.US_ASCII), given)) {
                return Optional.of(new Target(runId, m.group(2)));
            }
        }
        return Optional.empty();
    }

    private static String mac(SecretKeySpec key, long runId, String step) {
        byte[] full = hmac(key, (runId + "." + step).getBytes(StandardCharsets.UTF_8));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(full, 24));
    }

    private static byte[] hmac(SecretKeySpec key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
