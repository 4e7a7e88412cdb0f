package dev.kikonect.listen;

import dev.kikonect.common.DomainException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The listener streams a node holds: at most {@code perNode} in all, {@code perWorkspace} for one workspace and {@code
 * perUser} for one person, so that one account cannot take every slot of a node. Counts live only while a stream is
 * open (the maps hold at most {@code perNode} keys).
 */
final class ListenerSlots {

    private final int perNode;
    private final int perWorkspace;
    private final int perUser;
    private final Map<Long, Integer> byWorkspace = new HashMap<>();
    private final Map<Long, Integer> byUser = new HashMap<>();
    private int open;

    ListenerSlots(int perNode, int perWorkspace, int perUser) {
        this.perNode = perNode;
        this.perWorkspace = perWorkspace;
        this.perUser = perUser;
    }

    /** Takes a slot for a stream of {@code user} in {@code workspace}, or refuses naming the limit. */
    synchronized void take(long workspace, long user) {
        if (open >= perNode) {
            throw new DomainException.Unavailable(
                    "listeners-busy",
                    "This node has " + perNode + " listeners connected; try another node or later.",
                    Duration.ofSeconds(5));
        }
        if (byWorkspace.getOrDefault(workspace, 0) >= perWorkspace) {
            throw new DomainException.RateLimited(
                    "too-many-listeners",
                    "Too many listeners",
                    "This workspace has " + perWorkspace + " listeners connected to this node; stop one first.",
                    Duration.ofSeconds(30));
        }
        if (byUser.getOrDefault(user, 0) >= perUser) {
            throw new DomainException.RateLimited(
                    "too-many-listeners",
                    "Too many listeners",
                    "You have " + perUser + " listeners connected to this node; stop one first.",
                    Duration.ofSeconds(30));
        }
        open++;
        byWorkspace.merge(workspace, 1, Integer::sum);
        byUser.merge(user, 1, Integer::sum);
    }

    synchronized void give(long workspace, long user) {
        open--;
        byWorkspace.computeIfPresent(workspace, (k, n) -> n == 1 ? null : n - 1);
        byUser.computeIfPresent(user, (k, n) -> n == 1 ? null : n - 1);
    }

    synchronized int open() {
        return open;
    }
}
