package dev.kikonect.execution;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Optional;
import org.springframework.stereotype.Component;

/** The SSRF guard as the API uses it when a workflow is saved. Deliveries are checked again, every time. */
@Component
public class DeliveryTargets {

    private final AddressGuard guard;

    DeliveryTargets(AddressGuard guard) {
        this.guard = guard;
    }

    /**
     * Why KiKonect would refuse to deliver to this URL's host, or empty. A host that does not resolve now is
     * accepted (DNS may not be set up yet); the check at delivery time still applies. For a host name the reason says
     * what kind of address it resolves to, never the address itself: the caller should not learn internal DNS.
     */
    public Optional<String> refusal(URI uri) {
        String host = uri.getHost();
        if (host == null) {
            return Optional.empty();
        }
        String bare = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        try {
            boolean literal = bare.matches("[0-9.]+") || bare.contains(":");
            for (InetAddress address : InetAddress.getAllByName(bare)) {
                Optional<String> refusal = guard.refusal(address);
                if (refusal.isPresent()) {
                    String prefix = address.getHostAddress() + " is ";
                    return literal || !refusal.get().startsWith(prefix)
                            ? refusal
                            : Optional.of(
                                    "the host resolves to " + refusal.get().substring(prefix.length()));
                }
            }
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
