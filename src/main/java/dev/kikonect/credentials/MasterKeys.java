package dev.kikonect.credentials;

import dev.kikonect.KiKonectProperties;
import dev.kikonect.common.StartupProblem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;
import org.springframework.util.StringUtils;

/**
 * The master keys and AES-256-GCM with them. Every value is sealed with a fresh 96-bit nonce and the record's id as
 * associated data (a value copied onto another record does not open), under the current key; the key's id (a hash
 * of the key, never the key) is stored beside it, so a value sealed before a rotation opens with the previous key
 * that sealed it.
 */
@Component
public class MasterKeys {

    static final int NONCE_BYTES = 12;
    static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A sealed value: the key it was sealed with, and nonce followed by ciphertext and tag. */
    public record Sealed(String keyId, byte[] bytes) {}

    private final String currentId;
    private final SecretKeySpec current;
    /** Every key that may open a value, by id: the current one and the previous ones. */
    private final Map<String, SecretKeySpec> keys = new LinkedHashMap<>();

    private final String source;

    MasterKeys(KiKonectProperties properties, Environment environment) {
        KiKonectProperties.Secrets secrets = properties.secrets();
        byte[] key;
        if (StringUtils.hasText(secrets.masterKey())) {
            key = decode(secrets.masterKey(), "kikonect.secrets.master-key");
            source = "kikonect.secrets.master-key";
        } else if (secrets.masterKeyFile() != null) {
            key = readFile(secrets.masterKeyFile(), "kikonect.secrets.master-key-file");
            source = secrets.masterKeyFile().toString();
        } else if (!StringUtils.hasText(environment.getProperty("spring.datasource.url"))) {
            Path file = properties.dataDir().toAbsolutePath().normalize().resolve("master.key");
            key = Files.exists(file) ? readFile(file, "the data directory's master.key") : generate(file);
            source = file.toString();
        } else {
            throw new StartupProblem(
                    "KiKonect needs a master key to encrypt credentials when it runs on an external database.",
                    "Set kikonect.secrets.master-key to base64 of 32 random bytes (openssl rand -base64 32), or"
                            + " kikonect.secrets.master-key-file to a file holding it, the same on every node. Keep it safe: without it,"
                            + " stored credentials cannot be read.");
        }
        this.current = new SecretKeySpec(key, "AES");
        this.currentId = id(key);
        keys.put(currentId, current);
        for (String previous : secrets.previousMasterKeys()) {
            byte[] old = decode(previous, "kikonect.secrets.previous-master-keys");
            keys.putIfAbsent(id(old), new SecretKeySpec(old, "AES"));
        }
    }

    /** The id of the key new values are sealed with. */
    public String currentId() {
        return currentId;
    }

    /** Whether a value sealed under {@code keyId} can be opened. */
    public boolean knows(String keyId) {
        return keys.containsKey(keyId);
    }

    /** The keys' bytes, the current one first: for keys derived from them ({@link MasterKeyResumeTokens}). */
    List<byte[]> raw() {
        return keys.values().stream().map(SecretKeySpec::getEncoded).toList();
    }

    /** Where the current key came from (a property name or a file), for start-up messages; never the key. */
    String source() {
        return source;
    }

    /** Seals {@code plain} under the current key, bound to {@code context} (for example "credential:42"). */
    public Sealed seal(byte[] plain, String context) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, current, new GCMParameterSpec(TAG_BITS, nonce));
            cipher.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = cipher.doFinal(plain);
            byte[] out = new byte[NONCE_BYTES + sealed.length];
            System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
            System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
            return new Sealed(currentId, out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available", e);
        }
    }

    /** Opens a sealed value; an unknown key, another context or any tampering is an {@link IllegalStateException}. */
    public byte[] open(Sealed sealed, String context) {
        SecretKeySpec key = keys.get(sealed.keyId());
        if (key == null) {
            throw new IllegalStateException("sealed with master key " + sealed.keyId() + ", which is not configured");
        }
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed.bytes(), 0, NONCE_BYTES));
            cipher.updateAAD(context.getBytes(StandardCharsets.UTF_8));
            return cipher.doFinal(sealed.bytes(), NONCE_BYTES, sealed.bytes().length - NONCE_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("a sealed value does not open (wrong key, another record, or altered)");
        }
    }

    /** A key's id: the first 16 hex digits of SHA-256 over a label and the key. It identifies, it does not reveal. */
    static String id(byte[] key) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("kikonect master key id".getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest(key), 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] decode(String base64, String where) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new StartupProblem(
                    where + " is not base64.", "Set it to base64 of 32 random bytes (openssl rand -base64 32).");
        }
        if (key.length != 32) {
            throw new StartupProblem(
                    where + " decodes to " + key.length + " bytes, not 32.",
                    "Set it to base64 of 32 random bytes (openssl rand -base64 32).");
        }
        return key;
    }

    private static byte[] readFile(Path file, String where) {
        try {
            return decode(Files.readString(file), where + " (" + file + ")");
        } catch (IOException e) {
            throw new StartupProblem(
                    "KiKonect cannot read " + where + " (" + file + "): " + e.getMessage() + ".",
                    "Make the file readable by the user KiKonect runs as, or set kikonect.secrets.master-key instead.");
        }
    }

    /** A new key in {@code file}, readable by its owner only, written before it is used. */
    private static byte[] generate(Path file) {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        try {
            Files.createDirectories(file.getParent());
            try {
                // Created readable by its owner only before the key is written into it.
                Files.createFile(
                        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file); // not a POSIX file system: the directory's permissions protect it
            }
            Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n", StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new StartupProblem(
                    "KiKonect cannot write a new master key to " + file + ": " + e.getMessage() + ".",
                    "Make the data directory writable by the user KiKonect runs as, or set kikonect.secrets.master-key.");
        }
        return key;
    }
}
