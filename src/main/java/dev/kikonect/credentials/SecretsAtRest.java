package dev.kikonect.credentials;

import dev.kikonect.common.StartupProblem;
import jakarta.annotation.PostConstruct;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Checks the master key at start-up, before anything delivers: every stored credential must be sealed with the
 * current key or a configured previous one, otherwise KiKonect does not start (a wrong key fails here, with a message
 * that says what to set, not at the first delivery). Values sealed with a previous key are then moved to the current
 * one, so that the previous key can be removed from the configuration afterwards (rotation).
 */
@Component
class SecretsAtRest {

    private static final Logger log = LoggerFactory.getLogger(SecretsAtRest.class);

    private final CredentialStore store;
    private final MasterKeys keys;

    SecretsAtRest(CredentialStore store, MasterKeys keys) {
        this.store = store;
        this.keys = keys;
    }

    @PostConstruct
    void check() {
        List<String> unknown =
                store.keyIds().stream().filter(id -> !keys.knows(id)).toList();
        if (!unknown.isEmpty()) {
            throw new StartupProblem(
                    "Stored credentials are encrypted with master key " + String.join(", ", unknown)
                            + ", but the configured master key (" + keys.source() + ", id " + keys.currentId()
                            + ") is another one.",
                    "Configure the key they were stored with as kikonect.secrets.master-key (or in"
                            + " kikonect.secrets.previous-master-keys while rotating to a new key).");
        }
        int moved = resealAll();
        if (moved > 0) {
            log.info(
                    "Moved {} credentials to master key {}; kikonect.secrets.previous-master-keys can be removed once every node runs with it",
                    moved,
                    keys.currentId());
        }
    }

    /** Moves every value sealed with a previous key to the current one; returns how many. */
    int resealAll() {
        int moved = 0;
        List<CredentialStore.Row> batch;
        while (!(batch = store.sealedWithOtherThan(keys.currentId(), 500)).isEmpty()) {
            int before = moved;
            for (CredentialStore.Row row : batch) {
                String context = Credentials.context(row.id());
                if (store.reseal(
                        row.id(), row.secret().keyId(), keys.seal(keys.open(row.secret(), context), context))) {
                    moved++;
                }
            }
            if (moved == before) {
                break; // another node moved them meanwhile
            }
        }
        return moved;
    }
}
