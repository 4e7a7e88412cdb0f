package dev.kikonect.notify;

import com.interaso.webpush.VapidKeys;
import dev.kikonect.credentials.MasterKeys;
import jakarta.annotation.PostConstruct;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.Base64;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * The installation's VAPID key pair (RFC 8292), the identity browsers subscribe to and push services check. Made on
 * first use (GET /push/key) and kept in {@code vapid_keys} (owned here), its private key sealed with the master key like a
 * credential, so that every node signs with the same pair and a database dump does not hold it in plain text. A key
 * sealed with a previous master key is opened with it and sealed again with the current one.
 */
@Component
public class VapidKeyPair {

    private static final String CONTEXT = "vapid";

    private final JdbcClient jdbc;
    private final MasterKeys masterKeys;
    private final Clock clock;
    private volatile VapidKeys keys;

    VapidKeyPair(JdbcClient jdbc, MasterKeys masterKeys, Clock clock) {
        this.jdbc = jdbc;
        this.masterKeys = masterKeys;
        this.clock = clock;
    }

    /**
     * At start-up: a stored key that the configured master keys cannot open stops the start, with what to set. The pair
     * itself is made on first use (a browser asking for the key), not here: nodes that never push need no key.
     */
    @PostConstruct
    void check() {
        if (jdbc.sql("SELECT count(*) FROM vapid_keys").query(Integer.class).single() == 0) {
            return;
        }
        try {
            keys();
        } catch (IllegalStateException e) {
            throw new IllegalStateException(
                    "The Web Push (VAPID) private key is sealed with a master key that is not configured ("
                            + e.getMessage() + "). Configure"
                            + " the key it was stored with as kikonect.secrets.master-key (or in kikonect.secrets.previous-master-keys while"
                            + " rotating to a new key).",
                    e);
        }
    }

    /** The pair, made (once, whichever node is first) if there is none yet. */
    public VapidKeys keys() {
        VapidKeys k = keys;
        if (k == null) {
            synchronized (this) {
                if (keys == null) {
                    keys = loadOrCreate();
                }
                k = keys;
            }
        }
        return k;
    }

    /** The public key as browsers want it for {@code applicationServerKey}: the uncompressed point, base64url. */
    public String applicationServerKey() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(keys().getApplicationServerKey());
    }

    private VapidKeys loadOrCreate() {
        VapidKeys generated = VapidKeys.generate();
        MasterKeys.Sealed sealed =
                masterKeys.seal(generated.getPkcs8PrivateKey().getBytes(StandardCharsets.US_ASCII), CONTEXT);
        jdbc.sql("""
            INSERT INTO vapid_keys (id, public_key, private_key, key_id, created_at)
            VALUES (1, :public, :private, :key_id, :now) ON CONFLICT (id) DO NOTHING
            """)
                .param("public", generated.getX509PublicKey())
                .param("private", sealed.bytes())
                .param("key_id", sealed.keyId())
                .param("now", Timestamp.from(clock.instant()))
                .update();
        record Row(String publicKey, byte[] privateKey, String keyId) {}
        Row row = jdbc.sql("SELECT public_key, private_key, key_id FROM vapid_keys WHERE id = 1")
                .query((rs, n) -> new Row(rs.getString(1), rs.getBytes(2), rs.getString(3)))
                .single();
        byte[] privateKey = masterKeys.open(new MasterKeys.Sealed(row.keyId(), row.privateKey()), CONTEXT);
        if (!row.keyId().equals(masterKeys.currentId())) {
            MasterKeys.Sealed again = masterKeys.seal(privateKey, CONTEXT);
            jdbc.sql("UPDATE vapid_keys SET private_key = :private, key_id = :key_id WHERE id = 1 AND key_id = :old")
                    .param("private", again.bytes())
                    .param("key_id", again.keyId())
                    .param("old", row.keyId())
                    .update();
        }
        return VapidKeys.create(row.publicKey(), new String(privateKey, StandardCharsets.US_ASCII));
    }
}
