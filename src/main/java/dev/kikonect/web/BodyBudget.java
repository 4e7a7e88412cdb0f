package dev.kikonect.web;

import java.util.HashMap;
import java.util.Map;

/**
 * The bytes of request bodies held in memory, counted across every request and per client address, so that many
 * slow or large bodies cost a bounded amount of heap instead of an OutOfMemoryError.
 *
 * <p>A body reserves its declared length before it is read (a chunked one reserves step by step as it arrives), and
 * gives it back when its request ends. One address may hold at most {@code perAddress} bytes and {@code
 * readsPerAddress} bodies at once; all addresses together at most {@code total} bytes, of which bodies above {@link
 * #SMALL} may use three quarters, so that small requests such as a login still get through while big ones fill the
 * node. The per-address map holds an entry only while that address has a body in memory: it is bounded by the open
 * connections (Tomcat's max-connections), not by the addresses ever seen.
 */
final class BodyBudget {

    /** Bodies up to this size may use the whole budget; larger ones only three quarters of it. */
    static final long SMALL = 64 * 1024;

    /** Why a reservation was refused. */
    enum Refusal {
        /** The node as a whole holds as many body bytes as it may. */
        NODE,
        /** This client address holds as many bodies, or body bytes, as one address may. */
        ADDRESS
    }

    private static final class Share {
        long bytes;
        int reads;
    }

    private final long total;
    private final long perAddress;
    private final int readsPerAddress;
    private final Map<String, Share> byAddress = new HashMap<>();
    private long used;

    BodyBudget(long total, long perAddress, int readsPerAddress) {
        this.total = total;
        this.perAddress = perAddress;
        this.readsPerAddress = readsPerAddress;
    }

    /** Starts a body of {@code bytes} from {@code address}; null when admitted (then {@link #end} must follow). */
    synchronized Refusal begin(String address, long bytes) {
        Share share = byAddress.get(address);
        if (share != null && share.reads >= readsPerAddress) {
            return Refusal.ADDRESS;
        }
        Refusal refusal = check(share, bytes);
        if (refusal != null) {
            return refusal;
        }
        if (share == null) {
            share = new Share();
            byAddress.put(address, share);
        }
        share.reads++;
        share.bytes += bytes;
        used += bytes;
        return null;
    }

    /** Reserves {@code more} bytes for a body already begun (a chunked one that keeps coming); null when admitted. */
    synchronized Refusal grow(String address, long more) {
        Share share = byAddress.get(address);
        Refusal refusal = check(share, more);
        if (refusal != null) {
            return refusal;
        }
        share.bytes += more;
        used += more;
        return null;
    }

    /** Gives back everything a body reserved. */
    synchronized void end(String address, long bytes) {
        Share share = byAddress.get(address);
        if (share == null) {
            return;
        }
        share.bytes -= bytes;
        used -= bytes;
        if (--share.reads == 0) {
            byAddress.remove(address);
        }
    }

    private Refusal check(Share share, long bytes) {
        long ofAddress = share == null ? 0 : share.bytes;
        if (ofAddress + bytes > perAddress) {
            return Refusal.ADDRESS;
        }
        long ceiling = bytes > SMALL ? total / 4 * 3 : total;
        return used + bytes > ceiling ? Refusal.NODE : null;
    }

    synchronized long used() {
        return used;
    }

    synchronized int addresses() {
        return byAddress.size();
    }
}
